"""From runs to numbers students can read: tables, probability curves, summaries, comparisons.

Everything here is a pure function of a ``Batch`` or of the tables built from it (``runs.csv``,
``curves.csv``, ``occupancy.csv``), so results saved to disk can be re-analysed without rerunning.

Intervals are 95% unless said otherwise: Wilson score intervals for proportions (they behave near
0 and 1, where escalation to war lives), Newcombe's hybrid score interval for a difference of two
proportions, and the distribution-free order-statistic interval for a median.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.outcomes import NO_DAY, Batch
from sim.scenario import Scenario

Z95 = float(stats.norm.ppf(0.975))


def wilson_interval(
    successes: np.ndarray | int, n: np.ndarray | int, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``successes`` out of ``n`` (vectorised)."""
    k = np.asarray(successes, dtype=float)
    total = np.asarray(n, dtype=float)
    p = k / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == total, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def newcombe_interval(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """Difference p1 - p2 with Newcombe's hybrid score interval (method 10, Newcombe 1998)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return float(diff), float(low), float(high)


def two_proportion_p_value(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (chi-square without correction)."""
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    if (table.sum(axis=0) == 0).any():
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def runs_table(batch: Batch, scenario: Scenario) -> pd.DataFrame:
    """One row per run, in run order: see ``docs/results.md`` for the columns."""
    crisis = batch.rungs.max(axis=2)
    reached = np.maximum.accumulate(crisis, axis=1)
    table: dict[str, object] = {
        "scenario": scenario.name,
        "run": np.arange(batch.runs),
        "seed": batch.seeds.astype(np.int64),
        "highest_rung": crisis.max(axis=1),
    }
    for rung in range(scenario.ladder.size):
        hit = reached >= rung
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), NO_DAY)
        table[f"first_day_rung_{rung}"] = _nullable(first)
    for i, actor_id in enumerate(scenario.actors):
        table[f"final_rung_{actor_id}"] = batch.rungs[:, -1, i].astype(np.int64)
    table["first_strike_day"] = _nullable(batch.first_strike_day)
    table["mediation_offered"] = batch.mediation_offered
    table["mediation_accepted"] = batch.mediation_accepted
    calm = crisis[:, 1:] == 0
    table["days_to_calm"] = _nullable(np.where(calm.any(axis=1), calm.argmax(axis=1) + 1, NO_DAY))
    return pd.DataFrame(table)


def _nullable(days: np.ndarray) -> Any:
    """Days with NO_DAY shown as empty cells, so 'never' is not mistaken for a day."""
    values = pd.array(days, dtype="Int64")
    values[np.asarray(days) == NO_DAY] = pd.NA
    return values


