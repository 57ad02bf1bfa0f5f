"""What a sweep is: its parameters, design, runs, seed and outcomes, from ``--param`` or a
``sweep:`` block, checked (sizes included) before anything is built.

A :class:`SweepDefinition` holds everything that determines a sweep's results and nothing that
does not (executor, workers and folder are left out), so its hash identifies the sweep in its
store: a folder is resumed only by the sweep that made it. Point ``i`` of a definition is always
the same override dict (:func:`sim.experiments.designs.build_design`) with the seed
``SeedSequence(seed, spawn_key=(i,))``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.experiments.axes import ParamSpec, SweepError, parse_param, parse_param_entry
from sim.experiments.designs import DESIGNS, MAX_POINTS, DesignPoints, build_design, design_size
from sim.inputs import arguments
from sim.model.scenario import LIMITS

FORMAT = 1
"""Bump when the canonical definition or the store's schema changes."""

SPLIT_HINT = (
    "split the sweep into several, each over part of a parameter's range and with its own "
    "--out folder"
)
"""How to go beyond the size limit, said with it."""

_OUTCOME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_COLUMNS = frozenset({"point", "runs", "error"})
"""Columns of ``sweep.csv`` that a parameter path may not be called."""


def canonical(obj: Any) -> str:
    """Sorted-key, whitespace-free JSON: equal objects give equal text."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def positive_int(where: str, v: object, *, minimum: int = 1, maximum: int | None = None) -> int:
    """``v`` if it is an integer from ``minimum`` to ``maximum``; else a SweepError naming
    ``where``."""
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise SweepError(f"{where}: expected an integer >= {minimum}, got {arguments.shown(v)}")
    if maximum is not None and v > maximum:
        raise SweepError(f"{where}: expected an integer <= {maximum:,}, got {v:,}")
    return v


@dataclass(frozen=True)
class SweepDefinition:
    """Everything that determines a sweep's results (and nothing that does not).

    ``context`` is an opaque JSON object from the caller — e.g. the base scenario, the model
    version — so a folder swept over one scenario is not resumed with another. A design of more
    than ``sim.experiments.designs.MAX_POINTS`` points is refused here, before any point is built.
    """

    parameters: tuple[ParamSpec, ...]
    design: str = "grid"
    samples: int | None = None
    runs: int = 1000
    seed: int = 0
    outcomes: tuple[str, ...] = ()
    second_order: bool = False
    levels: int = 4
    context: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.parameters, str | bytes | Mapping) or not isinstance(
            self.parameters, Iterable
        ):
            raise TypeError(
                f"parameters must be a list of ParamSpec (sim.parse_params), got "
                f"{arguments.shown(self.parameters)}"
            )
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(
            self, "outcomes", tuple(arguments.names("outcomes", self.outcomes, "outcome names"))
        )
        if not isinstance(self.design, str):
            raise TypeError(f"design must be a design's name, got {arguments.shown(self.design)}")
        if not isinstance(self.context, Mapping):
            raise TypeError(f"context must be a mapping, got {arguments.shown(self.context)}")
        positive_int("runs", self.runs, maximum=LIMITS["runs"])
        positive_int("seed", self.seed, minimum=0)
        if not isinstance(self.second_order, bool):
            raise SweepError(f"second_order: expected true or false, got {self.second_order!r}")
        for p in self.parameters:
            if not isinstance(p, ParamSpec):
                raise SweepError(f"parameters: expected ParamSpec objects, got {p!r}")
            if p.path in RESERVED_COLUMNS:
                raise SweepError(f"parameter path {p.path!r} clashes with a sweep.csv column name")
        seen: set[str] = set()
        for o in self.outcomes:
            if not isinstance(o, str) or not _OUTCOME_RE.match(o):
                raise SweepError(f"outcome {o!r}: expected a name like answer_7d")
            if o in seen:
                raise SweepError(f"outcome {o!r} is listed twice")
            seen.add(o)
        try:
            canonical(dict(self.context))
        except (TypeError, ValueError) as e:
            raise SweepError(f"context: must be JSON-serialisable ({e})") from None
        n = self.size()
        if n > MAX_POINTS:
            raise SweepError(
                f"the {self.design} design would have {n:,} points, and a sweep has at most "
                f"{MAX_POINTS:,}: use fewer levels or samples, or {SPLIT_HINT}"
            )

    @property
    def paths(self) -> tuple[str, ...]:
        """Parameter key paths in definition (= column) order."""
        return tuple(p.path for p in self.parameters)

    def size(self) -> int:
        """Number of design points (computed, not built)."""
        return design_size(
            self.parameters,
            self.design,
            self.samples,
            second_order=self.second_order,
            levels=self.levels,
        )

    def points(self) -> DesignPoints:
        """The expanded, deterministic design."""
        return build_design(
            self.parameters,
            self.design,
            self.samples,
            seed=self.seed,
            second_order=self.second_order,
            levels=self.levels,
        )

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON object; knobs irrelevant to the design are left out of the hash."""
        obj: dict[str, Any] = {
            "format": FORMAT,
            "design": self.design,
            "runs": self.runs,
            "seed": self.seed,
            "outcomes": list(self.outcomes),
            "parameters": [p.to_json() for p in self.parameters],
            "context": dict(self.context),
        }
        if self.design != "grid":
            obj["samples"] = self.samples
        if self.design == "sobol":
            obj["second_order"] = self.second_order
        if self.design == "morris":
            obj["levels"] = self.levels
        return obj

    def canonical_json(self) -> str:
        """Sorted-key, whitespace-free JSON: equal definitions give equal text."""
        return canonical(self.to_json())

    def hash(self) -> str:
        """SHA-256 of :meth:`canonical_json`; identifies the sweep in its store."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SweepDefinition:
        """Inverse of :meth:`to_json`."""
        if obj.get("format") != FORMAT:
            raise SweepError(
                f"sweep definition format {obj.get('format')!r} is not supported "
                f"(expected {FORMAT})"
            )
        return cls(
            parameters=tuple(ParamSpec.from_json(p) for p in obj["parameters"]),
            design=obj["design"],
            samples=obj.get("samples"),
            runs=obj["runs"],
            seed=obj["seed"],
            outcomes=tuple(obj["outcomes"]),
            second_order=obj.get("second_order", False),
            levels=obj.get("levels", 4),
            context=obj.get("context", {}),
        )


def _check_count(path: str, count: object) -> None:
    """Refuse a range of more levels than a sweep may have points, before
    ``sim.experiments.designs`` builds the levels (it makes them all at once)."""
    if isinstance(count, int | float) and not isinstance(count, bool) and count > MAX_POINTS:
        shown = f"{int(count):,}" if float(count).is_integer() else f"{count:g}"
        raise SweepError(
            f"parameter {path!r}: a range of {shown} levels is more than the {MAX_POINTS:,} "
            f"points a sweep may have: use fewer levels, or {SPLIT_HINT}"
        )


def _range_count(text: str) -> object:
    """The count of a ``START:STOP:COUNT`` spec, as a number when it reads as one."""
    parts = text.split(":")
    if len(parts) != 3:
        return None
    try:
        return float(parts[2])
    except ValueError:
        return None


def parse_params(texts: Iterable[str]) -> tuple[ParamSpec, ...]:
    """Parse repeated CLI ``--param`` strings (see :func:`sim.experiments.axes.parse_param`)."""
    specs = []
    for text in arguments.names("texts", texts, "--param strings (PATH=SPEC)"):
        path, _, spec = text.partition("=")
        _check_count(path.strip(), _range_count(spec))
        specs.append(parse_param(text))
    return tuple(specs)


def _parse_entry(path: str, entry: object) -> ParamSpec:
    count = entry.get("count") if isinstance(entry, Mapping) else None
    _check_count(path, _range_count(entry) if isinstance(entry, str) else count)
    return parse_param_entry(path, entry)


BLOCK_KEYS = (
    "design",
    "samples",
    "runs",
    "seed",
    "outcomes",
    "second_order",
    "levels",
    "parameters",
)
"""The keys of a ``sweep:`` block."""


def parse_sweep_block(
    block: Mapping[str, Any],
    *,
    context: Mapping[str, Any] | None = None,
    chosen: Mapping[str, Any] | None = None,
) -> SweepDefinition:
    """Build a :class:`SweepDefinition` from a YAML ``sweep:`` block (already loaded).

    ``chosen`` (``design``, ``samples``, ...) replaces the block's own keys before anything is
    checked, as the command line's options do, so a block of bounds can be run as a sampling
    design from the command line. Schema (all keys but ``parameters`` optional)::

        sweep:
          design: grid            # grid | lhs | sobol | morris
          samples: 256            # lhs: points; sobol: base N (power of 2); morris: trajectories
          runs: 1000              # Monte Carlo runs per design point
          seed: 1                 # sweep seed (point i gets SeedSequence(seed, spawn_key=(i,)))
          outcomes: [answer_7d]   # default: every outcome evaluate returns
          second_order: false     # sobol only: also S2 sampling (2D+2 instead of D+2 points per N)
          levels: 4               # morris only: even number of grid levels
          parameters:             # key path -> spec, in column order
            actors.pakistan.audience_cost: {range: [0, 1], count: 11}
            third_parties.china.leverage.iran: {values: [0.2, 0.5, 0.8]}
            actors.iran.retaliation.policy: {values: [escalate, tit_for_tat]}
            actors.iran.resolve: {bounds: [0.1, 0.9]}
            actors.iran.cost: "0:1:5"   # the --param syntax also works

    A mapping holding a ``sweep`` key (a whole YAML document) is accepted too.
    """
    if isinstance(block, Mapping) and "sweep" in block and "parameters" not in block:
        block = block["sweep"]
    if not isinstance(block, Mapping):
        raise SweepError(f"sweep: expected a mapping, got {type(block).__name__}")
    unknown = [str(k) for k in block if k not in BLOCK_KEYS]
    if unknown:
        raise SweepError(
            f"sweep.{unknown[0]}: unknown key (expected one of {', '.join(BLOCK_KEYS)})"
        )
    block = {**block, **(chosen or {})}
    params = block.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise SweepError("sweep.parameters: expected a non-empty mapping of key path -> spec")
    specs = tuple(_parse_entry(str(k), v) for k, v in params.items())
    design = block.get("design", "grid")
    if design not in DESIGNS:
        raise SweepError(
            f"sweep.design: {design!r} is unknown (expected one of {', '.join(DESIGNS)})"
        )
    outcomes = block.get("outcomes", [])
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    if not isinstance(outcomes, list | tuple):
        raise SweepError(f"sweep.outcomes: expected a list of outcome names, got {outcomes!r}")
    samples = block.get("samples")
    if samples is not None:
        positive_int("sweep.samples", samples)
    return SweepDefinition(
        parameters=specs,
        design=design,
        samples=samples,
        runs=positive_int("sweep.runs", block.get("runs", 1000)),
        seed=positive_int("sweep.seed", block.get("seed", 0), minimum=0),
        outcomes=tuple(outcomes),
        second_order=block.get("second_order", False),
        levels=positive_int("sweep.levels", block.get("levels", 4), minimum=2),
        context=dict(context or {}),
    )
