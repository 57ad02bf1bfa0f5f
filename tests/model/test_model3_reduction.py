"""Model 3's mechanisms switched off are model 2, exactly.

The digests were recorded by model 2's code (commit b02367c, before any model-3 mechanism
existed) over 300 runs of every shipped scenario and library case: one SHA-256 of every array
of the runs' record. With ``operations``, ``talks_under_fire``, ``sticky_measures`` and
``direct_talks`` off, the code of today must give the same bytes, so each mechanism is an
addition that reduces to the model it extends, not a silent change of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from sim.inputs.loader import load_scenario
from sim.model.model import EscalationModel

ROOT = Path(__file__).resolve().parents[2]
RECORDED = json.loads((Path(__file__).parent / "data" / "model2_digests.json").read_text())
MODEL_3 = ("operations", "talks_under_fire", "sticky_measures", "direct_talks")
OFF = {f"mechanisms.{name}": False for name in MODEL_3}


def digest(path: Path, overrides: dict[str, object] | None) -> str:
    model = EscalationModel(load_scenario(path, overrides), np.arange(300) + 1)
    model.run()
    batch = model.batch()
    found = hashlib.sha256()
    for field in dataclasses.fields(batch):
        found.update(field.name.encode())
        found.update(np.ascontiguousarray(getattr(batch, field.name)).tobytes())
    return found.hexdigest()


@pytest.mark.parametrize("name", sorted(RECORDED["digests"]))
def test_with_model_3_off_every_scenario_runs_as_model_2_did(name: str) -> None:
    assert digest(ROOT / name, OFF) == RECORDED["digests"][name]


def test_model_3_on_changes_the_runs_of_the_cases_it_concerns() -> None:
    """The reduction test could not fail if the switches did nothing: with them on, a case
    opened at the sustained rung (jun2025) and a mutual clash of forces in contact (jul2025)
    run differently from model 2."""
    for name in (
        "scenarios/cases/jun2025-israel-iran.yaml",
        "scenarios/cases/jul2025-thailand-cambodia.yaml",
    ):
        assert digest(ROOT / name, None) != RECORDED["digests"][name]
