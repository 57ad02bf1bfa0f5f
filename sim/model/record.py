"""What a batch of runs leaves behind, and what a story shows of each decision.

The model calls a ``Tally`` as things happen (a strike, a pledge, an offer, the end of a day);
``Tally.batch`` turns it into a ``Batch``: one entry per run (first days of this and that,
counts) and the day-by-day number of runs on each rung. The runs table and every named outcome
(``sim.analysis.outcomes``) are computed from a ``Batch``, so a run is counted the same way everywhere.

The record types the agents pass around live here too, beside the tallies they feed: ``Acts``
(a state's acts in some worlds, queued until the round ends), ``Weighing`` (an answer weighed),
and, in a story, ``Event`` and ``Choice`` (what happened, and the reasons of a decision).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np
from numpy.typing import NDArray

from sim.model.decisions import Options

NO_DAY = -1
"""Marks 'never' in day arrays (first strike, back to baseline)."""

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Rows = NDArray[np.intp]


@dataclass(frozen=True)
class Batch:
    """Runs of one scenario, stacked: one entry per run (per state where the name says so).

    Days are the first day (1 or later, 0 for day 0 where it says so) on which something
    happened, ``NO_DAY`` if it never did.
    """

    seeds: IntArray
    """(runs,) each run's seed: ``story --seed`` replays the run."""
    reach_day: IntArray
    """(war + 1, runs) first day (0 included) the crisis stood at rung k or higher: a posture
    at the day's end, or an act during it."""
    strike_day: IntArray
    """(states, runs) first day the state made a strike (an act at or above the strike rung)."""
    forces_day: IntArray
    """(states, runs) first day the state struck another state's forces or leaders."""
    highest_act: IntArray
    """(states, runs) highest rung of the state's acts from day 1 (0: none)."""
    final_posture: IntArray
    """(states, runs) the state's highest posture towards any adversary at the horizon."""
    answer_day: IntArray
    """(runs,) first day the state struck first (before day 1) made a strike of its own."""
    strike_days: IntArray
    """(runs,) number of days with at least one strike."""
    restrike_day: IntArray
    """(runs,) first day the state that opened the crisis struck again after the answer."""
    war_day: IntArray
    calm_day: IntArray
    """(runs,) first day every pair stood back at its baseline with nothing left to answer."""
    offered_day: IntArray
    accepted_day: IntArray
    ceasefire_day: IntArray
    pledges: IntArray
    """(states, runs) public pledges made, those of the history before day 0 included."""
    backed_down: IntArray
    """(states, runs) pledges not carried out."""
    attacks: IntArray
    """(groups, runs) armed-group attacks."""
    blamed: IntArray
    """(states, runs) attacks the state blamed on another state."""
    misread_up: IntArray
    """(runs,) acts read as graver than they were."""
    occupancy: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    """(horizon + 1, war + 1) number of runs whose crisis posture stood on each rung, by day."""
    parameter_set: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """(runs,) each run's parameter set when the scenario has uncertain numbers, else empty."""

    @property
    def runs(self) -> int:
        return int(self.seeds.shape[0])

    @staticmethod
    def concatenate(batches: Sequence[Batch]) -> Batch:
        """Runs of several batches in order; occupancy counts add up."""
        merged = {}
        for item in fields(Batch):
            values = [getattr(b, item.name) for b in batches]
            if item.name == "occupancy":
                merged[item.name] = np.sum(values, axis=0)
            else:
                merged[item.name] = np.concatenate(values, axis=-1)
        return Batch(**merged)

    def take(self, order: NDArray[np.intp]) -> Batch:
        """The runs in the order ``order`` (occupancy counts are the same in any order)."""
        values = {}
        for item in fields(Batch):
            value = getattr(self, item.name)
            keep = item.name == "occupancy" or value.shape[-1] == 0
            values[item.name] = value if keep else value[..., order]
        return Batch(**values)


