"""How good is the model? Its forecasts scored against what happened in real crises.

Every case of a library (``sim.experiments.cases`` reads it) is run as an ensemble. Each item's
probability is the share of runs in which its outcome happened (``sim.analysis.outcomes``),
scored with the Brier and log scores, the AUC and the Murphy decomposition; the trajectory class
(``outcomes.trajectory``) with the ranked probability score; the timing (days to the answer,
to calm; censored at day 61) with the CRPS. Skill is reported against a coin, the leave-one-out
base rate, an external base rate and the one-feature forecaster "opening at rung >= 6", with
95% case-bootstrap intervals; the headline "all items" leaves out items whose observed codes
duplicate another's. Items marked ``not applicable`` or ``disputed`` are not scored.
``docs/results.md`` (section "backtest") defines every score; ``sim.analysis.scores`` computes
them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import outcomes as catalogue
from sim.analysis import scores as sc
from sim.experiments.cases import (
    CLASSES,
    ESCALATION,
    HORIZON,
    ITEMS,
    NEVER,
    NOT_SCORED,
    OBSERVED_SUFFIX,
    TIMING,
    Case,
    LibraryError,
    Observation,
    load_library,
)
from sim.files.folders import strict_json
from sim.files.shipped import shipped
from sim.model.scenario import ActEvent, Scenario

__all__ = [
    "CLASSES",
    "ESCALATION",
    "HORIZON",
    "ITEMS",
    "NEVER",
    "NOT_SCORED",
    "OBSERVED_SUFFIX",
    "TIMING",
    "Case",
    "Evaluation",
    "LibraryError",
    "LibraryForecast",
    "Observation",
    "as_json",
    "evaluate",
    "external_rates",
    "forecasts",
    "load_library",
    "opening_rung",
    "reliability",
    "run_library",
    "score",
    "summary",
]

FEATURE_RUNG = 6
"""The one-feature forecaster's feature: an opening at this rung or higher."""
MIN_OVERLAP = 0.5
"""Items are compared for duplicates only on at least this share of the library's cases."""
EXTERNAL = "external_base_rates.csv"
"""External base rates, shipped (``data/reference/README.md``); rows whose variant is primary
are used."""
REFERENCES = ("coin", "base_rate", "external", "one_feature")
"""The reference forecasters, in the order they are reported."""


def opening_rung(scenario: Scenario) -> int:
    """The one feature: the highest rung of an ``act`` event on day 0 or before (0: none)."""
    return max(
        (e.rung for e in scenario.events if isinstance(e, ActEvent) and e.day <= 0), default=0
    )


@dataclass(frozen=True)
class LibraryForecast:
    """What the model said about each case: items, trajectory class shares, timing samples."""

    items: pd.DataFrame
    """One row per case and item, as ``forecasts`` returns."""
    trajectory: dict[str, np.ndarray]
    """Each case's share of runs in each class of ``CLASSES``."""
    timing: dict[str, dict[str, np.ndarray]]
    """Each case's days of each timing measure, run by run (``NEVER`` for never)."""


def mutual_opening(scenario: Scenario) -> bool:
    """Whether the case opens mutually (rule 5): two acts on day 0, each answering the other."""
    acts = [e for e in scenario.events if e.day == 0 and isinstance(e, ActEvent)]
    return (
        len(acts) == 2
        and all(e.answered for e in acts)
        and {acts[0].actor, acts[0].target} == {acts[1].actor, acts[1].target}
    )


def forecasts(cases: Sequence[Case], runs: int, workers: int) -> pd.DataFrame:
    """Each case's probability of each item, from an ensemble of ``runs`` (its own seed)."""
    return run_library(cases, runs, workers).items


def run_library(cases: Sequence[Case], runs: int, workers: int) -> LibraryForecast:
    """Run every case as an ensemble of ``runs`` (its own seed): items, classes, timing."""
    from sim.experiments.ensemble import run_ensemble
    from sim.model.model import opening

    rows = []
    trajectory: dict[str, np.ndarray] = {}
    timing: dict[str, dict[str, np.ndarray]] = {}
    for case in cases:
        scenario = case.scenario
        ensemble = run_ensemble(scenario, runs=runs, workers=workers)
        if ensemble.interrupted:  # a part of an ensemble is no forecast: stop, save nothing
            raise KeyboardInterrupt
        states = list(scenario.actors)
        table = ensemble.runs
        mutual = mutual_opening(scenario)
        classes = catalogue.trajectory(
            table, states, None if mutual else opening(scenario)[1], mutual=mutual
        )
        trajectory[case.name] = np.bincount(classes, minlength=len(CLASSES)) / len(classes)
        timing[case.name] = {
            measure: _censor(table[column].to_numpy(dtype=float))
            for measure, column in (("days_to_answer", "answer_day"), ("days_to_calm", "calm_day"))
        }
        for item, (name, label) in ITEMS.items():
            outcome = catalogue.outcome(name, scenario.horizon, scenario.ladder.war, states)
            seen = case.observed[item]
            rows.append(
                {
                    "case": case.name,
                    "item": item,
                    "label": label,
                    "probability": float(np.mean(outcome.per_run(table))),
                    "runs": ensemble.batch.runs,
                    "observed": np.nan if seen.value is None else float(seen.value),
                    "status": seen.status,
                    "date": seen.date.isoformat() if seen.date else "",
                }
            )
    return LibraryForecast(pd.DataFrame(rows), trajectory, timing)


