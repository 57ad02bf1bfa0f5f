"""Reading scenario files: YAML, ``extends``, ``--set`` overrides, and every check before a run.

All problems in a file are collected and reported together, each naming the file the offending
key came from (a scenario may extend another), its key path and what was expected.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from sim.policies import MEDIATION_POLICIES, RETALIATION_POLICIES
from sim.scenario import Scenario

POLICY_BLOCKS: dict[str, Mapping[str, type[BaseModel]]] = {
    "retaliation": RETALIATION_POLICIES,
    "mediation": MEDIATION_POLICIES,
}

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where it came from, where it is, what was expected."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        if self.source == "--set":
            return f"--set {self.path}: {self.message}"
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario that cannot be run, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        if len(problems) == 1:
            text = str(problems[0])
        else:
            text = f"{len(problems)} problems in the scenario:\n" + "\n".join(
                f"  - {problem}" for problem in problems
            )
        super().__init__(text)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, merge, override and check a scenario file; raise ``ScenarioError`` on any problem.

    ``overrides`` maps dotted key paths (``actors.pakistan.retaliation.forgive``) to values, as
    ``--set`` does on the command line.
    """
    origins: dict[Path_, str] = {}
    raw = _read_with_parents(Path(path), origins, chain=())
    raw.pop("sweep", None)  # a sweep definition travels with its scenario: see read_sweep_block
    for key_path, value in (overrides or {}).items():
        _apply_override(raw, key_path, value, origins)
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
    return _read_yaml(Path(path)).get("sweep")


def build_scenario(
    raw: dict[str, Any], origins: Mapping[Path_, str], default_source: str
) -> Scenario:
    """Turn a merged mapping into a checked ``Scenario``, reporting problems by their origin."""

    def source_of(loc: Path_) -> str:
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in origins:
                return origins[loc[:cut]]
        return default_source

    problems: list[Problem] = []
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        for detail in error.errors():
            raw_loc = tuple(detail["loc"])
            loc = _strip_policy_tags(raw_loc)
            blamed = (*loc, "policy") if detail["type"] == "union_tag_invalid" else loc
            problems.append(Problem(source_of(blamed), _dotted(loc), _explain(detail, raw_loc)))
    problems += [
        Problem(source_of(loc), _dotted(loc), message) for loc, message in check_references(raw)
    ]
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


def _items(raw: Any, *path: str) -> list[tuple[Any, Any]]:
    """Key-value pairs (or index-item pairs) at ``path``, or none where the shape is wrong."""
    node = raw
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        return [(k, v) for k, v in node.items() if isinstance(v, dict)]
    if isinstance(node, list):
        return [(i, v) for i, v in enumerate(node) if isinstance(v, dict)]
    return []


