"""Reading scenario files: YAML, ``extends``, ``--set`` overrides, and every check before a run.

All problems in a file are collected and reported together, each naming the file the offending
key came from (a scenario may extend another), its key path and what was expected.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from sim.inputs.errors import (
    Problem,
    ScenarioError,
    did_you_mean,
    dotted,
    excerpt,
    kind_of,
    short,
)
from sim.inputs.overrides import OverrideError, set_value
from sim.inputs.references import PINNED_BLOCKS, check_references
from sim.inputs.yaml_files import read_yaml
from sim.model import uncertainty
from sim.model.distributions import KINDS
from sim.model.policies import MEDIATION_POLICIES, RETALIATION_POLICIES
from sim.model.scenario import EVENT_TYPES, LIMITS, Scenario, StateConfig
from sim.model.schema import limits, unwrap

POLICY_BLOCKS: dict[str, Mapping[str, type[BaseModel]]] = {
    "retaliation": RETALIATION_POLICIES,
    "mediation": MEDIATION_POLICIES,
}

Path_ = tuple[str | int, ...]


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, merge, override and check a scenario file; raise ``ScenarioError`` on any problem.

    ``overrides`` maps dotted key paths (``actors.pakistan.retaliation.forgive``) to values, as
    ``--set`` does on the command line.
    """
    origins: dict[Path_, str] = {}
    raw = _read_with_parents(Path(path), origins, chain=())
    raw.pop("sweep", None)  # a sweep definition travels with its scenario: see read_sweep_block
    if not set(raw) & set(Scenario.model_fields):
        raise ScenarioError(
            [
                Problem(
                    str(path),
                    "",
                    "is not a scenario: none of its keys is a scenario key (name, horizon, "
                    "ladder, actors, ...; see docs/scenarios.md)",
                )
            ]
        )
    for key_path, value in (overrides or {}).items():
        _apply_override(raw, key_path, value, origins)
    _attach_profiles(raw, Path(path), origins)
    return build_scenario(raw, origins, default_source=str(path))


def scenario_from_mapping(
    raw: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, source: str = "scenario"
) -> Scenario:
    """A scenario from an already merged mapping (no ``extends``), with overrides applied.

    For processes that cannot read the original files, such as workers on a Dask cluster.
    """
    data = copy.deepcopy(dict(raw))
    origins: dict[Path_, str] = {}
    for key_path, value in (overrides or {}).items():
        _apply_override(data, key_path, value, origins)
    return build_scenario(data, origins, default_source=source)


def merged_mapping(path: str | Path) -> dict[str, Any]:
    """A scenario file merged with the files it extends, as a plain mapping (not yet checked)."""
    raw = _read_with_parents(Path(path), {}, chain=())
    raw.pop("sweep", None)
    return raw


def read_sweep_block(path: str | Path) -> Any:
    """The ``sweep:`` block of a scenario file itself (not inherited), or None."""
    return read_yaml(Path(path)).get("sweep")


def build_scenario(
    raw: dict[str, Any], origins: Mapping[Path_, str], default_source: str
) -> Scenario:
    """Turn a merged mapping into a checked ``Scenario``, reporting problems by their origin."""

    def source_of(loc: Path_) -> str:
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in origins:
                return origins[loc[:cut]]
        return default_source

    problems: list[Problem] = [
        Problem(source_of(loc), dotted(loc), message)
        for loc, message in uncertainty.check(Scenario, raw)
    ]
    reported = {p.path for p in problems}
    if problems:  # reported once, here; the type checks see a plain number in their place
        raw = uncertainty.neutralised(Scenario, raw, reported)

    def said(path: str) -> bool:
        """Is ``path`` at or under a key whose distribution or profile was reported above?"""
        return any(path == done or path.startswith(f"{done}.") for done in reported)

    scenario: Scenario | None = None
    references = check_references(raw)
    pinned = {loc[0] for loc, _ in references if len(loc) > 1 and loc[0] in PINNED_BLOCKS}
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        for detail in error.errors():
            raw_loc = tuple(detail["loc"])
            if detail["type"] == "value_error" and raw_loc and raw_loc[0] in pinned:
                continue  # the same rule, reported below at the key that breaks it
            loc = _strip_policy_tags(raw_loc)
            if said(dotted(loc)):
                continue
            tag = "type" if len(loc) >= 2 and loc[-2] == "events" else "policy"
            blamed = (*loc, tag) if detail["type"] == "union_tag_invalid" else loc
            problems.append(Problem(source_of(blamed), dotted(loc), _explain(detail, raw_loc)))
    problems += [
        Problem(source_of(loc), dotted(loc), message)
        for loc, message in references
        if not said(dotted(loc))
    ]
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


