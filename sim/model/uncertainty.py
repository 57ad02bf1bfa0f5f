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
import types
from collections.abc import Iterator, Mapping
from typing import Any, Union, get_args, get_origin

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from sim.model.distributions import KINDS, Distribution
from sim.model.schema import limits, unwrap
from sim.model.streams import mix64

PROFILE = "profile"
SET_TAG = 0x5E75_0F_9A7A
"""Mixed into a run's seed to draw its parameter set (a stream of its own)."""
PARAMETERS_TAG = 0x9A7A_5E75
"""Mixed into the scenario's seed to draw the parameter sets."""


def is_uncertain(value: Any) -> bool:
    """A one-key mapping naming a distribution or a profile, where a number could stand."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in (*KINDS, PROFILE)


def real_keys(
    cls: type[BaseModel], data: Any, prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], tuple[float, float], Any]]:
    """Every real-valued key present in the raw mapping ``data`` of model ``cls``: its path, its
    bounds from the schema and its value. Walks nested blocks, maps, lists and the policy and
    event unions as the schema types them; values of the wrong shape are left to the type checks.
    """
    if not isinstance(data, dict):
        return
    for name, value in data.items():
        info = cls.model_fields.get(name) if isinstance(name, str) else None
        if info is None:
            continue
        yield from _visit(info.annotation, list(info.metadata), value, (*prefix, name))


def _visit(
    annotation: Any, constraints: list[Any], value: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], tuple[float, float], Any]]:
    annotation, constraints = unwrap(annotation, constraints, optional=False)
    origin = get_origin(annotation)
    if annotation is float:
        yield path, limits(constraints).bounds, value
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from real_keys(annotation, value, path)
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
                yield from real_keys(member, value, path)


def _tagged(member: type[BaseModel], value: dict[str, Any]) -> bool:
    """Is ``value`` of this member of a union tagged by ``policy`` or ``type``?"""
    for tag in ("policy", "type"):
        field = member.model_fields.get(tag)
        if field is not None and tag in value:
            return value[tag] in get_args(field.annotation)
    return False


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def check(cls: type[BaseModel], raw: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of the distributions and profile references in ``raw``, by key path."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    profiles = (
        (raw.get("uncertainty") or {}).get("profiles")
        if isinstance(raw.get("uncertainty"), dict)
        else None
    )
    for path, (low, high), value in real_keys(cls, raw):
        if not is_uncertain(value):
            continue
        if PROFILE in value:
            name = value[PROFILE]
            found = (
                profiles.get(name) if isinstance(profiles, dict) and isinstance(name, str) else None
            )
            if found is None:
                continue  # the loader reports a profile it could not find
            samples = (
                profile_column(found.get("values") or {}, dotted(path))
                if isinstance(found, dict)
                else None
            )
            if samples is None:
                have = (
                    ", ".join(sorted(found.get("values") or {})) if isinstance(found, dict) else ""
                )
                problems.append(
                    (
                        path,
                        f"profile '{name}' has no values for this key (it has: {have or 'none'})",
                    )
                )
                continue
            span = (min(samples), max(samples)) if samples else (low, high)
        else:
            try:
                distribution = Distribution.model_validate(value)
            except ValueError as error:
                problems.append((path, _first_line(error)))
                continue
            span = (distribution.low, distribution.high)
        if span[0] < low or span[1] > high:
            problems.append(
                (
                    path,
                    f"{_quote(value)} reaches {span[0]:g} to {span[1]:g}, outside "
                    f"this key's range {_range(low, high)}",
                )
            )
    return problems


def _first_line(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        text = str(errors()[0].get("msg", error))
        return text.removeprefix("Value error, ")
    return str(error)


def _quote(value: Any) -> str:
    ((kind, params),) = value.items()
    return f"{{{kind}: {params}}}"


def _range(low: float, high: float) -> str:
    if np.isinf(high):
        return f"{low:g} or more"
    return f"{low:g} to {high:g}"


def neutralised(cls: type[BaseModel], raw: dict[str, Any], bad: set[str]) -> dict[str, Any]:
    """``raw`` with the values at the ``bad`` paths replaced by a number the type checks pass,
    so that the other problems of the file are still reported once each."""
    data = copy.deepcopy(raw)
    for path, (low, _), _ in list(real_keys(cls, data)):
        if dotted(path) in bad:
            _set(data, path, max(low, 0.0))
    return data


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def extract(cls: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """The raw mapping with each distribution or profile reference moved into ``uncertainty``
    (its median left in place): the first step of validating a ``Scenario``."""
    found = [(path, value) for path, _, value in real_keys(cls, data) if is_uncertain(value)]
    if not found:
        return data
    data = copy.deepcopy(data)
    block = dict(data.get("uncertainty") or {})
    distributions = dict(block.get("distributions") or {})
    from_profile = dict(block.get("from_profile") or {})
    profiles = block.get("profiles") or {}
    for path, value in found:
        key = dotted(path)
        if PROFILE in value:
            name = value[PROFILE]
            profile = profiles.get(name) or {}
            samples = np.asarray(
                profile_column(profile.get("values") or {}, key) or [np.nan], dtype=float
            )
            weights = np.asarray(profile.get("weights") or [1.0] * samples.size, dtype=float)
            if samples.size != weights.size:
                raise ValueError(
                    f"{key}: profile '{name}' has {samples.size} values and {weights.size} weights"
                )
            from_profile[key] = name
            median = _weighted_median(samples, weights)
        else:
            distribution = Distribution.model_validate(value)
            distributions[key] = distribution
            median = float(distribution.quantile(np.array([0.5]))[0])
        _set(data, path, median)
    block["distributions"] = distributions
    block["from_profile"] = from_profile
    data["uncertainty"] = block
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


def _parse(key: str) -> tuple[str | int, ...]:
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
