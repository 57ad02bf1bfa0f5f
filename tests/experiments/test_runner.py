"""The Monte Carlo runner: identical results for any worker count, replayable runs, Ctrl-C."""

from __future__ import annotations

import logging
import multiprocessing

import pandas as pd
import pytest

from sim import load_scenario, run_ensemble
from sim.analysis.story import run_story
from sim.experiments import ensemble as runner
from sim.experiments import execution
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


def test_results_are_byte_identical_for_any_chunk_size_and_worker_count(tmp_path):
    from sim.files import folders

    files = []
    # one world per model is the extreme (each run its own model): 60 runs keep it to seconds
    for chunk, workers in ((None, 1), (1, 1), (7, 2), (16, 2), (60, 1)):
        ensemble = run_ensemble(SCENARIO, runs=60, seed=5, workers=workers, chunk=chunk)
        out = tmp_path / f"{chunk}-{workers}"
        out.mkdir()
        folders.write_table(ensemble.runs, out / "runs.csv")
        folders.write_table(ensemble.occupancy, out / "occupancy.csv")
        files.append(((out / "runs.csv").read_bytes(), (out / "occupancy.csv").read_bytes()))
    assert all(f == files[0] for f in files)


def test_chunks_are_equal_and_as_large_as_allowed():
    assert runner.chunk_size(1000, 1) == 1000
    assert runner.chunk_size(100_000, 1) == 50_000
    assert runner.chunk_size(100_000, 2) == 50_000
    assert runner.chunk_size(200_000, 2) == 50_000
    assert runner.chunk_size(3, 8) == 1


def test_more_runs_extend_an_ensemble_without_changing_its_first_runs():
    small = run_ensemble(SCENARIO, runs=120, seed=9, workers=1)
    large = run_ensemble(SCENARIO, runs=300, seed=9, workers=1)
    pd.testing.assert_frame_equal(small.runs, large.runs.iloc[:120])


def test_a_run_replays_from_its_seed():
    ensemble = run_ensemble(SCENARIO, runs=50, seed=3, workers=1)
    for row in ensemble.runs.iloc[:10].itertuples():
        model = run_story(SCENARIO, int(row.seed))
        assert model.rung_array().max() == row.highest_rung
        assert model.rung_array()[-1].tolist() == [
            row.final_posture_iran,
            row.final_posture_pakistan,
        ]


def test_target_halfwidth_adds_runs_until_reached():
    ensemble = run_ensemble(SCENARIO, runs=100, seed=2, workers=1, target_halfwidth=0.04)
    assert ensemble.metadata["halfwidth_reached"] <= 0.04
    assert ensemble.metadata["target_met"] is True
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
    ensemble = run_ensemble(SCENARIO, runs=500, seed=1, workers=1, chunk=100)
    assert ensemble.interrupted
    assert ensemble.batch.runs == 200
    assert ensemble.metadata["runs_requested"] == 500


def test_metadata_records_how_the_results_were_made():
    meta = run_ensemble(SCENARIO, runs=10, seed=1, workers=1).metadata
    assert meta["seed"] == 1 and meta["runs"] == 10
    assert meta["scenario"]["horizon"] == 30
    assert set(meta["versions"]) >= {"python", "mesa", "numpy", "scipy", "pandas"}
    assert meta["interrupted"] is False


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"runs": 0}, "runs must be from 1 to 10,000,000, got 0"),
        ({"workers": 0}, "workers must be from 1 to 4,096, got 0"),
        ({"chunk": 0}, "chunk must be at least 1, got 0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as caught:
        run_ensemble(SCENARIO, **kwargs)
    assert str(caught.value) == message


def _ensemble_in_a_pool_worker(runs: int) -> int:
    return int(run_ensemble(SCENARIO, runs=runs, seed=3).batch.runs)


def test_the_api_runs_in_the_calling_process_so_it_works_inside_any_pool():
    """A daemonic pool worker may not start processes: the default of one worker never does."""
    assert run_ensemble(SCENARIO, runs=20, seed=3).metadata["workers"] == 1
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_ensemble_in_a_pool_worker, (30,)) == 30


def test_only_the_outcomes_asked_for():
    whole = run_ensemble(SCENARIO, runs=200, seed=4)
    quick = run_ensemble(SCENARIO, runs=200, seed=4, outcomes=["war", "answer_7d"])
    assert quick.summary["outcome"].tolist() == ["war", "answer_7d"]
    assert quick.curves.empty and quick.occupancy.empty
    assert quick.estimates == {name: whole.estimates[name] for name in ("war", "answer_7d")}
    pd.testing.assert_frame_equal(quick.runs, whole.runs)
    with pytest.raises(ValueError, match="unknown outcome 'boom'"):
        run_ensemble(SCENARIO, runs=10, outcomes=["boom"])


def test_a_target_beyond_the_cap_is_reported_as_not_met():
    capped = run_ensemble(SCENARIO, runs=100, seed=2, target_halfwidth=0.001, max_runs=150)
    assert capped.batch.runs == 150
    assert capped.metadata["target_met"] is False
    assert capped.metadata["halfwidth_reached"] > 0.001
    plain = run_ensemble(SCENARIO, runs=100, seed=2)
    assert plain.metadata["target_met"] is None


def test_more_workers_than_work_start_no_more_processes_than_chunks(caplog):
    caplog.set_level(logging.INFO, logger="sim")
    many = run_ensemble(SCENARIO, runs=3, seed=5, workers=1000)
    assert many.metadata["workers"] == 3
    assert caplog.messages == ["using 3 worker processes rather than 1000: there are only 3 tasks"]
    pd.testing.assert_frame_equal(many.runs, run_ensemble(SCENARIO, runs=3, seed=5).runs)


def test_an_executor_made_by_the_caller_gives_the_same_runs():
    with execution.executor(workers=2) as pool:
        shared = run_ensemble(SCENARIO, runs=250, seed=5, workers=2, chunk=50, pool=pool)
    pd.testing.assert_frame_equal(shared.runs, run_ensemble(SCENARIO, runs=250, seed=5).runs)


def test_run_says_when_its_target_halfwidth_was_not_met(capsys, tmp_path, monkeypatch):
    from sim.cli.main import main

    monkeypatch.setattr(runner, "MAX_TARGET_RUNS", 150)
    args = ["--runs", "100", "--target-halfwidth", "0.001", "--workers", "1", "--seed", "2"]
    assert main(["run", str(BASELINE), *args, "--set", "horizon=30", "--out", str(tmp_path)]) == 0
    widest = run_ensemble(SCENARIO, runs=150, seed=2).metadata["halfwidth_reached"]
    assert (
        "note: --target-halfwidth 0.001: stopped at the cap of 150 runs with the widest 95% CI "
        f"half-width at {widest:.2%}; the target was not met\n"
    ) in capsys.readouterr().err
