"""`run.py sweep` on the real model: files, resume, outcomes, bad input."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.analysis import statistics as analysis
from sim.analysis.outcomes import outcome
from sim.cli.main import main
from sim.experiments.ensemble import PointEvaluator, run_ensemble
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
    assert {"answer_7d", "answer_7d_low", "answer_7d_high", "sustained"} <= set(table.columns)
    assert "war" not in table.columns  # rare in the teaching scenarios: asked for by name
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
    from sim.experiments.sweep_definition import parse_sweep_block
    from sim.inputs.loader import read_sweep_block

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


SPLIT = (
    "split the sweep into several, each over part of a parameter's range and with its own "
    "--out folder"
)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--param", "actors.pakistan.audience_cost=0:1:100000000"],
            "error: parameter 'actors.pakistan.audience_cost': a range of 100,000,000 levels is "
            f"more than the 10,000,000 points a sweep may have: use fewer levels, or {SPLIT}\n",
        ),
        (
            [
                "--param",
                "actors.pakistan.audience_cost=0:1:5000",
                "--param",
                "actors.iran.cost=0:1:5000",
            ],
            "error: the grid design would have 25,000,000 points, and a sweep has at most "
            f"10,000,000: use fewer levels or samples, or {SPLIT}\n",
        ),
        (
            ["--design", "sobol", "--samples", str(2**40), "--param", "actors.iran.cost=0:1"],
            "error: the sobol design would have 3,298,534,883,328 points, and a sweep has at "
            f"most 10,000,000: use fewer levels or samples, or {SPLIT}\n",
        ),
    ],
)
def test_a_sweep_too_large_is_one_message_with_exit_2(capsys, tmp_path, args, message):
    assert main(["sweep", str(BASELINE), *args, "--out", str(tmp_path / "s")]) == 2
    assert capsys.readouterr().err == message
    assert not (tmp_path / "s").exists()


def test_a_sweep_block_too_large_is_one_message_with_exit_2(capsys, tmp_path):
    scenario = tmp_path / "huge.yaml"
    scenario.write_text(
        f"extends: {BASELINE}\n"
        "sweep:\n"
        "  design: sobol\n"
        f"  samples: {2**40}\n"
        "  parameters:\n"
        "    actors.iran.cost: {bounds: [0, 1]}\n"
    )
    assert main(["sweep", str(scenario), "--out", str(tmp_path / "s")]) == 2
    assert capsys.readouterr().err == (
        "error: the sobol design would have 3,298,534,883,328 points, and a sweep has at most "
        f"10,000,000: use fewer levels or samples, or {SPLIT}\n"
    )


def test_sampling_designs_take_bounds_on_the_command_line(capsys, tmp_path):
    args = ["--design", "lhs", "--samples", "4", "--param", "actors.pakistan.audience_cost=0.1:0.5"]
    assert main(["sweep", str(BASELINE), *args, *GRID[2:], "--out", str(tmp_path)]) == 0
    costs = pd.read_csv(tmp_path / "sweep.csv")["actors.pakistan.audience_cost"]
    assert len(costs) == 4 and costs.between(0.1, 0.5).all()


def test_an_out_that_cannot_be_a_folder_is_exit_2(capsys, tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("mine")
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(a_file)]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot use {a_file} as a sweep folder: it is a file; choose another --out\n"
    )
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(a_file / "x")]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot make the sweep folder {a_file / 'x'}: Not a directory; choose another "
        "--out\n"
    )
    assert a_file.read_text() == "mine"


def test_a_garbage_scheduler_address_is_exit_2_at_once(capsys, tmp_path):
    pytest.importorskip("distributed")
    args = [*GRID, "--executor", "dask", "--scheduler", "garbage", "--out", str(tmp_path)]
    assert main(["sweep", str(BASELINE), *args]) == 2
    assert capsys.readouterr().err == (
        "error: cannot reach a Dask scheduler at garbage (missing port number in address "
        "'garbage'); expected the address of a running scheduler, such as tcp://127.0.0.1:8786\n"
    )
    assert _stored(tmp_path) == 0


@pytest.mark.slow
def test_an_unreachable_scheduler_is_exit_2_within_seconds_and_no_traceback(tmp_path):
    pytest.importorskip("distributed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    command = [sys.executable, "-m", "sim", "sweep", str(BASELINE), *GRID]
    command += ["--executor", "dask", "--scheduler", address, "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: cannot reach a Dask scheduler at {address} (")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@pytest.mark.slow
def test_more_workers_than_points_start_one_process_a_point_and_say_so_under_v(capsys, tmp_path):
    grid = [*GRID[:-1], "1000"]
    assert main(["sweep", str(BASELINE), *grid, "--out", str(tmp_path / "v"), "-v"]) == 0
    assert capsys.readouterr().err == (
        "note: using 3 worker processes rather than 1000: there are only 3 tasks\n"
    )
    assert main(["sweep", str(BASELINE), *grid, "--out", str(tmp_path / "plain")]) == 0
    assert capsys.readouterr().err == ""
    sweeps = [tmp_path / name / "sweep.csv" for name in ("v", "plain")]
    assert sweeps[0].read_bytes() == sweeps[1].read_bytes()


def _stored(out: Path) -> int:
    try:
        conn = sqlite3.connect(f"{(out / 'sweep.sqlite').resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM points").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _interrupt_after_a_point(command: list[str], out: Path) -> tuple[int, str]:
    """Run ``command``; once it has stored a point, Ctrl-C as a terminal sends it: SIGINT to
    its whole process group, workers included."""
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 300  # generous: a busy two-core machine starts pools slowly
    while _stored(out) < 1 and proc.poll() is None:
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the sweep stored no point within 300 s")
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode()


@pytest.mark.slow
def test_ctrl_c_saves_the_finished_points_exits_3_and_the_resume_completes(capsys, tmp_path):
    """`python run.py sweep` interrupted after its first point: exit 3, a sentence saying what
    was stored, and the rerun gives the bytes of an uninterrupted sweep."""
    grid = ["--param", "actors.pakistan.audience_cost=0:1:5", "--runs", "4000", "--workers", "2"]
    reference = tmp_path / "reference"
    assert main(["sweep", str(BASELINE), *grid, "--out", str(reference)]) == 0
    capsys.readouterr()
    out = tmp_path / "interrupted"
    command = [sys.executable, "-m", "sim", "sweep", str(BASELINE), *grid, "--out", str(out)]
    code, err = _interrupt_after_a_point(command, out)
    stored = _stored(out)
    assert code == 3, err[-2000:]
    assert 1 <= stored < 5
    assert err == (
        f"Interrupted: {stored} of 5 points are stored in {out}/ (sweep.csv lists them); rerun "
        "the same command to resume.\n"
    )
    assert len((out / "sweep.csv").read_text().splitlines()) == 1 + stored
    assert main(["sweep", str(BASELINE), *grid, "--out", str(out)]) == 0
    assert f"{stored} already finished (skipped)" in capsys.readouterr().out
    assert (out / "sweep.csv").read_bytes() == (reference / "sweep.csv").read_bytes()


@pytest.mark.slow
def test_ctrl_c_on_a_dask_sweep_prints_no_worker_traceback(tmp_path):
    pytest.importorskip("distributed")
    grid = ["--param", "actors.pakistan.audience_cost=0:1:5", "--runs", "4000", "--workers", "2"]
    out = tmp_path / "dask"
    command = [sys.executable, "-m", "sim", "sweep", str(BASELINE), *grid, "--executor", "dask"]
    code, err = _interrupt_after_a_point([*command, "--out", str(out)], out)
    assert code == 3
    assert err.startswith(f"Interrupted: {_stored(out)} of 5 points are stored in {out}/")
    assert "Traceback" not in err


def test_a_point_interrupted_between_its_chunks_is_not_stored(tmp_path, monkeypatch):
    """Ctrl-C while a point's ensemble has finished some chunks: the point is not stored as if
    those first runs were all its runs, so the resume gives the uninterrupted numbers."""
    from sim.experiments import ensemble as runner
    from sim.experiments.sweep_definition import SweepDefinition, parse_params
    from sim.experiments.sweep_execution import run_sweep
    from sim.experiments.sweep_store import load_results

    base = load_scenario(BASELINE, {"horizon": 20}).model_dump(mode="json")
    definition = SweepDefinition(
        parameters=parse_params(["actors.pakistan.audience_cost=0:1:2"]),
        runs=200,
        seed=3,
        outcomes=("answer_7d",),
    )
    evaluate = PointEvaluator(base, ("answer_7d",))
    run_sweep(definition, evaluate, tmp_path / "reference")
    monkeypatch.setattr(runner, "CHUNK_RUNS", 50)  # four chunks a point
    calls = {"n": 0}
    real = runner.simulate

    def interrupted_in_the_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:  # the second point's third chunk
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "simulate", interrupted_in_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(definition, evaluate, tmp_path / "interrupted")
    assert load_results(tmp_path / "interrupted")["point"].tolist() == [0]
    monkeypatch.setattr(runner, "simulate", real)
    assert run_sweep(definition, evaluate, tmp_path / "interrupted").evaluated == 1
    assert (tmp_path / "interrupted" / "sweep.csv").read_bytes() == (
        tmp_path / "reference" / "sweep.csv"
    ).read_bytes()


def test_a_folder_in_use_is_exit_2_and_a_dead_holder_never_blocks(capsys, tmp_path):
    from sim.files.folders import folder_lock, real_path

    tmp_path.mkdir(exist_ok=True)
    with folder_lock(real_path(tmp_path)):  # another command, alive (this process)
        assert main(["sweep", str(BASELINE), *GRID, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path} is in use by another run (pid {os.getpid()}); wait for it to finish, "
        "or choose another --out\n"
    )
    subprocess.run(  # a command killed while it held the lock
        [
            sys.executable,
            "-c",
            "import os, signal, sys\nfrom pathlib import Path\n"
            "from sim.files.folders import folder_lock, real_path\n"
            "with folder_lock(real_path(Path(sys.argv[1]))):\n"
            "    os.kill(os.getpid(), signal.SIGKILL)",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(tmp_path)]) == 0
    assert "note:" not in capsys.readouterr().err


def test_a_sweep_never_replaces_a_run_without_force_and_keeps_it_even_then(capsys, tmp_path):
    out = tmp_path / "out"
    assert (
        main(["run", str(BASELINE), "--runs", "20", "--workers", "1", "--out", str(out), "-q"]) == 0
    )
    runs = (out / "runs.csv").read_bytes()
    capsys.readouterr()
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: {out} holds another kind of result (ensemble), not this command's (sweep); "
        "choose another --out, or add --force to replace it (it is kept in out.previous beside "
        "it)\n"
    )
    assert (out / "runs.csv").read_bytes() == runs
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(out), "--force"]) == 0
    assert (tmp_path / "out.previous" / "runs.csv").read_bytes() == runs
    assert (out / "sweep.csv").is_file()
    capsys.readouterr()
    # and the other way round: a run refuses the sweep's folder
    assert main(["run", str(BASELINE), "--runs", "20", "--workers", "1", "--out", str(out)]) == 2
    assert "holds another kind of result (sweep)" in capsys.readouterr().err


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "where",
    [
        "sim.experiments.sweep_execution.export_csv",  # in run_sweep, its last export
        "sim.experiments.sweep_store.load_results",  # reading the stored sweep back
        "sim.views.sweep_plots.draw_sweep",  # drawing the figures
    ],
)
def test_ctrl_c_after_every_point_is_stored_says_so_and_exits_3(
    capsys, tmp_path, monkeypatch, where
):
    """Interrupted once all the points are stored, wherever it lands: not 'nothing was
    written' and 130, but what was kept and exit 3 (interrupted after saving part of its
    results); the rerun evaluates nothing and writes what was missing."""
    module, name = where.rsplit(".", 1)
    with monkeypatch.context() as patch:
        patch.setattr(f"{module}.{name}", _interrupt)
        code = main(["sweep", str(BASELINE), *GRID, "--out", str(tmp_path), "--json"])
    assert code == 3
    captured = capsys.readouterr()
    assert captured.err == (
        f"Interrupted: all 3 points are stored in {tmp_path}/ (sweep.csv lists them), but the "
        "indices and figures may not all be written; rerun the same command to write them (no "
        "point is evaluated again).\n"
    )
    report = json.loads(captured.out[captured.out.index("{") :])
    assert report == {
        "ok": False,
        "interrupted": True,
        "folder": str(tmp_path),
        "stored_points": 3,
        "complete": True,
        "exit_code": 3,
    }
    assert _stored(tmp_path) == 3
    assert main(["sweep", str(BASELINE), *GRID, "--out", str(tmp_path)]) == 0
    assert "3 already finished (skipped); 0 evaluated" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "sweep.csv")) == 3
    assert (tmp_path / "response_actors.pakistan.audience_cost.png").is_file()
