"""Reading scenario files: YAML, ``extends``, ``--set`` overrides, and every check before a run.

All problems in a file are collected and reported together, each naming the file the offending
key came from (a scenario may extend another), its key path and what was expected.
"""

from __future__ import annotations

import copy
import datetime
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from sim.inputs.errors import Problem, ScenarioError, did_you_mean
from sim.inputs.overrides import OverrideError, set_value
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
        Problem(source_of(loc), _dotted(loc), message)
        for loc, message in uncertainty.check(Scenario, raw)
    ]
    if problems:  # reported once, here; the type checks see a plain number in their place
        raw = uncertainty.neutralised(Scenario, raw, {p.path for p in problems})
    scenario: Scenario | None = None
    references = check_references(raw)
    pinned = {loc[0] for loc, _ in references if len(loc) > 1 and loc[0] in _PINNED_BLOCKS}
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        for detail in error.errors():
            raw_loc = tuple(detail["loc"])
            if detail["type"] == "value_error" and raw_loc and raw_loc[0] in pinned:
                continue  # the same rule, reported below at the key that breaks it
            loc = _strip_policy_tags(raw_loc)
            tag = "type" if len(loc) >= 2 and loc[-2] == "events" else "policy"
            blamed = (*loc, tag) if detail["type"] == "union_tag_invalid" else loc
            problems.append(Problem(source_of(blamed), _dotted(loc), _explain(detail, raw_loc)))
    problems += [Problem(source_of(loc), _dotted(loc), message) for loc, message in references]
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


def _attach_profiles(raw: dict[str, Any], path: Path, origins: dict[Path_, str]) -> None:
    """Read each profile a number names (``{profile: calibrated}``) into ``uncertainty.profiles``.

    A profile ``NAME`` is the file ``profiles/NAME.yaml`` in the scenario's folder or the
    nearest folder above it that has one (so scenarios/ and scenarios/cases/ share
    scenarios/profiles/); a name ending in .yaml is a file path relative to the scenario.
    """
    wanted = {
        value[uncertainty.PROFILE]: loc
        for loc, _, value in uncertainty.real_keys(Scenario, raw)
        if uncertainty.is_uncertain(value) and uncertainty.PROFILE in value
    }
    if not wanted:
        return
    block = raw.setdefault("uncertainty", {})
    if not isinstance(block, dict):
        return  # the type checks report it
    profiles = block.setdefault("profiles", {})
    problems = []
    for name, loc in wanted.items():
        source = origins.get(loc, str(path))
        if not isinstance(name, str) or not name:
            problems.append(
                Problem(source, _dotted(loc), f"a profile is named by text, got {_kind(name)}")
            )
            continue
        if name in profiles:
            continue
        candidates = (
            [path.parent / name]
            if name.endswith((".yaml", ".yml"))
            else [folder / "profiles" / f"{name}.yaml" for folder in path.resolve().parents]
        )
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            looked = (
                candidates[0]
                if len(candidates) == 1
                else f"profiles/{name}.yaml in {path.parent} and the folders above it"
            )
            problems.append(
                Problem(source, _dotted(loc), f"no profile '{name}' (looked for {looked})")
            )
            continue
        profile, message = _read_profile(found)
        if message:
            problems.append(Problem(str(found), "parameters", message))
            continue
        profiles[name] = profile
    if problems:
        raise ScenarioError(problems)


