"""Each policy's decisions against scripted inputs, with exact expected answers."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from sim.model.policies import (
    MEDIATION_POLICIES,
    RETALIATION_POLICIES,
    Accept,
    Decide,
    Escalate,
    GenerousTitForTat,
    Graduated,
    Never,
    Proportional,
    Refuse,
    Situation,
    Strategic,
    Threshold,
    TitForTat,
    review_option_at,
)

WAR = 7
NO_DRAWS = np.zeros(3)


def rungs(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def answering(received: np.ndarray, memory: np.ndarray | None = None) -> Situation:
    """An answer to ``received`` (a persona's rule reads no weighing)."""
    zeros = np.zeros_like(received)
    memory = np.zeros(received.size) if memory is None else memory
    return situation(received, memory, zeros, zeros, 0)


def reviewing(own: np.ndarray, other: np.ndarray, baseline: int) -> Situation:
    """A review at ``own`` facing ``other``."""
    return situation(np.zeros_like(own), np.zeros(own.size), own, other, baseline)


def situation(received, memory, own, other, baseline, weighing=None) -> Situation:
    return Situation(
        weighing=weighing,
        received=received,
        rows=slice(None),  # every world, as views: the rule's memory is updated in place
        memory_of=memory,
        posture_of=own,
        adversary_posture_of=other,
        baseline=baseline,
        war=WAR,
        strike_rung=4,
    )


def test_registries_hold_every_named_policy():
    assert sorted(RETALIATION_POLICIES) == sorted(
        [
            "strategic",
            "never",
            "tit_for_tat",
            "proportional",
            "escalate",
            "generous_tit_for_tat",
            "graduated",
            "threshold",
        ]
    )
    assert sorted(MEDIATION_POLICIES) == ["accept", "decide", "refuse"]
    # only the strategic policy weighs resolve, and only it makes reactions and pledges
    for name, policy in RETALIATION_POLICIES.items():
        assert ("resolve" in policy.classifier["uses"]) == (name == "strategic")
        assert policy.classifier["signals"] == (name == "strategic")
    stochastic = {n for n, c in RETALIATION_POLICIES.items() if c.classifier["stochastic"]}
    assert stochastic == {"strategic", "proportional", "generous_tit_for_tat", "graduated"}


def test_never_answers_nothing_and_steps_down_at_every_review():
    policy = Never(policy="never")
    assert policy.answer_rung(answering(rungs(1, 4, 7), np.zeros(3)), NO_DRAWS).tolist() == [
        0,
        0,
        0,
    ]
    own, other = rungs(4, 2, 1), rungs(4, 4, 0)
    assert policy.review_level(reviewing(own, other, 1), NO_DRAWS).tolist() == [3, 1, 1]


def test_tit_for_tat_matches_the_rung_received_and_mirrors_the_adversarys_posture():
    policy = TitForTat(policy="tit_for_tat")
    assert policy.answer_rung(answering(rungs(1, 4, 6), np.zeros(3)), NO_DRAWS).tolist() == [
        1,
        4,
        6,
    ]
    own, other = rungs(4, 4, 4), rungs(4, 2, 0)
    assert policy.review_level(reviewing(own, other, 1), NO_DRAWS).tolist() == [4, 2, 1]


def test_proportional_is_one_rung_off_with_its_noise():
    policy = Proportional(policy="proportional", noise=0.2)
    # draws below noise/2 go down, below noise go up, others match; clipped to [1, war]
    u = np.array([0.05, 0.15, 0.5, 0.05, 0.15])
    assert policy.answer_rung(answering(rungs(4, 4, 4, 1, 7), np.zeros(5)), u).tolist() == [
        3,
        5,
        4,
        1,
        7,
    ]


def test_escalate_answers_above_stops_at_war_and_never_steps_down():
    policy = Escalate(policy="escalate", step=2)
    assert policy.answer_rung(answering(rungs(1, 4, 6), np.zeros(3)), NO_DRAWS).tolist() == [
        3,
        6,
        7,
    ]
    assert policy.review_level(reviewing(rungs(5), rungs(0), 0), np.zeros(1)).tolist() == [5]


def test_generous_tit_for_tat_forgives_with_its_probability():
    policy = GenerousTitForTat(policy="generous_tit_for_tat", forgive=0.3)
    u = np.array([0.29, 0.31, 0.9])
    assert policy.answer_rung(answering(rungs(4, 4, 2), np.zeros(3)), u).tolist() == [0, 4, 2]
    # mirrors, and with chance forgive steps down one rung although the adversary has not
    own, other = rungs(4, 4, 4), rungs(4, 4, 1)
    assert policy.review_level(reviewing(own, other, 0), u).tolist() == [3, 4, 1]


def test_graduated_matches_and_takes_unilateral_steps_down():
    policy = Graduated(policy="graduated", step_down=0.5)
    assert policy.answer_rung(answering(rungs(4, 5), np.zeros(2)), np.zeros(2)).tolist() == [4, 5]
    own, other = rungs(4, 4, 2), rungs(4, 4, 4)
    assert policy.review_level(reviewing(own, other, 2), np.array([0.4, 0.6, 0.1])).tolist() == [
        3,
        4,
        2,
    ]


def test_threshold_answers_once_accumulated_provocation_passes():
    policy = Threshold(policy="threshold", threshold=6, decay=0.5)
    memory = np.zeros(1)
    trace = []
    for received in (2, 3, 4):
        trace.append(int(policy.answer_rung(answering(rungs(received), memory), np.zeros(1))[0]))
        policy.forget(memory)
    # 2 -> memory 2 -> fades to 1; +3 = 4 -> fades to 2; +4 = 6 >= 6: answer 4, memory reset
    assert trace == [0, 0, 4]
    assert memory.tolist() == [0.0]


def test_mediation_policies():
    gain = np.array([-1.0, 0.0, 1.0])
    u = np.array([0.5, 0.49, 0.9])
    assert Accept(policy="accept").accepts(gain, 1.0, u).tolist() == [True] * 3
    assert Refuse(policy="refuse").accepts(gain, 1.0, u).tolist() == [False] * 3
    # logit: P(accept) = 1 / (1 + exp(-gain)): 0.27, 0.5, 0.73
    assert Decide(policy="decide").accepts(gain, 1.0, u).tolist() == [False, True, False]


@pytest.mark.parametrize(
    "policy_class, params",
    [
        (GenerousTitForTat, {"forgive": 1.3}),
        (Proportional, {"noise": -0.1}),
        (Escalate, {"step": 0}),
        (Threshold, {"threshold": 0}),
        (TitForTat, {"delay": -1}),
        (Strategic, {"reaction_delay": -2}),
    ],
)
def test_policy_parameters_are_validated(policy_class, params):
    name = next(n for n, c in RETALIATION_POLICIES.items() if c is policy_class)
    with pytest.raises(ValidationError):
        policy_class.model_validate({"policy": name, **params})


def test_strategic_draws_its_answer_and_review_from_the_weighing():
    from sim.model.record import Weighing

    probabilities = np.array([[0.2, 0.5, 0.3]] * 3)
    available = np.ones((3, 3), dtype=bool)
    weighing = Weighing(None, {}, available, np.zeros((3, 3)), probabilities)  # type: ignore[arg-type]
    s = situation(rungs(4, 4, 4), np.zeros(3), rungs(0, 0, 0), rungs(0, 0, 0), 0, weighing)
    u = np.array([0.1, 0.6, 0.9])
    policy = Strategic(policy="strategic")
    assert policy.answer(s, u).tolist() == [0, 1, 2]
    assert policy.review(s, u).tolist() == [0, 1, 2]
    assert policy.rule() == ""


def test_a_persona_review_takes_the_nearest_step_that_does_not_go_below_what_it_wants():
    from sim.model import decisions

    options = decisions.review_options({0: "group"})
    posture = rungs(6, 6, 6, 6, 6, 1)
    levels = decisions.review_levels(options, posture, 0)
    available = decisions.review_available(options, posture, 0, levels)
    wanted = rungs(6, 5, 2, 0, 7, 0)
    chosen = review_option_at(options, levels, available, wanted)
    # hold; one rung; one rung (no option steps to 2); the baseline; hold; one rung to baseline
    assert chosen.tolist() == [0, 1, 1, 2, 0, 1]
