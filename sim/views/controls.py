"""The dashboard's controls, made from the scenario schema: the numbers that move the results
most (by the documented ranking of :mod:`sim.views.drivers`), then one section per state, armed
group and third party, and every mechanism switch, each explained in the schema's own words.

A control is plain data (no widgets): its choices turn into loader overrides (``--set``), so
every check and message is the loader's. The page that draws them is :mod:`sim.views.dashboard`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import BaseModel

from sim.model.policies import MEDIATION_POLICIES, RETALIATION_POLICIES
from sim.model.scenario import (
    ArmedGroupConfig,
    Mechanisms,
    Scenario,
    StateConfig,
    ThirdPartyConfig,
)
from sim.views.drivers import LEVERS, MULTIPLES, drivers


class SettingsError(Exception):
    """A change the dashboard cannot make; the message says why, in the loader's words."""


# ---------------------------------------------------------------------------- scenarios offered


@dataclass(frozen=True)
class Control:
    """One control of the sidebar: a setting of the scenario, its choices and their overrides.

    ``own`` is the scenario's own value; ``overrides`` turns a chosen value into loader
    overrides. Options are (label, value) pairs; the scenario's own is marked in its label.
    """

    key: str
    section: str
    label: str
    help: str
    options: tuple[tuple[str, Any], ...]
    own: Any
    overrides: Callable[[Any], dict[str, Any]] = field(compare=False, repr=False)
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def css_class(self) -> str:
        """'control-actors-iran-resolve': how the page and its tests find the control."""
        return "control-" + re.sub(r"[^a-z0-9]+", "-", self.key.lower())

    @property
    def switch(self) -> bool:
        return all(isinstance(value, bool) for _, value in self.options)

    def label_of(self, value: Any) -> str:
        """The option's label ('0.5 (scenario)'), or the value itself if it is not offered."""
        for label, option in self.options:
            if option == value:
                return label
        return str(value)

    def value_of(self, sent: Any) -> Any:
        """The value of what the browser sent: a label, or for a switch on or off (True or
        False); anything else is refused."""
        for label, value in self.options:
            if (sent is value) if self.switch else (isinstance(sent, str) and sent == label):
                return value
        raise SettingsError(f"{self.section}, {self.label}: pick one of the choices offered.")

    def hint(self, value: Any) -> str:
        """The explanation under the control: what it means, and what the choice does."""
        note = self.notes.get(value, "") if isinstance(value, str) else ""
        return f"{self.help} {note}".strip()


def _described(model: type[Any], name: str) -> str:
    """A field's description from the scenario schema, as plain text."""
    return str(model.model_fields[name].description or "").replace("`", "")


def _first_line(cls: type[Any]) -> str:
    """A policy's summary, as the schema reference gives it, without references to code."""
    line = (cls.__doc__ or "").strip().splitlines()[0]
    return re.sub(r":?\s*``[^`]*``", "", line)


def _number(value: float) -> str:
    return f"{value:g}"


def _options(
    values: Sequence[Any], own: Any, label: Callable[[Any], str]
) -> tuple[tuple[str, Any], ...]:
    """(label, value) options with the scenario's own value among them, marked."""
    chosen = list(values) if own in values else sorted([*values, own])
    return tuple((label(v) + (" (scenario)" if v == own else ""), v) for v in chosen)


RESOLVE_PRESETS: dict[str, dict[str, list[float]]] = {
    "low, about 0.25": {"beta": [2.0, 6.0]},
    "middling, about 0.5": {"beta": [3.0, 3.0]},
    "high, about 0.75": {"beta": [6.0, 2.0]},
}
"""Resolve as beta distributions around a typical value: still private, and still uncertain
to the adversary, whose belief starts from the same distribution."""


def _resolve_label(value: Any) -> str:
    for label, preset in RESOLVE_PRESETS.items():
        if preset == value:
            return label
    if isinstance(value, dict):
        ((kind, params),) = value.items()
        return f"{kind}({', '.join(_number(p) for p in params)})"
    return _number(float(value))


def _bounds(owner: type[BaseModel], name: str) -> tuple[float, float]:
    """The schema's bounds of a number (ge, le), so that no choice offered is refused."""
    low, high = -math.inf, math.inf
    for rule in owner.model_fields[name].metadata:
        low = max(low, getattr(rule, "ge", None) or -math.inf)
        high = min(high, getattr(rule, "le", None) or math.inf)
    return low, high


