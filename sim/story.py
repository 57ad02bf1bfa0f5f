"""One run told day by day in plain words, for a class that wants to see a crisis unfold.

The run's seed is the same number that ``runs.csv`` lists for each run of an ensemble, so any run
of an ensemble can be replayed and told: ``python run.py story SCENARIO --seed SEED``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model import EscalationModel
from sim.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LANES = {
    "attack": "armed groups",
    "offer": "mediation",
    "accept": "mediation",
    "refuse": "mediation",
    "initial": "states",
    "climb": "states",
    "strike": "states",
    "war": "states",
}
"""Events a story figure marks, and the lane each is drawn in; the rest stay in the words only."""


def run_story(scenario: Scenario, seed: int) -> EscalationModel:
    """Run one replication with the generator ``default_rng(seed)`` and return the finished model."""
    model = EscalationModel(scenario, rng=np.random.default_rng(seed))
    model.run()
    return model


def day_label(scenario: Scenario, day: int) -> str:
    """'Day 2 (Thu 18 Jan)' when the scenario has a start date, else 'Day 2'."""
    if scenario.start_date is None:
        return f"Day {day}"
    date = scenario.start_date + datetime.timedelta(days=day)
    return f"Day {day} ({date:%a %d %b})"


def tell(model: EscalationModel, seed: int) -> str:
    """The story of a finished run: each day something happened, then the outcome."""
    scenario, ladder = model.config, model.ladder
    names = {actor_id: state.name for actor_id, state in model.states.items()}
    history = model.rung_history
    start = f", day 0 = {scenario.start_date:%d %B %Y}" if scenario.start_date else ""
    lines = [f"{scenario.name} — one run (seed {seed}){start}", ""]
    for day, events in groupby(model.events, key=lambda event: event.day):
        rungs = history[max(day, 0)]
        standing = ", ".join(f"{names[a]} {rungs[a]}" for a in names)
        lines.append(f"{day_label(scenario, day)}  [rungs: {standing}]")
        lines.extend(f"    {event.text}." for event in events)
    crisis = [max(day.values()) for day in history]
    highest = max(crisis)
    calm_day = next((day for day in range(1, len(crisis)) if crisis[day] == 0), None)
    final = ", ".join(f"{names[a]} at '{ladder.name(r)}'" for a, r in history[-1].items())
    lines += [
        "",
        f"Highest rung reached: {highest} ({ladder.name(highest)}).",
        (
            f"Back to normal relations on {day_label(scenario, calm_day)}."
            if calm_day is not None
            else f"Not back to normal relations within {scenario.horizon} days."
        ),
        f"After {scenario.horizon} days: {final}.",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class StoryTables:
    """One run as two tidy tables: each state's rung on each day, and the events marked on them.

    ``rungs`` has columns day, actor, state, rung (one row per state and day, day 0 to the
    horizon). ``events`` has columns day, kind, actor, name, target, rung, lane, label, text:
    the events a timeline marks (attacks, climbs and strikes, offers, acceptances, refusals, war
    and the acts before day 0), in the order they happened.
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
            return f"talks by {name} accepted"
        case "refuse":
            return f"{name} refuses talks"
        case "war":
            return f"war: {name}–{target}"
        case _ if rung is not None and rung >= strike_rung:
            return f"{name} strikes ({rung})"
        case _:
            return f"{name} climbs to {rung}"


def story_tables(model: EscalationModel, seed: int | None = None) -> StoryTables:
    """The tables behind a story figure, from a finished run (``run_story``)."""
    names = {
        **{actor_id: state.name for actor_id, state in model.states.items()},
        **{group_id: group.name for group_id, group in model.armed_groups.items()},
        **{mediator_id: mediator.name for mediator_id, mediator in model.mediators.items()},
    }
    rungs = pd.DataFrame(
        [
            {"day": day, "actor": actor_id, "state": names[actor_id], "rung": rung}
            for day, standing in enumerate(model.rung_history)
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
            for event in model.events
            if event.kind in LANES
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


def story_figure(model: EscalationModel, seed: int | None = None) -> Figure:
    """One run as a timeline for a slide: ``plotting.story_timeline`` of ``story_tables``.

    Matplotlib is imported here, not with the package, so that ``import sim`` stays quick.
    """
    from sim import plotting

    return plotting.story_timeline(story_tables(model, seed))
