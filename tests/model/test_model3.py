"""Model 3's mechanisms, each by exact traces with its switch on (conftest's small crisis has
every mechanism off, so each test turns on only its own): fighting that goes on (operations
and engagements), talks under fire, and measures that stick. ``test_model3_reduction.py``
checks that with all three off the model is model 2, byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from sim import EscalationModel
from tests.conftest import scenario, state


def run(sc, seed: int = 1) -> EscalationModel:
    model = EscalationModel(sc, seed, record=True)
    model.run()
    return model


def trace(model: EscalationModel) -> list[tuple[int, str, str, int | None]]:
    """(day, kind, actor, rung) of every event of the first world."""
    return [(e.day, e.kind, e.actor, e.rung) for e in model.events[0]]


OPENING_AT_6 = [{"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 6}]
MUTUAL_CLASH = [
    {"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 5, "answered": True},
    {"day": 0, "type": "act", "actor": "b", "target": "a", "rung": 5, "answered": True},
]


def operation(
    continuation: float, horizon: int = 5, events: list[dict] = OPENING_AT_6
) -> EscalationModel:
    """A opens with ``events`` (default: at the sustained rung, 6, the rung below war); B never
    answers."""
    return run(
        scenario(
            horizon=horizon,
            mechanisms={"operations": True},
            decision={"operation_continuation": continuation},
            actors={"b": state("B", "never")},
            events=events,
        )
    )


def test_an_act_at_the_sustained_rung_opens_an_operation_carried_on_every_day():
    """With a daily continuation of 1, A strikes again each morning, each strike a fresh act
    that B owes an answer to (B, delay 2, lets each batch go on days 2 and 4); A never steps
    down, since its act of the day comes before its review."""
    model = operation(1.0)
    assert trace(model) == [
        (0, "strike", "a", 6),
        (0, "operation", "a", 6),
        (1, "strike", "a", 6),
        (2, "let_go", "b", None),
        (2, "strike", "a", 6),
        (3, "strike", "a", 6),
        (4, "let_go", "b", None),
        (4, "strike", "a", 6),
        (5, "strike", "a", 6),
    ]
    assert model.tally.strike_days[0] == 5  # days 1 to 5 (day 0 is history)
    assert [day["a"] for day in model.rung_history()] == [6] * 6


def test_an_operation_with_no_chance_to_go_on_ends_the_next_morning():
    model = operation(0.0)
    assert trace(model) == [
        (0, "strike", "a", 6),
        (0, "operation", "a", 6),
        (1, "operation_end", "a", None),
        (1, "conciliate", "a", 0),
        (2, "let_go", "b", None),
    ]
    assert model.events[0][2].text == "A ends its operation against B"


def test_operations_off_make_the_same_act_a_one_off():
    model = run(scenario(horizon=5, actors={"b": state("B", "never")}, events=OPENING_AT_6))
    assert trace(model) == [
        (0, "strike", "a", 6),
        (1, "conciliate", "a", 0),
        (2, "let_go", "b", None),
    ]


def declared(open_ended: bool, rung: int) -> EscalationModel:
    """A's opening act at ``rung``, declared open-ended (``operation: true``) or done
    (``false``); operations always go on; B never answers."""
    act = {"day": 0, "type": "act", "actor": "a", "target": "b", "rung": rung}
    return operation(1.0, 3, [{**act, "operation": open_ended}])


def test_an_act_declared_done_opens_no_operation_however_grave():
    """Encoding rule 5b: one night's deadly strike (rung 6) declared done is a one-off, as
    with operations off."""
    assert trace(declared(False, 6)) == [
        (0, "strike", "a", 6),
        (1, "conciliate", "a", 0),
        (2, "let_go", "b", None),
    ]


def test_an_act_declared_open_ended_opens_an_operation_at_its_own_rung():
    """A declared operation below the sustained rung (a strike on state forces, rung 5) goes
    on day after day at rung 5, as one at rung 6 does at 6."""
    model = declared(True, 5)
    assert trace(model) == [
        (0, "strike", "a", 5),
        (0, "operation", "a", 5),
        (1, "strike", "a", 5),
        (2, "let_go", "b", None),
        (2, "strike", "a", 5),
        (3, "strike", "a", 5),
    ]
    assert [day["a"] for day in model.rung_history()] == [5] * 4


def test_a_declared_operation_against_a_groups_bases_strikes_that_group_each_day():
    """A's declared operation on the group B hosts (rung 4) goes on at rung 4 against the
    group, on B's soil and not on B's forces, and each day's strike halves its capacity."""
    model = run(
        scenario(
            horizon=3,
            mechanisms={"operations": True, "armed_groups": True},
            decision={"operation_continuation": 1.0},
            actors={"b": state("B", "never")},
            armed_groups={
                "raiders": {
                    "name": "Raiders",
                    "host": "b",
                    "target": "a",
                    "daily_rate": 0.0,
                    "attack_rung": 4,
                    "strike_damage": 0.5,
                    "recovery": 0.0,
                }
            },
            events=[
                {
                    "day": 0,
                    "type": "act",
                    "actor": "a",
                    "target": "b",
                    "rung": 4,
                    "target_kind": "armed_group",
                    "group": "raiders",
                    "operation": True,
                }
            ],
        )
    )
    assert trace(model) == [
        (0, "strike", "a", 4),
        (0, "operation", "a", 4),
        (1, "strike", "a", 4),
        (2, "let_go", "b", None),
        (2, "strike", "a", 4),
        (3, "strike", "a", 4),
    ]
    daily = [e for e in model.events[0] if e.kind == "strike" and e.day > 0]
    assert [e.text for e in daily] == [
        "A carries on its operation against B: 'strike on a group' against Raiders"
    ] * 3
    assert {(e.details["target_kind"], e.details["location"]) for e in daily} == {
        ("armed_group", "b")
    }
    assert model.groups["raiders"].capacity[0] == pytest.approx(0.5**4)


