"""The parameter space of a scenario: every numeric key with its range, for SALib and EMA Workbench.

A key is named by its dotted path, as in ``--set`` and ``--param`` (``actors.pakistan.cost``,
``third_parties.china.leverage.iran``, ``relations.0.economic_ties``); ``load_scenario(path,
overrides=...)`` takes these paths. The space holds the crisis's quantities, read from a loaded
scenario (so keys left to their defaults are in it too):

- every number, integer-valued keys (delays, rungs, counts) as integers;
- each state's retaliation and mediation policy, as a choice among the registered policies
  (EMA Workbench only: SALib's methods vary numbers);
- a resolve drawn from ``{beta: [a, b]}`` as its two parameters (``actors.iran.resolve.beta.0``),
  a fixed resolve as the number. The ordered parameters of ``uniform`` and ``triangular`` cannot
  vary one at a time, so they are left out.

Left out as well: the run settings (``horizon``, ``runs``, ``seed``, ``uncertainty``), which say
how the crisis is watched rather than what happens in it; the ``ladder``, the crisis's
vocabulary; the scripted ``events``, the facts the crisis starts from; and the on/off switches
of ``mechanisms``, which are not numbers.

How a range is found, in order (``Parameter.source`` says which):

- ``caller``: the ``bounds`` given to :func:`parameter_space`; they must lie within the limits
  below;
- ``ladder``: a rung: ``attack_rung`` from 1 to the rung below war, ``trigger_rung`` and
  ``nuclear_from_rung`` from 1 to war, a relation's ``baseline`` from 0 to the rung below the
  strike rung;
- ``schema``: both bounds from the scenario's schema (``python run.py schema``), such as [0, 1]
  for a probability or share, [-1, 1] for an alignment; a fixed resolve is a share, [0, 1];
- ``default``: the schema gives a lower bound only (a weight, a cost, a rate, a delay), so the
  range runs from it to twice the value's distance from it (``[0, 2 x value]`` for a bound of 0),
  or to the bound + 1 when the value sits on the bound. An upper limit that only guards against
  typos (``LIMITS["days"]``, 3,650 days for a delay or cooldown) counts as no upper bound here,
  though bounds from the caller must stay within it. An exclusive lower bound (the parameters
  of a beta distribution, a threshold) can never be sampled, so such a range starts halfway
  between the bound and the value instead.

A value that is not finite (``rationality: .inf``) gives no range: pass one in ``bounds``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel

from sim.inputs.errors import did_you_mean
from sim.model.distributions import Distribution
from sim.model.policies import (
    MEDIATION_POLICIES,
    RETALIATION_POLICIES,
    MediationPolicy,
    RetaliationPolicy,
)
from sim.model.scenario import (
    LIMITS,
    ArmedGroupConfig,
    Decision,
    Mediation,
    Relation,
    Scenario,
    StateConfig,
)
from sim.model.schema import limits, unwrap

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["real", "integer", "categorical"]
Source = str
"""Where a range comes from: "schema", "ladder", "default" (from the value), "caller", or a
sentence (a prior's reasoning, as calibration gives it)."""
Number = int | float

NOT_PARAMETERS = ("horizon", "runs", "seed", "uncertainty", "ladder", "events")
"""Top-level keys and blocks left out of the space (see the module docstring)."""

_RUNG_KEYS: dict[tuple[type[BaseModel], str], str] = {
    (ArmedGroupConfig, "attack_rung"): "below war",
    (Mediation, "trigger_rung"): "war",
    (Decision, "nuclear_from_rung"): "war",
    (Relation, "baseline"): "below strike",
}
"""Keys whose values are rungs, and the highest rung each may take."""

_GUARDS = {LIMITS["days"]}
"""Upper limits that only guard against typos (a delay of 3,650 days), not ranges to sample."""

_SHARES = {(StateConfig, "resolve")}
"""Distributed quantities on 0 to 1 (the schema says so in words: 'How much ..., 0 to 1')."""


@dataclass(frozen=True)
class Parameter:
    """One key of the space: its path, kind, the scenario's value and its range (or choices)."""

    path: str
    kind: Kind
    value: Number | str
    low: Number | None = None
    high: Number | None = None
    categories: tuple[str, ...] = ()
    source: Source = "schema"
    label: str = ""
    """A short name for reports (``rationality``); the path's last key when not given."""

    @property
    def name(self) -> str:
        """The path as a Python identifier (``actors__pakistan__cost``), as EMA Workbench needs."""
        return self.path.replace(".", "__")

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) of a numeric parameter, as floats."""
        if self.low is None or self.high is None:
            raise ValueError(f"{self.path} has no numeric range")
        return float(self.low), float(self.high)

    @property
    def short(self) -> str:
        """The label, or the path's last key."""
        return self.label or self.path.rsplit(".", 1)[-1]

    def convert(self, value: Any) -> Number | str:
        """``value`` as the loader takes it: a plain int, float or policy name.

        A fractional value of an integer key (from SALib) is mapped to one of the whole numbers
        of the range, each of which covers an equal share of it.
        """
        if self.kind == "categorical":
            if value not in self.categories:
                raise ValueError(
                    f"{self.path}: expected one of {', '.join(self.categories)}, got {value!r}"
                )
            return str(value)
        number = float(value)
        if self.kind == "real":
            return number
        if number.is_integer():
            return int(number)
        assert self.low is not None and self.high is not None
        levels = int(self.high) - int(self.low) + 1
        share = (number - self.low) / (self.high - self.low)
        return int(self.low) + min(max(math.floor(share * levels), 0), levels - 1)


