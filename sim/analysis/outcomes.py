"""The catalogue of named outcomes: what a run did, in words a student asks about.

Every outcome is defined once here, on the columns of ``runs.csv`` (one row per run), and used
by the summary, ``compare``, sweeps, ``backtest`` and the Python API alike. An outcome is either
a *probability* (yes or no in each run; the ensemble reports the share of runs) or *days* (a
number of days in each run, NaN when it never happened; the ensemble reports the median).

Names, with N a number of days and K a rung (``docs/results.md`` lists them all):

- ``answer_Nd``: the state struck first answers with a strike of its own within N days;
- ``strike_Nd`` (``strike_Nd_STATE``): some state (this state) strikes within N days;
- ``forces_Nd`` (``forces_Nd_STATE``): some state (this state) strikes another state's forces
  or leaders within N days;
- ``rungK_Nd``: the crisis reaches rung K by day N;
- ``sustained``: both sides strike, on three or more days in all (named apart from the
  default ladder's rung 6, "sustained exchange of fire", which is a rung, not this outcome);
- ``war`` (``war_Nd``): war by the horizon (by day N);
- ``restrike``: the state that opened the crisis strikes again after the answer (a new act);
- ``offered``, ``accepted``: talks offered; talks accepted by all their parties;
- ``ceasefire_Nd``: a ceasefire agreed (or scripted) within N days;
- ``calm_Nd``: every pair back at its baseline, nothing left to answer, within N days;
- ``days_to_calm``: days until that calm (days outcome);
- ``pledge_STATE``, ``backed_down_STATE``: a public pledge to answer; a pledge not carried out.

Curves by day (``curves.png``, the dashboard, ``sim.outcome_curves``): ``answer``, ``forces``,
``calm`` and ``war``, each the share of runs in which ``<name>_Nd`` holds, for every day N.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sim.model.scenario import Scenario

Kind = Literal["probability", "days"]


@dataclass(frozen=True)
class Outcome:
    """A named outcome: its label for tables, its definition, and its value in each run.

    ``images``: the scenario keys (``fnmatch`` patterns on key paths, ``*`` any part) that set
    the very act this outcome counts, so that two scenarios differing in one of them differ in
    this outcome by construction (:func:`by_construction`).
    """

    name: str
    label: str
    kind: Kind
    definition: str
    value: Callable[[pd.DataFrame], np.ndarray]
    days: tuple[str, ...] = ()
    """The day columns of ``runs.csv`` whose first says when it happened (empty: no one day)."""
    images: tuple[str, ...] = ()

    def per_run(self, runs: pd.DataFrame) -> np.ndarray:
        """One value per run: booleans for a probability, days (NaN: never) for days."""
        return np.asarray(self.value(runs))


def _days(runs: pd.DataFrame, column: str) -> np.ndarray:
    return runs[column].to_numpy(dtype=float)


def _within(runs: pd.DataFrame, columns: Sequence[str], limit: float) -> np.ndarray:
    """Whether the first of these day columns is at most ``limit`` (NaN never is)."""
    values = np.stack([_days(runs, c) for c in columns])
    with np.errstate(invalid="ignore"):
        return (values <= limit).any(axis=0)


FORMS = (
    "answer_Nd, strike_Nd, strike_Nd_STATE, forces_Nd, forces_Nd_STATE, rungK_Nd, sustained, "
    "war, war_Nd, restrike, offered, accepted, ceasefire_Nd, calm_Nd, days_to_calm, "
    "pledge_STATE, backed_down_STATE"
)

_PATTERN = re.compile(
    r"^(?:(?P<family>answer|strike|forces|war|ceasefire|calm)_(?P<days>\d+)d(?:_(?P<state>[a-z][a-z0-9_]*))?"
    r"|rung(?P<rung>\d+)_(?P<rung_days>\d+)d"
    r"|(?P<plain>sustained|war|restrike|offered|accepted|days_to_calm)"
    r"|(?P<count>pledge|backed_down)_(?P<count_state>[a-z][a-z0-9_]*))$"
)


def outcome(
    name: str,
    horizon: int,
    war: int,
    states: Sequence[str],
    names: Mapping[str, str] | None = None,
) -> Outcome:
    """The outcome called ``name`` for a scenario with this horizon, war rung and states
    (``names``: the states' display names, for labels).

    Raises ``ValueError`` with a one-line explanation for a name that is not in the catalogue
    or does not fit the scenario (a day past the horizon, a rung above war, an unknown state).
    """
    match = _PATTERN.match(name)
    if match is None:
        raise ValueError(f"unknown outcome '{name}' (forms: {FORMS})")
    days = match["days"] or match["rung_days"]
    if days is not None and int(days) > horizon:
        raise ValueError(f"outcome '{name}' looks past the horizon ({horizon} days)")
    state = match["state"] or match["count_state"]
    display = (names or {}).get(state or "", state)
    if state is not None and state not in states:
        raise ValueError(
            f"outcome '{name}' names '{state}', which is not a state of this scenario "
            f"(states: {', '.join(states)})"
        )
    if match["rung"] is not None:
        rung = int(match["rung"])
        if rung > war:
            raise ValueError(f"outcome '{name}' names rung {rung}, above war ({war})")
        limit = int(match["rung_days"])
        column = f"first_day_rung_{rung}"
        return Outcome(
            name,
            f"P(the crisis reaches rung {rung} by day {limit})",
            "probability",
            f"{column} <= {limit}",
            lambda runs: _within(runs, [column], limit),
            (column,),
        )
    if match["plain"] is not None:
        return _PLAIN[match["plain"]](states)
    if match["count"] is not None:
        assert state is not None
        column = f"{'pledges' if match['count'] == 'pledge' else 'backed_down'}_{state}"
        verb = (
            "pledges publicly to answer"
            if match["count"] == "pledge"
            else "backs down from a pledge"
        )
        return Outcome(
            name,
            f"P({display} {verb})",
            "probability",
            f"{column} >= 1",
            lambda runs: runs[column].to_numpy() >= 1,
            images=(f"actors.{state}.pledge", "mechanisms.commitments")
            if match["count"] == "pledge"
            else (),
        )
    family, limit = match["family"], int(match["days"])
    if family in ("answer", "war", "ceasefire", "calm") and state is not None:
        raise ValueError(f"outcome '{name}': {family}_Nd has no per-state form (forms: {FORMS})")
    who = display or "some state"
    columns = {
        "answer": ["answer_day"],
        "strike": [f"strike_day_{s}" for s in ([state] if state else states)],
        "forces": [f"forces_day_{s}" for s in ([state] if state else states)],
        "war": ["war_day"],
        "ceasefire": ["ceasefire_day"],
        "calm": ["calm_day"],
    }[family]
    labels = {
        "answer": f"P(the state struck first answers with a strike within {limit} days)",
        "strike": f"P({who} strikes across the border within {limit} days)",
        "forces": f"P({who} strikes another state's forces within {limit} days)",
        "war": f"P(war within {limit} days)",
        "ceasefire": f"P(a ceasefire within {limit} days)",
        "calm": f"P(back to baseline within {limit} days)",
    }
    definition = " or ".join(f"{c} <= {limit}" for c in columns)
    return Outcome(
        name,
        labels[family],
        "probability",
        definition,
        lambda runs: _within(runs, columns, limit),
        tuple(columns),
    )


def _sustained(states: Sequence[str]) -> Outcome:
    columns = [f"strike_day_{s}" for s in states]

    def value(runs: pd.DataFrame) -> np.ndarray:
        struck = np.stack([~np.isnan(_days(runs, c)) for c in columns]).sum(axis=0)
        return (struck >= 2) & (runs["strike_days"].to_numpy() >= 3)

    return Outcome(
        "sustained",
        SUSTAINED_LABEL,
        "probability",
        "at least two states strike, and strike_days >= 3",
        value,
    )


def _ever(
    name: str, label: str, column: str, images: tuple[str, ...] = ()
) -> Callable[[Sequence[str]], Outcome]:
    def make(states: Sequence[str]) -> Outcome:
        return Outcome(
            name,
            label,
            "probability",
            f"{column} is not empty",
            lambda runs: ~np.isnan(_days(runs, column)),
            days=(column,),
            images=images,
        )

    return make


OFFERS = (
    "mechanisms.third_parties",
    "third_parties.*.mediation",
    "third_parties.*.mediation.parties",
    "third_parties.*.mediation.trigger_rung",
)
"""The keys that decide whether talks are offered at all: a mediator, whom it offers talks to
and when (a third party added or removed differs in all of them)."""

_PLAIN: dict[str, Callable[[Sequence[str]], Outcome]] = {
    "sustained": _sustained,
    "war": _ever("war", "P(war by the horizon)", "war_day"),
    "restrike": _ever(
        "restrike",
        "P(the state that opened the crisis strikes again after the answer)",
        "restrike_day",
    ),
    "offered": _ever("offered", "P(talks are offered)", "offered_day", OFFERS),
    "accepted": _ever(
        "accepted",
        "P(talks are accepted by all their parties)",
        "accepted_day",
        (*OFFERS, "actors.*.mediation*"),
    ),
    "days_to_calm": lambda states: Outcome(
        "days_to_calm",
        "Days until back to baseline",
        "days",
        "calm_day (empty: not within the horizon)",
        lambda runs: _days(runs, "calm_day"),
    ),
}


def standard(horizon: int, states: Sequence[str], war: int, opened: bool = True) -> list[Outcome]:
    """The outcomes a summary and a comparison report, in order (``answer_7d`` and
    ``restrike`` only for a crisis opened by a strike or an attack before day 1)."""
    week = min(7, horizon)
    names: list[str | None] = [f"answer_{week}d" if opened else None, f"strike_{week}d"]
    names += [f"forces_{week}d"]
    if horizon >= 30:
        names += ["strike_30d", "forces_30d"]
    names += ["sustained", "war", "restrike" if opened else None, "accepted"]
    names += ["ceasefire_14d", "calm_14d"] if horizon >= 14 else []
    names += ["days_to_calm"]
    return [outcome(n, horizon, war, states) for n in names if n is not None]


SUSTAINED_LABEL = "P(both sides strike, on three or more days in all)"
"""The words of ``sustained``: not "a sustained exchange", which reads like the default ladder's
rung 6 ("sustained exchange of fire"), a different thing (sim.views.text.reads_alike)."""

CURVES = ("answer", "forces", "calm", "war")
"""What a class asks day by day: the state struck first answers with a strike; some state strikes
another state's forces; back to baseline; war (each ``<name>_Nd`` of the catalogue, for every
day N)."""


def curve_outcomes(
    horizon: int,
    war: int,
    states: Sequence[str],
    opened: bool = True,
    names: Mapping[str, str] | None = None,
) -> list[Outcome]:
    """The outcomes of ``CURVES`` by the horizon, each with the day columns that say when it
    happened (``answer`` only for a crisis opened by a strike or an attack before day 1: with no
    state struck first, no run could show it)."""
    return [
        outcome(f"{name}_{horizon}d", horizon, war, states, names)
        for name in CURVES
        if name != "answer" or opened
    ]


def by_that_day(label: str) -> str:
    """An outcome's label for a curve over days: 'P(war within 60 days)' -> 'P(war by that day)'."""
    return re.sub(r" (within \d+ days?|by day \d+|by the horizon)\)$", " by that day)", label)


