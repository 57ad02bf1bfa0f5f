"""The actors of a crisis as Mesa agents: states, armed groups and third parties.

Each agent holds its state as numpy arrays over many parallel runs ("worlds") and acts on all of
them in one call: one world for a story or the dashboard, thousands for an ensemble. A world's
random numbers come from its own stream (``sim.model.streams``), addressed by what they decide, so a
world behaves the same whichever other worlds share its batch.

How a state answers, reacts, steps down and answers an offer of talks is in ``StateAgent``; the
terms it weighs are in ``sim.model.decisions``, the scripted personas in ``sim.model.policies``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

import mesa
import numpy as np
from numpy.typing import NDArray

from sim.model import decisions
from sim.model.decisions import AnswerSituation, Options, ReviewSituation
from sim.model.scenario import ArmedGroupConfig, StateConfig, ThirdPartyConfig

if TYPE_CHECKING:
    from sim.model.model import EscalationModel

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Rows = NDArray[np.intp]

NEVER = -1
"""A clock or day that has not come (nothing due, never happened)."""


class Site(IntEnum):
    """What a random draw decides: the first part of every stream address."""

    RESOLVE = 1
    ATTACK = 2
    CLAIM = 3
    BLAME = 4
    MISREAD = 5
    MISREAD_UP = 6
    ANSWER = 7
    REACTION = 8
    REVIEW = 9
    REVIEW_CHOICE = 10
    PLEDGE = 11
    MEDIATION = 12
    AGREEMENT = 13


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


class StateAgent(mesa.Agent):
    """A state: its posture towards each adversary, what it owes them, its pledges and beliefs.

    Per adversary ``b`` (arrays over worlds): ``posture[b]``, the rung it stands at towards b;
    ``owed[b]``, the gravest act of b it has perceived and not yet answered (0: none) and
    ``owed_due[b]``, the clock (day x rounds + round) when its answer is due; ``react_due[b]``,
    when a first diplomatic reaction is due; ``pledge[b]``, an open public pledge to answer b;
    ``belief[b]`` (worlds x types), its belief about b's resolve; ``conciliated[b]``, whether b
    stepped down towards it since it last acted. Its own ``resolve`` is drawn once per world.
    """

    model: EscalationModel

    def __init__(self, model: EscalationModel, actor_id: str, config: StateConfig) -> None:
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
        self._memos: dict[tuple[str, bool], decisions.RowMemo] = {}
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

    def receive(
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
            model.note_misreadings(self, other, rows, severity, perceived)
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
        if self.policy.strategic:
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
            for world in rows:
                model.log(int(world), "pledge", self.actor_id, other, None, text)

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
        first, inverse = decisions.unique_rows(key)
        # everything else a prediction depends on is fixed for the run: situations already
        # predicted (in earlier rounds, or other worlds) are recalled, not worked out again
        memo = self._memos.setdefault((other, look_ahead), decisions.RowMemo())
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
        if self.policy.strategic:
            chosen = decisions.draw(weighing.probabilities, u)
        else:
            wanted = self.policy.answer(received, self.memory[other][rows], model.ladder.war, u)
            chosen = self._option_at(other, wanted, weighing.available)
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
        chosen = decisions.draw(weighing.probabilities, u)
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
        if self.policy.strategic:
            chosen = decisions.draw(probabilities, u)
            level = levels[np.arange(rows.size), chosen]
        else:
            posture = situation.posture
            level = self.policy.conciliate(
                posture, model.states[other].posture[self.actor_id][rows], baseline, u
            )
            to_baseline = (level == baseline) & (posture - 1 > baseline)
            chosen = np.where(level >= posture, 0, np.where(to_baseline, 2, 1))
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
            Acts(
                actor=self.actor_id,
                target=other,
                rows=rows[keep],
                hostile=False,
                rung=np.zeros(keep.size, dtype=np.int64),
                effective=np.zeros(keep.size, dtype=np.int64),
                on_state=np.zeros(keep.size, dtype=bool),
                group=crackdown,
                announced=np.zeros(keep.size, dtype=bool),
                denied=np.zeros(keep.size, dtype=bool),
                answering=np.zeros(keep.size, dtype=bool),
                level=np.where(crackdown >= 0, -1, level[keep]),
                option=chosen[keep],
                likelihood=likelihood,
                labels=options.labels,
                choices={j: choices[int(i)] for j, i in enumerate(keep) if int(i) in choices}
                if choices
                else {},
            )
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

    def _option_at(self, other: str, wanted: IntArray, available: BoolArray) -> IntArray:
        """A scripted answer's option: the first available unannounced act at the wanted rung or
        above (0 when nothing is wanted, or when it would repeat an act without force)."""
        options = self.answers[other]
        fits = (options.rung[None, :] >= wanted[:, None]) & ~options.announced[None, :] & available
        fits[:, 0] = False
        chosen = np.where(fits.any(axis=1), np.argmax(fits, axis=1), 0)
        below = wanted[:, None] > 0
        exact_blocked = (wanted < self.model.ladder.strike_rung) & ~(
            (options.rung[None, :] == wanted[:, None]) & available
        ).any(axis=1)
        return np.where(below[:, 0] & ~exact_blocked, chosen, 0).astype(np.int64)

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
        rule = "" if self.policy.strategic else self.policy.rule()
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


class ArmedGroupAgent(mesa.Agent):
    """An armed group attacking a state from its host's soil; it can spoil talks and ceasefires."""

    model: EscalationModel

    def __init__(self, model: EscalationModel, group_id: str, config: ArmedGroupConfig) -> None:
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
        target.receive(
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


class ThirdPartyAgent(mesa.Agent):
    """A third party: presses the parties as the crisis climbs, protects its allies, and may
    offer talks that can end in a ceasefire."""

    model: EscalationModel

    def __init__(self, model: EscalationModel, party_id: str, config: ThirdPartyConfig) -> None:
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
            agreed = rows[draw < self.mediation.agreement_rate]
            if agreed.size:
                model.agree_ceasefire(self, agreed)
        scripted = model.day in self.offer_days
        wanted = scripted | self._triggered()
        allowed = ~self.talks & (self.next_offer <= model.day)
        if not self.mediation.offer_at_war:
            for a, b in self.pairs():
                allowed &= ~model.pair(a, b).at_war
        rows = np.flatnonzero(wanted & allowed)
        if rows.size:
            self.offer_mediation(rows)

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
        if model.record:
            for world in rows:
                model.log(
                    int(world), "offer", self.party_id, None, None, f"{self.name} offers talks"
                )
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
        if model.record:
            for world in yes:
                model.log(
                    int(world),
                    "accept",
                    self.party_id,
                    None,
                    None,
                    f"Talks led by {self.name} begin",
                )

    def end_talks(self, rows: Rows, why: str) -> None:
        rows = rows[self.talks[rows]]
        if not rows.size:
            return
        self.talks[rows] = False
        assert self.mediation is not None
        self.next_offer[rows] = self.model.day + 1 + self.mediation.cooldown
        if self.model.record:
            for world in rows:
                self.model.log(int(world), "talks_end", self.party_id, None, None, why)
