"""The actors of a crisis as Mesa agents: states, armed groups and mediators.

How a state decides to answer, hold back or step down is all in ``StateAgent``; the policies it
calls are in ``sim.policies``. Every random draw goes through ``model.rng``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.scenario import ArmedGroupConfig, MediatorConfig, StateConfig

if TYPE_CHECKING:
    from sim.model import EscalationModel


@dataclass(frozen=True)
class PendingAnswer:
    """A hostile act a state has perceived and will answer on ``due_day``."""

    due_day: int
    adversary: str
    perceived_rung: int


class StateAgent(mesa.Agent):
    """A state on the ladder towards each adversary.

    Its day, in order: answer each act that is due (policy, then mediation, then restraint), and
    if it had nothing to answer towards an adversary, perhaps step down one rung towards it.
    """

    model: EscalationModel

    def __init__(self, model: EscalationModel, actor_id: str, config: StateConfig) -> None:
        super().__init__(model)
        self.actor_id = actor_id
        self.config = config
        self.rung: dict[str, int] = {
            adversary: config.initial_rung for adversary in config.adversaries
        }
        self.pending: list[PendingAnswer] = []
        self.memory: dict[str, np.ndarray] = {
            adversary: np.zeros(1) for adversary in config.adversaries
        }

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def top_rung(self) -> int:
        return max(self.rung.values())

    def perceive(self, adversary: str, rung: int, day: int, *, fog: bool = True) -> None:
        """Read an act (through the fog of misperception) and schedule the answer to it."""
        perceived = rung
        perception = self.config.perception
        rng = self.model.rng
        if fog and rng.random() < perception.error:
            perceived += 1 if rng.random() < perception.upward_share else -1
            perceived = min(max(perceived, 1), self.model.ladder.war)
        if perceived != rung:
            self.model.record(
                day,
                "misperceive",
                self.actor_id,
                adversary,
                perceived,
                f"{self.name} reads it as '{self.model.ladder.name(perceived)}'",
            )
        due_day = max(day + self.config.retaliation.delay, 1)
        self.pending.append(PendingAnswer(due_day, adversary, perceived))

    def restraint(self, rung: int) -> float:
        """Chance of stopping short of ``rung`` when climbing: see ``Restraint``."""
        restraint = self.config.restraint
        war = self.model.ladder.war
        held = (
            restraint.climb_cost * (rung / war) ** 2
            + restraint.economic_ties
            + restraint.outside_pressure
            - self.config.audience_cost
        )
        return min(max(held, 0.0), 1.0)

    def step_down_chance(self, adversary: str) -> float:
        """Daily chance of a step down: audience cost lowers it, mediation and GRIT raise it."""
        chance = self.config.deescalation * (1 - self.config.audience_cost)
        mediation = self.model.mediation_between(self.actor_id, adversary)
        if mediation is not None:
            chance += mediation.config.effectiveness * (1 - chance)
        return float(self.config.retaliation.step_down_chance(np.array([chance]))[0])

    def step(self) -> None:
        day = self.model.day
        rng = self.model.rng
        due = [answer for answer in self.pending if answer.due_day <= day]
        self.pending = [answer for answer in self.pending if answer.due_day > day]
        for adversary in self.config.adversaries:
            if self.model.at_war(self.actor_id, adversary):
                continue
            answers = [answer for answer in due if answer.adversary == adversary]
            for answer in answers:
                self._answer(answer, day)
            waiting = any(answer.adversary == adversary for answer in self.pending)
            if not answers and not waiting and self.rung[adversary] > 0:
                if rng.random() < self.step_down_chance(adversary):
                    self.rung[adversary] -= 1
                    self.model.record(
                        day,
                        "step_down",
                        self.actor_id,
                        adversary,
                        self.rung[adversary],
                        f"{self.name} steps down to '{self.model.ladder.name(self.rung[adversary])}'",
                    )
            self.config.retaliation.forget(self.memory[adversary])

    def _answer(self, answer: PendingAnswer, day: int) -> None:
        adversary, ladder, rng = answer.adversary, self.model.ladder, self.model.rng
        other = self.model.states[adversary].name
        wanted = int(
            self.config.retaliation.respond(
                np.array([answer.perceived_rung], dtype=np.int64),
                self.memory[adversary],
                ladder.war,
                rng,
            )[0]
        )
        current = self.rung[adversary]
        if wanted == 0:
            self.model.record(
                day,
                "let_go",
                self.actor_id,
                adversary,
                current,
                f"{self.name} lets {other}'s act go unanswered",
            )
            return
        mediation = self.model.mediation_between(self.actor_id, adversary)
        if mediation is not None and rng.random() < mediation.config.effectiveness:
            self.model.record(
                day,
                "called_off",
                self.actor_id,
                adversary,
                current,
                f"{self.name} calls off its answer while {mediation.name} mediates",
            )
            return
        rung = wanted
        while rung > current and rng.random() < self.restraint(rung):
            rung -= 1
        if rung <= current:
            if wanted > current:
                self.model.record(
                    day,
                    "held_back",
                    self.actor_id,
                    adversary,
                    current,
                    f"{self.name} holds back from '{ladder.name(wanted)}'",
                )
            else:
                self.model.record(
                    day,
                    "stands",
                    self.actor_id,
                    adversary,
                    current,
                    f"{self.name} does not climb in answer to {other}: it already "
                    f"stands at '{ladder.name(current)}'",
                )
            return
        self.model.act(self, adversary, rung, day, wanted=wanted)


class ArmedGroupAgent(mesa.Agent):
    """An armed group attacking a state from its host's soil; it can spoil talks."""

    model: EscalationModel

    def __init__(self, model: EscalationModel, group_id: str, config: ArmedGroupConfig) -> None:
        super().__init__(model)
        self.group_id = group_id
        self.config = config
        self.capacity = 1.0

    @property
    def name(self) -> str:
        return self.config.name

    def attack_chance(self) -> float:
        """Chance of at least one attack today, from a Poisson rate scaled by the situation."""
        config = self.config
        tension = self.model.crisis_rung() / self.model.ladder.war
        rate = config.daily_rate * self.capacity * (1 + config.tension_sensitivity * tension)
        if self.model.mediation_between(config.based_in, config.targets) is not None:
            rate *= 1 + config.spoiler_boost
        return 1 - math.exp(-rate)

    def step(self) -> None:
        config, day = self.config, self.model.day
        target = self.model.states[config.targets]
        host = self.model.states[config.based_in]
        if self.model.at_war(config.based_in, config.targets):
            return
        if self.model.rng.random() < self.attack_chance():
            self.model.record(
                day,
                "attack",
                self.group_id,
                config.targets,
                config.attack_rung,
                f"{self.name} attacks {target.name}",
            )
            if self.model.rng.random() < target.config.attribution:
                self.model.record(
                    day,
                    "blame",
                    config.targets,
                    config.based_in,
                    config.attack_rung,
                    f"{target.name} blames {host.name} for the attack",
                )
                target.perceive(config.based_in, config.attack_rung, day)
            else:
                self.model.record(
                    day,
                    "not_blamed",
                    config.targets,
                    config.based_in,
                    None,
                    f"{target.name} does not blame {host.name}",
                )

    def struck(self) -> None:
        self.capacity *= 1 - self.config.strike_damage

    def recover(self) -> None:
        self.capacity = min(1.0, self.capacity + self.config.recovery)


