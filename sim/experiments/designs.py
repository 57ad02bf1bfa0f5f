"""Experimental designs for sweeps: a sweep's axes (:mod:`sim.experiments.axes`) expanded
into design points (the analysis of the results is :mod:`sim.experiments.sensitivity`).

This module is pure (no files, no processes). Everything random is derived from an explicit seed, so the same sweep
definition always yields the same points in the same order — which is what
lets :mod:`sim.experiments.sweep` resume a sweep by point index.

Design rules (decided here, documented in the report and ``docs``):

* ``grid``   — cartesian product of every parameter's levels, first parameter
  varying slowest. Needs ``values`` or ``range`` (start:stop:count); a
  ``bounds``-only parameter has no levels and is refused.
* ``lhs``    — Latin hypercube (``scipy.stats.qmc.LatinHypercube``), ``samples``
  points. ``range``/``bounds`` parameters are sampled continuously within
  their bounds; ``values`` parameters (numeric or categorical) are *mapped*:
  the stratified uniform ``u`` picks level ``floor(u * k)``, so each of the
  ``k`` levels is used ``samples / k`` times (exactly, when ``k`` divides it).
* ``sobol``  — Saltelli/Sobol' sampling (``SALib.sample.sobol``); ``samples`` is
  the base ``N`` (a power of 2); ``N * (D + 2)`` points, ``N * (2D + 2)`` with
  second-order indices. Every parameter needs bounds (``range`` or
  ``bounds``); categorical parameters are refused.
* ``morris`` — Morris elementary effects (``SALib.sample.morris``); ``samples``
  trajectories, ``N * (D + 1)`` points on a ``levels``-level grid. Needs
  bounds like ``sobol``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np

from sim.experiments.axes import ParamSpec, SweepError, Value
from sim.inputs.parameters import Parameter
from sim.inputs.parameters import salib_problem as salib_problem_of

DesignName = Literal["grid", "lhs", "sobol", "morris"]
DESIGNS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")

#: A design larger than this is refused: it is almost surely a typo, and the
#: points list alone would not fit in memory.
MAX_POINTS = 10_000_000

# Spawn keys of length 2 can never collide with the per-point keys ``(i,)``.
_DESIGN_KEY = (0x5EED, 0)
_ANALYSIS_KEY = (0x5EED, 1)


# --------------------------------------------------------------------------- #
# Seeds
# --------------------------------------------------------------------------- #


def point_seed(sweep_seed: int, index: int) -> np.random.SeedSequence:
    """Seed of design point ``index``: ``SeedSequence(sweep_seed, spawn_key=(index,))``.

    Equal to ``SeedSequence(sweep_seed).spawn(n)[index]``, and a function of
    the index alone, so results do not depend on execution order, resumption
    or executor.
    """
    return np.random.SeedSequence(sweep_seed, spawn_key=(index,))


def _design_rng(sweep_seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(sweep_seed, spawn_key=_DESIGN_KEY))


def analysis_seed(sweep_seed: int) -> int:
    """Positive int seed for SALib's bootstrap CIs (SALib treats 0 as 'unseeded')."""
    ss = np.random.SeedSequence(sweep_seed, spawn_key=_ANALYSIS_KEY)
    return int(ss.generate_state(1, np.uint32)[0]) + 1


# --------------------------------------------------------------------------- #
# Designs
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class DesignPoints:
    """The expanded design: ``points[i]`` is the override dict of point ``i``.

    ``X`` is the numeric sample matrix handed to SALib (sobol/morris) or the
    scaled LHS matrix (continuous columns only meaningful); ``None`` for grids.
    """

    design: str
    paths: tuple[str, ...]
    points: list[dict[str, Value]]
    X: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.points)


def salib_problem(params: Sequence[ParamSpec], design: str = "sobol") -> dict[str, Any]:
    """SALib problem dict; every parameter must have numeric bounds."""
    bounds: list[list[float]] = []
    for p in params:
        if p.bounds is None:
            what = "categorical values" if p.categorical else "only a values list"
            raise SweepError(
                f"parameter {p.path!r}: the {design} design needs bounds for every "
                f"parameter, but it has {what}; give 'range' or 'bounds'"
            )
        lo, hi = p.bounds
        if not lo < hi:
            raise SweepError(
                f"parameter {p.path!r}: the {design} design needs low < high, got [{lo}, {hi}]"
            )
        bounds.append([lo, hi])
    return salib_problem_of(
        [
            Parameter(p.path, "real", lo, lo, hi, source="caller")
            for p, (lo, hi) in zip(params, bounds, strict=True)
        ]
    )


