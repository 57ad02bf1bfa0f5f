"""Parameter uncertainty: numbers of a scenario written as distributions, and their runs.

Any real-valued key of a scenario may be written as a distribution instead of a number
(``cost: {uniform: [2, 4]}``, ``{beta: [2, 6]}``, ``{triangular: [low, mode, high]}``) or as
``{profile: calibrated}``: the posterior of a calibration (``python run.py calibrate``), whose
particles set several keys jointly. (A state's ``resolve`` is a distribution already: the
model draws it for each run and it is private information, see ``docs/model.md``.)

An ensemble then carries two kinds of uncertainty, kept apart as in two-loop Monte Carlo
(Helton & Davis 2003 call them epistemic and aleatory): ``uncertainty.sets`` parameter sets
are drawn from the distributions once per ensemble, by Latin hypercube from the scenario's
seed (a profile's particles by their weights), and each run takes one of them, drawn from its
own seed. Each run is then simulated with the numbers of its set. Because a run's set depends
on its seed alone, results stay the same for any number of workers and chunks, and ``story
--seed`` replays any run. The runs of one set are simulated together as the worlds of one
model, which is why the sets are finitely many; the spread of an outcome across sets, beyond
what chance alone gives, is the part of its uncertainty that comes from the parameters
(``sim.analysis.statistics.uncertainty_split``).

Where the scenario needs one number for a key (the typed ``Scenario`` holds floats), it holds
the distribution's median; nothing simulates with it: ``EscalationModel`` refuses a scenario
whose uncertainty is not resolved into a set (``for_set``).
"""

from __future__ import annotations

import copy
import datetime
import difflib
import math
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal, Union, get_args, get_origin

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from sim.model.distributions import FORMS, KINDS, Distribution
from sim.model.schema import Limits, limits, unwrap
from sim.model.schema import cut as _cut
from sim.model.schema import kind_of as _kind
from sim.model.streams import mix64

PROFILE = "profile"
SET_TAG = 0x5E75_0F_9A7A
"""Mixed into a run's seed to draw its parameter set (a stream of its own)."""
PARAMETERS_TAG = 0x9A7A_5E75
"""Mixed into the scenario's seed to draw the parameter sets."""