def test_the_share_of_runs_whose_operation_lasts_k_days_is_geometric():
    """Over 4,000 worlds at p = 0.85 the operation's extra days are geometric: P(at least k
    more days) = p^k. Tolerance: 4 binomial standard errors at n = 4,000 (at most 0.032)."""
    sc = scenario(
        horizon=5,
        runs=4000,
        mechanisms={"operations": True},
        actors={"b": state("B", "never")},
        events=OPENING_AT_6,
    )
    model = EscalationModel(sc, np.arange(4000) + 1)
    model.run()
    days = model.tally.strike_days  # the days from day 1 the operation went on
    for k in range(1, 5):
        share = float(np.mean(days >= k))
        assert share == pytest.approx(0.85**k, abs=4 * np.sqrt(0.25 / 4000))


def engagement(continuation: float) -> EscalationModel:
    """A and B, forces in contact (baseline 3), clash on day 0; a ceasefire on day 3."""
    return run(
        scenario(
            horizon=6,
            mechanisms={"operations": True},
            decision={"engagement_continuation": continuation},
            relations=[{"between": ["a", "b"], "baseline": 3}],
            events=[*MUTUAL_CLASH, {"day": 3, "type": "ceasefire", "between": ["a", "b"]}],
        )
    )


def test_forces_in_contact_that_clash_fall_into_an_engagement_until_the_ceasefire():
    """Both fire each morning (owed no answer: the engagement goes on by itself) until the
    scripted ceasefire of day 3 ends it, and both step down to their baseline."""
    model = engagement(1.0)
    assert trace(model) == [
        (0, "strike", "a", 5),
        (0, "strike", "b", 5),
        (0, "engagement", "a", None),
        (1, "strike", "a", 5),
        (1, "strike", "b", 5),
        (2, "strike", "a", 5),
        (2, "strike", "b", 5),
        (3, "ceasefire", "a", None),
        (3, "conciliate", "a", 3),
        (3, "conciliate", "b", 3),
    ]
    assert (
        model.events[0][3].text == "A's forces in contact with B's fire again: 'strike on forces'"
    )
    assert model.events[0][3].details["fighting"] == "engagement"


def test_an_engagement_with_no_chance_to_go_on_dies_out_the_next_morning():
    model = engagement(0.0)
    assert trace(model)[:4] == [
        (0, "strike", "a", 5),
        (0, "strike", "b", 5),
        (0, "engagement", "a", None),
        (1, "engagement_end", "a", None),
    ]
    assert not any(e.kind == "strike" and e.day > 0 for e in model.events[0])


def test_no_engagement_without_forces_in_contact():
    """The same clash between states whose baseline is normal relations is a one-off."""
    model = run(scenario(horizon=6, mechanisms={"operations": True}, events=MUTUAL_CLASH))
    assert not any(e.kind.startswith("engagement") for e in model.events[0])


TALKS = {
    "mediator": {
        "name": "M",
        "leverage": {"a": 0.5, "b": 0.5},
        "mediation": {"parties": ["a", "b"], "agreement_rate": 0.0},
    }
}


def talks_then_strike(under_fire: bool) -> EscalationModel:
    """Talks accepted on day 1 (both states accept every offer); A strikes B on day 2."""
    return run(
        scenario(
            horizon=4,
            mechanisms={"third_parties": True, "talks_under_fire": under_fire},
            actors={
                "a": state("A", mediation={"policy": "accept"}),
                "b": state("B", "never", mediation={"policy": "accept"}),
            },
            third_parties=TALKS,
            events=[
                {"day": 1, "type": "offer", "third_party": "mediator"},
                {"day": 2, "type": "act", "actor": "a", "target": "b", "rung": 5},
            ],
        )
    )