class Tally:
    """Keeps each world's record while the model runs (see ``Batch`` for what is kept)."""

    def __init__(
        self,
        worlds: int,
        states: int,
        groups: int,
        horizon: int,
        war: int,
        opening: tuple[int | None, int | None],
    ) -> None:
        def never(*shape: int) -> IntArray:
            return np.full(shape, NO_DAY, dtype=np.int64)

        def zeros(*shape: int) -> IntArray:
            return np.zeros(shape, dtype=np.int64)

        self.reach_day = never(war + 1, worlds)
        self.strike_day = never(states, worlds)
        self.forces_day = never(states, worlds)
        self.highest_act = zeros(states, worlds)
        self.strike_clock = never(states, worlds)
        self.strike_days = zeros(worlds)
        self.restrike_day = never(worlds)
        self.war_day = never(worlds)
        self.calm_day = never(worlds)
        self.offered_day = never(worlds)
        self.accepted_day = never(worlds)
        self.ceasefire_day = never(worlds)
        self.pledges = zeros(states, worlds)
        self.backed = zeros(states, worlds)
        self.attacks = zeros(groups, worlds)
        self.blamed_count = zeros(states, worlds)
        self.misread_up = zeros(worlds)
        self.occupancy = zeros(horizon + 1, war + 1)
        self.struck_today = np.zeros(worlds, dtype=bool)
        self.opener, self.struck = opening
        self.day = 0
        self.clock = 0

    @staticmethod
    def _first(days: IntArray, rows: NDArray[np.intp], day: int) -> None:
        current = days[rows]
        days[rows] = np.where(current == NO_DAY, day, current)

    def acted(
        self,
        actor: int,
        rows: NDArray[np.intp],
        rung: IntArray,
        on_state: NDArray[np.bool_],
        strike: NDArray[np.bool_],
    ) -> None:
        """A state acted in ``rows``: the crisis has reached the act's rung that day (even if a
        ceasefire steps it down before night); from day 1, its highest act, strikes and days."""
        if not rows.size:
            return
        rungs = np.arange(self.reach_day.shape[0])[:, None]
        first = (rung[None, :] >= rungs) & (self.reach_day[:, rows] == NO_DAY)
        reached = self.reach_day[:, rows]
        reached[first] = max(self.day, 0)
        self.reach_day[:, rows] = reached
        if self.day < 1:
            return
        self.highest_act[actor, rows] = np.maximum(self.highest_act[actor, rows], rung)
        hits = rows[strike]
        self._first(self.strike_day[actor], hits, self.day)
        self._first(self.forces_day[actor], rows[strike & on_state], self.day)
        self.struck_today[hits] = True
        if self.struck is not None and actor == self.opener:
            answered = self.strike_clock[self.struck, hits]
            again = hits[(answered != NO_DAY) & (answered < self.clock)]
            self._first(self.restrike_day, again, self.day)
        current = self.strike_clock[actor, hits]
        self.strike_clock[actor, hits] = np.where(current == NO_DAY, self.clock, current)

    def went_to_war(self, rows: NDArray[np.intp]) -> None:
        self._first(self.war_day, rows, max(self.day, 0))

    def pledged(self, state: int, rows: NDArray[np.intp]) -> None:
        # every pledge counts, one carried in from the history too: each can be backed down from
        self.pledges[state, rows] += 1

    def backed_down(self, state: int, rows: NDArray[np.intp]) -> None:
        self.backed[state, rows] += 1

    def attacked(self, group: int, rows: NDArray[np.intp]) -> None:
        if self.day >= 1:
            self.attacks[group, rows] += 1

    def blamed(self, state: int, rows: NDArray[np.intp]) -> None:
        if self.day >= 1:
            self.blamed_count[state, rows] += 1

    def misread(self, rows: NDArray[np.intp]) -> None:
        self.misread_up[rows] += 1

    def offered(self, rows: NDArray[np.intp]) -> None:
        self._first(self.offered_day, rows, self.day)

    def accepted(self, rows: NDArray[np.intp]) -> None:
        self._first(self.accepted_day, rows, self.day)

    def ceasefire(self, rows: NDArray[np.intp]) -> None:
        self._first(self.ceasefire_day, rows, max(self.day, 0))

    def end_of_day(self, crisis: IntArray, calm: NDArray[np.bool_], repeat: int = 1) -> None:
        """Close the day: rungs reached, calm, the day's strikes; ``repeat`` copies a settled day."""
        rungs = np.arange(self.reach_day.shape[0])[:, None]
        first = (crisis[None, :] >= rungs) & (self.reach_day == NO_DAY)
        self.reach_day[first] = self.day
        if self.day >= 1:
            self._first(self.calm_day, np.flatnonzero(calm), self.day)
            self.strike_days += self.struck_today
        self.struck_today[:] = False
        counts = np.bincount(crisis, minlength=self.occupancy.shape[1])
        self.occupancy[self.day : self.day + repeat] += counts

    def batch(self, seeds: IntArray, final_posture: IntArray) -> Batch:
        return Batch(
            seeds=np.asarray(seeds, dtype=np.int64),
            reach_day=self.reach_day,
            strike_day=self.strike_day,
            forces_day=self.forces_day,
            highest_act=self.highest_act,
            final_posture=final_posture,
            answer_day=self.strike_day[self.struck]
            if self.struck is not None
            else np.full(self.strike_days.shape, NO_DAY, dtype=np.int64),
            strike_days=self.strike_days,
            restrike_day=self.restrike_day,
            war_day=self.war_day,
            calm_day=self.calm_day,
            offered_day=self.offered_day,
            accepted_day=self.accepted_day,
            ceasefire_day=self.ceasefire_day,
            pledges=self.pledges,
            backed_down=self.backed,
            attacks=self.attacks,
            blamed=self.blamed_count,
            misread_up=self.misread_up,
            occupancy=self.occupancy,
        )


