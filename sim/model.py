"""The escalation model: one run of one scenario, a day per step.

The order of a day (``docs/model.md`` draws it):

1. armed groups attack (or not); a blamed attack is perceived as an act of the host state;
2. mediators end, offer or repeat their mediation; the parties accept or refuse;
3. every state answers the acts that are due, or steps down where it had nothing to answer;
   states decide on what stood after steps 1 and 2, and their own acts reach the other side only
   in step 4, so the order in which states decide does not matter;
4. their new acts are delivered: the targets perceive them (with fog) and schedule answers,
   strikes hurt the armed groups hosted by the target, and a climb to war drags both into it;
5. armed groups recover some capacity; the day's rungs are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.agents import ArmedGroupAgent, MediatorAgent, StateAgent
from sim.scenario import Scenario


@dataclass(frozen=True)
class Event:
    """Something that happened, in plain words; ``rung`` is the rung the event is about."""

    day: int
    kind: str
    actor: str
    target: str | None
    rung: int | None
    text: str


@dataclass(frozen=True)
class Act:
    """A state's climb towards an adversary, delivered at the end of the day."""

    actor: str
    target: str
    rung: int


class EscalationModel(mesa.Model):
    """One run of a scenario. All randomness comes from ``rng``, the run's one generator.

    Agents act in a fixed order (the scenario's), never shuffled: states decide simultaneously on
    what they knew at dawn, so no order effect is hidden in a shuffle.
    """

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        super().__init__(rng=rng)
        self.config = scenario
        self.ladder = scenario.ladder
        self.day = 0
        self.events: list[Event] = []
        self._acts: list[Act] = []
        self.states = {
            actor_id: StateAgent(self, actor_id, config)
            for actor_id, config in scenario.actors.items()
        }
        self.armed_groups = {
            group_id: ArmedGroupAgent(self, group_id, config)
            for group_id, config in scenario.armed_groups.items()
        }
        self.mediators = {
            mediator_id: MediatorAgent(
                self,
                mediator_id,
                config,
                offer_days=frozenset(
                    i.offer_on_day
                    for i in scenario.interventions
                    if i.mediator == mediator_id and i.offer_on_day is not None
                ),
                forced_response=next(
                    (
                        i.response
                        for i in scenario.interventions
                        if i.mediator == mediator_id and i.response is not None
                    ),
                    None,
                ),
            )
            for mediator_id, config in scenario.mediators.items()
        }
        self._groups_silent = all(g.config.daily_rate == 0 for g in self.armed_groups.values())
        self.state_agents = self.agents.select(agent_type=StateAgent)
        self.group_agents = self.agents.select(agent_type=ArmedGroupAgent)
        self.mediator_agents = self.agents.select(agent_type=MediatorAgent)
        self._apply_initial_events()
        self.rung_history: list[dict[str, int]] = [self._rungs()]

    def _apply_initial_events(self) -> None:
        """Acts done before day 0 set the actor's rung and leave the target something to answer."""
        for event in sorted(self.config.initial_events, key=lambda e: e.day):
            actor = self.states[event.actor]
            self.record(
                event.day,
                "initial",
                event.actor,
                event.target,
                event.rung,
                event.description or f"{actor.name} acts at '{self.ladder.name(event.rung)}'",
            )
            actor.rung[event.target] = max(actor.rung[event.target], event.rung)
            self._deliver(Act(event.actor, event.target, event.rung), event.day, fog=False)

    def record(
        self, day: int, kind: str, actor: str, target: str | None, rung: int | None, text: str
    ) -> None:
        self.events.append(Event(day, kind, actor, target, rung, text))

    def _rungs(self) -> dict[str, int]:
        return {actor_id: state.top_rung for actor_id, state in self.states.items()}

    def crisis_rung(self) -> int:
        """The highest rung any state stands on: how far the crisis has gone today."""
        return max(state.top_rung for state in self.states.values())

    def at_war(self, a: str, b: str) -> bool:
        return self.states[a].rung.get(b, 0) == self.ladder.war

    def mediation_between(self, a: str, b: str) -> MediatorAgent | None:
        """The mediator whose accepted talks cover both states, if any."""
        for mediator in self.mediators.values():
            if mediator.active and a in mediator.config.parties and b in mediator.config.parties:
                return mediator
        return None

    def act(self, state: StateAgent, adversary: str, rung: int, day: int, *, wanted: int) -> None:
        """A state climbs to ``rung``; the adversary learns of it at the end of the day."""
        state.rung[adversary] = rung
        restrained = f" (held back from '{self.ladder.name(wanted)}')" if wanted > rung else ""
        other = self.states[adversary].name
        self.record(
            day,
            "strike" if rung >= self.ladder.strike_rung else "climb",
            state.actor_id,
            adversary,
            rung,
            f"{state.name} answers {other}: '{self.ladder.name(rung)}'{restrained}",
        )
        self._acts.append(Act(state.actor_id, adversary, rung))

    def _deliver(self, act: Act, day: int, *, fog: bool = True) -> None:
        target = self.states[act.target]
        if act.rung == self.ladder.war:
            target.rung[act.actor] = self.ladder.war
            target.pending = [p for p in target.pending if p.adversary != act.actor]
            self.record(
                day,
                "war",
                act.actor,
                act.target,
                act.rung,
                f"War between {self.states[act.actor].name} and {target.name}",
            )
            return
        if act.rung >= self.ladder.strike_rung:
            for group in self.armed_groups.values():
                if group.config.based_in == act.target and group.config.targets == act.actor:
                    group.struck()
        target.perceive(act.actor, act.rung, day, fog=fog)

    def step(self) -> None:
        self.day += 1
        self.group_agents.do("step")
        self.mediator_agents.do("step")
        self.state_agents.do("step")
        acts, self._acts = self._acts, []
        for act in acts:
            self._deliver(act, self.day)
        self.group_agents.do("recover")
        self.rung_history.append(self._rungs())
        if self._settled():
            self.running = False

    def _settled(self) -> bool:
        """True when nothing left in the run can change a rung or add an event."""
        war = self.ladder.war
        all_at_war = all(
            rung == war for state in self.states.values() for rung in state.rung.values()
        )
        if all_at_war:
            return True
        if not self._groups_silent or self.crisis_rung() > 0:
            return False
        pending = any(s.pending for s in self.states.values())
        offers_left = any(day > self.day for m in self.mediators.values() for day in m.offer_days)
        return not pending and not offers_left

    def run(self) -> None:
        """Run to the horizon, or stop early once settled; the history always covers every day."""
        while self.running and self.day < self.config.horizon:
            self.step()
        last = self.rung_history[-1]
        while len(self.rung_history) <= self.config.horizon:
            self.rung_history.append(dict(last))

    def rung_array(self) -> np.ndarray:
        """Rungs as a (days + 1) x states array, states in scenario order."""
        order = list(self.states)
        return np.array([[day[s] for s in order] for day in self.rung_history], dtype=np.int64)