def test_talks_survive_a_strike_under_fire_and_collapse_without():
    kinds = [e.kind for e in talks_then_strike(True).events[0]]
    assert "accept" in kinds and "talks_end" not in kinds
    ended = [e for e in talks_then_strike(False).events[0] if e.kind == "talks_end"]
    assert [(e.day, e.text) for e in ended] == [(2, "Talks led by M collapse after A's strike")]


def test_hurt_is_the_share_of_the_cost_of_war_of_each_strike_suffered():
    """A mutual clash at rung 5 of a 7-rung war ladder: each side has suffered (5/7)^3."""
    model = EscalationModel(scenario(horizon=1, events=MUTUAL_CLASH), 1)
    assert model.states["a"].hurt["b"][0] == pytest.approx((5 / 7) ** 3)
    assert model.states["b"].hurt["a"][0] == pytest.approx((5 / 7) ** 3)


def test_the_chance_of_agreement_grows_with_the_lesser_hurt():
    """rate x (1 + hurting_stalemate x min(hurt)): 0.05 x (1 + 2 x 0.25) = 0.075; capped at 1;
    the constant rate with talks under fire off."""
    talks = {
        "mediator": {
            **TALKS["mediator"],
            "mediation": {"parties": ["a", "b"], "agreement_rate": 0.05},
        }
    }
    for under_fire, expected in ((True, [0.075, 0.05, 1.0]), (False, [0.05, 0.05, 0.05])):
        sc = scenario(
            runs=3,
            mechanisms={"third_parties": True, "talks_under_fire": under_fire},
            decision={"hurting_stalemate": 2.0},
            third_parties=talks,
            events=[],
        )
        model = EscalationModel(sc, [1, 2, 3])
        model.states["a"].hurt["b"][:] = [0.25, 0.0, 30.0]
        model.states["b"].hurt["a"][:] = [0.5, 3.0, 40.0]
        chance = model.third_parties["mediator"].agreement_chance(np.arange(3))
        assert np.allclose(np.broadcast_to(chance, 3), expected)


