"""A result as files: the tables, figures and metadata of ``run`` and ``compare``, and redrawing.

Figures are pure functions of the tables (:mod:`sim.views.plotting`); this module only decides
which to draw and writes them through :mod:`sim.files.folders`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError

from sim.analysis import outcomes
from sim.analysis import statistics as analysis
from sim.files.folders import (
    FIGURE_SUFFIXES,
    MARKER,
    TABLES,
    Folder,
    between_files,
    code_revision,
    disk_reason,
    interrupts_between_files,
    platform_info,
    scenario_hash,
    shown,
    write_figure,
)
from sim.files.results import Results
from sim.inputs.errors import ResultsError
from sim.model.model import opening
from sim.model.scenario import Scenario
from sim.views import plotting
from sim.views.text import name_struck

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.experiments.ensemble import Ensemble


@dataclass(frozen=True)
class Saved:
    """What :func:`save` wrote: file names, and why the figures are missing, if they are."""

    files: list[str]
    comparison: pd.DataFrame | None = None
    figures_error: str | None = None


def save(
    ensembles: Sequence[Ensemble],
    folder: Folder,
    rungs: Sequence[int] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> Saved:
    """Write the tables, figures and (last) metadata of one ensemble or a comparison.

    ``provenance`` adds keys to the metadata (the command, how to rerun it). If the disk fills
    up while the figures are drawn, the figures are left out and the tables are still saved;
    ``python run.py plot`` draws them later. Ctrl-C stops it between two files.
    """
    with interrupts_between_files():
        return _save(ensembles, folder, rungs, provenance)


def _save(
    ensembles: Sequence[Ensemble],
    folder: Folder,
    rungs: Sequence[int] | None,
    provenance: Mapping[str, Any] | None,
) -> Saved:
    scenario = ensembles[0].scenario
    tables = {
        name: pd.concat([getattr(e, name) for e in ensembles], ignore_index=True) for name in TABLES
    }
    comparison = None
    if len(ensembles) > 1:
        comparison = analysis.compare_runs(
            tables["runs"], outcomes.for_scenario(scenario), scenario.horizon
        )
        resolved = {e.scenario.name: e.scenario.model_dump(mode="json") for e in ensembles}
        comparison["by_construction"] = outcomes.construction_keys(comparison, resolved)
    for name, table in tables.items():
        folder.table(table, name)
    if comparison is not None:
        folder.table(comparison, "comparison")
    metadata: dict[str, Any] = {
        "kind": "comparison" if len(ensembles) > 1 else "ensemble",
        "ensembles": [
            {**e.metadata, "scenario_hash": scenario_hash(e.metadata["scenario"])}
            for e in ensembles
        ],
    }
    drawn = Results(folder=folder.path, metadata=metadata, comparison=comparison, **tables)
    figures_error = None
    try:
        for name, figure in figures(drawn, rungs).items():
            for suffix in FIGURE_SUFFIXES:
                folder.figure(figure, f"{name}{suffix}")
    except ResultsError as error:
        folder.drop_figures()
        figures_error = str(error)
    metadata = {
        "kind": metadata["kind"],
        **folder.manifest(),
        "format": folder.table_format,
        "written": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **(provenance or {}),
        "platform": platform_info(),
        **({"code": code_revision()} if code_revision() is not None else {}),
        "ensembles": metadata["ensembles"],
    }
    folder.json(metadata, MARKER)
    return Saved(
        files=[*folder.files, *folder.figures], comparison=comparison, figures_error=figures_error
    )


def figures(results: Results, rungs: Sequence[int] | None = None) -> dict[str, Figure]:
    """Every figure of a results folder, drawn from its tables.

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
    drawn = {
        "curves": plotting.escalation_curves(
            results.curves,
            results.rung_names,
            rungs,
            results.start_date,
            labels,
            outcome_curves(results),
        ),
        "occupancy": plotting.occupancy(
            results.occupancy, results.rung_names, results.start_date, labels
        ),
    }
    if len(names) > 1 and results.comparison is not None and len(results.comparison):
        comparison, left_out = _findings(results)
        actors: dict[str, dict[str, object]] = dict(results.first_scenario["actors"])  # type: ignore[call-overload]
        states = list(actors)
        display = {state: str(actor.get("name", state)) for state, actor in actors.items()}
        columns: dict[str, list[str]] = {}
        for name in dict.fromkeys(comparison["outcome"]):
            try:
                definition = outcomes.outcome(
                    str(name), results.horizon, results.war, states, display
                ).definition
            except ValueError:
                continue
            found = plotting.day_columns(definition, list(results.runs.columns))
            if found:
                columns[str(name)] = found
        shown_outcome = plotting.most_different(comparison, list(columns))
        curve = (
            analysis.outcome_curve(results.runs, columns[shown_outcome], results.horizon)
            if shown_outcome is not None
            else None
        )
        drawn["comparison"] = plotting.comparison_figure(
            comparison, shown_outcome, curve, labels, results.start_date, left_out
        )
    if "parameter_set" in results.runs.columns:
        # some numbers were uncertain: chance and parameter uncertainty apart, per scenario
        states = list(dict(results.first_scenario["actors"]))  # type: ignore[call-overload]
        names_shown = [n for n in UNCERTAINTY_OUTCOMES if _fits(n, results.horizon)]
        chosen = [outcomes.outcome(n, results.horizon, results.war, states) for n in names_shown]
        uncertain = results.runs.dropna(subset=["parameter_set"])
        for scenario, runs in uncertain.groupby("scenario", sort=False):
            key = "uncertainty" if len(names) == 1 else f"uncertainty_{scenario}"
            drawn[key] = plotting.uncertainty_figure(
                analysis.parameter_set_estimates(runs, chosen),
                analysis.uncertainty_split(runs, chosen),
                labels.get(str(scenario), str(scenario)),
            )
    return drawn


