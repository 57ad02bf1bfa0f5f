"""How good is the model? Its probabilities scored against what happened in real crises.

A case library is a folder of scenarios (``<case>.yaml``) with a record of what happened beside
each (``<case>.observed.yaml``): for each item of a fixed set (``ITEMS``), whether it happened.
``docs/cases/README.md`` gives the rule by which a crisis becomes a scenario and defines each
item. Every case is run as an ensemble; each item's probability is the share of runs in which
its outcome (``sim.analysis.outcomes``) happened, and is scored against what happened:

- the Brier score ``(p - o)**2`` (lower is better; 0.25 for an always-0.5 forecast);
- the log score ``-ln p`` if it happened, ``-ln(1 - p)`` if not, with ``p`` kept within
  ``[1/(2n), 1 - 1/(2n)]`` for ``n`` runs (an event never seen in ``n`` runs is not impossible);
- skill against two reference forecasters: a coin (0.5 always) and the item's base rate in the
  library computed *without the case itself* (leave one out): ``1 - score / reference score``,
  positive when the model beats the reference.

Items marked ``not applicable`` or ``disputed`` are not scored.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import outcomes as catalogue
from sim.inputs.loader import Problem, ScenarioError, load_scenario, read_yaml
from sim.model.scenario import Scenario

ITEMS: dict[str, tuple[str, str]] = {
    "answer_7d": ("answer_7d", "The state struck first answers with a strike within 7 days"),
    "forces_7d": ("forces_7d", "Either side strikes the other's state forces within 7 days"),
    "sustained": ("sustained", "A sustained exchange of strikes"),
    "war": ("war", "War"),
    "restrike": ("restrike", "The opener strikes again after the answer"),
    "mediation_accepted": ("accepted", "Third-party mediation accepted"),
    "ceasefire_14d": ("ceasefire_14d", "A ceasefire within 14 days"),
    "calm_14d": ("calm_14d", "Back to the baseline within 14 days"),
    "calm_60d": ("calm_60d", "Back to the baseline within 60 days"),
}
"""Each observed item: the outcome of ``sim.analysis.outcomes`` behind it, and a label."""

NOT_SCORED = ("not applicable", "disputed")
HORIZON = 60
"""Days a case must run: the furthest item (calm_60d) looks that far."""
OBSERVED_SUFFIX = ".observed.yaml"


@dataclass(frozen=True)
class Observation:
    """What happened for one item: True, False, or None when not scored (with the status)."""

    value: bool | None
    status: str
    date: datetime.date | None
    evidence: str


@dataclass(frozen=True)
class Case:
    """A crisis of the library: its scenario and what happened."""

    name: str
    scenario: Scenario
    observed: dict[str, Observation]


class LibraryError(ScenarioError):
    """A case folder that cannot be backtested, with every problem found in it."""


def load_library(folder: Path) -> list[Case]:
    """Read every case of a folder; raise ``LibraryError`` listing every problem at once."""
    if not folder.is_dir():
        raise LibraryError([Problem(str(folder), "", "is not a folder of cases")])
    problems: list[Problem] = []
    cases = []
    scenarios = sorted(
        p
        for p in folder.glob("*.yaml")
        if not p.name.endswith(OBSERVED_SUFFIX) and not p.name.startswith("_")
    )
    observed_files = {
        p.name[: -len(OBSERVED_SUFFIX)]: p for p in folder.glob(f"*{OBSERVED_SUFFIX}")
    }
    for name in sorted(set(observed_files) - {p.stem for p in scenarios}):
        problems.append(
            Problem(str(observed_files[name]), "", f"no scenario {name}.yaml beside it")
        )
    for path in scenarios:
        observed_path = observed_files.get(path.stem)
        if observed_path is None:
            problems.append(
                Problem(
                    str(path),
                    "",
                    f"no record of what happened: expected {path.stem}{OBSERVED_SUFFIX} beside it",
                )
            )
            continue
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            problems += error.problems
            problems.append(
                Problem(
                    str(observed_path),
                    "",
                    f"its scenario {path.name} does not validate (see above)",
                )
            )
            continue
        if scenario.horizon < HORIZON:
            problems.append(
                Problem(
                    str(path),
                    "horizon",
                    f"a case runs at least {HORIZON} days (the items look that far), got {scenario.horizon}",
                )
            )
            continue
        found, trouble = _read_observed(observed_path, path.stem, scenario)
        problems += trouble
        if not trouble:
            cases.append(Case(path.stem, scenario, found))
    if not scenarios and not problems:
        problems.append(Problem(str(folder), "", "holds no case (no <case>.yaml files)"))
    if problems:
        raise LibraryError(problems)
    return cases


def _read_observed(
    path: Path, case: str, scenario: Scenario
) -> tuple[dict[str, Observation], list[Problem]]:
    source = str(path)
    problems: list[Problem] = []
    try:
        raw = read_yaml(path, "a record of what happened")
    except ScenarioError as error:
        return {}, list(error.problems)
    unknown = sorted(set(raw) - {"case", "items"})
    for key in unknown:
        problems.append(Problem(source, key, "unknown key (allowed here: case, items)"))
    if raw.get("case") != case:
        problems.append(
            Problem(
                source,
                "case",
                f"expected '{case}', the name of the scenario beside it, got {raw.get('case')!r}",
            )
        )
    items = raw.get("items")
    if not isinstance(items, dict):
        problems.append(
            Problem(source, "items", "expected a mapping of item: {observed, date, evidence}")
        )
        return {}, problems
    found = {}
    for item in items:
        if item not in ITEMS:
            problems.append(
                Problem(source, f"items.{item}", f"unknown item (items: {', '.join(ITEMS)})")
            )
    for item in ITEMS:
        where = f"items.{item}"
        entry = items.get(item)
        if entry is None:
            problems.append(Problem(source, where, "missing: every item needs an entry"))
            continue
        if not isinstance(entry, dict):
            problems.append(
                Problem(source, where, "expected a mapping with observed, date, evidence")
            )
            continue
        for key in sorted(set(entry) - {"observed", "date", "evidence"}):
            problems.append(
                Problem(
                    source, f"{where}.{key}", "unknown key (allowed here: observed, date, evidence)"
                )
            )
        value = entry.get("observed")
        if isinstance(value, bool):
            status = "true" if value else "false"
        elif value in NOT_SCORED:
            status = str(value)
        else:
            problems.append(
                Problem(
                    source,
                    f"{where}.observed",
                    f"expected true, false, 'not applicable' or 'disputed', got {value!r}",
                )
            )
            continue
        date = entry.get("date")
        if date is not None:
            try:
                date = datetime.date.fromisoformat(str(date))
            except ValueError:
                problems.append(
                    Problem(
                        source,
                        f"{where}.date",
                        f"expected a date like 2024-01-18, got {str(date)[:40]!r}",
                    )
                )
                date = None
            if date is not None and scenario.start_date is not None:
                day = (date - scenario.start_date).days
                if not 0 <= day <= scenario.horizon:
                    problems.append(
                        Problem(
                            source,
                            f"{where}.date",
                            f"{date} is day {day} of the scenario, outside its days 0 to {scenario.horizon}",
                        )
                    )
        evidence = entry.get("evidence")
        if not isinstance(evidence, str) or not evidence.strip():
            problems.append(
                Problem(source, f"{where}.evidence", "expected a sentence saying what shows it")
            )
            evidence = ""
        found[item] = Observation(
            value if isinstance(value, bool) else None, status, date, evidence
        )
    return found, problems


def forecasts(cases: Sequence[Case], runs: int, workers: int) -> pd.DataFrame:
    """Each case's probability of each item, from an ensemble of ``runs`` (its own seed)."""
    from sim.experiments.ensemble import run_ensemble

    rows = []
    for case in cases:
        scenario = case.scenario
        ensemble = run_ensemble(scenario, runs=runs, workers=workers)
        if ensemble.interrupted:  # a part of an ensemble is no forecast: stop, save nothing
            raise KeyboardInterrupt
        states = list(scenario.actors)
        for item, (name, label) in ITEMS.items():
            outcome = catalogue.outcome(name, scenario.horizon, scenario.ladder.war, states)
            seen = case.observed[item]
            rows.append(
                {
                    "case": case.name,
                    "item": item,
                    "label": label,
                    "probability": float(np.mean(outcome.per_run(ensemble.runs))),
                    "runs": ensemble.batch.runs,
                    "observed": np.nan if seen.value is None else float(seen.value),
                    "status": seen.status,
                    "date": seen.date.isoformat() if seen.date else "",
                }
            )
    return pd.DataFrame(rows)


