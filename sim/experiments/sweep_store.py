"""Where a sweep's results live: ``sweep.sqlite`` in the sweep's folder, and ``sweep.csv`` from it.

* **Nothing finished is lost.** The store holds the canonical definition and one row per
  finished point, committed as each point finishes (WAL mode while running; one self-contained
  file after a clean close). It is append-only: triggers forbid UPDATE and DELETE. Only the
  coordinating process writes.
* **One sweep per folder.** The folder's lock (the one of :mod:`sim.files.folders`: an ``flock``
  on ``.<name>.lock`` beside the folder) keeps a second command out while the sweep runs; the
  kernel drops it when its holder dies, so a killed sweep never blocks its resume. A folder
  holding a different definition is refused and left untouched; ``--force`` moves the old sweep
  into the folder's one ``<name>.previous`` beside it.
* **No half-made file blocks the next attempt.** The store is created under a temporary name and
  renamed into place once complete, so a failed creation (a full disk, say) leaves no store; an
  empty store, or a temporary file left by a killed sweep, is cleared by the next one.
* **Reproducible export.** ``sweep.csv`` is written from the store, sorted by point, with fixed
  float formatting, atomically; a resumed sweep exports byte for byte the file of an
  uninterrupted one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.experiments.axes import SweepError, Value
from sim.experiments.sweep_definition import FORMAT, SweepDefinition
from sim.files.folders import (
    atomic_write,
    check_target,
    disk_reason,
    folder_lock,
    keep_previous,
    real_path,
    shown,
    write_text,
)
from sim.inputs import arguments
from sim.inputs.errors import ResultsError

log = logging.getLogger(__name__)

STORE_NAME = "sweep.sqlite"
CSV_NAME = "sweep.csv"
METADATA_NAME = "metadata.json"
SWEEP_NAMES = frozenset(
    {STORE_NAME, f"{STORE_NAME}-wal", f"{STORE_NAME}-shm", f"{STORE_NAME}.tmp", CSV_NAME}
)
"""A sweep's own files, before its metadata.json says what the folder holds."""

Outcomes = dict[str, tuple[float, float, float]]
"""Outcome name -> (estimate, 95% low, 95% high)."""


@dataclass(frozen=True)
class PointResult:
    """The outcome of evaluating one design point (pickled back from workers)."""

    index: int
    params: dict[str, Value]
    outcomes: Outcomes | None
    runs: int
    error: str | None = None
    traceback: str | None = None
    elapsed_s: float = 0.0


_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE points (
    idx INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    params TEXT NOT NULL,
    outcomes TEXT,
    runs INTEGER NOT NULL,
    error TEXT,
    traceback TEXT,
    elapsed_s REAL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (idx, attempt)
);
CREATE TRIGGER points_append_only_u BEFORE UPDATE ON points
    BEGIN SELECT RAISE(ABORT, 'sweep store is append-only'); END;
CREATE TRIGGER points_append_only_d BEFORE DELETE ON points
    BEGIN SELECT RAISE(ABORT, 'sweep store is append-only'); END;
CREATE TRIGGER meta_append_only_u BEFORE UPDATE ON meta
    BEGIN SELECT RAISE(ABORT, 'sweep store is append-only'); END;