def _read_profile(path: Path) -> tuple[dict[str, Any], str]:
    """A profile file as ``Profile`` fields, or the problem with it.

    The file (written by ``python run.py calibrate``) holds ``parameters: {KEY: {samples: [...],
    weights: [...]}}``, the same particles and weights for every key.
    """
    data = read_yaml(path, what="a profile")
    parameters = data.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        return {}, "expected a mapping of dotted keys to {samples: [...], weights: [...]}"
    weights: list[Any] | None = None
    values = {}
    for key, entry in parameters.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("samples"), list):
            return {}, f"{key}: expected {{samples: [...], weights: [...]}}"
        own = entry.get("weights", [1.0] * len(entry["samples"]))
        if weights is None:
            weights = own
        elif own != weights:
            return (
                {},
                f"{key}: its weights differ from the first key's (particles set all keys together)",
            )
        values[str(key)] = entry["samples"]
    try:  # a path relative to the working folder, so the scenario is the same on any machine
        shown = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = path
    return {"source": str(shown), "weights": weights, "values": values}, ""


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
    """Problems that span blocks: ids that name nothing, rungs off the ladder, days outside the
    run, pairs that are not in crisis, clashing ids.

    Runs on the raw mapping, beside the type checks, so that every problem is reported at once;
    values of the wrong type are left to the type checks.
    """
    problems: list[tuple[Path_, str]] = []
    states = [str(k) for k, _ in _items(raw, "actors")]
    groups = dict(_items(raw, "armed_groups"))
    parties = dict(_items(raw, "third_parties"))
    ladder = raw.get("ladder")
    ladder = ladder if isinstance(ladder, dict) else {}
    rungs = ladder.get("rungs")
    war = len(rungs) - 1 if isinstance(rungs, list) and len(rungs) >= 3 else None
    strike = ladder.get("strike_rung") if isinstance(ladder.get("strike_rung"), int) else None
    horizon = raw.get("horizon")
    if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
        horizon = None  # the type checks report a bad horizon

    STATE = "a state of this scenario"

    def reference(loc: Path_, name: Any, choices: list[str], what: str, listed: str) -> bool:
        """Is ``name`` one of ``choices``? If not, say so: it is not ``what``; ``listed`` are."""
        if not isinstance(name, str) or name in choices:
            return isinstance(name, str)
        problems.append(
            (
                loc,
                f"'{_excerpt(name)}' is not {what}{did_you_mean(name, choices)} "
                f"({listed}: {_listing(choices)})",
            )
        )
        return False

    def state(loc: Path_, name: Any) -> bool:
        return reference(loc, name, states, STATE, "states")

    def on_ladder(loc: Path_, rung: Any, *, below_war: bool = False) -> None:
        if war is None or not isinstance(rung, int) or isinstance(rung, bool):
            return
        if rung > war:
            problems.append((loc, f"rung {rung} is off the ladder, whose top rung (war) is {war}"))
        elif below_war and rung == war:
            problems.append((loc, f"expected a rung below war ({war}), got {rung}"))

    pairs: dict[frozenset[str], int] = {}
    for i, relation in _items(raw, "relations"):
        between = relation.get("between")
        if not isinstance(between, list):
            continue
        known = [state(("relations", i, "between", j), name) for j, name in enumerate(between)]
        if len(between) == 2 and all(known):
            if between[0] == between[1]:
                problems.append(
                    (("relations", i, "between"), "a state cannot be in crisis with itself")
                )
                continue
            key = frozenset(between)
            if key in pairs:
                problems.append(
                    (
                        ("relations", i, "between"),
                        f"relations.{pairs[key]} already pairs {between[0]} and {between[1]}; "
                        "list each pair once",
                    )
                )
            pairs.setdefault(key, i)
        baseline = relation.get("baseline")
        on_ladder(("relations", i, "baseline"), baseline)
        if (
            isinstance(baseline, int)
            and strike is not None
            and not isinstance(baseline, bool)
            and baseline >= strike
        ):
            problems.append(
                (
                    ("relations", i, "baseline"),
                    f"a peacetime baseline is an act without force: expected a rung below the "
                    f"strike rung ({strike}), got {baseline}",
                )
            )

    def in_crisis(loc: Path_, a: Any, b: Any) -> bool:
        """Both are states and ``relations`` pairs them."""
        if not (isinstance(a, str) and isinstance(b, str) and a in states and b in states):
            return False
        if frozenset((a, b)) not in pairs:
            problems.append(
                (loc, f"'{a}' and '{b}' are not in crisis with each other (add them to relations)")
            )
            return False
        return True

    seen: dict[str, str] = {}
    for block in ("actors", "armed_groups", "third_parties"):
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
    for group_id, group in groups.items():
        host, target, sponsor = group.get("host"), group.get("target"), group.get("sponsor")
        known_host = state(("armed_groups", group_id, "host"), host)
        state(("armed_groups", group_id, "target"), target)
        if sponsor is not None:
            state(("armed_groups", group_id, "sponsor"), sponsor)
        if known_host and host == target:
            problems.append(
                (
                    ("armed_groups", group_id, "target"),
                    "an armed group must target a state other than its host",
                )
            )
        if sponsor is not None and sponsor == target:
            problems.append(
                (("armed_groups", group_id, "sponsor"), "a group cannot be sponsored by its target")
            )
        on_ladder(
            ("armed_groups", group_id, "attack_rung"), group.get("attack_rung"), below_war=True
        )
    for party_id, party in parties.items():
        for field_name in ("leverage", "alignment"):
            block = party.get(field_name)
            for name in block if isinstance(block, dict) else []:
                state(("third_parties", party_id, field_name, name), name)
        mediation = party.get("mediation")
        if not isinstance(mediation, dict):
            continue
        members = mediation.get("parties")
        members = members if isinstance(members, list) else []
        for i, name in enumerate(members):
            state(("third_parties", party_id, "mediation", "parties", i), name)
            _once(
                problems, ("third_parties", party_id, "mediation", "parties", i), name, members[:i]
            )
        if (
            len(members) >= 2
            and all(m in states for m in members)
            and not any(frozenset((a, b)) in pairs for a in members for b in members if a != b)
        ):
            problems.append(
                (
                    ("third_parties", party_id, "mediation", "parties"),
                    "no two of these parties are in crisis with each other (see relations)",
                )
            )
        joint = mediation.get("joint_with")
        joint = joint if isinstance(joint, list) else []
        for i, name in enumerate(joint):
            _once(
                problems, ("third_parties", party_id, "mediation", "joint_with", i), name, joint[:i]
            )
            if name == party_id:
                problems.append(
                    (
                        ("third_parties", party_id, "mediation", "joint_with", i),
                        "a third party cannot mediate jointly with itself",
                    )
                )
            else:
                reference(
                    ("third_parties", party_id, "mediation", "joint_with", i),
                    name,
                    [str(p) for p in parties],
                    "a third party of this scenario",
                    "third parties",
                )
        on_ladder(
            ("third_parties", party_id, "mediation", "trigger_rung"), mediation.get("trigger_rung")
        )
    decision = raw.get("decision")
    if isinstance(decision, dict):
        on_ladder(("decision", "nuclear_from_rung"), decision.get("nuclear_from_rung"))
    for i, event in _items(raw, "events"):
        loc: Path_ = ("events", i)
        kind, day = event.get("type"), event.get("day")
        if (
            isinstance(day, int)
            and not isinstance(day, bool)
            and horizon is not None
            and day > horizon
        ):
            problems.append(((*loc, "day"), f"day {day} is after the horizon ({horizon} days)"))
        if event.get("answered") and isinstance(day, int) and day > 0:
            problems.append(
                (
                    (*loc, "answered"),
                    "only an event before the run (day 0 or earlier) can be already answered",
                )
            )
        if kind in ("act", "pledge", "conciliate"):
            actor, target = event.get("actor"), event.get("target")
            if state((*loc, "actor"), actor) and state((*loc, "target"), target):
                in_crisis((*loc, "target"), actor, target)
        if kind == "act":
            rung = event.get("rung")
            on_ladder((*loc, "rung"), rung)
            group = event.get("group")
            if group is not None and reference(
                (*loc, "group"),
                group,
                [str(g) for g in groups],
                "an armed group of this scenario",
                "armed groups",
            ):
                if (
                    groups[group].get("host") != event.get("target")
                    and event.get("location") is None
                ):
                    problems.append(
                        (
                            (*loc, "group"),
                            f"'{group}' is based in '{groups[group].get('host')}', not in the "
                            f"target '{event.get('target')}'; say where the strike happened with location",
                        )
                    )
            if event.get("location") is not None:
                state((*loc, "location"), event.get("location"))
            if (
                event.get("announced")
                and isinstance(rung, int)
                and strike is not None
                and rung < strike
            ):
                problems.append(
                    (
                        (*loc, "announced"),
                        "only a strike (at or above the strike rung) is announced in advance",
                    )
                )
            if event.get("target_kind") == "armed_group" and group is None:
                problems.append(((*loc, "group"), "a strike on an armed group names the group"))
        elif kind == "attack":
            reference(
                (*loc, "group"),
                event.get("group"),
                [str(g) for g in groups],
                "an armed group of this scenario",
                "armed groups",
            )
        elif kind == "conciliate":
            on_ladder((*loc, "to_rung"), event.get("to_rung"))
        elif kind == "offer":
            name = event.get("third_party")
            if reference(
                (*loc, "third_party"),
                name,
                [str(p) for p in parties],
                "a third party of this scenario",
                "third parties",
            ) and not isinstance(parties[name].get("mediation"), dict):
                problems.append(
                    (
                        (*loc, "third_party"),
                        f"'{name}' has no mediation block, so it offers no talks",
                    )
                )
            if isinstance(day, int) and not isinstance(day, bool) and day < 1:
                problems.append(
                    ((*loc, "day"), "an offer of talks is made during the run: day 1 or later")
                )
        elif kind == "ceasefire":
            between = event.get("between")
            if isinstance(between, list) and len(between) == 2:
                if all(state((*loc, "between", j), name) for j, name in enumerate(between)):
                    in_crisis((*loc, "between"), *between)
    return problems + _ladder_rules(ladder) + _calendar(raw, horizon) + _delays(raw)