def outcome_curves(results: Results) -> pd.DataFrame:
    """What a class asks, day by day (``outcomes.CURVES``), from the runs of a results folder,
    the state struck first named; the answer's curve only for a crisis opened by a strike or an
    attack (``opening`` of the recorded scenario; a scenario recorded by hand or by an older
    version: if some run answered)."""
    actors: dict[str, dict[str, object]] = dict(results.first_scenario["actors"])  # type: ignore[call-overload]
    states = list(actors)
    display = {state: str(actor.get("name", state)) for state, actor in actors.items()}
    try:
        struck = opening(Scenario.model_validate(results.first_scenario))[1]
        opened = struck is not None
    except ValidationError:
        struck = None
        opened = "answer_day" in results.runs and bool(results.runs["answer_day"].notna().any())
    chosen = outcomes.curve_outcomes(results.horizon, results.war, states, opened, display)
    curves = analysis.outcome_curves(results.runs, chosen, results.horizon)
    named = display.get(struck) if struck is not None else None
    return curves.assign(label=[name_struck(label, named) for label in curves["label"]])


def _findings(results: Results) -> tuple[pd.DataFrame, str | None]:
    """The comparison without the differences true by construction (its ``by_construction``
    column; for a folder written before it, worked out from the scenarios in metadata.json),
    and the line that says which were left out (None if none)."""
    from sim.views.text import left_out_text

    comparison = results.comparison
    assert comparison is not None
    if "by_construction" in comparison:
        keys = [k if isinstance(k, str) and k else None for k in comparison["by_construction"]]
    else:
        resolved = {
            str(dict(e["scenario"]).get("name")): dict(e["scenario"])  # type: ignore[call-overload]
            for e in results.ensembles
        }
        keys = outcomes.construction_keys(comparison, resolved)
    left = pd.Series([k is not None for k in keys], index=comparison.index)
    if not left.any():
        return comparison, None
    dropped = comparison[left].drop_duplicates("outcome")
    key_of = dict(zip(comparison.index, keys, strict=True))
    return comparison[~left], left_out_text(dropped["label"], [key_of[i] for i in dropped.index])


UNCERTAINTY_OUTCOMES = ("answer_7d", "forces_30d", "sustained", "calm_14d")
"""The outcomes the uncertainty figure shows, where the horizon reaches them."""


def _fits(name: str, horizon: int) -> bool:
    digits = "".join(c for c in name if c.isascii() and c.isdigit())
    return not digits or int(digits) <= horizon


def draw(results: Results, rungs: Sequence[int] | None = None) -> list[Path]:
    """Draw every figure of a results folder into it, as PNG and SVG (each file replaced whole).

    A full disk is a ResultsError; the figures not yet redrawn keep their earlier version.
    Ctrl-C stops it between two files.
    """
    with interrupts_between_files():
        return _draw(results, rungs)


def _draw(results: Results, rungs: Sequence[int] | None) -> list[Path]:
    written = []
    for name, figure in figures(results, rungs).items():
        for suffix in FIGURE_SUFFIXES:
            between_files()
            path = results.folder / f"{name}{suffix}"
            try:
                write_figure(figure, path)
            except OSError as error:
                raise ResultsError(
                    f"cannot write {path.name} in {shown(results.folder)} "
                    f"({disk_reason(error)}); the figures not yet redrawn keep their earlier "
                    "version"
                ) from None
            written.append(path)
    return written