def _censor(days: np.ndarray) -> np.ndarray:
    """Days after day 0, with never (NaN) and anything past the horizon as ``NEVER``."""
    return np.where(np.isnan(days) | (days > HORIZON), NEVER, days)


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


def summary(table: pd.DataFrame, dropped: Sequence[str] = ()) -> pd.DataFrame:
    """Mean scores by item and over every scored item (but the ``dropped`` ones), with skill
    against the coin and the leave-one-out base rate."""
    scored = table[table["observed"].notna()]
    headline = scored[~scored["item"].isin(list(dropped))]
    rows = []
    for item, group in [*scored.groupby("item", sort=False), ("all items", headline)]:
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


def reliability(
    table: pd.DataFrame, bins: int = sc.BINS, dropped: Sequence[str] = ()
) -> pd.DataFrame:
    """Predicted against observed frequency, in equal-width bins of the predicted probability
    (the scored items but the ``dropped`` ones)."""
    scored = table[table["observed"].notna() & ~table["item"].isin(list(dropped))]
    edges = np.linspace(0, 1, bins + 1)
    index = sc.bin_index(scored["probability"].to_numpy(), bins)
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


def external_rates(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Each item's external base rate: the first row of the file whose variant is ``primary``
    (or ``primary (...)``, a primary row with a qualifier). Items without one have none. The
    default file is the shipped one, which must be there; a file named but missing gives no
    external rates."""
    if path is None:
        path = shipped("reference", EXTERNAL)
    if not path.is_file():
        return {}
    frame = pd.read_csv(path)
    primary = frame[frame["variant"].astype(str).str.match(r"^primary\b")]
    found: dict[str, dict[str, Any]] = {}
    for row in primary.to_dict("records"):
        if row["item"] in ITEMS and row["item"] not in found:
            found[str(row["item"])] = {
                "rate": float(row["rate"]),
                "measure": str(row["measure"]),
                "variant": str(row["variant"]),
                "source": str(row["source"]),
                "n": int(row["n"]),
            }
    return found


@dataclass(frozen=True)
class Evaluation:
    """Every table of a backtest."""

    items: pd.DataFrame
    """One row per case and item: ``score``'s columns and the external and one-feature
    references, and whether the item counts in the headline."""
    trajectory: pd.DataFrame
    """One row per case: the observed class, the model's share of runs in each class, RPS."""
    timing: pd.DataFrame
    """One row per case and timing measure: the observed day, the model's, CRPS."""
    scores: pd.DataFrame
    """One row per item, the headline (``all items``), ``all nine items``, ``trajectory`` and
    each timing measure: the scores and the skill against each reference, with intervals."""
    reliability: pd.DataFrame
    """The reliability diagram of the headline items."""
    redundant: dict[str, tuple[str, int]]
    """Items left out of the headline: ``{item: (the item it duplicates, cases compared)}``."""
    external: dict[str, dict[str, Any]]
    """The external base rates used, by item."""
    feature: dict[str, int]
    """Each case's opening rung (the one feature)."""
    confident: dict[str, float]
    """The headline's confident forecasts (``scores.confident``): how many, how many wrong,
    and their share of the Brier loss."""


def has_feature(rungs: Mapping[str, int]) -> np.ndarray:
    """Which cases, in the library's order, have the one feature (an opening at
    ``FEATURE_RUNG`` or higher)."""
    return np.array([rung >= FEATURE_RUNG for rung in rungs.values()])


def binary_scores(
    items: pd.DataFrame,
    rungs: Mapping[str, int],
    external: Mapping[str, Mapping[str, Any]],
    counts: np.ndarray,
) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, tuple[str, int]]]:
    """The yes/no items of forecasts of a library (``forecasts``' table; ``rungs``: each case's
    opening rung, in the library's order): each item's scores and skills against the coin, the
    leave-one-out base rate, the external rate and the one-feature forecaster, then the
    headline, every item and the escalation items, with case-bootstrap intervals over
    ``counts``. Also the table with the references, and the items left out of the headline.
    ``evaluate`` scores the teaching defaults with it, the cross-validation its out-of-sample
    forecasts."""
    names = list(rungs)
    n = len(names)
    where = {name: i for i, name in enumerate(names)}
    feature = has_feature(rungs)
    table = score(items)
    table["opening_rung"] = table["case"].map(rungs)
    table["external"] = (
        table["item"].map({item: row["rate"] for item, row in external.items()}).astype(float)
    )
    table["one_feature"] = np.nan
    codes: dict[str, np.ndarray] = {}
    for item in ITEMS:
        rows = table.index[table["item"] == item]
        o = np.full(n, np.nan)
        o[[where[c] for c in table.loc[rows, "case"]]] = table.loc[rows, "observed"].to_numpy()
        codes[item] = o
        scored = ~np.isnan(o)
        weights = sc.feature_weights(scored, feature)
        with np.errstate(invalid="ignore"):
            one = np.where(weights.sum(axis=1) > 0, weights @ np.nan_to_num(o), np.nan)
        table.loc[rows, "one_feature"] = one[[where[c] for c in table.loc[rows, "case"]]]
    observed = table["observed"]
    scored_rows = observed.notna()
    table["brier_external"] = np.where(scored_rows, (table["external"] - observed) ** 2, np.nan)
    table["brier_one_feature"] = np.where(
        scored_rows, (table["one_feature"] - observed) ** 2, np.nan
    )
    redundant = sc.duplicate_items(codes, min_overlap=max(1, int(np.ceil(MIN_OVERLAP * n))))
    table["headline"] = ~table["item"].isin(list(redundant))

    rows_out: list[dict[str, Any]] = []
    done = table[scored_rows]
    for item in ITEMS:
        rows_out.append(_binary_row(item, done[done["item"] == item], where, counts))
    rows_out.append(_binary_row("all items", done[done["headline"]], where, counts))
    rows_out.append(_binary_row("all nine items", done, where, counts))
    rows_out.append(
        _binary_row("escalation items", done[done.item.isin(ESCALATION)], where, counts)
    )
    return table, rows_out, redundant


