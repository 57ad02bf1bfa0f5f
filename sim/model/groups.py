"""An armed group as a Mesa agent: it attacks a state from its host's soil, and the target
decides whom to hold responsible; its attacks can spoil talks and ceasefires."""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from sim.model.scenario import ArmedGroupConfig
from sim.model.streams import Site
from sim.model.world import BoolArray, FloatArray, Rows, World


class ArmedGroupAgent(mesa.Agent):
    """An armed group attacking a state from its host's soil; it can spoil talks and ceasefires."""

    model: World[Any, ArmedGroupAgent, Any]

    def __init__(
        self, model: World[Any, ArmedGroupAgent, Any], group_id: str, config: ArmedGroupConfig
    ) -> None:
        super().__init__(model)
        self.group_id = group_id
        self.config = config
        self.index = list(model.config.armed_groups).index(group_id)
        self.capacity = np.full(model.worlds, config.capacity)
        self.attacks = np.zeros(model.worlds, dtype=np.int64)

    @property
    def name(self) -> str:
        return self.config.name

    def attack_rate(self) -> FloatArray:
        """Expected attacks today, per world: rate x capacity x tension x spoiling."""
        model, config = self.model, self.config
        tension = model.crisis_of(config.target) / model.ladder.war
        rate = config.daily_rate * self.capacity * (1 + config.tension_sensitivity * tension)
        if config.spoiler_boost:
            rate = rate * (1 + config.spoiler_boost * model.calming(config.target))
        return rate

    def step(self) -> None:
        """Perhaps attack today (a Poisson chance), in the worlds where it can."""
        model, config = self.model, self.config
        if not model.config.mechanisms.armed_groups or config.daily_rate == 0:
            return
        blocked = model.at_war_between(config.host, config.target)
        chance = 1 - np.exp(-self.attack_rate())
        draw = model.streams.uniform((Site.ATTACK, model.day, self.index))
        attacking = np.flatnonzero((draw < chance) & ~blocked)
        if attacking.size:
            self.attack(attacking, claimed=None, answered=False, description="")

    def attack(self, rows: Rows, *, claimed: bool | None, answered: bool, description: str) -> None:
        """An attack in ``rows``: claimed or not, then its target decides whom to blame."""
        model, config = self.model, self.config
        target = model.states[config.target]
        if claimed is None:
            claim_draw = model.streams.uniform((Site.CLAIM, model.day, self.index), rows)
            claims = claim_draw < config.claims
        else:
            claims = np.full(rows.size, claimed)
        model.tally.attacked(self.index, rows)
        if model.record:
            for world, claim in zip(rows, claims, strict=True):
                text = description or f"{self.name} attacks {target.name}" + (
                    " and claims it" if claim else ""
                )
                model.log(
                    int(world), "attack", self.group_id, config.target, config.attack_rung, text
                )
        for suspect in self.suspects():
            self._blame(suspect, rows, claims, answered)
        self.attacks[rows] += 1

    def suspects(self) -> list[str]:
        """States the target could hold responsible: its adversaries among host and sponsor."""
        config = self.config
        adversaries = self.model.config.adversaries(config.target)
        found = [config.host] if config.host in adversaries else []
        if config.sponsor in adversaries and config.sponsor not in found:
            found.append(config.sponsor)
        return found

    def blame_chance(self, suspect: str, rows: Rows, claims: BoolArray) -> FloatArray:
        """Chance the target blames ``suspect``: base odds times each piece of evidence."""
        config = self.config
        attribution = self.model.states[config.target].config.attribution
        base = attribution.base
        if base >= 1:
            return np.ones(rows.size)
        odds = np.full(rows.size, base / (1 - base))
        odds = odds * np.where(claims, attribution.claim, 1.0)
        if suspect == config.host and config.base_known:
            odds = odds * attribution.known_base
        if suspect == config.sponsor:
            odds = odds * attribution.sponsor
        odds = odds * attribution.per_attack ** np.minimum(self.attacks[rows], 3)
        return odds / (1 + odds)

    def _blame(self, suspect: str, rows: Rows, claims: BoolArray, answered: bool) -> None:
        model, config = self.model, self.config
        target = model.states[config.target]
        chance = self.blame_chance(suspect, rows, claims)
        suspect_index = list(model.config.actors).index(suspect)
        address = (Site.BLAME, model.day, model.round, self.index, suspect_index)
        blamed = model.streams.uniform(address, rows) < chance
        hit = rows[blamed]
        if model.record:
            host = model.states[suspect].name
            for world, yes in zip(rows, blamed, strict=True):
                model.log(
                    int(world),
                    "blame" if yes else "not_blamed",
                    config.target,
                    suspect,
                    config.attack_rung if yes else None,
                    f"{target.name} {'holds' if yes else 'does not hold'} {host} responsible",
                )
        model.tally.blamed(target.index, hit)
        target.perceive(
            suspect,
            hit,
            np.full(hit.size, config.attack_rung, dtype=np.int64),
            denied=np.zeros(hit.size, dtype=bool),
            answering=np.zeros(hit.size, dtype=bool),
            fog=model.day >= 1,
            answered=answered,
            site=100 + self.index,
        )

    def struck(self, rows: Rows) -> None:
        self.capacity[rows] *= 1 - self.config.strike_damage

    def cracked_down(self, rows: Rows) -> None:
        self.capacity[rows] *= 1 - self.config.crackdown_damage

    def recover(self) -> None:
        if self.config.recovery:
            np.minimum(1.0, self.capacity + self.config.recovery, out=self.capacity)
