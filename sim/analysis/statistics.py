"""From runs to numbers students can read: tables, probability curves, summaries, comparisons.

Everything here is a pure function of a ``Batch`` or of the tables built from it (``runs.csv``,
``curves.csv``, ``occupancy.csv``), so results saved to disk can be re-analysed without rerunning.

Intervals are 95% unless said otherwise: Wilson score intervals for proportions (they behave near
0 and 1, where escalation to war lives); for the difference between two scenarios whose runs
share their seeds (common random numbers, as ``compare`` runs them), Tango's score interval for
paired proportions with McNemar's score test, and for days a paired bootstrap of the
difference of medians, with the bootstrap's own p-value; for scenarios with different seeds,
Newcombe's hybrid score interval with the chi-square test (and an unpaired bootstrap for days). The distribution-free order-statistic
interval is used for a median. ``docs/results.md`` states each definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.analysis import outcomes as catalogue
from sim.analysis.outcomes import Outcome
from sim.inputs import arguments
from sim.model import uncertainty
from sim.model.record import NO_DAY, Batch
from sim.model.scenario import Scenario

Z95 = float(stats.norm.ppf(0.975))
BOOTSTRAP_RESAMPLES = 1000
"""Resamples of the paired bootstrap for days outcomes (its seed is fixed: 0)."""


def wilson_interval(
    successes: np.ndarray | int, n: np.ndarray | int, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``successes`` out of ``n`` (vectorised); ``n`` at least 1 and
    ``successes`` from 0 to ``n``, whole numbers, else a ValueError (an interval of no runs is
    not a number); ``z`` a finite number above 0."""
    k = arguments.counts("successes", successes)
    total = arguments.counts("n", n)
    z = arguments.number("z", z, 0, above=True)
    if k.shape != total.shape and total.ndim and k.ndim:
        raise ValueError(
            f"successes and n must have the same shape, got {k.shape} and {total.shape}"
        )
    if np.any(~(total >= 1)) or np.any(~((k >= 0) & (k <= total))):
        raise ValueError(
            "wilson_interval needs 1 <= n and 0 <= successes <= n, got "
            f"{arguments.shown(successes)} of {arguments.shown(n)}"
        )
    p = k / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == total, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def newcombe_interval(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """Difference p1 - p2 of independent samples with Newcombe's hybrid score interval
    (method 10, Newcombe 1998)."""
    l1, u1 = wilson_interval(k1, n1)  # checks the counts first
    l2, u2 = wilson_interval(k2, n2)
    p1, p2 = k1 / n1, k2 / n2
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


def _tango_score(delta: float, b: int, c: int, n: int) -> float:
    """Tango's score statistic for the paired difference ``delta`` (Tango 1998, eq. 3)."""
    a_ = 2 * n
    b_ = -b - c + (2 * n - b + c) * delta
    c_ = -c * delta * (1 - delta)
    q21 = (np.sqrt(max(b_ * b_ - 4 * a_ * c_, 0.0)) - b_) / (2 * a_)
    variance = n * (2 * q21 + delta * (1 - delta))
    numerator = b - c - n * delta
    if variance <= 0:
        return 0.0 if numerator == 0 else float(np.copysign(np.inf, numerator))
    return float(numerator / np.sqrt(variance))


def tango_interval(b: int, c: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """Paired difference (b - c) / n with Tango's score interval (Tango 1998).

    ``b`` counts the pairs with the event in the first condition only, ``c`` in the second only.
    The bounds are where the score statistic equals -z and z; scipy's Brent method finds them.
    Recommended for paired proportions by Fagerland, Lydersen & Laake (2013).
    """
    estimate = (b - c) / n
    edge = 1 - 1e-12
    if _tango_score(-edge, b, c, n) <= z:
        low = -1.0
    else:
        low = optimize.brentq(lambda d: _tango_score(d, b, c, n) - z, -edge, estimate, xtol=1e-12)
    if _tango_score(edge, b, c, n) >= -z:
        high = 1.0
    else:
        high = optimize.brentq(lambda d: _tango_score(d, b, c, n) + z, estimate, edge, xtol=1e-12)
    return float(estimate), float(low), float(high)


def mcnemar_p_value(b: int, c: int) -> float:
    """Two-sided p-value of McNemar's score test, (b - c) / sqrt(b + c) against the normal.

    It is Tango's score statistic at a difference of 0, so the p-value is below 0.05 exactly
    when Tango's 95% interval excludes 0: the number and the interval never disagree.
    """
    if b + c == 0:
        return 1.0
    return float(2 * stats.norm.sf(abs(b - c) / np.sqrt(b + c)))


def runs_table(batch: Batch, scenario: Scenario) -> pd.DataFrame:
    """One row per run, in run order: see ``docs/results.md`` for the columns.

    Day columns are floats, empty (NaN) when the thing never happened, so that ``(runs.x <=
    30).mean()`` is the share of all runs, as it is on runs.csv.
    """
    states = list(scenario.actors)
    table: dict[str, Any] = {
        "scenario": scenario.name,
        "run": np.arange(batch.runs),
        "seed": batch.seeds.astype(np.int64),
    }
    reach = batch.reach_day
    table["highest_rung"] = (reach != NO_DAY).sum(axis=0) - 1
    for rung in range(reach.shape[0]):
        table[f"first_day_rung_{rung}"] = _days(reach[rung])
    table["answer_day"] = _days(batch.answer_day)
    table["restrike_day"] = _days(batch.restrike_day)
    table["strike_days"] = batch.strike_days
    for name in ("war_day", "calm_day", "offered_day", "accepted_day", "ceasefire_day"):
        table[name] = _days(getattr(batch, name))
    for i, state in enumerate(states):
        table[f"strike_day_{state}"] = _days(batch.strike_day[i])
        table[f"forces_day_{state}"] = _days(batch.forces_day[i])
        table[f"highest_act_{state}"] = batch.highest_act[i]
        table[f"final_posture_{state}"] = batch.final_posture[i]
        table[f"pledges_{state}"] = batch.pledges[i]
        table[f"backed_down_{state}"] = batch.backed_down[i]
        table[f"blamed_{state}"] = batch.blamed[i]
    for g, group in enumerate(scenario.armed_groups):
        table[f"attacks_{group}"] = batch.attacks[g]
    table["misread_up"] = batch.misread_up
    if batch.parameter_set.size:
        # each run's parameter set and the numbers it held, for uncertainty_split and pandas
        table["parameter_set"] = batch.parameter_set
        sets = uncertainty.parameter_sets(scenario)
        for key in sets[0]:
            table[f"param.{key}"] = np.array([s[key] for s in sets])[batch.parameter_set]
    return pd.DataFrame(table)


def _days(days: np.ndarray) -> np.ndarray:
    """Days with NO_DAY as NaN (an empty cell in runs.csv): 'never' is not a day."""
    values = np.asarray(days, dtype=float)
    return np.where(values == NO_DAY, np.nan, values)


def _first_by_day(first: np.ndarray, horizon: int) -> np.ndarray:
    """For each day 0..horizon, how many runs had their first day at or before it."""
    counts = np.bincount(first[~np.isnan(first)].astype(np.int64), minlength=horizon + 1)
    return np.cumsum(counts[: horizon + 1])


def curves_table(runs: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """P(the crisis has reached rung k or higher by day t), with Wilson intervals."""
    rows = []
    days = np.arange(horizon + 1)
    for scenario, group in runs.groupby("scenario", sort=False):
        n = len(group)
        for column in [c for c in group.columns if c.startswith("first_day_rung_")]:
            hits = _first_by_day(group[column].to_numpy(dtype=float), horizon)
            low, high = wilson_interval(hits, n)
            rows.append(
                pd.DataFrame(
                    {
                        "scenario": scenario,
                        "rung": int(column.rsplit("_", 1)[1]),
                        "day": days,
                        "probability": hits / n,
                        "ci_low": low,
                        "ci_high": high,
                        "runs": n,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def outcome_curve(runs: pd.DataFrame, columns: Sequence[str], horizon: int) -> pd.DataFrame:
    """P(the first of these day columns has come by day t), per scenario, with Wilson intervals."""
    rows = []
    days = np.arange(horizon + 1)
    for scenario, group in runs.groupby("scenario", sort=False):
        first = np.nanmin(
            np.stack([group[c].to_numpy(dtype=float) for c in columns]), axis=0, initial=np.inf
        )
        first = np.where(np.isinf(first), np.nan, first)
        hits = _first_by_day(first, horizon)
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


def outcome_curves(runs: pd.DataFrame, chosen: Sequence[Outcome], horizon: int) -> pd.DataFrame:
    """P(each outcome has happened by day t), for every day from 0 to the horizon, per scenario,
    with Wilson intervals: the share of runs whose first day of it (the first of the outcome's
    day columns, ``Outcome.days``) is t or earlier, so that the row of day N is the outcome
    ``<name>_Nd`` of the catalogue (``catalogue.curve_outcomes`` gives the four a class asks).

    Columns: ``scenario``, ``outcome`` (its name without the deadline: ``answer``),
    ``label`` ('P(war by that day)'), ``day``, ``probability``, ``ci_low``, ``ci_high``, ``runs``.
    An outcome with no day columns (``sustained``) has no curve: a ValueError says so.
    """
    frames = []
    for outcome in chosen:
        if not outcome.days:
            raise ValueError(
                f"outcome '{outcome.name}' has no day on which it happened, so it has no curve "
                f"over days (curves: {', '.join(catalogue.CURVES)}, or any outcome with N days)"
            )
        curve = outcome_curve(runs, outcome.days, horizon)
        curve.insert(1, "outcome", catalogue.curve_name(outcome.name))
        curve.insert(2, "label", catalogue.by_that_day(outcome.label))
        curve["runs"] = curve["scenario"].map(runs.groupby("scenario", sort=False).size())
        frames.append(curve)
    columns = ["scenario", "outcome", "label", "day", "probability", "ci_low", "ci_high", "runs"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def occupancy_table(batch: Batch, scenario: Scenario) -> pd.DataFrame:
    """Share of runs whose crisis posture stands on each rung, day by day."""
    counts = batch.occupancy
    days, rungs = counts.shape
    return pd.DataFrame(
        {
            "scenario": scenario.name,
            "day": np.repeat(np.arange(days), rungs),
            "rung": np.tile(np.arange(rungs), days),
            "share": (counts / batch.runs).ravel(),
        }
    )


def estimate(outcome: Outcome, runs: pd.DataFrame) -> tuple[float, float, float]:
    """An outcome over the runs: (estimate, 95% low, 95% high).

    A probability is the share of runs with a Wilson interval; days are the median with the
    order-statistic interval, counting 'never within the horizon' as infinitely late.
    """
    values = outcome.per_run(runs)
    n = len(values)
    if outcome.kind == "probability":
        k = int(np.sum(values))
        low, high = wilson_interval(k, n)
        return k / n, float(low), float(high)
    days = np.where(np.isnan(values), np.inf, values)
    median = float(np.median(days))
    interval = stats.quantile_test(days, q=median, p=0.5).confidence_interval(0.95)
    return median, float(interval.low), float(interval.high)


def summarize(runs: pd.DataFrame, chosen: Sequence[Outcome]) -> pd.DataFrame:
    """The named outcomes of each scenario, each with its 95% interval."""
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        for outcome in chosen:
            value, low, high = estimate(outcome, group)
            rows.append(
                (scenario, outcome.name, outcome.label, outcome.kind, value, low, high, len(group))
            )
    return pd.DataFrame(
        rows,
        columns=["scenario", "outcome", "label", "kind", "estimate", "ci_low", "ci_high", "runs"],
    )


def max_halfwidth(summary: pd.DataFrame) -> float:
    """Widest half-width among the summary's probabilities (what --target-halfwidth bounds)."""
    # on the columns' arrays: a frame selection costs more than the rest of a small ensemble
    chosen = summary["kind"].to_numpy(dtype=object) == "probability"
    high = summary["ci_high"].to_numpy(dtype=float)[chosen]
    widths = (high - summary["ci_low"].to_numpy(dtype=float)[chosen]) / 2
    widths = widths[~np.isnan(widths)]
    return float(widths.max()) if widths.size else float("nan")


def outcome_estimates(
    runs: pd.DataFrame, names: Sequence[str], scenario: Scenario
) -> dict[str, tuple[float, float, float]]:
    """Named outcomes of one scenario's runs, each as (estimate, 95% low, 95% high)."""
    states = list(scenario.actors)
    return {
        name: estimate(catalogue.outcome(name, scenario.horizon, scenario.ladder.war, states), runs)
        for name in names
    }


def paired(runs: pd.DataFrame, a: str, b: str) -> bool:
    """Whether scenarios ``a`` and ``b`` were run on the same seeds, run for run."""
    seeds_a = runs.loc[runs["scenario"] == a, "seed"].to_numpy()
    seeds_b = runs.loc[runs["scenario"] == b, "seed"].to_numpy()
    return seeds_a.shape == seeds_b.shape and bool(np.array_equal(seeds_a, seeds_b))


def compare_runs(runs: pd.DataFrame, chosen: Sequence[Outcome], horizon: int) -> pd.DataFrame:
    """Each scenario against the first, outcome by outcome: the difference and its 95% CI.

    Scenarios run on the same seeds are compared run for run (paired); otherwise as independent
    samples. ``verdict`` is 'higher' or 'lower' when the 95% CI of the difference lies wholly
    above or below 0, else 'no detectable difference'; ``docs/results.md`` defines each method.
    """
    names = list(dict.fromkeys(runs["scenario"]))
    if runs.duplicated(["scenario", "run"]).any() if "run" in runs else False:
        raise ValueError(
            "two ensembles in this table share a scenario name; give each scenario its own "
            "name (for example with overrides={'name': ...}) before comparing them"
        )
    if len(names) < 2:
        raise ValueError(f"a comparison needs two scenarios or more; the runs hold only {names}")
    reference = names[0]
    ref = runs[runs["scenario"] == reference]
    rows = []
    for name in names[1:]:
        other = runs[runs["scenario"] == name]
        pairs = paired(runs, reference, name)
        for outcome in chosen:
            rows.append(
                (name, reference, outcome.name, outcome.label, outcome.kind, pairs)
                + _difference(outcome, other, ref, pairs, horizon)
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "scenario",
            "reference",
            "outcome",
            "label",
            "kind",
            "paired",
            "value",
            "reference_value",
            "difference",
            "ci_low",
            "ci_high",
            "p_value",
            "method",
        ],
    )
    table["verdict"] = np.where(
        table["ci_low"] > 0,
        "higher",
        np.where(table["ci_high"] < 0, "lower", "no detectable difference"),
    )
    return table


def _difference(
    outcome: Outcome, runs: pd.DataFrame, ref: pd.DataFrame, pairs: bool, horizon: int
) -> tuple[float, float, float, float, float, float, str]:
    """(value, reference value, difference, CI low, CI high, p-value, method) of one outcome.

    Days that never came within the horizon count as the horizon + 1: the earliest they could
    have been, so differences in days are if anything understated.
    """
    x, y = outcome.per_run(runs), outcome.per_run(ref)
    if outcome.kind == "probability":
        x, y = x.astype(bool), y.astype(bool)
        if pairs:
            b, c = int((x & ~y).sum()), int((~x & y).sum())
            diff, low, high = tango_interval(b, c, len(x))
            p = mcnemar_p_value(b, c)
            return float(x.mean()), float(y.mean()), diff, low, high, p, "tango score"
        k1, k2 = int(x.sum()), int(y.sum())
        diff, low, high = newcombe_interval(k1, len(x), k2, len(y))
        p = two_proportion_p_value(k1, len(x), k2, len(y))
        return float(x.mean()), float(y.mean()), diff, low, high, p, "newcombe+chi2"
    cap = horizon + 1
    dx, dy = np.nan_to_num(x, nan=cap), np.nan_to_num(y, nan=cap)
    mx, my = float(np.median(dx)), float(np.median(dy))
    rng = np.random.default_rng(0)
    resampled = np.empty(BOOTSTRAP_RESAMPLES)
    for i in range(BOOTSTRAP_RESAMPLES):
        index = rng.integers(len(dx), size=len(dx))
        other = index if pairs else rng.integers(len(dy), size=len(dy))
        resampled[i] = np.median(dx[index]) - np.median(dy[other])
    low, high = np.percentile(resampled, [2.5, 97.5])
    # the p-value of the same bootstrap, so that it always agrees with the interval (a rank
    # test answers another question, a shift of the whole distribution, and could call a
    # difference of medians "p < 0.001" while the interval holds 0)
    p = float(min(1.0, 2 * min((resampled <= 0).mean(), (resampled >= 0).mean())))
    method = "paired bootstrap" if pairs else "bootstrap"
    return mx, my, mx - my, float(low), float(high), p, method


def parameter_set_estimates(runs: pd.DataFrame, chosen: Sequence[Outcome]) -> pd.DataFrame:
    """Each probability outcome within each parameter set (runs that carry ``parameter_set``):
    the share of the set's runs, with its Wilson interval, and the set's numbers."""
    params = [c for c in runs.columns if c.startswith("param.")]
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        for outcome in (o for o in chosen if o.kind == "probability"):
            hits = pd.Series(outcome.per_run(group).astype(float), index=group.index)
            for number, members in group.groupby("parameter_set", sort=True):
                k, n = int(hits[members.index].sum()), len(members)
                low, high = wilson_interval(k, n)
                row = {"scenario": scenario, "outcome": outcome.name, "parameter_set": number}
                row.update(runs=n, estimate=k / n, low=float(low), high=float(high))
                row.update({c: members[c].iloc[0] for c in params})
                rows.append(row)
    return pd.DataFrame(rows)


def uncertainty_split(runs: pd.DataFrame, chosen: Sequence[Outcome]) -> pd.DataFrame:
    """How much of each probability outcome's run-to-run variation the uncertain parameters
    explain, and how much is chance.

    The share is the one-way random-effects intraclass correlation ICC(1) of the outcome with
    runs grouped by parameter set (Snedecor & Cochran 1989, with their n0 for unequal groups),
    floored at 0: the between-set variance beyond what chance within sets would give, over the
    total. Written out here because statsmodels has no ICC for a plain one-way layout. The
    spread is the 10th to 90th percentile of the sets' own estimates.
    """
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        sets = group["parameter_set"].to_numpy()
        for outcome in (o for o in chosen if o.kind == "probability"):
            y = outcome.per_run(group).astype(float)
            labels, index = np.unique(sets, return_inverse=True)
            n = np.bincount(index).astype(float)
            means = np.bincount(index, weights=y) / n
            total, k = y.size, labels.size
            within = float(((y - means[index]) ** 2).sum() / max(total - k, 1))
            between = float((n * (means - y.mean()) ** 2).sum() / max(k - 1, 1))
            n0 = (total - (n**2).sum() / total) / max(k - 1, 1)
            denominator = between + (n0 - 1) * within
            share = max((between - within) / denominator, 0.0) if denominator > 0 else 0.0
            rows.append(
                {
                    "scenario": scenario,
                    "outcome": outcome.name,
                    "label": outcome.label,
                    "estimate": float(y.mean()),
                    "sets": k,
                    "set_p10": float(np.percentile(means, 10)),
                    "set_p90": float(np.percentile(means, 90)),
                    "parameter_share": share,
                }
            )
    return pd.DataFrame(rows)
