"""The Mesa model: reproducibility, invariants and exact traces of simple, scripted crises."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from sim import EscalationModel, load_scenario
from sim.model import Event
from tests.conftest import BASELINE, ROOT, SCENARIOS

# A deterministic crisis: no fog, no restraint, no stepping down, no armed groups, no mediator.
CLOCKWORK = {
    "armed_groups": {},
    "mediators": {},
    **{
        f"actors.{state}.{key}": value
        for state in ("iran", "pakistan")
        for key, value in {
            "perception.error": 0.0,
            "restraint.climb_cost": 0.0,
            "restraint.economic_ties": 0.0,
            "restraint.outside_pressure": 0.0,
            "audience_cost": 0.0,
            "deescalation": 0.0,
            "retaliation.policy": "tit_for_tat",
        }.items()
    },
}


def run(overrides: dict | None = None, seed: int = 1, path: Path = BASELINE) -> EscalationModel:
    model = EscalationModel(load_scenario(path, overrides), rng=np.random.default_rng(seed))
    model.run()
    return model


def kinds(model: EscalationModel) -> list[tuple[int, str, str]]:
    return [(event.day, event.kind, event.actor) for event in model.events]


def test_same_seed_same_history_and_events():
    first, second = run(seed=7), run(seed=7)
    assert first.rung_history == second.rung_history
    assert first.events == second.events
    assert run(seed=8).events != first.events


def test_no_global_random_state_is_used():
    np.random.seed(1)
    random.seed(1)
    first = run(seed=3)
    np.random.seed(2)
    random.seed(2)
    assert run(seed=3).events == first.events
    for source in (ROOT / "sim").glob("*.py"):
        text = source.read_text()
        assert "import random" not in text and "np.random.seed" not in text, source


def test_history_covers_every_day_even_when_stopped_early():
    model = run(
        CLOCKWORK | {f"actors.{s}.retaliation.policy": "escalate" for s in ("iran", "pakistan")}
    )
    assert not model.running and model.day == 6  # war on day 6 settles everything
    assert len(model.rung_history) == model.config.horizon + 1
    assert model.rung_array().shape == (61, 2)


def test_tit_for_tat_answers_after_its_delay_and_stops():
    model = run(CLOCKWORK)
    # Iran struck on day 0; Pakistan answers in kind on day 2; Iran already stands at 4.
    assert [day["pakistan"] for day in model.rung_history[:4]] == [0, 0, 4, 4]
    assert all(day == {"iran": 4, "pakistan": 4} for day in model.rung_history[2:])
    assert kinds(model) == [
        (0, "initial", "iran"),
        (2, "strike", "pakistan"),
        (4, "stands", "iran"),
    ]


def test_escalate_climbs_a_rung_per_answer_to_war_which_is_absorbing():
    model = run(
        CLOCKWORK | {f"actors.{s}.retaliation.policy": "escalate" for s in ("iran", "pakistan")}
    )
    pakistan = [day["pakistan"] for day in model.rung_history]
    iran = [day["iran"] for day in model.rung_history]
    assert pakistan[:5] == [0, 0, 5, 5, 5]
    assert iran[:7] == [4, 4, 4, 4, 6, 6, 7]
    assert pakistan[6:] == [7] * 55 and iran[6:] == [7] * 55
    assert (6, "war", "pakistan") in kinds(model)
    assert not model.running


def test_full_restraint_holds_every_answer_back():
    overrides = CLOCKWORK | {"actors.pakistan.restraint.outside_pressure": 1.0}
    model = run(overrides)
    assert all(day["pakistan"] == 0 for day in model.rung_history)
    assert (2, "held_back", "pakistan") in kinds(model)


def test_calm_with_silent_groups_stays_calm_and_stops():
    overrides = {
        "initial_events": [],
        "actors.iran.initial_rung": 0,
        "armed_groups.jaish_al_adl.daily_rate": 0.0,
        "armed_groups.bla_blf.daily_rate": 0.0,
    }
    for seed in range(20):
        model = run(overrides, seed=seed)
        assert model.events == []
        assert model.rung_array().max() == 0
        assert model.day == 1


def test_rungs_stay_on_the_ladder_and_war_stays_war():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        for seed in range(40):
            rungs = run(path=path, seed=seed).rung_array()
            assert rungs.min() >= 0 and rungs.max() <= 7, path
            at_war = np.maximum.accumulate(rungs == 7, axis=0)
            assert (rungs[at_war] == 7).all(), (path, seed)


def test_forced_acceptance_with_full_effectiveness_calls_every_answer_off():
    overrides = CLOCKWORK | {
        "mediators": {
            "china": {
                "name": "China",
                "parties": ["iran", "pakistan"],
                "trigger_rung": 4,
                "duration": 30,
                "effectiveness": 1.0,
                "cooldown": 0,
            }
        },
        "interventions": [{"mediator": "china", "response": "accept"}],
    }
    model = run(overrides)
    assert kinds(model)[:4] == [
        (0, "initial", "iran"),
        (1, "offer", "china"),
        (1, "accept", "china"),
        (1, "step_down", "iran"),
    ]
    assert (2, "called_off", "pakistan") in kinds(model)
    assert all(day["pakistan"] == 0 for day in model.rung_history)


def test_refused_offers_are_repeated_after_the_cooldown():
    overrides = CLOCKWORK | {
        "actors.pakistan.retaliation.policy": "never",
        "mediators": {
            "china": {
                "name": "China",
                "parties": ["iran", "pakistan"],
                "trigger_rung": 4,
                "duration": 5,
                "effectiveness": 0.5,
                "cooldown": 3,
            }
        },
        "interventions": [{"mediator": "china", "response": "refuse"}],
    }
    model = run(overrides)
    offers = [e.day for e in model.events if e.kind == "offer"]
    assert offers[:3] == [1, 5, 9]
    assert {e.actor for e in model.events if e.kind == "refuse"} == {"iran", "pakistan"}


def test_scripted_offer_day():
    model = run(path=SCENARIOS / "jan2024_mediation_accepted.yaml")
    offers = [(e.day, e.kind) for e in model.events if e.kind in ("offer", "accept")]
    assert offers[:2] == [(3, "offer"), (3, "accept")]


def test_blamed_attacks_become_acts_of_the_host_state():
    overrides = CLOCKWORK | {
        "initial_events": [],
        "armed_groups": {
            "jaish_al_adl": {
                "name": "Jaish al-Adl",
                "based_in": "pakistan",
                "targets": "iran",
                "daily_rate": 50.0,
                "attack_rung": 3,
            }
        },
        "actors.iran.attribution": 1.0,
    }
    model = run(overrides)
    assert kinds(model)[:2] == [(1, "attack", "jaish_al_adl"), (1, "blame", "iran")]
    # Iran answers Pakistan, whom it blames, two days later at the attack's rung
    assert (3, "climb", "iran") in kinds(model)
    assert model.rung_history[3]["iran"] == 3
    unblamed = run(overrides | {"actors.iran.attribution": 0.0})
    assert unblamed.rung_array().max() == 0
    assert "not_blamed" in {e.kind for e in unblamed.events}


def test_strikes_cost_the_targeted_armed_group_capacity():
    model = EscalationModel(load_scenario(BASELINE), rng=np.random.default_rng(1))
    # Iran's initial strike at rung 4 on Pakistan hits Jaish al-Adl, based in Pakistan
    assert model.armed_groups["jaish_al_adl"].capacity == pytest.approx(0.7)
    assert model.armed_groups["bla_blf"].capacity == 1.0


def test_events_are_plain_words():
    model = run(CLOCKWORK)
    assert isinstance(model.events[0], Event)
    assert model.events[1].text == "Pakistan answers Iran: 'limited strike on non-state targets'"
