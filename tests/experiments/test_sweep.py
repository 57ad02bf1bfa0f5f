"""Sweep definition, resumable store, executors and export, against toy evaluators.

The evaluators below are module-level so they pickle for process pools and
Dask; the kill test imports this file by name in a subprocess.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sim.experiments.axes import SweepError, Value
from sim.experiments.sweep import analyze_sweep
from sim.experiments.sweep_definition import SweepDefinition, parse_params, parse_sweep_block
from sim.experiments.sweep_execution import evaluate_point, run_sweep
from sim.experiments.sweep_store import (
    CSV_NAME,
    STORE_NAME,
    SweepStore,
    export_csv,
    load_definition,
    load_results,
)
from sim.files.folders import folder_lock, real_path, shown
from sim.inputs.errors import ResultsError

# --------------------------------------------------------------------------- #
# Toy evaluators (module level: picklable)
# --------------------------------------------------------------------------- #


def _binomial(p: float, runs: int, rng: np.random.Generator) -> tuple[float, float, float]:
    p = min(max(p, 0.0), 1.0)
    est = rng.binomial(runs, p) / runs
    half = 1.96 * math.sqrt(est * (1 - est) / runs)
    return (est, max(0.0, est - half), min(1.0, est + half))


def toy_evaluate(
    overrides: dict[str, Value], runs: int, seed_seq: np.random.SeedSequence
) -> dict[str, tuple[float, float, float]]:
    """Analytic escalation probabilities plus binomial Monte Carlo noise."""
    rng = np.random.default_rng(seed_seq)
    x = float(overrides.get("actors.pakistan.audience_cost", 0.5))
    m = float(overrides.get("third_parties.china.leverage.pakistan", 0.5))
    bump = 0.1 if overrides.get("actors.pakistan.retaliation.policy") == "escalate" else 0.0
    return {
        "answer_7d": _binomial(0.1 + 0.5 * x * (1 - 0.5 * m) + bump, runs, rng),
        "forces_30d": _binomial(0.05 + 0.3 * x * x + bump, runs, rng),
    }


def slow_toy_evaluate(
    overrides: dict[str, Value], runs: int, seed_seq: np.random.SeedSequence
) -> dict[str, tuple[float, float, float]]:
    """Same numbers as toy_evaluate, slowly (so a subprocess can be killed mid-sweep)."""
    time.sleep(0.08)
    return toy_evaluate(overrides, runs, seed_seq)


def flaky_evaluate(
    overrides: dict[str, Value], runs: int, seed_seq: np.random.SeedSequence
) -> dict[str, tuple[float, float, float]]:
    """Raises on one parameter value, like a model that rejects a scenario."""
    if overrides.get("actors.pakistan.audience_cost") == 0.4:
        raise ValueError("audience_cost 0.4 makes the\nmodel unhappy")
    return toy_evaluate(overrides, runs, seed_seq)


def linear_evaluate(
    overrides: dict[str, Value], runs: int, seed_seq: np.random.SeedSequence
) -> dict[str, tuple[float, float, float]]:
    """Deterministic f = 2 x0 + x1 + 0 x2 for end-to-end Sobol/Morris checks."""
    y = 2.0 * float(overrides["p.x0"]) + float(overrides["p.x1"]) + 0.0 * float(overrides["p.x2"])
    return {"y": (y, y, y)}


def grid_definition(runs: int = 200, seed: int = 1) -> SweepDefinition:
    """24-point grid over a numeric range, a values list and a categorical."""
    return SweepDefinition(
        parameters=parse_params(
            [
                "actors.pakistan.audience_cost=0:1:6",
                "third_parties.china.leverage.pakistan=0.2,0.8",
                "actors.pakistan.retaliation.policy=escalate,tit_for_tat",
            ]
        ),
        runs=runs,
        seed=seed,
        outcomes=("answer_7d", "forces_30d"),
        context={"scenario": "scenarios/jan2024_baseline.yaml"},
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored_points(out: Path) -> int:
    path = out / STORE_NAME
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM points").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


# --------------------------------------------------------------------------- #
# Definition and YAML block
# --------------------------------------------------------------------------- #


def test_yaml_block_and_cli_give_the_same_definition_hash() -> None:
    block = {
        "sweep": {
            "design": "grid",
            "runs": 200,
            "seed": 1,
            "outcomes": ["answer_7d", "forces_30d"],
            "parameters": {
                "actors.pakistan.audience_cost": {"range": [0, 1], "count": 6},
                "third_parties.china.leverage.pakistan": {"values": [0.2, 0.8]},
                "actors.pakistan.retaliation.policy": ["escalate", "tit_for_tat"],
            },
        }
    }
    d = parse_sweep_block(block, context={"scenario": "scenarios/jan2024_baseline.yaml"})
    assert d == grid_definition()
    assert d.hash() == grid_definition().hash()
    assert d.size() == 24
    assert SweepDefinition.from_json(json.loads(d.canonical_json())) == d
    # Knobs that do not affect a grid do not split the hash.
    assert dataclasses.replace(d, levels=6, second_order=True).hash() == d.hash()
    assert dataclasses.replace(d, runs=201).hash() != d.hash()


@pytest.mark.parametrize(
    ("block", "match"),
    [
        ({"parameters": {}}, r"sweep\.parameters: expected a non-empty mapping"),
        ({"parameters": {"a.b": [1]}, "desing": "grid"}, r"sweep\.desing: unknown key"),
        (
            {"parameters": {"a.b": [1]}, "design": "fractional"},
            r"sweep\.design: 'fractional' is unknown",
        ),
        ({"parameters": {"a.b": [1]}, "runs": 0}, r"sweep\.runs: expected an integer >= 1, got 0"),
        ({"parameters": {"a.b": [1]}, "seed": -1}, r"sweep\.seed: expected an integer >= 0"),
        ({"parameters": {"a.b": [1]}, "outcomes": 3}, r"sweep\.outcomes: expected a list"),
        ({"parameters": {"a.b": [1]}, "outcomes": ["p x"]}, r"outcome 'p x'"),
        ({"parameters": {"a.b": [0.1, 0.2]}, "design": "sobol", "samples": 64}, r"needs bounds"),
        ({"parameters": {"a.b": "0:1"}, "design": "sobol"}, r"the sobol design needs 'samples'"),
        (
            {"parameters": {"a.b": {"range": [0, 1], "count": 1}}},
            r"'a\.b': range count must be >= 2",
        ),
    ],
)
def test_yaml_block_errors(block: dict[str, object], match: str) -> None:
    with pytest.raises(SweepError, match=match) as ei:
        parse_sweep_block(block)
    assert "\n" not in str(ei.value)


def test_a_sweep_too_large_is_refused_before_anything_is_built() -> None:
    """25 million grid points, a Sobol base sample of 2**40, a range of 10**8 levels: each is
    one sentence saying the limit and how to go beyond it, with next to no memory used."""
    split = (
        "split the sweep into several, each over part of a parameter's range and with its own "
        "--out folder"
    )
    tracemalloc.start()
    try:
        with pytest.raises(SweepError) as grid:
            SweepDefinition(parameters=parse_params(["a.x=0:1:5000", "a.y=0:1:5000"]))
        with pytest.raises(SweepError) as sobol:
            parse_sweep_block(
                {"design": "sobol", "samples": 2**40, "parameters": {"a.x": "0:1", "a.y": "0:1"}}
            )
        with pytest.raises(SweepError) as levels:
            parse_params(["a.x=0:1:100000000"])
        with pytest.raises(SweepError) as block_levels:
            parse_sweep_block({"parameters": {"a.x": {"range": [0, 1], "count": 10**11}}})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # bytes: the levels and points were never made
    assert str(grid.value) == (
        "the grid design would have 25,000,000 points, and a sweep has at most 10,000,000: "
        f"use fewer levels or samples, or {split}"
    )
    assert str(sobol.value) == (
        "the sobol design would have 4,398,046,511,104 points, and a sweep has at most "
        f"10,000,000: use fewer levels or samples, or {split}"
    )
    assert str(levels.value) == (
        "parameter 'a.x': a range of 100,000,000 levels is more than the 10,000,000 points a "
        f"sweep may have: use fewer levels, or {split}"
    )
    assert "a range of 100,000,000,000 levels is more than" in str(block_levels.value)


def test_the_command_lines_design_applies_before_a_block_is_checked() -> None:
    """A block of bounds is no grid, but the command line may run it as one of the sampling
    designs (--design lhs --samples 4): its options are applied first."""
    block = {"parameters": {"a.x": "0.1:0.5", "a.y": {"bounds": [0, 1]}}}
    with pytest.raises(SweepError, match="grid"):
        parse_sweep_block(block)
    d = parse_sweep_block(block, chosen={"design": "lhs", "samples": 4})
    assert (d.design, d.size()) == ("lhs", 4)
    assert all(0.1 <= p["a.x"] <= 0.5 for p in d.points().points)


def test_evaluate_point_uses_the_point_seed_and_records_errors() -> None:
    r = evaluate_point(toy_evaluate, 3, {"actors.pakistan.audience_cost": 0.2}, 100, 9)
    again = toy_evaluate(
        {"actors.pakistan.audience_cost": 0.2}, 100, np.random.SeedSequence(9, spawn_key=(3,))
    )
    assert r.error is None and r.outcomes == again
    bad = evaluate_point(flaky_evaluate, 0, {"actors.pakistan.audience_cost": 0.4}, 100, 9)
    assert bad.outcomes is None
    assert bad.error == "ValueError: audience_cost 0.4 makes the model unhappy"
    assert bad.traceback and "flaky_evaluate" in bad.traceback
    missing = evaluate_point(toy_evaluate, 0, {}, 10, 9, outcomes=("p_nope",))
    assert missing.error is not None and "no outcome 'p_nope'" in missing.error


# --------------------------------------------------------------------------- #
# Running, resuming, refusing
# --------------------------------------------------------------------------- #


def test_run_writes_sorted_csv_and_rerun_skips_everything(tmp_path: Path, capsys) -> None:
    s = run_sweep(grid_definition(), toy_evaluate, tmp_path, progress=True)
    assert (s.total, s.evaluated, s.skipped, s.failed, s.complete) == (24, 24, 0, 0, True)
    bar = capsys.readouterr().err  # tqdm's bar: runs done of all, and points
    assert "4800/4800" in bar and "24/24 points" in bar
    lines = (tmp_path / CSV_NAME).read_text().splitlines()
    assert lines[0] == (
        "point,actors.pakistan.audience_cost,third_parties.china.leverage.pakistan,actors.pakistan.retaliation.policy,"
        "answer_7d,answer_7d_low,answer_7d_high,forces_30d,forces_30d_low,forces_30d_high,runs,error"
    )
    assert len(lines) == 25
    assert [int(line.split(",")[0]) for line in lines[1:]] == list(range(24))
    assert lines[1].startswith("0,0.0,0.2,escalate,")
    df = load_results(tmp_path)
    assert len(df) == 24 and df["runs"].eq(200).all() and df["error"].isna().all()
    assert ((df.answer_7d_low <= df.answer_7d) & (df.answer_7d <= df.answer_7d_high)).all()
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["definition_hash"] == grid_definition().hash()
    assert load_definition(tmp_path) == grid_definition()

    before = (tmp_path / CSV_NAME).read_bytes()
    s2 = run_sweep(grid_definition(), toy_evaluate, tmp_path)
    assert (s2.skipped, s2.evaluated) == (24, 0)
    assert "24 already finished (skipped)" in s2.message()
    assert (tmp_path / CSV_NAME).read_bytes() == before


def test_results_do_not_depend_on_order_or_partial_runs(tmp_path: Path) -> None:
    d = grid_definition()
    run_sweep(d, toy_evaluate, tmp_path / "full")
    # Store a few points out of order by hand, then let the sweep fill the rest.
    part = tmp_path / "part"
    pts = d.points().points
    with SweepStore.open(part, d) as store:
        for i in (17, 3, 9):
            store.record(
                evaluate_point(toy_evaluate, i, pts[i], d.runs, d.seed, d.outcomes), attempt=0
            )
    s = run_sweep(d, toy_evaluate, part)
    assert (s.skipped, s.evaluated) == (3, 21)
    assert (part / CSV_NAME).read_bytes() == (tmp_path / "full" / CSV_NAME).read_bytes()


def test_failing_point_is_recorded_and_the_rest_complete(tmp_path: Path) -> None:
    s = run_sweep(grid_definition(), flaky_evaluate, tmp_path)
    assert (s.evaluated, s.failed, s.finished) == (24, 4, 24)
    df = load_results(tmp_path)
    bad = df[df["actors.pakistan.audience_cost"] == 0.4]
    assert len(bad) == 4
    assert bad["error"].eq("ValueError: audience_cost 0.4 makes the model unhappy").all()
    assert bad["answer_7d"].isna().all()
    good = df[df["actors.pakistan.audience_cost"] != 0.4]
    assert good["error"].isna().all() and good["answer_7d"].notna().all()
    row = next(r for r in (tmp_path / CSV_NAME).read_text().splitlines() if "ValueError" in r)
    assert row.endswith(",,,,,,,200,ValueError: audience_cost 0.4 makes the model unhappy")

    # A rerun does not retry errors by default...
    assert run_sweep(grid_definition(), flaky_evaluate, tmp_path).evaluated == 0
    # ...retry_errors appends new attempts; with a fixed model they succeed, and
    # the result equals a clean sweep's because seeds depend on the index only.
    s3 = run_sweep(grid_definition(), toy_evaluate, tmp_path, retry_errors=True)
    assert (s3.evaluated, s3.failed) == (4, 0)
    clean = tmp_path / "clean"
    run_sweep(grid_definition(), toy_evaluate, clean)
    assert (tmp_path / CSV_NAME).read_bytes() == (clean / CSV_NAME).read_bytes()
    conn = sqlite3.connect(tmp_path / STORE_NAME)
    assert conn.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 28  # append-only history
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM points")
    conn.close()


def test_different_definition_is_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    run_sweep(grid_definition(), toy_evaluate, tmp_path)
    files = {p.name: _sha(p) for p in tmp_path.iterdir() if p.is_file()}
    other = dataclasses.replace(grid_definition(), runs=500)
    with pytest.raises(
        SweepError, match=r"holds a different sweep .*24 points.*another --out.*--force"
    ) as ei:
        run_sweep(other, toy_evaluate, tmp_path)
    assert "\n" not in str(ei.value)
    assert {p.name: _sha(p) for p in tmp_path.iterdir() if p.is_file()} == files
    # --force keeps the old sweep in the folder's one .previous (moved, not deleted), starts fresh
    s = run_sweep(other, toy_evaluate, tmp_path, force=True)
    assert s.evaluated == 24
    previous = tmp_path.parent / f"{tmp_path.name}.previous"
    assert {p.name: _sha(p) for p in previous.iterdir()} == files
    assert load_definition(tmp_path).runs == 500


def test_folder_in_use_is_refused(tmp_path: Path) -> None:
    with (
        SweepStore.open(tmp_path, grid_definition()),
        pytest.raises(SweepError) as caught,
    ):
        run_sweep(grid_definition(), toy_evaluate, tmp_path)
    assert str(caught.value) == (
        f"{tmp_path} is in use by another run (pid {os.getpid()}); wait for it to finish, or "
        "choose another --out"
    )


def lock_is_free(folder: Path) -> bool:
    try:
        with folder_lock(real_path(folder)):
            return True
    except ResultsError:
        return False


def test_the_lock_is_released_when_the_sweep_ends(tmp_path: Path) -> None:
    run_sweep(grid_definition(), toy_evaluate, tmp_path / "done")
    assert lock_is_free(tmp_path / "done")
    run_sweep(grid_definition(), toy_evaluate, tmp_path / "refused")
    with pytest.raises(SweepError, match="holds a different sweep"):
        run_sweep(
            dataclasses.replace(grid_definition(), runs=7), toy_evaluate, tmp_path / "refused"
        )
    assert lock_is_free(tmp_path / "refused")


_HOLD_AND_DIE = """
import os, signal, sys
sys.path[:0] = {paths!r}
import {module} as t
from sim.experiments.sweep_store import SweepStore
store = SweepStore.open(sys.argv[1], t.grid_definition())  # held until the kill
os.kill(os.getpid(), signal.SIGKILL)
"""


def _child_code(template: str) -> str:
    here = Path(__file__).resolve().parent
    return template.format(
        paths=[str(here), str(here.parent), *sys.path], module=Path(__file__).stem
    )


def test_a_sweep_killed_while_holding_its_lock_never_blocks_the_rerun(tmp_path: Path) -> None:
    died = subprocess.Popen(
        [sys.executable, "-c", _child_code(_HOLD_AND_DIE), str(tmp_path)],
        stderr=subprocess.PIPE,
    )
    _, err = died.communicate(timeout=120)
    assert died.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert lock_is_free(tmp_path)  # the kernel dropped the dead holder's lock
    s = run_sweep(grid_definition(), toy_evaluate, tmp_path)
    assert s.evaluated == 24


def test_empty_store_from_a_failed_start_is_replaced(tmp_path: Path) -> None:
    SweepStore.open(tmp_path, grid_definition()).close()  # e.g. scheduler was unreachable
    s = run_sweep(dataclasses.replace(grid_definition(), runs=300), toy_evaluate, tmp_path)
    assert s.evaluated == 24


@pytest.mark.parametrize("stub", ["empty file", "database without tables", "tables, no definition"])
def test_a_store_stub_never_blocks_the_next_attempt(tmp_path: Path, stub: str) -> None:
    path = tmp_path / STORE_NAME
    path.write_bytes(b"")
    if stub != "empty file":
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version = 1")  # a 4 KB database with nothing in it
        if stub == "tables, no definition":
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("CREATE TABLE points (idx INTEGER)")
        conn.commit()
        conn.close()
    s = run_sweep(grid_definition(), toy_evaluate, tmp_path)
    assert (s.evaluated, s.complete) == (24, True)
    assert load_definition(tmp_path) == grid_definition()


def test_a_failed_store_creation_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    def disk_full() -> str:
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(
            "sim.experiments.sweep_store.now", disk_full
        )  # while the new store is written
        with pytest.raises(SweepError) as caught:
            run_sweep(grid_definition(), toy_evaluate, tmp_path)
    assert str(caught.value) == (
        f"cannot create the sweep store {tmp_path / STORE_NAME} (database or disk is full); "
        "nothing was stored: make room or choose another --out, and rerun"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert run_sweep(grid_definition(), toy_evaluate, tmp_path).evaluated == 24


def test_temporary_files_left_by_a_kill_never_block_a_resume(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    run_sweep(grid_definition(), toy_evaluate, reference)
    out = tmp_path / "killed"
    out.mkdir()
    left = [f".{CSV_NAME}.k1ll3d.tmp", ".metadata.json.x7.tmp", f".{STORE_NAME}.q9.tmp"]
    for name in left:
        (out / name).write_text("half a file")
    s = run_sweep(grid_definition(), toy_evaluate, out)
    assert s.evaluated == 24
    assert sorted(p.name for p in out.iterdir()) == ["metadata.json", CSV_NAME, STORE_NAME]
    assert (out / CSV_NAME).read_bytes() == (reference / CSV_NAME).read_bytes()


def test_an_out_that_cannot_be_a_folder_is_one_sentence(tmp_path: Path) -> None:
    a_file = tmp_path / "sweep.txt"
    a_file.write_text("not a folder")
    cases = {
        a_file: f"cannot use {a_file} as a sweep folder: it is a file; choose another --out",
        a_file / "inside": (
            f"cannot make the sweep folder {a_file / 'inside'}: Not a directory; choose "
            "another --out"
        ),
        tmp_path / ("x" * 300): (
            f"cannot make the sweep folder {shown(tmp_path / ('x' * 300))}: the name is too long "
            "for the file system; choose another --out"
        ),
    }
    for out, message in cases.items():
        with pytest.raises(SweepError) as caught:
            run_sweep(grid_definition(), toy_evaluate, out)
        assert str(caught.value) == message
    assert a_file.read_text() == "not a folder"


def test_export_csv_standalone(tmp_path: Path) -> None:
    run_sweep(grid_definition(), toy_evaluate, tmp_path)
    before = (tmp_path / CSV_NAME).read_bytes()
    (tmp_path / CSV_NAME).unlink()
    assert export_csv(tmp_path).read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_outcomes_default_to_everything_returned(tmp_path: Path) -> None:
    d = dataclasses.replace(grid_definition(), outcomes=())
    run_sweep(d, toy_evaluate, tmp_path)
    header = (tmp_path / CSV_NAME).read_text().splitlines()[0].split(",")
    assert header[4:10] == [
        "answer_7d",
        "answer_7d_low",
        "answer_7d_high",
        "forces_30d",
        "forces_30d_low",
        "forces_30d_high",
    ]


# --------------------------------------------------------------------------- #
# Kill and resume
# --------------------------------------------------------------------------- #

_CHILD = """
import sys
sys.path[:0] = {paths!r}
import {module} as t
from sim.experiments.sweep_execution import run_sweep
try:
    run_sweep(t.grid_definition(), getattr(t, sys.argv[3]), sys.argv[1], workers=int(sys.argv[2]))
