"""Result folders: writing tables, metadata and figures atomically, and reading them back.

A folder holds ``runs.csv``, ``curves.csv``, ``occupancy.csv``, ``summary.csv``, for comparisons
``comparison.csv``, ``metadata.json``, and the figures. Each file is written to a temporary name
and renamed into place, so a crash or Ctrl-C never leaves half a file. ``docs/results.md``
documents every column.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim import analysis, outcomes, plotting
from sim.errors import ResultsError
from sim.runner import Ensemble

TABLES = ("runs", "curves", "occupancy", "summary")
_UMASK = os.umask(0o022)
os.umask(_UMASK)
MARKER = "metadata.json"


def prepare_folder(out: Path, force: bool) -> None:
    """Check before any run that ``out`` can be written, so no computed result is lost later."""
    if out.exists() and not out.is_dir():
        raise ResultsError(f"--out {out} is a file, expected a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ResultsError(
            f"{out} already holds results; choose another --out, or add --force to overwrite it"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out):
            pass
    except OSError as error:
        raise ResultsError(f"cannot write to {out} ({error.strerror or error})") from None


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes it private; results are for sharing
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_table(table: pd.DataFrame, path: Path) -> None:
    _atomic_write(path, lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n"))


def write_text(text: str, path: Path) -> None:
    def dump(temporary: Path) -> None:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    _atomic_write(path, dump)


def write_json(data: object, path: Path) -> None:
    write_text(json.dumps(data, indent=2, default=str) + "\n", path)


def write_figure(figure: Figure, path: Path, dpi: int = 200) -> Path:
    """PNG at 200 dpi for slides, SVG for print; the format follows the suffix."""
    fmt = path.suffix.lstrip(".")
    _atomic_write(path, lambda tmp: figure.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight"))
    return path


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


def save(
    ensembles: Sequence[Ensemble], out: Path, rungs: Sequence[int] | None = None
) -> list[Path]:
    """Write the tables, metadata and figures of one ensemble or a comparison; return the files."""
    runs = pd.concat([e.runs for e in ensembles], ignore_index=True)
    tables = {
        "runs": runs,
        "curves": pd.concat([e.curves for e in ensembles], ignore_index=True),
        "occupancy": pd.concat([e.occupancy for e in ensembles], ignore_index=True),
        "summary": pd.concat([e.summary for e in ensembles], ignore_index=True),
    }
    scenario = ensembles[0].scenario
    if len(ensembles) > 1:
        tables["comparison"] = analysis.compare_runs(
            runs, outcomes.for_scenario(scenario), scenario.horizon
        )
    written = []
    for name, table in tables.items():
        write_table(table, out / f"{name}.csv")
        written.append(out / f"{name}.csv")
    metadata = {
        "kind": "comparison" if len(ensembles) > 1 else "ensemble",
        "ensembles": [e.metadata for e in ensembles],
    }
    write_json(metadata, out / MARKER)
    written.append(out / MARKER)
    return written + draw(load(out), rungs)


def load(folder: Path) -> Results:
    """Read a results folder written by ``save``; a folder that is not one is a ResultsError."""
    if not folder.is_dir():
        raise ResultsError(f"{folder} is not a folder")
    missing = [f"{name}.csv" for name in TABLES if not (folder / f"{name}.csv").exists()]
    if not (folder / MARKER).exists():
        missing.append(MARKER)
    if missing:
        raise ResultsError(
            f"{folder} is not a results folder (missing {', '.join(missing)}); "
            "make one with 'python run.py run SCENARIO'"
        )
    try:
        metadata = json.loads((folder / MARKER).read_text())
        tables = {name: pd.read_csv(folder / f"{name}.csv") for name in TABLES}
        comparison = (
            pd.read_csv(folder / "comparison.csv") if metadata.get("kind") == "comparison" else None
        )
    except (OSError, ValueError) as error:
        raise ResultsError(f"{folder} holds unreadable results ({error})") from None
    return Results(folder=folder, metadata=metadata, comparison=comparison, **tables)


def draw(results: Results, rungs: Sequence[int] | None = None) -> list[Path]:
    """Draw every figure of a results folder from its tables, as PNG and SVG.

    Scenarios are labelled by :func:`plotting.scenario_labels` (short descriptions, else their
    names made readable). A comparison's figure shows every outcome's difference with its 95%
    CI and, over days, the outcome that differs most (:func:`plotting.most_different`).
    """
    names = list(dict.fromkeys(results.curves["scenario"]))
    descriptions = {
        str(scenario.get("name")): str(scenario.get("description") or "")
        for scenario in (dict(e.get("scenario") or {}) for e in results.ensembles)  # type: ignore[call-overload]
    }
    labels = plotting.scenario_labels(names, descriptions)
    figures = {
        "curves": plotting.escalation_curves(
            results.curves, results.rung_names, rungs, results.start_date, labels
        ),
        "occupancy": plotting.occupancy(
            results.occupancy, results.rung_names, results.start_date, labels
        ),
    }
    if len(names) > 1 and results.comparison is not None and len(results.comparison):
        actors: dict[str, dict[str, object]] = dict(results.first_scenario["actors"])  # type: ignore[call-overload]
        states = list(actors)
        display = {state: str(actor.get("name", state)) for state, actor in actors.items()}
        columns: dict[str, list[str]] = {}
        for name in dict.fromkeys(results.comparison["outcome"]):
            try:
                definition = outcomes.outcome(
                    str(name), results.horizon, results.war, states, display
                ).definition
            except ValueError:
                continue
            found = plotting.day_columns(definition, list(results.runs.columns))
            if found:
                columns[str(name)] = found
        shown = plotting.most_different(results.comparison, list(columns))
        curve = (
            analysis.outcome_curve(results.runs, columns[shown], results.horizon)
            if shown is not None
            else None
        )
        figures["comparison"] = plotting.comparison_figure(
            results.comparison, shown, curve, labels, results.start_date
        )
    written = []
    for name, figure in figures.items():
        for suffix in (".png", ".svg"):
            write_figure(figure, results.folder / f"{name}{suffix}")
            written.append(results.folder / f"{name}{suffix}")
    return written
