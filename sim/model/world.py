"""What the agents see of the model: the shared state of the worlds and the views they ask for.

The agents (``states``, ``groups``, ``third_parties``) own the rules; the model
(``sim.model.model``) owns the order of the day. An agent reaches the others and the shared
state through ``World``, a typing interface the model satisfies, so the agent modules never
import the model: every import points down, and no import closes a circle.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from sim.model.decisions import DecisionWeights
from sim.model.ladder import Ladder
from sim.model.record import Acts, Choice, Tally
from sim.model.scenario import Scenario
from sim.model.streams import Streams

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Rows = NDArray[np.intp]

NEVER = -1
"""A clock or day that has not come (nothing due, never happened)."""


class PairState:
    """Per world, what two states in crisis share: war, an agreed ceasefire, today's acts, an
    engagement of their forces."""

    def __init__(self, worlds: int) -> None:
        self.at_war = np.zeros(worlds, dtype=bool)
        self.ceasefire = np.zeros(worlds, dtype=bool)
        self.acted_today = np.zeros(worlds, dtype=np.int64)
        self.engaged = np.zeros(worlds, dtype=bool)
        """Forces in contact exchanging fire day after day (mechanism ``operations``)."""
        self.truce = np.zeros(worlds, dtype=bool)
        """The ceasefire in force (if any) was agreed by the two alone (mechanism
        ``direct_talks``): it stops the fire but settles nothing else, so it lifts no measures."""


class World[S, G, P](Protocol):
    """The model as its agents see it: ``S``, ``G`` and ``P`` are the agent classes of states,
    armed groups and third parties (each agent module names its own, and leaves the others
    open rather than import them)."""

    config: Scenario
    ladder: Ladder
    record: bool
    streams: Streams
    worlds: int
    rounds: int
    first_clock: int
    day: int
    round: int
    rationality: float
    weights: DecisionWeights
    tally: Tally
    states: dict[str, S]
    groups: dict[str, G]
    group_list: list[G]
    third_parties: dict[str, P]

    @property
    def clock(self) -> int: ...

    def pair(self, a: str, b: str) -> PairState: ...

    def at_war_between(self, a: str, b: str) -> BoolArray: ...

    def crisis_of(self, state: str) -> IntArray: ...

    def postures_changed(self) -> None: ...

    def calming(self, state: str) -> BoolArray: ...

    def pressure_on(
        self, state: str, other: str, rows: Rows, *, parts: bool = True
    ) -> tuple[FloatArray, dict[str, FloatArray]]: ...

    def protection_of(self, protected: str, attacker: str, rows: Rows) -> FloatArray: ...

    def talks_between(self, a: str, b: str, rows: Rows) -> tuple[FloatArray, FloatArray]: ...

    def log_each(
        self, rows: Rows, kind: str, actor: str, target: str | None, rung: int | None, text: str
    ) -> None: ...

    def log(
        self,
        world: int,
        kind: str,
        actor: str,
        target: str | None,
        rung: int | None,
        text: str,
        choice: Choice | None = None,
        **details: object,
    ) -> None: ...

    def enqueue(self, acts: Acts) -> None: ...