def _once(problems: list[tuple[Path_, str]], loc: Path_, name: Any, before: list[Any]) -> None:
    """An id listed again in the same list (it would act twice)."""
    if isinstance(name, str) and name in before:
        problems.append((loc, f"'{_excerpt(name)}' is listed twice; list each one once"))


_PINNED_BLOCKS = ("ladder",)
"""Blocks whose own rules (pydantic model validators) ``check_references`` repeats at the key
that breaks them, so the message names that key and the file that wrote it."""


def _ladder_rules(ladder: Any) -> list[tuple[Path_, str]]:
    """The ladder's rules (``Ladder._consistent``), each at the key that breaks it."""
    rungs, strike = ladder.get("rungs"), ladder.get("strike_rung")
    if not isinstance(rungs, list) or len(rungs) < 3:
        return []
    if not isinstance(strike, int) or isinstance(strike, bool) or strike < 1:
        return []
    war = len(rungs) - 1
    if strike >= war:
        return [
            (("ladder", "strike_rung"), f"expected a rung below the war rung ({war}), got {strike}")
        ]
    problems: list[tuple[Path_, str]] = []
    for index, rung in enumerate(rungs):
        target = rung.get("target") if isinstance(rung, dict) else None
        if not isinstance(target, str):
            continue
        forceful = index >= strike
        if (target != "none") != forceful:
            where = "at or above" if forceful else "below"
            problems.append(
                (
                    ("ladder", "rungs", index, "target"),
                    f"rung {index} is {where} the strike rung ({strike}), so its target cannot "
                    f"be '{_excerpt(target)}'",
                )
            )
        elif index == war and target == "armed_group":
            problems.append(
                (
                    ("ladder", "rungs", index, "target"),
                    "the war rung cannot target an armed group: war is between states",
                )
            )
    return problems


