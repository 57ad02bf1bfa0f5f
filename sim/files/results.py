"""Results of ``run`` and ``compare`` read back: the tables and metadata, checked to be whole.

A folder holds the tables ``runs``, ``curves``, ``occupancy``, ``summary`` (and ``comparison``) as
CSV or Parquet, ``metadata.json`` and the figures; ``docs/results.md`` documents every column and
says what a folder guarantees after a crash. :func:`load` refuses a folder whose tables do not
match the SHA-256 its metadata lists. Writing is :mod:`sim.files.folders`; drawing and saving a
whole result is :mod:`sim.views.report`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.files.folders import (
    FORMATS,
    MARKER,
    MAX_METADATA_BYTES,
    TABLES,
    kind_name,
    read_regular,
    require_format,
    result_kind,
    scenario_hash,
    shown,
)
from sim.inputs import arguments
from sim.inputs.errors import ResultsError

MAX_TABLE_BYTES = 20 * 10**9
"""The largest table a reader takes: above what 10 million runs write, so a device or a file
that never ends is refused before it is read."""


@dataclass(frozen=True)
class Results:
    """A results folder read back: its tables and metadata."""

    folder: Path
    runs: pd.DataFrame
    curves: pd.DataFrame
    occupancy: pd.DataFrame
    summary: pd.DataFrame
    metadata: dict[str, object]
    comparison: pd.DataFrame | None = None

    @property
    def ensembles(self) -> list[dict[str, object]]:
        return list(self.metadata["ensembles"])  # type: ignore[call-overload]

    @property
    def first_scenario(self) -> dict[str, object]:
        return dict(self.ensembles[0]["scenario"])  # type: ignore[call-overload]

    @property
    def rung_names(self) -> list[str]:
        ladder = self.first_scenario["ladder"]
        return [rung["name"] for rung in ladder["rungs"]]  # type: ignore[index]

    @property
    def start_date(self) -> str | None:
        start = self.first_scenario.get("start_date")
        return str(start) if start else None

    @property
    def horizon(self) -> int:
        return int(self.first_scenario["horizon"])  # type: ignore[call-overload]

    @property
    def war(self) -> int:
        return len(self.rung_names) - 1


READABLE = ("ensemble", "comparison")
"""The kinds of result :func:`load` reads: those of ``run`` and ``compare``."""


def load(folder: str | os.PathLike[str]) -> Results:
    """Read a results folder written by ``run`` or ``compare``, checked to be one whole result.

    Each table's bytes must match the SHA-256 that ``metadata.json`` (written last) lists for it;
    a folder mixing files of two runs, changed by hand, or written by a version that did not list
    its files is a ResultsError that says which file and how to remake the folder.
    """
    folder = arguments.path("folder", folder)
    if not os.path.isdir(folder):
        raise ResultsError(f"{shown(folder)} is not a folder")
    found, _ = result_kind(folder)
    if found not in (None, *READABLE, "unreadable result"):
        raise ResultsError(
            f"{shown(folder)} holds another kind of result ({kind_name(found)}), not the result "
            "of a run or a comparison, which is what is read here; give a folder made by "
            "'python run.py run' or 'compare'"
        )
    record = folder / MARKER
    if not record.exists():
        missing = [
            f"{name}.csv"
            for name in TABLES
            if not any((folder / f"{name}.{fmt}").exists() for fmt in FORMATS)
        ]
        raise ResultsError(
            f"{shown(folder)} is not a results folder (missing {', '.join([*missing, MARKER])}); "
            "make one with 'python run.py run SCENARIO'"
        )
    try:
        metadata = json.loads(
            read_regular(record, MAX_METADATA_BYTES, "a metadata file", "remake the folder")
        )
    except (ValueError, RecursionError) as error:
        raise ResultsError(f"{shown(folder)}/{MARKER} cannot be read ({error})") from None
    rerun = _rerun_hint(metadata)
    files = metadata.get("files") if isinstance(metadata, dict) else None
    if not isinstance(files, dict) or not isinstance(metadata.get("run_id"), str):
        raise ResultsError(
            f"{shown(folder)}: its {MARKER} lists no files and no run id (it was written by an "
            f"earlier version, or by hand), so it cannot be checked as one complete result; "
            f"{rerun}"
        )
    ensembles = metadata.get("ensembles")
    if not (
        isinstance(ensembles, list)
        and ensembles
        and all(isinstance(e, dict) and isinstance(e.get("scenario"), dict) for e in ensembles)
    ):
        raise ResultsError(
            f"{shown(folder)}/{MARKER} does not describe the ensembles it holds; {rerun}"
        )
    tables: dict[str, pd.DataFrame] = {}
    wanted = [*TABLES, *(["comparison"] if metadata.get("kind") == "comparison" else [])]
    for stem in wanted:
        name = next((n for n in (f"{stem}.{fmt}" for fmt in FORMATS) if n in files), None)
        if name is None:
            raise ResultsError(
                f"{shown(folder)} is not one complete result: its {MARKER} lists no {stem} "
                f"table; {rerun}"
            )
        tables[stem] = _read_checked(folder, name, str(files[name]), rerun)
    comparison = tables.pop("comparison", None)
    _check_against_metadata(folder, tables["runs"], ensembles, rerun)
    return Results(folder=folder, metadata=metadata, comparison=comparison, **tables)


def _check_against_metadata(
    folder: Path, runs: pd.DataFrame, ensembles: list[dict[str, Any]], rerun: str
) -> None:
    """The tables are the ones the metadata describes: each scenario as recorded (its hash),
    its number of runs, and the seeds those runs have (``run_seeds`` of the recorded seed)."""
    from sim.model.streams import run_seeds

    def refuse(what: str) -> ResultsError:
        return ResultsError(f"{shown(folder)} does not match its {MARKER}: {what}; {rerun}")

    for ensemble in ensembles:
        scenario = ensemble["scenario"]
        name = scenario.get("name")
        recorded = ensemble.get("scenario_hash")
        if recorded is not None and recorded != scenario_hash(scenario):
            raise refuse(f"the scenario {name!r} recorded there was changed after the run")
        count, seed = ensemble.get("runs"), ensemble.get("seed")
        if not isinstance(count, int) or not isinstance(seed, int):
            raise refuse(f"it gives no whole number of runs and seed for {name!r}")
        mine = runs[runs["scenario"] == name] if "scenario" in runs.columns else runs
        if len(mine) != count:
            raise refuse(f"it says {count:,} runs of {name!r}, and runs holds {len(mine):,}")
        if (
            "seed" in mine.columns
            and count
            and not np.array_equal(mine["seed"].to_numpy(dtype=np.int64), run_seeds(seed, 0, count))
        ):
            raise refuse(f"the runs of {name!r} do not have the seeds of seed {seed}")


def _rerun_hint(metadata: Any) -> str:
    rerun = metadata.get("rerun") if isinstance(metadata, dict) else None
    if isinstance(rerun, str):
        return f"remake it with: {rerun}"
    return "remake it by running the command again"


def _read_checked(folder: Path, name: str, expected: str, rerun: str) -> pd.DataFrame:
    """A table whose bytes are exactly those the run wrote (hashed as read, so a swap in the
    middle of reading is caught too)."""
    path = folder / name
    if not path.exists() and not path.is_symlink():
        raise ResultsError(
            f"{shown(folder)} is not one complete result: {name} is missing; {rerun}"
        )
    data = read_regular(path, MAX_TABLE_BYTES, "a table", rerun)
    if hashlib.sha256(data).hexdigest() != expected:
        raise ResultsError(
            f"{shown(folder)} is not one complete result: {name} is not the file its {MARKER} "
            f"lists (it was changed, or comes from another run); {rerun}"
        )
    try:
        if name.endswith(".parquet"):
            require_format("parquet")
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data))
    except ResultsError:
        raise
    except Exception as error:  # noqa: BLE001 - any parser failure is an unreadable table
        raise ResultsError(f"{shown(folder)}/{name} cannot be read ({error})") from None