def salib_problem(parameters: Sequence[Parameter]) -> dict[str, Any]:
    """A SALib problem over numeric parameters with both bounds: names are the dotted paths."""
    return {
        "num_vars": len(parameters),
        "names": [p.path for p in parameters],
        "bounds": [[p.low, p.high] for p in parameters],
    }


@dataclass(frozen=True)
class ParameterSpace:
    """The keys of a scenario one may vary, each with its range: see :func:`parameter_space`."""

    parameters: tuple[Parameter, ...]

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def __getitem__(self, path: str) -> Parameter:
        for parameter in self.parameters:
            if path in (parameter.path, parameter.name):
                return parameter
        raise KeyError(f"{path!r} is not in this parameter space{did_you_mean(path, self.paths)}")

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.parameters]

    @property
    def names(self) -> list[str]:
        """The paths as identifiers: the EMA Workbench parameters' names."""
        return [p.name for p in self.parameters]

    @property
    def numeric(self) -> list[Parameter]:
        return [p for p in self.parameters if p.kind != "categorical"]

    def salib_problem(self) -> dict[str, Any]:
        """A SALib problem over the numeric keys (``names`` are the dotted paths).

        Sample it with SALib, then turn each row into overrides with
        ``overrides(dict(zip(problem["names"], row, strict=True)))``.
        """
        return salib_problem(self.numeric)

    def ema_parameters(self) -> list[Any]:
        """EMA Workbench uncertainties (or levers): Real-, Integer- and CategoricalParameters.

        Each is named by the identifier form of its path, and its ``variable_name`` is the path
        itself, so a model function ``f(**overrides)`` receives the dotted paths as keys.
        Needs ``pip install ".[ema]"``.
        """
        from ema_workbench import CategoricalParameter, IntegerParameter, RealParameter

        made: list[Any] = []
        for p in self.parameters:
            if p.kind == "categorical":
                made.append(
                    CategoricalParameter(
                        p.name, p.categories, default=p.value, variable_name=p.path
                    )
                )
            else:
                kind = IntegerParameter if p.kind == "integer" else RealParameter
                made.append(kind(p.name, p.low, p.high, default=p.value, variable_name=p.path))
        return made

    def overrides(self, values: Mapping[str, Any]) -> dict[str, Number | str]:
        """Overrides for ``load_scenario`` from values keyed by path or name (numpy numbers
        become plain ones, fractional values of integer keys whole ones: ``Parameter.convert``)."""
        return {self[key].path: self[key].convert(value) for key, value in values.items()}

    def to_frame(self) -> pd.DataFrame:
        """The space as a table: one row per key."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "path": p.path,
                    "kind": p.kind,
                    "value": p.value,
                    "low": p.low,
                    "high": p.high,
                    "categories": ", ".join(p.categories),
                    "source": p.source,
                }
                for p in self.parameters
            ]
        )


def parameter_space(
    scenario: Scenario,
    keys: Iterable[str] | None = None,
    bounds: Mapping[str, Sequence[Number] | Sequence[str]] | None = None,
) -> ParameterSpace:
    """The parameter space of ``scenario``: every key one may vary, with its range.

    ``keys`` selects paths, or blocks by a path's beginning (``"actors.pakistan"`` selects all of
    Pakistan's keys), in the order given; by default every key, in the scenario's order.
    ``bounds`` sets a key's range (``{"actors.pakistan.cost": (1, 5)}``), within the schema's
    limits, or a policy's choices (``{"actors.iran.retaliation.policy": ("strategic",
    "tit_for_tat")}``). A key written as a distribution ranges over the distribution's own
    support unless ``bounds`` says otherwise. The module docstring says how each range is found
    otherwise.
    """
    found = {key.path: key for key in _walk(scenario, (), scenario)}
    chosen = list(found) if keys is None else _select(list(keys), list(found))
    given = dict(bounds or {})
    unknown = [path for path in given if path not in chosen]
    if unknown:
        raise ValueError(
            f"bounds for {unknown[0]!r}, which is not in the chosen keys"
            f"{did_you_mean(unknown[0], chosen)}"
        )
    for path, distribution in scenario.uncertainty.distributions.items():
        if path in chosen and path not in given and distribution.low < distribution.high:
            given[path] = (distribution.low, distribution.high)
    return ParameterSpace(tuple(found[path].parameter(given.get(path)) for path in chosen))


@dataclass(frozen=True)
class _Key:
    """A key as found in the scenario, before its range is settled."""

    path: str
    kind: Kind
    value: Number | str
    floor: tuple[Number, bool] | None = None
    """The lowest value and whether it is exclusive."""
    ceiling: tuple[Number, bool] | None = None
    categories: tuple[str, ...] = ()
    source: Source = "schema"

    def parameter(self, given: Sequence[Any] | None) -> Parameter:
        if self.kind == "categorical":
            return self._choices(given)
        if given is not None:
            return self._given(given)
        if self.floor is None:
            raise ValueError(f"{self.path}: the schema gives no bounds; pass them in bounds=")
        value = float(self.value)
        bound, exclusive = self.floor
        low = (bound + value) / 2 if exclusive else bound
        if self.ceiling is not None and self.ceiling[0] not in _GUARDS:
            top, exclusive = self.ceiling
            return self._make(low, (top + value) / 2 if exclusive else top, self.source)
        if not math.isfinite(value):
            raise ValueError(
                f"{self.path} is {value}, so no range can be derived from it; pass one, such "
                f"as bounds={{{self.path!r}: (low, high)}}"
            )
        return self._make(
            low, bound + 2 * (value - bound) if value > bound else bound + 1, "default"
        )

    def _make(self, low: Number, high: Number, source: Source) -> Parameter:
        if self.kind == "integer":
            return Parameter(self.path, self.kind, self.value, int(low), int(high), source=source)
        return Parameter(self.path, self.kind, self.value, float(low), float(high), source=source)

    def _given(self, given: Sequence[Any]) -> Parameter:
        if len(given) != 2 or not all(_is_number(x) for x in given):
            raise ValueError(f"bounds for {self.path}: expected (low, high), got {given!r}")
        low, high = given
        if self.kind == "integer" and not all(float(x).is_integer() for x in given):
            raise ValueError(f"bounds for {self.path}: expected whole numbers, got {given!r}")
        if not low < high:
            raise ValueError(f"bounds for {self.path}: expected low < high, got {given!r}")
        where = "the ladder's" if self.source == "ladder" else "the schema's"
        if self.floor is not None:
            bound, exclusive = self.floor
            if low < bound or (exclusive and low == bound):
                sign = ">" if exclusive else ">="
                raise ValueError(
                    f"bounds for {self.path}: expected low {sign} {bound} ({where} limit), "
                    f"got {low}"
                )
        if self.ceiling is not None:
            bound, exclusive = self.ceiling
            if high > bound or (exclusive and high == bound):
                sign = "<" if exclusive else "<="
                raise ValueError(
                    f"bounds for {self.path}: expected high {sign} {bound} ({where} limit), "
                    f"got {high}"
                )
        return self._make(low, high, "caller")

    def _choices(self, given: Sequence[Any] | None) -> Parameter:
        choices = self.categories if given is None else tuple(given)
        if len(choices) < 2 or any(choice not in self.categories for choice in choices):
            raise ValueError(
                f"bounds for {self.path}: expected two or more of {', '.join(self.categories)}, "
                f"got {given!r}"
            )
        source: Source = "schema" if given is None else "caller"
        return Parameter(self.path, "categorical", self.value, categories=choices, source=source)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _limits(
    metadata: Iterable[object],
) -> tuple[tuple[Number, bool] | None, tuple[Number, bool] | None]:
    """The lowest and highest values the schema's constraints allow, each with exclusiveness."""
    found = limits(metadata)
    return (
        None if found.low is None else (found.low, found.low_open),
        None if found.high is None else (found.high, found.high_open),
    )