MAX_PROFILE_NAME = 100
"""The longest profile name: a file name, with room for ``.yaml`` on any file system."""


def _attach_profiles(raw: dict[str, Any], path: Path, origins: dict[Path_, str]) -> None:
    """Read each profile a number names (``{profile: calibrated}``) into ``uncertainty.profiles``.

    A profile ``NAME`` is the file ``profiles/NAME.yaml`` in the scenario's folder or the
    nearest folder above it that has one (so scenarios/ and scenarios/cases/ share
    scenarios/profiles/); a name ending in .yaml is a file path relative to the scenario.
    """
    named = [
        (value[uncertainty.PROFILE], loc)
        for loc, _, value in uncertainty.real_keys(Scenario, raw)
        if uncertainty.is_uncertain(value) and uncertainty.PROFILE in value
    ]
    if not named:
        return
    problems = [
        Problem(
            origins.get(loc, str(path)),
            dotted(loc),
            f"a profile is named by text of at most {MAX_PROFILE_NAME} characters, got "
            f"{kind_of(name) if not isinstance(name, str) else f'{len(name)} characters'}",
        )
        for name, loc in named
        if not isinstance(name, str) or not name or len(name) > MAX_PROFILE_NAME
    ]
    if problems:
        raise ScenarioError(problems)
    wanted = dict(named)
    block = raw.setdefault("uncertainty", {})
    profiles = block.setdefault("profiles", {}) if isinstance(block, dict) else None
    if not isinstance(profiles, dict):  # the profiles named would have nowhere to go
        holder = ("uncertainty", "profiles") if isinstance(block, dict) else ("uncertainty",)
        raise ScenarioError(
            [
                Problem(
                    origins.get(holder, str(path)),
                    dotted(holder),
                    "expected a mapping (indented key: value lines), got "
                    f"{kind_of(profiles if isinstance(block, dict) else block)}",
                )
            ]
        )
    for name, loc in wanted.items():
        source = origins.get(loc, str(path))
        if name in profiles:
            continue
        candidates = (
            [path.parent / name]
            if name.endswith((".yaml", ".yml"))
            else [folder / "profiles" / f"{name}.yaml" for folder in path.resolve().parents]
        )
        found = next((c for c in candidates if os.path.isfile(c)), None)
        if found is None:
            looked = (
                candidates[0]
                if len(candidates) == 1
                else f"profiles/{name}.yaml in {path.parent} and the folders above it"
            )
            problems.append(
                Problem(source, dotted(loc), f"no profile '{name}' (looked for {looked})")
            )
            continue
        profile, where, message = _read_profile(found)
        if message:
            problems.append(Problem(str(_shown(found)), where, message))
            continue
        profiles[name] = profile
    if problems:
        raise ScenarioError(problems)