def evaluate(
    cases: Sequence[Case],
    forecast: LibraryForecast,
    external: dict[str, dict[str, Any]] | None = None,
    resamples: int = sc.RESAMPLES,
    seed: int = sc.SEED,
) -> Evaluation:
    """Score the model's forecasts of the library's cases in full (docs/results.md#backtest)."""
    external = external or {}
    rungs = {case.name: opening_rung(case.scenario) for case in cases}
    feature = has_feature(rungs)
    counts = sc.bootstrap_counts(len(rungs), resamples, seed)
    table, rows_out, redundant = binary_scores(forecast.items, rungs, external, counts)
    done = table[table["observed"].notna()]

    trajectory, row = _trajectory(cases, forecast, feature, counts, rungs)
    rows_out.append(row)
    timing = []
    for measure in TIMING:
        frame, row = _timing(cases, forecast, measure, feature, counts)
        timing.append(frame)
        rows_out.append(row)
    return Evaluation(
        items=table,
        trajectory=trajectory,
        timing=pd.concat(timing, ignore_index=True),
        scores=pd.DataFrame(rows_out),
        reliability=reliability(table, dropped=list(redundant)),
        redundant=redundant,
        external=external,
        feature=rungs,
        confident=sc.confident(
            done.loc[done["headline"], "probability"], done.loc[done["headline"], "observed"]
        ),
    )


REFERENCE_COLUMNS = {
    "coin": "brier_coin",
    "base_rate": "brier_base",
    "external": "brier_external",
    "one_feature": "brier_one_feature",
}


def _skills(
    row: dict[str, Any],
    case_index: np.ndarray,
    model: np.ndarray,
    references: dict[str, np.ndarray],
    counts: np.ndarray,
) -> None:
    """Add each reference's mean score, cases, and the model's skill with its interval."""
    n = counts.shape[1]
    for name in REFERENCES:
        ref = references.get(name, np.full(len(model), np.nan))
        have = ~np.isnan(ref) & ~np.isnan(model)
        row[f"{name}_cases"] = int(have.sum())
        row[f"{name}_score"] = float(ref[have].mean()) if have.any() else np.nan
        if have.any():
            m = np.bincount(case_index[have], weights=model[have], minlength=n)
            r = np.bincount(case_index[have], weights=ref[have], minlength=n)
            skill, low, high = sc.ratio_skill(m, r, counts)
        else:
            skill, low, high = np.nan, np.nan, np.nan
        row[f"skill_vs_{name}"] = skill
        row[f"skill_vs_{name}_low"] = low
        row[f"skill_vs_{name}_high"] = high