def is_uncertain(value: Any) -> bool:
    """A one-key mapping naming a distribution or a profile, where a number could stand."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in (*KINDS, PROFILE)


Key = tuple[str | int, ...]

HANDWRITTEN = {
    "distributions": "is filled in from the numbers written as distributions, not written by "
    "hand: write the distribution where the number stands (cost: {uniform: [2, 4]})",
    "from_profile": "is filled in from the numbers written as {profile: NAME}, not written by "
    "hand: write {profile: NAME} where the number stands (cost: {profile: calibrated})",
}
"""The parts of ``uncertainty`` a scenario fills in itself, with why a file may not hold them."""
FILLED_IN = {("uncertainty", "profiles"), *(("uncertainty", field) for field in HANDWRITTEN)}

WRITTEN = (
    "{beta: [a, b]}, {uniform: [low, high]}, {triangular: [low, mode, high]} or {profile: NAME}"
)
"""The forms a real number may take besides a number."""


def real_keys(
    cls: type[BaseModel], data: Any, prefix: Key = ()
) -> Iterator[tuple[Key, tuple[float, float], Any]]:
    """Every real-valued key present in the raw mapping ``data`` of model ``cls``: its path, its
    bounds from the schema and its value. Walks nested blocks, maps, lists and the policy and
    event unions as the schema types them; values of the wrong shape are left to the type checks.
    """
    for path, annotation, bounds, value in schema_keys(cls, data, prefix):
        if annotation is float:
            yield path, bounds.bounds, value


def schema_keys(
    cls: type[BaseModel], data: Any, prefix: Key = ()
) -> Iterator[tuple[Key, Any, Limits, Any]]:
    """Every key present in the raw mapping ``data`` of model ``cls``, blocks before the keys
    inside them: its path, its type (under ``Annotated`` and ``| None``), its range and its value.
    What the ``uncertainty`` block holds besides ``sets`` is not walked: a profile's numbers are
    not the scenario's, and the rest is filled in from the scenario's own keys."""
    if not isinstance(data, dict):
        return
    for name, value in data.items():
        info = cls.model_fields.get(name) if isinstance(name, str) else None
        if info is None or (*prefix, name) in FILLED_IN:
            continue
        yield from _visit(info.annotation, list(info.metadata), value, (*prefix, name))


def _visit(
    annotation: Any, constraints: list[Any], value: Any, path: Key
) -> Iterator[tuple[Key, Any, Limits, Any]]:
    annotation, constraints = unwrap(annotation, constraints)
    origin = get_origin(annotation)
    yield path, annotation, limits(constraints), value
    if annotation is Distribution:
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from schema_keys(annotation, value, path)
    elif origin is dict and isinstance(value, dict):
        item = get_args(annotation)[1]
        for key, part in value.items():
            yield from _visit(item, [], part, (*path, key))
    elif origin is tuple and isinstance(value, list | tuple):
        item = get_args(annotation)[0]
        for index, part in enumerate(value):
            yield from _visit(item, [], part, (*path, index))
    elif origin in (Union, types.UnionType) and isinstance(value, dict):
        for member in get_args(annotation):
            member, _ = unwrap(member, optional=False)
            if (
                isinstance(member, type)
                and issubclass(member, BaseModel)
                and _tagged(member, value)
            ):
                yield from schema_keys(member, value, path)


def _tagged(member: type[BaseModel], value: dict[str, Any]) -> bool:
    """Is ``value`` of this member of a union tagged by ``policy`` or ``type``?"""
    for tag in ("policy", "type"):
        field = member.model_fields.get(tag)
        if field is not None and tag in value:
            return value[tag] in get_args(field.annotation)
    return False


def dotted(path: Key) -> str:
    return ".".join(str(part) for part in path)


def check(cls: type[BaseModel], raw: dict[str, Any]) -> list[tuple[Key, str]]:
    """Problems of the distributions and profile references in ``raw``, by key path: a
    distribution's kind and parameters, a profile's particles, the range either reaches, a
    distribution or profile on a key that is not a real number, and the parts of ``uncertainty``
    a file may not write."""
    problems: list[tuple[Key, str]] = []
    block = raw.get("uncertainty")
    block = block if isinstance(block, dict) else {}
    for field, why in HANDWRITTEN.items():
        if block.get(field) not in (None, {}):
            problems.append((("uncertainty", field), why))
    profiles = block.get("profiles")
    for path, annotation, bounds, value in schema_keys(cls, raw):
        if annotation is float and is_uncertain(value):
            message = problem(value, bounds, profiles, dotted(path))
        elif annotation is float:
            message = _not_a_distribution(value, bounds)
        else:
            message = _not_a_number(annotation, bounds, value)
        if message:
            problems.append((path, message))
    return problems


def problem(value: dict[str, Any], bounds: Limits, profiles: Any, key: str) -> str:
    """What is wrong with a distribution or a profile reference at the real key ``key`` of range
    ``bounds`` (``profiles``: the scenario's ``uncertainty.profiles``), or ``""``."""
    if PROFILE in value:
        name = value[PROFILE]
        if not isinstance(name, str):
            return f"a profile is named by text, got {_kind(name)}"
        found = profiles.get(name) if isinstance(profiles, dict) else None
        if found is None:
            return f"no profile '{_cut(name)}' in uncertainty.profiles"
        try:
            samples, _ = profile_samples(found, key)
        except ValueError as error:
            return f"profile '{name}' {error}"
        span = (float(samples.min()), float(samples.max()))
    else:
        try:
            distribution = Distribution.model_validate(value)
        except ValueError as error:
            return _first_line(error)
        span = (distribution.low, distribution.high)
    if not (bounds.allows(span[0]) and bounds.allows(span[1])):
        return (
            f"{_quote(value)} reaches {span[0]:g} to {span[1]:g}, outside this key's range "
            f"{_range(bounds)}"
        )
    return ""


def _not_a_distribution(value: Any, bounds: Limits) -> str:
    """A mapping on a real key that is no distribution or profile, or ``""``."""
    if not isinstance(value, dict):
        return ""
    words = bounds.words()
    expected = f"a number{' ' + words if words else ''}, {WRITTEN}"
    if len(value) == 1:
        name = next(iter(value))
        close = difflib.get_close_matches(str(name), [*KINDS, PROFILE], n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown distribution '{_cut(str(name))}' (expected {expected}){hint}"
    return f"expected {expected}, got a mapping of {len(value)} keys"


def _not_a_number(annotation: Any, bounds: Limits, value: Any) -> str:
    """A distribution or a profile written on a key that is not a real number, or ``""``."""
    if annotation is Distribution:
        if isinstance(value, dict) and len(value) == 1 and PROFILE in value:
            return (
                f"a profile cannot stand here (this key is a distribution of its own, drawn for "
                f"each run): expected {FORMS}, got {_quote(value)}"
            )
        return ""
    scalar = annotation in (int, str, bool, datetime.date) or get_origin(annotation) is Literal
    if not is_uncertain(value):
        return ""
    ((kind, params),) = value.items()
    if not scalar and not (
        (kind == PROFILE and isinstance(params, str)) or isinstance(params, list | tuple)
    ):
        return ""  # a mapping whose one id is 'beta' or 'profile': the type checks judge it
    return (
        "only a number can be a distribution or a profile, and this key is not one: expected "
        f"{_expected(annotation, bounds)}, got {_quote(value)}"
    )


def _expected(annotation: Any, bounds: Limits) -> str:
    origin = get_origin(annotation)
    if annotation is int:
        words = bounds.words()
        return f"a whole number {words}" if words else "a whole number"
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    if origin is dict:
        return "a mapping (indented key: value lines)"
    if origin is tuple:
        return "a list"
    if origin in (Union, types.UnionType) or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel)
    ):
        return "a block of keys (indented key: value lines)"
    names: dict[Any, str] = {
        str: "text",
        bool: "true or false",
        datetime.date: "a date like 2024-01-16",
    }
    return names.get(annotation, "a value of another kind")