def _read_profile(path: Path) -> tuple[dict[str, Any], str, str]:
    """A profile file as ``Profile`` fields, or the key path of the problem with it and what.

    The file (written by ``python run.py calibrate``) holds ``parameters: {KEY: {samples: [...],
    weights: [...]}}``, the same particles and weights for every key: a list of finite numbers
    each, weights 0 or more adding up to more than 0.
    """
    data = read_yaml(path, what="a profile")
    parameters = data.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        return (
            {},
            "parameters",
            "expected a mapping of dotted keys to {samples: [...], weights: [...]}",
        )
    weights: list[float] | None = None
    values = {}
    for key, entry in parameters.items():
        where = f"parameters.{key}"
        if not isinstance(entry, dict) or "samples" not in entry:
            return {}, where, f"expected {{samples: [...], weights: [...]}}, got {kind_of(entry)}"
        unknown = [str(name) for name in entry if name not in ("samples", "weights")]
        if unknown:
            return {}, f"{where}.{unknown[0]}", "unknown key (allowed here: samples, weights)"
        try:
            samples = uncertainty.numbers(entry["samples"])
        except ValueError as error:
            return {}, f"{where}.samples", f"expected {error}"
        try:
            own = uncertainty.numbers(entry.get("weights", [1.0] * len(samples)))
        except ValueError as error:
            return {}, f"{where}.weights", f"expected {error}"
        if len(samples) > LIMITS["particles"]:
            return (
                {},
                f"{where}.samples",
                (f"at most {LIMITS['particles']:,} particles, got {len(samples):,}"),
            )
        if len(own) != len(samples):
            return (
                {},
                f"{where}.weights",
                (f"one weight per sample: {len(samples)} samples, {len(own)} weights"),
            )
        if min(own) < 0 or sum(own) <= 0:
            return {}, f"{where}.weights", "weights must be 0 or more and add up to more than 0"
        if weights is None:
            weights = own
        elif own != weights:
            return (
                {},
                f"{where}.weights",
                ("its weights differ from the first key's (particles set all keys together)"),
            )
        values[str(key)] = samples
    return {"source": str(_shown(path)), "weights": weights, "values": values}, "", ""


