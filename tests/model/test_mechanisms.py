"""Third parties, beliefs, commitments, the nuclear shadow, warnings and reactions: each
mechanism does what docs/model.md says, and its switch turns it off."""

from __future__ import annotations

import numpy as np
import pytest

from sim import EscalationModel, load_scenario
from sim.model.streams import run_seeds
from tests.conftest import BASELINE, scenario, state

MEDIATOR = {
    "m": {
        "name": "M",
        "leverage": {"a": 0.5, "b": 0.5},
        "pressure": {"base": 0.1, "per_rung": 0.05, "after_refusal": 0.3},
        "mediation": {
            "parties": ["a", "b"],
            "trigger_rung": 4,
            "agreement_rate": 1.0,
            "cooldown": 2,
        },
    }
}


def run(sc, seed: int = 1) -> EscalationModel:
    model = EscalationModel(sc, seed, record=True)
    model.run()
    return model


def trace(model: EscalationModel) -> list[tuple[int, int, str, str, int | None]]:
    return [(e.day, e.round, e.kind, e.actor, e.rung) for e in model.events[0]]


def answering(policy: str) -> dict:
    return {
        "a": state("A", mediation={"policy": policy}),
        "b": state("B", mediation={"policy": policy}),
    }


def test_offers_follow_strikes_and_a_refusal_costs_pressure_and_waits_out_the_cooldown():
    model = run(
        scenario(
            third_parties=MEDIATOR, mechanisms={"third_parties": True}, actors=answering("refuse")
        )
    )
    offers = [t for t in trace(model) if t[2] in ("offer", "refuse")]
    assert offers[:6] == [
        (2, 2, "offer", "m", None),  # at the end of the day of b's strike
        (2, 2, "refuse", "a", None),
        (2, 2, "refuse", "b", None),
        (6, 2, "offer", "m", None),  # day 4's strike falls in the cooldown (days 3 and 4)
        (6, 2, "refuse", "a", None),
        (6, 2, "refuse", "b", None),
    ]
    mediator = model.third_parties["m"]
    rows = np.array([0])
    crisis = model.crisis_of("a")[0]
    assert mediator.pressure_on("a", rows)[0] == pytest.approx(0.5 * (0.1 + 0.05 * crisis + 0.3))


def test_accepted_talks_end_in_a_ceasefire_that_settles_what_was_owed():
    model = run(
        scenario(
            third_parties=MEDIATOR, mechanisms={"third_parties": True}, actors=answering("accept")
        )
    )
    assert trace(model) == [
        (0, 0, "strike", "a", 5),
        (1, 0, "conciliate", "a", 0),
        (2, 0, "strike", "b", 5),
        (2, 2, "offer", "m", None),
        (2, 2, "accept_party", "a", None),
        (2, 2, "accept_party", "b", None),
        (2, 2, "accept", "m", None),
        (3, 0, "conciliate", "b", 0),
        (3, 2, "agreement", "m", None),
    ]
    assert model.tally.ceasefire_day[0] == 3 and model.tally.calm_day[0] == 3