def _binary_row(
    item: str, rows: pd.DataFrame, where: dict[str, int], counts: np.ndarray
) -> dict[str, Any]:
    case_index = np.array([where[c] for c in rows["case"]], dtype=int)
    p = rows["probability"].to_numpy(dtype=float)
    o = rows["observed"].to_numpy(dtype=float)
    row: dict[str, Any] = {
        "item": item,
        "kind": "item" if item in ITEMS else "items",
        "measure": "brier",
        "cases": len(rows),
        "happened": int(o.sum()),
        "score": float(np.mean(rows["brier"])) if len(rows) else np.nan,
        "log_score": float(np.mean(rows["log_score"])) if len(rows) else np.nan,
        "auc": sc.auc(p, o),
    }
    row["auc_low"], row["auc_high"] = sc.auc_interval(p, o, counts[:, case_index])
    n = counts.shape[1]
    sizes = np.bincount(case_index, minlength=n)
    for key, column in (("score", "brier"), ("log_score", "log_score")):
        sums = np.bincount(case_index, weights=rows[column].to_numpy(dtype=float), minlength=n)
        row[f"{key}_low"], row[f"{key}_high"] = sc.mean_interval(counts, sums, sizes)
    row.update({k: v for k, v in sc.murphy(p, o).items() if k != "brier"})
    for key, (low, high) in sc.murphy_intervals(p, o, counts[:, case_index]).items():
        row[f"{key}_low"], row[f"{key}_high"] = low, high
    _skills(
        row,
        case_index,
        rows["brier"].to_numpy(dtype=float),
        {name: rows[column].to_numpy(dtype=float) for name, column in REFERENCE_COLUMNS.items()},
        counts,
    )
    return row


def _blank_row(item: str, kind: str, measure: str, cases: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "item": item,
        "kind": kind,
        "measure": measure,
        "cases": cases,
        "happened": np.nan,
    }
    for key in ("log_score", "auc", "reliability", "resolution", "uncertainty"):
        row[key] = row[f"{key}_low"] = row[f"{key}_high"] = np.nan
    row["within_bin"] = np.nan
    return row


def _mean_with_interval(row: dict[str, Any], values: np.ndarray, counts: np.ndarray) -> None:
    """The mean of per-case scores (NaN: not scored) and its case-bootstrap interval."""
    scored = ~np.isnan(values)
    row["score"] = float(np.mean(values[scored])) if scored.any() else np.nan
    row["score_low"], row["score_high"] = sc.mean_interval(
        counts, np.where(scored, values, 0.0), scored.astype(float)
    )


