"""The JSON Schema of scenario files (issue 22, point 8): generated from the typed scenario,
shipped as scenarios/scenario.schema.json and printed by ``schema --json``; every shipped
scenario validates against it, and a scenario with a typo, a wrong type or a value out of range
does not."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from sim.cli.main import main
from sim.inputs.json_schema import scenario_json_schema, scenario_json_schema_text
from tests.conftest import BASELINE, ROOT

jsonschema = pytest.importorskip("jsonschema")  # in the dev extra; the file test runs without it

SHIPPED = ROOT / "scenarios" / "scenario.schema.json"
SCENARIOS = sorted(
    p
    for folder in ("", "cases", "sweeps")
    for p in (ROOT / "scenarios" / folder).glob("*.yaml")
    if not p.name.endswith(".observed.yaml")
)


def as_an_editor_reads(path) -> Any:
    """A YAML file as a YAML language server sees it: dates are text, not date objects."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))


def validator():
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_shipped_schema_is_the_one_generated_from_the_scenario_model():
    assert SHIPPED.read_text() == scenario_json_schema_text(), (
        "scenarios/scenario.schema.json is out of date: python run.py schema --json > "
        "scenarios/scenario.schema.json"
    )


def test_schema_json_prints_the_shipped_file(capsys):
    assert main(["schema", "--json"]) == 0
    assert capsys.readouterr().out == SHIPPED.read_text()
    assert main(["--json", "schema"]) == 0  # as the one strict JSON object of --json
    assert json.loads(capsys.readouterr().out) == json.loads(SHIPPED.read_text())


def test_every_shipped_scenario_validates():
    assert len(SCENARIOS) >= 49  # the examples, the 40 cases and their parent, the sweep
    check = validator()
    for path in SCENARIOS:
        errors = [
            f"{list(e.absolute_path)}: {e.message}"
            for e in check.iter_errors(as_an_editor_reads(path))
        ]
        assert errors == [], path


def set_key(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("horizn",), 30),  # a typo
        (("horizon",), "sixty"),
        (("horizon",), 0),
        (("runs",), 2.5),
        (("decision", "rationality"), {"gamma": [1, 2]}),
        (("decision", "rationality"), {"beta": [1]}),
        (("actors", "iran", "resolve"), {"profile": 3}),
        (("actors", "iran", "nuclear"), "yes"),
        (("mechanisms", "beliefs"), "on"),
    ],
)
def test_a_known_bad_scenario_fails_the_schema(path, value):
    data = set_key(as_an_editor_reads(BASELINE), path, value)
    found = [list(e.absolute_path) for e in validator().iter_errors(data)]
    assert found == [list(path[:-1] if path == ("horizn",) else path)]


def test_numbers_may_be_distributions_or_profiles_but_whole_numbers_may_not():
    data = as_an_editor_reads(BASELINE)
    set_key(data, ("decision", "rationality"), {"triangular": [1, 2, 3]})
    set_key(data, ("decision", "deterrence"), {"profile": "calibrated"})
    assert list(validator().iter_errors(data)) == []
    data["horizon"] = {"uniform": [10, 20]}
    assert [list(e.absolute_path) for e in validator().iter_errors(data)] == [["horizon"]]
