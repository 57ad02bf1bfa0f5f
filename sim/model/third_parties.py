"""A third party as a Mesa agent: it presses the states as the crisis climbs, protects its
allies, and may offer talks, which can end in a ceasefire."""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from sim.model.record import Choice
from sim.model.scenario import ThirdPartyConfig
from sim.model.streams import Site
from sim.model.world import BoolArray, FloatArray, Rows, World


class ThirdPartyAgent(mesa.Agent):
    """A third party: presses the parties as the crisis climbs, protects its allies, and may
    offer talks that can end in a ceasefire."""

    model: World[Any, Any, ThirdPartyAgent]

    def __init__(
        self, model: World[Any, Any, ThirdPartyAgent], party_id: str, config: ThirdPartyConfig
    ) -> None:
        super().__init__(model)
        self.party_id = party_id
        self.config = config
        self.index = list(model.config.third_parties).index(party_id)
        self.mediation = config.mediation
        self.parties: tuple[str, ...] = config.mediation.parties if config.mediation else ()
        worlds = model.worlds
        self.talks = np.zeros(worlds, dtype=bool)
        self.next_offer = np.zeros(worlds, dtype=np.int64)
        self.refused_once = np.zeros(worlds, dtype=bool)
        self.refused = {state: np.zeros(worlds, dtype=bool) for state in model.config.actors}
        self.offer_days: frozenset[int] = frozenset()
        self._coalition_leverage: dict[str, float] = {}

    @property
    def name(self) -> str:
        return self.config.name

    def intensity(self, rows: Rows) -> FloatArray:
        """How hard it presses today: more the higher the crisis among its states stands."""
        pressure = self.config.pressure
        crisis = np.zeros(rows.size, dtype=np.int64)
        for state in self.config.leverage:
            np.maximum(crisis, self.model.crisis_of(state)[rows], out=crisis)
        return np.asarray(pressure.base + pressure.per_rung * crisis, dtype=np.float64)

    def pressure_on(self, state: str, rows: Rows) -> FloatArray:
        """Its pressure on ``state``: leverage x (intensity + what a refusal added)."""
        leverage = self.config.leverage.get(state, 0.0)
        if not leverage:
            return np.zeros(rows.size)
        extra = self.config.pressure.after_refusal * self.refused[state][rows]
        return leverage * (self.intensity(rows) + extra)

    def coalition(self) -> list[ThirdPartyAgent]:
        partners = self.mediation.joint_with if self.mediation else ()
        return [self, *(self.model.third_parties[p] for p in partners)]

    def coalition_leverage(self, state: str) -> float:
        """The summed leverage over ``state`` of this third party and its joint mediators."""
        if state not in self._coalition_leverage:
            self._coalition_leverage[state] = sum(
                member.config.leverage.get(state, 0.0) for member in self.coalition()
            )
        return self._coalition_leverage[state]

    def covers(self, a: str, b: str) -> bool:
        return a in self.parties and b in self.parties

    def step(self) -> None:
        """End of day: talks under way may end in a ceasefire; otherwise perhaps offer talks."""
        model = self.model
        if not model.config.mechanisms.third_parties or self.mediation is None:
            return
        if self.talks.any():
            rows = np.flatnonzero(self.talks)
            draw = model.streams.uniform((Site.AGREEMENT, model.day, self.index), rows)
            agreed = rows[draw < self.agreement_chance(rows)]
            if agreed.size:
                self.agree(agreed)
        scripted = model.day in self.offer_days
        wanted = scripted | self._triggered()
        allowed = ~self.talks & (self.next_offer <= model.day)
        if not self.mediation.offer_at_war:
            for a, b in self.pairs():
                allowed &= ~model.pair(a, b).at_war
        rows = np.flatnonzero(wanted & allowed)
        if rows.size:
            self.offer_mediation(rows)

    def agreement_chance(self, rows: Rows) -> FloatArray | float:
        """Today's chance that talks end in a ceasefire: the mediation's ``agreement_rate``,
        and with talks under fire, that rate times 1 + ``hurting_stalemate`` x the hurt of the
        side that has suffered less (a mutually hurting stalemate ripens talks: Zartman 1989,
        2000; hurt is summed over the strikes suffered, each the share of the cost of war it
        inflicts), capped at 1."""
        model = self.model
        assert self.mediation is not None
        rate = self.mediation.agreement_rate
        if not model.config.mechanisms.talks_under_fire:
            return rate
        mutual = np.zeros(rows.size)
        for a, b in self.pairs():
            hurt = np.minimum(model.states[a].hurt[b][rows], model.states[b].hurt[a][rows])
            np.maximum(mutual, hurt, out=mutual)
        return np.minimum(rate * (1 + model.config.decision.hurting_stalemate * mutual), 1.0)

    def agree(self, rows: Rows) -> None:
        """Talks end in an agreed ceasefire between every pair of its parties (the states then
        step down: ``StateAgent.cease_fire``)."""
        model = self.model
        self.talks[rows] = False
        model.log_each(
            rows,
            "agreement",
            self.party_id,
            None,
            None,
            f"Talks led by {self.name} end in a ceasefire",
        )
        for a, b in self.pairs():
            model.states[a].cease_fire(b, rows)

    def pairs(self) -> list[tuple[str, str]]:
        model = self.model
        return [
            (a, b)
            for i, a in enumerate(self.parties)
            for b in self.parties[i + 1 :]
            if model.config.relation(a, b) is not None
        ]

    def _triggered(self) -> BoolArray:
        model, trigger = self.model, self.mediation.trigger_rung if self.mediation else None
        triggered = np.zeros(model.worlds, dtype=bool)
        if trigger is None:
            return triggered
        for a, b in self.pairs():
            pair = model.pair(a, b)
            crisis = np.maximum(model.states[a].posture[b], model.states[b].posture[a])
            triggered |= (pair.acted_today >= trigger) | (self.refused_once & (crisis >= trigger))
        return triggered

    def offer_mediation(self, rows: Rows) -> None:
        """Offer talks in ``rows``; each party accepts or refuses by its mediation policy."""
        model = self.model
        assert self.mediation is not None
        model.tally.offered(rows)
        model.log_each(rows, "offer", self.party_id, None, None, f"{self.name} offers talks")
        accepted_by_all = np.ones(rows.size, dtype=bool)
        for party in self.parties:
            state = model.states[party]
            terms = state.mediation_gain(self, rows)
            gain = sum(terms.values(), np.zeros(rows.size))
            address = (Site.MEDIATION, model.day, self.index, state.index)
            u = model.streams.uniform(address, rows)
            accepts = state.config.mediation.accepts(gain, model.rationality, u)
            accepted_by_all &= accepts
            refusers = rows[~accepts]
            self.refused[party][refusers] = True
            if model.record:
                for i, world in enumerate(rows):
                    choice = Choice(
                        kind="mediation",
                        labels=("refuse", "accept"),
                        terms=({}, {name: float(value[i]) for name, value in terms.items()}),
                        utility=(0.0, float(gain[i])),
                        probability=(),
                        chosen=int(accepts[i]),
                    )
                    verb = "accepts" if accepts[i] else "refuses"
                    model.log(
                        int(world),
                        "accept_party" if accepts[i] else "refuse",
                        party,
                        self.party_id,
                        None,
                        f"{state.name} {verb} {self.name}'s talks",
                        choice,
                    )
        yes, no = rows[accepted_by_all], rows[~accepted_by_all]
        self.talks[yes] = True
        self.refused_once[no] = True
        self.next_offer[no] = model.day + 1 + self.mediation.cooldown
        model.tally.accepted(yes)
        model.log_each(yes, "accept", self.party_id, None, None, f"Talks led by {self.name} begin")

    def end_talks(self, rows: Rows, why: str) -> None:
        rows = rows[self.talks[rows]]
        if not rows.size:
            return
        self.talks[rows] = False
        assert self.mediation is not None
        self.next_offer[rows] = self.model.day + 1 + self.mediation.cooldown
        self.model.log_each(rows, "talks_end", self.party_id, None, None, why)
