"""One run told day by day in plain words, for a class that wants to see a crisis unfold.

The run's seed is the same number that ``runs.csv`` lists for each run of an ensemble, so any run
of an ensemble can be replayed and told: ``python run.py story SCENARIO --seed SEED``.
"""

from __future__ import annotations

import datetime
from itertools import groupby

import numpy as np

from sim.model import EscalationModel
from sim.scenario import Scenario


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
