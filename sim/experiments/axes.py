"""A sweep's axes: which scenario parameters it varies and over what (``--param`` strings or a
``sweep:`` block's ``parameters``), read into :class:`ParamSpec` objects with one-line errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np

Value = int | float | str | bool

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