"""


@dataclass(frozen=True)
class StoreInfo:
    """Summary of an existing store, read without modifying it (``definition_hash`` is empty
    for a store that holds no sweep, such as one whose creation failed)."""

    definition_hash: str
    definition: SweepDefinition | None
    points: int


@dataclass(frozen=True)
class StoredPoint:
    """Latest stored attempt of one point."""

    index: int
    attempt: int
    params_json: str
    outcomes: Outcomes | None
    runs: int
    error: str | None


def params_json(params: Mapping[str, Value]) -> str:
    """A point's parameters as stored: compact JSON in definition order."""
    return json.dumps(dict(params), separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def now() -> str:
    """The time of day in UTC, to the millisecond, for the store and metadata."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)  # autocommit: a txn a point
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: every commit survives a process kill; only an OS
    # crash/power loss could drop the last few (never corrupt the file).
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def stored_points(out_dir: str | os.PathLike[str]) -> int:
    """How many design points ``out_dir`` has stored (0 when it has no readable store)."""
    try:
        info = SweepStore.inspect(out_dir)
    except SweepError:
        return 0
    return info.points if info is not None else 0


def _target_allowed(out: Path, force: bool) -> str | None:
    """The one rule of :func:`sim.files.folders.check_target`, as a SweepError; what ``out`` holds."""
    try:
        held, _ = check_target(
            real_path(out), shown(out), kind="sweep", replace=force, names=SWEEP_NAMES
        )
    except ResultsError as error:
        raise SweepError(str(error)) from None
    return held


class FolderLock:
    """The folder's lock, held while a sweep runs: the one lock of :mod:`sim.files.folders`
    (an ``flock`` beside the folder, dropped by the kernel when its holder dies, so a killed
    sweep never blocks its resume)."""

    def __init__(self, out_dir: Path) -> None:
        self.out = out_dir
        self._held = contextlib.ExitStack()

    def acquire(self) -> None:
        try:
            self._held.enter_context(folder_lock(real_path(self.out), self.out))
        except ResultsError as error:
            raise SweepError(str(error)) from None

    def release(self) -> None:
        self._held.close()


class SweepStore:
    """Append-only SQLite store of one sweep's definition and finished points."""

    def __init__(
        self,
        out_dir: Path,
        conn: sqlite3.Connection,
        definition: SweepDefinition,
        lock: FolderLock | None,
    ):
        self.out_dir = out_dir
        self.path = out_dir / STORE_NAME
        self.conn = conn
        self.definition = definition
        self._lock = lock

    # -- opening ----------------------------------------------------------------

    @staticmethod
    def inspect(out_dir: str | os.PathLike[str]) -> StoreInfo | None:
        """What ``out_dir`` holds, or None if it has no store.

        Opens the database read-only, so a refused folder is never modified.
        """
        path = arguments.path("out_dir", out_dir) / STORE_NAME
        if not path.exists():
            return None
        if not path.is_file():  # sqlite would wait on a pipe forever, or read a device
            raise SweepError(
                f"{path} is not a regular file (a pipe, a device or a folder cannot be a sweep "
                "store); use another --out, or --force to set it aside"
            )
        try:
            conn = _read_only(path)
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
                if not {"meta", "points"} <= tables:
                    return StoreInfo("", None, 0)  # a store whose creation never finished
                rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
                (n_points,) = conn.execute("SELECT COUNT(DISTINCT idx) FROM points").fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError as e:
            raise SweepError(
                f"{path} is not a readable sweep store ({e}); "
                "use another --out, or --force to set it aside"
            ) from None
        if "definition_hash" not in rows:
            if n_points == 0:
                return StoreInfo("", None, 0)
            raise SweepError(
                f"{path} has no sweep definition; use another --out, or --force to set it aside"
            )
        try:
            definition: SweepDefinition | None = SweepDefinition.from_json(
                json.loads(rows["definition"])
            )
        except (SweepError, KeyError, ValueError, TypeError):
            definition = None
        return StoreInfo(rows["definition_hash"], definition, int(n_points))

    @classmethod
    def open(
        cls, out_dir: str | os.PathLike[str], definition: SweepDefinition, *, force: bool = False
    ) -> SweepStore:
        """Open (or create) the store for ``definition`` in ``out_dir``, holding its lock.

        A store holding a different definition and any finished point is refused unless
        ``force``, which moves it (and its CSV and metadata) into the folder's one ``.previous``
        beside it rather than deleting anything.
        One with no finished point holds no results, so it is simply replaced (e.g. after an
        unreachable scheduler, or a creation that failed).
        """
        out = Path(out_dir)
        _target_allowed(out, force)  # before the folder is made: a refusal changes nothing
        _make_folder(out)
        lock = FolderLock(out)
        lock.acquire()
        try:
            _clear_leftovers(out)
            path = out / STORE_NAME
            held = _target_allowed(out, force)
            if not path.exists() and held not in (None, "sweep"):
                keep_previous(out)  # another command's result, replaced with --force
            want = definition.hash()
            try:
                found = cls.inspect(out)
            except SweepError:
                if not force:
                    raise
                found = StoreInfo("unreadable", None, -1)
            if found is not None and found.definition_hash != want:
                if found.points == 0:
                    cls._remove_empty(out)
                elif not force:
                    raise SweepError(
                        f"{out} holds a different sweep ({found.points} points stored, definition "
                        f"{found.definition_hash[:12]}; this one {want[:12]}); "
                        "use another --out folder, or --force to set the old results aside"
                    )
                else:
                    cls._set_aside(out)
                found = None
            if found is None:
                _create(path, definition)
            try:
                conn = _connect(path)
            except sqlite3.DatabaseError as error:
                raise SweepError(f"cannot open {path}: {error}") from None
            return cls(out, conn, definition, lock)
        except BaseException:
            lock.release()
            raise

    @staticmethod
    def _remove_empty(out: Path) -> None:
        for name in (STORE_NAME, f"{STORE_NAME}-wal", f"{STORE_NAME}-shm"):
            with contextlib.suppress(FileNotFoundError):
                (out / name).unlink()

    @staticmethod
    def _set_aside(out: Path) -> None:
        names = (STORE_NAME, f"{STORE_NAME}-wal", f"{STORE_NAME}-shm", CSV_NAME, METADATA_NAME)
        kept = keep_previous(out, names)
        if kept is not None:
            log.warning("the sweep %s held was set aside in %s", out, kept)

    # -- reading / writing ------------------------------------------------------

    def latest(self) -> dict[int, StoredPoint]:
        """Latest attempt of every stored point, keyed by index."""
        rows = self.conn.execute(
            "SELECT p.idx, p.attempt, p.params, p.outcomes, p.runs, p.error FROM points p "
            "JOIN (SELECT idx, MAX(attempt) AS a FROM points GROUP BY idx) m "
            "ON p.idx = m.idx AND p.attempt = m.a ORDER BY p.idx"
        ).fetchall()
        out: dict[int, StoredPoint] = {}
        for idx, attempt, params, outcomes, runs, error in rows:
            oc = None
            if outcomes is not None:
                oc = {
                    k: (float(v[0]), float(v[1]), float(v[2]))
                    for k, v in json.loads(outcomes).items()
                }
            out[int(idx)] = StoredPoint(int(idx), int(attempt), params, oc, int(runs), error)
        return out

    def record(self, result: PointResult, attempt: int) -> None:
        """Append one finished point; committed before returning."""
        try:
            self.conn.execute(
                "INSERT INTO points(idx, attempt, params, outcomes, runs, error, traceback, "
                "elapsed_s, finished_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.index,
                    attempt,
                    params_json(result.params),
                    None
                    if result.outcomes is None
                    else json.dumps({k: list(v) for k, v in result.outcomes.items()}),
                    result.runs,
                    result.error,
                    result.traceback,
                    result.elapsed_s,
                    now(),
                ),
            )
        except sqlite3.OperationalError as error:  # a full disk, above all
            raise SweepError(
                f"cannot store point {result.index} in {self.path} ({error}); the points "
                "stored before it are kept: make room and rerun the same command to resume"
            ) from None

    def close(self) -> None:
        """Close the database and release the folder lock.

        WAL is only needed while points are being written: switching back to
        a rollback journal on a clean close leaves ``sweep.sqlite`` as one
        self-contained file (easy to copy), and later read-only inspection
        creates no ``-wal``/``-shm`` files. Skipped if a reader holds it.
        """
        try:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA busy_timeout=200")  # do not wait long on readers
                self.conn.execute("PRAGMA journal_mode=DELETE")
            self.conn.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _make_folder(out: Path) -> None:
    """The sweep's folder, made if need be; a path that cannot be one is a SweepError."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SweepError(
            f"cannot use {shown(out)} as a sweep folder: it is a file; choose another --out"
        ) from None
    except OSError as error:
        raise SweepError(
            f"cannot make the sweep folder {shown(out)}: {disk_reason(error)}; choose another --out"
        ) from None


def _clear_leftovers(out: Path) -> None:
    """Remove the temporary files a killed sweep left behind (the lock is held: none is live)."""
    for name in (STORE_NAME, CSV_NAME, METADATA_NAME):
        for left in out.glob(f".{name}.*.tmp*"):
            with contextlib.suppress(OSError):
                left.unlink()


def _create(path: Path, definition: SweepDefinition) -> None:
    """A new store, made under a temporary name and renamed into place once complete."""

    def fill(temporary: Path) -> None:
        conn = sqlite3.connect(temporary, isolation_level=None)
        try:
            conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA)
            conn.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)",
                [
                    ("format", str(FORMAT)),
                    ("definition", definition.canonical_json()),
                    ("definition_hash", definition.hash()),
                    ("created_at", now()),
                ],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
            with contextlib.suppress(OSError):  # left only by a failed transaction
                Path(f"{temporary}-journal").unlink()

    try:
        atomic_write(path, fill)
    except (OSError, sqlite3.Error) as error:
        reason = disk_reason(error) if isinstance(error, OSError) else str(error)
        raise SweepError(
            f"cannot create the sweep store {path} ({reason}); nothing was stored: make room "
            "or choose another --out, and rerun"
        ) from None


# --------------------------------------------------------------------------- #
# Export
# --------------------------------------------------------------------------- #


def _fmt(v: object) -> str:
    """Fixed, round-trip text for CSV cells (repr of floats; '' for NaN/None)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return str(v)