class MediatorAgent(mesa.Agent):
    """A third party that offers talks when the crisis reaches its trigger or on a set day."""

    model: EscalationModel

    def __init__(
        self,
        model: EscalationModel,
        mediator_id: str,
        config: MediatorConfig,
        offer_days: frozenset[int],
        forced_response: str | None,
    ) -> None:
        super().__init__(model)
        self.mediator_id = mediator_id
        self.config = config
        self.offer_days = offer_days
        self.forced_response = forced_response
        self.days_left = 0
        self.cooldown = 0
        self.offered = False
        self.accepted = False

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def active(self) -> bool:
        return self.days_left > 0

    def step(self) -> None:
        day = self.model.day
        if self.active:
            self.days_left -= 1
            if not self.active:
                self.cooldown = self.config.cooldown
                self.model.record(
                    day,
                    "mediation_end",
                    self.mediator_id,
                    None,
                    None,
                    f"{self.name}'s mediation ends",
                )
            return
        scripted = day in self.offer_days
        if self.cooldown > 0 and not scripted:
            self.cooldown -= 1
            return
        trigger = self.config.trigger_rung
        parties = [self.model.states[party] for party in self.config.parties]
        triggered = trigger is not None and any(party.top_rung >= trigger for party in parties)
        if scripted or triggered:
            self.offer_mediation(day, parties)

    def offer_mediation(self, day: int, parties: list[StateAgent]) -> None:
        self.offered = True
        self.model.record(
            day, "offer", self.mediator_id, None, None, f"{self.name} offers to mediate"
        )
        refusals = [party for party in parties if not self._accepts(party)]
        for party in refusals:
            self.model.record(
                day,
                "refuse",
                party.actor_id,
                self.mediator_id,
                None,
                f"{party.name} refuses {self.name}'s mediation",
            )
        if refusals:
            self.cooldown = self.config.cooldown
            return
        self.accepted = True
        self.days_left = self.config.duration
        everyone = "Both sides" if len(parties) == 2 else "All parties"
        self.model.record(
            day,
            "accept",
            self.mediator_id,
            None,
            None,
            f"{everyone} accept {self.name}'s mediation for {self.config.duration} days",
        )

    def _accepts(self, party: StateAgent) -> bool:
        if self.forced_response is not None:
            return self.forced_response == "accept"
        rung = np.array([party.top_rung], dtype=np.int64)
        return bool(party.config.mediation.accepts(rung, self.model.rng)[0])
