"""The Monte Carlo runner: identical results for any worker count, replayable runs, Ctrl-C."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run_ensemble, runner
from sim.story import run_story
from tests.conftest import BASELINE

SCENARIO = load_scenario(BASELINE, {"horizon": 30})


def test_same_results_for_one_or_two_workers_and_on_rerun():
    one = run_ensemble(SCENARIO, runs=250, seed=5, workers=1)
    two = run_ensemble(SCENARIO, runs=250, seed=5, workers=2)
    again = run_ensemble(SCENARIO, runs=250, seed=5, workers=2)
    for name in ("runs", "curves", "occupancy", "summary"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name))
        pd.testing.assert_frame_equal(getattr(two, name), getattr(again, name))
    assert not run_ensemble(SCENARIO, runs=250, seed=6, workers=1).runs.equals(one.runs)


def test_run_seeds_come_from_spawned_seed_sequences():
    children = np.random.SeedSequence(42).spawn(3)
    expected = [int(c.generate_state(1, np.uint64)[0] >> 1) for c in children]
    assert runner.run_seeds(42, 0, 3).tolist() == expected
    assert runner.run_seeds(42, 1, 3).tolist() == expected[1:]


def test_more_runs_extend_an_ensemble_without_changing_its_first_runs():
    small = run_ensemble(SCENARIO, runs=120, seed=9, workers=1)
    large = run_ensemble(SCENARIO, runs=300, seed=9, workers=1)
    pd.testing.assert_frame_equal(small.runs, large.runs.iloc[:120])


def test_a_run_replays_from_its_seed():
    ensemble = run_ensemble(SCENARIO, runs=50, seed=3, workers=1)
    for row in ensemble.runs.iloc[:10].itertuples():
        model = run_story(SCENARIO, int(row.seed))
        assert model.rung_array().max() == row.highest_rung
        assert model.rung_array()[-1].tolist() == [row.final_rung_iran, row.final_rung_pakistan]


def test_target_halfwidth_adds_runs_until_reached():
    ensemble = run_ensemble(SCENARIO, runs=100, seed=2, workers=1, target_halfwidth=0.04)
    assert ensemble.metadata["halfwidth_reached"] <= 0.04
    assert ensemble.batch.runs > 100
    # the runs it made are the same as a plain ensemble of that size
    plain = run_ensemble(SCENARIO, runs=ensemble.batch.runs, seed=2, workers=1)
    pd.testing.assert_frame_equal(ensemble.runs, plain.runs)


def test_ctrl_c_keeps_the_finished_chunks(monkeypatch):
    calls = {"n": 0}
    real = runner.simulate

    def interrupted_on_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "simulate", interrupted_on_third_chunk)
    ensemble = run_ensemble(SCENARIO, runs=500, seed=1, workers=1)
    assert ensemble.interrupted
    assert ensemble.batch.runs == 2 * runner.CHUNK_RUNS["mesa"]
    assert ensemble.metadata["runs_requested"] == 500


def test_metadata_records_how_the_results_were_made():
    meta = run_ensemble(SCENARIO, runs=10, seed=1, workers=1).metadata
    assert meta["seed"] == 1 and meta["runs"] == 10 and meta["engine"] == "mesa"
    assert meta["scenario"]["horizon"] == 30
    assert set(meta["versions"]) >= {"python", "mesa", "numpy", "scipy", "pandas"}
    assert meta["interrupted"] is False


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"runs": 0}, "runs must be at least 1, got 0"),
        ({"workers": 0}, "workers must be at least 1, got 0"),
        ({"engine": "turbo"}, "unknown engine 'turbo' (choose from mesa, fast)"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as caught:
        run_ensemble(SCENARIO, **kwargs)
    assert str(caught.value) == message