def score(items: pd.DataFrame) -> pd.DataFrame:
    """Add each item's scores and its reference forecasts (coin, leave-one-out base rate)."""
    table = items.copy()
    scored = table["observed"].notna()
    n = table["runs"].astype(float)
    p = table["probability"].clip(1 / (2 * n), 1 - 1 / (2 * n))
    o = table["observed"]
    table["brier"] = np.where(scored, (table["probability"] - o) ** 2, np.nan)
    table["log_score"] = np.where(scored, -np.log(np.where(o == 1, p, 1 - p)), np.nan)
    base = []
    for row in table.itertuples():
        others = table[(table["item"] == row.item) & (table["case"] != row.case) & scored]
        base.append(others["observed"].mean() if len(others) else np.nan)
    table["base_rate"] = base
    table["brier_coin"] = np.where(scored, 0.25, np.nan)
    table["brier_base"] = np.where(scored, (table["base_rate"] - o) ** 2, np.nan)
    return table


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean scores by item and over every scored item, with skill against the references."""
    scored = table[table["observed"].notna()]
    rows = []
    for item, group in [*scored.groupby("item", sort=False), ("all items", scored)]:
        brier = group["brier"].mean()
        with_base = group[group["brier_base"].notna()]
        base_brier = with_base["brier_base"].mean()
        model_on_base = with_base["brier"].mean()
        rows.append(
            {
                "item": item,
                "cases": len(group),
                "happened": int(group["observed"].sum()),
                "brier": brier,
                "log_score": group["log_score"].mean(),
                "brier_coin": 0.25,
                "brier_base_rate": base_brier,
                "skill_vs_coin": 1 - brier / 0.25,
                "skill_vs_base_rate": (1 - model_on_base / base_brier)
                if base_brier > 0
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def reliability(table: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Predicted against observed frequency, in equal-width bins of the predicted probability."""
    scored = table[table["observed"].notna()]
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(scored["probability"], edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        group = scored[index == b]
        rows.append(
            {
                "bin_low": edges[b],
                "bin_high": edges[b + 1],
                "items": len(group),
                "mean_predicted": group["probability"].mean() if len(group) else np.nan,
                "observed_share": group["observed"].mean() if len(group) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def as_json(table: pd.DataFrame, scores: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    """The backtest as plain data: the keys --json prints (docs/results.md lists them)."""

    def clean(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [
            {str(k): (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")
        ]

    return {"meta": meta, "items": clean(table), "scores": clean(scores)}
