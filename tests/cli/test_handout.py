"""The student handout (docs/handout.md): every command in it works as written, from a folder laid
out as the project is, and writes the figures the handout describes."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HANDOUT = (ROOT / "docs" / "handout.md").read_text()


def commands() -> list[str]:
    block = HANDOUT.split("<!-- handout:commands -->", 1)[1].split("```", 2)[1]
    return [line for line in block.splitlines()[1:] if line.strip()]


def test_the_handout_is_one_page_with_three_questions():
    assert len(HANDOUT.splitlines()) <= 70
    questions = HANDOUT.split("**Three questions for discussion**", 1)[1]
    assert [line[:3] for line in questions.splitlines() if line[:1].isdigit()] == [
        "1. ",
        "2. ",
        "3. ",
    ]
    # Every command is explained, in order, by a numbered line naming it.
    explained = HANDOUT.split("**The commands**", 1)[1].split("**What each figure shows**", 1)[0]
    assert len(commands()) == 7
    for number, command in enumerate(commands(), 1):
        assert f"\n{number}. `" in explained, command


@pytest.mark.slow
def test_every_handout_command_works_and_writes_the_figures_it_names(tmp_path):
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    for command in commands():
        words = shlex.split(command)
        assert words[:2] == ["python", "run.py"], command
        done = subprocess.run(
            [sys.executable, str(ROOT / "run.py"), *words[2:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout.strip(), command
    for figure in (
        "story.png",
        "jan2024_baseline/curves.png",
        "jan2024_baseline/occupancy.png",
        "compare_jan2024_mediation_refused_vs_jan2024_mediation_accepted/comparison.png",
    ):
        assert figure in HANDOUT
        assert (tmp_path / "results" / figure).is_file(), figure
