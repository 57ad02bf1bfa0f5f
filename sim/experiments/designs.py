"""Parameter specs, experimental designs and sensitivity analysis for sweeps.

This module is pure (no files, no processes): it turns user input (``--param``
strings or a YAML ``sweep:`` block's ``parameters``) into :class:`ParamSpec`
objects, expands them into design points, and analyses outcome arrays with
SALib. Everything random is derived from an explicit seed, so the same sweep
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
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from sim.inputs.parameters import Parameter
from sim.inputs.parameters import salib_problem as salib_problem_of

__all__ = [
    "DESIGNS",
    "MAX_POINTS",
    "DesignName",
    "DesignPoints",
    "ParamSpec",
    "SweepError",
    "Value",
    "analysis_seed",
    "build_design",
    "design_size",
    "index_warning",
    "morris_indices",
    "morris_warnings",
    "noise_share",
    "parse_param",
    "parse_param_entry",
    "point_seed",
    "salib_problem",
    "sobol_indices",
    "sobol_warnings",
]

Value = int | float | str | bool
DesignName = Literal["grid", "lhs", "sobol", "morris"]
DESIGNS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")

#: A design larger than this is refused: it is almost surely a typo, and the
#: points list alone would not fit in memory.
MAX_POINTS = 10_000_000

# Spawn keys of length 2 can never collide with the per-point keys ``(i,)``.
_DESIGN_KEY = (0x5EED, 0)
_ANALYSIS_KEY = (0x5EED, 1)

_PATH_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_INT_RE = re.compile(r"^[+-]?\d+$")


class SweepError(ValueError):
    """Bad sweep input or state; the message is one line naming what is wrong."""


# --------------------------------------------------------------------------- #
# Parameter specs
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class ParamSpec:
    """A sweep's axis over one scenario parameter, addressed by its dotted key path: the levels
    or bounds the sweep gives it (the parameter itself, with its kind and schema range, is
    :class:`sim.inputs.parameters.Parameter`, and SALib problems are made by its one
    ``salib_problem``).

    ``kind`` is ``"range"`` (start:stop:count — grid levels *and* bounds),
    ``"values"`` (an explicit list; strings/bools make it categorical) or
    ``"bounds"`` (continuous ``[low, high]``; sampling designs only).
    """

    path: str
    kind: Literal["range", "values", "bounds"]
    values: tuple[Value, ...] = ()
    bounds: tuple[float, float] | None = None
    count: int | None = None

    @property
    def categorical(self) -> bool:
        """True when any level is a name (or bool), so the parameter has no bounds."""
        return any(not _is_number(v) for v in self.values)

    def levels(self) -> tuple[Value, ...]:
        """Grid levels; a bounds-only parameter has none, so that is an error."""
        if self.kind == "bounds":
            raise SweepError(
                f"parameter {self.path!r}: the grid design needs levels "
                "('values' or 'range' with 'count'), not only 'bounds'"
            )
        return self.values

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON form, used for the sweep definition hash."""
        if self.kind == "range":
            assert self.bounds is not None
            return {"path": self.path, "range": list(self.bounds), "count": self.count}
        if self.kind == "bounds":
            assert self.bounds is not None
            return {"path": self.path, "bounds": list(self.bounds)}
        return {"path": self.path, "values": list(self.values)}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ParamSpec:
        """Inverse of :meth:`to_json`."""
        entry = {k: v for k, v in obj.items() if k != "path"}
        return parse_param_entry(str(obj["path"]), entry)


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _check_path(path: str) -> str:
    path = path.strip()
    if not _PATH_RE.match(path):
        raise SweepError(
            f"parameter path {path!r} is not a dotted key path "
            "(expected e.g. actors.pakistan.audience_cost)"
        )
    return path


def _finite(path: str, what: str, x: object) -> float:
    if not _is_number(x):
        raise SweepError(f"parameter {path!r}: {what} must be a number, got {x!r}")
    f = float(cast(float, x))
    if not math.isfinite(f):
        raise SweepError(f"parameter {path!r}: {what} must be finite, got {x!r}")
    return f


def _parse_scalar(path: str, text: str) -> Value:
    """A CLI token: int, float, true/false, else a name (categorical level)."""
    t = text.strip()
    if not t:
        raise SweepError(f"parameter {path!r}: empty value in list")
    if _INT_RE.match(t):
        return int(t)
    try:
        f = float(t)
    except ValueError:
        pass
    else:
        if not math.isfinite(f):
            raise SweepError(f"parameter {path!r}: value {t!r} is not finite")
        return f
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    return t


def _make_range(path: str, start: object, stop: object, count: object) -> ParamSpec:
    a = _finite(path, "range start", start)
    b = _finite(path, "range stop", stop)
    if isinstance(count, bool) or not isinstance(count, int):
        if isinstance(count, float) and count.is_integer():
            count = int(count)
        else:
            raise SweepError(f"parameter {path!r}: range count must be an integer, got {count!r}")
    if count < 2:
        raise SweepError(f"parameter {path!r}: range count must be >= 2, got {count}")
    if a > b:
        raise SweepError(f"parameter {path!r}: range start {start} is greater than stop {stop}")
    span = b - a
    if a.is_integer() and b.is_integer() and span % (count - 1) == 0:
        step = int(span) // (count - 1)
        levels: tuple[Value, ...] = tuple(int(a) + i * step for i in range(count))
    else:
        # Snap linspace's rounding noise (0.30000000000000004 -> 0.3, for
        # readable CSV columns) only when the short form is within a few ulps;
        # keep the endpoints exact and the levels monotone.
        lin = [float(v) for v in np.linspace(a, b, count)]
        snapped = []
        for v in lin:
            short = float(f"{v:.15g}")
            snapped.append(short if abs(short - v) <= 4 * math.ulp(v) else v)
        snapped[0], snapped[-1] = a, b
        ok = all(x <= y for x, y in zip(snapped, snapped[1:], strict=False))
        levels = tuple(snapped if ok else [a, *lin[1:-1], b])
    return ParamSpec(path=path, kind="range", values=levels, bounds=(a, b), count=count)