def _walk(node: BaseModel, path: tuple[str, ...], scenario: Scenario) -> Iterator[_Key]:
    """Every key below ``node``, in the order of the schema (and of the scenario's mappings)."""
    for field, info in type(node).model_fields.items():
        here = (*path, field)
        dotted = ".".join(here)
        value = getattr(node, field)
        if dotted in NOT_PARAMETERS:
            continue
        if field == "policy" and isinstance(node, RetaliationPolicy | MediationPolicy):
            registry = (
                RETALIATION_POLICIES if isinstance(node, RetaliationPolicy) else MEDIATION_POLICIES
            )
            yield _Key(dotted, "categorical", value, categories=tuple(registry))
        elif isinstance(value, Distribution):
            yield from _distribution(value, dotted, (type(node), field) in _SHARES)
        elif (type(node), field) in _RUNG_KEYS and _is_number(value):
            top = {
                "war": scenario.ladder.war,
                "below war": scenario.ladder.war - 1,
                "below strike": scenario.ladder.strike_rung - 1,
            }[_RUNG_KEYS[type(node), field]]
            floor, _ = _limits(info.metadata)
            yield _Key(dotted, "integer", value, floor, (top, False), source="ladder")
        else:
            yield from _values(value, info.annotation, info.metadata, here, scenario)


