"""One run told day by day in plain words, with the reasons of every decision.

The run's seed is the same number that ``runs.csv`` lists for each run of an ensemble, so any run
of an ensemble replays exactly and can be told: ``python run.py story SCENARIO --seed SEED`` (or
``story --from RESULTS --run N``).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from itertools import groupby

import pandas as pd

from sim.inputs import arguments
from sim.inputs.arguments import SEED_MAX, whole
from sim.model import uncertainty
from sim.model.model import EscalationModel
from sim.model.record import Choice, Event
from sim.model.scenario import Scenario

LANES = {
    "attack": "armed groups",
    "offer": "mediation",
    "accept": "mediation",
    "refuse": "mediation",
    "agreement": "mediation",
    "act": "states",
    "strike": "states",
    "conciliate": "states",
    "war": "states",
}
"""Events a story figure marks, and the lane each is drawn in; the rest stay in the words only."""

FIGURE_HISTORY_DAYS = 3
"""A story figure shows the events of this many days before day 0 (the words show them all)."""


def run_story(scenario: Scenario | str | os.PathLike[str], seed: int) -> EscalationModel:
    """Run one world with this seed, keeping every event and reason, and return the model
    (with the numbers of the run's parameter set, when some are uncertain). ``scenario`` is a
    Scenario or a scenario file's path, as for ``run_ensemble``."""
    scenario = arguments.scenario("scenario", scenario, "run_story")
    seed = whole("seed", seed, 0, SEED_MAX)
    concrete, _ = uncertainty.for_seed(scenario, seed)
    model = EscalationModel(concrete, seed, record=True)
    model.run()
    return model


def day_label(scenario: Scenario, day: int) -> str:
    """'Day 2 (Thu 18 Jan)' when the scenario has a start date, else 'Day 2'."""
    if scenario.start_date is None:
        return f"Day {day}"
    try:
        date = scenario.start_date + datetime.timedelta(days=day)
    except OverflowError:
        return f"Day {day}"
    return f"Day {day} ({date:%a %d %b})"


def names_of(model: EscalationModel) -> dict[str, str]:
    """Every actor's display name by id."""
    return {
        **{actor_id: state.name for actor_id, state in model.states.items()},
        **{group_id: group.name for group_id, group in model.groups.items()},
        **{party_id: party.name for party_id, party in model.third_parties.items()},
    }


def _term_phrase(term: str, names: dict[str, str], event: Event, choice: Choice) -> str:
    """A few words naming one term of a decision, for the reasons."""
    other = names.get(event.target or "", event.target or "the adversary")
    if term.startswith("pressure:"):
        return f"{term.split(':', 1)[1]}'s pressure"
    review = choice.kind == "review"
    phrases = {
        "resolve": "standing firm" if review else "restoring deterrence",
        "cost": "the cost",
        "relief": "relief from the cost of standing firm",
        "pressure": "third parties' pressure",
        "protection": f"third parties' protection of {other}",
        "risk": f"the risk of {other}'s answer",
        "commitment": "its public pledge",
        "nuclear": "the nuclear shadow",
        "talks": "the talks under way",
        "ceasefire": "the ceasefire",
        "reciprocity": f"answering {other}'s conciliatory step",
        "crackdown": "the domestic cost of a crackdown",
        "ripeness": "both sides hurting",
        "alignment": "its ties with the mediator",
        "held_back": "the answer the talks would hold back",
    }
    return phrases.get(term, term)


def _listed(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _shown_terms(terms: dict[str, float]) -> dict[str, float]:
    """The terms worth naming: third parties' pressure by name where the parts are known."""
    parts = {k: v for k, v in terms.items() if k.startswith("pressure:")}
    shown = {k: v for k, v in terms.items() if not k.startswith("pressure:")}
    if parts:
        shown.pop("pressure", None)
        shown.update(parts)
    return {k: v for k, v in shown.items() if abs(v) >= 0.005}


def weighed_terms(
    terms: dict[str, float], names: dict[str, str], event: Event, choice: Choice
) -> list[tuple[str, float]]:
    """The terms of one option worth naming, as (phrase, value), the weightiest first: what the
    story's reasons and the dashboard's bars both show."""
    shown = sorted(_shown_terms(terms).items(), key=lambda kv: -abs(kv[1]))
    return [(_term_phrase(k, names, event, choice), v) for k, v in shown]


def _weighed(
    terms: dict[str, float], names: dict[str, str], event: Event, choice: Choice
) -> tuple[str, str]:
    """'restoring deterrence (+0.82)' for what speaks for, and against, an option."""
    shown = weighed_terms(terms, names, event, choice)
    pros = [f"{phrase} ({v:+.2f})" for phrase, v in shown if v > 0]
    cons = [f"{phrase} ({v:+.2f})" for phrase, v in shown if v < 0]
    return _listed(pros), _listed(cons)


def reason(event: Event, names: dict[str, str]) -> str:
    """Why a decision went as it did, from its recorded terms (empty for events without one)."""
    choice = event.choice
    if choice is None:
        return ""
    if choice.kind == "mediation":
        pros, cons = _weighed(choice.terms[1], names, event, choice)
        gain = choice.utility[1]
        verdict = "worth more than refusing" if gain > 0 else "worth less than refusing"
        parts = [f"talks were {verdict} ({gain:+.2f})"]
        if pros:
            parts.append(f"for: {pros}")
        if cons:
            parts.append(f"against: {cons}")
        return "; ".join(parts)
    if choice.rule:
        return f"by the rule of its persona, {choice.rule}"
    chosen = choice.chosen
    ranked = sorted(
        (o for o in range(len(choice.labels)) if choice.terms[o] and o != chosen),
        key=lambda o: -choice.utility[o],
    )
    chance = _chance(choice.probability[chosen]) if choice.probability else ""
    lines = []
    if chosen == 0:
        if not ranked:
            return f"it had no other option ({chance})"
        best = ranked[0]
        pros, cons = _weighed(choice.terms[best], names, event, choice)
        lines.append(
            f"no act scored above none ({chance}); the best, '{choice.labels[best]}' "
            f"({choice.utility[best]:+.2f}), had for it {pros or 'nothing'} and against it "
            f"{cons or 'nothing'}"
        )
    else:
        pros, cons = _weighed(choice.terms[chosen], names, event, choice)
        parts = [f"for: {pros}" if pros else "", f"against: {cons}" if cons else ""]
        lines.append(
            "; ".join(p for p in parts if p) + f" (in all {choice.utility[chosen]:+.2f}, {chance})"
        )
        if ranked:
            best = ranked[0]
            shown = weighed_terms(choice.terms[best], names, event, choice)
            main = [f"{phrase} ({v:+.2f})" for phrase, v in shown[:3]]
            # the choice is noisy: the option taken is not always the one that scored best
            which = (
                "best, not taken" if choice.utility[best] > choice.utility[chosen] else "next best"
            )
            lines.append(
                f"{which}, '{choice.labels[best]}' ({choice.utility[best]:+.2f})"
                + (f": {_listed(main)}" if main else "")
            )
    return "; ".join(lines)


def _chance(probability: float) -> str:
    if 0 < probability < 0.01:
        return "chance under 1%"
    if 0.99 < probability < 1:
        return "chance over 99%"
    return f"chance {probability:.0%}"


def tell(model: EscalationModel, seed: int | None = None, world: int = 0) -> str:
    """The story of a finished run: each day something happened, why, then the outcome."""
    scenario, ladder = model.config, model.ladder
    names = names_of(model)
    states = list(model.states)
    history = model.rung_history(world)
    start = f", day 0 = {scenario.start_date:%d %B %Y}" if scenario.start_date else ""
    seed_text = f" (seed {seed})" if seed is not None else ""
    lines = [f"{scenario.name} — one run{seed_text}{start}", ""]
    held: set[tuple[str, str | None]] = set()
    for day, events in groupby(model.events[world], key=lambda event: event.day):
        shown = []
        for event in events:
            # a posture held day after day is told once, until something changes
            key = (event.actor, event.target)
            if event.kind == "hold":
                if key in held:
                    continue
                held.add(key)
            else:
                held.discard(key)
            shown.append(event)
        if not shown:
            continue
        if day >= 0:
            standing = history[day]
            postures = ", ".join(f"{names[a]} {standing[a]}" for a in states)
            lines.append(f"{day_label(scenario, day)}  [postures: {postures}]")
        else:
            lines.append(f"{day_label(scenario, day)}  [before the run]")
        for event in shown:
            lines.append(f"    {event.text}.")
            why = reason(event, names)
            if why:
                lines.append(f"        why: {why}.")
    crisis = [max(day.values()) for day in history]
    highest = max(crisis)
    calm_days = model.tally.calm_day[world]
    final = ", ".join(f"{names[a]} at '{ladder.name(r)}'" for a, r in history[-1].items())
    lines += [
        "",
        f"Highest rung reached: {highest} ({ladder.name(highest)}).",
        (
            f"Back to baseline on {day_label(scenario, int(calm_days))}."
            if calm_days >= 1
            else f"Not back to baseline within {scenario.horizon} days."
        ),
        f"After {scenario.horizon} days: {final}.",
    ]
    in_force = [
        f"{names[a]}'s against {names[b]}"
        for a, agent in model.states.items()
        for b in agent.adversaries
        if agent.measures[b][world]
    ]
    if in_force:  # why postures at the baseline are not yet calm (mechanism sticky_measures)
        lines.append(f"Measures still in force (envoys, borders, trade): {', '.join(in_force)}.")
    return "\n".join(lines)


@dataclass(frozen=True)
class StoryTables:
    """One run as two tidy tables: each state's posture on each day, and the events marked.

    ``rungs`` has columns day, actor, state, rung (one row per state and day, day 0 to the
    horizon). ``events`` has columns day, kind, actor, name, target, rung, lane, label, text:
    the events a timeline marks (attacks, acts and strikes, steps down, offers, acceptances,
    refusals, agreements and war, from ``FIGURE_HISTORY_DAYS`` before day 0), in order.
    """

    scenario: str
    seed: int | None
    start_date: str | None
    rung_names: tuple[str, ...]
    rungs: pd.DataFrame
    events: pd.DataFrame


def _label(kind: str, name: str, target: str | None, rung: int | None, strike_rung: int) -> str:
    """A few words for the figure: the story itself has the full sentence."""
    match kind:
        case "attack":
            return f"{name} attack"
        case "offer":
            return f"{name} offers talks"
        case "accept":
            return f"talks by {name} begin"
        case "refuse":
            return f"{name} refuses talks"
        case "agreement":
            return f"ceasefire ({name})"
        case "war":
            return f"war: {name}–{target}"
        case "conciliate":
            return f"{name} steps down to {rung}"
        case _ if rung is not None and rung >= strike_rung:
            return f"{name} strikes ({rung})"
        case _:
            return f"{name} to {rung}"


def story_tables(model: EscalationModel, seed: int | None = None, world: int = 0) -> StoryTables:
    """The tables behind a story figure, from a finished run (``run_story``)."""
    names = names_of(model)
    rungs = pd.DataFrame(
        [
            {"day": day, "actor": actor_id, "state": names[actor_id], "rung": rung}
            for day, standing in enumerate(model.rung_history(world))
            for actor_id, rung in standing.items()
        ],
        columns=["day", "actor", "state", "rung"],
    )
    events = pd.DataFrame(
        [
            {
                "day": event.day,
                "kind": event.kind,
                "actor": event.actor,
                "name": names[event.actor],
                "target": event.target,
                "rung": event.rung,
                "lane": LANES[event.kind],
                "label": _label(
                    event.kind,
                    names[event.actor],
                    names.get(event.target or "", event.target),
                    event.rung,
                    model.ladder.strike_rung,
                ),
                "text": event.text,
            }
            for event in model.events[world]
            if event.kind in LANES and event.day >= -FIGURE_HISTORY_DAYS
        ],
        columns=["day", "kind", "actor", "name", "target", "rung", "lane", "label", "text"],
    ).astype({"rung": "Int64"})
    scenario = model.config
    return StoryTables(
        scenario=scenario.name,
        seed=seed,
        start_date=scenario.start_date.isoformat() if scenario.start_date else None,
        rung_names=tuple(rung.name for rung in scenario.ladder.rungs),
        rungs=rungs,
        events=events,
    )
