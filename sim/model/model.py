"""The escalation model: many parallel runs ("worlds") of one scenario, a day per step.

The order of a day (``docs/model.md`` draws it):

1. scripted events of the day happen (acts, attacks, pledges, ceasefires); fighting that goes
   on goes on (operations carry on or stop; engagements of forces in contact go on or die out);
2. armed groups attack (or not); the target decides whom, if anyone, to hold responsible;
3. rounds: in each, every state makes the decisions that are due (answers, first diplomatic
   reactions, and in the first round reviews of standing postures) on what stood at the start
   of the round; the round's acts are then delivered together, so the order in which states
   decide does not matter. An answer with delay 0 comes in the next round of the same day;
   rounds end when a round brings no act, or at ``mechanisms.rounds_per_day``;
4. end of day: two states whose strikes have hurt each other may agree a ceasefire between
   themselves; third parties' talks under way may end in a ceasefire; offers of talks are made
   and answered;
5. armed groups recover some capacity; forces in contact that exchanged fire today fall into an
   engagement; the day's postures are recorded.

A world's random numbers are drawn from its own stream (``sim.model.streams``), addressed by what
they decide, so a world runs the same alone (a story) as among thousands (an ensemble).

The model keeps only the order of the day, what two states share (``world.PairState``), the
queue of the round's acts and the check that nothing is left to happen. The rules belong to
the agents, as in Mesa's examples: a state receives an act and learns from it
(``sim.model.states``), a group attacks (``sim.model.groups``), a third party presses, mediates
and agrees a ceasefire (``sim.model.third_parties``). They see the model through
``world.World`` and never import this module.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np

from sim.model.decisions import DecisionWeights
from sim.model.groups import ArmedGroupAgent
from sim.model.record import Acts, Batch, Choice, Event, Tally
from sim.model.scenario import (
    LIMITS,
    ActEvent,
    AttackEvent,
    CeasefireEvent,
    ConciliateEvent,
    OfferEvent,
    PledgeEvent,
    Scenario,
)
from sim.model.states import StateAgent
from sim.model.streams import Streams
from sim.model.third_parties import ThirdPartyAgent
from sim.model.world import NEVER, BoolArray, FloatArray, IntArray, PairState, Rows

NOT_WEIGHTS = {
    "review_rate",
    "belief_types",
    "operation_continuation",
    "engagement_continuation",
    "hurting_stalemate",
    "measure_review_rate",
    "direct_agreement_rate",
}
"""Decision parameters that are daily rates or counts the agents read, not utility weights."""


class EscalationModel(mesa.Model):
    """Parallel runs of a scenario, one per seed; ``record=True`` keeps every event and reason.

    Agents act in a fixed order (the scenario's), never shuffled: states decide simultaneously
    within a round, so no order effect is hidden in a shuffle. Mesa's own generator is seeded
    from the first world's seed but the rules never use it: every draw comes from ``streams``.
    """

    def __init__(
        self, scenario: Scenario, seeds: int | Sequence[int] | IntArray = 0, *, record: bool = False
    ) -> None:
        if not isinstance(scenario, Scenario):
            raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
        horizon = scenario.horizon  # a Scenario changed by model_copy(update=...) is unchecked
        if (
            isinstance(horizon, bool)
            or not isinstance(horizon, int)
            or not 1 <= horizon <= LIMITS["horizon"]
        ):
            raise ValueError(
                f"scenario's horizon must be from 1 to {LIMITS['horizon']:,} days, got {horizon!r}"
            )
        if scenario.uncertainty.active:
            raise ValueError(
                f"{scenario.name} has uncertain numbers ({', '.join(sorted(scenario.uncertainty.distributions) + sorted(scenario.uncertainty.from_profile))}): "
                "simulate one parameter set, sim.model.uncertainty.for_seed(scenario, seed) or "
                "sim.experiments.ensemble.simulate(scenario, seeds)"
            )
        seed_array = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
        super().__init__(rng=np.random.default_rng(int(seed_array[0])))
        self.config = scenario
        self.ladder = scenario.ladder
        self.record = record
        self.streams = Streams(seed_array)
        self.worlds = self.streams.worlds
        self.rounds = scenario.mechanisms.rounds_per_day
        self.first_clock = self.rounds
        self.day = 0
        self.round = 0
        decision = scenario.decision
        self.rationality = decision.rationality
        self.weights = DecisionWeights(
            **decision.model_dump(exclude=NOT_WEIGHTS),
            break_in_proportion=scenario.mechanisms.talks_under_fire,
        )
        self.events: list[list[Event]] = [[] for _ in range(self.worlds)] if record else []
        self._acts: list[Acts] = []
        self._crisis: dict[str, IntArray] = {}
        self.states = {
            actor_id: StateAgent(self, actor_id, config)
            for actor_id, config in scenario.actors.items()
        }
        self.groups = {
            group_id: ArmedGroupAgent(self, group_id, config)
            for group_id, config in scenario.armed_groups.items()
        }
        self.group_list = list(self.groups.values())
        self.third_parties = {
            party_id: ThirdPartyAgent(self, party_id, config)
            for party_id, config in scenario.third_parties.items()
        }
        for party in self.third_parties.values():
            party.offer_days = frozenset(
                e.day
                for e in scenario.events
                if isinstance(e, OfferEvent) and e.third_party == party.party_id
            )
        self._pairs = {frozenset(r.between): PairState(self.worlds) for r in scenario.relations}
        self._between = {
            (a, b): (
                pair,
                [p for p in self.third_parties.values() if p.mediation and p.covers(a, b)],
            )
            for key, pair in self._pairs.items()
            for a in key
            for b in key
            if a != b
        }
        """For each ordered pair of states in crisis, their pair state and the mediators whose
        talks would cover them (what ``log`` records of an event between the two)."""
        for state in self.states.values():
            state.setup()
        self.state_agents = self.agents.select(agent_type=StateAgent)
        self.group_agents = self.agents.select(agent_type=ArmedGroupAgent)
        self.third_party_agents = self.agents.select(agent_type=ThirdPartyAgent)
        self.tally = Tally(
            self.worlds,
            len(self.states),
            len(self.groups),
            scenario.horizon,
            self.ladder.war,
            tuple(None if a is None else list(scenario.actors).index(a) for a in opening(scenario)),  # type: ignore[arg-type]
        )
        self.posture_history: list[IntArray] = []
        self._last_event_day = max((e.day for e in scenario.events), default=0)
        self._apply_history()
        self.state_agents.do("engage")
        self._end_of_day()

    # ------------------------------------------------------------------ shared views

    @property
    def clock(self) -> int:
        """Day and round in one number: day x rounds per day + round."""
        return self.day * self.rounds + self.round

    def pair(self, a: str, b: str) -> PairState:
        return self._pairs[frozenset((a, b))]

    def at_war_between(self, a: str, b: str) -> BoolArray:
        pair = self._pairs.get(frozenset((a, b)))
        return pair.at_war if pair is not None else np.zeros(self.worlds, dtype=bool)

    def crisis_of(self, state: str) -> IntArray:
        """The highest posture in any pair the state belongs to, per world (do not modify).

        Kept until a posture changes: many decisions of a round ask for it.
        """
        found = self._crisis.get(state)
        if found is None:
            agent = self.states[state]
            found = np.zeros(self.worlds, dtype=np.int64)
            for b in agent.adversaries:
                np.maximum(found, agent.posture[b], out=found)
                np.maximum(found, self.states[b].posture[state], out=found)
            self._crisis[state] = found
        return found

    def postures_changed(self) -> None:
        """Forget the crises kept by ``crisis_of``: a posture is about to change."""
        self._crisis.clear()

    def crisis(self) -> IntArray:
        """The highest posture of any state, per world: how far the crisis stands today."""
        return np.max(np.stack([s.top_posture() for s in self.states.values()]), axis=0)

    def calming(self, state: str) -> BoolArray:
        """Worlds where the state is in talks or a ceasefire (armed groups spoil these)."""
        found = np.zeros(self.worlds, dtype=bool)
        for other in self.states[state].adversaries:
            found |= self.pair(state, other).ceasefire
        for party in self.third_parties.values():
            if state in party.parties:
                found |= party.talks
        return found

    def pressure_on(
        self, state: str, other: str, rows: Rows, *, parts: bool = True
    ) -> tuple[FloatArray, dict[str, FloatArray]]:
        """Third parties' pressure on ``state`` in total, and by third party if ``parts``."""
        if not self.config.mechanisms.third_parties:
            return np.zeros(rows.size), {}
        by_party = {
            party.name: party.pressure_on(state, rows)
            for party in self.third_parties.values()
            if party.config.leverage.get(state)
        }
        total = sum(by_party.values(), np.zeros(rows.size))
        return total, by_party if parts and self.record else {}

    def protection_of(self, protected: str, attacker: str, rows: Rows) -> FloatArray:
        """Third parties' protection of ``protected`` against ``attacker``: their leverage over
        the attacker times their alignment with the protected state."""
        if not self.config.mechanisms.third_parties:
            return np.zeros(rows.size)
        value = sum(
            party.config.leverage.get(attacker, 0.0)
            * max(party.config.alignment.get(protected, 0.0), 0.0)
            for party in self.third_parties.values()
        )
        return np.full(rows.size, float(value))

    def talks_between(self, a: str, b: str, rows: Rows) -> tuple[FloatArray, FloatArray]:
        """The leverage over ``a`` of talks under way between a and b, and their face-saving."""
        leverage = np.zeros(rows.size)
        face_saving = np.zeros(rows.size)
        if not self.config.mechanisms.third_parties:
            return leverage, face_saving
        for party in self.third_parties.values():
            if party.mediation is None or not party.covers(a, b):
                continue
            active = party.talks[rows]
            leverage = leverage + active * party.coalition_leverage(a)
            face_saving = np.maximum(face_saving, active * party.mediation.face_saving)
        return leverage, face_saving

    # ------------------------------------------------------------------ records

    def log_each(
        self, rows: Rows, kind: str, actor: str, target: str | None, rung: int | None, text: str
    ) -> None:
        """The same event in each world of ``rows`` (``record=True`` only; else nothing)."""
        if self.record:
            for world in rows:
                self.log(int(world), kind, actor, target, rung, text)

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
    ) -> None:
        """Record an event in one world (``record=True`` only).

        An event between two states in crisis also records what stood between them as it
        happened: ``talks`` under way that cover both, and an agreed ``ceasefire`` in force. A
        reading of the story (``sim.analysis.explain``) takes them from here rather than
        rebuild them from the events.
        """
        between = self._between.get((actor, target)) if target is not None else None
        if between is not None:
            pair, mediators = between
            details["talks"] = any(bool(party.talks[world]) for party in mediators)
            details["ceasefire"] = bool(pair.ceasefire[world])
        self.events[world].append(
            Event(self.day, self.round, kind, actor, target, rung, text, choice, details)
        )

    # ------------------------------------------------------------------ acts

    def enqueue(self, acts: Acts) -> None:
        """An act decided this round; it reaches its target when the round ends."""
        if acts.rows.size:
            self._acts.append(acts)
            if acts.hostile and acts.actor in self.states:
                self.states[acts.actor].acted_day[acts.target][acts.rows] = self.day

    def _deliver(self) -> bool:
        """Deliver the round's acts, each to its target; True if there were any."""
        acts, self._acts = self._acts, []
        for batch in acts:
            target = self.states[batch.target]
            if batch.hostile:
                engagement = batch.fighting == "engagement"
                target.receive_hostile(batch, fog=not engagement, answered=engagement)
            else:
                target.receive_conciliation(batch)
        return bool(acts)

    # ------------------------------------------------------------------ scripted events

    def _apply_history(self) -> None:
        """Events before day 1 set postures, beliefs, pledges and what is left to answer."""
        history = sorted((e for e in self.config.events if e.day <= 0), key=lambda e: e.day)
        for event in history:
            self.day = event.day
            self._apply_event(event, history=True)
        self.day = 0

    def _apply_event(self, event: object, *, history: bool) -> None:
        everyone = np.arange(self.worlds)
        if isinstance(event, ActEvent):
            rows = everyone[~self.pair(event.actor, event.target).at_war]
            acts = self.states[event.actor].scripted_act(event, rows)
            if history:
                target = self.states[event.target]
                target.receive_hostile(acts, fog=False, answered=event.answered)
            else:
                self.enqueue(acts)
        elif isinstance(event, AttackEvent):
            group = self.groups[event.group]
            if self.config.mechanisms.armed_groups or history:
                group.attack(
                    everyone,
                    claimed=event.claimed,
                    answered=event.answered,
                    description=event.description,
                )
        elif isinstance(event, PledgeEvent):
            if self.config.mechanisms.commitments:
                self.states[event.actor].make_pledge(event.target, everyone, event.description)
        elif isinstance(event, ConciliateEvent):
            self.states[event.actor].scripted_step_down(event, everyone)
        elif isinstance(event, CeasefireEvent):
            a, b = event.between
            description = event.description or f"Ceasefire between {a} and {b}"
            self.states[a].cease_fire(b, everyone, description)

    # ------------------------------------------------------------------ the day

    def step(self) -> None:
        self.day += 1
        self.round = 0
        self.tally.day = self.day
        self.tally.clock = self.clock
        for pair in self._pairs.values():
            pair.acted_today[:] = 0
        for event in self.config.events:
            if event.day == self.day:
                self._apply_event(event, history=False)
        self.state_agents.do("keep_fighting")
        self.group_agents.do("step")
        for round_ in range(self.rounds):
            self.round = round_
            self.tally.clock = self.clock
            self.state_agents.do("decide")
            self._deliver()
            if not self._due_later_today():
                break
        self.round = self.rounds - 1
        self.state_agents.do("talk_directly")
        self.third_party_agents.do("step")
        self.group_agents.do("recover")
        self.state_agents.do("engage")
        self._end_of_day()

    def _due_later_today(self) -> bool:
        """Whether any world has an answer or reaction due in a later round of today.

        Rounds go on for as long as some world needs them; a world with nothing due in a round
        does nothing in it, so each world runs the same whichever others share its batch.
        """
        last = (self.day + 1) * self.rounds - 1
        for state in self.states.values():
            for other in state.adversaries:
                for due in (state.owed_due[other], state.react_due[other]):
                    waiting = due[due != NEVER]
                    if waiting.size and waiting.min() <= last:
                        return True
        return False

    def _calm(self) -> BoolArray:
        """Worlds where every pair stands at its baseline with nothing left to answer."""
        calm = np.ones(self.worlds, dtype=bool)
        for state in self.states.values():
            for other in state.adversaries:
                calm &= state.posture[other] == state.baseline[other]
                calm &= state.owed[other] == 0
                calm &= state.react_due[other] == NEVER
                calm &= ~state.measures[other]
        return calm

    def _end_of_day(self, repeat: int = 1) -> None:
        tops = [s.top_posture() for s in self.states.values()]
        crisis = tops[0].copy()
        for top in tops[1:]:
            np.maximum(crisis, top, out=crisis)
        self.tally.end_of_day(crisis, self._calm(), repeat)
        if self.record:
            postures = np.stack(tops, axis=1)
            self.posture_history.extend([postures.copy() for _ in range(repeat)])

    def _settled(self) -> bool:
        """True when nothing left in any world can change a posture or add an event."""
        if self.day < self._last_event_day or any(
            p.talks.any() for p in self.third_parties.values()
        ):
            return False
        for state in self.states.values():
            for other in state.adversaries:
                if (state.owed[other] > 0).any() or (state.react_due[other] != NEVER).any():
                    return False
                if (state.operation[other] > 0).any() or self.pair(
                    state.actor_id, other
                ).engaged.any():
                    return False
        war = np.ones(self.worlds, dtype=bool)
        for pair in self._pairs.values():
            war &= pair.at_war
        if not (self._calm() | war).all():
            return False
        groups_quiet = not self.config.mechanisms.armed_groups or all(
            g.config.daily_rate == 0 or not g.capacity.any() for g in self.groups.values()
        )
        return groups_quiet

    def run(self) -> None:
        """Run to the horizon, or stop early once settled; the record always covers every day."""
        horizon = self.config.horizon
        while self.day < horizon:
            self.step()
            if self.day < horizon and self._settled():
                left = horizon - self.day
                self.day += 1
                self.tally.day = self.day
                self._end_of_day(repeat=left)
                self.day = horizon
                break

    # ------------------------------------------------------------------ results

    def batch(self) -> Batch:
        """What the runs leave behind, one entry per world."""
        final = np.stack([s.top_posture() for s in self.states.values()])
        return self.tally.batch(self.streams.seeds, final)

    def release(self) -> None:
        """Drop the state of this finished model and its agents.

        A model and its agents refer to each other (Mesa's registries, ``agent.model``), so
        their arrays would wait for the cyclic collector; a full collection walks every object
        of the process (tens of milliseconds a chunk). Emptied, they are freed at once by
        reference counting. The model cannot be used afterwards.
        """
        for agent in list(self.agents):
            agent.__dict__.clear()
        self.__dict__.clear()

    def rung_history(self, world: int = 0) -> list[dict[str, int]]:
        """Each state's highest posture by day, in one world (``record=True``)."""
        return [
            {actor_id: int(day[world, i]) for i, actor_id in enumerate(self.states)}
            for day in self.posture_history
        ]

    def rung_array(self, world: int = 0) -> IntArray:
        """Postures as a (days + 1) x states array, states in scenario order (``record=True``)."""
        return np.array([day[world] for day in self.posture_history], dtype=np.int64)


def opening(scenario: Scenario) -> tuple[str | None, str | None]:
    """The state that opened the crisis and the state it struck: the actor and target of the
    last event before day 1 that is a strike, or (opened by a group: no state) the target of the
    last attack. (None, None) if the scenario has no such history."""
    history = sorted((e for e in scenario.events if e.day <= 0), key=lambda e: e.day, reverse=True)
    for event in history:
        if isinstance(event, ActEvent) and event.rung >= scenario.ladder.strike_rung:
            return event.actor, event.target
        if isinstance(event, AttackEvent):
            return None, scenario.armed_groups[event.group].target
    return None, None
