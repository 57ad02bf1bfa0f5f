"""The documentation stays true to the code: generated references, commands, sources."""

from __future__ import annotations

import re

import pytest

from sim.cli.commands import COMMANDS
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
