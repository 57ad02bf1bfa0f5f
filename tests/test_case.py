"""The baseline replays the January 2024 crisis as the case file says a replay should.

Each check is a seeded ensemble of the Mesa model. A check passes when the 95% Wilson interval of
the estimate lies entirely on the side the case file states, so a pass is not luck of the seed:
with these run counts the intervals are about +-4 points wide, far from the thresholds.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import EscalationModel, load_scenario
from sim.analysis import wilson_interval
from sim.runner import run_ensemble, run_seeds
from tests.conftest import SCENARIOS

pytestmark = pytest.mark.slow

POST_1945_WAR_RATE = 0.017  # case file: MID disputes after 1945 that reached war


def models(path, runs: int, seed: int, overrides=None) -> list[EscalationModel]:
    scenario = load_scenario(path, overrides)
    finished = []
    for run_seed in run_seeds(seed, 0, runs):
        model = EscalationModel(scenario, rng=np.random.default_rng(int(run_seed)))
        model.run()
        finished.append(model)
    return finished


def test_a_matching_pakistani_strike_within_days_is_likely():
    runs = models(SCENARIOS / "jan2024_baseline.yaml", 600, seed=11)
    strike_days = [
        next((e.day for e in m.events if e.kind == "strike" and e.actor == "pakistan"), None)
        for m in runs
    ]
    within_four = sum(day is not None and day <= 4 for day in strike_days)
    low, _ = wilson_interval(within_four, len(runs))
    assert low > 1 / 3, "a Pakistani strike within four days should be likely, not a freak"
    assert np.median([d for d in strike_days if d is not None]) <= 3


def test_with_mediation_accepted_calm_returns_within_two_weeks_and_war_is_rare():
    scenario = load_scenario(SCENARIOS / "jan2024_mediation_accepted.yaml")
    runs = run_ensemble(scenario, runs=1000, seed=12, workers=1).runs
    calm = int((runs["days_to_calm"].fillna(999) <= 14).sum())
    calm_low, _ = wilson_interval(calm, len(runs))
    assert calm_low > 0.5, "return to rung 0 within two weeks should be the most likely outcome"
    wars = int((runs["highest_rung"] == scenario.ladder.war).sum())
    _, war_high = wilson_interval(wars, len(runs))
    assert war_high < POST_1945_WAR_RATE


def test_a_spoiler_attack_during_talks_is_usually_absorbed():
    # armed groups far more active, so that many attacks fall during mediation
    overrides = {
        "armed_groups.jaish_al_adl.daily_rate": 0.08,
        "armed_groups.bla_blf.daily_rate": 0.08,
    }
    absorbed = attacks = 0
    for model in models(SCENARIOS / "jan2024_mediation_accepted.yaml", 500, 13, overrides):
        accepted = [e.day for e in model.events if e.kind == "accept"]
        ended = [e.day for e in model.events if e.kind == "mediation_end"]
        talks = list(zip(accepted, ended + [model.config.horizon + 1], strict=False))
        for attack in (e for e in model.events if e.kind == "attack"):
            if not any(start < attack.day <= end for start, end in talks):
                continue
            attacks += 1
            answered = any(
                e.kind == "strike"
                and e.actor == attack.target
                and attack.day <= e.day <= attack.day + 7
                for e in model.events
            )
            absorbed += not answered
    assert attacks > 100
    low, _ = wilson_interval(absorbed, attacks)
    assert low > 0.5, f"{absorbed} of {attacks} spoiler attacks absorbed"
