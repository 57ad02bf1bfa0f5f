"""A calibration folder resumes only what it can resume: damaged metadata, a database pyabc
cannot resume, or another pyabc are refused with the remedy; a calibration killed at any moment
(timed by what it has written, never by the clock) resumes to the uninterrupted posterior."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim.cli.main import main
from sim.experiments import calibrate, calibration_folder
from sim.experiments.execution import InlineExecutor
from tests.conftest import ROOT
from tests.experiments.test_calibrate import (
    CLI_SETTINGS,
    CLI_SIZE,
    TINY,
    old_metadata,
    write_library,
)

ADVICE = (
    "choose another --out, or add --force to start afresh (the old files kept in "
    "<folder>.previous beside it)"
)


def versionless(path: Path) -> None:
    """pyabc's tables without its version row: a database killed while pyabc set it up (pyabc
    commits its tables, then its version; read back, it says 'Database has version 0')."""
    import sqlalchemy
    from pyabc.storage.db_model import Base

    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()


def truncated(source: Path) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        data = source.read_bytes()
        path.write_bytes(data[: len(data) // 3])

    return make


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.mkdir(), "is not a regular file (a folder, a link to nothing, or a device)"),
        (
            lambda p: p.symlink_to(p.parent / "gone"),
            "is not a regular file (a folder, a link to nothing, or a device)",
        ),
        (
            versionless,
            "has database version none, not pyabc's 2 (it was cut short while being created, "
            "or made by another pyabc)",
        ),
        (
            lambda p: sqlite3.connect(p).execute("create table notes (x)").connection.commit(),
            "holds no pyabc tables (it was cut short, or is another file)",
        ),
        ("truncated", "cannot be read as a database (database disk image is malformed)"),
    ],
    ids=["empty", "folder", "dangling-link", "versionless", "other-tables", "truncated"],
)
def test_a_database_pyabc_cannot_resume_is_refused_and_kept(
    library, tiny, tiny_folder, tmp_path, capsys, make, reason
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metadata.json").write_text(json.dumps(old_metadata(library, CLI_SETTINGS)))
    db = out / "pyabc.db"
    (truncated(tiny_folder / "pyabc.db") if make == "truncated" else make)(db)
    before = sorted(p.name for p in out.iterdir())
    assert main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: {db}: {reason}: it is not a pyabc database that can be resumed; {ADVICE}\n"
    )
    assert sorted(p.name for p in out.iterdir()) == before
    assert os.path.lexists(db)
    assert calibration_folder.stored_generations(out) == 0  # what Ctrl-C's message counts


def test_force_sets_a_database_pyabc_cannot_resume_aside(library, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    expected = calibrate.folder_settings(library, CLI_SETTINGS)
    meta = json.dumps({"kind": calibration_folder.KIND, "settings": expected})
    (out / "metadata.json").write_text(meta)
    (out / "pyabc.db").mkdir()
    calibration_folder.check_folder(out, expected, force=True)
    assert list(out.iterdir()) == []
    kept = tmp_path / "out.previous"
    assert sorted(p.name for p in kept.iterdir()) == ["metadata.json", "pyabc.db"]
    assert (kept / "metadata.json").read_text() == meta


@pytest.mark.parametrize(
    ("change", "key", "found", "expected"),
    [
        (lambda m: m["settings"].update(seed="1"), "settings.seed", "text '1'", "a whole number"),
        (lambda m: m["settings"].update(seed=True), "settings.seed", "true", "a whole number"),
        (lambda m: m["settings"].update(model="v1"), "settings.model", "text 'v1'", "a mapping"),
        (
            lambda m: m["settings"]["model"].update(version=3),
            "settings.model.version",
            "3",
            "text",
        ),
        (
            lambda m: m["settings"].update(cases="first"),
            "settings.cases",
            "text 'first'",
            "a list of case names",
        ),
        (lambda m: m.update(complete="yes"), "complete", "text 'yes'", "true or false"),
        (lambda m: m.update(wall_seconds="12"), "wall_seconds", "text '12'", "a number"),
        (lambda m: m.update(command="run.py"), "command", "text 'run.py'", "a list of words"),
        (lambda m: m.pop("settings"), "settings", None, "a mapping"),
        (lambda m: m.update(settings=[1]), "settings", "a list", "a mapping"),
    ],
)
def test_metadata_of_the_wrong_types_is_refused_naming_the_key(
    library, tmp_path, capsys, change, key, found, expected
):
    out = tmp_path / "out"
    out.mkdir()
    meta = {**old_metadata(library, CLI_SETTINGS), "started": "2024-01-01T00:00:00+00:00"}
    meta["settings"]["model"] = dict(meta["settings"]["model"])
    change(meta)
    (out / "metadata.json").write_text(json.dumps(meta))
    assert main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out)]) == 2
    said = f"found {found}" if found else "found nothing"
    assert capsys.readouterr().err == (
        f"error: {out / 'metadata.json'}: {key}: expected {expected}, {said}: this "
        f"metadata.json is damaged, so the calibration cannot be resumed; {ADVICE}\n"
    )
    assert json.loads((out / "metadata.json").read_text()) == meta


def test_a_calibration_stored_by_another_pyabc_is_refused(library, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metadata.json").write_text(
        json.dumps(old_metadata(library, CLI_SETTINGS, pyabc="0.10.1"))
    )
    assert main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out)]) == 2
    now = calibration_folder.pyabc_version()
    assert now != "0.10.1"
    assert capsys.readouterr().err == (
        f"error: {out / 'metadata.json'}: settings.pyabc: this calibration's generations were "
        f"stored by pyabc 0.10.1, and pyabc {now} is installed now: its database and proposals "
        f"may differ; install pyabc 0.10.1 to resume it, or {ADVICE}\n"
    )


def test_the_inputs_a_resume_must_match_are_recorded(pair):
    """The seed, the library's hash, the generations, the particles, the runs and pyabc."""
    recorded = calibrate.folder_settings(pair, TINY)
    assert recorded["seed"] == 5 and recorded["populations"] == 2 and recorded["particles"] == 3
    assert recorded["runs"] == 5 and recorded["library_hash"] == pair.digest
    from importlib.metadata import version

    assert recorded["pyabc"] == version("pyabc")


