"""The escalation model: many parallel runs ("worlds") of one scenario, a day per step.

The order of a day (``docs/model.md`` draws it):

1. scripted events of the day happen (acts, attacks, pledges, ceasefires);
2. armed groups attack (or not); the target decides whom, if anyone, to hold responsible;
3. rounds: in each, every state makes the decisions that are due (answers, first diplomatic
   reactions, and in the first round reviews of standing postures) on what stood at the start
   of the round; the round's acts are then delivered together, so the order in which states
   decide does not matter. An answer with delay 0 comes in the next round of the same day;
   rounds end when a round brings no act, or at ``mechanisms.rounds_per_day``;
4. third parties end of day: talks under way may end in a ceasefire; offers of talks are made
   and answered;
5. armed groups recover some capacity; the day's postures are recorded.

A world's random numbers are drawn from its own stream (``sim.model.streams``), addressed by what they
decide, so a world runs the same alone (a story) as among thousands (an ensemble).
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np
from numpy.typing import NDArray

from sim.model.decisions import DecisionWeights, last_sum
from sim.model.groups import ArmedGroupAgent
from sim.model.ladder import STATE_TARGETS
from sim.model.record import Acts, Batch, Choice, Event, Tally
from sim.model.scenario import (
    ActEvent,
    AttackEvent,
    CeasefireEvent,
    ConciliateEvent,
    OfferEvent,
    PledgeEvent,
    Scenario,
)
from sim.model.states import NEVER, StateAgent
from sim.model.streams import Streams
from sim.model.third_parties import ThirdPartyAgent

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Rows = NDArray[np.intp]


class PairState:
    """Per world, what two states in crisis share: war, an agreed ceasefire, today's acts."""

    def __init__(self, worlds: int) -> None:
        self.at_war = np.zeros(worlds, dtype=bool)
        self.ceasefire = np.zeros(worlds, dtype=bool)
        self.acted_today = np.zeros(worlds, dtype=np.int64)