except KeyboardInterrupt:
    sys.exit(3)
"""


def stalling_toy_evaluate(
    overrides: dict[str, Value], runs: int, seed_seq: np.random.SeedSequence
) -> dict[str, tuple[float, float, float]]:
    """toy_evaluate, at once for the first four points (audience cost 0) and after a minute for
    the others: a sweep that is busy, with points stored, when a test stops it. A stalling point
    first touches the file ``SWEEP_STALLING`` names, the evidence that points are in flight."""
    if overrides["actors.pakistan.audience_cost"] != 0.0:
        marker = os.environ.get("SWEEP_STALLING")
        if marker:
            Path(marker).touch()
        time.sleep(60)
    return toy_evaluate(overrides, runs, seed_seq)


def _start_sweep(out: Path, workers: int, evaluate: str, points: int) -> subprocess.Popen[bytes]:
    """A sweep in a subprocess of its own session, once it has stored ``points`` points; a
    stalling point touches ``<out>.stalling`` (see ``stalling_toy_evaluate``)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _child_code(_CHILD), str(out), str(workers), evaluate],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SWEEP_STALLING": str(out.with_name(f"{out.name}.stalling"))},
    )
    deadline = time.monotonic() + 300  # generous: a busy two-core machine starts pools slowly
    while _stored_points(out) < points:
        if proc.poll() is not None:
            pytest.fail(f"sweep subprocess exited early: {proc.communicate()[1].decode()[-2000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"sweep subprocess stored fewer than {points} points in 300 s")
        time.sleep(0.02)
    return proc


def _workers_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _gone(pid: int) -> bool:
    """Dead: no such process, or a zombie its new parent has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait_until_gone(pids: list[int], deadline: float = 120) -> list[int]:
    """Wait, up to ``deadline`` seconds, for every process of ``pids`` to die; those alive."""
    end = time.monotonic() + deadline
    while not all(_gone(pid) for pid in pids) and time.monotonic() < end:
        time.sleep(0.05)
    return [pid for pid in pids if not _gone(pid)]


# workers=2 spawns a pool inside the killed process (~3 s more): slow-marked.
@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_killed_sweep_resumes_to_a_byte_identical_csv(tmp_path: Path, workers: int) -> None:
    reference = tmp_path / "reference"
    run_sweep(grid_definition(), toy_evaluate, reference)

    out = tmp_path / "killed"
    proc = _start_sweep(out, workers, "slow_toy_evaluate", 5)
    pool = _workers_of(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool workers
    proc.wait()
    assert _wait_until_gone(pool) == []  # a worker dying late still holds the inherited lock
    stored = _stored_points(out)
    assert 5 <= stored < 24, stored
    assert not (out / CSV_NAME).exists()  # killed before any export

    s = run_sweep(grid_definition(), toy_evaluate, out)
    assert s.skipped == stored and s.evaluated == 24 - stored
    assert (out / CSV_NAME).read_bytes() == (reference / CSV_NAME).read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_stops_a_sweep_at_once_and_keeps_every_finished_point(
    tmp_path: Path, workers: int
) -> None:
    """SIGINT while points are a minute from finishing: the sweep stops within seconds, its
    workers with it, keeps the four finished points (exported to sweep.csv), removes its lock,
    and the resume gives the uninterrupted sweep's bytes."""
    reference = tmp_path / "reference"
    run_sweep(grid_definition(), toy_evaluate, reference)
    out = tmp_path / "interrupted"
    proc = _start_sweep(out, workers, "stalling_toy_evaluate", 4)
    pool = _workers_of(proc.pid)
    assert len(pool) == (0 if workers == 1 else 2)
    stalling = out.with_name(f"{out.name}.stalling")
    deadline = time.monotonic() + 120
    while not stalling.exists():  # evidence that the next points are under way, not a sleep
        assert proc.poll() is None and time.monotonic() < deadline, "no point began to stall"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)  # not the 60 s a point in flight would take
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail("the sweep did not stop within 15 s of Ctrl-C")
    assert proc.returncode == 3, proc.communicate()[1].decode()[-2000:]
    assert all(_gone(pid) for pid in pool)
    assert _stored_points(out) == 4
    assert len((out / CSV_NAME).read_text().splitlines()) == 1 + 4
    assert lock_is_free(out)

    s = run_sweep(grid_definition(), toy_evaluate, out)
    assert (s.skipped, s.evaluated) == (4, 20)
    assert (out / CSV_NAME).read_bytes() == (reference / CSV_NAME).read_bytes()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_killing_only_the_main_process_ends_its_workers_and_the_resume_goes_on(
    tmp_path: Path, caplog
) -> None:
    """SIGKILL to the sweep's main process alone (as the OOM killer does): its pool workers die
    with it, and the kernel drops its lock, so the rerun resumes."""
    reference = tmp_path / "reference"
    run_sweep(grid_definition(), toy_evaluate, reference)
    out = tmp_path / "killed"
    proc = _start_sweep(out, 2, "stalling_toy_evaluate", 4)
    pool = _workers_of(proc.pid)
    assert len(pool) == 2
    proc.kill()
    proc.wait()
    alive = _wait_until_gone(pool, deadline=10)
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert alive == []
    assert lock_is_free(out)  # dropped with its dead holder

    s = run_sweep(grid_definition(), toy_evaluate, out)
    assert (s.skipped, s.evaluated) == (4, 20)
    assert (out / CSV_NAME).read_bytes() == (reference / CSV_NAME).read_bytes()