@dataclass
class Choice:
    """One decision of one world, with its reasons: every option's terms and probability."""

    kind: str
    labels: tuple[str, ...]
    terms: tuple[dict[str, float], ...]
    utility: tuple[float, ...]
    probability: tuple[float, ...]
    chosen: int
    rungs: tuple[int, ...] = ()
    """The rung each option acts at (answers, reactions) or steps down to (reviews)."""
    rule: str = ""
    """For a scripted persona, the rule it chose by (its terms and chances are then what a
    strategic state would have weighed); empty for strategic choices."""


@dataclass(frozen=True)
class Weighing:
    """An answer weighed in some worlds: the options, their terms, which are available, the
    total utility and each option's logit probability (each (n, O))."""

    options: Options
    terms: dict[str, FloatArray]
    available: BoolArray
    utility: FloatArray
    probabilities: FloatArray


@dataclass
class Acts:
    """Acts of one state towards one adversary in some worlds, delivered at the round's end.

    ``level`` is the posture a conciliatory act steps down to (-1 for hostile acts and
    crackdowns). ``likelihood`` is (n, K, O): the chance of each option under each resolve type
    of the actor, which the adversary uses to update its belief; ``option`` is the option taken.
    """

    actor: str
    target: str
    rows: Rows
    hostile: bool
    rung: IntArray
    effective: IntArray
    on_state: BoolArray
    group: IntArray
    announced: BoolArray
    denied: BoolArray
    answering: BoolArray
    level: IntArray
    option: IntArray
    likelihood: NDArray[np.float32] | None
    labels: tuple[str, ...]
    location: tuple[str | None, ...] = ()
    target_kinds: tuple[str, ...] = ()
    casualties: tuple[str | None, ...] = ()
    description: str = ""
    scripted: bool = False
    choices: dict[int, Choice] = field(default_factory=dict)
    fighting: str = ""
    """``operation`` or ``engagement`` for a day of fighting that goes on (not a decision);
    an engagement's fire is owed no answer: it goes on by its own dynamics."""
    operation: bool | None = None
    """For a scripted act: whether it opens an operation (``ActEvent.operation``); None: the
    model's rule, a strike at the sustained rung opens one."""

    @classmethod
    def conciliation(
        cls,
        actor: str,
        target: str,
        rows: Rows,
        level: IntArray,
        *,
        option: IntArray | None = None,
        group: IntArray | None = None,
        likelihood: NDArray[np.float32] | None = None,
        labels: tuple[str, ...] = (),
        description: str = "",
        choices: dict[int, Choice] | None = None,
    ) -> Acts:
        """Steps down to ``level`` (or, where ``group`` >= 0, crackdowns on that group).

        ``option`` defaults to the review option 'step down one rung': a scripted or agreed
        step down carries no ``likelihood``, so no belief learns from it.
        """
        n = rows.size
        return cls(
            actor=actor,
            target=target,
            rows=rows,
            hostile=False,
            rung=np.zeros(n, dtype=np.int64),
            effective=np.zeros(n, dtype=np.int64),
            on_state=np.zeros(n, dtype=bool),
            group=np.full(n, -1, dtype=np.int64) if group is None else group,
            announced=np.zeros(n, dtype=bool),
            denied=np.zeros(n, dtype=bool),
            answering=np.zeros(n, dtype=bool),
            level=np.asarray(level, dtype=np.int64),
            option=np.ones(n, dtype=np.int64) if option is None else option,
            likelihood=likelihood,
            labels=labels,
            description=description,
            choices=choices or {},
        )


@dataclass(frozen=True)
class Event:
    """Something that happened in one world, in plain words, with the reasons of a decision.

    ``rung`` is the rung the event is about; ``choice`` holds the terms and probabilities of
    every option when the event was a state's decision.
    """

    day: int
    round: int
    kind: str
    actor: str
    target: str | None
    rung: int | None
    text: str
    choice: Choice | None = None
    details: dict[str, object] = field(default_factory=dict)
