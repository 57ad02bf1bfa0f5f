"""The checks a schema cannot make alone: that every id a scenario names exists (states,
groups, third parties), that events fall in its calendar and fit its ladder, and that the
delays make sense, each problem with its key path.
"""

from __future__ import annotations

import datetime
from typing import Any

from sim.inputs.errors import did_you_mean, excerpt, listing, short
from sim.model.scenario import LIMITS

Path_ = tuple[str | int, ...]


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
                f"'{excerpt(name)}' is not {what}{did_you_mean(name, choices)} "
                f"({listed}: {listing(choices)})",
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
            below_strike = isinstance(rung, int) and strike is not None and rung < strike
            if event.get("announced") and below_strike:
                problems.append(
                    (
                        (*loc, "announced"),
                        "only a strike (at or above the strike rung) is announced in advance",
                    )
                )
            if event.get("operation") is True and below_strike:
                problems.append(
                    (
                        (*loc, "operation"),
                        "only a strike (at or above the strike rung) opens an operation",
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
        problems.append((loc, f"'{excerpt(name)}' is listed twice; list each one once"))


PINNED_BLOCKS = ("ladder",)
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
                    f"be '{excerpt(target)}'",
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
                        f"expected a whole number of days from 0 to {longest}, got {short(value)}",
                    )
                )
    return problems
