"""A state as a Mesa agent, with all of its rules: "how does Pakistan decide to retaliate?"
is answered here, from the act it receives to the answer it sends.

In the order of an answer: ``receive_hostile`` (an act reaches the state at the round's end;
war, broken ceasefires and collapsed talks follow from it), ``perceive`` (misreading, the answer
scheduled, a pledge), ``decide`` then ``_answer`` (the options weighed by ``answer_model`` with
the terms of ``sim.model.decisions`` and the two-level ``predicted_answer``, the choice made by
the state's policy, ``sim.model.policies``), and ``_send``; the adversary then learns from the
act in its own ``receive_hostile`` (``update_belief``). Reviews, steps down and ceasefires
(``_review``, ``receive_conciliation``, ``cease_fire``) and scripted acts (``scripted_act``) are
here too. One class, so kept in one file although it is long.

One ``StateAgent`` is one state in many parallel runs ("worlds"): its state is numpy arrays over
worlds, and it acts on all of them in one call. A world's random numbers come from its own
stream (``sim.model.streams``), addressed by what they decide, so a world behaves the same
whichever other worlds share its batch.
"""

from __future__ import annotations

import mesa
import numpy as np
from numpy.typing import NDArray

from sim.model import decisions
from sim.model.decisions import AnswerSituation, Options, ReviewSituation
from sim.model.groups import ArmedGroupAgent
from sim.model.ladder import STATE_TARGETS
from sim.model.memo import RowMemo, unique_rows
from sim.model.policies import Situation
from sim.model.record import Acts, Choice, Weighing
from sim.model.scenario import ActEvent, ConciliateEvent, StateConfig
from sim.model.streams import Site
from sim.model.third_parties import ThirdPartyAgent
from sim.model.world import NEVER, BoolArray, FloatArray, IntArray, Rows, World