def _make_bounds(path: str, low: object, high: object) -> ParamSpec:
    lo = _finite(path, "lower bound", low)
    hi = _finite(path, "upper bound", high)
    if not lo < hi:
        raise SweepError(f"parameter {path!r}: bounds need low < high, got [{low}, {high}]")
    return ParamSpec(path=path, kind="bounds", bounds=(lo, hi))


def _make_values(path: str, values: Sequence[object]) -> ParamSpec:
    if len(values) == 0:
        raise SweepError(f"parameter {path!r}: 'values' is empty")
    out: list[Value] = []
    for v in values:
        if _is_number(v):
            _finite(path, "value", v)
        elif not isinstance(v, str | bool):
            raise SweepError(f"parameter {path!r}: values must be numbers or names, got {v!r}")
        out.append(cast(Value, v))
    kinds = {_is_number(v) for v in out}
    if len(kinds) > 1:
        raise SweepError(f"parameter {path!r}: values mix numbers and names: {list(out)!r}")
    seen: set[tuple[type, Value]] = set()
    for v in out:
        key = (float if _is_number(v) else type(v), float(v) if _is_number(v) else v)
        if key in seen:
            raise SweepError(f"parameter {path!r}: duplicate value {v!r}")
        seen.add(key)
    return ParamSpec(path=path, kind="values", values=tuple(out))


def parse_param(text: str) -> ParamSpec:
    """Parse a CLI ``--param`` string.

    Forms: ``path=start:stop:count`` (grid levels + bounds), ``path=low:high``
    (bounds only, for lhs/sobol/morris), ``path=v1,v2,...`` (numbers, or names
    for a categorical parameter; a single value is allowed).
    """
    if "=" not in text:
        raise SweepError(
            f"--param {text!r}: expected PATH=START:STOP:COUNT, PATH=LOW:HIGH or PATH=V1,V2,..."
        )
    raw_path, spec = text.split("=", 1)
    path = _check_path(raw_path)
    spec = spec.strip()
    if not spec:
        raise SweepError(f"parameter {path!r}: no values after '='")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise SweepError(
                f"parameter {path!r}: range {spec!r} must be START:STOP:COUNT or LOW:HIGH"
            )
        nums = [_parse_scalar(path, p) for p in parts]
        for p, n in zip(parts, nums, strict=True):
            if not _is_number(n):
                raise SweepError(f"parameter {path!r}: {p!r} in range {spec!r} is not a number")
        if len(nums) == 2:
            return _make_bounds(path, nums[0], nums[1])
        if not isinstance(nums[2], int):
            raise SweepError(f"parameter {path!r}: range count {parts[2]!r} must be an integer")
        return _make_range(path, nums[0], nums[1], nums[2])
    return _make_values(path, [_parse_scalar(path, p) for p in spec.split(",")])


def parse_param_entry(path: str, entry: object) -> ParamSpec:
    """Parse one entry of a YAML ``sweep.parameters`` mapping.

    Accepted: ``{range: [a, b], count: n}``, ``{values: [...]}``,
    ``{bounds: [lo, hi]}``, a bare list (= values) or a string in the CLI
    syntax (``"0:1:11"``, ``"a,b"``).
    """
    path = _check_path(str(path))
    if isinstance(entry, str):
        return parse_param(f"{path}={entry}")
    if isinstance(entry, list | tuple):
        return _make_values(path, list(entry))
    if not isinstance(entry, Mapping):
        raise SweepError(
            f"parameter {path!r}: expected a mapping with 'range'+'count', 'values' "
            f"or 'bounds', got {type(entry).__name__}"
        )
    keys = set(entry)
    if keys == {"range", "count"}:
        rng = entry["range"]
        if not isinstance(rng, list | tuple) or len(rng) != 2:
            raise SweepError(f"parameter {path!r}: 'range' must be [start, stop], got {rng!r}")
        return _make_range(path, rng[0], rng[1], entry["count"])
    if keys == {"values"}:
        vals = entry["values"]
        if not isinstance(vals, list | tuple):
            raise SweepError(f"parameter {path!r}: 'values' must be a list, got {vals!r}")
        return _make_values(path, list(vals))
    if keys == {"bounds"}:
        b = entry["bounds"]
        if not isinstance(b, list | tuple) or len(b) != 2:
            raise SweepError(f"parameter {path!r}: 'bounds' must be [low, high], got {b!r}")
        return _make_bounds(path, b[0], b[1])
    if "range" in keys and "count" not in keys:
        raise SweepError(f"parameter {path!r}: 'range' needs a 'count' (>= 2)")
    raise SweepError(
        f"parameter {path!r}: expected exactly one of {{range, count}}, {{values}} or "
        f"{{bounds}}, got keys {sorted(map(str, keys))}"
    )


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