# --------------------------------------------------------------------------- #
# Executors
# --------------------------------------------------------------------------- #


def test_process_pool_matches_inline(tmp_path: Path) -> None:
    run_sweep(grid_definition(), toy_evaluate, tmp_path / "inline")
    s = run_sweep(grid_definition(), toy_evaluate, tmp_path / "pool", workers=2)
    assert s.evaluated == 24
    assert (tmp_path / "pool" / CSV_NAME).read_bytes() == (
        tmp_path / "inline" / CSV_NAME
    ).read_bytes()


def test_dask_local_cluster_matches_local_executor(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    run_sweep(grid_definition(), toy_evaluate, tmp_path / "local")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        s = run_sweep(
            grid_definition(),
            flaky_evaluate,
            tmp_path / "dask",
            executor="dask",
            scheduler=cluster.scheduler_address,
        )
        assert (s.evaluated, s.failed) == (24, 4)
        s = run_sweep(
            grid_definition(),
            toy_evaluate,
            tmp_path / "dask",
            executor="dask",
            scheduler=cluster.scheduler_address,
            retry_errors=True,
        )
        assert (s.skipped, s.evaluated) == (20, 4)
    assert (tmp_path / "dask" / CSV_NAME).read_bytes() == (
        tmp_path / "local" / CSV_NAME
    ).read_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler_is_a_one_line_error(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    addr = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    with pytest.raises(SweepError, match=f"cannot reach a Dask scheduler at {addr}") as ei:
        run_sweep(
            grid_definition(),
            toy_evaluate,
            tmp_path,
            executor="dask",
            scheduler=addr,
            connect_timeout=0.5,
        )
    assert time.monotonic() - t0 < 10
    assert "\n" not in str(ei.value)
    assert _stored_points(tmp_path) == 0 and not (tmp_path / CSV_NAME).exists()


def test_bad_executor_arguments(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="executor 'ray' is unknown"):
        run_sweep(grid_definition(), toy_evaluate, tmp_path, executor="ray")  # type: ignore[arg-type]
    with pytest.raises(SweepError, match="workers: expected an integer >= 1"):
        run_sweep(grid_definition(), toy_evaluate, tmp_path, workers=0)
    with pytest.raises(SweepError, match="--scheduler is only used with --executor dask"):
        run_sweep(grid_definition(), toy_evaluate, tmp_path, scheduler="tcp://127.0.0.1:1")
    assert not (tmp_path / STORE_NAME).exists()  # refused before touching the folder


# --------------------------------------------------------------------------- #
# Sensitivity sweeps end to end
# --------------------------------------------------------------------------- #


def test_sobol_sweep_end_to_end(tmp_path: Path) -> None:
    d = SweepDefinition(
        parameters=parse_params(["p.x0=0:1", "p.x1=0:1", "p.x2=0:1"]),
        design="sobol",
        samples=256,
        runs=1,
    )
    s = run_sweep(d, linear_evaluate, tmp_path)
    assert s.total == 256 * 5
    idx = analyze_sweep(d, load_results(tmp_path), "y")
    truth = np.array([0.8, 0.2, 0.0])  # a_i^2 var_i / sum: 4:1:0
    assert np.all(np.abs(idx["S1"].to_numpy() - truth) <= idx["S1_conf"].to_numpy() + 1e-3), idx
    with pytest.raises(SweepError, match="outcome 'nope' is not in the results"):
        analyze_sweep(d, load_results(tmp_path), "nope")


def test_morris_sweep_ranks_irrelevant_parameter_last(tmp_path: Path) -> None:
    d = SweepDefinition(
        parameters=parse_params(["p.x0=0:1", "p.x1=0:1", "p.x2=0:1"]),
        design="morris",
        samples=10,
        runs=1,
    )
    run_sweep(d, linear_evaluate, tmp_path)
    idx = analyze_sweep(d, load_results(tmp_path), "y")
    assert list(idx.sort_values("mu_star", ascending=False).index) == ["p.x0", "p.x1", "p.x2"]
    with pytest.raises(SweepError, match="need a sobol or morris design"):
        analyze_sweep(grid_definition(), load_results(tmp_path), "y")


def test_sobol_analysis_refuses_failed_points(tmp_path: Path) -> None:
    d = SweepDefinition(
        parameters=parse_params(["p.x0=0:1", "p.x1=0:1"]), design="sobol", samples=8, runs=1
    )
    run_sweep(d, toy_evaluate, tmp_path)  # the toy ignores p.x0 and p.x1: only the NaN matters
    df = load_results(tmp_path)
    df.loc[3, "answer_7d"] = float("nan")
    with pytest.raises(SweepError, match="1 of 32 have no finite outcome"):
        analyze_sweep(d, df, "answer_7d")