def _check_design_args(
    params: Sequence[ParamSpec], design: str, samples: int | None, levels: int
) -> None:
    if design not in DESIGNS:
        raise SweepError(f"design {design!r} is unknown; expected one of {', '.join(DESIGNS)}")
    if not params:
        raise SweepError("a sweep needs at least one parameter")
    paths = [p.path for p in params]
    dup = sorted({p for p in paths if paths.count(p) > 1})
    if dup:
        raise SweepError(f"parameter {dup[0]!r} is given more than once")
    if design == "grid":
        if samples is not None:
            raise SweepError(
                "'samples' is not used by the grid design (its size is the product of the levels)"
            )
        for p in params:
            p.levels()
        return
    if samples is None or isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        what = {"lhs": "points", "sobol": "base samples N, a power of 2", "morris": "trajectories"}
        raise SweepError(
            f"the {design} design needs 'samples' ({what[design]}) as a positive integer, "
            f"got {samples!r}"
        )
    if design == "sobol":
        salib_problem(params, design)
        if samples & (samples - 1):
            hint = 1 << (samples - 1).bit_length()
            raise SweepError(
                f"the sobol design needs 'samples' to be a power of 2, got {samples} (try {hint})"
            )
    if design == "morris":
        salib_problem(params, design)
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
            raise SweepError(
                f"the morris design needs 'levels' to be an even integer >= 2, got {levels!r}"
            )
    if design == "lhs":
        for p in params:
            if p.kind == "values" and len(p.values) < 1:
                raise SweepError(f"parameter {p.path!r}: 'values' is empty")


def design_size(
    params: Sequence[ParamSpec],
    design: str,
    samples: int | None = None,
    *,
    second_order: bool = False,
    levels: int = 4,
) -> int:
    """Number of points the design will have, without building it."""
    _check_design_args(params, design, samples, levels)
    d = len(params)
    if design == "grid":
        return math.prod(len(p.levels()) for p in params)
    assert samples is not None
    if design == "lhs":
        return samples
    if design == "sobol":
        return samples * (2 * d + 2 if second_order else d + 2)
    return samples * (d + 1)


def _clean(v: Any) -> Value:
    """numpy scalar -> plain Python scalar, so points are JSON-able and hash-stable."""
    if isinstance(v, np.generic):
        return cast(Value, v.item())
    return cast(Value, v)


def build_design(
    params: Sequence[ParamSpec],
    design: str,
    samples: int | None = None,
    *,
    seed: int = 0,
    second_order: bool = False,
    levels: int = 4,
) -> DesignPoints:
    """Expand ``params`` into design points, deterministically from ``seed``.

    Point order is part of the contract: point ``i`` is always the same
    override dict for the same arguments, which is what resumption relies on.
    """
    n = design_size(params, design, samples, second_order=second_order, levels=levels)
    if n > MAX_POINTS:
        raise SweepError(
            f"the {design} design would have {n:,} points (limit {MAX_POINTS:,}); "
            "use fewer levels or samples"
        )
    paths = tuple(p.path for p in params)
    if design == "grid":
        pts = [
            dict(zip(paths, combo, strict=True))
            for combo in itertools.product(*(p.levels() for p in params))
        ]
        return DesignPoints(design, paths, pts)

    assert samples is not None
    if design == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(params), rng=_design_rng(seed)).random(samples)
        cols: list[list[Value]] = []
        X = np.empty_like(u)
        for j, p in enumerate(params):
            if p.kind == "values":
                k = len(p.values)
                idx = np.minimum((u[:, j] * k).astype(int), k - 1)
                cols.append([p.values[i] for i in idx])
                X[:, j] = idx
            else:
                assert p.bounds is not None
                lo, hi = p.bounds
                X[:, j] = lo + u[:, j] * (hi - lo)
                cols.append([float(x) for x in X[:, j]])
        pts = [dict(zip(paths, row, strict=True)) for row in zip(*cols, strict=True)]
        return DesignPoints(design, paths, pts, X)

    problem = salib_problem(params, design)
    if design == "sobol":
        from SALib.sample import sobol as sobol_sample

        X = sobol_sample.sample(
            problem, samples, calc_second_order=second_order, seed=_design_rng(seed)
        )
    else:
        from SALib.sample import morris as morris_sample

        X = morris_sample.sample(problem, samples, num_levels=levels, seed=_design_rng(seed))
    pts = [{path: _clean(float(x)) for path, x in zip(paths, row, strict=True)} for row in X]
    return DesignPoints(design, paths, pts, np.asarray(X, dtype=float))