STRUCK = [{"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 5, "answered": True}]


def measures(sticky: bool, *extra: dict, **decision: float) -> EscalationModel:
    """A struck B's forces; B (never answers) puts measures in force against A; A follows tit
    for tat (it steps down once B stands below it). ``extra``: scripted events."""
    return run(
        scenario(
            horizon=8,
            mechanisms={"sticky_measures": sticky},
            decision={"measure_review_rate": 0.0, **decision},
            actors={"b": state("B", "never")},
            events=[*STRUCK, *extra],
        )
    )


def test_a_step_down_from_fire_does_not_lift_measures():
    """A steps down on day 1 (a conciliation); B keeps its measures to the horizon (slow rate
    0): stopping fire is not a settlement. Without measures the crisis is calm on day 1."""
    model = measures(True)
    assert [(e.day, e.kind, e.actor, e.text) for e in model.events[0]][1:] == [
        (1, "conciliate", "a", "A steps down towards B: back to 'normal relations'"),
    ]
    assert model.states["b"].measures["a"][0] and model.tally.calm_day[0] < 0
    assert measures(False).tally.calm_day[0] == 1


def test_measures_are_lifted_inside_an_agreed_ceasefire():
    """A ceasefire agreed on day 4: B lifts its measures that day (review rate 1), a visible
    conciliation, and the crisis is calm on day 4."""
    model = measures(True, {"day": 4, "type": "ceasefire", "between": ["a", "b"]})
    assert [(e.day, e.kind, e.actor, e.text) for e in model.events[0]][1:] == [
        (1, "conciliate", "a", "A steps down towards B: back to 'normal relations'"),
        (4, "ceasefire", "a", "Ceasefire between a and b"),
        (4, "conciliate", "b", "B lifts its measures against A"),
    ]
    assert model.tally.calm_day[0] == 4


def test_outside_a_ceasefire_measures_are_lifted_only_at_the_slow_rate():
    """No ceasefire: B's measures stay to the horizon at a slow rate of 0, and are lifted the
    first morning at a slow rate of 1."""
    kept = measures(True, review_rate=0.0)
    assert kept.states["b"].measures["a"][0] and kept.tally.calm_day[0] < 0
    lifted = measures(True, review_rate=0.0, measure_review_rate=1.0)
    lifts = [(e.day, e.actor) for e in lifted.events[0] if e.kind == "conciliate"]
    assert lifts == [(1, "b")] and not lifted.states["b"].measures["a"][0]


def test_a_non_kinetic_act_puts_measures_in_force_and_without_the_switch_nothing_does():
    downgrade = [
        {"day": 0, "type": "act", "actor": "b", "target": "a", "rung": 2, "answered": True}
    ]
    on = EscalationModel(
        scenario(mechanisms={"sticky_measures": True}, events=[*STRUCK, *downgrade]), 1
    )
    assert on.states["b"].measures["a"][0] and not on.states["a"].measures["b"][0]
    off = EscalationModel(scenario(events=[*STRUCK, *downgrade]), 1)
    assert not off.states["b"].measures["a"][0]


def direct(*events: dict, horizon: int = 4, runs: int = 1, **decision: float) -> EscalationModel:
    """A and B (both never answer) with direct talks and measures that stick; the slow rate
    of lifting measures is 0, so only a settlement lifts them."""
    sc = scenario(
        horizon=horizon,
        runs=runs,
        mechanisms={"direct_talks": True, "sticky_measures": True},
        decision={"measure_review_rate": 0.0, **decision},
        actors={"a": state("A", "never"), "b": state("B", "never")},
        events=list(events),
    )
    model = EscalationModel(sc, np.arange(runs) + 1, record=runs == 1)
    model.run()
    return model


def test_two_states_that_hurt_each_other_agree_a_truce_alone_which_lifts_no_measures():
    """After a mutual clash, at a rate of 1 the two agree a ceasefire on the evening of day 1
    with no mediator: both step down below the strike rung (to the force posture, 3), then
    step by step to normal relations, but each keeps the measures the clash put in force, so
    the crisis is never calm."""
    model = direct(*MUTUAL_CLASH, direct_agreement_rate=1.0)
    assert [(e.day, e.kind, e.actor, e.rung) for e in model.events[0]][2:7] == [
        (1, "conciliate", "a", 4),
        (1, "conciliate", "b", 4),
        (1, "ceasefire", "a", None),
        (1, "conciliate", "a", 3),
        (1, "conciliate", "b", 3),
    ]
    assert model.events[0][4].text == (
        "A and B agree a ceasefire between themselves, with no mediator"
    )
    assert model.tally.ceasefire_day[0] == 1 and model.pair("a", "b").truce[0]
    assert model.states["a"].measures["b"][0] and model.states["b"].measures["a"][0]
    assert [day["a"] for day in model.rung_history()] == [5, 3, 2, 1, 0]
    assert model.tally.calm_day[0] < 0


def test_a_scripted_settlement_after_the_truce_lifts_the_measures():
    """The same truce on day 1, then a ceasefire agreed in talks (scripted) on day 3: a
    settlement, inside which both lift their measures (review rate 1) and the crisis is calm
    once both stand at normal relations, on day 4."""
    settled = direct(
        *MUTUAL_CLASH,
        {"day": 3, "type": "ceasefire", "between": ["a", "b"]},
        direct_agreement_rate=1.0,
    )
    assert not settled.pair("a", "b").truce[0]
    lifts = [e.text for e in settled.events[0] if "measures" in e.text]
    assert lifts == ["A lifts its measures against B", "B lifts its measures against A"]
    assert settled.tally.calm_day[0] == 4


def test_no_direct_talks_when_only_one_side_is_hurt_or_with_the_switch_off():
    one_sided = direct(STRUCK[0], direct_agreement_rate=1.0)
    assert "ceasefire" not in [e.kind for e in one_sided.events[0]]
    off = run(
        scenario(
            horizon=4,
            decision={"direct_agreement_rate": 1.0},
            actors={"a": state("A", "never"), "b": state("B", "never")},
            events=MUTUAL_CLASH,
        )
    )
    assert off.tally.ceasefire_day[0] < 0


def test_the_daily_chance_of_a_truce_is_the_rate_times_one_plus_the_lesser_hurt():
    """A mutual clash at rung 5 of 7 hurts each side (5/7)^3; with rate 0.1 and
    hurting_stalemate 1 the daily chance is p = 0.1 x (1 + (5/7)^3), the same each day while
    the measures keep the crisis open, so P(no truce by the end of day k) = (1 - p)^k over
    4,000 worlds. Tolerance: 4 binomial standard errors at n = 4,000 (at most 0.032)."""
    model = direct(*MUTUAL_CLASH, horizon=5, runs=4000, direct_agreement_rate=0.1)
    p = 0.1 * (1 + (5 / 7) ** 3)
    day = model.tally.ceasefire_day
    for k in range(1, 6):
        waiting = float(np.mean((day < 0) | (day > k)))
        assert waiting == pytest.approx((1 - p) ** k, abs=4 * np.sqrt(0.25 / 4000))