def number_control(path: str, section: str, key: str, root: BaseModel) -> Control:
    """A control for a number the ranking names (``key``, e.g. 'actors.*.pledge'), at ``path``
    in the scenario ('actors.pakistan.pledge'), whose value is read from ``root`` (the state,
    or the scenario's ``decision`` block) along the key's last parts."""
    lever = LEVERS[key]
    *walk, name = key.split(".*.", 1)[-1].removeprefix("decision.").split(".")
    owner = root
    for part in walk:
        owner = getattr(owner, part)
    own = float(getattr(owner, name))
    low, high = _bounds(type(owner), name)
    base = own or float(type(owner).model_fields[name].default or 0.0)
    values = lever.values or tuple(float(f"{base * m:.3g}") for m in MULTIPLES)
    return Control(
        path,
        section,
        lever.label,
        _described(type(owner), name),
        _options([v for v in values if low <= v <= high], own, _number),
        own,
        lambda v: {path: v},
    )


DECISION_SECTION = "How every state decides"


def decision_controls(scenario: Scenario) -> list[Control]:
    """The shared numbers of strategic decisions the ranking names, highest first."""
    return [
        number_control(key, DECISION_SECTION, key, scenario.decision)
        for key in drivers()
        if key.startswith("decision.")
    ]


def state_controls(scenario: Scenario, actor_id: str, state: StateConfig) -> list[Control]:
    """How a state in crisis answers, values standing firm, answers talks, and its numbers the
    ranking names (its cost of force, its chance of a public pledge, ...)."""
    prefix = f"actors.{actor_id}"
    policy = state.retaliation.policy
    own_resolve = state.resolve.model_dump()
    resolves = list(RESOLVE_PRESETS.values())
    resolve_options = tuple(
        (_resolve_label(v) + (" (scenario)" if v == own_resolve else ""), v)
        for v in (resolves if own_resolve in resolves else [own_resolve, *resolves])
    )
    controls = [
        Control(
            f"{prefix}.retaliation.policy",
            state.name,
            "How it answers",
            "How it answers a hostile act, and when it steps down:",
            _options(list(RETALIATION_POLICIES), policy, str),
            policy,
            lambda v: {f"{prefix}.retaliation.policy": v},
            {name: _first_line(cls) for name, cls in RETALIATION_POLICIES.items()},
        ),
        Control(
            f"{prefix}.resolve",
            state.name,
            "Resolve",
            _described(StateConfig, "resolve"),
            resolve_options,
            own_resolve,
            lambda v: {f"{prefix}.resolve": v},
        ),
    ]
    controls += [
        number_control(f"{prefix}.{key.removeprefix('actors.*.')}", state.name, key, state)
        for key in drivers()
        if key.startswith("actors.*.")
    ]
    offered_talks = any(
        party.mediation is not None and actor_id in party.mediation.parties
        for party in scenario.third_parties.values()
    )
    if offered_talks:
        mediation = state.mediation.policy
        controls.append(
            Control(
                f"{prefix}.mediation.policy",
                state.name,
                "Answer to offers of talks",
                "How it answers a third party's offer of mediation:",
                _options(list(MEDIATION_POLICIES), mediation, str),
                mediation,
                lambda v: {f"{prefix}.mediation.policy": v},
                {name: _first_line(cls) for name, cls in MEDIATION_POLICIES.items()},
            )
        )
    return controls


ACTIVITY = (0.0, 0.5, 1.0, 2.0, 4.0)
"""Armed groups' attack rates, as multiples of the scenario's."""


def group_control(scenario: Scenario, group_id: str, group: ArmedGroupConfig) -> Control:
    """How often an armed group attacks, as a multiple of the scenario's rate."""
    host, target = scenario.actors[group.host].name, scenario.actors[group.target].name
    rate = group.daily_rate

    def label(times: float) -> str:
        if times == 0:
            return "none"
        return f"x{_number(times)}: about {rate * times * 365:.0f} a year"

    return Control(
        f"armed_groups.{group_id}.daily_rate",
        "Armed groups",
        f"{group.name}: attacks",
        f"Based in {host}, attacks {target}. {_described(ArmedGroupConfig, 'daily_rate')} "
        "A crisis and talks under way can make it more active.",
        _options(ACTIVITY, 1.0, label),
        1.0,
        lambda times: {f"armed_groups.{group_id}.daily_rate": round(rate * times, 6)},
    )


LEVERAGE = (0.0, 0.5, 1.0, 2.0)


