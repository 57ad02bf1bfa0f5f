"""Shared fixtures: the shipped scenarios, a small scripted crisis, and files to break on purpose."""

from __future__ import annotations

import copy
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.inputs.loader import scenario_from_mapping
from sim.model.scenario import Scenario


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the commands the tests start even when pytest itself was started with
    SIGINT ignored (``nohup``, or ``&`` in a script): an ignored signal stays ignored in every
    child, and Python then never raises KeyboardInterrupt there, so the tests of what a
    command does on Ctrl-C would wait for an exit that cannot come. A handled signal is reset
    to its default in a child, where Python installs its own handler."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "jan2024_baseline.yaml"

MECHANISMS_OFF = {
    "beliefs": False,
    "commitments": False,
    "third_parties": False,
    "armed_groups": False,
    "misperception": False,
    "reactions": False,
    "operations": False,
    "talks_under_fire": False,
    "sticky_measures": False,
    "direct_talks": False,
}
"""Every mechanism that is not the policies' own reciprocity, switched off (each test of a
mechanism switches its own on)."""


def state(name: str, policy: str = "tit_for_tat", **changes: Any) -> dict[str, Any]:
    """A state of the small crisis: scripted by ``policy`` unless it is 'strategic'."""
    config = {
        "name": name,
        "retaliation": {"policy": policy, "delay": 2},
        "resolve": 0.5,
        "cost": 2.0,
        "perception": {"error": 0.0},
        "attribution": {"base": 1.0},
        "mediation": {"policy": "decide"},
    }
    return _merge(config, changes)


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


LADDER = {
    "strike_rung": 4,
    "rungs": [
        {"name": "normal relations"},
        {"name": "protest"},
        {"name": "downgrade"},
        {"name": "force posture"},
        {"name": "strike on a group", "target": "armed_group"},
        {"name": "strike on forces"},
        {"name": "exchange of fire"},
        {"name": "war"},
    ],
}


def crisis(**changes: Any) -> dict[str, Any]:
    """A small crisis as a mapping: A struck B at rung 5 on day 0; every other mechanism off.

    ``changes`` replace or deep-merge top-level blocks (``actors={"a": {...}}`` merges).
    """
    base = {
        "name": "small",
        "horizon": 20,
        "runs": 10,
        "seed": 1,
        "ladder": LADDER,
        "mechanisms": MECHANISMS_OFF,
        "decision": {"review_rate": 1.0},
        "actors": {"a": state("A"), "b": state("B")},
        "relations": [{"between": ["a", "b"]}],
        "events": [{"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 5}],
    }
    return _merge(base, changes)


def scenario(**changes: Any) -> Scenario:
    """``crisis`` checked by the loader."""
    return scenario_from_mapping(crisis(**changes), source="test")


@pytest.fixture
def baseline_raw() -> dict[str, Any]:
    """The baseline scenario as a fresh, mutable dictionary."""
    return copy.deepcopy(yaml.safe_load(BASELINE.read_text()))


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write a dictionary (or raw text) as a YAML file in a temporary folder."""

    def write(content: Any, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        return path

    return write
