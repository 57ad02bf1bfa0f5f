"""The documentation stays true to the code: generated references, commands, sources."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys

import pytest

from sim.cli.main import COMMANDS
from sim.inputs.schema_doc import scenario_reference
from tests.conftest import BASELINE, ROOT

README = (ROOT / "README.md").read_text()


def test_scenario_reference_in_the_docs_is_generated_from_the_code():
    text = (ROOT / "docs" / "scenarios.md").read_text()
    match = re.search(r"<!-- reference:start -->\n(.*)<!-- reference:end -->", text, re.S)
    assert match, "docs/scenarios.md lacks the reference markers"
    assert match.group(1) == scenario_reference(), "run: python run.py schema"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_in_the_readme(command):
    assert f"| `{command}" in README


def test_readme_holds_the_two_commands_ci_runs():
    for marker in ("<!-- ci:main-command -->", "<!-- ci:test-command -->"):
        block = README.split(marker, 1)[1].split("```", 2)[1]
        assert block.startswith("bash\n")
    assert 'pytest -m ""' in README.split("<!-- ci:test-command -->", 1)[1].split("```", 2)[1]


def test_every_baseline_number_names_its_source():
    sources = ("# case", "literature", "teaching default")  # "case": docs/cases/, dated facts
    for number, line in enumerate(BASELINE.read_text().splitlines(), 1):
        if re.match(r"^\s+[a-z_]+: -?[0-9.]+\s*(#|$)", line):
            assert any(source in line for source in sources), f"line {number}: {line.strip()}"


def excerpts(text: str) -> list[tuple[str, list[str]]]:
    """Each ``<!-- excerpt: COMMAND -->`` of a document and the lines of the block after it."""
    found = []
    for part in text.split("<!-- excerpt: ")[1:]:
        command, rest = part.split(" -->", 1)
        block = rest.split("```", 2)[1]
        lines = [line.strip() for line in block.splitlines()[1:] if line.strip()]
        found.append((command, lines))
    return found


@pytest.mark.parametrize("command, lines", excerpts(README), ids=lambda x: str(x)[:50])
def test_every_readme_excerpt_is_what_its_command_prints_today(command, lines):
    words = shlex.split(command)
    assert words[:2] == ["python", "run.py"]
    printed = subprocess.run(
        [sys.executable, "run.py", *words[2:]], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    said = [line.strip() for line in printed.splitlines()]
    for line in lines:
        # an excerpt line may end in "..." where the printed line goes on
        shown = line.removesuffix("...").rstrip()
        assert any(
            out.startswith(shown) if line.endswith("...") else out == shown for out in said
        ), line


@pytest.mark.slow
def test_the_readme_backtest_table_is_what_backtest_prints_today(tmp_path):
    from sim.views.text import backtest_markdown

    done = subprocess.run(
        [sys.executable, "run.py", "backtest", "--json", "--out", str(tmp_path / "bt")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    table = backtest_markdown(json.loads(done.stdout)["scores"])
    block = README.split("<!-- backtest-table:start -->\n", 1)[1].split("<!-- backtest-table", 1)[0]
    assert block == table, "rerun python run.py backtest and update the README's table"
    sure = json.loads(done.stdout)["confident"]
    quoted = " ".join(
        README.split("<!-- backtest-confident:start -->\n", 1)[1]
        .split("<!-- backtest-confident:end -->", 1)[0]
        .split()
    )
    assert quoted == (
        f"{sure['confident']} of the {sure['forecasts']} headline forecasts are below 5% or "
        f"above 95%; {sure['wrong']} of them were wrong, and those {sure['wrong']} carry "
        f"{sure['wrong_loss_share']:.1%} of the Brier loss."
    )