def third_party_controls(party_id: str, party: ThirdPartyConfig) -> list[Control]:
    """A third party's leverage over the states, and whether it offers talks at all."""
    prefix = f"third_parties.{party_id}"
    leverage = dict(party.leverage)
    controls = []
    if any(leverage.values()) and "third_parties.*.leverage" in drivers():
        controls.append(
            Control(
                f"{prefix}.leverage",
                party.name,
                "Leverage",
                _described(ThirdPartyConfig, "leverage"),
                _options(LEVERAGE, 1.0, lambda t: "none" if t == 0 else f"x{_number(t)}"),
                1.0,
                lambda times: {
                    f"{prefix}.leverage.{state}": round(value * times, 6)
                    for state, value in leverage.items()
                },
            )
        )
    if party.mediation is not None:
        controls.append(
            Control(
                f"{prefix}.mediation",
                party.name,
                "Offers talks",
                f"{_described(ThirdPartyConfig, 'mediation')} Off: it never offers them.",
                (("on (scenario)", True), ("off", False)),
                True,
                lambda on: {} if on else {f"{prefix}.mediation": None},
            )
        )
        if "third_parties.*.mediation.agreement_rate" in drivers():
            key = "third_parties.*.mediation.agreement_rate"
            controls.append(
                number_control(f"{prefix}.mediation.agreement_rate", party.name, key, party)
            )
    return controls


MECHANISM_LABELS = {
    "beliefs": "States learn from acts",
    "commitments": "Public pledges",
    "third_parties": "Third parties act",
    "armed_groups": "Armed groups attack",
    "misperception": "Acts can be misread",
    "nuclear": "Nuclear shadow",
    "warnings": "Strikes announced in advance",
    "reactions": "Quick diplomatic reactions",
    "operations": "Fighting goes on",
    "talks_under_fire": "Talks go on under fire",
    "sticky_measures": "Measures stick (envoys, borders)",
    "direct_talks": "Truces without a mediator",
}
"""Every switch of ``Mechanisms`` (a test checks none is missing)."""


def mechanism_controls(scenario: Scenario) -> list[Control]:
    """A switch for each mechanism the scenario can show (the nuclear shadow only if a state
    is nuclear-armed, and so on), to see what it adds."""
    present = {
        "third_parties": bool(scenario.third_parties),
        "armed_groups": bool(scenario.armed_groups),
        "nuclear": any(state.nuclear for state in scenario.actors.values()),
    }
    mechanisms = scenario.mechanisms
    defaults = Mechanisms()
    # The block is replaced whole, with the file's own changes: a file may not have one at all.
    written = {
        name: value
        for name, value in mechanisms.model_dump().items()
        if value != getattr(defaults, name)
    }
    controls = []
    for name, label in MECHANISM_LABELS.items():
        if not present.get(name, True):
            continue
        own = bool(getattr(mechanisms, name))
        controls.append(
            Control(
                f"mechanisms.{name}",
                "Mechanisms",
                label,
                _described(Mechanisms, name),
                tuple(
                    (("on" if v else "off") + (" (scenario)" if v == own else ""), v)
                    for v in (True, False)
                ),
                own,
                partial(_switched, written, name),
            )
        )
    return controls


def _switched(written: Mapping[str, Any], name: str, on: bool) -> dict[str, Any]:
    return {"mechanisms": {**written, name: on}}


def controls_for(scenario: Scenario) -> list[Control]:
    """The sidebar's controls for this scenario: the shared numbers that move the results
    most, a section for each state in crisis (a state that only hosts a group decides
    nothing), then armed groups, third parties, mechanisms."""
    controls = decision_controls(scenario)
    for actor_id, state in scenario.actors.items():
        if scenario.adversaries(actor_id):
            controls += state_controls(scenario, actor_id, state)
    for group_id, group in scenario.armed_groups.items():
        if group.daily_rate > 0 and "armed_groups.*.daily_rate" in drivers():
            controls.append(group_control(scenario, group_id, group))
    for party_id, party in scenario.third_parties.items():
        controls += third_party_controls(party_id, party)
    return controls + mechanism_controls(scenario)


def overrides_for(scenario: Scenario, choices: Mapping[str, Any]) -> dict[str, Any]:
    """The loader overrides (``--set`` pairs) that make the scenario what the controls say.

    Only what differs from the scenario is set, so the replay command stays short and a
    student's own file is never overridden by a control left alone.
    """
    overrides: dict[str, Any] = {}
    for control in controls_for(scenario):
        value = choices.get(control.key, control.own)
        if value == control.own:
            continue
        for key, setting in control.overrides(value).items():
            if isinstance(setting, dict) and isinstance(overrides.get(key), dict):
                setting = {**overrides[key], **setting}
            overrides[key] = setting
    return overrides


def changes_in_words(scenario: Scenario, choices: Mapping[str, Any]) -> list[str]:
    """The controls set away from the scenario, as 'Pakistan, how it answers: escalate'."""
    words = []
    for control in controls_for(scenario):
        value = choices.get(control.key, control.own)
        if value != control.own:
            words.append(f"{control.section}, {control.label.lower()}: {control.label_of(value)}")
    return words


# ---------------------------------------------------------------------------- the run