def test_killed_while_pyabc_set_up_its_database_resumes_to_the_same_posterior(pair, tiny, tmp_path):
    """The state a kill inside pyabc's set-up leaves (metadata written, the new database
    half made under its temporary name): the rerun starts generation 1 afresh and ends with
    the posterior of an uninterrupted run."""
    out = tmp_path / "out"
    out.mkdir()
    meta: dict[str, Any] = {
        "kind": calibration_folder.KIND,
        "settings": calibrate.folder_settings(pair, TINY),
        "complete": False,
        "generations_done": 0,
        "started": "2024-01-01T00:00:00+00:00",
        "command": [],
    }
    (out / "metadata.json").write_text(json.dumps(meta))
    versionless(out / "pyabc.db.partial")
    (out / "pyabc.db.partial-journal").write_bytes(b"half a journal")
    resumed = calibrate.calibrate(pair, out, TINY, InlineExecutor(), slots=1)
    pd.testing.assert_frame_equal(tiny.particles, resumed.particles)
    pd.testing.assert_frame_equal(tiny.generations, resumed.generations)
    assert sorted(p.name for p in out.iterdir()) == ["metadata.json", "pyabc.db"]


# --------------------------------------------------------------------------- #
# Killed for real, at moments chosen by evidence
# --------------------------------------------------------------------------- #

KILL_SIZE = [
    "--populations",
    "2",
    "--particles",
    "10",
    "--runs",
    "2",
    "--check-runs",
    "2",
    "--workers",
    "1",
]
DEADLINE = 180.0
"""Seconds to wait for evidence on a slow, shared machine (a deadline, not a timing)."""


def _command(library_folder: Path, out: Path) -> list[str]:
    return [sys.executable, "run.py", "calibrate", str(library_folder), *KILL_SIZE]


def _start(library_folder: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*_command(library_folder, out), "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_when(process: subprocess.Popen[str], seen: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not seen():
        assert process.poll() is None, f"finished before the evidence: {process.stderr.read()}"
        assert time.monotonic() < deadline, "no evidence within the deadline"
        time.sleep(0.005)
    process.kill()
    assert process.wait() == -signal.SIGKILL


def _kill_at_line(process: subprocess.Popen[str], start: str) -> None:
    assert process.stderr is not None
    for line in process.stderr:  # blocks until the line comes (or the process ends)
        if line.startswith(start):
            process.kill()
            assert process.wait() == -signal.SIGKILL
            return
    pytest.fail(f"the calibration ended without saying {start!r}")


@pytest.mark.slow
def test_a_calibration_killed_at_any_moment_resumes_to_the_uninterrupted_posterior(tmp_path):
    """SIGKILL (no cleanup runs) as soon as: metadata.json appears; pyabc's database is being
    set up; the database is in place; generation 1 is reported (its commit under way or
    done). Each rerun of the same command ends with the uninterrupted run's posterior."""
    folder = tmp_path / "library"
    write_library(folder, ("first", "second"))
    whole = tmp_path / "whole"
    done = subprocess.run(
        [*_command(folder, whole), "--out", str(whole), "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = (whole / "posterior.csv").read_bytes()
    moments: dict[str, Callable[[Path, subprocess.Popen[str]], None]] = {
        "metadata": lambda out, p: _kill_when(p, (out / "metadata.json").exists),
        # the set-up is brief: the first sign of it, or of its end if it was missed
        "setting-up": lambda out, p: _kill_when(
            p, lambda: (out / "pyabc.db.partial").exists() or (out / "pyabc.db").exists()
        ),
        "database": lambda out, p: _kill_when(p, (out / "pyabc.db").exists),
        "generation": lambda out, p: _kill_at_line(p, "generation 1 of 2"),
    }
    for name, kill in moments.items():
        out = tmp_path / name
        process = _start(folder, out)
        try:
            kill(out, process)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            assert process.stderr is not None
            process.stderr.close()
        rerun = subprocess.run(
            [*_command(folder, out), "--out", str(out), "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert rerun.returncode == 0, (name, rerun.stderr)
        assert "Traceback" not in rerun.stderr
        assert (out / "posterior.csv").read_bytes() == expected, name
        assert not (out / "pyabc.db.partial").exists()
        shutil.rmtree(out)
