"""`run.py sweep` on the real model: files, resume, outcomes, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import analysis, load_scenario
from sim.cli import main
from sim.outcomes import outcome
from sim.runner import PointEvaluator, run_ensemble
from tests.conftest import BASELINE, ROOT

GRID = [
    "--param",
    "actors.pakistan.audience_cost=0:1:3",
    "--runs",
    "60",
    "--set",
    "horizon=20",
    "--workers",
    "1",
]


def test_sweep_writes_csv_plots_and_resumes(capsys, tmp_path):
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"3/3 points stored in {tmp_path}; 3 evaluated")
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert table["actors.pakistan.audience_cost"].tolist() == [0.0, 0.5, 1.0]
    assert {"answer_7d", "answer_7d_low", "answer_7d_high", "war"} <= set(table.columns)
    assert (tmp_path / "response_actors.pakistan.audience_cost.png").exists()
    first = (tmp_path / "sweep.csv").read_bytes()
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(tmp_path)]) == 0
    assert "3 already finished (skipped); 0 evaluated" in capsys.readouterr().out
    assert (tmp_path / "sweep.csv").read_bytes() == first


def test_a_point_is_an_ensemble_with_the_points_seed():
    base = load_scenario(BASELINE, {"horizon": 20}).model_dump(mode="json")
    evaluator = PointEvaluator(base, ("answer_7d", "rung5_20d"))
    seed_seq = np.random.SeedSequence(4, spawn_key=(2,))
    result = evaluator({"actors.iran.pledge": 0.9}, 80, seed_seq)
    scenario = load_scenario(BASELINE, {"horizon": 20, "actors.iran.pledge": 0.9})
    seed = int(seed_seq.generate_state(1, np.uint64)[0] >> 1)
    runs = run_ensemble(scenario, runs=80, seed=seed, workers=1).runs
    assert result == analysis.outcome_estimates(runs, ["answer_7d", "rung5_20d"], scenario)
    hits = int((runs["first_day_rung_5"] <= 20).sum())
    assert result["rung5_20d"][0] == pytest.approx(hits / 80)


def test_categorical_parameter_sweeps_policy_names(capsys, tmp_path):
    code = main(
        [
            "sweep",
            str(BASELINE),
            "--param",
            "actors.pakistan.retaliation.policy=never,escalate",
            "--runs",
            "60",
            "--outcome",
            "answer_7d",
            "--set",
            "horizon=10",
            "--workers",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert table["actors.pakistan.retaliation.policy"].tolist() == ["never", "escalate"]
    # a state that never answers never answers; one that escalates always does
    assert table["answer_7d"].tolist() == [0.0, 1.0]


def test_the_shipped_sensitivity_sweep_is_valid(capsys):
    from sim.loader import read_sweep_block
    from sim.sweep import parse_sweep_block

    path = ROOT / "scenarios" / "sweeps" / "sensitivity.yaml"
    definition = parse_sweep_block(read_sweep_block(path))
    assert definition.design == "sobol" and definition.size() == 256 * 8
    scenario = load_scenario(path)
    for point in definition.points().points[:5]:
        load_scenario(path, point)
    for name in definition.outcomes:
        outcome(name, scenario.horizon, scenario.ladder.war, list(scenario.actors))


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--param", "actors.pakistn.audience_cost=0:1:3"],
            "error: --param actors.pakistn: no such key in actors; did you mean 'pakistan'?",
        ),
        (
            ["--param", "actors.pakistan.audience_cost=0:1:1"],
            "error: parameter 'actors.pakistan.audience_cost': range count must be >= 2, got 1",
        ),
        (
            ["--param", "actors.pakistan.pledge=0:1.5:3"],
            "error: --param actors.pakistan.pledge: expected a number from 0 to 1, got 1.5",
        ),
        (
            ["--param", "actors.pakistan.audience_cost=0:1:3", "--outcome", "p_boom"],
            "error: --outcome: unknown outcome 'p_boom' (forms: answer_Nd, strike_Nd, ",
        ),
        ([], "has no sweep: block; say what to vary with --param KEY.PATH=SPEC"),
    ],
)
def test_bad_sweep_input(capsys, tmp_path, args, message):
    assert main(["sweep", str(BASELINE), *args, "--out", str(tmp_path / "s")]) == 2
    assert message in capsys.readouterr().err


def test_a_folder_from_another_sweep_is_refused_and_kept(capsys, tmp_path):
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(tmp_path)]) == 0
    before = (tmp_path / "sweep.csv").read_bytes()
    other = [*GRID[:1], "actors.pakistan.audience_cost=0:1:4", *GRID[2:]]
    assert main(["sweep", str(BASELINE), *other, "--out", str(tmp_path)]) == 2
    assert "holds a different sweep" in capsys.readouterr().err
    assert (tmp_path / "sweep.csv").read_bytes() == before


@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_sweep_csv(capsys, tmp_path):
    """The real model on a Dask LocalCluster of worker processes, as `--executor dask` starts it."""
    pytest.importorskip("distributed")
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(local)]) == 0
    grid = [*GRID[:-1], "2", "--executor", "dask", "--out", str(dask)]
    assert main(["sweep", str(BASELINE), *grid]) == 0
    assert capsys.readouterr().out.count("3/3 points stored") == 2
    assert (dask / "sweep.csv").read_bytes() == (local / "sweep.csv").read_bytes()