def _calendar(raw: dict[str, Any], horizon: int | None) -> list[tuple[Path_, str]]:
    """Every day of the run and of its history must be a date a calendar can show."""
    start = raw.get("start_date")
    try:
        first = datetime.date.fromisoformat(str(start)) if start is not None else None
    except ValueError:
        return []  # the type checks report it
    if first is None:
        return []
    problems: list[tuple[Path_, str]] = []
    if horizon is not None and horizon > LIMITS["horizon"]:
        horizon = None  # the type checks report it
    if horizon is not None and (datetime.date.max - first).days < horizon:
        problems.append(
            (
                ("start_date",),
                f"day 0 on {first.isoformat()} puts the end of the {horizon}-day horizon after "
                "9999-12-31, the last date a calendar can show; choose an earlier start_date",
            )
        )
    for i, event in _items(raw, "events"):
        day = event.get("day")
        if isinstance(day, int) and not isinstance(day, bool) and -LIMITS["history"] <= day < 0:
            if (first - datetime.date.min).days < -day:
                problems.append(
                    (
                        ("events", i, "day"),
                        f"day {day} before {first.isoformat()} falls before the year 1, the "
                        "first date a calendar can show",
                    )
                )
    return problems


def _delays(raw: dict[str, Any]) -> list[tuple[Path_, str]]:
    """A state's delays are days within the longest horizon (the schema bounds them below)."""
    longest = LIMITS["days"]
    problems: list[tuple[Path_, str]] = []
    for actor_id, actor in _items(raw, "actors"):
        block = actor.get("retaliation")
        for key in ("delay", "reaction_delay"):
            value = block.get(key) if isinstance(block, dict) else None
            if isinstance(value, int) and not isinstance(value, bool) and value > longest:
                problems.append(
                    (
                        ("actors", actor_id, "retaliation", key),
                        f"expected a whole number of days from 0 to {longest}, got {_short(value)}",
                    )
                )
    return problems