def numbers(value: Any) -> list[float]:
    """``value`` as a non-empty list of finite numbers; a ValueError completes "expected ..."."""
    if not isinstance(value, list | tuple) or not value:
        shown = "an empty list" if isinstance(value, list | tuple) else _kind(value)
        raise ValueError(f"a non-empty list of finite numbers, got {shown}")
    found: list[float] = []
    for index, item in enumerate(value):
        number = math.nan
        if isinstance(item, int | float) and not isinstance(item, bool):
            try:
                number = float(item)
            except OverflowError:  # a whole number too large for a float
                number = math.inf
        if not math.isfinite(number):
            raise ValueError(f"a list of finite numbers, got {_kind(item)} at item {index}")
        found.append(number)
    return found


def profile_samples(profile: Any, key: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A profile's particles for ``key`` and their weights, checked; a ValueError completes
    "profile 'NAME' ..." with what is wrong."""
    values = profile.get("values") if isinstance(profile, dict) else None
    if not isinstance(values, dict):
        return_kind = "a mapping" if isinstance(profile, dict) else _kind(profile)
        raise ValueError(
            f"is not {{weights: [...], values: {{KEY: [...]}}}}, got {return_kind} without "
            "values by key"
        )
    column = profile_column(values, key)
    if column is None:
        names = sorted(str(k) for k in values)
        more = f" and {len(names) - 12} more" if len(names) > 12 else ""
        have = ", ".join(_cut(n) for n in names[:12]) + more
        raise ValueError(f"has no values for this key (it has: {have or 'none'})")
    try:
        samples = numbers(column)
    except ValueError as error:
        raise ValueError(f"has values for this key that are not {error}") from None
    try:
        weights = numbers(profile.get("weights", [1.0] * len(samples)))
    except ValueError as error:
        raise ValueError(f"has weights that are not {error}") from None
    if len(weights) != len(samples):
        raise ValueError(f"has {len(samples)} values for this key and {len(weights)} weights")
    if min(weights) < 0 or sum(weights) <= 0:
        raise ValueError("has weights that must be 0 or more and add up to more than 0")
    return np.asarray(samples, dtype=float), np.asarray(weights, dtype=float)


def _first_line(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        text = str(errors()[0].get("msg", error))
        return text.removeprefix("Value error, ")
    return str(error)


def _quote(value: Any) -> str:
    ((kind, params),) = value.items()
    return f"{{{kind}: {_cut(str(params))}}}"


def _range(bounds: Limits) -> str:
    low, high = bounds.bounds
    if bounds.low_open or bounds.high_open:
        return bounds.words()
    if np.isinf(high):
        return f"{low:g} or more"
    return f"{low:g} to {high:g}"


def neutralised(cls: type[BaseModel], raw: dict[str, Any], bad: set[str]) -> dict[str, Any]:
    """``raw`` with the values at the ``bad`` paths replaced by a number the type checks pass
    (and the parts of ``uncertainty`` a file may not write dropped), so that the other problems
    of the file are still reported once each."""
    data = copy.deepcopy(raw)
    for path, (low, _), _ in list(real_keys(cls, data)):
        if dotted(path) in bad:
            _set(data, path, max(low, 0.0))
    block = data.get("uncertainty")
    if isinstance(block, dict):
        for field in HANDWRITTEN:
            if f"uncertainty.{field}" in bad:
                del block[field]
    return data


def _set(data: Any, path: Key, value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def extract(cls: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """The raw mapping with each distribution or profile reference moved into ``uncertainty``
    (its median left in place): the first step of validating a ``Scenario``. A ValueError names
    the key of a distribution or profile that cannot be used (``check`` says it for files)."""
    block = data.get("uncertainty", {})
    for field, why in HANDWRITTEN.items():
        if isinstance(block, dict) and block.get(field) not in (None, {}):
            raise ValueError(f"uncertainty.{field} {why}")
    profiles = block.get("profiles") if isinstance(block, dict) else None
    found = []
    for path, annotation, bounds, value in schema_keys(cls, data):
        if annotation is float and is_uncertain(value):
            message = problem(value, bounds, profiles, dotted(path))
            if message:
                raise ValueError(f"{dotted(path)}: {message}")
            found.append((path, value))
    if not found:
        return data
    data = copy.deepcopy(data)
    distributions: dict[str, Distribution] = {}
    from_profile: dict[str, str] = {}
    for path, value in found:
        key = dotted(path)
        if PROFILE in value:
            name = value[PROFILE]
            samples, weights = profile_samples(typing.cast(dict[str, Any], profiles)[name], key)
            from_profile[key] = name
            median = _weighted_median(samples, weights)
        else:
            distribution = Distribution.model_validate(value)
            distributions[key] = distribution
            median = float(distribution.quantile(np.array([0.5]))[0])
        _set(data, path, median)
    if isinstance(block, dict):  # otherwise the type checks report the block
        data["uncertainty"] = {
            **block,
            "distributions": distributions,
            "from_profile": from_profile,
        }
    return data


def profile_column(values: Mapping[str, Any], key: str) -> Any:
    """A profile's values for ``key``: under the key itself, or under a pattern where ``*``
    stands for one segment (``actors.*.cost``: every state's cost, as calibrate fits it)."""
    if key in values:
        return values[key]
    parts = key.split(".")
    for pattern, column in values.items():
        segments = str(pattern).split(".")
        if len(segments) == len(parts) and all(
            s in ("*", p) for s, p in zip(segments, parts, strict=True)
        ):
            return column
    return None


def _weighted_median(samples: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    order = np.argsort(samples, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(samples[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def restore(data: dict[str, Any], uncertainty: Any) -> dict[str, Any]:
    """A dumped scenario with its distributions and profile references back in place: the form
    a user writes, which validates to the same scenario."""
    block = data.pop("uncertainty", None) or {}
    if (
        not uncertainty.active
        and uncertainty.sets == type(uncertainty).model_fields["sets"].default
    ):
        return data
    for key, distribution in uncertainty.distributions.items():
        _set(data, _parse(key), distribution.model_dump())
    for key, name in uncertainty.from_profile.items():
        _set(data, _parse(key), {PROFILE: name})
    kept = {"sets": block.get("sets", uncertainty.sets)}
    if uncertainty.profiles:
        kept["profiles"] = block.get("profiles")
    data["uncertainty"] = kept
    return data


def _parse(key: str) -> Key:
    return tuple(
        int(part) if part.isascii() and part.isdigit() else part for part in key.split(".")
    )


def parameter_sets(scenario: Any) -> list[dict[str, float]]:
    """The ``uncertainty.sets`` parameter sets of an uncertain scenario: each maps every
    uncertain key to its number. Latin hypercube over the distributions and one dimension per
    profile (its particle drawn by weight, setting all its keys jointly), from the scenario's
    seed alone."""
    from scipy.stats import qmc

    uncertainty = scenario.uncertainty
    names = sorted(uncertainty.distributions)
    profile_names = sorted(set(uncertainty.from_profile.values()))
    dimensions = len(names) + len(profile_names)
    seed = np.random.SeedSequence([scenario.seed, PARAMETERS_TAG])
    u = qmc.LatinHypercube(d=dimensions, seed=np.random.default_rng(seed)).random(uncertainty.sets)
    values: dict[str, NDArray[np.float64]] = {}
    for column, key in enumerate(names):
        values[key] = uncertainty.distributions[key].quantile(u[:, column])
    for offset, profile_name in enumerate(profile_names):
        profile = uncertainty.profiles[profile_name]
        weights = np.asarray(profile.weights, dtype=float)
        cumulative = np.cumsum(weights) / weights.sum()
        particle = np.minimum(
            np.searchsorted(cumulative, u[:, len(names) + offset], side="right"), weights.size - 1
        )
        for key, name in uncertainty.from_profile.items():
            if name == profile_name:
                values[key] = np.asarray(profile_column(profile.values, key), dtype=float)[particle]
    return [{key: float(values[key][s]) for key in sorted(values)} for s in range(uncertainty.sets)]


def set_of_runs(seeds: NDArray[np.int64], sets: int) -> NDArray[np.int64]:
    """Each run's parameter set, drawn from its own seed (a stream of its own)."""
    bits = mix64(seeds.astype(np.uint64) ^ np.uint64(SET_TAG))
    u = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.minimum((u * sets).astype(np.int64), sets - 1)


def for_set(scenario: Any, values: Mapping[str, float]) -> Any:
    """The scenario with one parameter set's numbers in place of its distributions."""
    data = scenario.model_dump(mode="json")
    data.pop("uncertainty", None)
    for key, value in values.items():
        _set(data, _parse(key), float(value))
    return type(scenario).model_validate(data)


def resolved(scenario: Any, seeds: NDArray[np.int64]) -> list[tuple[Any, NDArray[np.intp], int]]:
    """The runs of ``seeds`` grouped by parameter set: (scenario of the set, run positions, set
    number), in set order; one group with the scenario itself when nothing is uncertain."""
    if not scenario.uncertainty.active:
        return [(scenario, np.arange(seeds.size), -1)]
    sets = parameter_sets(scenario)
    index = set_of_runs(seeds, len(sets))
    groups = []
    for s in np.unique(index):
        groups.append((for_set(scenario, sets[int(s)]), np.flatnonzero(index == s), int(s)))
    return groups


def for_seed(scenario: Any, seed: int) -> tuple[Any, int]:
    """The scenario a run with ``seed`` simulates, and its parameter set (-1 when certain)."""
    ((concrete, _, number),) = resolved(scenario, np.array([seed], dtype=np.int64))
    return concrete, number