class EscalationModel(mesa.Model):
    """Parallel runs of a scenario, one per seed; ``record=True`` keeps every event and reason.

    Agents act in a fixed order (the scenario's), never shuffled: states decide simultaneously
    within a round, so no order effect is hidden in a shuffle. Mesa's own generator is seeded
    from the first world's seed but the rules never use it: every draw comes from ``streams``.
    """

    def __init__(
        self, scenario: Scenario, seeds: int | Sequence[int] | IntArray = 0, *, record: bool = False
    ) -> None:
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
            **decision.model_dump(exclude={"review_rate", "belief_types"})
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
        """Record an event in one world (``record=True`` only)."""
        self.events[world].append(
            Event(self.day, self.round, kind, actor, target, rung, text, choice, details)
        )

    def note_misreadings(
        self, state: StateAgent, other: str, rows: Rows, severity: IntArray, perceived: IntArray
    ) -> None:
        self.tally.misread(rows[perceived > severity])
        if self.record:
            for i in np.flatnonzero(perceived != severity):
                self.log(
                    int(rows[i]),
                    "misperceive",
                    state.actor_id,
                    other,
                    int(perceived[i]),
                    f"{state.name} reads it as '{self.ladder.name(int(perceived[i]))}'",
                )

    # ------------------------------------------------------------------ acts

    def enqueue(self, acts: Acts) -> None:
        """An act decided this round; it reaches its target when the round ends."""
        if acts.rows.size:
            self._acts.append(acts)
            if acts.hostile and acts.actor in self.states:
                self.states[acts.actor].acted_day[acts.target][acts.rows] = self.day

    def _deliver(self) -> bool:
        """Deliver the round's acts; True if there were any."""
        acts, self._acts = self._acts, []
        for batch in acts:
            if batch.hostile:
                self._deliver_hostile(batch)
            else:
                self._deliver_conciliation(batch)
        return bool(acts)

    def _deliver_hostile(self, acts: Acts, *, fog: bool = True, answered: bool = False) -> None:
        self._crisis.clear()
        a, b = self.states[acts.actor], self.states[acts.target]
        ladder = self.ladder
        rows = acts.rows
        strike = acts.rung >= ladder.strike_rung
        self.tally.acted(a.index, rows, acts.rung, acts.on_state, strike)
        pair = self.pair(a.actor_id, b.actor_id)
        pair.acted_today[rows] = np.maximum(pair.acted_today[rows], acts.rung)
        if self.record:
            self._log_acts(acts)
        war = acts.rung == ladder.war
        if war.any():
            self._go_to_war(a, b, rows[war])
        keep = ~war
        rows = rows[keep]
        if not rows.size:
            return
        rung = acts.rung[keep]
        a.posture[b.actor_id][rows] = np.maximum(a.posture[b.actor_id][rows], rung)
        group = acts.group[keep]
        for g in np.unique(group[group >= 0]):
            self.group_list[int(g)].struck(rows[group == g])
        a.conciliated[b.actor_id][rows] = False
        b.conciliated[a.actor_id][rows] = False
        striking = rows[strike[keep]]
        if striking.size:
            self._strike_ends_calm(a, b, striking)
        a.last_act[b.actor_id][rows] = acts.effective[keep]
        perceived = b.receive(
            a.actor_id,
            rows,
            acts.effective[keep],
            denied=acts.denied[keep],
            answering=acts.answering[keep],
            fog=fog,
            answered=answered,
            site=a.index,
        )
        if acts.likelihood is not None:
            option = self._perceived_option(a, b.actor_id, acts, keep, perceived)
            self._update_belief(b, a.actor_id, rows, acts.likelihood[keep], option)

    def _perceived_option(
        self, a: StateAgent, other: str, acts: Acts, keep: BoolArray, perceived: IntArray
    ) -> IntArray:
        """The option the target believes was taken: the actual one unless misread, else the
        unannounced act at the rung it read (-1 if the actor has no such option)."""
        options = a.answers[other]
        plain = ~options.announced
        lookup = np.full(self.ladder.size, -1, dtype=np.int64)
        for o in range(options.size - 1, -1, -1):
            if plain[o]:
                lookup[options.rung[o]] = o
        return np.where(perceived == acts.effective[keep], acts.option[keep], lookup[perceived])

    def _update_belief(
        self,
        observer: StateAgent,
        other: str,
        rows: Rows,
        likelihood: NDArray[np.float32],
        option: IntArray,
    ) -> None:
        """Bayes' rule: the observer's belief about ``other``'s resolve times the likelihood."""
        if not self.config.mechanisms.beliefs:
            return
        known = option >= 0
        rows, option, likelihood = rows[known], option[known], likelihood[known]
        if not rows.size:
            return
        weights = likelihood[np.arange(rows.size), :, option]
        posterior = observer.belief[other][rows] * weights
        sums = last_sum(posterior)[:, None]
        valid = sums[:, 0] > 0
        observer.belief[other][rows[valid]] = posterior[valid] / sums[valid]

    def _strike_ends_calm(self, a: StateAgent, b: StateAgent, rows: Rows) -> None:
        """A strike collapses talks between the two and breaks their ceasefire."""
        for party in self.third_parties.values():
            if party.mediation is not None and party.covers(a.actor_id, b.actor_id):
                party.end_talks(rows, f"Talks led by {party.name} collapse after {a.name}'s strike")
        pair = self.pair(a.actor_id, b.actor_id)
        broken = rows[pair.ceasefire[rows]]
        pair.ceasefire[broken] = False
        if self.record:
            for world in broken:
                self.log(
                    int(world),
                    "ceasefire_broken",
                    a.actor_id,
                    b.actor_id,
                    None,
                    f"{a.name} breaks the ceasefire with {b.name}",
                )

    def _go_to_war(self, a: StateAgent, b: StateAgent, rows: Rows) -> None:
        self._crisis.clear()
        pair = self.pair(a.actor_id, b.actor_id)
        rows = rows[~pair.at_war[rows]]
        if not rows.size:
            return
        pair.at_war[rows] = True
        pair.ceasefire[rows] = False
        war = self.ladder.war
        for x, y in ((a, b), (b, a)):
            x.posture[y.actor_id][rows] = war
            x.owed[y.actor_id][rows] = 0
            x.owed_due[y.actor_id][rows] = NEVER
            x.react_due[y.actor_id][rows] = NEVER
            x.pledge[y.actor_id][rows] = False
        for party in self.third_parties.values():
            if party.mediation is not None and party.covers(a.actor_id, b.actor_id):
                party.end_talks(rows, f"Talks led by {party.name} end: war")
        self.tally.went_to_war(rows)
        if self.record:
            for world in rows:
                self.log(
                    int(world),
                    "war",
                    a.actor_id,
                    b.actor_id,
                    war,
                    f"War between {a.name} and {b.name}",
                )

    def _deliver_conciliation(self, acts: Acts) -> None:
        self._crisis.clear()
        a, b = self.states[acts.actor], self.states[acts.target]
        crackdown = acts.group >= 0
        for g in np.unique(acts.group[crackdown]):
            self.group_list[int(g)].cracked_down(acts.rows[acts.group == g])
        stepping = ~crackdown
        rows = acts.rows[stepping]
        a.posture[b.actor_id][rows] = np.minimum(a.posture[b.actor_id][rows], acts.level[stepping])
        b.conciliated[a.actor_id][acts.rows] = True
        if self.record:
            for i, world in enumerate(acts.rows):
                if crackdown[i]:
                    group = self.group_list[int(acts.group[i])]
                    text = f"{a.name} cracks down on {group.name}"
                    rung = None
                else:
                    rung = int(acts.level[i])
                    text = (
                        f"{a.name} steps down towards {b.name}: back to '{self.ladder.name(rung)}'"
                    )
                self.log(
                    int(world),
                    "crackdown" if crackdown[i] else "conciliate",
                    a.actor_id,
                    b.actor_id,
                    rung,
                    acts.description or text,
                    acts.choices.get(i),
                )
        if acts.likelihood is not None:
            self._update_belief(b, a.actor_id, acts.rows, acts.likelihood, acts.option)

    def _log_acts(self, acts: Acts) -> None:
        ladder = self.ladder
        a, b = self.states[acts.actor], self.states[acts.target]
        for i, world in enumerate(acts.rows):
            rung = int(acts.rung[i])
            group = int(acts.group[i])
            what = f"'{ladder.name(rung)}'"
            if group >= 0:
                what += f" against {self.group_list[group].name}"
            if acts.location:
                location = acts.location[i]
            elif group >= 0:
                location = self.group_list[group].config.host
            else:
                location = b.actor_id if rung >= ladder.strike_rung else None
            if location and location != b.actor_id and location in self.states:
                what += f" on {self.states[location].name}'s soil"
            if acts.announced[i]:
                what += ", announced in advance"
            kind = "strike" if rung >= ladder.strike_rung else "act"
            verb = (
                "reacts to"
                if acts.choices.get(i) and acts.choices[i].kind == "reaction"
                else "answers"
            )
            text = acts.description or f"{a.name} {verb} {b.name}: {what}"
            self.log(
                int(world),
                kind,
                a.actor_id,
                b.actor_id,
                rung,
                text,
                acts.choices.get(i),
                target_kind=acts.target_kinds[i] if acts.target_kinds else ladder.target(rung),
                group=self.group_list[group].group_id if group >= 0 else None,
                location=location,
                casualties=(acts.casualties[i] if acts.casualties else None)
                or _lower(ladder.casualties(rung), bool(acts.announced[i])),
                announced=bool(acts.announced[i]),
                denied=bool(acts.denied[i]),
            )

    def agree_ceasefire(self, mediator: ThirdPartyAgent, rows: Rows) -> None:
        """Talks end in an agreed ceasefire: what was owed is settled, pledges lapse with face
        saved, and both sides step down below the strike rung."""
        mediator.talks[rows] = False
        if self.record:
            for world in rows:
                self.log(
                    int(world),
                    "agreement",
                    mediator.party_id,
                    None,
                    None,
                    f"Talks led by {mediator.name} end in a ceasefire",
                )
        for a, b in mediator.pairs():
            self.ceasefire(a, b, rows)

    def ceasefire(self, a: str, b: str, rows: Rows, description: str = "") -> None:
        pair = self.pair(a, b)
        rows = rows[~pair.at_war[rows]]
        pair.ceasefire[rows] = True
        self.tally.ceasefire(rows)
        below = self.ladder.strike_rung - 1
        if self.record and description:
            for world in rows:
                self.log(int(world), "ceasefire", a, b, None, description)
        for x, y in ((a, b), (b, a)):
            state = self.states[x]
            state.owed[y][rows] = 0
            state.owed_due[y][rows] = NEVER
            state.react_due[y][rows] = NEVER
            state.pledge[y][rows] = False
            posture = state.posture[y][rows]
            level = np.maximum(np.minimum(posture, below), state.baseline[y])
            stepping = level < posture
            if stepping.any():
                self._acts_now(Acts.conciliation(x, y, rows[stepping], level[stepping]))

    def _acts_now(self, acts: Acts) -> None:
        if acts.hostile:
            self._deliver_hostile(acts)
        else:
            self._deliver_conciliation(acts)

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
            acts = self._scripted_act(event, rows)
            if history:
                self._deliver_hostile(acts, fog=False, answered=event.answered)
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
            state = self.states[event.actor]
            posture = state.posture[event.target]
            rows = everyone[
                (posture > event.to_rung) & ~self.pair(event.actor, event.target).at_war
            ]
            level = np.full(rows.size, max(event.to_rung, state.baseline[event.target]))
            self._acts_now(
                Acts.conciliation(
                    event.actor, event.target, rows, level, description=event.description
                )
            )
        elif isinstance(event, CeasefireEvent):
            a, b = event.between
            self.ceasefire(a, b, everyone, event.description or f"Ceasefire between {a} and {b}")

    def _scripted_act(self, event: ActEvent, rows: Rows) -> Acts:
        """A scripted act as the actor's option (it answers whatever the actor owed)."""
        actor = self.states[event.actor]
        options = actor.answers[event.target]
        group_index = list(self.groups).index(event.group) if event.group else -1
        matches = [
            o
            for o in range(options.size)
            if options.rung[o] == event.rung
            and bool(options.announced[o]) == event.announced
            and (group_index < 0 or options.group[o] == group_index)
        ]
        option = matches[0] if matches else 0
        received = actor.owed[event.target][rows].copy()
        likelihood = None
        if matches and self.config.mechanisms.beliefs and actor.policy.strategic:
            _, terms, available = actor.answer_model(event.target, rows, received)
            from sim.model.decisions import ANSWER_TERMS

            likelihood = actor.likelihood(
                options, terms, available, ANSWER_TERMS, np.arange(rows.size)
            )
        actor.owed[event.target][rows] = 0
        actor.owed_due[event.target][rows] = NEVER
        actor.react_due[event.target][rows] = NEVER
        if event.rung >= self.ladder.strike_rung:
            actor.pledge[event.target][rows] = False
        n = rows.size
        kind = event.target_kind or self.ladder.target(event.rung)
        location = event.location or (
            self.config.armed_groups[event.group].host if event.group else event.target
        )
        return Acts(
            actor=event.actor,
            target=event.target,
            rows=rows,
            hostile=True,
            rung=np.full(n, event.rung, dtype=np.int64),
            effective=np.full(n, event.rung - int(event.announced), dtype=np.int64),
            on_state=np.full(n, kind in STATE_TARGETS and event.rung >= self.ladder.strike_rung),
            group=np.full(n, group_index, dtype=np.int64),
            announced=np.full(n, event.announced),
            denied=np.full(n, event.denied),
            answering=received > 0,
            level=np.full(n, -1, dtype=np.int64),
            option=np.full(n, option, dtype=np.int64),
            likelihood=likelihood,
            labels=options.labels,
            location=(location,) * n,
            target_kinds=(kind,) * n,
            casualties=(event.casualties,) * n,
            description=event.description,
            scripted=True,
        )

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
        self.group_agents.do("step")
        for round_ in range(self.rounds):
            self.round = round_
            self.tally.clock = self.clock
            self.state_agents.do("decide")
            self._deliver()
            if not self._due_later_today():
                break
        self.round = self.rounds - 1
        self.third_party_agents.do("step")
        self.group_agents.do("recover")
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


def _lower(band: str, announced: bool) -> str:
    """An announced strike is one casualty band lower (people took shelter)."""
    if not announced:
        return band
    return {"many": "few", "few": "none"}.get(band, band)