def check_references(raw: dict[str, Any]) -> list[tuple[Path_, str]]:
    """Problems that span blocks: ids that name nothing, rungs off the ladder, clashing ids.

    Runs on the raw mapping, beside the type checks, so that every problem is reported at once;
    values of the wrong type are left to the type checks.
    """
    problems: list[tuple[Path_, str]] = []
    actors = dict(_items(raw, "actors"))
    states = [str(k) for k in actors]
    rungs = raw.get("ladder", {}).get("rungs") if isinstance(raw.get("ladder"), dict) else None
    war = len(rungs) - 1 if isinstance(rungs, list) else None
    mediators = dict(_items(raw, "mediators"))

    STATE = "a state of this scenario"

    def reference(loc: Path_, name: Any, choices: list[str], what: str, listed: str) -> bool:
        """Is ``name`` one of ``choices``? If not, say so: it is not ``what``; ``listed`` are."""
        if not isinstance(name, str) or name in choices:
            return isinstance(name, str)
        problems.append(
            (
                loc,
                f"'{name}' is not {what}{_suggest(name, choices)} "
                f"({listed}: {', '.join(choices) or 'none'})",
            )
        )
        return False

    def on_ladder(loc: Path_, rung: Any) -> None:
        if war is not None and isinstance(rung, int) and rung > war:
            problems.append((loc, f"rung {rung} is off the ladder, whose top rung (war) is {war}"))

    def adversaries_of(state: Any) -> list[Any]:
        found = actors.get(state, {}).get("adversaries")
        return found if isinstance(found, list) else []

    seen: dict[str, str] = {}
    for block in ("actors", "armed_groups", "mediators"):
        for actor_id, _ in _items(raw, block):
            if actor_id in seen:
                problems.append(
                    (
                        (block, actor_id),
                        f"id '{actor_id}' is used in both "
                        f"{seen[actor_id]} and {block}; ids must be unique",
                    )
                )
            seen[actor_id] = block
    for actor_id, state in actors.items():
        for i, adversary in enumerate(adversaries_of(actor_id)):
            loc = ("actors", actor_id, "adversaries", i)
            if adversary == actor_id:
                problems.append((loc, "a state cannot be its own adversary"))
            elif reference(loc, adversary, states, STATE, "states") and (
                actor_id not in adversaries_of(adversary)
            ):
                problems.append(
                    (
                        loc,
                        f"'{adversary}' does not list '{actor_id}' among its "
                        "adversaries; a crisis runs both ways",
                    )
                )
        initial = state.get("initial_rung")
        if war is not None and isinstance(initial, int) and initial == war:
            problems.append(
                (
                    ("actors", actor_id, "initial_rung"),
                    f"a state cannot start at war (rung {war}): war takes both sides, so "
                    "start below it or add an initial event at the war rung",
                )
            )
        on_ladder(("actors", actor_id, "initial_rung"), initial)
    for group_id, group in _items(raw, "armed_groups"):
        host, target = group.get("based_in"), group.get("targets")
        known_host = reference(
            ("armed_groups", group_id, "based_in"), host, states, STATE, "states"
        )
        known_target = reference(
            ("armed_groups", group_id, "targets"), target, states, STATE, "states"
        )
        if known_host and host == target:
            problems.append(
                (
                    ("armed_groups", group_id, "targets"),
                    "an armed group must target a state other than its host",
                )
            )
        elif known_host and known_target and host not in adversaries_of(target):
            problems.append(
                (
                    ("armed_groups", group_id, "based_in"),
                    f"'{target}' does not list '{host}' as an adversary, so it could "
                    "not blame it for an attack",
                )
            )
        on_ladder(("armed_groups", group_id, "attack_rung"), group.get("attack_rung"))
    for mediator_id, mediator in mediators.items():
        parties = mediator.get("parties")
        for i, party in enumerate(parties if isinstance(parties, list) else []):
            reference(("mediators", mediator_id, "parties", i), party, states, STATE, "states")
        on_ladder(("mediators", mediator_id, "trigger_rung"), mediator.get("trigger_rung"))
    horizon = raw.get("horizon")
    answered: dict[Any, int] = {}
    for i, intervention in _items(raw, "interventions"):
        mediator = intervention.get("mediator")
        if intervention.get("response") is not None:
            if mediator in answered:
                problems.append(
                    (
                        ("interventions", i, "response"),
                        f"interventions.{answered[mediator]} already forces the answer "
                        f"to {mediator}'s offers; give one response per mediator",
                    )
                )
            answered.setdefault(mediator, i)
        reference(
            ("interventions", i, "mediator"),
            intervention.get("mediator"),
            [str(k) for k in mediators],
            "a mediator of this scenario",
            "mediators",
        )
        if intervention.get("offer_on_day") is None and intervention.get("response") is None:
            problems.append(
                (("interventions", i), "an intervention needs offer_on_day, response or both")
            )
        day = intervention.get("offer_on_day")
        if isinstance(day, int) and isinstance(horizon, int) and day > horizon:
            problems.append(
                (
                    ("interventions", i, "offer_on_day"),
                    f"day {day} is after the horizon ({horizon} days)",
                )
            )
    for i, event in _items(raw, "initial_events"):
        actor = event.get("actor")
        if reference(("initial_events", i, "actor"), actor, states, STATE, "states"):
            reference(
                ("initial_events", i, "target"),
                event.get("target"),
                [str(a) for a in adversaries_of(actor)],
                f"an adversary of {actor}",
                f"{actor}'s adversaries",
            )
        on_ladder(("initial_events", i, "rung"), event.get("rung"))
    return problems