def _outcome_names(definition: SweepDefinition, points: Iterable[StoredPoint]) -> list[str]:
    if definition.outcomes:
        return list(definition.outcomes)
    names: set[str] = set()
    for p in points:
        if p.outcomes:
            names.update(p.outcomes)
    return sorted(names)


def _rows(
    definition: SweepDefinition, points: Mapping[int, StoredPoint]
) -> tuple[list[str], list[list[object]]]:
    outcomes = _outcome_names(definition, points.values())
    header = ["point", *definition.paths]
    for o in outcomes:
        header += [o, f"{o}_low", f"{o}_high"]
    header += ["runs", "error"]
    rows: list[list[object]] = []
    for idx in sorted(points):
        p = points[idx]
        params = json.loads(p.params_json)
        row: list[object] = [idx, *(params.get(k) for k in definition.paths)]
        for o in outcomes:
            row += list(p.outcomes[o]) if p.outcomes and o in p.outcomes else [None, None, None]
        row += [p.runs, p.error]
        rows.append(row)
    return header, rows


def export_csv(out_dir: str | os.PathLike[str], store: SweepStore | None = None) -> Path:
    """Write ``sweep.csv`` (sorted by point, fixed formatting) atomically; return its path."""
    out = Path(out_dir)
    if store is None:
        defn = load_definition(out)
        with SweepStore.open(out, defn) as st:
            return export_csv(out, st)
    header, rows = _rows(store.definition, store.latest())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([_fmt(v) for v in r])
    path = out / CSV_NAME
    write_text(buf.getvalue(), path)
    return path


def load_definition(out_dir: str | os.PathLike[str]) -> SweepDefinition:
    """The definition stored in a sweep folder."""
    found = SweepStore.inspect(out_dir)
    if found is None or not found.definition_hash:
        raise SweepError(f"{out_dir} holds no sweep ({STORE_NAME} not found)")
    if found.definition is None:
        raise SweepError(
            f"{Path(out_dir) / STORE_NAME}: stored definition cannot be read by this version"
        )
    return found.definition


def load_results(out_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """The sweep's results as a DataFrame with the same columns as ``sweep.csv``.

    Read from the store (the source of truth), so it works mid-sweep too.
    Failed points have NaN outcomes and their message in ``error``.
    """
    out = arguments.path("out_dir", out_dir)
    defn = load_definition(out)
    conn = _read_only(out / STORE_NAME)
    try:
        store = SweepStore(out, conn, defn, None)
        header, rows = _rows(defn, store.latest())
    finally:
        conn.close()
    df = pd.DataFrame(rows, columns=header)
    for c in header:
        if c == "error":
            continue
        if c in defn.paths and not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in df[c] if v is not None
        ):
            continue  # categorical: keep names as objects
        df[c] = pd.to_numeric(df[c])
    return df