def curve_name(name: str) -> str:
    """A curve's name, the outcome's without its deadline: 'answer_60d' -> 'answer'."""
    return re.sub(r"_\d+d(?=_|$)", "", name)


def for_scenario(scenario: Scenario) -> list[Outcome]:
    """The standard outcomes of a scenario, then each state's strikes (who struck?)."""
    from sim.model.model import opening

    states = list(scenario.actors)
    horizon, war = scenario.horizon, scenario.ladder.war
    opened = opening(scenario)[1] is not None
    names = {state: config.name for state, config in scenario.actors.items()}
    return standard(horizon, states, war, opened) + per_state(horizon, states, war, names)


def per_state(
    horizon: int, states: Sequence[str], war: int, names: Mapping[str, str] | None = None
) -> list[Outcome]:
    """Who struck: each state's strikes and strikes on forces within a month (or the horizon)."""
    days = min(30, horizon)
    return [
        outcome(f"{family}_{days}d_{state}", horizon, war, states, names)
        for state in states
        for family in ("strike", "forces")
    ]


def differing_keys(a: Mapping[str, object], b: Mapping[str, object]) -> list[str]:
    """The key paths in which two resolved scenarios (``Scenario.model_dump(mode="json")``, or
    the ``scenario`` of ``metadata.json``) differ: a key in one only, or with other values. A
    list (the events) is one value."""
    flat_a, flat_b = _flat(a), _flat(b)
    return sorted(
        key
        for key in flat_a.keys() | flat_b.keys()
        if key not in ("name", "description")
        and flat_a.get(key, _MISSING) != flat_b.get(key, _MISSING)
    )


