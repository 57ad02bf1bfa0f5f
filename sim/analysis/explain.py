"""What started the climb: the runs that reached a rung, replayed and sorted by cause.

Every run of a saved ensemble replays exactly from its seed, with every event and the terms of
every decision, so the runs that climbed can be read after the fact. For each one, the *climb* is
the first act at or above the chosen rung (by default the first strike on state forces), and
the cause is read from the decision that made it and the events before it, by these rules, the
first that applies:

0. ``operation`` or ``engagement``: the act was a day of fighting that goes on (model 3): an
   operation its author opened earlier and carried on, or the fire of forces in contact in an
   engagement; no decision of that day made it;
1. ``spoiler``: the climbing state answered an armed-group attack it blamed on the adversary
   while talks or a ceasefire between the two were under way (a spoiler broke the calm);
2. ``blamed attack``: it answered an armed-group attack it blamed on the adversary;
3. ``misread act``: it had read the act it answered as graver than it was;
4. ``scripted rule``: the state follows a scripted persona (``tit_for_tat``...), whose rule
   made the act: it weighed no terms;
5. ``commitment``: its best option was at the rung or above only because of the audience cost
   of backing down from a public pledge (a commitment that could not be dropped);
6. ``chance``: its best option was below the rung, and the noise of its choice took it higher
   (the error term of a quantal-response choice);
7. ``refused talks``: talks had been offered and refused, none between the two were under way,
   and the climb came after the refusal;
8. ``deliberate escalation``: its best option was above the level it received (resolve, and the
   belief that the adversary would not answer in force);
9. ``answer in kind``: its best option matched the level it received (the other side had climbed
   first in a way the rules above do not name, e.g. an act before the run).

Whether talks or a ceasefire were under way is what the model kept at the time, written into
each recorded event's ``details`` (``EscalationModel.log``), not rebuilt from the event log.
``docs/results.md`` states the rules; ``tests/analysis/test_explain.py`` checks them on scripted
runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.statistics import wilson_interval
from sim.model import uncertainty
from sim.model.model import EscalationModel
from sim.model.record import Event
from sim.model.scenario import Scenario

CAUSES = (
    "operation",
    "engagement",
    "spoiler",
    "blamed attack",
    "misread act",
    "scripted rule",
    "commitment",
    "chance",
    "refused talks",
    "deliberate escalation",
    "answer in kind",
)
HOSTILE = ("strike", "act")
REPLAY_BATCH = 512
"""Runs replayed at once with every event recorded."""


class ExplainError(ValueError):
    """Nothing to explain: a rung never reached, or no run to read."""


@dataclass(frozen=True)
class Climb:
    """The climb of one run: who made it, when, at which rung, and why (one of ``CAUSES``)."""

    run: int
    seed: int
    day: int
    actor: str
    rung: int
    cause: str
    text: str


def default_rung(scenario: Scenario) -> int:
    """The first rung whose act strikes a state's forces or leaders."""
    return scenario.ladder.first_on_state


def _previous_answer(events: Sequence[Event], index: int, actor: str, target: str) -> int:
    """The state's previous answer to ``target``: what came after it is what this act answers
    (a first reaction, such as a recalled envoy, does not close the account)."""
    for back in range(index - 1, -1, -1):
        event = events[back]
        choice = event.choice
        if (
            event.actor == actor
            and event.target == target
            and choice is not None
            and choice.kind == "answer"
        ):
            return back
    return -1


def classify(events: Sequence[Event], index: int) -> str:
    """The cause of the climbing act ``events[index]``, by the rules of the module docstring."""
    climb = events[index]
    fighting = climb.details.get("fighting")
    if fighting in ("operation", "engagement"):
        return str(fighting)
    actor, target = climb.actor, climb.target
    since = events[_previous_answer(events, index, actor, target or "") + 1 : index]
    provocations = [
        e
        for e in since
        if (e.actor == target and e.target == actor and e.kind in HOSTILE)
        or (e.actor == actor and e.target == target and e.kind == "blame")
    ]
    last = provocations[-1] if provocations else None
    if last is not None and last.kind == "blame":
        calm = _calm_at(last)
        return "spoiler" if calm else "blamed attack"
    if any(e.kind == "misperceive" and e.actor == actor and e.target == target for e in since):
        return "misread act"
    choice = climb.choice
    rung = climb.rung or 0
    if choice is not None and choice.rule:
        return "scripted rule"
    if choice is not None:
        utility = np.asarray(choice.utility)
        without = np.array(
            [
                u - terms.get("commitment", 0.0) if terms else -np.inf
                for u, terms in zip(choice.utility, choice.terms, strict=True)
            ]
        )
        best, best_without = int(np.argmax(utility)), int(np.argmax(without))
        if choice.rungs[best] >= rung > choice.rungs[best_without]:
            return "commitment"
        if choice.rungs[best] < rung:
            return "chance"
    refused = [i for i, e in enumerate(events[:index]) if e.kind == "refuse"]
    if refused and not _talks_at(climb):
        return "refused talks"
    received = max((e.rung or 0 for e in provocations), default=0)
    return "deliberate escalation" if (climb.rung or 0) > received else "answer in kind"


def _calm_at(event: Event) -> bool:
    """Whether talks or a ceasefire were under way between the two states of ``event``, as the
    model recorded them (``EscalationModel.log``)."""
    return _talks_at(event) or bool(event.details.get("ceasefire", False))


def _talks_at(event: Event) -> bool:
    return bool(event.details.get("talks", False))


def climbs(scenario: Scenario, seeds: Sequence[int], runs: Sequence[int], rung: int) -> list[Climb]:
    """Replay the runs (by seed) and read the climb of those that reached ``rung``."""
    found = []
    for start in range(0, len(seeds), REPLAY_BATCH):
        batch_seeds = np.asarray(seeds[start : start + REPLAY_BATCH], dtype=np.int64)
        events_of: list[Any] = [None] * batch_seeds.size
        for concrete, rows, _ in uncertainty.resolved(scenario, batch_seeds):
            model = EscalationModel(concrete, batch_seeds[rows], record=True)
            model.run()
            for row, events in zip(rows, model.events, strict=True):
                events_of[row] = events
        for offset, events in enumerate(events_of):
            for index, event in enumerate(events):
                if event.day >= 1 and event.kind in HOSTILE and (event.rung or 0) >= rung:
                    found.append(
                        Climb(
                            run=int(runs[start + offset]),
                            seed=int(batch_seeds[offset]),
                            day=event.day,
                            actor=event.actor,
                            rung=int(event.rung or 0),
                            cause=classify(events, index),
                            text=event.text,
                        )
                    )
                    break
    return found


def summary(found: Sequence[Climb], total: int) -> pd.DataFrame:
    """Each cause's share of the climbs, with its Wilson interval, and of all runs."""
    counts = pd.Series([c.cause for c in found]).value_counts()
    rows = []
    for cause in CAUSES:
        k = int(counts.get(cause, 0))
        low, high = wilson_interval(k, len(found)) if found else (np.nan, np.nan)
        rows.append(
            (cause, k, k / len(found) if found else np.nan, float(low), float(high), k / total)
        )
    return pd.DataFrame(
        rows, columns=["cause", "runs", "share", "ci_low", "ci_high", "share_of_all_runs"]
    )