class StateAgent(mesa.Agent):
    """A state: its posture towards each adversary, what it owes them, its pledges and beliefs.

    Per adversary ``b`` (arrays over worlds): ``posture[b]``, the rung it stands at towards b;
    ``owed[b]``, the gravest act of b it has perceived and not yet answered (0: none) and
    ``owed_due[b]``, the clock (day x rounds + round) when its answer is due; ``react_due[b]``,
    when a first diplomatic reaction is due; ``pledge[b]``, an open public pledge to answer b;
    ``belief[b]`` (worlds x types), its belief about b's resolve; ``conciliated[b]``, whether b
    stepped down towards it since it last acted. Its own ``resolve`` is drawn once per world.
    """

    model: World[StateAgent, ArmedGroupAgent, ThirdPartyAgent]

    def __init__(
        self,
        model: World[StateAgent, ArmedGroupAgent, ThirdPartyAgent],
        actor_id: str,
        config: StateConfig,
    ) -> None:
        super().__init__(model)
        self.actor_id = actor_id
        self.config = config
        self.index = list(model.config.actors).index(actor_id)
        self.policy = config.retaliation
        worlds = model.worlds
        self.resolve = config.resolve.quantile(model.streams.uniform((Site.RESOLVE, self.index)))
        self.types = config.resolve.grid(model.config.decision.belief_types)
        self.adversaries = model.config.adversaries(actor_id)
        self.posture: dict[str, IntArray] = {}
        self.baseline: dict[str, int] = {}
        self.ties: dict[str, float] = {}
        self._memos: dict[tuple[str, bool], RowMemo] = {}
        for other in self.adversaries:
            relation = model.config.relation(actor_id, other)
            assert relation is not None
            self.baseline[other] = relation.baseline
            self.ties[other] = relation.economic_ties
            self.posture[other] = np.full(worlds, relation.baseline, dtype=np.int64)
        zeros = {b: np.zeros(worlds, dtype=np.int64) for b in self.adversaries}
        self.owed = zeros
        self.owed_due = {b: np.full(worlds, NEVER, dtype=np.int64) for b in self.adversaries}
        self.owed_denied = {b: np.zeros(worlds, dtype=bool) for b in self.adversaries}
        self.owed_reprisal = {b: np.zeros(worlds, dtype=bool) for b in self.adversaries}
        self.last_act = {b: np.zeros(worlds, dtype=np.int64) for b in self.adversaries}
        self.react_due = {b: np.full(worlds, NEVER, dtype=np.int64) for b in self.adversaries}
        self.acted_day = {b: np.full(worlds, -1, dtype=np.int64) for b in self.adversaries}
        """The day of this state's latest hostile act towards each adversary: no step down that
        day, so an act is never undone before its target has seen it."""
        self.pledge = {b: np.zeros(worlds, dtype=bool) for b in self.adversaries}
        self.operation = {b: np.zeros(worlds, dtype=np.int64) for b in self.adversaries}
        # the armed group an operation strikes each day (-1: the state itself)
        self.operation_group = {b: np.full(worlds, -1, dtype=np.int64) for b in self.adversaries}
        """The rung of the operation this state carries on against each adversary (0: none)."""
        self.struck_day = {b: np.full(worlds, NEVER, dtype=np.int64) for b in self.adversaries}
        """The day this state last struck each adversary's forces or leaders."""
        self.measures = {b: np.zeros(worlds, dtype=bool) for b in self.adversaries}
        """Non-kinetic measures in force against each adversary (envoys recalled or expelled, a
        border or airspace closed, trade or visas suspended): a channel of its own beside the
        posture, lifted only by a visible act (mechanism ``sticky_measures``)."""
        self.hurt = {b: np.zeros(worlds) for b in self.adversaries}
        """The hurt this state has suffered from each adversary's strikes: the sum over strikes
        of (rung / war) ** cost_convexity, the share of the cost of war each inflicts."""
        self.conciliated = {b: np.zeros(worlds, dtype=bool) for b in self.adversaries}
        self.memory = {b: np.zeros(worlds) for b in self.adversaries}
        self.belief: dict[str, FloatArray] = {}
        self.answers: dict[str, Options] = {}
        self.reviews: dict[str, Options] = {}

    def setup(self) -> None:
        """Beliefs and option tables, once every agent exists."""
        model = self.model
        for other in self.adversaries:
            types = model.config.decision.belief_types
            self.belief[other] = np.full((model.worlds, types), 1.0 / types)
            struck = {
                g: group.name
                for g, group in enumerate(model.groups.values())
                if group.config.host == other and group.config.target == self.actor_id
            }
            self.answers[other] = decisions.answer_options(
                model.ladder, struck, model.config.mechanisms.warnings
            )
            hosted = {
                g: group.name
                for g, group in enumerate(model.groups.values())
                if group.config.host == self.actor_id and group.config.target == other
            }
            self.reviews[other] = decisions.review_options(hosted)

    @property
    def name(self) -> str:
        return self.config.name

    def top_posture(self) -> IntArray:
        """Its highest posture towards any adversary, per world."""
        top = np.zeros(self.model.worlds, dtype=np.int64)
        for b in self.adversaries:
            np.maximum(top, self.posture[b], out=top)
        return top

    # ------------------------------------------------------------------ perceiving

    def perceive(
        self,
        other: str,
        rows: Rows,
        severity: IntArray,
        *,
        denied: BoolArray,
        answering: BoolArray,
        fog: bool,
        answered: bool,
        site: int,
    ) -> IntArray:
        """Perceive hostile acts of ``other`` (read at ``severity``) and schedule the answers.

        Returns the severity as perceived. Misreading by one rung (Jervis 1976) happens with the
        state's perception error when ``fog`` is on; an act already ``answered`` (history) sets
        nothing to answer. An act that answered this state's own act at no more than its
        severity is a reprisal: it closes the account rather than opening a new one.
        """
        model = self.model
        perceived = severity.copy()
        top = model.ladder.war - 1
        if fog and model.config.mechanisms.misperception and rows.size:
            error = self.config.perception
            address = (Site.MISREAD, site, model.day, model.round, self.index)
            misread = model.streams.uniform(address, rows) < error.error
            up = model.streams.uniform((Site.MISREAD_UP, *address[1:]), rows) < error.upward_share
            shifted = np.minimum(np.maximum(perceived + np.where(up, 1, -1), 1), top)
            perceived = np.where(misread & (severity < model.ladder.war), shifted, perceived)
            self._note_misreadings(other, rows, severity, perceived)
        if answered or not rows.size:
            return perceived
        clock = model.clock
        owed = self.owed[other]
        fresh = owed[rows] == 0
        owed[rows] = np.maximum(owed[rows], perceived)
        self.owed_denied[other][rows] = np.where(
            fresh, denied, self.owed_denied[other][rows] & denied
        )
        reprisal = answering & (perceived <= self.last_act[other][rows])
        self.owed_reprisal[other][rows] = np.where(
            fresh, reprisal, self.owed_reprisal[other][rows] & reprisal
        )
        delay = self.policy.delay
        due = clock + 1 if delay == 0 else (model.day + delay) * model.rounds
        due = max(due, model.first_clock)
        self.owed_due[other][rows] = np.where(fresh, due, self.owed_due[other][rows])
        if self.policy.classifier["signals"]:
            struck = perceived >= model.ladder.strike_rung
            reacting = self._schedule_reaction(other, rows[struck])
            if not reacting:
                self._maybe_pledge(other, rows, np.where(reprisal, 0, perceived))
        return perceived

    def _schedule_reaction(self, other: str, rows: Rows) -> bool:
        """Schedule a first diplomatic reaction to a strike if the answer takes longer (False if
        reactions never come before this state's answers)."""
        mechanisms = self.model.config.mechanisms
        delay, reaction = self.policy.delay, self.policy.reaction_delay
        if not mechanisms.reactions or reaction >= delay:
            return False
        if not rows.size:
            return True
        model = self.model
        due = model.clock + 1 if reaction == 0 else (model.day + reaction) * model.rounds
        due = max(due, model.first_clock)
        pending = self.react_due[other]
        pending[rows] = np.where(pending[rows] == NEVER, due, pending[rows])
        return True

    def _maybe_pledge(self, other: str, rows: Rows, perceived: IntArray) -> None:
        model = self.model
        if not model.config.mechanisms.commitments or self.config.pledge == 0:
            return
        struck = (perceived >= model.ladder.strike_rung) & ~self.pledge[other][rows]
        address = (Site.PLEDGE, model.day, model.round, self.index)
        draw = model.streams.uniform(address, rows)
        pledging = rows[struck & (draw < self.config.pledge)]
        self.make_pledge(other, pledging, "")

    def make_pledge(self, other: str, rows: Rows, description: str) -> None:
        if not rows.size:
            return
        self.pledge[other][rows] = True
        model = self.model
        model.tally.pledged(self.index, rows)
        if model.record:
            target = model.states[other].name
            text = description or f"{self.name} pledges publicly to answer {target}"
            model.log_each(rows, "pledge", self.actor_id, other, None, text)

    def _note_misreadings(
        self, other: str, rows: Rows, severity: IntArray, perceived: IntArray
    ) -> None:
        model = self.model
        model.tally.misread(rows[perceived > severity])
        if model.record:
            for i in np.flatnonzero(perceived != severity):
                model.log(
                    int(rows[i]),
                    "misperceive",
                    self.actor_id,
                    other,
                    int(perceived[i]),
                    f"{self.name} reads it as '{model.ladder.name(int(perceived[i]))}'",
                )

    # ------------------------------------------------------------------ acted upon

    def receive_hostile(self, acts: Acts, *, fog: bool = True, answered: bool = False) -> None:
        """Hostile acts of ``acts.actor`` reach this state (at the round's end).

        The actor now stands at the act's rung; a strike ends talks between the two and breaks
        their ceasefire, an act of war starts a war. This state perceives the act (``perceive``:
        it may misread it, and owes an answer unless the act was ``answered`` in the history)
        and learns about the actor's resolve from the option it believes was taken.
        """
        model = self.model
        model.postures_changed()
        actor = model.states[acts.actor]
        ladder = model.ladder
        rows = acts.rows
        strike = acts.rung >= ladder.strike_rung
        model.tally.acted(actor.index, rows, acts.rung, acts.on_state, strike)
        pair = model.pair(actor.actor_id, self.actor_id)
        pair.acted_today[rows] = np.maximum(pair.acted_today[rows], acts.rung)
        if model.record:
            self._log_acts(acts)
        war = acts.rung == ladder.war
        if war.any():
            self._go_to_war(actor, rows[war])
        keep = ~war
        rows = rows[keep]
        if not rows.size:
            return
        actor.stand_at(self.actor_id, rows, acts.rung[keep], acts.effective[keep])
        striking = rows[strike[keep]]
        if striking.size:
            kept = acts.effective[keep][strike[keep]]
            self.hurt[actor.actor_id][striking] += (
                kept / ladder.war
            ) ** model.weights.cost_convexity
            on_state = acts.on_state[keep][strike[keep]]
            actor.struck_day[self.actor_id][striking[on_state]] = model.day
            if model.config.mechanisms.operations and not acts.fighting:
                actor.open_operation(
                    self.actor_id,
                    striking,
                    acts.rung[keep][strike[keep]],
                    acts.group[keep][strike[keep]],
                    acts.operation,
                )
        group = acts.group[keep]
        for g in np.unique(group[group >= 0]):
            model.group_list[int(g)].struck(rows[group == g])
        self.conciliated[actor.actor_id][rows] = False
        if striking.size:
            self._strike_ends_calm(actor, striking)
            self.take_measures(actor.actor_id, striking)
        perceived = self.perceive(
            actor.actor_id,
            rows,
            acts.effective[keep],
            denied=acts.denied[keep],
            answering=acts.answering[keep],
            fog=fog,
            answered=answered,
            site=actor.index,
        )
        if acts.likelihood is not None:
            option = self._perceived_option(actor, acts, keep, perceived)
            self.update_belief(actor.actor_id, rows, acts.likelihood[keep], option)

    def stand_at(self, other: str, rows: Rows, rung: IntArray, effective: IntArray) -> None:
        """This state's own acts towards ``other`` were delivered: its posture climbs to their
        rung, and the last act it will take an answer to as a reprisal is their severity."""
        self.posture[other][rows] = np.maximum(self.posture[other][rows], rung)
        self.conciliated[other][rows] = False
        self.last_act[other][rows] = effective
        if self.model.config.mechanisms.sticky_measures:
            ladder = self.model.ladder
            taken = (rung < ladder.strike_rung) & (rung > self.baseline[other])
            self.measures[other][rows[taken]] = True

    def receive_conciliation(self, acts: Acts) -> None:
        """``acts.actor`` steps down towards this state (or cracks down on a group it hosts):
        this state notes the conciliation and learns from it, as from a hostile act."""
        model = self.model
        model.postures_changed()
        actor = model.states[acts.actor]
        crackdown = acts.group >= 0
        for g in np.unique(acts.group[crackdown]):
            model.group_list[int(g)].cracked_down(acts.rows[acts.group == g])
        stepping = ~crackdown
        actor.step_down(self.actor_id, acts.rows[stepping], acts.level[stepping])
        self.conciliated[actor.actor_id][acts.rows] = True
        if model.record:
            for i, world in enumerate(acts.rows):
                if crackdown[i]:
                    group = model.group_list[int(acts.group[i])]
                    text = f"{actor.name} cracks down on {group.name}"
                    rung = None
                else:
                    rung = int(acts.level[i])
                    text = (
                        f"{actor.name} steps down towards {self.name}: "
                        f"back to '{model.ladder.name(rung)}'"
                    )
                model.log(
                    int(world),
                    "crackdown" if crackdown[i] else "conciliate",
                    actor.actor_id,
                    self.actor_id,
                    rung,
                    acts.description or text,
                    acts.choices.get(i),
                )
        if acts.likelihood is not None:
            self.update_belief(actor.actor_id, acts.rows, acts.likelihood, acts.option)

    def step_down(self, other: str, rows: Rows, level: IntArray) -> None:
        """This state's posture towards ``other`` falls to ``level`` (never climbs here)."""
        self.posture[other][rows] = np.minimum(self.posture[other][rows], level)

    def _perceived_option(
        self, actor: StateAgent, acts: Acts, keep: BoolArray, perceived: IntArray
    ) -> IntArray:
        """The option this state believes ``actor`` took: the actual one unless misread, else
        the unannounced act at the rung it read (-1 if the actor has no such option)."""
        options = actor.answers[self.actor_id]
        plain = ~options.announced
        lookup = np.full(self.model.ladder.size, -1, dtype=np.int64)
        for o in range(options.size - 1, -1, -1):
            if plain[o]:
                lookup[options.rung[o]] = o
        return np.where(perceived == acts.effective[keep], acts.option[keep], lookup[perceived])

    def update_belief(
        self, other: str, rows: Rows, likelihood: NDArray[np.float32], option: IntArray
    ) -> None:
        """Bayes' rule: this state's belief about ``other``'s resolve times the likelihood of
        the option it saw ``other`` take (-1: an option it cannot place; no update)."""
        if not self.model.config.mechanisms.beliefs:
            return
        known = option >= 0
        rows, option, likelihood = rows[known], option[known], likelihood[known]
        if not rows.size:
            return
        weights = likelihood[np.arange(rows.size), :, option]
        posterior = self.belief[other][rows] * weights
        sums = decisions.last_sum(posterior)[:, None]
        valid = sums[:, 0] > 0
        self.belief[other][rows[valid]] = posterior[valid] / sums[valid]

    def _strike_ends_calm(self, actor: StateAgent, rows: Rows) -> None:
        """A strike breaks the two states' ceasefire and, unless talks go on under fire
        (mechanism ``talks_under_fire``), collapses talks between them."""
        model = self.model
        for party in model.third_parties.values():
            if model.config.mechanisms.talks_under_fire:
                break
            if party.mediation is not None and party.covers(actor.actor_id, self.actor_id):
                party.end_talks(
                    rows, f"Talks led by {party.name} collapse after {actor.name}'s strike"
                )
        pair = model.pair(actor.actor_id, self.actor_id)
        broken = rows[pair.ceasefire[rows]]
        pair.ceasefire[broken] = False
        model.log_each(
            broken,
            "ceasefire_broken",
            actor.actor_id,
            self.actor_id,
            None,
            f"{actor.name} breaks the ceasefire with {self.name}",
        )

    def _go_to_war(self, actor: StateAgent, rows: Rows) -> None:
        """An act of war: the two are at war (at the war rung, nothing left to answer or
        pledge), and talks between them end."""
        model = self.model
        model.postures_changed()
        pair = model.pair(actor.actor_id, self.actor_id)
        rows = rows[~pair.at_war[rows]]
        if not rows.size:
            return
        pair.at_war[rows] = True
        pair.ceasefire[rows] = False
        pair.engaged[rows] = False
        actor.settle(self.actor_id, rows, model.ladder.war)
        self.settle(actor.actor_id, rows, model.ladder.war)
        for party in model.third_parties.values():
            if party.mediation is not None and party.covers(actor.actor_id, self.actor_id):
                party.end_talks(rows, f"Talks led by {party.name} end: war")
        model.tally.went_to_war(rows)
        model.log_each(
            rows,
            "war",
            actor.actor_id,
            self.actor_id,
            model.ladder.war,
            f"War between {actor.name} and {self.name}",
        )

    def settle(self, other: str, rows: Rows, posture: int | None = None) -> None:
        """Nothing left to answer, react to or pledge towards ``other`` (war or ceasefire);
        at ``posture`` if given."""
        if posture is not None:
            self.posture[other][rows] = posture
        self.operation[other][rows] = 0
        self.owed[other][rows] = 0
        self.owed_due[other][rows] = NEVER
        self.react_due[other][rows] = NEVER
        self.pledge[other][rows] = False

    def cease_fire(
        self, other: str, rows: Rows, description: str = "", *, truce: bool = False
    ) -> None:
        """A ceasefire with ``other`` (agreed in talks, or scripted; a ``truce`` if the two
        agreed it alone): what was owed is settled, pledges lapse with face saved, and both
        sides step down below the strike rung."""
        model = self.model
        pair = model.pair(self.actor_id, other)
        rows = rows[~pair.at_war[rows]]
        pair.ceasefire[rows] = True
        pair.truce[rows] = truce
        pair.engaged[rows] = False
        model.tally.ceasefire(rows)
        if description:
            model.log_each(rows, "ceasefire", self.actor_id, other, None, description)
        self._stand_down(other, rows)
        model.states[other]._stand_down(self.actor_id, rows)

    def talk_directly(self) -> None:
        """At the day's end (mechanism ``direct_talks``): with each adversary whose strikes
        have hurt it and whom its own strikes have hurt, in a crisis not yet over, not at war,
        in no ceasefire and in no mediated talks, this state agrees a ceasefire between the two
        of them with the daily chance ``direct_agreement_rate`` x (1 + ``hurting_stalemate`` x
        the lesser of the two sides' hurt), capped at 1. Kept by the state first in the
        scenario's order.

        Most interstate crises end without a mediator, by direct bargaining (Wilkenfeld et
        al. 2003 on ICB crisis management); the same ripeness that brings mediated talks to
        agreement, a mutually hurting stalemate, brings direct talks there (Zartman 2000), and
        mediated talks reach agreement more often (Beardsley 2011), so the rate is a share of
        the mediated one. Drawn as a hazard, not weighed: the model has no utility of an
        agreement for each side yet. Without it, a crisis with no mediator could end in a
        ceasefire in no run at all (in five of the library's crises that had one, the model
        gave it 0%).

        Such a ceasefire is a *truce*: it stops the fire, but it is not a settlement, so the
        measures each side took stay until lifted at the slow ``measure_review_rate``
        (``_lift_measures``). A teaching rule chosen on the library's 40 crises: with the
        truce lifting measures as a mediated agreement does, calm within 60 days was forecast
        far too often (skill against the base rate -0.68 against -0.20).
        """
        model = self.model
        if not model.config.mechanisms.direct_talks:
            return
        decision = model.config.decision
        for other in self.adversaries:
            j = self.adversary_index(other)
            if j < self.index:
                continue
            them = model.states[other]
            pair = model.pair(self.actor_id, other)
            hurt = np.minimum(self.hurt[other], them.hurt[self.actor_id])
            open_crisis = (
                (self.posture[other] > self.baseline[other])
                | (them.posture[self.actor_id] > them.baseline[self.actor_id])
                | (self.owed[other] > 0)
                | (them.owed[self.actor_id] > 0)
                | self.measures[other]
                | them.measures[self.actor_id]
                | pair.engaged
            )
            eligible = (hurt > 0) & open_crisis & ~pair.at_war & ~pair.ceasefire
            for party in model.third_parties.values():
                if party.mediation is not None and party.covers(self.actor_id, other):
                    eligible &= ~party.talks
            rows = np.flatnonzero(eligible)
            if not rows.size:
                continue
            chance = np.minimum(
                decision.direct_agreement_rate * (1 + decision.hurting_stalemate * hurt[rows]),
                1.0,
            )
            address = (Site.DIRECT_AGREEMENT, model.day, self.index, j)
            agreed = rows[model.streams.uniform(address, rows) < chance]
            if agreed.size:
                self.cease_fire(
                    other,
                    agreed,
                    f"{self.name} and {them.name} agree a ceasefire between themselves, with no "
                    "mediator",
                    truce=True,
                )

    def _stand_down(self, other: str, rows: Rows) -> None:
        """Under a new ceasefire: settle what is owed and step down below the strike rung."""
        self.settle(other, rows)
        posture = self.posture[other][rows]
        below = self.model.ladder.strike_rung - 1
        level = np.maximum(np.minimum(posture, below), self.baseline[other])
        stepping = level < posture
        if stepping.any():
            conciliation = Acts.conciliation(self.actor_id, other, rows[stepping], level[stepping])
            self.model.states[other].receive_conciliation(conciliation)

    def _log_acts(self, acts: Acts) -> None:
        """In a story: the acts of ``acts.actor`` towards this state, in words."""
        model = self.model
        ladder = model.ladder
        a, b = model.states[acts.actor], self
        for i, world in enumerate(acts.rows):
            rung = int(acts.rung[i])
            group = int(acts.group[i])
            what = f"'{ladder.name(rung)}'"
            if group >= 0:
                what += f" against {model.group_list[group].name}"
            if acts.location:
                location = acts.location[i]
            elif group >= 0:
                location = model.group_list[group].config.host
            else:
                location = b.actor_id if rung >= ladder.strike_rung else None
            if location and location != b.actor_id and location in model.states:
                what += f" on {model.states[location].name}'s soil"
            if acts.announced[i]:
                what += ", announced in advance"
            kind = "strike" if rung >= ladder.strike_rung else "act"
            verb = (
                "reacts to"
                if acts.choices.get(i) and acts.choices[i].kind == "reaction"
                else "answers"
            )
            text = acts.description or f"{a.name} {verb} {b.name}: {what}"
            if acts.fighting == "operation":
                text = f"{a.name} carries on its operation against {b.name}: {what}"
            elif acts.fighting == "engagement":
                text = f"{a.name}'s forces in contact with {b.name}'s fire again: {what}"
            model.log(
                int(world),
                kind,
                a.actor_id,
                b.actor_id,
                rung,
                text,
                acts.choices.get(i),
                target_kind=acts.target_kinds[i] if acts.target_kinds else ladder.target(rung),
                group=model.group_list[group].group_id if group >= 0 else None,
                location=location,
                casualties=(acts.casualties[i] if acts.casualties else None)
                or _lower(ladder.casualties(rung), bool(acts.announced[i])),
                announced=bool(acts.announced[i]),
                denied=bool(acts.denied[i]),
                fighting=acts.fighting or None,
            )

    # ------------------------------------------------------------------ fighting that goes on

    def open_operation(
        self,
        other: str,
        rows: Rows,
        rung: IntArray,
        group: IntArray,
        declared: bool | None = None,
    ) -> None:
        """This state's strikes on ``other`` were delivered: where no operation was under way,
        a strike at the sustained rung (the rung below war) opens one at that rung, carried on
        day after day (``keep_fighting``) until this state stops it, a ceasefire or war.

        The ladder names that rung a sustained exchange of fire: a campaign of punishment or
        denial (Pape 1996; Byman & Waxman 2002) rather than a one-off act, so a state that
        chooses it goes on with it, each day's strike a fresh act its target may answer.

        A scripted act may say what it was (``declared``, encoding rule 5b of
        docs/cases/README.md): an act its author declared open-ended opens an operation at its
        own rung, whatever the rung, and an act its author declared done, or that was one
        night's strike, opens none, however deadly: the rung says how grave an act is, the
        declaration whether it goes on. An operation against an armed group's bases strikes
        that group each day.
        """
        model = self.model
        if declared is False:
            return
        going = rung >= (model.ladder.strike_rung if declared else model.ladder.sustained)
        opening = going & (self.operation[other][rows] == 0)
        rung, group, opening = rung[opening], group[opening], rows[opening]
        if not opening.size:
            return
        self.operation[other][opening] = np.minimum(rung, model.ladder.sustained)
        self.operation_group[other][opening] = group
        for level in np.unique(self.operation[other][opening]) if model.record else ():
            at = opening[self.operation[other][opening] == level]
            model.log_each(
                at,
                "operation",
                self.actor_id,
                other,
                int(level),
                f"{self.name} opens an operation against {model.states[other].name}: it will "
                "strike day after day until it stops, a ceasefire or war",
            )

    def keep_fighting(self) -> None:
        """Each morning (mechanism ``operations``): this state's operations carry on, with the
        daily chance ``decision.operation_continuation``, or stop; and each engagement of its
        forces with an adversary's (kept by the state first in the scenario's order) goes on,
        with the chance ``decision.engagement_continuation``, both sides firing, or dies out.

        Carrying on is drawn as a hazard, not weighed as a decision: a campaign's length is set
        by its plan, its costs and the pressure on its author, which this model does not yet
        weigh day by day (the model review's §3.2 gives a utility for it).
        """
        model = self.model
        if not model.config.mechanisms.operations:
            return
        decision = model.config.decision
        for other in self.adversaries:
            pair = model.pair(self.actor_id, other)
            j = self.adversary_index(other)
            rows = np.flatnonzero(self.operation[other] > 0)
            if rows.size:
                address = (Site.OPERATION, model.day, self.index, j)
                going = model.streams.uniform(address, rows) < decision.operation_continuation
                stopping = rows[~going]
                self.operation[other][stopping] = 0
                model.log_each(
                    stopping,
                    "operation_end",
                    self.actor_id,
                    other,
                    None,
                    f"{self.name} ends its operation against {model.states[other].name}",
                )
                rows = rows[going]
                self._fire(
                    other,
                    rows,
                    self.operation[other][rows],
                    "operation",
                    self.operation_group[other][rows],
                )
            rows = np.flatnonzero(pair.engaged) if self.index < j else rows[:0]
            if rows.size:
                address = (Site.ENGAGEMENT, model.day, self.index, j)
                going = model.streams.uniform(address, rows) < decision.engagement_continuation
                ending = rows[~going]
                pair.engaged[ending] = False
                model.log_each(
                    ending,
                    "engagement_end",
                    self.actor_id,
                    other,
                    None,
                    f"The engagement of {self.name}'s and {model.states[other].name}'s forces "
                    "dies out",
                )
                rows = rows[going]
                rung = np.full(rows.size, model.ladder.first_on_state, dtype=np.int64)
                self._fire(other, rows, rung, "engagement")
                model.states[other]._fire(self.actor_id, rows, rung, "engagement")

    def engage(self) -> None:
        """At the day's end: forces in contact (a relation whose baseline is a force posture or
        more) that struck each other today fall into an engagement, which goes on by its own
        dynamics (local commanders, rules of engagement) until it dies out, a ceasefire or war.
        Kept by the state first in the scenario's order."""
        model = self.model
        if not model.config.mechanisms.operations:
            return
        for other in self.adversaries:
            j = self.adversary_index(other)
            if j < self.index or self.baseline[other] < model.ladder.strike_rung - 1:
                continue
            pair = model.pair(self.actor_id, other)
            today = (self.struck_day[other] == model.day) & (
                model.states[other].struck_day[self.actor_id] == model.day
            )
            rows = np.flatnonzero(today & ~pair.engaged & ~pair.at_war & ~pair.ceasefire)
            if not rows.size:
                continue
            pair.engaged[rows] = True
            model.log_each(
                rows,
                "engagement",
                self.actor_id,
                other,
                None,
                f"The forces of {self.name} and {model.states[other].name}, in contact, fall "
                "into an engagement: their exchanges of fire go on by their own dynamics",
            )

    def _fire(
        self,
        other: str,
        rows: Rows,
        rung: IntArray,
        fighting: str,
        group: IntArray | None = None,
    ) -> None:
        """A day of fighting that goes on: strikes at ``rung`` on ``other`` in ``rows`` (on the
        armed group ``group`` where it is not -1)."""
        if not rows.size:
            return
        model = self.model
        options = self.answers[other]
        n = rows.size
        group = np.full(n, -1, dtype=np.int64) if group is None else group
        unannounced = {
            (int(options.rung[o]), int(options.group[o])): o
            for o in range(options.size - 1, -1, -1)
            if not options.announced[o]
        }
        option = np.array(
            [unannounced.get((int(r), int(g)), 0) for r, g in zip(rung, group, strict=True)],
            dtype=np.int64,
        )
        model.enqueue(
            Acts(
                actor=self.actor_id,
                target=other,
                rows=rows,
                hostile=True,
                rung=rung,
                effective=rung,
                on_state=np.array(
                    [
                        model.ladder.target(int(r)) in STATE_TARGETS and g < 0
                        for r, g in zip(rung, group, strict=True)
                    ]
                ),
                group=group,
                announced=np.zeros(n, dtype=bool),
                denied=np.zeros(n, dtype=bool),
                answering=np.zeros(n, dtype=bool),
                level=np.full(n, -1, dtype=np.int64),
                option=option,
                likelihood=None,
                labels=options.labels,
                fighting=fighting,
            )
        )

    # ------------------------------------------------------------------ deciding

    def decide(self) -> None:
        """This round's decisions towards each adversary: answers due, reactions, reviews."""
        model = self.model
        for other in self.adversaries:
            peace = ~model.pair(self.actor_id, other).at_war
            due = (self.owed[other] > 0) & (self.owed_due[other] <= model.clock) & peace
            if due.any():
                self._answer(other, np.flatnonzero(due))
            reacting = (
                (self.react_due[other] != NEVER) & (self.react_due[other] <= model.clock) & peace
            )
            if reacting.any():
                rows = np.flatnonzero(reacting)
                # a reaction is an act without force above the standing posture: none may be left
                room = self.posture[other][rows] < model.ladder.strike_rung - 1
                full = rows[~room]
                self.react_due[other][full] = NEVER
                owed = self.owed[other][full]
                self._maybe_pledge(other, full, np.where(self.owed_reprisal[other][full], 0, owed))
                if room.any():
                    self._react(other, rows[room])
            if model.round == 0:
                self._review(other, peace)
                if model.config.mechanisms.sticky_measures:
                    self._lift_measures(other, peace)
                self.policy.forget(self.memory[other])

    def answer_situation(
        self,
        other: str,
        rows: Rows,
        received: IntArray,
        *,
        parts: bool = True,
        success: FloatArray | None = None,
    ) -> AnswerSituation:
        """What this state weighs when answering ``other`` in the worlds ``rows``
        (``parts``: also each third party's share of the pressure, for stories)."""
        model = self.model
        pressure, by_party = model.pressure_on(self.actor_id, other, rows, parts=parts)
        talks, face_saving = model.talks_between(self.actor_id, other, rows)
        commitments = model.config.mechanisms.commitments
        return AnswerSituation(
            received=received,
            resolve=self.resolve[rows],
            posture=self.posture[other][rows],
            denied=self.owed_denied[other][rows],
            reprisal=self.owed_reprisal[other][rows],
            success=success,
            cost=self.config.cost + self.ties[other],
            pressure=pressure,
            pressure_parts=by_party,
            protection=model.protection_of(other, self.actor_id, rows),
            pledge=self.pledge[other][rows] if commitments else np.zeros(rows.size, dtype=bool),
            audience_cost=self.config.audience_cost,
            talks=talks,
            face_saving=face_saving,
            ceasefire=model.pair(self.actor_id, other).ceasefire[rows],
            adversary_nuclear=model.config.mechanisms.nuclear
            and model.states[other].config.nuclear,
        )

    def answer_model(
        self, other: str, rows: Rows, received: IntArray, *, reaction: bool = False
    ) -> tuple[Options, dict[str, FloatArray], BoolArray]:
        """The options, their terms (risk included) and availability for an answer to ``other``."""
        model = self.model
        options = self.answers[other]
        harm, quiet = model.states[other].predicted_answer(self.actor_id, rows)
        belief = self.belief[other][rows]
        success = decisions.by_belief(options, belief, quiet)
        situation = self.answer_situation(other, rows, received, success=success)
        terms = decisions.answer_terms(
            options, situation, model.weights, model.ladder, reaction=reaction
        )
        terms["risk"] = decisions.risk_term(options, belief, harm, model.weights.risk)
        available = decisions.answer_available(
            options, situation.posture, model.ladder.strike_rung, reaction=reaction
        )
        return options, terms, available

    def predicted_answer(
        self, other: str, rows: Rows, *, look_ahead: bool = True
    ) -> tuple[FloatArray, FloatArray]:
        """How this state would answer ``other``: harm and quiet, each (n, war + 1, K); see
        ``decisions.predicted_answer``.

        With ``look_ahead`` (the prediction ``other`` makes before acting) this state weighs the
        risk of ``other``'s counter-answer, predicted without look-ahead: two levels of the
        cognitive hierarchy. ``other`` cannot see what this state believes of it, so it credits
        this state with the common prior (its types equally likely).
        """
        harm, quiet, inverse = self._predict(other, rows, look_ahead)
        return harm[inverse], quiet[inverse]

    def _predict(
        self, other: str, rows: Rows, look_ahead: bool
    ) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
        """``predicted_answer`` for the distinct situations among ``rows`` only, and for each
        row the number of its situation: worlds where this state stands alike share one
        computation."""
        model = self.model
        options = self.answers[other]
        received = np.zeros(rows.size, dtype=np.int64)
        s = self.answer_situation(other, rows, received, parts=False)
        columns = [
            s.posture,
            s.pressure,
            s.protection,
            s.pledge,
            s.talks,
            s.face_saving,
            s.ceasefire,
        ]
        risk = reprisal_up_to = None
        if look_ahead:
            # other's act would answer this state's own: no graver than its last, a reprisal
            reprisal_up_to = self.last_act[other][rows]
            columns.append(reprisal_up_to)
            counter, _, which = model.states[other]._predict(self.actor_id, rows, False)
            # the common prior weighs every type alike: the mean over types
            risk = (-model.weights.risk * counter.mean(axis=-1)[:, options.effective])[which]
            columns.extend(risk.T)
        key = np.stack(columns, axis=1).astype(np.float64)
        first, inverse = unique_rows(key)
        # everything else a prediction depends on is fixed for the run: situations already
        # predicted (in earlier rounds, or other worlds) are recalled, not worked out again
        memo = self._memos.setdefault((other, look_ahead), RowMemo())
        keys = key[first]
        slots = memo.recall(keys)
        shape = (first.size, model.ladder.war + 1, self.types.size)
        harm, quiet = np.empty(shape), np.empty(shape)
        known = slots >= 0
        if known.any():
            harm[known], quiet[known] = memo.results(slots[known])
        new = np.flatnonzero(~known)
        if not new.size:
            return harm, quiet, inverse
        rows = first[new]
        unique = decisions.subset(s, rows)
        terms = decisions.answer_terms(options, unique, model.weights, model.ladder)
        rest = decisions.total(terms, decisions.ANSWER_TERMS[1:])
        if risk is not None:
            rest += risk[rows]
        available = decisions.answer_available(
            options, unique.posture, model.ladder.strike_rung, reaction=False
        )
        predicted = decisions.predicted_answer(
            options,
            rest,
            available,
            self.types,
            model.weights,
            model.ladder,
            model.rationality,
            None if reprisal_up_to is None else reprisal_up_to[rows],
        )
        harm[new], quiet[new] = predicted
        memo.remember(keys[new], predicted)
        return harm, quiet, inverse

    def likelihood(
        self,
        options: Options,
        terms: dict[str, FloatArray],
        available: BoolArray,
        names: tuple[str, ...],
        keep: NDArray[np.intp],
    ) -> NDArray[np.float32] | None:
        """(k, K, O): how likely each option is under each resolve type, in the worlds ``keep``
        (those that acted: the adversary updates its belief from what it sees)."""
        if not self.model.config.mechanisms.beliefs:
            return None
        rest = decisions.total(terms, names[1:])[keep]
        return decisions.type_probabilities(
            terms["resolve_per_unit"][keep],
            rest,
            self.types,
            available[keep],
            self.model.rationality,
        )

    def _weigh(
        self, other: str, rows: Rows, received: IntArray, site: Site, *, reaction: bool = False
    ) -> tuple[Weighing, FloatArray]:
        """An answer (or reaction) to ``other`` weighed, and the uniform draw of the choice."""
        model = self.model
        options, terms, available = self.answer_model(other, rows, received, reaction=reaction)
        utility = decisions.total(terms, decisions.ANSWER_TERMS)
        address = (site, model.day, model.round, self.index, self.adversary_index(other))
        u = model.streams.uniform(address, rows)
        probabilities = decisions.choice_probabilities(utility, available, model.rationality)
        return Weighing(options, terms, available, utility, probabilities), u

    def _send(self, kind: str, other: str, rows: Rows, w: Weighing, chosen: IntArray) -> None:
        """Queue the chosen acts, with what the adversary learns from them and, in a story, the
        reasons."""
        likelihood = self.likelihood(
            w.options, w.terms, w.available, decisions.ANSWER_TERMS, np.flatnonzero(chosen > 0)
        )
        choices = (
            self._choices(kind, w.options, w.terms, w.utility, w.probabilities, chosen, w.available)
            if self.model.record
            else {}
        )
        self.model.enqueue(self._acts(other, rows, w.options, chosen, likelihood, choices, kind))

    def _answer(self, other: str, rows: Rows) -> None:
        model = self.model
        received = self.owed[other][rows].copy()
        weighing, u = self._weigh(other, rows, received, Site.ANSWER)
        chosen = self.policy.answer(self._situation(other, rows, weighing, received), u)
        pledged = self.pledge[other][rows]
        honoured = weighing.options.rung[chosen] >= model.ladder.strike_rung
        if model.record:
            for i in np.flatnonzero(pledged & ~honoured):
                model.log(
                    int(rows[i]),
                    "backs_down",
                    self.actor_id,
                    other,
                    None,
                    f"{self.name} does not carry out its pledge to answer "
                    f"{model.states[other].name}",
                )
        model.tally.backed_down(self.index, rows[pledged & ~honoured])
        self.pledge[other][rows] = False
        self.owed[other][rows] = 0
        self.owed_due[other][rows] = NEVER
        self.owed_denied[other][rows] = False
        self.owed_reprisal[other][rows] = False
        self.react_due[other][rows] = NEVER
        self._send("answer", other, rows, weighing, chosen)

    def _react(self, other: str, rows: Rows) -> None:
        received = self.owed[other][rows].copy()
        weighing, u = self._weigh(other, rows, received, Site.REACTION, reaction=True)
        # only a policy that signals reacts (``perceive``): the answer rule chooses the reaction
        chosen = self.policy.answer(self._situation(other, rows, weighing, received), u)
        self.react_due[other][rows] = NEVER
        self._maybe_pledge(other, rows, np.where(self.owed_reprisal[other][rows], 0, received))
        self._send("reaction", other, rows, weighing, chosen)

    def _review(self, other: str, peace: BoolArray) -> None:
        model = self.model
        baseline = self.baseline[other]
        eligible = (
            (self.posture[other] > baseline)
            & (self.owed[other] == 0)
            & (self.react_due[other] == NEVER)
            & (self.acted_day[other] < model.day)
            & peace
        )
        if not eligible.any():
            return
        candidates = np.flatnonzero(eligible)
        address = (Site.REVIEW, model.day, self.index, self.adversary_index(other))
        reviewing = model.streams.uniform(address, candidates) < model.config.decision.review_rate
        rows = candidates[reviewing]
        if not rows.size:
            return
        options = self.reviews[other]
        situation = self.review_situation(other, rows)
        levels = decisions.review_levels(options, situation.posture, baseline)
        terms = decisions.review_terms(options, situation, levels, model.weights, model.ladder)
        available = decisions.review_available(options, situation.posture, baseline, levels)
        utility = decisions.total(terms, decisions.REVIEW_TERMS)
        probabilities = decisions.choice_probabilities(utility, available, model.rationality)
        address = (Site.REVIEW_CHOICE, model.day, self.index, self.adversary_index(other))
        u = model.streams.uniform(address, rows)
        weighing = Weighing(options, terms, available, utility, probabilities)
        received = np.zeros(rows.size, dtype=np.int64)
        chosen = self.policy.review(self._situation(other, rows, weighing, received, levels), u)
        level = levels[np.arange(rows.size), chosen]
        self.conciliated[other][rows] = False
        moving = chosen != 0
        likelihood = self.likelihood(
            options, terms, available, decisions.REVIEW_TERMS, np.flatnonzero(moving)
        )
        choices = (
            self._choices(
                "review", options, terms, utility, probabilities, chosen, available, levels
            )
            if model.record
            else {}
        )
        if model.record:
            for i in np.flatnonzero(~moving):
                model.log(
                    int(rows[i]),
                    "hold",
                    self.actor_id,
                    other,
                    int(situation.posture[i]),
                    f"{self.name} holds its posture towards {model.states[other].name}",
                    choices.get(int(i)),
                )
        if not moving.any():
            return
        keep = np.flatnonzero(moving)
        crackdown = options.group[chosen[keep]]
        model.enqueue(
            Acts.conciliation(
                self.actor_id,
                other,
                rows[keep],
                np.where(crackdown >= 0, -1, level[keep]),
                option=chosen[keep],
                group=crackdown,
                likelihood=likelihood,
                labels=options.labels,
                choices={j: choices[int(i)] for j, i in enumerate(keep) if int(i) in choices}
                if choices
                else {},
            )
        )

    def _lift_measures(self, other: str, peace: BoolArray) -> None:
        """Measures in force against ``other`` are lifted, or not, each morning (mechanism
        ``sticky_measures``): once this state stands below the strike rung with nothing left to
        answer, it lifts them with the daily chance ``review_rate`` inside an agreed ceasefire
        with ``other`` (mediated or scripted; a truce the two agreed alone settles nothing:
        ``talk_directly``), and with the slow ``measure_review_rate`` outside one. Neither the
        other side stepping down from its fire, nor its lifting its own measures, nor talks
        still under way lift them: envoys return and bans end as part of a settlement, or
        slowly. A teaching rule, narrower than the review's §3.4 (which also reviews them after
        any conciliation or inside talks): read that way, every step down from fire lifted them
        within days, and the library's calm within 60 days was forecast at 0.9 where 16 of 40
        crises calmed (docs/model.md). Lifting is a visible conciliatory act.

        Drawn as a hazard, not weighed: the model has no utility of measures yet (their cost
        to the sender's trade, what they restore of deterrence: review §3.4).
        """
        model = self.model
        eligible = (
            self.measures[other]
            & (self.posture[other] < model.ladder.strike_rung)
            & (self.owed[other] == 0)
            & (self.acted_day[other] < model.day)
            & peace
        )
        rows = np.flatnonzero(eligible)
        if not rows.size:
            return
        decision = model.config.decision
        pair = model.pair(self.actor_id, other)
        settled = pair.ceasefire[rows] & ~pair.truce[rows]
        rate = np.where(settled, decision.review_rate, decision.measure_review_rate)
        address = (Site.MEASURES, model.day, self.index, self.adversary_index(other))
        lifting = rows[model.streams.uniform(address, rows) < rate]
        if not lifting.size:
            return
        self.measures[other][lifting] = False
        # a conciliatory act that leaves the posture as it is, delivered with the round's acts
        model.enqueue(
            Acts.conciliation(
                self.actor_id,
                other,
                lifting,
                self.posture[other][lifting].copy(),
                description=f"{self.name} lifts its measures against {model.states[other].name}",
            )
        )

    def take_measures(self, other: str, rows: Rows) -> None:
        """Struck by ``other``, this state puts measures in force against it (mechanism
        ``sticky_measures``): a strike on a state's forces or soil is met, in the library's
        crises, by recalled envoys, closed borders or suspended trade even where no strike
        answers it (review §3.4: the answers actually chosen in 2015 and 2019)."""
        if rows.size and self.model.config.mechanisms.sticky_measures:
            self.measures[other][rows] = True

    def _situation(
        self,
        other: str,
        rows: Rows,
        weighing: Weighing,
        received: IntArray,
        levels: IntArray | None = None,
    ) -> Situation:
        """What this state's policy sees when it answers or reviews towards ``other``."""
        model = self.model
        return Situation(
            weighing=weighing,
            received=received,
            rows=rows,
            memory_of=self.memory[other],
            posture_of=self.posture[other],
            adversary_posture_of=model.states[other].posture[self.actor_id],
            baseline=self.baseline[other],
            war=model.ladder.war,
            strike_rung=model.ladder.strike_rung,
            levels=levels,
        )

    def review_situation(self, other: str, rows: Rows) -> ReviewSituation:
        model = self.model
        pressure, parts = model.pressure_on(self.actor_id, other, rows)
        talks, _ = model.talks_between(self.actor_id, other, rows)
        return ReviewSituation(
            resolve=self.resolve[rows],
            posture=self.posture[other][rows],
            baseline=self.baseline[other],
            cost=self.config.cost + self.ties[other],
            pressure=pressure,
            pressure_parts=parts,
            conciliated=self.conciliated[other][rows],
            talks=talks,
            adversary_nuclear=model.config.mechanisms.nuclear
            and model.states[other].config.nuclear,
            crackdown_cost=self.config.crackdown_cost,
        )

    def adversary_index(self, other: str) -> int:
        return self.model.states[other].index

    def _acts(
        self,
        other: str,
        rows: Rows,
        options: Options,
        chosen: IntArray,
        likelihood: NDArray[np.float32] | None,
        choices: dict[int, Choice],
        kind: str,
    ) -> Acts:
        model = self.model
        acting = chosen > 0
        if model.record:
            for i in np.flatnonzero(~acting):
                word = "lets" if kind == "answer" else "makes no protest at"
                model.log(
                    int(rows[i]),
                    "let_go" if kind == "answer" else "no_reaction",
                    self.actor_id,
                    other,
                    None,
                    f"{self.name} {word} {model.states[other].name}'s act"
                    + (" go unanswered" if kind == "answer" else ""),
                    choices.get(int(i)),
                )
        keep = np.flatnonzero(acting)
        picked = chosen[keep]
        return Acts(
            actor=self.actor_id,
            target=other,
            rows=rows[keep],
            hostile=True,
            rung=options.rung[picked],
            effective=options.effective[picked],
            on_state=options.on_state[picked],
            group=options.group[picked],
            announced=options.announced[picked],
            denied=np.zeros(keep.size, dtype=bool),
            answering=np.ones(keep.size, dtype=bool),
            level=np.full(keep.size, -1, dtype=np.int64),
            option=picked,
            likelihood=likelihood,
            labels=options.labels,
            choices={j: choices[int(i)] for j, i in enumerate(keep) if int(i) in choices}
            if choices
            else {},
        )

    def _choices(
        self,
        kind: str,
        options: Options,
        terms: dict[str, FloatArray],
        utility: FloatArray,
        probabilities: FloatArray,
        chosen: IntArray,
        available: BoolArray,
        levels: IntArray | None = None,
    ) -> dict[int, Choice]:
        """The reasons of each world's decision, for stories (record mode only)."""
        names = [name for name in terms if name != "resolve_per_unit"]
        rule = self.policy.rule()
        found = {}
        for i in range(chosen.size):
            found[i] = Choice(
                kind=kind,
                labels=options.labels,
                terms=tuple(
                    {name: float(terms[name][i, o]) for name in names} if available[i, o] else {}
                    for o in range(options.size)
                ),
                utility=tuple(
                    float(utility[i, o]) if available[i, o] else float("-inf")
                    for o in range(options.size)
                ),
                probability=tuple(float(p) for p in probabilities[i]),
                chosen=int(chosen[i]),
                rungs=tuple(int(r) for r in (levels[i] if levels is not None else options.rung)),
                rule=rule,
            )
        return found

    # ------------------------------------------------------------------ scripted events

    def scripted_act(self, event: ActEvent, rows: Rows) -> Acts:
        """A scripted act as this state's option (it answers whatever the state owed)."""
        model = self.model
        options = self.answers[event.target]
        group_index = list(model.groups).index(event.group) if event.group else -1
        matches = [
            o
            for o in range(options.size)
            if options.rung[o] == event.rung
            and bool(options.announced[o]) == event.announced
            and (group_index < 0 or options.group[o] == group_index)
        ]
        option = matches[0] if matches else 0
        received = self.owed[event.target][rows].copy()
        likelihood = None
        # an act chosen by weighing resolve tells of it; a persona's scripted act does not
        reveals = "resolve" in self.policy.classifier["uses"]
        if matches and model.config.mechanisms.beliefs and reveals:
            _, terms, available = self.answer_model(event.target, rows, received)
            likelihood = self.likelihood(
                options, terms, available, decisions.ANSWER_TERMS, np.arange(rows.size)
            )
        self.owed[event.target][rows] = 0
        self.owed_due[event.target][rows] = NEVER
        self.react_due[event.target][rows] = NEVER
        if event.rung >= model.ladder.strike_rung:
            self.pledge[event.target][rows] = False
        n = rows.size
        kind = event.target_kind or model.ladder.target(event.rung)
        location = event.location or (
            model.config.armed_groups[event.group].host if event.group else event.target
        )
        return Acts(
            actor=self.actor_id,
            target=event.target,
            rows=rows,
            hostile=True,
            rung=np.full(n, event.rung, dtype=np.int64),
            effective=np.full(n, event.rung - int(event.announced), dtype=np.int64),
            on_state=np.full(n, kind in STATE_TARGETS and event.rung >= model.ladder.strike_rung),
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
            operation=event.operation,
        )

    def scripted_step_down(self, event: ConciliateEvent, rows: Rows) -> None:
        """A scripted step down to ``event.to_rung`` (not below the baseline), where this state
        stands above it and is not at war; it reaches the target at once."""
        other = event.target
        posture = self.posture[other]
        rows = rows[
            (posture[rows] > event.to_rung) & ~self.model.pair(self.actor_id, other).at_war[rows]
        ]
        level = np.full(rows.size, max(event.to_rung, self.baseline[other]))
        conciliation = Acts.conciliation(
            self.actor_id, other, rows, level, description=event.description
        )
        self.model.states[other].receive_conciliation(conciliation)

    def mediation_gain(self, mediator: ThirdPartyAgent, rows: Rows) -> dict[str, FloatArray]:
        """The terms of accepting ``mediator``'s talks rather than refusing, per world."""
        model = self.model
        others = [p for p in mediator.parties if p != self.actor_id and p in self.posture]
        own = np.zeros(rows.size, dtype=np.int64)
        other_hurt = np.zeros(rows.size, dtype=np.int64)
        owed = np.zeros(rows.size, dtype=np.int64)
        pledge = np.zeros(rows.size, dtype=bool)
        for b in others:
            own = np.maximum(own, self.posture[b][rows] - self.baseline[b])
            theirs = model.states[b].posture[self.actor_id][rows] - self.baseline[b]
            other_hurt = np.maximum(other_hurt, theirs)
            owed = np.maximum(owed, self.owed[b][rows])
            pledge |= self.pledge[b][rows]
        intensity = mediator.intensity(rows)
        return decisions.mediation_gain(
            resolve=self.resolve[rows],
            owed=owed,
            own_hurt=own,
            other_hurt=other_hurt,
            leverage=mediator.coalition_leverage(self.actor_id),
            pressure=intensity,
            after_refusal=mediator.config.pressure.after_refusal,
            alignment=mediator.config.alignment.get(self.actor_id, 0.0),
            pledge=pledge if model.config.mechanisms.commitments else np.zeros(rows.size, bool),
            audience_cost=self.config.audience_cost,
            face_saving=mediator.mediation.face_saving if mediator.mediation else 0.0,
            weights=model.weights,
            war=model.ladder.war,
        )


def _lower(band: str, announced: bool) -> str:
    """An announced strike is one casualty band lower (people took shelter)."""
    if not announced:
        return band
    return {"many": "few", "few": "none"}.get(band, band)