def _values(
    value: Any, annotation: Any, metadata: list[Any], path: tuple[str, ...], scenario: Scenario
) -> Iterator[_Key]:
    if isinstance(value, BaseModel):
        yield from _walk(value, path, scenario)
    elif isinstance(value, dict):
        base, _ = unwrap(annotation)
        item = get_args(base)[1]
        for key, entry in value.items():
            yield from _values(entry, item, [], (*path, str(key)), scenario)
    elif isinstance(value, tuple):
        for index, entry in enumerate(value):
            if isinstance(entry, BaseModel):
                yield from _walk(entry, (*path, str(index)), scenario)
    elif _is_number(value):
        base, constraints = unwrap(annotation, list(metadata))
        floor, ceiling = _limits(constraints)
        kind: Kind = "integer" if base is int else "real"
        yield _Key(".".join(path), kind, value, floor, ceiling)


def _distribution(value: Distribution, path: str, share: bool) -> Iterator[_Key]:
    if value.kind == "fixed":
        limits = ((0.0, False), (1.0, False)) if share else (None, None)
        yield _Key(path, "real", value.params[0], *limits)
    elif value.kind == "beta":
        for index, number in enumerate(value.params):
            yield _Key(f"{path}.beta.{index}", "real", number, (0.0, True))


def _select(keys: list[str], paths: list[str]) -> list[str]:
    chosen: dict[str, None] = {}
    for key in keys:
        matches = [path for path in paths if path == key or path.startswith(key + ".")]
        if not matches:
            left_out = [x for x in NOT_PARAMETERS if key == x or key.startswith(x + ".")]
            why = (
                f": {left_out[0]} is left out of the parameter space (see sim.inputs.parameters)"
                if left_out
                else did_you_mean(key, paths)
            )
            raise ValueError(f"{key!r} is not a key of the parameter space{why}")
        chosen.update(dict.fromkeys(matches))
    return list(chosen)
