"""Each policy's decisions against scripted inputs, with exact expected answers."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from sim.policies import (
    MEDIATION_POLICIES,
    RETALIATION_POLICIES,
    Accept,
    Escalate,
    GenerousTitForTat,
    Graduated,
    Never,
    Probabilistic,
    Proportional,
    Refuse,
    Threshold,
    TitForTat,
)

WAR = 7


class ScriptedRng:
    """Stands in for a Generator: ``random`` returns the scripted draws, in order."""

    def __init__(self, draws: list[float]) -> None:
        self.draws = list(draws)

    def random(self, shape=None):
        size = int(np.prod(shape)) if shape else 1
        taken, self.draws = self.draws[:size], self.draws[size:]
        return np.array(taken).reshape(shape) if shape else taken[0]


def rungs(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_registries_hold_every_named_policy():
    assert sorted(RETALIATION_POLICIES) == sorted(
        [
            "never",
            "tit_for_tat",
            "proportional",
            "escalate",
            "generous_tit_for_tat",
            "graduated",
            "threshold",
        ]
    )
    assert sorted(MEDIATION_POLICIES) == ["accept", "probabilistic", "refuse"]


def test_never_answers_nothing():
    policy = Never(policy="never")
    assert policy.respond(rungs(1, 4, 7), np.zeros(3), WAR, ScriptedRng([])).tolist() == [0, 0, 0]


def test_tit_for_tat_matches_the_rung_received():
    policy = TitForTat(policy="tit_for_tat")
    assert policy.respond(rungs(1, 4, 6), np.zeros(3), WAR, ScriptedRng([])).tolist() == [1, 4, 6]


def test_proportional_is_one_rung_off_with_its_noise():
    policy = Proportional(policy="proportional", noise=0.2)
    # draws below noise/2 go down, below noise go up, others match; clipped to [1, war]
    answer = policy.respond(
        rungs(4, 4, 4, 1, 7), np.zeros(5), WAR, ScriptedRng([0.05, 0.15, 0.5, 0.05, 0.15])
    )
    assert answer.tolist() == [3, 5, 4, 1, 7]


def test_escalate_answers_above_and_stops_at_war():
    policy = Escalate(policy="escalate", step=2)
    assert policy.respond(rungs(1, 4, 6), np.zeros(3), WAR, ScriptedRng([])).tolist() == [3, 6, 7]


def test_generous_tit_for_tat_forgives_with_its_probability():
    policy = GenerousTitForTat(policy="generous_tit_for_tat", forgive=0.3)
    answer = policy.respond(rungs(4, 4, 2), np.zeros(3), WAR, ScriptedRng([0.29, 0.31, 0.9]))
    assert answer.tolist() == [0, 4, 2]


def test_graduated_matches_and_raises_the_step_down_chance():
    policy = Graduated(policy="graduated", step_down=0.5)
    assert policy.respond(rungs(4, 5), np.zeros(2), WAR, ScriptedRng([])).tolist() == [4, 5]
    assert policy.step_down_chance(np.array([0.2, 0.0, 1.0])) == pytest.approx([0.6, 0.5, 1.0])


def test_threshold_answers_once_accumulated_provocation_passes():
    policy = Threshold(policy="threshold", threshold=6, decay=0.5)
    memory = np.zeros(1)
    trace = []
    for received in (2, 3, 4):
        trace.append(int(policy.respond(rungs(received), memory, WAR, ScriptedRng([]))[0]))
        policy.forget(memory)
    # 2 -> memory 2 -> fades to 1; +3 = 4 -> fades to 2; +4 = 6 >= 6: answer 4, memory reset
    assert trace == [0, 0, 4]
    assert memory.tolist() == [0.0]


def test_other_policies_keep_the_step_down_chance():
    chance = np.array([0.25])
    for name, policy_class in RETALIATION_POLICIES.items():
        if name != "graduated":
            policy = policy_class.model_validate({"policy": name})
            assert policy.step_down_chance(chance).tolist() == [0.25]


def test_mediation_policies():
    rung = rungs(0, 4, 4)
    assert Accept(policy="accept").accepts(rung, ScriptedRng([])).tolist() == [True] * 3
    assert Refuse(policy="refuse").accepts(rung, ScriptedRng([])).tolist() == [False] * 3
    ripe = Probabilistic(policy="probabilistic", probability=0.3, per_rung=0.1)
    # chance 0.3 at rung 0 and 0.7 at rung 4
    assert ripe.accepts(rung, ScriptedRng([0.29, 0.69, 0.71])).tolist() == [True, True, False]


@pytest.mark.parametrize(
    "policy_class, params",
    [
        (GenerousTitForTat, {"forgive": 1.3}),
        (Proportional, {"noise": -0.1}),
        (Escalate, {"step": 0}),
        (Threshold, {"threshold": 0}),
        (TitForTat, {"delay": 0}),
    ],
)
def test_policy_parameters_are_validated(policy_class, params):
    name = next(n for n, c in RETALIATION_POLICIES.items() if c is policy_class)
    with pytest.raises(ValidationError):
        policy_class.model_validate({"policy": name, **params})