MAX_FILE_BYTES = 1_000_000
"""Largest YAML file read (a scenario is a few kilobytes)."""
MAX_ALIASES = 1_000
"""Most aliases (``*name``) a file may use."""
MAX_NODES = 200_000
"""Most values a file may hold once its aliases are expanded (a 'billion laughs' is refused)."""
MAX_DEPTH = 40
"""Deepest nesting of mappings and lists."""
MAX_EXTENDS = 16
"""Longest chain of ``extends``."""


class _HardenedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a cap on aliases, dates left as text (the schema checks
    them with their key path, so '2024-02-30' gets a message rather than a crash), and no key
    written twice in one mapping (PyYAML would silently keep the last: a state listed twice
    would lose its first description)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES:,} aliases")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value if isinstance(node, yaml.MappingNode) else []:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key '{_excerpt(str(key_node.value))}' is written twice in one mapping "
                    f"(first on line {seen[key_node.value]}); write each key once",
                    key_node.start_mark,
                )
            seen[key_node.value] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_NUMBERS = {"tag:yaml.org,2002:int": _INT, "tag:yaml.org,2002:float": _FLOAT}
"""YAML 1.1's numbers without its base-60 forms: ``horizon: 1:30`` stays the text '1:30' (the
schema then says it is not a whole number) instead of silently becoming 90."""