_MISSING = object()


def _flat(mapping: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flat(value, path + "."))
        else:
            flat[path] = value
    return flat


def by_construction(outcome: Outcome, differing: Sequence[str]) -> str | None:
    """The first of the ``differing`` keys of which ``outcome`` is the direct image (one of
    its ``images``), or None: then a difference in it is a finding. The rule: an outcome that
    counts the very act a parameter sets (talks accepted, when the states' answer to talks is
    what the scenarios differ in) differs by construction, not as a result of the crisis."""
    import fnmatch

    for key in differing:
        if any(fnmatch.fnmatchcase(key, pattern) for pattern in outcome.images):
            return key
    return None


def construction_keys(
    comparison: pd.DataFrame, scenarios: Mapping[str, Mapping[str, object]]
) -> list[str | None]:
    """For each row of a comparison table (``compare_runs``), the differing key that makes
    its difference true by construction (:func:`by_construction`), or None.

    ``scenarios``: each compared scenario's resolved mapping, by name. A row whose scenarios
    or outcome are not known is never left out.
    """
    found: list[str | None] = []
    cache: dict[tuple[str, str], list[str]] = {}
    for row in comparison.to_dict("records"):
        pair = (str(row["scenario"]), str(row["reference"]))
        a, b = scenarios.get(pair[0]), scenarios.get(pair[1])
        if a is None or b is None:
            found.append(None)
            continue
        if pair not in cache:
            cache[pair] = differing_keys(a, b)
        try:
            named = _from_mapping(str(row["outcome"]), b)
        except (KeyError, TypeError, ValueError):
            found.append(None)
            continue
        found.append(by_construction(named, cache[pair]))
    return found