def _read_yaml(path: Path) -> dict[str, Any]:
    source = str(path)
    if not path.exists():
        raise ScenarioError([Problem(source, "", "no such file")])
    if path.is_dir():
        raise ScenarioError([Problem(source, "", "is a folder, expected a scenario YAML file")])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError([Problem(source, "", f"cannot be read ({error})")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ScenarioError(
            [Problem(source, "", f"YAML syntax error at {where}: {error.problem}")]
        ) from None
    except yaml.YAMLError as error:
        raise ScenarioError([Problem(source, "", f"YAML syntax error: {error}")]) from None
    if data is None:
        raise ScenarioError(
            [Problem(source, "", "the file is empty; expected a scenario (see docs/scenarios.md)")]
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(source, "", f"expected a mapping of scenario keys, got {_kind(data)}")]
        )
    return data


def _read_with_parents(
    path: Path, origins: dict[Path_, str], chain: tuple[Path, ...]
) -> dict[str, Any]:
    """Read a file and the files it ``extends``, child keys winning, remembering who set what."""
    resolved = path.resolve()
    data = _read_yaml(path)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        _mark_origins(data, (), str(path), origins)
        return data
    if not isinstance(parent_name, str):
        raise ScenarioError(
            [Problem(str(path), "extends", f"expected a file name, got {_kind(parent_name)}")]
        )
    parent_path = path.parent / parent_name
    if not parent_path.exists():
        raise ScenarioError(
            [Problem(str(path), "extends", f"'{parent_name}' not found (looked for {parent_path})")]
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
    """Deep-merge ``child`` into ``base``: mappings merge, while lists, values and an empty
    mapping ``{}`` (the way to clear, say, the inherited mediators) replace."""
    for key, value in child.items():
        here = (*loc, key)
        if isinstance(value, dict) and value and isinstance(base.get(key), dict):
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
    """Set one value by its dotted path; list items are addressed by number (initial_events.0)."""
    keys = key_path.split(".")
    if not all(keys):
        raise ScenarioError(
            [
                Problem(
                    "--set", key_path, "expected a dotted key path such as actors.iran.deescalation"
                )
            ]
        )
    loc: list[str | int] = []
    node: Any = raw
    for depth, key in enumerate(keys):
        where = ".".join(keys[:depth]) or "the top level"
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ScenarioError(
                    [
                        Problem(
                            "--set",
                            ".".join(keys[: depth + 1]),
                            f"{where} is a list of {len(node)} items; expected "
                            f"an item number from 0 to {len(node) - 1}",
                        )
                    ]
                )
            index: str | int = int(key)
        elif isinstance(node, dict):
            if key not in node and not last:
                raise ScenarioError(
                    [
                        Problem(
                            "--set",
                            ".".join(keys[: depth + 1]),
                            f"no such key in {where}{_suggest(key, [str(k) for k in node])}",
                        )
                    ]
                )
            index = key
        else:
            raise ScenarioError(
                [
                    Problem(
                        "--set",
                        ".".join(keys[: depth + 1]),
                        f"{where} holds {_kind(node)}, not keys",
                    )
                ]
            )
        loc.append(index)
        if last:
            if key == "policy" and depth > 0 and keys[depth - 1] in POLICY_BLOCKS:
                _switch_policy(node, keys[depth - 1], value)
            node[index] = value
        else:
            node = node[index]
    _replace_origins(value, tuple(loc), "--set", origins)


def _strip_policy_tags(loc: Path_) -> Path_:
    """Pydantic puts the policy name into the location of a policy's errors; users never wrote it."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if i > 0 and loc[i - 1] in POLICY_BLOCKS and part in POLICY_BLOCKS[str(loc[i - 1])]:
            continue
        out.append(part)
    return tuple(out)


def _dotted(loc: Path_) -> str:
    return ".".join(str(part) for part in loc)


def _kind(value: Any) -> str:
    """How a YAML value reads to its author: ``text 'high'``, ``true``, ``a list``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null (nothing)"
    if isinstance(value, str):
        return f"text '{value}'"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _field_at(loc: Path_) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model holding the last key of ``loc`` and that key's field, following the schema."""
    annotation: Any = Scenario
    holder: type[BaseModel] | None = None
    field: FieldInfo | None = None
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            holder = annotation
            field = annotation.model_fields.get(str(part))
            if field is None:
                return holder, None
            annotation = field.annotation
            if part in POLICY_BLOCKS:
                annotation = POLICY_BLOCKS[str(part)]
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


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _bounds(field: FieldInfo | None) -> str:
    if field is None:
        return ""
    limits = {
        name: getattr(m, name)
        for m in field.metadata
        for name in ("ge", "gt", "le", "lt")
        if getattr(m, name, None) is not None
    }
    if "ge" in limits and "le" in limits:
        return f"from {limits['ge']} to {limits['le']}"
    words = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}
    return " and ".join(f"{words[k]} {v}" for k, v in limits.items())


def _explain(detail: Any, loc: Path_) -> str:
    """One plain sentence for a pydantic error; ``loc`` still holds the policy tags."""
    kind, value, ctx = detail["type"], detail.get("input"), detail.get("ctx") or {}
    holder, field = _field_at(loc)
    if kind == "extra_forbidden":
        allowed = list(holder.model_fields) if holder else []
        return (
            f"unknown key '{loc[-1]}'{_suggest(str(loc[-1]), allowed)}"
            f" (allowed here: {', '.join(allowed)})"
        )
    if kind == "missing":
        return "required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        block = str(loc[-1]) if loc else ""
        names = list(POLICY_BLOCKS.get(block, {}))
        if kind == "union_tag_not_found":
            return f"missing key 'policy' (one of: {', '.join(names)})"
        tag = str(ctx.get("tag", ""))
        return f"unknown {block} policy '{tag}'{_suggest(tag, names)} (valid: {', '.join(names)})"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        whole = field is not None and _unwrap(field.annotation) is int
        noun = "a whole number" if whole else "a number"
        return f"expected {noun} {_bounds(field)}, got {value!r}"
    if kind in ("int_type", "int_parsing"):
        return f"expected a whole number, got {_kind(value)}"
    if kind in ("float_type", "float_parsing"):
        bounds = _bounds(field)
        return f"expected a number{' ' + bounds if bounds else ''}, got {_kind(value)}"
    if kind == "string_type":
        return f"expected text, got {_kind(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping (indented key: value lines), got {_kind(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_kind(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {_kind(value)}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "string_too_short":
        return "expected non-empty text"
    if kind == "string_pattern_mismatch":
        if loc == ("name",):
            return (
                f"a name is also a folder name: letters, digits, _ . and -, starting with a "
                f"letter or digit; got {value!r}"
            )
        return f"ids must be lowercase letters, digits and _, starting with a letter; got {value!r}"
    if kind in ("date_type", "date_parsing", "date_from_datetime_inexact"):
        return f"expected a date like 2024-01-16, got {_kind(value)}"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    return str(detail["msg"])