def test_a_strike_breaks_a_ceasefire_and_collapses_talks():
    events = [
        {"day": -1, "type": "ceasefire", "between": ["a", "b"]},
        {"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 5},
    ]
    model = run(scenario(events=events))
    assert "ceasefire_broken" in [t[2] for t in trace(model)]
    assert not model.pair("a", "b").ceasefire[0]


def test_no_offers_to_states_at_war_unless_the_scenario_says_so():
    war = [{"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 7}]
    rate = {"m": {**MEDIATOR["m"], "mediation": {**MEDIATOR["m"]["mediation"], "trigger_rung": 1}}}
    sc = scenario(third_parties=rate, mechanisms={"third_parties": True}, events=war)
    assert [t for t in trace(run(sc)) if t[2] == "offer"] == []
    rate["m"]["mediation"]["offer_at_war"] = True
    offers = scenario(third_parties=rate, mechanisms={"third_parties": True}, events=war)
    scripted = scenario(
        third_parties=rate,
        mechanisms={"third_parties": True},
        events=[*war, {"day": 5, "type": "offer", "third_party": "m"}],
    )
    assert [t[0] for t in trace(run(scripted)) if t[2] == "offer"] == [5]
    assert run(offers).pair("a", "b").at_war[0]


def test_joint_mediators_add_their_leverage():
    parties = {
        "m": {**MEDIATOR["m"], "mediation": {**MEDIATOR["m"]["mediation"], "joint_with": ["n"]}},
        "n": {"name": "N", "leverage": {"a": 0.25, "b": 1.0}},
    }
    model = EscalationModel(scenario(third_parties=parties, mechanisms={"third_parties": True}), 1)
    assert model.third_parties["m"].coalition_leverage("a") == pytest.approx(0.75)
    assert model.third_parties["m"].coalition_leverage("b") == pytest.approx(1.5)


def test_the_third_parties_switch_silences_pressure_protection_and_talks():
    model = run(scenario(third_parties=MEDIATOR, actors=answering("accept")))
    assert [t for t in trace(model) if t[2] == "offer"] == []
    rows = np.array([0])
    assert model.pressure_on("a", "b", rows)[0].tolist() == [0.0]
    assert model.protection_of("b", "a", rows).tolist() == [0.0]


def test_protection_is_a_third_partys_leverage_over_the_attacker_times_its_alignment():
    parties = {"p": {"name": "P", "leverage": {"a": 0.8}, "alignment": {"b": 0.5, "a": -1.0}}}
    model = EscalationModel(scenario(third_parties=parties, mechanisms={"third_parties": True}), 1)
    rows = np.array([0])
    assert model.protection_of("b", "a", rows).tolist() == [pytest.approx(0.4)]
    assert model.protection_of("a", "b", rows).tolist() == [0.0]


def test_beliefs_update_by_bayes_rule_and_the_switch_keeps_the_prior():
    actors = {
        "a": state("A", "strategic", resolve={"beta": [2, 2]}),
        "b": state("B", "strategic", resolve={"beta": [2, 2]}),
    }
    events = [{"day": 1, "type": "act", "actor": "a", "target": "b", "rung": 2}]
    model = EscalationModel(scenario(actors=actors, events=events, mechanisms={"beliefs": True}), 1)
    a, b = model.states["a"], model.states["b"]
    prior = b.belief["a"][0].copy()
    assert prior.tolist() == pytest.approx([0.2] * 5)
    # the likelihood of a's act under each of its resolve types, as a stood before day 1
    rows = np.array([0])
    options, terms, available = a.answer_model("b", rows, np.array([0]))
    from sim.model.decisions import ANSWER_TERMS

    likelihood = a.likelihood(options, terms, available, ANSWER_TERMS, np.array([0]))
    downgrade = options.labels.index("downgrade")
    model.step()
    expected = prior * likelihood[0, :, downgrade]
    assert b.belief["a"][0] == pytest.approx(expected / expected.sum(), rel=1e-6)
    off = EscalationModel(scenario(actors=actors, events=events), 1)
    off.step()
    assert off.states["b"].belief["a"][0].tolist() == pytest.approx([0.2] * 5)


def test_escalation_raises_a_belief_in_resolve_and_a_scripted_step_down_tells_nothing():
    actors = {
        "a": state("A", "strategic", resolve={"beta": [2, 2]}, cost=1.0),
        "b": state("B", "strategic", resolve={"beta": [2, 2]}),
    }
    # a answers b's protest with a downgrade (above what it received), then steps down by script
    events = [
        {"day": 0, "type": "act", "actor": "b", "target": "a", "rung": 1},
        {"day": 2, "type": "act", "actor": "a", "target": "b", "rung": 3},
        {"day": 4, "type": "conciliate", "actor": "a", "target": "b", "to_rung": 0},
    ]
    sc = scenario(
        actors=actors, events=events, mechanisms={"beliefs": True}, decision={"review_rate": 0.0}
    )
    model = EscalationModel(sc, 1)
    types = model.states["a"].types
    means = []
    for _ in range(4):
        model.step()
        means.append(float(model.states["b"].belief["a"][0] @ types))
    assert means[1] > types.mean()  # after the climb above what a received
    # a scripted step down is no decision: it carries no likelihood, and nothing is learnt
    assert model.states["a"].posture["b"][0] == 0 and means[3] == means[2]


def test_a_strategic_step_back_to_the_baseline_lowers_the_belief_in_resolve():
    """A state that reviews its strike and steps down by its own choice is read by Bayes' rule:
    going back to the baseline is likelier from a state of little resolve, so the observer's
    belief falls. (A one-rung step from a high posture can raise it instead: a state of little
    resolve would more likely have gone all the way, as docs/model.md says.)"""
    actors = {
        "a": state("A", "strategic", resolve={"beta": [2, 2]}, cost=3.0),
        "b": state("B", "strategic", resolve={"beta": [2, 2]}),
    }
    events = [{"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 5, "answered": True}]
    sc = scenario(
        actors=actors,
        events=events,
        mechanisms={"beliefs": True},
        decision={"review_rate": 1.0},
        horizon=10,
    )
    worlds = 60
    model = EscalationModel(sc, list(range(worlds)), record=True)
    types = model.states["a"].types
    moves: dict[str, list[bool]] = {"step back to the baseline": [], "step down one rung": []}
    for _ in range(10):
        before = model.states["b"].belief["a"] @ types
        seen = [len(events) for events in model.events]
        model.step()
        after = model.states["b"].belief["a"] @ types
        for world in range(worlds):
            for event in model.events[world][seen[world] :]:
                if event.kind == "conciliate" and event.choice is not None:
                    label = event.choice.labels[event.choice.chosen]
                    moves[label].append(bool(after[world] < before[world]))
    baseline = moves["step back to the baseline"]
    assert len(baseline) >= 10 and all(baseline)
    assert any(moves["step down one rung"]) and not all(moves["step down one rung"])


def test_a_pledge_costs_its_audience_cost_when_not_carried_out_and_the_adversary_sees_it():
    strategic = {
        "a": state("A", "strategic", audience_cost=1.0),
        "b": state("B", "strategic", audience_cost=1.0),
    }
    pledge = [
        {"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 5},
        {"day": 0, "type": "pledge", "actor": "b", "target": "a"},
    ]
    sc = scenario(actors=strategic, events=pledge, mechanisms={"commitments": True})
    model = EscalationModel(sc, 1)
    rows = np.array([0])
    b = model.states["b"]
    _, terms, _ = b.answer_model("a", rows, np.array([5]))
    assert terms["commitment"][0, 0] == pytest.approx(-1.0)  # not answering breaks the pledge
    # a predicts b's answer with the pledge in view: the harm it expects is higher
    with_pledge = b.predicted_answer("a", rows)[0]
    b.pledge["a"][0] = False
    without = b.predicted_answer("a", rows)[0]
    assert (with_pledge[0, 1:7] >= without[0, 1:7]).all() and (with_pledge > without).any()
    off = EscalationModel(scenario(actors=strategic, events=pledge), 1)
    assert not off.states["b"].pledge["a"][0]


def test_the_nuclear_shadow_falls_only_on_acts_against_a_nuclear_armed_adversary():
    sc = scenario(
        actors={"a": state("A", "strategic"), "b": state("B", "strategic", nuclear=True)},
        mechanisms={"nuclear": True},
    )
    model = EscalationModel(sc, 1)
    rows = np.array([0])
    options, terms_a, _ = model.states["a"].answer_model("b", rows, np.array([5]))
    _, terms_b, _ = model.states["b"].answer_model("a", rows, np.array([5]))
    shadowed = options.rung >= 6
    assert not terms_a["nuclear"][0, ~shadowed].any()
    assert terms_a["nuclear"][0, shadowed].tolist() == [-2.0, -4.0, -2.0]  # 6, war, announced 6
    assert terms_b["nuclear"][0].tolist() == [0.0] * terms_b["nuclear"].shape[1]
    off = EscalationModel(
        scenario(actors=sc.model_dump()["actors"], mechanisms={"nuclear": False}), 1
    )
    _, terms, _ = off.states["a"].answer_model("b", rows, np.array([5]))
    assert not terms["nuclear"].any()


def test_warnings_switch_adds_or_removes_announced_strikes():
    on = EscalationModel(scenario(mechanisms={"warnings": True}), 1)
    off = EscalationModel(scenario(mechanisms={"warnings": False}), 1)
    assert on.states["a"].answers["b"].announced.any()
    assert not off.states["a"].answers["b"].announced.any()


def test_a_strategic_state_reacts_at_once_and_answers_later():
    b = state("B", "strategic", retaliation={"delay": 3, "reaction_delay": 0})
    model = run(scenario(actors={"b": b}, mechanisms={"reactions": True}), seed=3)
    kinds = [(t[0], t[2]) for t in trace(model) if t[3] == "b"][:2]
    assert kinds[0][0] == 1 and kinds[0][1] in ("act", "no_reaction")
    assert [t for t in trace(model) if t[3] == "b" and t[2] in ("strike", "let_go", "act")][-1][
        0
    ] >= 3
    quiet = run(scenario(actors={"b": b}), seed=3)
    assert not [t for t in trace(quiet) if t[2] in ("no_reaction",)]


def test_with_misreading_and_noise_off_a_resolute_state_still_answers_above_the_level_received():
    """Escalation is a choice: a resolved state that believes its adversary will back down
    answers higher than it was hit (Fearon 1995), with no misreading and no error."""
    sc = load_scenario(
        BASELINE,
        {
            "decision.rationality": float("inf"),
            "mechanisms.misperception": False,
            "actors.pakistan.resolve": {"beta": [8, 2]},
            "actors.pakistan.cost": 1.5,
        },
    )
    model = EscalationModel(sc, run_seeds(9, 0, 400), record=True)
    model.run()
    above = 0
    for events in model.events:
        for event in events:
            choice = event.choice
            if choice is None or choice.kind != "answer" or event.kind not in ("strike", "act"):
                continue
            received = max(
                (
                    e.rung or 0
                    for e in events
                    if e.target == event.actor
                    and e.day <= event.day
                    and e.kind in ("strike", "act", "blame")
                ),
                default=0,
            )
            above += event.rung > received
    assert above > 0


def test_war_through_miscalculation_was_the_flat_cost_of_breaking_a_ceasefire():
    """The model review (§5.2): with cheap force, no misreading and every state choosing its
    best option, model 2's wars all began during an agreed ceasefire, where breaking it cost a
    flat ``ceasefire_break`` whatever the act, so war cost no more than a small strike. With
    talks under fire (model 3) breaking a ceasefire costs in proportion to the act, and those
    wars are gone: the claim of war from private information alone does not hold here."""
    wars = {}
    for under_fire in (False, True):
        sc = load_scenario(
            BASELINE,
            {
                "decision.rationality": float("inf"),
                "mechanisms.misperception": False,
                "mechanisms.talks_under_fire": under_fire,
                "mechanisms.operations": False,  # model 2 but for the mechanism under test
                "mechanisms.sticky_measures": False,
                "actors.pakistan.cost": 0.5,
                "actors.iran.cost": 0.5,
            },
        )
        model = EscalationModel(sc, run_seeds(9, 0, 600), record=True)
        model.run()
        wars[under_fire] = [
            event
            for events in model.events
            for event in events
            if event.choice is not None and event.rung == sc.ladder.war and event.kind == "strike"
        ]
    assert len(wars[False]) >= 5
    for event in wars[False]:
        choice = event.choice
        assert choice.probability[choice.chosen] == 1.0  # its best option, no error
        assert event.details["ceasefire"] is True  # begun during an agreed ceasefire
        assert choice.terms[choice.chosen]["ceasefire"] == -sc.decision.ceasefire_break
    assert wars[True] == []
