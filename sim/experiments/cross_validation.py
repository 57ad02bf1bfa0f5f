"""Leave one case out: the calibration fitted without each case in turn, and every case's
out-of-sample forecast scored against the coin, the leave-one-out base rate and the cases as
written. The structure is frozen before any left-out case is scored.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from sim.experiments import backtest
from sim.experiments.calibrate import (
    Posterior,
    Settings,
    calibrate,
    compare_scores,
    folder_settings,
    forecasts,
    rows_of,
    summary,
    versions,
)
from sim.experiments.calibration_cases import Library
from sim.experiments.calibration_folder import (
    CV_KIND,
    CalibrationError,
    check_folder,
    write_metadata,
)
from sim.inputs.errors import Problem

# --------------------------------------------------------------------------- #
# Leave-one-case-out cross-validation
# --------------------------------------------------------------------------- #


def cross_validate(
    library: Library,
    out: Path,
    settings: Settings,
    executor: Executor,
    slots: int,
    runs: int,
    report: Callable[[str], None] | None = None,
    command: Sequence[str] = (),
) -> pd.DataFrame:
    """Calibrate without each case in turn (``out/folds/<case>/``) and forecast the left-out
    case with that posterior: the out-of-sample forecasts of every case, in the table format
    of ``backtest.forecasts``. Each fold resumes like a calibration."""
    if len(library.cases) < 3:
        raise CalibrationError(
            [
                Problem(
                    str(library.folder),
                    "",
                    f"cross-validation needs at least 3 cases (one left out, and a base rate "
                    f"from the others), found {len(library.cases)}",
                )
            ]
        )
    tables = []
    for number, case in enumerate(library.cases, start=1):
        if report is not None:
            report(f"fold {number} of {len(library.cases)}: calibrating without {case.name}")
        fold = out / "folds" / case.name
        posterior = calibrate(
            library.without(case.name),
            fold,
            settings,
            executor,
            slots,
            left_out=case.name,
            report=report,
            command=command,
        )
        write_fold(fold, posterior)
        single = replace(library, cases=(case,))
        tables.append(forecasts(single, runs, executor, posterior))
    return pd.concat(tables, ignore_index=True)


def out_of_sample_skill(library: Library, table: pd.DataFrame) -> pd.DataFrame:
    """The out-of-sample forecasts scored as ``backtest`` scores the teaching defaults: each
    item, the headline, every item and the escalation items, with skill against the coin, the
    leave-one-out base rate, the external rate and the one-feature forecaster, and 95%
    intervals from resampling whole cases (``backtest.binary_scores``)."""
    from sim.analysis import scores as sc

    rungs = {case.name: backtest.opening_rung(case.scenario) for case in library.cases}
    counts = sc.bootstrap_counts(len(rungs))
    _, rows, _ = backtest.binary_scores(table, rungs, backtest.external_rates(), counts)
    return pd.DataFrame(rows)


def write_fold(out: Path, posterior: Posterior) -> None:
    """A cross-validation fold keeps its posterior tables (no profile, scores or figures)."""
    from sim.files import folders

    folders.write_table(posterior.particles, out / "posterior.csv")
    folders.write_table(posterior.generations, out / "generations.csv")
    folders.write_table(summary(posterior), out / "summary.csv")


def run_cross_validation(
    library: Library,
    out: Path,
    settings: Settings,
    executor: Executor,
    slots: int,
    check_runs: int,
    force: bool = False,
    report: Callable[[str], None] | None = None,
    command: Sequence[str] = (),
    figure: Callable[[pd.DataFrame], Figure] | None = None,
) -> dict[str, Any]:
    """Leave-one-case-out: fold by fold (``cross_validate``), then every case's out-of-sample
    forecast scored item by item against the coin, the leave-one-out base rate and the cases
    as written (``cv_scores.csv``), and with case-bootstrap intervals against every reference
    of the backtest, the one-feature forecaster among them (``cv_skill.csv``); tables, JSON and
    the caller's ``figure`` of the scores in ``out``."""
    from sim.files import folders

    expected = {**folder_settings(library, settings), "check_runs": check_runs}
    check_folder(out, expected, force, kind=CV_KIND)
    out.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    meta: dict[str, Any] = {
        "kind": CV_KIND,
        "settings": expected,
        "library": str(library.folder),
        "complete": False,
        "command": list(command),
    }
    write_metadata(out, meta)
    table = cross_validate(
        library, out, settings, executor, slots, check_runs, report=report, command=command
    )
    calibrated = backtest.score(table)
    defaults = backtest.score(forecasts(library, check_runs, executor))
    scores = compare_scores(calibrated, defaults)
    calibrated["probability_defaults"] = defaults["probability"].to_numpy()
    skill = out_of_sample_skill(library, table)
    meta.update(
        complete=True,
        wall_seconds=round(time.perf_counter() - clock, 1),
        finished=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        versions=versions(),
    )
    folders.write_table(calibrated, out / "cv_items.csv")
    folders.write_table(scores, out / "cv_scores.csv")
    folders.write_table(skill, out / "cv_skill.csv")
    if figure is not None:
        drawn = figure(scores)
        for suffix in (".png", ".svg"):
            folders.write_figure(drawn, out / f"cv{suffix}")
    data = {
        "meta": meta,
        "scores": rows_of(scores),
        "skill": rows_of(skill),
        "items": rows_of(calibrated),
    }
    folders.write_json(data, out / "cv.json")
    write_metadata(out, meta)
    return data
