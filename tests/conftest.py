"""Shared fixtures: the shipped scenarios and small scenario dictionaries to break on purpose."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "jan2024_baseline.yaml"


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
