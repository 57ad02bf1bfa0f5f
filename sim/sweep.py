"""Parameter sweeps: definition, resumable store, executors and CSV export.

The sweep machinery is model-independent: it drives an *evaluate* callable

    evaluate(overrides, runs, seed_seq) -> {outcome: (estimate, ci_low, ci_high)}

where ``overrides`` maps scenario key paths (``"actors.pakistan.audience_cost"``)
to values. The callable must be picklable (a module-level function, or a
``functools.partial`` of one) so it can run in a process pool or on Dask.

Guarantees, and how they are kept:

* **Deterministic** — point ``i`` of a definition is always the same override
  dict (:func:`sim.designs.build_design`) and always gets the seed
  ``SeedSequence(seed, spawn_key=(i,))``. Results therefore do not depend on
  execution order, executor, or on a sweep having been interrupted.
* **Resumable, nothing lost** — ``<out>/sweep.sqlite`` (WAL mode while running,
  one self-contained file after a clean close; append-only: triggers forbid
  UPDATE/DELETE) holds the canonical definition and one row per finished point,
  committed as each point finishes; only the coordinating process writes, and
  an advisory lock keeps two sweeps out of one folder. A killed process loses at most the points in flight. A rerun
  of the same definition skips finished points; a folder holding a different
  definition is refused (``SweepError``) and left untouched.
* **Failures are data** — a point whose evaluate raises is stored with
  ``"Type: message"`` (and its traceback) and the sweep goes on; a rerun does
  not retry it unless ``retry_errors=True`` (which appends a new attempt).
* **Reproducible export** — ``sweep.csv`` is written from the store, sorted by
  point index with fixed float formatting, atomically (temp file +
  ``os.replace``); a resumed sweep exports byte-for-byte the same file as an
  uninterrupted one.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import difflib
import hashlib
import io
import json
import logging
import math
import os
import re
import sqlite3
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from sim.designs import (
    DESIGNS,
    DesignPoints,
    ParamSpec,
    SweepError,
    Value,
    build_design,
    design_size,
    morris_indices,
    parse_param,
    parse_param_entry,
    point_seed,
    sobol_indices,
)
from sim.results import write_json, write_text
from sim.execution import worker_context, worker_init
from sim.runner import versions

__all__ = [
    "CSV_NAME",
    "METADATA_NAME",
    "STORE_NAME",
    "EvaluateFn",
    "Outcomes",
    "PointResult",
    "ProgressFn",
    "SweepDefinition",
    "SweepError",
    "StoreInfo",
    "SweepStore",
    "SweepSummary",
    "analyze_sweep",
    "apply_overrides",
    "check_paths",
    "evaluate_point",
    "export_csv",
    "load_definition",
    "load_results",
    "parse_params",
    "parse_sweep_block",
    "run_sweep",
]

log = logging.getLogger(__name__)

STORE_NAME = "sweep.sqlite"
CSV_NAME = "sweep.csv"
METADATA_NAME = "metadata.json"
_LOCK_NAME = ".sweep.lock"
_FORMAT = 1  # bump when the canonical definition or store schema changes

Outcomes = dict[str, tuple[float, float, float]]
EvaluateFn = Callable[
    [dict[str, Value], int, np.random.SeedSequence], Mapping[str, Sequence[float]]
]
#: progress(done, total, runs_per_second, eta_seconds); eta is ``math.inf`` until known.
ProgressFn = Callable[[int, int, float, float], None]

_OUTCOME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_COLUMNS = frozenset({"point", "runs", "error"})


# --------------------------------------------------------------------------- #
# Definition
# --------------------------------------------------------------------------- #


def _canonical(obj: Any) -> str:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def _positive_int(where: str, v: object, *, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise SweepError(f"{where}: expected an integer >= {minimum}, got {v!r}")
    return v


@dataclass(frozen=True)
class SweepDefinition:
    """Everything that determines a sweep's results (and nothing that does not).

    ``context`` is an opaque JSON object from the caller — e.g. the base
    scenario's path and content hash, the model version — so a folder swept
    over one scenario is not resumed with another. Executor, workers and
    output folder are deliberately *not* part of the definition.
    """

    parameters: tuple[ParamSpec, ...]
    design: str = "grid"
    samples: int | None = None
    runs: int = 1000
    seed: int = 0
    outcomes: tuple[str, ...] = ()
    second_order: bool = False
    levels: int = 4
    context: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "outcomes", tuple(self.outcomes))
        _positive_int("runs", self.runs)
        _positive_int("seed", self.seed, minimum=0)
        if not isinstance(self.second_order, bool):
            raise SweepError(f"second_order: expected true or false, got {self.second_order!r}")
        for p in self.parameters:
            if not isinstance(p, ParamSpec):
                raise SweepError(f"parameters: expected ParamSpec objects, got {p!r}")
            if p.path in _RESERVED_COLUMNS:
                raise SweepError(f"parameter path {p.path!r} clashes with a sweep.csv column name")
        seen: set[str] = set()
        for o in self.outcomes:
            if not isinstance(o, str) or not _OUTCOME_RE.match(o):
                raise SweepError(f"outcome {o!r}: expected a name like p_strike_7d")
            if o in seen:
                raise SweepError(f"outcome {o!r} is listed twice")
            seen.add(o)
        try:
            _canonical(dict(self.context))
        except (TypeError, ValueError) as e:
            raise SweepError(f"context: must be JSON-serialisable ({e})") from None
        design_size(
            self.parameters,
            self.design,
            self.samples,
            second_order=self.second_order,
            levels=self.levels,
        )

    @property
    def paths(self) -> tuple[str, ...]:
        """Parameter key paths in definition (= column) order."""
        return tuple(p.path for p in self.parameters)

    def size(self) -> int:
        """Number of design points."""
        return design_size(
            self.parameters,
            self.design,
            self.samples,
            second_order=self.second_order,
            levels=self.levels,
        )

    def points(self) -> DesignPoints:
        """The expanded, deterministic design."""
        return build_design(
            self.parameters,
            self.design,
            self.samples,
            seed=self.seed,
            second_order=self.second_order,
            levels=self.levels,
        )

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON object; knobs irrelevant to the design are left out of the hash."""
        obj: dict[str, Any] = {
            "format": _FORMAT,
            "design": self.design,
            "runs": self.runs,
            "seed": self.seed,
            "outcomes": list(self.outcomes),
            "parameters": [p.to_json() for p in self.parameters],
            "context": dict(self.context),
        }
        if self.design != "grid":
            obj["samples"] = self.samples
        if self.design == "sobol":
            obj["second_order"] = self.second_order
        if self.design == "morris":
            obj["levels"] = self.levels
        return obj

    def canonical_json(self) -> str:
        """Sorted-key, whitespace-free JSON: equal definitions give equal text."""
        return _canonical(self.to_json())

    def hash(self) -> str:
        """SHA-256 of :meth:`canonical_json`; identifies the sweep in its store."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SweepDefinition:
        """Inverse of :meth:`to_json`."""
        if obj.get("format") != _FORMAT:
            raise SweepError(
                f"sweep definition format {obj.get('format')!r} is not supported "
                f"(expected {_FORMAT})"
            )
        return cls(
            parameters=tuple(ParamSpec.from_json(p) for p in obj["parameters"]),
            design=obj["design"],
            samples=obj.get("samples"),
            runs=obj["runs"],
            seed=obj["seed"],
            outcomes=tuple(obj["outcomes"]),
            second_order=obj.get("second_order", False),
            levels=obj.get("levels", 4),
            context=obj.get("context", {}),
        )


def parse_params(texts: Iterable[str]) -> tuple[ParamSpec, ...]:
    """Parse repeated CLI ``--param`` strings (see :func:`sim.designs.parse_param`)."""
    return tuple(parse_param(t) for t in texts)


_BLOCK_KEYS = (
    "design",
    "samples",
    "runs",
    "seed",
    "outcomes",
    "second_order",
    "levels",
    "parameters",
)


def parse_sweep_block(
    block: Mapping[str, Any], *, context: Mapping[str, Any] | None = None
) -> SweepDefinition:
    """Build a :class:`SweepDefinition` from a YAML ``sweep:`` block (already loaded).

    Schema (all keys but ``parameters`` optional)::

        sweep:
          design: grid            # grid | lhs | sobol | morris
          samples: 256            # lhs: points; sobol: base N (power of 2); morris: trajectories
          runs: 1000              # Monte Carlo runs per design point
          seed: 1                 # sweep seed (point i gets SeedSequence(seed, spawn_key=(i,)))
          outcomes: [p_strike_7d] # default: every outcome evaluate returns
          second_order: false     # sobol only: also S2 sampling (2D+2 instead of D+2 points per N)
          levels: 4               # morris only: even number of grid levels
          parameters:             # key path -> spec, in column order
            actors.pakistan.audience_cost: {range: [0, 1], count: 11}
            mediators.china.effectiveness: {values: [0.2, 0.5, 0.8]}
            actors.india.policy: {values: [escalate, tit_for_tat]}
            actors.india.resolve: {bounds: [0.1, 0.9]}
            actors.x.y: "0:1:5"   # the --param syntax also works

    A mapping holding a ``sweep`` key (a whole YAML document) is accepted too.
    """
    if isinstance(block, Mapping) and "sweep" in block and "parameters" not in block:
        block = block["sweep"]
    if not isinstance(block, Mapping):
        raise SweepError(f"sweep: expected a mapping, got {type(block).__name__}")
    unknown = [str(k) for k in block if k not in _BLOCK_KEYS]
    if unknown:
        raise SweepError(
            f"sweep.{unknown[0]}: unknown key (expected one of {', '.join(_BLOCK_KEYS)})"
        )
    params = block.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise SweepError("sweep.parameters: expected a non-empty mapping of key path -> spec")
    specs = tuple(parse_param_entry(str(k), v) for k, v in params.items())
    design = block.get("design", "grid")
    if design not in DESIGNS:
        raise SweepError(
            f"sweep.design: {design!r} is unknown (expected one of {', '.join(DESIGNS)})"
        )
    outcomes = block.get("outcomes", [])
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    if not isinstance(outcomes, list | tuple):
        raise SweepError(f"sweep.outcomes: expected a list of outcome names, got {outcomes!r}")
    samples = block.get("samples")
    if samples is not None:
        _positive_int("sweep.samples", samples)
    return SweepDefinition(
        parameters=specs,
        design=design,
        samples=samples,
        runs=_positive_int("sweep.runs", block.get("runs", 1000)),
        seed=_positive_int("sweep.seed", block.get("seed", 0), minimum=0),
        outcomes=tuple(outcomes),
        second_order=block.get("second_order", False),
        levels=_positive_int("sweep.levels", block.get("levels", 4), minimum=2),
        context=dict(context or {}),
    )


# --------------------------------------------------------------------------- #
# Scenario key paths
# --------------------------------------------------------------------------- #


def _step(node: Any, key: str) -> tuple[bool, Any]:
    if isinstance(node, Mapping):
        return (key in node, node.get(key))
    if isinstance(node, list) and key.isdigit():
        i = int(key)
        return (i < len(node), node[i] if i < len(node) else None)
    return (False, None)


def check_paths(params: Iterable[ParamSpec], scenario: Mapping[str, Any]) -> None:
    """Refuse parameter paths that are not in the (loaded, nested) scenario.

    Also refuses a numeric sweep of a name-valued key and vice versa, and a
    path that ends at a section rather than a value.
    """
    for p in params:
        node: Any = scenario
        parts = p.path.split(".")
        for depth, key in enumerate(parts):
            ok, child = _step(node, key)
            if not ok:
                where = ".".join(parts[:depth]) or "the scenario top level"
                keys = [str(k) for k in node] if isinstance(node, Mapping) else []
                near = difflib.get_close_matches(key, keys, n=1)
                hint = (
                    f"; did you mean {near[0]!r}?"
                    if near
                    else (f" (has: {', '.join(keys[:12])})" if keys else "")
                )
                raise SweepError(
                    f"unknown parameter path {p.path!r}: no key {key!r} under {where}{hint}"
                )
            node = child
        if isinstance(node, Mapping | list):
            raise SweepError(f"parameter {p.path!r} is a section of the scenario, not a value")
        is_num = isinstance(node, int | float) and not isinstance(node, bool)
        if is_num and p.categorical:
            raise SweepError(
                f"parameter {p.path!r} is numeric in the scenario but the sweep lists names"
            )
        if isinstance(node, str) and not p.categorical:
            raise SweepError(
                f"parameter {p.path!r} is a name ({node!r}) in the scenario; "
                "sweep it by listing names"
            )


def apply_overrides(scenario: Mapping[str, Any], overrides: Mapping[str, Value]) -> dict[str, Any]:
    """Deep copy of ``scenario`` with each dotted path set to its override value."""
    out = copy.deepcopy(dict(scenario))
    for path, value in overrides.items():
        parts = path.split(".")
        node: Any = out
        for key in parts[:-1]:
            ok, node = _step(node, key)
            if not ok:
                raise SweepError(f"unknown parameter path {path!r}: no key {key!r}")
        last = parts[-1]
        if isinstance(node, list) and last.isdigit() and int(last) < len(node):
            node[int(last)] = value
        elif isinstance(node, dict) and last in node:
            node[last] = value
        else:
            raise SweepError(f"unknown parameter path {path!r}: no key {last!r}")
    return out


# --------------------------------------------------------------------------- #
# Evaluating one point (runs in workers)
# --------------------------------------------------------------------------- #


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


def _one_line(text: str, limit: int = 2000) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _normalise_outcomes(raw: object, wanted: Sequence[str]) -> Outcomes:
    if not isinstance(raw, Mapping):
        raise TypeError(
            "evaluate must return a mapping of outcome -> (estimate, low, high), "
            f"got {type(raw).__name__}"
        )
    out: Outcomes = {}
    for name, triple in raw.items():
        try:
            est, lo, hi = (float(x) for x in triple)
        except (TypeError, ValueError):
            raise TypeError(
                f"outcome {name!r}: expected (estimate, low, high), got {triple!r}"
            ) from None
        out[str(name)] = (est, lo, hi)
    missing = [w for w in wanted if w not in out]
    if missing:
        raise KeyError(
            f"evaluate returned no outcome {missing[0]!r} (has: {', '.join(sorted(out))})"
        )
    return out


def evaluate_point(
    evaluate: EvaluateFn,
    index: int,
    overrides: dict[str, Value],
    runs: int,
    sweep_seed: int,
    outcomes: Sequence[str] = (),
) -> PointResult:
    """Evaluate point ``index`` with its own seed; an exception becomes a recorded error.

    Module-level so process pools and Dask can ship it.
    """
    t0 = time.perf_counter()
    try:
        raw = evaluate(dict(overrides), runs, point_seed(sweep_seed, index))
        res = _normalise_outcomes(raw, outcomes)
    except Exception as e:  # noqa: BLE001 - a failing point is data; the sweep goes on
        return PointResult(
            index,
            overrides,
            None,
            runs,
            error=_one_line(f"{type(e).__name__}: {e}"),
            traceback=traceback.format_exc(),
            elapsed_s=time.perf_counter() - t0,
        )
    return PointResult(index, overrides, res, runs, elapsed_s=time.perf_counter() - t0)


# --------------------------------------------------------------------------- #
# Store
# --------------------------------------------------------------------------- #

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


def stored_points(out_dir: str | os.PathLike[str]) -> int:
    """How many design points ``out_dir`` has stored (0 when it has no readable store)."""
    try:
        info = SweepStore.inspect(out_dir)
    except SweepError:
        return 0
    return info.points if info is not None else 0


@dataclass(frozen=True)
class StoreInfo:
    """Summary of an existing store, read without modifying it."""

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


def _params_json(params: Mapping[str, Value]) -> str:
    return json.dumps(dict(params), separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, timeout=10.0
    )  # autocommit: one txn per point
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: every commit survives a process kill; only an OS
    # crash/power loss could drop the last few (never corrupt the file).
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class _DirLock:
    """Exclusive advisory lock on the output folder so two sweeps never interleave."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / _LOCK_NAME
        self.fh: io.TextIOWrapper | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX: no locking
            return
        fh = open(self.path, "a+")  # noqa: SIM115 - held for the store's lifetime
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise SweepError(
                f"{self.path.parent} is in use by another running sweep; "
                "wait for it or use another --out"
            ) from None
        self.fh = fh

    def release(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


class SweepStore:
    """Append-only SQLite store of one sweep's definition and finished points."""

    def __init__(
        self,
        out_dir: Path,
        conn: sqlite3.Connection,
        definition: SweepDefinition,
        lock: _DirLock | None,
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
        path = Path(out_dir) / STORE_NAME
        if not path.exists():
            return None
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
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
        """Open (or create) the store for ``definition`` in ``out_dir``.

        A store holding a different definition and any finished point is
        refused unless ``force``, which renames it (and its CSV/metadata) aside
        rather than deleting anything. One with no finished point holds no
        results, so it is simply replaced (e.g. after an unreachable scheduler).
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        lock = _DirLock(out)
        lock.acquire()
        try:
            path = out / STORE_NAME
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
                    cls._set_aside(out, found.definition_hash[:12])
                found = None
            conn = _connect(path)
            if found is None:
                try:
                    conn.executescript("BEGIN IMMEDIATE;" + _SCHEMA)
                    conn.executemany(
                        "INSERT INTO meta(key, value) VALUES (?, ?)",
                        [
                            ("format", str(_FORMAT)),
                            ("definition", definition.canonical_json()),
                            ("definition_hash", want),
                            ("created_at", _now()),
                        ],
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    conn.close()
                    raise
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
    def _set_aside(out: Path, old_hash: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for name in (STORE_NAME, f"{STORE_NAME}-wal", f"{STORE_NAME}-shm", CSV_NAME, METADATA_NAME):
            src = out / name
            if src.exists():
                dst = out / f"{name}.{old_hash}.{stamp}.bak"
                os.replace(src, dst)
                log.warning("set aside %s as %s", src, dst.name)

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
        self.conn.execute(
            "INSERT INTO points(idx, attempt, params, outcomes, runs, error, traceback, "
            "elapsed_s, finished_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                result.index,
                attempt,
                _params_json(result.params),
                None
                if result.outcomes is None
                else json.dumps({k: list(v) for k, v in result.outcomes.items()}),
                result.runs,
                result.error,
                result.traceback,
                result.elapsed_s,
                _now(),
            ),
        )

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
    if found is None:
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
    out = Path(out_dir)
    defn = load_definition(out)
    path = out / STORE_NAME
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
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


def analyze_sweep(
    definition: SweepDefinition,
    results: pd.DataFrame,
    outcome: str,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
) -> pd.DataFrame:
    """Sensitivity indices of ``outcome`` for a sobol or morris sweep.

    Sobol: S1/ST with CIs (:func:`sim.designs.sobol_indices`); Morris:
    mu_star (+CI)/sigma (:func:`sim.designs.morris_indices`). Needs every
    design point finished without error.
    """
    if definition.design not in ("sobol", "morris"):
        raise SweepError(
            "sensitivity indices need a sobol or morris design, "
            f"this sweep is {definition.design!r}"
        )
    if outcome not in results.columns:
        raise SweepError(
            f"outcome {outcome!r} is not in the results (have: {', '.join(_outcomes_of(results))})"
        )
    n = definition.size()
    y = results.set_index("point")[outcome].reindex(range(n)).to_numpy(dtype=float)
    if definition.design == "sobol":
        return sobol_indices(
            definition.parameters,
            y,
            seed=definition.seed,
            second_order=definition.second_order,
            conf_level=conf_level,
            num_resamples=num_resamples,
        )
    X = definition.points().X
    assert X is not None
    return morris_indices(
        definition.parameters,
        X,
        y,
        seed=definition.seed,
        levels=definition.levels,
        conf_level=conf_level,
        num_resamples=num_resamples,
    )


def _outcomes_of(df: pd.DataFrame) -> list[str]:
    cols = set(df.columns)
    return [c for c in df.columns if f"{c}_low" in cols and f"{c}_high" in cols]


# --------------------------------------------------------------------------- #
# Executors
# --------------------------------------------------------------------------- #

Task = tuple[int, dict[str, Value]]


class _Executor(Protocol):
    def run(self, tasks: Sequence[Task]) -> Iterator[PointResult]: ...  # pragma: no cover
    def close(self, abort: bool = False) -> None: ...  # pragma: no cover


@dataclass
class _Job:
    evaluate: EvaluateFn
    runs: int
    seed: int
    outcomes: tuple[str, ...]

    def args(self, task: Task) -> tuple[Any, ...]:
        return (self.evaluate, task[0], task[1], self.runs, self.seed, self.outcomes)


class _InlineExecutor:
    def __init__(self, job: _Job) -> None:
        self.job = job

    def run(self, tasks: Sequence[Task]) -> Iterator[PointResult]:
        for t in tasks:
            yield evaluate_point(*self.job.args(t))

    def close(self, abort: bool = False) -> None:
        pass


class _PoolExecutor:
    """ProcessPoolExecutor with a bounded window of in-flight points."""

    def __init__(self, job: _Job, workers: int, start_method: str | None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.job = job
        self.window = 2 * workers
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=(
                multiprocessing.get_context(start_method) if start_method else worker_context()
            ),
            initializer=worker_init,
        )

    def run(self, tasks: Sequence[Task]) -> Iterator[PointResult]:
        from concurrent.futures import FIRST_COMPLETED, Future, wait
        from concurrent.futures.process import BrokenProcessPool

        it = iter(tasks)
        pending: set[Future[PointResult]] = set()

        def fill() -> None:
            while len(pending) < self.window:
                t = next(it, None)
                if t is None:
                    return
                pending.add(self.pool.submit(evaluate_point, *self.job.args(t)))

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                pending.discard(f)
                try:
                    yield f.result()
                except BrokenProcessPool as e:
                    raise SweepError(
                        f"a worker process died ({e}); finished points are stored, rerun to resume"
                    ) from None
            fill()

    def close(self, abort: bool = False) -> None:
        if not abort:
            self.pool.shutdown(wait=True)
            return
        # Interrupted: do not wait for in-flight points (they are lost anyway).
        self.pool.shutdown(wait=False, cancel_futures=True)
        kill = getattr(self.pool, "terminate_workers", None)  # Python >= 3.14
        if kill is not None:
            kill()
        else:
            procs = getattr(self.pool, "_processes", None) or {}
            for proc in list(procs.values()):
                with contextlib.suppress(Exception):
                    proc.terminate()
        self.pool.shutdown(wait=True)


class _DaskExecutor:
    """dask.distributed: submit a bounded window, collect with as_completed."""

    def __init__(
        self, job: _Job, scheduler: str | None, workers: int, connect_timeout: float
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepError(
                "the dask executor needs the optional extra: pip install 'dask[distributed]'"
            ) from None
        self.job = job
        self.cluster: Any = None
        try:
            if scheduler is None:
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
                self.client = Client(self.cluster, set_as_default=False)
            else:
                self.client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise SweepError(
                f"cannot reach Dask scheduler at {scheduler}: {_one_line(str(e), 300)}"
            ) from None
        try:
            self.client.wait_for_workers(1, timeout=connect_timeout)
        except (OSError, TimeoutError):
            self.close()
            raise SweepError(
                f"Dask scheduler at {scheduler} has no workers (waited {connect_timeout:g} s); "
                "start some with: dask worker ADDRESS"
            ) from None
        nthreads = sum(self.client.nthreads().values()) or 1
        self.window = 2 * nthreads

    def run(self, tasks: Sequence[Task]) -> Iterator[PointResult]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        it = iter(tasks)
        by_key: dict[Any, Task] = {}
        # Pass the loop: with set_as_default=False there is no default client.
        ac = as_completed(loop=self.client.loop)

        def submit() -> bool:
            t = next(it, None)
            if t is None:
                return False
            fut = self.client.submit(evaluate_point, *self.job.args(t), pure=False)
            by_key[fut.key] = t
            ac.add(fut)
            return True

        for _ in range(self.window):
            if not submit():
                break
        try:
            for fut in ac:
                task = by_key.pop(fut.key)
                try:
                    res = fut.result()
                except KilledWorker as e:
                    # The point itself keeps killing workers: record it like an exception.
                    res = PointResult(
                        task[0], task[1], None, self.job.runs, error=_one_line(f"KilledWorker: {e}")
                    )
                except Exception as e:
                    raise SweepError(
                        f"Dask failed on point {task[0]} "
                        f"({type(e).__name__}: {_one_line(str(e), 300)}); "
                        "finished points are stored, rerun to resume"
                    ) from None
                finally:
                    fut.release()
                yield res
                submit()
        finally:
            ac.clear()

    def close(self, abort: bool = False) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


# --------------------------------------------------------------------------- #
# Running
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class SweepSummary:
    """What a :func:`run_sweep` call did."""

    out_dir: Path
    definition_hash: str
    total: int
    skipped: int
    evaluated: int
    failed: int
    finished: int
    elapsed_s: float
    csv_path: Path

    @property
    def complete(self) -> bool:
        """True when every design point has a stored result (possibly an error)."""
        return self.finished == self.total

    def message(self) -> str:
        """One line for the CLI."""
        parts = [f"{self.finished}/{self.total} points stored in {self.out_dir}"]
        if self.skipped:
            parts.append(f"{self.skipped} already finished (skipped)")
        parts.append(f"{self.evaluated} evaluated in {self.elapsed_s:.1f} s")
        if self.failed:
            parts.append(f"{self.failed} failed (see the error column of {CSV_NAME})")
        return "; ".join(parts)


class _Progress:
    def __init__(self, cb: ProgressFn | None, total: int, done: int, runs: int) -> None:
        self.cb, self.total, self.done, self.runs = cb, total, done, runs
        self.new = 0
        self.t0 = time.perf_counter()

    def tick(self, n: int = 1) -> None:
        self.done += n
        self.new += n
        self.emit()

    def emit(self) -> None:
        if self.cb is None:
            return
        dt = time.perf_counter() - self.t0
        rps = self.new * self.runs / dt if dt > 0 and self.new else 0.0
        eta = (
            (self.total - self.done) * self.runs / rps
            if rps > 0
            else (0.0 if self.done >= self.total else math.inf)
        )
        self.cb(self.done, self.total, rps, eta)


def _check_executor_args(kind: str, workers: int, scheduler: str | None) -> None:
    _positive_int("workers", workers)
    if kind not in ("local", "dask"):
        raise SweepError(f"executor {kind!r} is unknown; expected local or dask")
    if kind == "local" and scheduler is not None:
        raise SweepError("--scheduler is only used with --executor dask")


def _make_executor(
    kind: str,
    job: _Job,
    workers: int,
    scheduler: str | None,
    connect_timeout: float,
    start_method: str | None,
) -> _Executor:
    _check_executor_args(kind, workers, scheduler)
    if kind == "dask":
        return _DaskExecutor(job, scheduler, workers, connect_timeout)
    return _InlineExecutor(job) if workers == 1 else _PoolExecutor(job, workers, start_method)


def run_sweep(
    definition: SweepDefinition,
    evaluate: EvaluateFn,
    out_dir: str | os.PathLike[str],
    *,
    executor: Literal["local", "dask"] = "local",
    workers: int = 1,
    scheduler: str | None = None,
    connect_timeout: float = 5.0,
    force: bool = False,
    retry_errors: bool = False,
    progress: ProgressFn | None = None,
    start_method: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> SweepSummary:
    """Run (or resume) a sweep into ``out_dir``; return a summary.

    Points already stored are skipped (errors too, unless ``retry_errors``).
    ``executor="local"`` runs inline for ``workers=1`` and in a process pool
    otherwise (started as ``runner.worker_context`` says, unless ``start_method`` names a
    ``multiprocessing`` start method);
    ``executor="dask"`` submits to ``scheduler`` (``tcp://host:port``), or to a
    LocalCluster of ``workers`` processes when no scheduler is given.
    ``metadata`` is merged into ``metadata.json`` (e.g. scenario path, git
    commit). Writes ``sweep.csv`` and ``metadata.json`` at the end, and also
    when interrupted (Ctrl-C), so the CSV always reflects what is stored.
    """
    out = Path(out_dir)
    _check_executor_args(executor, workers, scheduler)
    design = definition.points()  # validates; deterministic
    total = len(design)
    started = _now()
    job = _Job(evaluate, definition.runs, definition.seed, definition.outcomes)

    # Refuse a foreign folder before connecting anything; opening takes the lock.
    store = SweepStore.open(out, definition, force=force)
    try:
        stored = store.latest()
        for idx, sp in stored.items():
            if idx >= total or sp.params_json != _params_json(design.points[idx]):
                raise SweepError(
                    f"stored point {idx} does not match this design's point {idx} "
                    "(were numpy/scipy/SALib upgraded?); use another --out or --force"
                )
        todo = [
            (i, design.points[i])
            for i in range(total)
            if i not in stored or (retry_errors and stored[i].error is not None)
        ]
        skipped = total - len(todo)
        if skipped:
            log.info("%s: %d of %d points already finished, skipping them", out, skipped, total)
        # Connect before the first write, so an unreachable scheduler changes nothing.
        ex = (
            _make_executor(executor, job, workers, scheduler, connect_timeout, start_method)
            if todo
            else None
        )
        prog = _Progress(progress, total, skipped, definition.runs)
        prog.emit()
        evaluated = 0
        t0 = time.perf_counter()
        try:
            if ex is not None:
                try:
                    for res in ex.run(todo):
                        prev = stored.get(res.index)
                        store.record(res, attempt=(prev.attempt + 1) if prev else 0)
                        evaluated += 1
                        prog.tick()
                except BaseException:
                    ex.close(abort=True)
                    raise
                ex.close()
        finally:
            latest = store.latest()
            csv_path = export_csv(out, store)
            summary = SweepSummary(
                out_dir=out,
                definition_hash=definition.hash(),
                total=total,
                skipped=skipped,
                evaluated=evaluated,
                failed=sum(1 for p in latest.values() if p.error is not None),
                finished=len(latest),
                elapsed_s=time.perf_counter() - t0,
                csv_path=csv_path,
            )
            meta = {
                "definition": definition.to_json(),
                "definition_hash": summary.definition_hash,
                "points": {"total": total, "finished": summary.finished, "failed": summary.failed},
                "last_run": {
                    "started_at": started,
                    "finished_at": _now(),
                    "executor": executor,
                    "workers": workers,
                    "scheduler": scheduler,
                    "skipped": skipped,
                    "evaluated": evaluated,
                    "elapsed_s": round(summary.elapsed_s, 3),
                },
                "versions": versions("SALib", "distributed"),
                **dict(metadata or {}),
            }
            write_json(meta, out / METADATA_NAME)
    finally:
        store.close()
    log.info("%s", summary.message())
    return summary