def curves_table(runs: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """P(the crisis has reached rung k or higher by day t), with Wilson intervals."""
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        n = len(group)
        rung_columns = [c for c in group.columns if c.startswith("first_day_rung_")]
        for column in rung_columns:
            rung = int(column.rsplit("_", 1)[1])
            first = group[column].to_numpy(dtype=float, na_value=np.inf)
            days = np.arange(horizon + 1)
            hits = (first[None, :] <= days[:, None]).sum(axis=1)
            low, high = wilson_interval(hits, n)
            rows.append(
                pd.DataFrame(
                    {
                        "scenario": scenario,
                        "rung": rung,
                        "day": days,
                        "probability": hits / n,
                        "ci_low": low,
                        "ci_high": high,
                        "runs": n,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def strike_curve(runs: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """P(a new cross-border strike by day t), with Wilson intervals: from ``runs.csv`` alone."""
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        first = group["first_strike_day"].to_numpy(dtype=float, na_value=np.inf)
        days = np.arange(horizon + 1)
        hits = (first[None, :] <= days[:, None]).sum(axis=1)
        low, high = wilson_interval(hits, len(group))
        rows.append(
            pd.DataFrame(
                {
                    "scenario": scenario,
                    "day": days,
                    "probability": hits / len(group),
                    "ci_low": low,
                    "ci_high": high,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def occupancy_table(batch: Batch, scenario: Scenario) -> pd.DataFrame:
    """Share of runs whose crisis stands on each rung, day by day (for the occupancy plot)."""
    crisis = batch.rungs.max(axis=2)
    days = crisis.shape[1]
    counts = np.stack(
        [(crisis == rung).sum(axis=0) for rung in range(scenario.ladder.size)], axis=1
    )
    return pd.DataFrame(
        {
            "scenario": scenario.name,
            "day": np.repeat(np.arange(days), scenario.ladder.size),
            "rung": np.tile(np.arange(scenario.ladder.size), days),
            "share": (counts / batch.runs).ravel(),
        }
    )


def probability_outcomes(runs: pd.DataFrame, horizon: int, war: int) -> dict[str, np.ndarray]:
    """The yes/no outcomes the summary reports, one boolean per run, by outcome name."""
    strike = runs["first_strike_day"].to_numpy(dtype=float, na_value=np.inf)
    outcomes = {
        "p_strike_7d": strike <= 7,
        "p_strike_30d": strike <= 30,
        "p_war": runs["highest_rung"].to_numpy() >= war,
    }
    if horizon < 30:
        del outcomes["p_strike_30d"]
    return outcomes


OUTCOME_LABELS = {
    "p_strike_7d": "P(a new cross-border strike within 7 days)",
    "p_strike_30d": "P(a new cross-border strike within 30 days)",
    "p_war": "P(war by the horizon)",
    "median_days_to_calm": "Median days until back to normal relations",
}


def summarize(runs: pd.DataFrame, horizon: int, war: int) -> pd.DataFrame:
    """The headline numbers of one scenario, each with its 95% interval."""
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        n = len(group)
        for name, hit in probability_outcomes(group, horizon, war).items():
            k = int(hit.sum())
            low, high = wilson_interval(k, n)
            rows.append((scenario, name, k / n, float(low), float(high), n))
        calm = group["days_to_calm"].to_numpy(dtype=float, na_value=np.inf)
        median = float(np.median(calm))
        interval = stats.quantile_test(calm, q=median, p=0.5).confidence_interval(0.95)
        rows.append(
            (scenario, "median_days_to_calm", median, float(interval.low), float(interval.high), n)
        )
    return pd.DataFrame(
        rows, columns=["scenario", "outcome", "estimate", "ci_low", "ci_high", "runs"]
    )


def max_halfwidth(summary: pd.DataFrame) -> float:
    """Widest half-width among the summary's probabilities (what --target-halfwidth bounds)."""
    probabilities = summary[summary["outcome"].str.startswith("p_")]
    return float(((probabilities["ci_high"] - probabilities["ci_low"]) / 2).max())


OUTCOME_FORMS = "p_strike_<N>d, p_rung<K>_<N>d, p_war, median_days_to_calm"
_OUTCOME = re.compile(
    r"^(?:p_strike_(?P<strike>\d+)d|p_rung(?P<rung>\d+)_(?P<days>\d+)d|p_war"
    r"|median_days_to_calm)$"
)


def check_outcome(name: str, horizon: int, war: int) -> None:
    """Raise ``ValueError`` unless ``name`` is an outcome this scenario can report."""
    match = _OUTCOME.match(name)
    if match is None:
        raise ValueError(f"unknown outcome '{name}' (forms: {OUTCOME_FORMS})")
    days = match["strike"] or match["days"]
    if days is not None and int(days) > horizon:
        raise ValueError(f"outcome '{name}' looks past the horizon ({horizon} days)")
    if match["rung"] is not None and int(match["rung"]) > war:
        raise ValueError(f"outcome '{name}' names rung {match['rung']}, above war ({war})")


def outcome_estimates(
    runs: pd.DataFrame, names: list[str], horizon: int, war: int
) -> dict[str, tuple[float, float, float]]:
    """Named outcomes of one scenario's runs, each as (estimate, 95% low, 95% high).

    ``p_strike_7d``: a new strike within 7 days; ``p_rung5_30d``: the crisis reached rung 5 or
    higher by day 30; ``p_war``; ``median_days_to_calm``. These are what sweeps record.
    """
    estimates: dict[str, tuple[float, float, float]] = {}
    summary = summarize(runs, horizon, war).set_index("outcome")
    for name in names:
        check_outcome(name, horizon, war)
        match = _OUTCOME.match(name)
        assert match is not None
        if name in ("p_war", "median_days_to_calm"):
            row = summary.loc[name].to_dict()
            estimates[name] = (row["estimate"], row["ci_low"], row["ci_high"])
            continue
        if match["strike"] is not None:
            first = runs["first_strike_day"]
            limit = int(match["strike"])
        else:
            first = runs[f"first_day_rung_{match['rung']}"]
            limit = int(match["days"])
        hits = int((first.to_numpy(dtype=float, na_value=np.inf) <= limit).sum())
        low, high = wilson_interval(hits, len(runs))
        estimates[name] = (hits / len(runs), float(low), float(high))
    return estimates


def compare_runs(runs: pd.DataFrame, horizon: int, war: int, alpha: float = 0.05) -> pd.DataFrame:
    """Each scenario against the first, outcome by outcome: difference, Newcombe CI, p-value.

    The scenarios of a comparison share their run seeds; treating them as independent samples,
    as these intervals do, errs on the wide side when the outcomes are positively correlated.
    """
    names = list(dict.fromkeys(runs["scenario"]))
    groups = {name: runs[runs["scenario"] == name] for name in names}
    reference = names[0]
    ref_outcomes = probability_outcomes(groups[reference], horizon, war)
    rows = []
    for name in names[1:]:
        outcomes = probability_outcomes(groups[name], horizon, war)
        for outcome, hit in outcomes.items():
            k1, n1 = int(hit.sum()), len(hit)
            k2, n2 = int(ref_outcomes[outcome].sum()), len(ref_outcomes[outcome])
            diff, low, high = newcombe_interval(k1, n1, k2, n2)
            p_value = two_proportion_p_value(k1, n1, k2, n2)
            # both the test and the interval must say so; near 0 or 1 they can disagree
            distinguishable = p_value < alpha and (low > 0 or high < 0)
            rows.append((name, reference, outcome, diff, low, high, p_value, distinguishable))
    return pd.DataFrame(
        rows,
        columns=[
            "scenario",
            "reference",
            "outcome",
            "difference",
            "ci_low",
            "ci_high",
            "p_value",
            "distinguishable",
        ],
    )