_HardenedLoader.yaml_implicit_resolvers = {
    first: [
        (tag, _NUMBERS.get(tag, rx))
        for tag, rx in resolvers
        if tag != "tag:yaml.org,2002:timestamp"
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _independent(node: Any) -> Any:
    """The tree with every mapping and list its own: YAML anchors and aliases (and ``<<:`` merge
    keys) share one object between places, so changing one place (``--set``, a child scenario,
    a dashboard control) would silently change the others. Run after the size check."""
    if isinstance(node, dict):
        return {key: _independent(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_independent(value) for value in node]
    return node


def read_value(text: str) -> Any:
    """One value written in YAML (a ``--set`` value), read as scenario files are: dates stay
    text for the schema to check, and the same limits on size, aliases and nesting apply.

    Raises ValueError with a short reason when the text is not one usable YAML value.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ValueError(f"longer than {MAX_FILE_BYTES // 1_000_000} MB")
    try:
        value = yaml.load(text, Loader=_HardenedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        raise ValueError("not valid YAML") from None
    except RecursionError:
        raise ValueError(f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    problems = _check_shape(value, "--set")
    if problems:
        raise ValueError(problems[0].message)
    return _independent(value)


def read_yaml(path: Path, what: str = "a scenario") -> dict[str, Any]:
    """Read one YAML mapping, within the limits above; every problem is a ``ScenarioError``.

    Only regular files are read (not folders, devices or symbolic-link loops); keys must be
    text; the whole document is walked once, with a budget, before anything else touches it.
    """
    source = str(path)
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise ScenarioError([Problem(source, "", "no such file")]) from None
    except (OSError, RuntimeError) as error:
        raise ScenarioError([Problem(source, "", f"cannot be read ({error})")]) from None
    if resolved.is_dir():
        raise ScenarioError([Problem(source, "", f"is a folder, expected {what} YAML file")])
    if not resolved.is_file():
        raise ScenarioError(
            [Problem(source, "", f"is not a regular file; expected {what} YAML file")]
        )
    try:
        with resolved.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ScenarioError(
                [
                    Problem(
                        source,
                        "",
                        f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; expected {what} YAML file",
                    )
                ]
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError([Problem(source, "", f"cannot be read ({error})")]) from None
    try:
        data = yaml.load(text, Loader=_HardenedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ScenarioError(
            [Problem(source, "", f"YAML syntax error at {where}: {error.problem}")]
        ) from None
    except yaml.YAMLError as error:
        raise ScenarioError([Problem(source, "", f"YAML syntax error: {error}")]) from None
    except RecursionError:
        raise ScenarioError(
            [Problem(source, "", f"nested too deeply (at most {MAX_DEPTH} levels)")]
        ) from None
    if data is None:
        raise ScenarioError(
            [Problem(source, "", f"the file is empty; expected {what} (see docs/scenarios.md)")]
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                Problem(
                    source,
                    "",
                    f"expected a mapping of {what.split(' ', 1)[-1]} keys, got {_shape(data)}",
                )
            ]
        )
    problems = _check_shape(data, source)
    if problems:
        raise ScenarioError(problems)
    return _independent(data)


def _check_shape(data: Any, source: str) -> list[Problem]:
    """Depth, size (aliases expanded) and text keys, in one walk that stops at the budget."""
    problems: list[Problem] = []
    budget = [MAX_NODES]
    stack: list[tuple[Any, Path_]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            return [
                Problem(
                    source,
                    "",
                    f"holds more than {MAX_NODES:,} values once its aliases are expanded",
                )
            ]
        if len(loc) > MAX_DEPTH:
            return [
                Problem(source, _dotted(loc[:MAX_DEPTH]), f"nested deeper than {MAX_DEPTH} levels")
            ]
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    problems.append(
                        Problem(
                            source,
                            _dotted((*loc, "null" if key is None else str(key))),
                            f"keys must be text, got {_kind(key)}",
                        )
                    )
                    continue
                stack.append((value, (*loc, key)))
        elif isinstance(node, list):
            stack.extend((value, (*loc, i)) for i, value in enumerate(node))
    return problems


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
            [Problem(str(path), "extends", f"expected a file name, got {_kind(parent_name)}")]
        )
    parent_path = path.parent / parent_name
    if not os.path.exists(parent_path):  # False, not an error, for a name too long to exist
        raise ScenarioError(
            [
                Problem(
                    str(path),
                    "extends",
                    f"'{_excerpt(parent_name, 60)}' not found (looked for "
                    f"{_excerpt(str(parent_path), 160)})",
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
    (``{uniform: [...]}`` over ``{beta: [...]}``) and an empty mapping ``{}`` (the way to clear,
    say, the inherited mediators) replace."""
    for key, value in child.items():
        here = (*loc, key)
        distribution = isinstance(value, dict) and bool(value) and set(value) <= set(KINDS)
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
            raw, key_path, value, is_block=_is_block, before_set=switch_policy, describe_value=_kind
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


def _dotted(loc: Path_) -> str:
    return ".".join(str(part) for part in loc)


def _kind(value: Any) -> str:
    """How a YAML value reads to its author: ``text 'high'``, ``true``, ``a list``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null (nothing)"
    if isinstance(value, str):
        return f"text '{value if len(value) <= 60 else value[:57] + '...'}'"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _shape(value: Any) -> str:
    """What a value is, without its content (for files that may not be scenarios at all)."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return _kind(value)


def _listing(names: list[str], most: int = 12) -> str:
    """Names for a message: at most ``most`` of them, then how many more."""
    if not names:
        return "none"
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(_excerpt(n) for n in names[:most]) + more


def _excerpt(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _short(value: Any) -> str:
    """A value as the user wrote it, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
        return f"expected {noun} {_bounds(field)}, got {_short(value)}"
    if kind in ("int_type", "int_parsing"):
        return f"expected a whole number, got {_kind(value)}"
    if kind in ("float_type", "float_parsing"):
        bounds = _bounds(field)
        return f"expected a number{' ' + bounds if bounds else ''}, got {_kind(value)}"
    if kind == "string_type":
        return f"expected text, got {_kind(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_kind(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping (indented key: value lines), got {_kind(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_kind(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {_kind(value)}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "too_long":
        size = len(value) if isinstance(value, list | dict | tuple) else ctx.get("actual_length")
        return f"expected at most {ctx.get('max_length')} item(s), got {size}"
    if kind == "string_too_long":
        return (
            f"expected text of at most {ctx.get('max_length')} characters, got "
            f"{len(value) if isinstance(value, str) else 'more'}: {_short(value)}"
        )
    if kind == "finite_number":
        return f"expected a finite number, got {_short(value)}"
    if kind == "string_too_short":
        return "expected non-empty text"
    if kind == "string_pattern_mismatch":
        if loc == ("name",):
            return (
                f"a name is also a folder name: letters, digits, _ . and -, starting with a "
                f"letter or digit; got {_short(value)}"
            )
        return f"ids must be lowercase letters, digits and _, starting with a letter; got {_short(value)}"
    if kind.startswith("date_"):
        return f"expected a date like 2024-01-16, got {_kind(value)}"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    return str(detail["msg"])
