"""Sensitivity analysis of a finished sweep: Sobol and Morris indices from SALib, and the checks
that say when the runs behind them are too few (noise) or the design too small.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.axes import ParamSpec, SweepError
from sim.experiments.designs import analysis_seed, salib_problem

# --------------------------------------------------------------------------- #
# Sensitivity analysis
# --------------------------------------------------------------------------- #


def _check_y(y: np.ndarray, n: int, design: str) -> np.ndarray:
    y = np.asarray(y, dtype=float).ravel()
    if y.size != n:
        raise SweepError(
            f"{design} analysis needs {n} outcome values (one per point), got {y.size}"
        )
    bad = int(np.count_nonzero(~np.isfinite(y)))
    if bad:
        raise SweepError(
            f"{design} analysis needs every design point; {bad} of {n} have no finite "
            "outcome (failed or unfinished points) — rerun or retry them first"
        )
    return y


def sobol_indices(
    params: Sequence[ParamSpec],
    y: np.ndarray,
    *,
    seed: int = 0,
    second_order: bool = False,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
) -> pd.DataFrame:
    """First-order and total Sobol' indices with bootstrap confidence intervals.

    ``y`` must be in design-point order of ``build_design(..., "sobol")``.
    Returns one row per parameter (index = path) with columns ``S1``,
    ``S1_conf`` (CI half-width), ``S1_low``, ``S1_high`` and the same for
    ``ST``. The CIs cover sampling of the design only, not the Monte Carlo
    noise in ``y``: keep ``runs`` large enough that the noise is small.
    """
    from SALib.analyze import sobol as sobol_analyze

    problem = salib_problem(params, "sobol")
    d = len(params)
    per = 2 * d + 2 if second_order else d + 2
    y = np.asarray(y, dtype=float).ravel()
    if y.size % per:
        raise SweepError(f"sobol analysis needs a multiple of {per} outcome values, got {y.size}")
    y = _check_y(y, y.size, "sobol")
    with warnings.catch_warnings():
        # SALib standardises y; an outcome the same at every point divides 0 by 0, and its
        # indices are then all 0, which the caller reports as "the same everywhere"
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sobol_analyze.analyze(
            problem,
            y,
            calc_second_order=second_order,
            num_resamples=num_resamples,
            conf_level=conf_level,
            print_to_console=False,
            seed=analysis_seed(seed),
        )
    df = pd.DataFrame(
        {
            "S1": np.asarray(res["S1"], dtype=float),
            "S1_conf": np.asarray(res["S1_conf"], dtype=float),
            "ST": np.asarray(res["ST"], dtype=float),
            "ST_conf": np.asarray(res["ST_conf"], dtype=float),
        },
        index=pd.Index([p.path for p in params], name="parameter"),
    )
    for s in ("S1", "ST"):
        df[f"{s}_low"] = df[s] - df[f"{s}_conf"]
        df[f"{s}_high"] = df[s] + df[f"{s}_conf"]
    return df[["S1", "S1_conf", "S1_low", "S1_high", "ST", "ST_conf", "ST_low", "ST_high"]]


def morris_indices(
    params: Sequence[ParamSpec],
    X: np.ndarray,
    y: np.ndarray,
    *,
    seed: int = 0,
    levels: int = 4,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
) -> pd.DataFrame:
    """Morris elementary-effect statistics: ``mu``, ``mu_star`` (+ CI), ``sigma``.

    ``X``/``y`` in design-point order of ``build_design(..., "morris")``.
    ``mu_star`` ranks influence; ``sigma`` flags non-linearity/interactions.
    """
    from SALib.analyze import morris as morris_analyze

    problem = salib_problem(params, "morris")
    X = np.asarray(X, dtype=float)
    y = _check_y(y, X.shape[0], "morris")
    res = morris_analyze.analyze(
        problem,
        X,
        y,
        num_resamples=num_resamples,
        conf_level=conf_level,
        print_to_console=False,
        num_levels=levels,
        seed=analysis_seed(seed),
    )
    df = pd.DataFrame(
        {
            "mu": np.asarray(res["mu"], dtype=float),
            "mu_star": np.asarray(res["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float),
            "sigma": np.asarray(res["sigma"], dtype=float),
        },
        index=pd.Index([p.path for p in params], name="parameter"),
    )
    return df


# --------------------------------------------------------------------------- #
# Are the indices meaningful? Checks, with a concrete remedy
# --------------------------------------------------------------------------- #

#: A Sobol index cannot be read when its 95% CI is wider than the index (high - low > |index|)
#: and its half-width is above this (indices are shares of variance, 0 to 1; a wide CI around
#: an index below 0.1 only says the parameter is negligible).
SOBOL_WIDE = 0.1
#: The half-width the remedy aims at: +-0.05 tells 0.1 from 0.2.
SOBOL_HALFWIDTH = 0.05
#: A Morris mu* is precise enough when its CI half-width is at most this share of the largest
#: mu*; the remedy aims at it.
MORRIS_HALFWIDTH = 0.1
#: Monte Carlo noise may make up at most this share of an outcome's variance across the points
#: before the indices are warned about (noise adds about this much to every ST).
NOISE_SHARE = 0.05
#: The share of noise the suggested number of runs aims at.
NOISE_TARGET = 0.02


def _names(index: Iterable[object]) -> str:
    names = [str(n) for n in index]
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def _power_of_two(n: float) -> int:
    """The smallest power of 2 at least ``n``."""
    return 1 << max(0, math.ceil(math.log2(max(n, 1.0)) - 1e-9))


def _shrink(t: pd.DataFrame) -> float:
    """By how much the sample must grow so that no Sobol CI is wider than its index any more
    (half-width at most max(|index| / 2, SOBOL_WIDE)): CIs shrink as 1/sqrt(N). At least 4
    (CIs halved) when other checks failed with no CI too wide."""
    factor = 0.0
    for s in ("S1", "ST"):
        allowed = np.maximum(t[s].abs().to_numpy(dtype=float) / 2, SOBOL_WIDE)
        ratio = t[f"{s}_conf"].to_numpy(dtype=float) / allowed
        finite = ratio[np.isfinite(ratio)]
        if len(finite):
            factor = max(factor, float(np.max(finite)) ** 2)
    return factor if factor > 1 else 4.0


def noise_share(y: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """The share of an outcome's variance across design points that is Monte Carlo noise.

    Each point's standard error is read from its 95% CI (half-width / 1.96); the share is the
    mean squared standard error over the variance of the estimates (NaN when they do not vary).
    Noise is independent between points (each has its own seed), so it adds about this share to
    every total-order index ST and shrinks the first-order ones by the same fraction.
    """
    y, low, high = (np.asarray(a, dtype=float).ravel() for a in (y, low, high))
    ok = np.isfinite(y) & np.isfinite(low) & np.isfinite(high)
    if ok.sum() < 2:
        return math.nan
    variance = float(np.var(y[ok], ddof=1))
    if variance <= 0:
        return math.nan
    se = (high[ok] - low[ok]) / (2 * 1.959964)
    return float(np.mean(se**2) / variance)


def _noise_warning(
    outcome: str, share: float | None, runs: int | None, design: str = "sobol"
) -> list[str]:
    if share is None or not math.isfinite(share) or share <= NOISE_SHARE:
        return []
    effect = (
        f"it adds about {share:.2f} to every ST and shrinks every S1 by {share:.0%}"
        if design == "sobol"
        else "it adds to every mu* and sigma, most to those of the parameters that matter least"
    )
    text = (
        f"{outcome}: Monte Carlo noise is {share:.0%} of its variance across the design points; "
        f"{effect}."
    )
    if share >= 1 - NOISE_TARGET:
        return [
            text + " The parameters barely move this outcome over these ranges, or the runs "
            "per point are far too few: widen the bounds or use many more runs."
        ]
    if runs:
        needed = math.ceil(runs * share * (1 - NOISE_TARGET) / (NOISE_TARGET * (1 - share)) / 100)
        needed *= 100
        text += f" Remedy: rerun with runs {needed:,} per point (now {runs:,})."
    return [text]


def sobol_warnings(
    indices: pd.DataFrame,
    *,
    outcome: str = "the outcome",
    samples: int | None = None,
    points_per_sample: int | None = None,
    runs: int | None = None,
    noise: float | None = None,
) -> list[str]:
    """Why a table of :func:`sobol_indices` cannot be read as it stands, and what to do.

    Flags an index above 1 (none can be); S1 above ST by more than their combined CI
    half-widths (S1 <= ST always); an index whose whole CI is below 0; and a CI wider than its
    index (high - low > |index|) with a half-width above ``SOBOL_WIDE`` (0.1). The remedy names
    the base sample after which no CI would be too wide (half-widths shrink as 1/sqrt(N); a
    power of 2, at least twice the current), and the one for +-``SOBOL_HALFWIDTH`` on every
    index: ``samples`` is the current N, ``points_per_sample`` the points per base sample
    (D + 2, or 2D + 2). ``noise`` (:func:`noise_share`) and ``runs`` add a warning when Monte
    Carlo noise distorts the indices.
    An empty list: nothing to warn about.
    """
    t = indices
    if t[["S1", "ST"]].isna().to_numpy().all():
        return [f"{outcome}: no Sobol indices (the outcome does not vary over the design points)."]
    problems = []
    above = t[(t["S1"] > 1) | (t["ST"] > 1)]
    if len(above):
        worst = float(above[["S1", "ST"]].max().max())
        problems.append(f"an index above 1, which none can be ({_names(above.index)}: {worst:.2f})")
    gap = t["S1"] - t["ST"]
    inverted = t[gap > np.hypot(t["S1_conf"], t["ST_conf"])]
    if len(inverted):
        problems.append(f"S1 above ST beyond their CIs ({_names(inverted.index)})")
    negative = t[(t["S1"] + t["S1_conf"] < 0) | (t["ST"] + t["ST_conf"] < 0)]
    if len(negative):
        problems.append(f"an index below 0 beyond its CI ({_names(negative.index)})")
    wide = t[
        ((2 * t["S1_conf"] > t["S1"].abs()) & (t["S1_conf"] > SOBOL_WIDE))
        | ((2 * t["ST_conf"] > t["ST"].abs()) & (t["ST_conf"] > SOBOL_WIDE))
    ]
    widest = float(t[["S1_conf", "ST_conf"]].max().max())
    if len(wide):
        problems.append(f"CIs wider than the indices, up to +-{widest:.2f} ({_names(wide.index)})")
    out = []
    if problems:
        text = f"{outcome}: the Sobol indices are not reliable: " + "; ".join(problems) + "."
        if samples:
            needed = max(_power_of_two(samples * _shrink(t)), 2 * samples)
            precise = _power_of_two(samples * (widest / SOBOL_HALFWIDTH) ** 2)
            text += (
                f" Remedy: rerun with samples {needed:,} or more (now {samples:,}"
                + (f"; {needed * points_per_sample:,} design points" if points_per_sample else "")
                + (f" x {runs:,} runs" if points_per_sample and runs else "")
                + f"): CI half-widths shrink as 1/sqrt(samples), the widest from +-{widest:.2f} "
                f"to about +-{widest * math.sqrt(samples / needed):.2f}"
                + (
                    f"; for +-{SOBOL_HALFWIDTH} on every index, samples {precise:,}."
                    if precise > needed
                    else "."
                )
            )
        out.append(text)
    return out + _noise_warning(outcome, noise, runs)


def morris_warnings(
    indices: pd.DataFrame,
    *,
    outcome: str = "the outcome",
    trajectories: int | None = None,
    points_per_trajectory: int | None = None,
    runs: int | None = None,
    noise: float | None = None,
) -> list[str]:
    """Why a table of :func:`morris_indices` cannot be read as it stands, and what to do.

    Flags a mu* whose CI is wider than itself (high - low > mu*) with a half-width above
    ``MORRIS_HALFWIDTH`` (a tenth) of the largest mu*; the remedy names the trajectories after
    which no CI would be flagged (CIs shrink as 1/sqrt(trajectories)), at least twice the
    current. ``noise`` and ``runs`` as in :func:`sobol_warnings`.
    """
    t = indices
    top = float(t["mu_star"].max()) if len(t) else math.nan
    if not math.isfinite(top) or top <= 0:
        return [f"{outcome}: no Morris effects (the outcome does not vary over the design points)."]
    target = MORRIS_HALFWIDTH * top
    wide = t[(2 * t["mu_star_conf"] > t["mu_star"]) & (t["mu_star_conf"] > target)]
    out = []
    if len(wide):
        widest = float(t["mu_star_conf"].max())
        text = (
            f"{outcome}: the Morris ranking is not reliable: CIs wider than mu* for "
            f"{_names(wide.index)} (up to +-{widest:.3g}, against a largest mu* of {top:.3g})."
        )
        if trajectories:
            allowed = np.maximum(t["mu_star"].to_numpy(dtype=float) / 2, target)
            factor = float(np.nanmax(t["mu_star_conf"].to_numpy(dtype=float) / allowed)) ** 2
            needed = max(math.ceil(trajectories * factor), 2 * trajectories)
            text += (
                f" Remedy: rerun with samples {needed:,} or more (trajectories; now "
                f"{trajectories:,}"
                + (
                    f"; {needed * points_per_trajectory:,} design points"
                    if points_per_trajectory
                    else ""
                )
                + f"): CIs shrink as 1/sqrt(trajectories), the widest from +-{widest:.3g} to "
                f"about +-{widest * math.sqrt(trajectories / needed):.2g}."
            )
        out.append(text)
    return out + _noise_warning(outcome, noise, runs, "morris")


def index_warning(
    definition: Any, results: pd.DataFrame, indices: Mapping[str, pd.DataFrame]
) -> str:
    """Every warning about a sweep's Sobol or Morris indices, each a line ending in a newline,
    ready for ``print(..., end="")`` ('' if none).

    ``definition`` is the :class:`sim.experiments.sweep.SweepDefinition`, ``results`` its table
    (``sweep.csv``) and ``indices`` the tables of :func:`sim.experiments.sweep.analyze_sweep` by outcome.
    """
    lines = []
    d = len(definition.parameters)
    for outcome, table in indices.items():
        noise = None
        if {outcome, f"{outcome}_low", f"{outcome}_high"} <= set(results.columns):
            noise = noise_share(
                results[outcome].to_numpy(dtype=float),
                results[f"{outcome}_low"].to_numpy(dtype=float),
                results[f"{outcome}_high"].to_numpy(dtype=float),
            )
        if definition.design == "sobol":
            lines += sobol_warnings(
                table,
                outcome=outcome,
                samples=definition.samples,
                points_per_sample=2 * d + 2 if definition.second_order else d + 2,
                runs=definition.runs,
                noise=noise,
            )
        elif definition.design == "morris":
            lines += morris_warnings(
                table,
                outcome=outcome,
                trajectories=definition.samples,
                points_per_trajectory=d + 1,
                runs=definition.runs,
                noise=noise,
            )
    return "".join(f"Warning: {line}\n" for line in lines)
