"""Scores of probabilistic forecasts against what happened, and the case bootstrap.

Pure functions on arrays; ``sim.experiments.backtest`` applies them to a case library and
``docs/results.md`` (section "backtest") documents every definition. Lower is better for every
score here except the AUC.

- ``brier``: ``(p - o)**2``.
- ``log_score``: ``-ln p`` if it happened, ``-ln(1 - p)`` if not, ``p`` clipped to
  ``[floor, 1 - floor]``.
- ``rps``: the ranked probability score of a forecast over K ordered classes,
  ``sum_k (F_k - O_k)**2 / (K - 1)`` over the first K - 1 cumulative probabilities (0 perfect,
  1 the worst: all weight on the class farthest from the one observed).
- ``crps``: the continuous ranked probability score of a weighted sample (an ensemble, or a
  reference forecaster's observed values) against one value, ``E|X - y| - E|X - X'| / 2``,
  exact for the sample's empirical distribution (the same as ``properscoring.crps_ensemble``).
- ``auc``: the area under the ROC curve, the Mann-Whitney U statistic over all pairs of a case
  where it happened and one where it did not (ties count one half).
- ``murphy``: the binned decomposition of the mean Brier score into reliability, resolution and
  uncertainty (Murphy 1973), with the within-bin remainder that binning leaves.
- ``bootstrap_counts``, ``ratio_skill``: whole-case resampling and skill ``1 - model / reference``
  with its percentile interval, vectorised over resamples.
- ``loo_weights``, ``feature_weights``: the leave-one-out reference forecasters as weights over
  the other cases.
- ``confident``: how many forecasts were confident (below ``CONFIDENT`` or above
  ``1 - CONFIDENT``), how many of those were wrong, and their share of the Brier loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BINS = 5
"""Bins of the reliability diagram and the Murphy decomposition: equal widths on [0, 1]."""
RESAMPLES = 2000
"""Case-bootstrap resamples."""
SEED = 20261207
"""Seed of the case bootstrap (fixed: the same library gives the same intervals)."""
SHRINKAGE = 2.0
"""Weight, in cases, of the overall leave-one-out base rate in the one-feature forecaster."""
CONFIDENT = 0.05
"""A forecast below this or above 1 minus this is *confident*: it must be earned (the model
review counted 21 wrong ones carrying 74.5% of model 2's loss)."""


def brier(p: np.ndarray, o: np.ndarray) -> np.ndarray:
    """The Brier score of each probability ``p`` of a yes/no event that did (1) or did not (0)
    happen."""
    return (np.asarray(p, dtype=float) - np.asarray(o, dtype=float)) ** 2


def confident(p: np.ndarray, o: np.ndarray, edge: float = CONFIDENT) -> dict[str, float]:
    """The confident forecasts among ``p`` (below ``edge`` or above ``1 - edge``) against what
    happened ``o``: how many there are, how many were wrong (the event went the other way), and
    the share of the summed Brier score they carry (NaN if the score is 0)."""
    p, o = np.asarray(p, dtype=float), np.asarray(o, dtype=float)
    sure = (p < edge) | (p > 1 - edge)
    wrong = sure & ((p < 0.5) != (o == 0))
    loss = brier(p, o)
    total = float(loss.sum())
    return {
        "forecasts": int(p.size),
        "confident": int(sure.sum()),
        "wrong": int(wrong.sum()),
        "loss_share": float(loss[sure].sum() / total) if total > 0 else float("nan"),
        "wrong_loss_share": float(loss[wrong].sum() / total) if total > 0 else float("nan"),
    }


def log_score(p: np.ndarray, o: np.ndarray, floor: np.ndarray | float) -> np.ndarray:
    """``-ln`` of the probability given to what happened, ``p`` kept within
    ``[floor, 1 - floor]`` (for an ensemble of n runs, ``floor = 1/(2n)``)."""
    floor = np.asarray(floor, dtype=float)
    q = np.clip(np.asarray(p, dtype=float), floor, 1 - floor)
    o = np.asarray(o, dtype=float)
    return -np.log(np.where(o == 1, q, 1 - q))


def rps(probabilities: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """The ranked probability score of each row of ``probabilities`` (cases x K ordered classes,
    rows summing to 1) against the observed class index of that case, normalised by K - 1."""
    probabilities = np.atleast_2d(np.asarray(probabilities, dtype=float))
    k = probabilities.shape[1]
    observed = np.asarray(observed, dtype=int).reshape(-1)
    cumulative = np.cumsum(probabilities, axis=1)[:, :-1]
    seen = (np.arange(k - 1)[None, :] >= observed[:, None]).astype(float)
    return np.sum((cumulative - seen) ** 2, axis=1) / (k - 1)


def crps(
    sample: Sequence[float] | np.ndarray, y: float, weights: np.ndarray | None = None
) -> float:
    """The CRPS of the empirical distribution of ``sample`` (weighted by ``weights``, which need
    not sum to 1; equal weights if None) against the value ``y``."""
    x = np.asarray(sample, dtype=float).reshape(-1)
    if x.size == 0:
        return float("nan")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    keep = w > 0
    x, w = x[keep], w[keep]
    w = w / w.sum()
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    spread_to_y = float(np.sum(w * np.abs(x - y)))
    # E|X - X'| = 2 sum_i w_i x_i (W_below_i - W_above_i), with W_below_i - W_above_i
    # = 2 C_i - w_i - 1 for C_i the cumulative weight up to and including i (ties cancel).
    c = np.cumsum(w)
    spread = float(2 * np.sum(w * x * (2 * c - w - 1)))
    return spread_to_y - spread / 2


def auc(p: np.ndarray, o: np.ndarray) -> float:
    """The area under the ROC curve: the share of (happened, did not happen) pairs in which the
    case that happened had the higher probability, ties counted one half. NaN without both."""
    p = np.asarray(p, dtype=float)
    o = np.asarray(o, dtype=float)
    pos, neg = p[o == 1], p[o == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def murphy(p: np.ndarray, o: np.ndarray, bins: int = BINS) -> dict[str, float]:
    """The Murphy decomposition of the mean Brier score over ``bins`` equal-width bins of the
    forecast (each bin holds its lower edge; the last also 1): ``brier = reliability -
    resolution + uncertainty + within_bin``, with ``reliability = sum_k n_k (pbar_k - obar_k)^2 / N``,
    ``resolution = sum_k n_k (obar_k - obar)^2 / N``, ``uncertainty = obar (1 - obar)`` and
    ``within_bin`` what binning leaves (0 when every forecast of a bin is the same)."""
    p = np.asarray(p, dtype=float)
    o = np.asarray(o, dtype=float)
    n = len(p)
    if n == 0:
        return {
            k: float("nan")
            for k in ("brier", "reliability", "resolution", "uncertainty", "within_bin")
        }
    index = bin_index(p, bins)
    counts = np.bincount(index, minlength=bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pbar = np.bincount(index, weights=p, minlength=bins) / counts
        obar_k = np.bincount(index, weights=o, minlength=bins) / counts
    used = counts > 0
    obar = o.mean()
    reliability = float(np.sum(counts[used] * (pbar[used] - obar_k[used]) ** 2) / n)
    resolution = float(np.sum(counts[used] * (obar_k[used] - obar) ** 2) / n)
    uncertainty = float(obar * (1 - obar))
    mean_brier = float(np.mean((p - o) ** 2))
    return {
        "brier": mean_brier,
        "reliability": reliability,
        "resolution": resolution,
        "uncertainty": uncertainty,
        "within_bin": mean_brier - (reliability - resolution + uncertainty),
    }


def bin_index(p: np.ndarray, bins: int = BINS) -> np.ndarray:
    """The bin of each probability: equal widths on [0, 1], each bin holding its lower edge and
    the last also 1."""
    edges = np.linspace(0, 1, bins + 1)
    return np.clip(np.digitize(np.asarray(p, dtype=float), edges[1:-1]), 0, bins - 1)


def bootstrap_counts(cases: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """How many times each case is drawn in each resample (resamples x cases): whole cases drawn
    with replacement, as many as there are."""
    rng = np.random.default_rng(seed)
    if cases == 0:
        return np.zeros((resamples, 0))
    drawn = rng.integers(0, cases, size=(resamples, cases))
    counts = np.zeros((resamples, cases))
    np.add.at(counts, (np.arange(resamples)[:, None], drawn), 1)
    return counts


def ratio_skill(
    model: np.ndarray, reference: np.ndarray, counts: np.ndarray
) -> tuple[float, float, float]:
    """Skill ``1 - sum(model) / sum(reference)`` of per-case score sums, and its 95% percentile
    interval over the resamples ``counts`` (resamples whose reference sum is 0 are left out;
    NaN when fewer than half remain)."""
    model = np.asarray(model, dtype=float)
    reference = np.asarray(reference, dtype=float)
    total = reference.sum()
    skill = 1 - model.sum() / total if total > 0 else float("nan")
    low, high = interval(counts, model, reference)
    return float(skill), low, high


def interval(counts: np.ndarray, model: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of ``1 - model / reference`` over the resamples."""
    if counts.shape[1] == 0:
        return float("nan"), float("nan")
    m = counts @ model
    r = counts @ reference
    good = r > 0
    if good.sum() < len(r) / 2:
        return float("nan"), float("nan")
    values = 1 - m[good] / r[good]
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def mean_interval(counts: np.ndarray, sums: np.ndarray, sizes: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of a mean score over case resamples, from each case's sum of
    scores and number of scores (resamples with no score are left out)."""
    if counts.shape[1] == 0:
        return float("nan"), float("nan")
    total = counts @ np.asarray(sizes, dtype=float)
    good = total > 0
    if good.sum() < len(total) / 2:
        return float("nan"), float("nan")
    values = (counts[good] @ np.asarray(sums, dtype=float)) / total[good]
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def murphy_intervals(
    p: np.ndarray, o: np.ndarray, counts: np.ndarray, bins: int = BINS
) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of the Murphy terms over resamples; ``counts`` gives, for each
    resample, how many times each forecast (its case) was drawn."""
    p = np.asarray(p, dtype=float)
    o = np.asarray(o, dtype=float)
    names = ("reliability", "resolution", "uncertainty")
    if counts.shape[1] == 0:
        return {k: (float("nan"), float("nan")) for k in names}
    member = np.zeros((len(p), bins))
    member[np.arange(len(p)), bin_index(p, bins)] = 1
    n_k = counts @ member
    p_k = counts @ (member * p[:, None])
    o_k = counts @ (member * o[:, None])
    total = n_k.sum(axis=1)
    good = total > 0
    n_k, p_k, o_k, total = n_k[good], p_k[good], o_k[good], total[good]
    obar = o_k.sum(axis=1) / total
    with np.errstate(invalid="ignore", divide="ignore"):
        pbar_k = np.where(n_k > 0, p_k / np.where(n_k > 0, n_k, 1), 0)
        obar_k = np.where(n_k > 0, o_k / np.where(n_k > 0, n_k, 1), 0)
    values = {
        "reliability": np.sum(n_k * (pbar_k - obar_k) ** 2, axis=1) / total,
        "resolution": np.sum(n_k * (obar_k - obar[:, None]) ** 2, axis=1) / total,
        "uncertainty": obar * (1 - obar),
    }
    out = {}
    for k in names:
        if len(values[k]) == 0:
            out[k] = (float("nan"), float("nan"))
        else:
            low, high = np.percentile(values[k], [2.5, 97.5])
            out[k] = (float(low), float(high))
    return out


def auc_interval(p: np.ndarray, o: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of the AUC over case resamples (a case drawn twice counts
    twice in every pair; resamples without both outcomes are left out; NaN when fewer than half
    remain)."""
    p = np.asarray(p, dtype=float)
    o = np.asarray(o, dtype=float)
    if counts.shape[1] == 0:
        return float("nan"), float("nan")
    wins = (p[:, None] > p[None, :]) + 0.5 * (p[:, None] == p[None, :])
    pos = counts * (o == 1)
    neg = counts * (o == 0)
    pairs = pos.sum(1) * neg.sum(1)
    good = pairs > 0
    if good.sum() < len(pairs) / 2:
        return float("nan"), float("nan")
    values = np.einsum("ri,ij,rj->r", pos[good], wins, neg[good]) / pairs[good]
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def loo_weights(scored: np.ndarray) -> np.ndarray:
    """Leave one out: row i gives each other scored case the same weight (rows sum to 1, or to 0
    when no other case is scored)."""
    scored = np.asarray(scored, dtype=bool)
    w = np.outer(np.ones(len(scored)), scored.astype(float))
    np.fill_diagonal(w, 0.0)
    totals = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, w / np.where(totals > 0, totals, 1), 0.0)


def feature_weights(
    scored: np.ndarray, feature: np.ndarray, shrinkage: float = SHRINKAGE
) -> np.ndarray:
    """The one-feature forecaster as weights over the other cases: the other scored cases with
    the same feature value, ``n`` of them, each weighted ``1 / (n + m)``, plus the leave-one-out
    base rate weighted ``m / (n + m)`` (``m = shrinkage``): a base rate conditional on the
    feature, shrunk towards the overall one when few cases share it (all of it when none)."""
    scored = np.asarray(scored, dtype=bool)
    feature = np.asarray(feature)
    same = (feature[:, None] == feature[None, :]) & scored[None, :]
    np.fill_diagonal(same, False)
    n = same.sum(axis=1, keepdims=True).astype(float)
    return same / (n + shrinkage) + (shrinkage / (n + shrinkage)) * loo_weights(scored)


def duplicate_items(
    observed: dict[str, np.ndarray], min_overlap: int
) -> dict[str, tuple[str, int]]:
    """Items whose observed codes repeat another item's: ``{dropped: (kept, cases compared)}``.

    Two items are duplicates when they are both scored on at least ``min_overlap`` cases and
    their codes agree on every such case. Of a pair, the item scored on more cases is kept
    (the first in order on a tie), and an item already dropped keeps nothing. ``observed`` maps
    each item, in order, to its codes by case (1, 0, NaN when not scored)."""
    names = list(observed)
    count = {n: int(np.sum(~np.isnan(observed[n]))) for n in names}
    rank = sorted(names, key=lambda n: (-count[n], names.index(n)))
    dropped: dict[str, tuple[str, int]] = {}
    for i, keep in enumerate(rank):
        if keep in dropped:
            continue
        for other in rank[i + 1 :]:
            if other in dropped:
                continue
            a, b = observed[keep], observed[other]
            both = ~np.isnan(a) & ~np.isnan(b)
            if both.sum() >= min_overlap and np.array_equal(a[both], b[both]):
                dropped[other] = (keep, int(both.sum()))
    return dropped