def _trajectory(
    cases: Sequence[Case],
    forecast: LibraryForecast,
    feature: np.ndarray,
    counts: np.ndarray,
    rungs: dict[str, int],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    k = len(CLASSES)
    n = len(cases)
    observed = np.full(n, -1)
    for i, case in enumerate(cases):
        if case.trajectory is not None and case.trajectory.status in CLASSES:
            observed[i] = CLASSES.index(case.trajectory.status)
    scored = observed >= 0
    onehot = np.zeros((n, k))
    onehot[scored, observed[scored]] = 1
    model = np.stack([forecast.trajectory[case.name] for case in cases]) if n else np.zeros((0, k))
    safe = np.where(scored, observed, 0)

    def score_of(probabilities: np.ndarray) -> np.ndarray:
        values = sc.rps(probabilities, safe) if n else np.zeros(0)
        bad = ~scored | np.isnan(probabilities).any(axis=1) if n else np.zeros(0, dtype=bool)
        return np.where(bad, np.nan, values)

    def from_weights(weights: np.ndarray) -> np.ndarray:
        totals = weights.sum(axis=1, keepdims=True)
        return np.where(totals > 0, weights @ onehot, np.nan)

    uniform = np.full((n, k), 1 / k)
    references = {
        "coin": score_of(uniform),
        "base_rate": score_of(from_weights(sc.loo_weights(scored))),
        "one_feature": score_of(from_weights(sc.feature_weights(scored, feature))),
    }
    rps_model = score_of(model)
    frame = pd.DataFrame(
        {
            "case": [case.name for case in cases],
            "observed": [
                case.trajectory.status if case.trajectory is not None else "" for case in cases
            ],
            "opening_rung": [rungs[case.name] for case in cases],
            **{f"p_{name}": model[:, j] for j, name in enumerate(CLASSES)},
            "model_class": [CLASSES[int(np.argmax(row))] for row in model],
            "rps": rps_model,
            **{f"rps_{name}": values for name, values in references.items()},
        }
    )
    row = _blank_row("trajectory", "trajectory", "rps", int(scored.sum()))
    _mean_with_interval(row, rps_model, counts)
    _skills(row, np.arange(n), rps_model, references, counts)
    return frame, row


def _timing(
    cases: Sequence[Case],
    forecast: LibraryForecast,
    measure: str,
    feature: np.ndarray,
    counts: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    n = len(cases)
    y = np.full(n, np.nan)
    for i, case in enumerate(cases):
        if case.timing is not None and case.timing.get(measure) is not None:
            y[i] = float(case.timing[measure])  # type: ignore[arg-type]
    scored = ~np.isnan(y)
    every_day = np.arange(NEVER + 1, dtype=float)
    model = np.full(n, np.nan)
    references = {name: np.full(n, np.nan) for name in ("coin", "base_rate", "one_feature")}
    weights = {
        "base_rate": sc.loo_weights(scored),
        "one_feature": sc.feature_weights(scored, feature),
    }
    for i, case in enumerate(cases):
        if not scored[i]:
            continue
        model[i] = sc.crps(forecast.timing[case.name][measure], y[i])
        references["coin"][i] = sc.crps(every_day, y[i])
        for name, w in weights.items():
            if w[i, scored].sum() > 0:
                references[name][i] = sc.crps(y[scored], y[i], weights=w[i, scored])
    samples = [forecast.timing[case.name][measure] for case in cases]
    frame = pd.DataFrame(
        {
            "case": [case.name for case in cases],
            "measure": measure,
            "observed": [
                ""
                if case.timing is None
                else _day_text(case.timing.get(measure, None), "not applicable")
                for case in cases
            ],
            "model_median": [_day_text(float(np.median(s)), "") for s in samples],
            "model_never": [float(np.mean(s >= NEVER)) for s in samples],
            "crps": model,
            **{f"crps_{name}": values for name, values in references.items()},
        }
    )
    row = _blank_row(measure, "timing", "crps", int(scored.sum()))
    _mean_with_interval(row, model, counts)
    _skills(row, np.arange(n), model, references, counts)
    return frame, row


def _day_text(day: float | int | None, none: str) -> str:
    if day is None:
        return none
    if day >= NEVER:
        return "never"
    return f"{day:g}"


def as_json(
    table: pd.DataFrame | Evaluation, scores: pd.DataFrame | None, meta: dict[str, Any]
) -> dict[str, Any]:
    """The backtest as plain, strict JSON data (NaN and infinities as null): the keys --json
    prints (docs/results.md lists them). Given an ``Evaluation``, everything in it."""
    if not isinstance(table, Evaluation):
        assert scores is not None
        data, _ = strict_json(
            {"meta": meta, "items": table.to_dict("records"), "scores": scores.to_dict("records")}
        )
        return dict(data)
    result = table
    data, _ = strict_json(
        {
            "meta": meta,
            "items": result.items.to_dict("records"),
            "scores": result.scores.to_dict("records"),
            "trajectory": result.trajectory.to_dict("records"),
            "timing": result.timing.to_dict("records"),
            "reliability": result.reliability.to_dict("records"),
            "headline": {
                "items": [item for item in ITEMS if item not in result.redundant],
                "dropped": [
                    {
                        "item": item,
                        "duplicates": kept,
                        "cases_compared": compared,
                        "why": f"its observed codes equal {kept}'s on all {compared} cases "
                        "where both are scored",
                    }
                    for item, (kept, compared) in result.redundant.items()
                ],
            },
            "references": {
                "coin": "0.5 for an item; every class (trajectory) or every day 0 to "
                f"{NEVER} (timing) equally likely",
                "base_rate": "the other cases' outcomes (leave one out)",
                "external": result.external,
                "one_feature": {
                    "feature": f"opening rung >= {FEATURE_RUNG}",
                    "shrinkage_cases": sc.SHRINKAGE,
                    "opening_rung": result.feature,
                },
            },
            "bootstrap": {"resamples": sc.RESAMPLES, "seed": sc.SEED, "interval": 0.95},
            "confident": {"below": sc.CONFIDENT, "above": 1 - sc.CONFIDENT, **result.confident},
        }
    )
    return dict(data)