def _shown(path: Path) -> Path:
    """A path relative to the working folder where it can be, so the scenario is the same on any
    machine and a message names the file as the user knows it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


MAX_EXTENDS = 16
"""Longest chain of ``extends``."""


def _read_with_parents(
    path: Path, origins: dict[Path_, str], chain: tuple[Path, ...]
) -> dict[str, Any]:
    """Read a file and the files it ``extends``, child keys winning, remembering who set what."""
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            [Problem(str(path), "extends", f"a chain of extends longer than {MAX_EXTENDS} files")]
        )
    data = read_yaml(path)
    resolved = path.resolve()
    parent_name = data.pop("extends", None)
    if parent_name is None:
        _mark_origins(data, (), str(path), origins)
        return data
    if not isinstance(parent_name, str):
        raise ScenarioError(
            [Problem(str(path), "extends", f"expected a file name, got {kind_of(parent_name)}")]
        )
    parent_path = path.parent / parent_name
    if not os.path.exists(parent_path):  # False, not an error, for a name too long to exist
        raise ScenarioError(
            [
                Problem(
                    str(path),
                    "extends",
                    f"'{excerpt(parent_name, 60)}' not found (looked for "
                    f"{excerpt(str(parent_path), 160)})",
                )
            ]
        )
    if parent_path.resolve() in (*chain, resolved):
        cycle = " -> ".join(str(p) for p in (*chain, resolved, parent_path.resolve()))
        raise ScenarioError([Problem(str(path), "extends", f"extends cycle: {cycle}")])
    merged = _read_with_parents(parent_path, origins, (*chain, resolved))
    _merge(merged, data, (), str(path), origins)
    return merged


def _replace_origins(data: Any, loc: Path_, source: str, origins: dict[Path_, str]) -> None:
    """``data`` now stands at ``loc``: forget who set what was there before."""
    for stale in [key for key in origins if key[: len(loc)] == loc]:
        del origins[stale]
    _mark_origins(data, loc, source, origins)


def _mark_origins(data: Any, loc: Path_, source: str, origins: dict[Path_, str]) -> None:
    origins[loc] = source
    if isinstance(data, dict):
        for key, value in data.items():
            _mark_origins(value, (*loc, key), source, origins)


def _merge(
    base: dict[str, Any],
    child: Mapping[str, Any],
    loc: Path_,
    source: str,
    origins: dict[Path_, str],
) -> None:
    """Deep-merge ``child`` into ``base``: mappings merge, while lists, values, a distribution
    or a profile (``{uniform: [...]}`` or ``{profile: NAME}`` over ``{beta: [...]}``) and an empty mapping ``{}`` (the way to clear,
    say, the inherited mediators) replace."""
    for key, value in child.items():
        here = (*loc, key)
        distribution = (
            isinstance(value, dict) and bool(value) and set(value) <= {*KINDS, uncertainty.PROFILE}
        )
        if (
            isinstance(value, dict)
            and value
            and not distribution
            and isinstance(base.get(key), dict)
        ):
            if key in POLICY_BLOCKS and "policy" in value:
                _switch_policy(base[key], key, value["policy"])
            _merge(base[key], value, here, source, origins)
        else:
            base[key] = value
            _replace_origins(value, here, source, origins)


def _switch_policy(block: dict[str, Any], block_name: str, new_policy: Any) -> None:
    """Changing a policy keeps only the old parameters the new policy also has (e.g. ``delay``)."""
    policy_class = (
        POLICY_BLOCKS[block_name].get(new_policy) if isinstance(new_policy, str) else None
    )
    if policy_class is None or block.get("policy") == new_policy:
        return
    for key in list(block):
        if key not in policy_class.model_fields:
            del block[key]


def _apply_override(
    raw: dict[str, Any], key_path: str, value: Any, origins: dict[Path_, str]
) -> None:
    """Set one value by its dotted path (``sim.inputs.overrides``), following the schema: a block the
    file leaves to its defaults may be named, and a new policy keeps only its own parameters."""

    def switch_policy(holder: Any, loc: Path_, new: Any) -> None:
        if loc[-1] == "policy" and len(loc) > 1 and loc[-2] in POLICY_BLOCKS:
            _switch_policy(holder, str(loc[-2]), new)

    try:
        loc = set_value(
            raw,
            key_path,
            value,
            is_block=_is_block,
            before_set=switch_policy,
            describe_value=kind_of,
        )
    except OverrideError as error:
        raise ScenarioError([Problem("--set", error.path, error.message)]) from None
    _replace_origins(value, loc, "--set", origins)


def _strip_policy_tags(loc: Path_) -> Path_:
    """Pydantic puts a policy's name (or an event's type) into the location of its errors;
    users never wrote it."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if i > 0 and loc[i - 1] in POLICY_BLOCKS and part in POLICY_BLOCKS[str(loc[i - 1])]:
            continue
        if i > 1 and loc[i - 2] == "events" and part in EVENT_TYPES:
            continue
        out.append(part)
    return tuple(out)


def _is_block(loc: Path_) -> bool:
    """Whether ``loc`` is a block of keys the schema knows (such as ``mechanisms``)."""
    _, field = _field_at(loc)
    if field is None:
        return False
    annotation = unwrap(field.annotation)[0]
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


_EVENT_LIST = object()
"""Stands for the list of events while following a key path: its items are tagged by type."""


