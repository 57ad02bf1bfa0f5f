"""A JSON Schema of scenario files, generated from the typed scenario so editors validate as you
type (VS Code's YAML extension, any yaml-language-server client).

It says what an editor can check in one file alone: every key's name (a typo is flagged), type,
range and choices. Two things a file may hold are added to the scenario model's own schema:
``extends`` (a parent file, whose keys the child need not repeat: so no key is required in a
file, which may be a parent or a child: ``validate`` says what a whole scenario lacks) and
``sweep`` (the block ``python run.py sweep`` reads). Every real
number may be written as a distribution or a profile (``{beta: [2, 5]}``, ``{profile: NAME}``).
What needs other files or the whole scenario (a parent's keys, ids that refer to states, a
profile's samples) is left to ``python run.py validate``. ``scenarios/scenario.schema.json`` holds
this schema; a test checks it is up to date, and ``python run.py schema --json`` prints it.
"""

from __future__ import annotations

import json
from typing import Any

from sim.model.distributions import KINDS
from sim.model.scenario import Scenario
from sim.model.uncertainty import PROFILE

SCHEMA_ID = "https://escalation-sim.example/scenario.schema.json"
UNCERTAIN = "Uncertain"
"""The definition of a number written as a distribution or a profile."""


def _uncertain() -> dict[str, Any]:
    forms: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {
                kind: {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": count,
                    "maxItems": count,
                }
            },
            "required": [kind],
            "additionalProperties": False,
        }
        for kind, count in KINDS.items()
    ]
    forms.append(
        {
            "type": "object",
            "properties": {PROFILE: {"type": "string", "minLength": 1}},
            "required": [PROFILE],
            "additionalProperties": False,
        }
    )
    return {
        "description": "A number known only as a distribution, "
        + ", ".join(f"{{{kind}: [...]}}" for kind in KINDS)
        + f", or drawn from a calibration's profile, {{{PROFILE}: NAME}}.",
        "oneOf": forms,
    }


def _widen(node: Any) -> Any:
    """Every number (not a whole number) may also be written as a distribution or a profile;
    nested objects require nothing (a child file sets only what it changes)."""
    if isinstance(node, list):
        return [_widen(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _widen(value) for key, value in node.items() if key != "required"}
    if node.get("type") == "number":
        return {"anyOf": [node, {"$ref": f"#/$defs/{UNCERTAIN}"}]}
    return node


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    schema = _widen(Scenario.model_json_schema(mode="validation"))
    properties = schema["properties"]
    properties.pop("uncertainty", None)  # filled in from the numbers, never written by hand
    properties["extends"] = {
        "type": "string",
        "description": "A parent scenario file (its path relative to this one); this file "
        "then sets only what differs from it.",
    }
    properties["sweep"] = {
        "type": "object",
        "description": "What `python run.py sweep` varies (see docs/sweeps.md).",
    }
    defs = schema["$defs"]
    defs[UNCERTAIN] = _uncertain()
    defs["Distribution"] = {  # read from a number or a one-key mapping, not as it is stored
        "description": defs["Distribution"]["description"],
        "anyOf": [{"type": "number"}, {"$ref": f"#/$defs/{UNCERTAIN}"}],
    }
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def scenario_json_schema_text() -> str:
    """The schema as the shipped file holds it: sorted keys, two-space indents, a last newline."""
    return json.dumps(scenario_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_text(as_json: bool) -> str:
    """What ``python run.py schema`` prints: the Markdown reference, or (``--json``) this schema."""
    from sim.inputs.schema_doc import scenario_reference

    return scenario_json_schema_text() if as_json else scenario_reference()
