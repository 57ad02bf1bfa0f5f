"""Each term of a strategic decision and the choice among options, on hand-computed inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import decisions
from sim.model.decisions import AnswerSituation, DecisionWeights, ReviewSituation
from sim.model.ladder import Ladder
from sim.model.memo import RowMemo, unique_rows
from tests.conftest import LADDER

WEIGHTS = DecisionWeights(
    rationality=2.0,
    deterrence=4.0,
    coercion=0.5,
    cost_convexity=2.0,
    risk=1.5,
    nuclear_risk=4.0,
    nuclear_from_rung=6,
    standing_cost=1.0,
    reciprocity=0.5,
    ripeness=2.0,
    talks=1.0,
    ceasefire_break=1.5,
    protection=1.0,
    denied_value=0.5,
    reprisal_value=0.3,
)
LADDER_ = Ladder.model_validate(LADDER)
OPTIONS = decisions.answer_options(LADDER_, {0: "G"}, warnings=True)


def situation(**changes) -> AnswerSituation:
    values = dict(
        received=np.array([4]),
        resolve=np.array([0.5]),
        posture=np.array([0]),
        denied=np.array([False]),
        reprisal=np.array([False]),
        success=None,
        cost=2.0,
        pressure=np.array([0.7]),
        pressure_parts={"X": np.array([0.7])},
        protection=np.array([0.2]),
        pledge=np.array([True]),
        audience_cost=0.5,
        talks=np.array([0.3]),
        face_saving=np.array([0.4]),
        ceasefire=np.array([True]),
        adversary_nuclear=True,
    )
    values.update(changes)
    return AnswerSituation(**values)


def test_the_options_of_an_answer():
    assert OPTIONS.labels == (
        "no answer",
        "protest",
        "downgrade",
        "force posture",
        "strike on a group (G)",
        "strike on forces",
        "exchange of fire",
        "war",
        "announced strike on a group (G)",
        "announced strike on forces",
        "announced exchange of fire",
    )
    assert OPTIONS.rung.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6]
    assert OPTIONS.effective.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 3, 4, 5]
    assert OPTIONS.group.tolist() == [-1, -1, -1, -1, 0, -1, -1, -1, 0, -1, -1]
    assert OPTIONS.on_state.tolist() == [False] * 5 + [True] * 3 + [False, True, True]
    no_group = decisions.answer_options(LADDER_, {}, warnings=False)
    assert no_group.rung.tolist() == [0, 1, 2, 3, 5, 6, 7]


def test_deterrence_values_answers_in_kind_fully_and_above_at_the_coercion_share():
    value = decisions.deterrence_value(np.array([0, 2, 4, 6]), np.array([4]), 7, 0.5)
    assert value[0].tolist() == pytest.approx([0, 2 / 7, 4 / 7, 5 / 7])
    # above the rung received, coercion pays only as often as the adversary backs down
    success = np.array([[1.0, 1.0, 1.0, 0.2]])
    weighed = decisions.deterrence_value(np.array([0, 2, 4, 6]), np.array([4]), 7, 0.5, success)
    assert weighed[0].tolist() == pytest.approx([0, 2 / 7, 4 / 7, (4 + 0.5 * 2 * 0.2) / 7])


def test_every_term_of_an_answer():
    terms = decisions.answer_terms(OPTIONS, situation(), WEIGHTS, LADDER_)
    forces, protest, exchange, war = 5, 1, 6, 7
    assert terms["resolve"][0, forces] == pytest.approx(4 * 0.5 * 4.5 / 7)
    assert terms["cost"][0, forces] == pytest.approx(-2 * (5 / 7) ** 2)
    assert terms["pressure"][0, forces] == pytest.approx(-0.7 * 5 / 7)
    assert terms["pressure:X"][0, forces] == pytest.approx(-0.7 * 5 / 7)
    assert terms["protection"][0, forces] == pytest.approx(-0.2 * 5 / 7)
    assert terms["protection"][0, protest] == 0
    assert terms["commitment"][0, forces] == 0
    assert terms["commitment"][0, protest] == pytest.approx(-0.5 * (1 - 0.4))
    assert terms["commitment"][0, 0] == pytest.approx(-0.3)  # no answer backs down too
    assert terms["nuclear"][0, forces] == 0
    assert terms["nuclear"][0, exchange] == pytest.approx(-2.0)
    assert terms["nuclear"][0, war] == pytest.approx(-4.0)
    assert terms["talks"][0, forces] == pytest.approx(-0.3 * 5 / 7) and terms["talks"][0, 0] == 0
    assert terms["ceasefire"][0, forces] == pytest.approx(-1.5)
    assert terms["ceasefire"][0, protest] == 0
    quiet = decisions.answer_terms(
        OPTIONS, situation(adversary_nuclear=False, pledge=np.array([False])), WEIGHTS, LADDER_
    )
    assert quiet["nuclear"][0].tolist() == [0.0] * OPTIONS.size
    assert quiet["commitment"][0].tolist() == [0.0] * OPTIONS.size


def test_denied_acts_and_reprisals_are_worth_answering_less():
    plain = decisions.answer_terms(OPTIONS, situation(), WEIGHTS, LADDER_)["resolve"]
    denied = decisions.answer_terms(OPTIONS, situation(denied=np.array([True])), WEIGHTS, LADDER_)
    reprisal = decisions.answer_terms(
        OPTIONS, situation(reprisal=np.array([True])), WEIGHTS, LADDER_
    )
    assert denied["resolve"] == pytest.approx(0.5 * plain)
    assert reprisal["resolve"] == pytest.approx(0.3 * plain)


def test_acts_without_force_must_climb_and_reactions_have_no_strikes():
    available = decisions.answer_available(OPTIONS, np.array([2]), 4, reaction=False)
    assert available[0].tolist() == [True, False, False, True] + [True] * 7
    reacting = decisions.answer_available(OPTIONS, np.array([0]), 4, reaction=True)
    assert reacting[0].tolist() == [True, True, True, True] + [False] * 7


def test_risk_is_the_expected_harm_of_the_answer_by_belief():
    harm = np.zeros((1, 8, 2))
    harm[0, 5] = [0.2, 0.6]  # an act read at 5 is answered with harm 0.2 or 0.6 by type
    belief = np.array([[0.25, 0.75]])
    risk = decisions.risk_term(OPTIONS, belief, harm, weight=1.5)
    assert risk[0, 5] == pytest.approx(-1.5 * (0.25 * 0.2 + 0.75 * 0.6))
    assert risk[0, 10] == pytest.approx(-1.5 * 0.5)  # announced exchange is read at 5
    assert risk[0, 4] == 0


def test_logit_choice_probabilities():
    utility = np.array([[0.0, 1.0, 5.0]])
    available = np.array([[True, True, False]])
    p = decisions.choice_probabilities(utility, available, 1.0)
    assert p[0].tolist() == pytest.approx([1 / (1 + np.e), np.e / (1 + np.e), 0.0])
    best = decisions.choice_probabilities(
        np.array([[0.0, 1.0, 1.0]]), np.ones((1, 3), bool), np.inf
    )
    assert best[0].tolist() == [0.0, 1.0, 0.0]  # the first of tied best options
    huge = decisions.choice_probabilities(np.array([[0.0, 1000.0]]), np.ones((1, 2), bool), 1.0)
    assert huge[0].tolist() == [0.0, 1.0]  # the row is redone relative to its best option


def test_draw_is_inverse_cdf_sampling():
    p = np.array([[0.2, 0.5, 0.3]] * 5)
    u = np.array([0.1, 0.2, 0.69, 0.7, 0.9999999])
    assert decisions.draw(p, u).tolist() == [0, 1, 1, 2, 2]
    edge = decisions.draw(np.array([[0.5, 0.5, 0.0]]), np.array([0.9999999999999999]))
    assert edge.tolist() == [1]  # never an option without probability


def test_binary_choice():
    gain = np.array([0.0, 0.0, np.log(3.0)])
    u = np.array([0.49, 0.51, 0.74])
    assert decisions.binary_choice(gain, 1.0, u).tolist() == [True, False, True]
    assert decisions.binary_choice(np.array([0.1, -0.1]), np.inf, np.zeros(2)).tolist() == [
        True,
        False,
    ]


def test_type_probabilities_are_the_logit_of_each_type_at_most_the_observer_precision():
    per_unit = np.array([[0.0, 1.0, 2.0]])
    rest = np.array([[0.0, -0.5, -1.5]])
    types = np.array([0.2, 0.8])
    available = np.ones((1, 3), bool)
    found = decisions.type_probabilities(per_unit, rest, types, available, np.inf)
    for k, resolve in enumerate(types):
        utility = resolve * per_unit[0] + rest[0]
        expected = np.exp(10 * utility) / np.exp(10 * utility).sum()
        assert found[0, k] == pytest.approx(expected, rel=1e-5)


def test_predicted_answer_of_an_adversary_that_answers_in_kind_or_not_at_all():
    options = decisions.answer_options(LADDER_, {}, warnings=False)
    rest = np.where(np.arange(options.size) == 0, 0.0, -10.0)[None, :]
    rest[0, 4] = -1.0  # only answering with a strike on forces (rung 5) is ever worth it
    available = np.ones((1, options.size), bool)
    harm, quiet = decisions.predicted_answer(
        options, rest, available, np.array([0.5]), WEIGHTS, LADDER_, np.inf
    )
    # by type 0.5: a strike read at 5 gives it 4*0.5*5/7 = 1.43 > 1: it answers at 5
    assert harm[0, 5, 0] == pytest.approx((5 / 7) ** 2) and quiet[0, 5, 0] == 0
    # read at 4: 4*0.5*4/7 = 1.14 > 1 still (the adversary does not coerce: nothing above 4 is
    # worth more to it)
    assert harm[0, 4, 0] == pytest.approx((5 / 7) ** 2)
    # read at 3: 4*0.5*3/7 = 0.86, not above the 0 of no answer: it backs down
    assert harm[0, 3, 0] == 0 and quiet[0, 3, 0] == 1
    # no act, no answer; an adversary that answers war at all fights it: the whole harm of war
    assert (harm[0, 0, 0], quiet[0, 0, 0]) == (0, 1) and (harm[0, 7, 0], quiet[0, 7, 0]) == (1, 0)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    deterrence=st.floats(0.5, 8.0),
    coercion=st.floats(0.0, 1.0),
    reprisal_value=st.floats(0.0, 1.0),
    rationality=st.sampled_from([0.5, 2.0, 10.0, np.inf]),
    reprisals=st.booleans(),
)
def test_predicted_answer_is_answer_terms_and_the_logit_for_each_type(
    seed, deterrence, coercion, reprisal_value, rationality, reprisals
):
    """The adversary's answer as ``predicted_answer`` predicts it, for each severity and type,
    is the logit of ``answer_terms``' resolve term for that type plus every other term
    (``rest``), with no coercion of its own and nothing denied: the term is written once."""
    rng = np.random.default_rng(seed)
    weights = dataclasses.replace(
        WEIGHTS, deterrence=deterrence, coercion=coercion, reprisal_value=reprisal_value
    )
    n, war = 4, LADDER_.war
    rest = rng.normal(0.0, 2.0, (n, OPTIONS.size))
    available = rng.random((n, OPTIONS.size)) < 0.7
    available[:, 0] = True
    types = np.sort(rng.random(3) * 2)
    reprisal_up_to = rng.integers(0, war, n) if reprisals else None
    harm, quiet = decisions.predicted_answer(
        OPTIONS, rest, available, types, weights, LADDER_, rationality, reprisal_up_to
    )
    share = (OPTIONS.effective / war) ** weights.cost_convexity
    for e in range(1, war):
        received = np.full(n, e)
        reprisal = np.zeros(n, bool) if reprisal_up_to is None else e <= reprisal_up_to
        for k, resolve in enumerate(types):
            s = situation(
                received=received,
                resolve=np.full(n, resolve),
                posture=np.zeros(n, np.int64),
                denied=np.zeros(n, bool),
                reprisal=reprisal,
                success=None,
                pressure=np.zeros(n),
                pressure_parts={},
                protection=np.zeros(n),
                pledge=np.zeros(n, bool),
                talks=np.zeros(n),
                face_saving=np.zeros(n),
                ceasefire=np.zeros(n, bool),
            )
            no_coercion = dataclasses.replace(weights, coercion=0.0)
            terms = decisions.answer_terms(OPTIONS, s, no_coercion, LADDER_)
            utility = terms["resolve"] + rest
            chances = decisions.choice_probabilities(utility, available, rationality)
            np.testing.assert_allclose(harm[:, e, k], chances @ share, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(quiet[:, e, k], chances[:, 0], rtol=1e-12, atol=1e-15)


def test_the_adversary_predicted_two_levels_deep_is_deterred_by_the_counter_answer():
    """The same adversary, now weighing the risk of the state's counter-answer (its ``rest``
    holds it): answering at 5 is no longer worth it, so a strike read at 5 goes unanswered."""
    options = decisions.answer_options(LADDER_, {}, warnings=False)
    rest = np.where(np.arange(options.size) == 0, 0.0, -10.0)[None, :]
    rest[0, 4] = -1.0 - 0.5  # the counter-answer to a strike on forces: 0.5 of expected harm
    harm, quiet = decisions.predicted_answer(
        options, rest, np.ones((1, options.size), bool), np.array([0.5]), WEIGHTS, LADDER_, np.inf
    )
    # read at 5: 1.43 - 1.5 < 0: it backs down, so coercion at 5 would succeed against this type
    assert harm[0, 5, 0] == 0 and quiet[0, 5, 0] == 1
    # read at 6: 4*0.5*5/7 = 1.43 still (answering at 5 restores five rungs): backs down too;
    # facing war it does not fight either, and a state that believes so expects no harm from war
    assert quiet[0, 6, 0] == 1 and (harm[0, 7, 0], quiet[0, 7, 0]) == (0, 1)


def test_beliefs_weigh_what_each_option_is_predicted_to_bring():
    predicted = np.zeros((1, 8, 2))
    predicted[0, 4] = [1.0, 0.0]
    belief = np.array([[0.75, 0.25]])
    weighed = decisions.by_belief(OPTIONS, belief, predicted)
    assert weighed[0, 4] == pytest.approx(0.75)  # strike on a group, read at 4
    assert weighed[0, 9] == pytest.approx(0.75)  # announced strike on forces, read at 4


def test_every_term_of_a_review():
    options = decisions.review_options({1: "G"})
    posture = np.array([4])
    levels = decisions.review_levels(options, posture, 0)
    assert levels[0].tolist() == [4, 3, 0, 4]
    review = ReviewSituation(
        resolve=np.array([0.5]),
        posture=posture,
        baseline=0,
        cost=2.0,
        pressure=np.array([0.7]),
        pressure_parts={},
        conciliated=np.array([True]),
        talks=np.array([0.3]),
        adversary_nuclear=True,
        crackdown_cost=1.2,
    )
    terms = decisions.review_terms(options, review, levels, WEIGHTS, LADDER_)
    share = np.array([0, 1, 4, 1]) / 7
    assert terms["resolve"][0] == pytest.approx(-4 * 0.5 * share)
    assert terms["relief"][0] == pytest.approx(2 * np.array([0, 16 - 9, 16, 0]) / 49)
    assert terms["pressure"][0] == pytest.approx(0.7 * share)
    assert terms["nuclear"][0].tolist() == [0, 0, 0, 0]
    assert terms["reciprocity"][0].tolist() == [0, 0.5, 0.5, 0.5]
    assert terms["talks"][0] == pytest.approx([0, 0.3, 0.3, 0.3])
    assert terms["crackdown"][0].tolist() == [0, 0, 0, -1.2]
    available = decisions.review_available(options, posture, 0, levels)
    assert available[0].tolist() == [True, True, True, True]
    low = np.array([1])
    assert decisions.review_available(options, low, 0, decisions.review_levels(options, low, 0))[
        0
    ].tolist() == [True, True, False, True]


def test_the_terms_of_accepting_talks():
    gain = decisions.mediation_gain(
        resolve=np.array([0.5]),
        owed=np.array([4]),
        own_hurt=np.array([4]),
        other_hurt=np.array([2]),
        leverage=0.5,
        pressure=np.array([0.3]),
        after_refusal=0.2,
        alignment=0.4,
        pledge=np.array([True]),
        audience_cost=0.5,
        face_saving=0.5,
        weights=WEIGHTS,
        war=7,
    )
    assert gain["ripeness"][0] == pytest.approx(2 * 2 / 7)  # the lesser hurt: mutual
    assert gain["pressure"][0] == pytest.approx(0.5 * 0.5)
    assert gain["alignment"][0] == pytest.approx(0.4)
    assert gain["held_back"][0] == pytest.approx(-4 * 0.5 * 4 / 7)
    assert gain["commitment"][0] == pytest.approx(-0.25)


def test_unique_rows_groups_equal_rows_even_when_hashes_collide(monkeypatch):
    rows = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0], [3.0, 4.0]])
    first, inverse = unique_rows(rows)
    assert np.array_equal(rows[first][inverse], rows)
    assert len(first) == 3
    import sim.model.streams

    monkeypatch.setattr(sim.model.streams, "mix64", lambda values: np.zeros_like(values))
    first, inverse = unique_rows(rows)
    assert np.array_equal(rows[first][inverse], rows) and len(first) == 3


def test_a_row_memo_recalls_what_it_remembered_until_its_budget_is_spent():
    keys = np.array([[1.0, 2.0], [3.0, 4.0]])
    results = (np.array([[10.0, 11.0], [30.0, 31.0]]), np.array([1.0, 3.0]))
    memo = RowMemo(budget=4 * 24)  # four rows of 24 bytes
    assert memo.recall(keys).tolist() == [-1, -1]
    memo.remember(keys, results)
    slots = memo.recall(np.array([[3.0, 4.0], [5.0, 6.0], [1.0, 2.0]]))
    assert slots.tolist() == [1, -1, 0]
    pairs, singles = memo.results(slots[[0, 2]])
    assert pairs.tolist() == [[30.0, 31.0], [10.0, 11.0]] and singles.tolist() == [3.0, 1.0]
    # past the budget the memo starts again empty and keeps the newest rows
    more = np.array([[5.0, 6.0], [7.0, 8.0], [9.0, 10.0]])
    memo.remember(more, (np.arange(6.0).reshape(3, 2), np.arange(3.0)))
    assert memo.recall(np.vstack([keys, more])).tolist() == [-1, -1, 0, 1, 2]
    # a batch larger than the whole budget is not kept at all
    memo.remember(np.arange(10.0).reshape(5, 2), (np.zeros((5, 2)), np.zeros(5)))
    assert (memo.recall(np.vstack([keys, more])) == -1).all()