def _field_at(loc: Path_) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model holding the last key of ``loc`` and that key's field, following the schema."""
    annotation: Any = Scenario
    holder: type[BaseModel] | None = None
    field: FieldInfo | None = None
    for part in loc:
        annotation = unwrap(annotation)[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            holder = annotation
            field = annotation.model_fields.get(str(part))
            if field is None:
                return holder, None
            annotation = field.annotation
            if part in POLICY_BLOCKS and holder is StateConfig:
                annotation = POLICY_BLOCKS[str(part)]
            elif part == "events":
                annotation = _EVENT_LIST
        elif annotation is _EVENT_LIST:
            annotation = EVENT_TYPES
            holder, field = None, None
        elif isinstance(annotation, Mapping):
            annotation = annotation.get(str(part))
            holder, field = None, None
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
            holder, field = None, None
        elif get_origin(annotation) is tuple:
            annotation = get_args(annotation)[0]
            holder, field = None, None
        else:
            return None, None
    return holder, field


def _bounds(field: FieldInfo | None) -> str:
    return "" if field is None else limits(field.metadata).words()


def _bound_of(kind: str, ctx: Mapping[str, Any]) -> str:
    """The bound a pydantic comparison error names, in the words of ``Limits.words``."""
    words = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("above", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("below", "lt"),
    }
    text, name = words[kind]
    bound = ctx.get(name)
    return f"{text} {bound:g}" if isinstance(bound, int | float) else f"{text} {bound}"


def _explain(detail: Any, loc: Path_) -> str:
    """One plain sentence for a pydantic error; ``loc`` still holds the policy tags."""
    kind, value, ctx = detail["type"], detail.get("input"), detail.get("ctx") or {}
    holder, field = _field_at(loc)
    if kind == "extra_forbidden":
        allowed = list(holder.model_fields) if holder else []
        return (
            f"unknown key '{loc[-1]}'{did_you_mean(str(loc[-1]), allowed)}"
            f" (allowed here: {', '.join(allowed)})"
        )
    if kind == "missing":
        return "required key is missing"
    if (
        kind in ("union_tag_invalid", "union_tag_not_found")
        and len(loc) >= 2
        and loc[-2] == "events"
    ):
        names = list(EVENT_TYPES)
        if kind == "union_tag_not_found":
            return f"missing key 'type' (one of: {', '.join(names)})"
        tag = str(ctx.get("tag", ""))
        return f"unknown event type '{tag}'{did_you_mean(tag, names)} (valid: {', '.join(names)})"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        block = str(loc[-1]) if loc else ""
        names = list(POLICY_BLOCKS.get(block, {}))
        if kind == "union_tag_not_found":
            return f"missing key 'policy' (one of: {', '.join(names)})"
        tag = str(ctx.get("tag", ""))
        return (
            f"unknown {block} policy '{tag}'{did_you_mean(tag, names)} (valid: {', '.join(names)})"
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        whole = field is not None and unwrap(field.annotation)[0] is int
        noun = "a whole number" if whole else "a number"
        bounds = _bounds(field) or _bound_of(kind, ctx)  # an item's bound is not its field's
        return f"expected {noun} {bounds}, got {short(value)}"
    if kind in ("int_type", "int_parsing"):
        return f"expected a whole number, got {kind_of(value)}"
    if kind in ("float_type", "float_parsing"):
        bounds = _bounds(field)
        return f"expected a number{' ' + bounds if bounds else ''}, got {kind_of(value)}"
    if kind == "string_type":
        return f"expected text, got {kind_of(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {kind_of(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping (indented key: value lines), got {kind_of(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {kind_of(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {kind_of(value)}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "too_long":
        size = len(value) if isinstance(value, list | dict | tuple) else ctx.get("actual_length")
        return f"expected at most {ctx.get('max_length')} item(s), got {size}"
    if kind == "string_too_long":
        return (
            f"expected text of at most {ctx.get('max_length')} characters, got "
            f"{len(value) if isinstance(value, str) else 'more'}: {short(value)}"
        )
    if kind == "finite_number":
        return f"expected a finite number, got {short(value)}"
    if kind == "string_too_short":
        return "expected non-empty text"
    if kind == "string_pattern_mismatch":
        if loc == ("name",):
            return (
                f"a name is also a folder name: letters, digits, _ . and -, starting with a "
                f"letter or digit; got {short(value)}"
            )
        return f"ids must be lowercase letters, digits and _, starting with a letter; got {short(value)}"
    if kind.startswith("date_"):
        return f"expected a date like 2024-01-16, got {kind_of(value)}"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    return str(detail["msg"])