def _from_mapping(name: str, scenario: Mapping[str, object]) -> Outcome:
    actors = scenario["actors"]
    ladder = scenario["ladder"]
    assert isinstance(actors, Mapping) and isinstance(ladder, Mapping)
    war = len(ladder["rungs"]) - 1
    return outcome(name, int(scenario["horizon"]), war, list(actors))  # type: ignore[call-overload]


TRAJECTORY_CLASSES = (
    "no_answer",
    "non_kinetic_only",
    "one_exchange",
    "repeated_agreement",
    "repeated_no_agreement",
    "war",
)
"""The ordered trajectory classes of a crisis, mildest first (docs/results.md#backtest)."""


MEASURE_RUNG = 2
"""The lowest rung that is a measure rather than words: a diplomatic downgrade on the library's
ladder (docs/cases/README.md, rule 2); a protest alone is no answer."""


def trajectory(
    runs: pd.DataFrame, states: Sequence[str], struck: str | None, *, mutual: bool = False
) -> np.ndarray:
    """Each run's trajectory class, as an index into ``TRAJECTORY_CLASSES``; the first rule that
    holds decides:

    5 ``war``: ``war_day`` is not empty;
    3/4 ``repeated_*``: the outcome ``sustained`` (two or more states strike, ``strike_days`` >= 3),
    ``repeated_agreement`` if a ceasefire was agreed (``ceasefire_day`` not empty), else
    ``repeated_no_agreement``;
    2 ``one_exchange``: the state struck first answered with a strike (``answer_day`` not
    empty; with no state struck first, ``struck`` None: any state struck, a ``strike_day_*``);
    1 ``non_kinetic_only``: the state struck first made a hostile act below the strike rung
    but above a protest (``highest_act_<struck>`` >= ``MEASURE_RUNG``: a downgrade or a show
    of force; with no state struck first, any state), as the coding rule counts a measure;
    0 ``no_answer``: none of these.

    In a ``mutual`` opening both sides fired on day 0, so the class is at least
    ``one_exchange`` (the coding rule's reading, docs/cases/README.md).
    """
    n = len(runs)

    def present(column: str) -> np.ndarray:
        return ~np.isnan(_days(runs, column))

    if struck is None:
        kinetic = np.zeros(n, dtype=bool)
        for s in states:
            kinetic |= present(f"strike_day_{s}")
        acted = np.zeros(n, dtype=bool)
        for s in states:
            acted |= runs[f"highest_act_{s}"].to_numpy() >= MEASURE_RUNG
    else:
        kinetic = present("answer_day")
        acted = runs[f"highest_act_{struck}"].to_numpy() >= MEASURE_RUNG
    sustained = _sustained(states).per_run(runs)
    classes = np.zeros(n, dtype=int)
    classes[acted] = 1
    classes[kinetic] = 2
    classes[sustained] = np.where(present("ceasefire_day")[sustained], 3, 4)
    classes[present("war_day")] = 5
    if mutual:
        np.maximum(classes, 2, out=classes)
    return classes
