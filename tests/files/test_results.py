"""Results folders: written whole, one writer at a time, checked when read, and honest about
what a full disk or an interrupt cost (docs/results.md, "What a results folder guarantees")."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli.main import main
from sim.experiments.ensemble import run_ensemble
from sim.files import folders, results
from sim.files.results import load as load_results
from sim.inputs.errors import ResultsError
from sim.inputs.loader import load_scenario
from sim.views import report
from tests.conftest import BASELINE, ROOT

SMALL = ["--runs", "20", "--workers", "1", "--set", "horizon=10", "-q"]
"""A run of a few seconds: 20 runs of the baseline over 10 days."""
TABLE_FILES = ("runs.csv", "curves.csv", "occupancy.csv", "summary.csv")


DRAW = report.figures


@pytest.fixture(autouse=True)
def blank_figures(monkeypatch):
    """Blank figures under the real names: these tests are about files, not drawings
    (tests/test_plotting.py looks at the drawings)."""
    from matplotlib.figure import Figure

    def blank(saved, rungs=None):
        return {name: Figure(figsize=(1, 1)) for name in ("curves", "occupancy")}

    monkeypatch.setattr(report, "figures", blank)


def run(out: Path, *extra: str) -> int:
    return main(["run", str(BASELINE), *SMALL, "--out", str(out), *extra])


def table_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TABLE_FILES}


def beside(folder: Path) -> list[str]:
    """What lies beside a results folder, apart from it and its one previous result (a lock
    left behind would be listed: it is removed on release)."""
    return sorted(
        p.name
        for p in folder.parent.iterdir()
        if p.name not in (folder.name, f"{folder.name}.previous")
    )


# --------------------------------------------------------------------------- #
# The folder swap
# --------------------------------------------------------------------------- #


def test_a_run_is_swapped_in_whole_and_leaves_nothing_beside(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out) == 0
    first = table_bytes(out)
    assert run(out, "--seed", "5", "--force") == 0
    assert table_bytes(out) != first
    assert table_bytes(tmp_path / "out.previous") == first  # the replaced result, kept whole
    assert beside(out) == []
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert not (tmp_path / ".out.lock").exists()  # removed as it was released


def test_a_rerun_into_its_own_folder_replaces_it_and_keeps_one_previous(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out) == 0
    first = table_bytes(out)
    assert run(out, "--seed", "5") == 0  # the same scenario again: no --force needed
    second = table_bytes(out)
    assert second != first and table_bytes(tmp_path / "out.previous") == first
    assert run(out, "--seed", "6") == 0
    assert table_bytes(tmp_path / "out.previous") == second  # one previous, the latest
    other = tmp_path / "other.yaml"
    other.write_text(f"extends: {BASELINE}\nname: another_scenario\n")
    capsys.readouterr()
    assert main(["run", str(other), *SMALL, "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: {out} already holds results of other inputs; choose another --out, or add "
        "--force to replace them (kept in out.previous)\n"
    )


def test_another_commands_result_is_never_replaced_without_force(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out) == 0
    kept = table_bytes(out)
    capsys.readouterr()
    assert main(["backtest", "--runs", "20", "--workers", "1", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: {out} holds another kind of result (ensemble), not this command's (backtest); "
        "choose another --out, or add --force to replace it (it is kept in out.previous beside "
        "it)\n"
    )
    assert main(["explain", str(out), "--out", str(out)]) == 2
    assert table_bytes(out) == kept


def test_a_failure_while_saving_leaves_the_earlier_result_untouched(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert run(out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = folders.write_table

    def fail_on_curves(table, path):
        if path.name.startswith("curves"):
            raise OSError(28, "No space left on device")
        real(table, path)

    monkeypatch.setattr(folders, "write_table", fail_on_curves)
    capsys.readouterr()
    assert run(out, "--seed", "5", "--force") == 2
    assert capsys.readouterr().err == (
        f"error: cannot save curves.csv in {out} (no space left on the disk). Nothing was "
        f"saved: {out} still holds what it held before, and the 20 runs computed are lost; "
        "make room and run the same command again (same seed, same results).\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert beside(out) == []


def test_ctrl_c_while_saving_says_nothing_was_saved(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    real = folders.write_table

    def interrupt_on_curves(table, path):
        if path.name.startswith("curves"):
            raise KeyboardInterrupt
        real(table, path)

    monkeypatch.setattr(folders, "write_table", interrupt_on_curves)
    assert run(out) == 130
    assert capsys.readouterr().err == (
        f"Interrupted while saving: the 20 runs computed were not saved; {out} was not created.\n"
    )
    assert not out.exists() and beside(out) == []


def test_ctrl_c_inside_a_file_is_acted_on_at_the_next_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    real = folders.write_table
    finished = []

    def key_pressed_while_writing(table, path):
        if path.name.startswith("curves"):
            os.kill(os.getpid(), signal.SIGINT)  # as if inside matplotlib's clean-up
        real(table, path)
        finished.append(path.name)

    monkeypatch.setattr(folders, "write_table", key_pressed_while_writing)
    assert run(out) == 130
    assert finished == ["runs.csv", "curves.csv"]  # the file under way was finished, no more
    assert capsys.readouterr().err == (
        f"Interrupted while saving: the 20 runs computed were not saved; {out} was not created.\n"
    )
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not out.exists() and beside(out) == []


def test_ctrl_c_before_any_run_finished_says_the_folder_is_unchanged(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert run(out) == 0
    before = table_bytes(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.experiments.ensemble.run_ensemble", interrupted)
    capsys.readouterr()
    assert run(out, "--force") == 130
    assert capsys.readouterr().err == (
        f"Interrupted before any run finished; nothing was saved, and {out} still holds "
        "what it held before.\n"
    )
    assert table_bytes(out) == before


def test_what_a_killed_run_left_never_blocks_the_next(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out) == 0
    earlier = table_bytes(out)
    partial = tmp_path / ".out.partial-99999-deadbeef"
    partial.mkdir()
    (partial / "runs.csv").write_text("half a file")
    (out / ".runs.csv.x1y2.tmp").write_text("a temporary file of an older version")
    assert run(out, "--force") == 0
    assert table_bytes(out) == earlier  # same seed, same tables
    assert beside(out) == [] and not (out / ".runs.csv.x1y2.tmp").exists()


def test_a_result_set_aside_just_before_a_swap_is_put_back(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out) == 0
    earlier = table_bytes(out)
    aside = tmp_path / ".out.old-99999-deadbeef"
    out.rename(aside)  # killed between the two renames of a swap without atomic exchange
    with pytest.raises(ZeroDivisionError), folders.write_folder(out, replace=True):
        assert table_bytes(out) == earlier  # put back before anything is written
        raise ZeroDivisionError  # and this writer fails: the folder stays as it was
    assert table_bytes(out) == earlier and beside(out) == []


def test_a_user_folder_beside_the_tables_is_refused_and_user_files_are_kept(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert run(out) == 2
    assert capsys.readouterr().err == (
        f"error: {out} holds files that no run wrote (notes.txt); choose another --out, or "
        "add --force to write the results beside them (those files are kept)\n"
    )
    assert run(out, "--force") == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert run(out) == 0  # a rerun of the same scenario; the user's file stays
    assert (out / "notes.txt").read_text() == "mine"
    (out / "drafts").mkdir()
    assert run(out, "--force") == 2
    assert capsys.readouterr().err == (
        f"error: {out} holds folders that no run wrote (drafts/); results are written into a "
        "folder of their own: choose another --out\n"
    )
    assert (out / "notes.txt").read_text() == "mine" and (out / "runs.csv").exists()


def test_another_command_writes_its_folder_through_the_same_swap(tmp_path):
    """As ``calibrate`` does: its own file names, a table, a text and a record written last."""
    out = tmp_path / "fit"
    out.mkdir()
    (out / "profile.yaml").write_text("an earlier profile")
    (out / "mine.txt").write_text("notes")
    frame = pd.DataFrame({"weight": [0.25, 0.75], "value": [np.nan, 2.0]})
    with folders.write_folder(out, replace=True, names={"profile.yaml", "fit.json"}) as folder:
        folder.table(frame, "posterior")
        folder.text("parameters: {}\n", "profile.yaml")
        record = folder.manifest()
        folder.json({"kind": "calibration", **record}, "fit.json")
        assert not (out / "posterior.csv").exists()  # nothing reaches the folder before the end
    assert sorted(p.name for p in out.iterdir()) == [
        "fit.json",
        "mine.txt",
        "posterior.csv",
        "profile.yaml",
    ]
    assert (out / "profile.yaml").read_text() == "parameters: {}\n"
    assert (out / "mine.txt").read_text() == "notes"
    saved = json.loads((out / "fit.json").read_text())
    assert saved["files"] == {
        name: hashlib.sha256((out / name).read_bytes()).hexdigest()
        for name in ("posterior.csv", "profile.yaml")
    }
    assert saved["run_id"] == record["run_id"] and saved["figures"] == []


# --------------------------------------------------------------------------- #
# The lock
# --------------------------------------------------------------------------- #


def test_a_second_writer_is_refused_with_the_first_ones_pid(tmp_path, capsys):
    out = tmp_path / "out"
    with folders.folder_lock(out):
        assert run(out) == 2
        assert plot_code(out) == 2
    errors = capsys.readouterr().err.splitlines()
    message = (
        f"error: {out} is in use by another run (pid {os.getpid()}); wait for it to finish, "
        "or choose another --out"
    )
    assert errors == [message, message]
    assert list(out.iterdir()) == [] and beside(out) == []


def plot_code(folder: Path) -> int:
    folder.mkdir(exist_ok=True)
    return main(["plot", str(folder)])


HOLD_LOCK = """
import sys, time
from pathlib import Path
from sim.files.folders import folder_lock
with folder_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def test_the_lock_of_a_killed_run_is_no_lock(tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert run(out) == 2
        assert f"is in use by another run (pid {holder.pid})" in capsys.readouterr().err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (tmp_path / ".out.lock").read_text() == f"{holder.pid}\n"  # what it left
    assert run(out) == 0
    assert not (tmp_path / ".out.lock").exists()  # the next holder removed it


def test_a_lock_is_removed_on_release_and_a_second_holder_is_refused(tmp_path):
    target = tmp_path / "out"
    with folders.folder_lock(target):
        assert (tmp_path / ".out.lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(ResultsError, match=rf"in use by another run \(pid {os.getpid()}\)"):
            with folders.folder_lock(target):
                pass
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt), folders.folder_lock(target):  # Ctrl-C inside
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_taker_that_locked_a_removed_lock_file_takes_the_new_one(tmp_path, monkeypatch):
    """The race that makes removing a lock file unsafe: a taker opens the file, its holder
    removes it and lets go, the taker's flock then succeeds on a file no longer there. The
    taker must notice and lock the file at the path instead, or two processes would hold it."""
    path = tmp_path / ".out.lock"
    real_open = os.open
    opened = []

    def open_then_holder_lets_go(name, flags, mode=0o777):
        fd = real_open(name, flags, mode)
        opened.append(os.fstat(fd).st_ino)
        if len(opened) == 1:
            os.unlink(name)  # the holder removes its file and releases, just after our open
        return fd

    monkeypatch.setattr(folders.os, "open", open_then_holder_lets_go)
    with folders.folder_lock(tmp_path / "out"):
        assert len(opened) == 2  # the removed file was let go, the new one taken
        assert path.stat().st_ino == opened[1]
    assert not path.exists()


# --------------------------------------------------------------------------- #
# Readers check the folder is one whole result
# --------------------------------------------------------------------------- #


def test_readers_refuse_a_folder_mixing_two_runs(tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert run(one) == 0 and run(two, "--seed", "5") == 0
    (one / "runs.csv").write_bytes((two / "runs.csv").read_bytes())
    rerun = json.loads((one / "metadata.json").read_text())["rerun"]
    expected = (
        f"error: {one} is not one complete result: runs.csv is not the file its metadata.json "
        f"lists (it was changed, or comes from another run); remake it with: {rerun}\n"
    )
    capsys.readouterr()
    for command in (
        ["plot", str(one)],
        ["explain", str(one)],
        ["story", "--from", str(one), "--run", "1"],
    ):
        assert main(command) == 2
        assert capsys.readouterr().err == expected
    (one / "curves.csv").unlink()
    with pytest.raises(ResultsError) as caught:
        results.load(one)
    assert str(caught.value).startswith(f"{one} is not one complete result: runs.csv is not")


def test_a_missing_table_is_named(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out) == 0
    (out / "occupancy.csv").unlink()
    with pytest.raises(ResultsError) as caught:
        results.load(out)
    rerun = json.loads((out / "metadata.json").read_text())["rerun"]
    assert str(caught.value) == (
        f"{out} is not one complete result: occupancy.csv is missing; remake it with: {rerun}"
    )


def test_a_folder_that_lists_no_files_cannot_be_checked(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out) == 0
    metadata = json.loads((out / "metadata.json").read_text())
    for key in ("files", "run_id", "rerun"):
        del metadata[key]
    (out / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ResultsError) as caught:
        results.load(out)
    assert str(caught.value) == (
        f"{out}: its metadata.json lists no files and no run id (it was written by an earlier "
        "version, or by hand), so it cannot be checked as one complete result; remake it by "
        "running the command again"
    )


# --------------------------------------------------------------------------- #
# Metadata: where the numbers come from, and how to make them again
# --------------------------------------------------------------------------- #


def test_metadata_records_the_scenario_the_sets_the_code_and_the_platform(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out, "--set", "actors.iran.pledge=0.9") == 0
    metadata = json.loads((out / "metadata.json").read_text())
    (ensemble,) = metadata["ensembles"]
    scenario = load_scenario(BASELINE, {"horizon": 10, "actors.iran.pledge": 0.9})
    resolved = ensemble["scenario"]
    assert resolved["actors"]["iran"]["pledge"] == 0.9
    canonical = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
    assert ensemble["scenario_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert resolved["horizon"] == scenario.horizon == 10
    assert ensemble["scenario_file"] == str(BASELINE)
    assert ensemble["overrides"] == {"horizon": 10, "actors.iran.pledge": 0.9}
    assert metadata["format"] == "csv" and len(metadata["run_id"]) == 32
    assert metadata["files"] == {
        name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in TABLE_FILES
    }
    assert sorted(metadata["figures"]) == sorted(
        f"{n}{s}" for n in ("curves", "occupancy") for s in (".png", ".svg")
    )
    platform = metadata["platform"]
    assert platform["python"] == ".".join(map(str, sys.version_info[:3]))
    assert platform["versions"]["numpy"] == np.__version__
    assert set(platform) == {"python", "implementation", "system", "machine", "versions"}
    if (ROOT / ".git").exists() and folders.code_revision() is not None:
        revision = metadata["code"]["revision"]
        # a commit of this checkout (HEAD when the process first asked: it may move since)
        kind = subprocess.run(
            ["git", "-C", str(ROOT), "cat-file", "-t", revision], capture_output=True, text=True
        )
        assert len(revision) == 40 and kind.stdout == "commit\n"
        assert isinstance(metadata["code"]["modified"], bool)
    else:
        assert "code" not in metadata


def test_the_rerun_command_makes_the_same_tables(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert run(out, "--set", "actors.iran.pledge=0.9", "--seed", "11") == 0
    metadata = json.loads((out / "metadata.json").read_text())
    words = shlex.split(metadata["rerun"])
    assert words == [
        "python", "run.py", "run", str(BASELINE), "--runs", "20", "--seed", "11",
        "--set", "horizon=10", "--set", "actors.iran.pledge=0.9", "--out", str(out), "--force",
    ]  # fmt: skip
    again = tmp_path / "again"
    words[words.index("--out") + 1] = str(again)
    monkeypatch.chdir(metadata["working_directory"])
    assert main([*words[2:], "-q"]) == 0
    assert table_bytes(again) == table_bytes(out)


def test_platform_and_versions_are_read_once_per_process(monkeypatch):
    calls = []
    monkeypatch.setattr("sim.files.folders.versions", lambda: calls.append(1) or {"numpy": "x"})
    folders.platform_info.cache_clear()
    try:
        assert folders.platform_info() is folders.platform_info()
        assert calls == [1]
    finally:
        folders.platform_info.cache_clear()


# --------------------------------------------------------------------------- #
# Parquet
# --------------------------------------------------------------------------- #


def test_parquet_tables_round_trip_with_their_dtypes_and_empty_days(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out, "--format", "parquet", "--seed", "3") == 0
    assert {p.suffix for p in out.iterdir() if p.stem in ("runs", "curves")} == {
        ".parquet",
        ".png",
        ".svg",
    }
    saved = results.load(out)
    ensemble = run_ensemble(
        load_scenario(BASELINE, {"horizon": 10}).model_copy(
            update={"name": "jan2024_baseline__horizon-10"}
        ),
        runs=20,
        seed=3,
        workers=1,
    )
    for name in ("runs", "curves", "occupancy", "summary"):
        pd.testing.assert_frame_equal(
            getattr(saved, name), getattr(ensemble, name), check_dtype=True
        )
    never = ensemble.runs["war_day"].isna()
    assert never.any() and saved.runs["war_day"].isna().equals(never)
    assert main(["plot", str(out)]) == 0


# --------------------------------------------------------------------------- #
# Full disk
# --------------------------------------------------------------------------- #


@pytest.fixture
def small_disk(tmp_path):
    """A 128 KB tmpfs: room for a small run's tables, not for its figures."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("a small tmpfs needs root and mount; the full-disk behaviour is untested here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk to ``leave`` free bytes."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler = disk / "filler"
    with filler.open("ab") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


def test_a_full_disk_keeps_the_tables_when_only_the_figures_do_not_fit(
    small_disk, capsys, monkeypatch
):
    real = folders.write_figure
    monkeypatch.setattr(report, "figures", DRAW)
    monkeypatch.setattr(folders, "write_figure", lambda f, path, dpi=200: real(f, path, dpi=30))
    out = small_disk / "out"
    assert run(out) == 0
    err = capsys.readouterr().err
    assert err.startswith("note: the tables were saved but not the figures (cannot save ")
    assert err.endswith(
        f"(no space left on the disk)); draw them when there is room with: python run.py "
        f"plot {out}\n"
    )
    assert sorted(p.name for p in out.iterdir()) == sorted([*TABLE_FILES, "metadata.json"])
    assert json.loads((out / "metadata.json").read_text())["figures"] == []
    saved = results.load(out)
    assert len(saved.runs) == 20
    fill(small_disk, leave=0)
    assert main(["plot", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot write curves.png in {out} (no space left on the disk); the figures not "
        "yet redrawn keep their earlier version\n"
    )
    assert beside(out) == ["filler"] and not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_full_disk_says_what_was_lost_and_blocks_nothing(small_disk, capsys):
    out = small_disk / "out"
    assert run(out) == 0
    earlier = table_bytes(out)
    filler = fill(small_disk, leave=0)
    capsys.readouterr()
    assert run(out, "--seed", "5", "--force") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot save runs.csv in ")
    assert err.endswith(
        f"(no space left on the disk). Nothing was saved: {out} still holds what it held "
        "before, and the 20 runs computed are lost; make room and run the same command again "
        "(same seed, same results).\n"
    )
    assert "Traceback" not in err
    assert table_bytes(out) == earlier and results.load(out).runs.shape[0] == 20
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "out"]
    filler.unlink()
    assert run(out, "--seed", "5", "--force") == 0
    assert table_bytes(out) != earlier


# --------------------------------------------------------------------------- #
# Kills and interrupts at random moments
# --------------------------------------------------------------------------- #

FAULT_ARGS = ["--runs", "2000", "--workers", "2", "--set", "horizon=30", "-q"]
"""Two chunks on two workers, and a save of a few seconds with real figures."""


def start(out: Path, seed: int) -> subprocess.Popen[str]:
    command = [sys.executable, "run.py", "run", str(BASELINE), *FAULT_ARGS, "--seed", str(seed)]
    return subprocess.Popen(
        [*command, "--out", str(out), "--force"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


EVIDENCE_DEADLINE = 300.0
"""Seconds to wait for evidence of a run's progress on a busy machine (a deadline, not a
timing: the wait ends as soon as the evidence is there)."""


def started(out: Path, process: subprocess.Popen[str]) -> None:
    """Wait until the run is past its checks (its temporary folder exists)."""
    end = time.monotonic() + EVIDENCE_DEADLINE
    while not list(out.parent.glob(f".{out.name}.partial-{process.pid}-*")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < end, (
            f"no temporary folder of the run within {EVIDENCE_DEADLINE:.0f} s"
        )
        time.sleep(0.01)


def run_id(folder: Path) -> str | None:
    """The run id of the result in ``folder``, or None while the swap has it away."""
    try:
        return str(json.loads((folder / "metadata.json").read_text())["run_id"])
    except (FileNotFoundError, json.JSONDecodeError):
        return None


@pytest.mark.slow
def test_kills_and_interrupts_never_leave_a_mix(tmp_path, capsys):
    """SIGKILL and SIGINT, alternately, at random moments of the runs and of the save over an
    earlier result (8 trials): the folder holds the earlier result, the new one whole, or
    (after Ctrl-C during the runs) the runs finished, saved whole; each time ``plot`` works, and
    the rerun gives the same bytes as a run never interrupted. Two more kills, timed by evidence,
    land on each side of the swap for certain."""
    out, reference = tmp_path / "out", tmp_path / "reference"
    assert main(["run", str(BASELINE), *FAULT_ARGS, "--seed", "7", "--out", str(reference)]) == 0
    assert main(["run", str(BASELINE), *FAULT_ARGS, "--seed", "8", "--out", str(out)]) == 0
    probe = start(tmp_path / "timing", 7)
    started(tmp_path / "timing", probe)
    after_checks = time.perf_counter()
    assert probe.wait(timeout=300) == 0
    span = time.perf_counter() - after_checks  # the runs and the save
    new = table_bytes(reference)
    rng = random.Random(20240116)
    for trial in range(8):
        earlier = json.loads((out / "metadata.json").read_text())["run_id"]
        earlier_tables = table_bytes(out)
        process = start(out, 7)
        started(out, process)
        time.sleep(rng.uniform(0, span * 1.1))
        kill = trial % 2 == 0
        process.send_signal(signal.SIGKILL if kill else signal.SIGINT)
        _, err = process.communicate(timeout=120)
        assert "Traceback" not in err
        saved = results.load(out)  # one whole result, whatever happened
        metadata = saved.metadata
        replaced = metadata["run_id"] != earlier
        assert table_bytes(out) == (new if replaced else earlier_tables) or (
            not kill and process.returncode == 3
        )
        assert len(saved.runs) == metadata["ensembles"][0]["runs"]
        if not kill:
            if process.returncode == 130 and replaced:  # just after the swap
                assert err == f"Interrupted; the results were saved in full in {out}/\n"
            elif process.returncode == 130:
                assert err in (
                    f"Interrupted before any run finished; nothing was saved, and {out} still "
                    "holds what it held before.\n",
                    f"Interrupted while saving: the 2,000 runs computed were not saved; {out} "
                    "still holds what it held before.\n",
                )
            elif process.returncode == 3:
                assert replaced and metadata["ensembles"][0]["interrupted"] is True
                assert err.startswith("Interrupted: kept ")
            else:  # done, or interrupted as the interpreter exits, with everything saved
                assert process.returncode in (0, -signal.SIGINT) and replaced
        assert main(["plot", str(out)]) == 0
        assert not (tmp_path / ".out.lock").exists()  # a killed run's lock, removed by plot
        leftovers = [
            p.name for p in tmp_path.iterdir() if ".partial-" in p.name or ".old-" in p.name
        ]
        assert all(f".out.partial-{process.pid}-" in name for name in leftovers)  # until the next
    # Both sides of the swap, timed by evidence rather than by the clock: killed as it starts,
    # the earlier result stays; killed once the new result is in place, the new one stays whole.
    earlier = json.loads((out / "metadata.json").read_text())["run_id"]
    earlier_tables = table_bytes(out)
    process = start(out, 7)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=120)
    assert results.load(out).metadata["run_id"] == earlier
    assert table_bytes(out) == earlier_tables
    process = start(out, 7)
    end = time.monotonic() + EVIDENCE_DEADLINE
    while run_id(out) in (earlier, None):
        assert process.poll() is None or process.returncode == 0, process.communicate()
        assert time.monotonic() < end, f"no new result within {EVIDENCE_DEADLINE:.0f} s"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=120)
    assert results.load(out).metadata["run_id"] != earlier
    assert table_bytes(out) == new
    assert main(["plot", str(out)]) == 0
    assert (
        main(["run", str(BASELINE), *FAULT_ARGS, "--seed", "7", "--out", str(out), "--force"]) == 0
    )
    assert table_bytes(out) == new
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name or ".old-" in p.name] == []


def test_package_versions_are_read_once_per_process():
    folders._version.cache_clear()
    first = folders.versions("SALib")
    looked_up = folders._version.cache_info().misses
    assert folders.versions("SALib") == first
    assert folders._version.cache_info().misses == looked_up


def _edit_metadata(out: Path, change) -> None:
    path = out / "metadata.json"
    data = json.loads(path.read_text())
    change(data["ensembles"][0])
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "change, said",
    [
        (lambda e: e.update(seed=e["seed"] + 1), "do not have the seeds of seed"),
        (lambda e: e.update(runs=e["runs"] + 5), "it says 25 runs of"),
        (
            lambda e: e["scenario"]["ladder"]["rungs"][1].update(name="a new name"),
            "recorded there was changed after the run",
        ),
    ],
    ids=["seed", "runs", "ladder"],
)
def test_a_folder_whose_metadata_was_edited_is_refused(tmp_path, capsys, change, said):
    out = tmp_path / "out"
    assert run(out) == 0
    _edit_metadata(out, change)
    with pytest.raises(ResultsError) as caught:
        load_results(out)
    message = str(caught.value)
    assert message.startswith(f"{out} does not match its metadata.json: ") and said in message
    assert message.endswith("--force")  # and how to remake it


def test_a_table_that_is_a_pipe_is_refused_at_once_not_read(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(out) == 0
    (out / "runs.csv").unlink()
    os.mkfifo(out / "runs.csv")
    # in a child process with a deadline: reading a pipe with no writer would wait forever
    done = subprocess.run(
        [sys.executable, "-c", f"import sim; sim.load_results({str(out)!r})"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode != 0
    assert f"{out}/runs.csv is not a regular file" in done.stderr
