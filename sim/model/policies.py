"""How a state answers a hostile act, steps down, and answers an offer of mediation.

Each retaliation policy is one small class that owns its rule, as a strategy does in Axelrod's
tournament library: ``answer(situation, u)`` and ``review(situation, u)`` return the option the
state takes in each world, and ``classifier`` says what the rule depends on. The default policy
is ``strategic``: it draws from the logit choice of ``sim.model.decisions`` (escalation as a
decision). The others are scripted personas for teaching: they answer by a fixed rule of
reciprocity (``answer_rung``) and step down by a fixed rule (``review_level``), whatever the
costs, beliefs or third parties; the rung or posture a persona wants becomes an option as
``option_at`` and ``review_option_at`` find it.

Every decision takes numpy arrays, one entry per world (parallel run), and the uniform numbers it
may need come from the worlds' own streams. A policy is found by the name in the YAML key
``policy`` through a registry; adding one is a class here with a ``@retaliation_policy`` or
``@mediation_policy`` decorator. Rungs are integers on the scenario's ladder; an answer of 0 means
"no answer", and a conciliation to the current posture means "hold".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, TypedDict, get_args

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from sim.model import decisions
from sim.model._config import Config
from sim.model.record import Weighing

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Situation:
    """What a retaliation policy sees when a state decides in ``n`` worlds towards one adversary.

    ``weighing`` holds the options as a strategic state weighs them: their terms, which are
    available, and each one's logit probability. The strategic policy draws from it; a persona
    chooses by its rule, and a story tells its choice beside those terms.
    """

    weighing: Weighing
    received: IntArray
    """Answers: the gravest act perceived and not yet answered (reviews: zeros)."""
    rows: NDArray[np.intp]
    """The worlds deciding, among all of the state's worlds."""
    memory_of: FloatArray
    """The state's fading memory of provocations by the adversary, in all worlds."""
    posture_of: IntArray
    """The state's posture towards the adversary, in all worlds."""
    adversary_posture_of: IntArray
    """The adversary's posture towards the state, in all worlds."""
    baseline: int
    war: int
    strike_rung: int
    levels: IntArray | None = None
    """Reviews: (n, O) the posture each option leads to."""

    # read in the deciding worlds only when a rule asks (the strategic rule never does)
    @property
    def memory(self) -> FloatArray:
        return self.memory_of[self.rows]

    @property
    def posture(self) -> IntArray:
        return self.posture_of[self.rows]

    @property
    def adversary_posture(self) -> IntArray:
        return self.adversary_posture_of[self.rows]


class Classifier(TypedDict):
    """What a policy's rule depends on, as Axelrod's strategies are classified."""

    stochastic: bool
    """It draws on chance (the same situation can bring different choices)."""
    uses: frozenset[str]
    """What it reads: ``received``, ``adversary_posture``, ``memory``, or what a strategic
    state weighs (``resolve``, ``costs``, ``beliefs``, ``third_parties``, ``commitments``)."""
    signals: bool
    """It makes first diplomatic reactions and public pledges."""


def option_at(
    options: decisions.Options, wanted: IntArray, available: BoolArray, strike_rung: int
) -> IntArray:
    """A scripted answer's option: the first available unannounced act at the ``wanted`` rung or
    above (0 when nothing is wanted, or when it would repeat an act without force)."""
    fits = (options.rung[None, :] >= wanted[:, None]) & ~options.announced[None, :] & available
    fits[:, 0] = False
    chosen = np.where(fits.any(axis=1), np.argmax(fits, axis=1), 0)
    below = wanted[:, None] > 0
    exact_blocked = (wanted < strike_rung) & ~(
        (options.rung[None, :] == wanted[:, None]) & available
    ).any(axis=1)
    return np.where(below[:, 0] & ~exact_blocked, chosen, 0).astype(np.int64)


def review_option_at(
    options: decisions.Options, levels: IntArray, available: BoolArray, wanted: IntArray
) -> IntArray:
    """A scripted review's option, found as ``option_at`` finds a scripted answer's: the
    available step down (not a crackdown) that comes nearest the ``wanted`` posture without
    going below it, hold (0) when no step does (the wanted posture is not below the current).

    ``levels`` is what ``decisions.review_levels`` gives; the step is then to that option's level, so the
    act, its record and what the adversary learns from it are one option.
    """
    steps = (options.drop != 0)[None, :] & available & (levels >= wanted[:, None])
    nearest = np.argmin(np.where(steps, levels, np.iinfo(np.int64).max), axis=1)
    return np.where(steps.any(axis=1), nearest, 0).astype(np.int64)


class RetaliationPolicy(Config):
    """Base class: how a state answers hostile acts and when it steps down."""

    policy: str
    delay: int = Field(
        1,
        ge=0,
        description="Days between perceiving a hostile act and the answer (0: the same day, "
        "in the next round of the day).",
    )
    reaction_delay: int = Field(
        0,
        ge=0,
        description="Days before a first diplomatic reaction (protest, recalled envoy) while "
        "the answer is prepared; `strategic` states only.",
    )
    classifier: ClassVar[Classifier] = {
        "stochastic": False,
        "uses": frozenset({"received", "adversary_posture"}),
        "signals": False,
    }

    def answer(self, s: Situation, u: FloatArray) -> IntArray:
        """The answer option taken in each world: a persona's wanted rung becomes the first
        available unannounced act at that rung or above (``option_at``)."""
        w = s.weighing
        return option_at(w.options, self.answer_rung(s, u), w.available, s.strike_rung)

    def review(self, s: Situation, u: FloatArray) -> IntArray:
        """The review option taken in each world: a persona's wanted posture becomes the step
        down that comes nearest it without going below (``review_option_at``)."""
        assert s.levels is not None
        w = s.weighing
        return review_option_at(w.options, s.levels, w.available, self.review_level(s, u))

    def answer_rung(self, s: Situation, u: FloatArray) -> IntArray:
        """A persona's rule: the rung of the answer to each perceived act (0 = none)."""
        raise NotImplementedError

    def review_level(self, s: Situation, u: FloatArray) -> IntArray:
        """A persona's rule: the posture to step down to at a review (its posture = hold).

        The default is reciprocity: step down as far as the adversary has (Axelrod 1984), never
        below the baseline.
        """
        return np.maximum(np.minimum(s.posture, s.adversary_posture), s.baseline)

    def forget(self, memory: FloatArray) -> None:
        """Called once a day: lets a policy's memory of provocations fade."""

    def rule(self) -> str:
        """The persona's rule in words, for stories: its name and its docstring's first line."""
        summary = " ".join((type(self).__doc__ or "").strip().split("\n\n")[0].split())
        # "Answers at..." reads on as "answers at..."; an acronym such as GRIT stays as it is
        first = summary[:1] if summary[1:2].isupper() else summary[:1].lower()
        return f"{self.policy}: {first}{summary[1:].rstrip('.')}"


class MediationPolicy(Config):
    """Base class: a state's answer to an offer of mediation."""

    policy: str

    def accepts(self, gain: FloatArray, rationality: float, u: FloatArray) -> BoolArray:
        """Whether the state accepts, given its utility gain from accepting (``sim.model.decisions``)."""
        raise NotImplementedError


RETALIATION_POLICIES: dict[str, type[RetaliationPolicy]] = {}
MEDIATION_POLICIES: dict[str, type[MediationPolicy]] = {}


def _policy_name(cls: type[BaseModel]) -> str:
    (name,) = get_args(cls.model_fields["policy"].annotation)
    return str(name)


def retaliation_policy[R: RetaliationPolicy](cls: type[R]) -> type[R]:
    """Register a retaliation policy under the literal value of its ``policy`` field."""
    RETALIATION_POLICIES[_policy_name(cls)] = cls
    return cls


def mediation_policy[M: MediationPolicy](cls: type[M]) -> type[M]:
    """Register a mediation policy under the literal value of its ``policy`` field."""
    MEDIATION_POLICIES[_policy_name(cls)] = cls
    return cls


def _clip(rungs: IntArray, top: int) -> IntArray:
    return np.minimum(np.maximum(rungs, 1), top).astype(np.int64)


def _step_down(own: IntArray, baseline: int) -> IntArray:
    return np.maximum(own - 1, baseline)


@retaliation_policy
class Strategic(RetaliationPolicy):
    """Weighs every option by its terms and chooses among them with noise (docs/model.md).

    Deterrence, cost, third parties' pressure, the risk of the adversary's answer as the state
    believes it, commitments and the nuclear shadow; a logit (quantal-response) choice among
    the options (McKelvey & Palfrey 1995; Signorino 1999). The default policy.
    """

    policy: Literal["strategic"]
    classifier: ClassVar[Classifier] = {
        "stochastic": True,
        "uses": frozenset(
            {"received", "resolve", "costs", "beliefs", "third_parties", "commitments"}
        ),
        "signals": True,
    }

    def answer(self, s: Situation, u: FloatArray) -> IntArray:
        """The logit choice among the weighed options (``decisions.draw``)."""
        return decisions.draw(s.weighing.probabilities, u)

    def review(self, s: Situation, u: FloatArray) -> IntArray:
        """The logit choice among the weighed review options (``decisions.draw``)."""
        return decisions.draw(s.weighing.probabilities, u)

    def rule(self) -> str:
        """No fixed rule: a story gives the terms weighed."""
        return ""


@retaliation_policy
class Never(RetaliationPolicy):
    """Never answers and steps down at every review: pure restraint (Axelrod's 'always cooperate')."""

    policy: Literal["never"]
    classifier: ClassVar[Classifier] = {
        "stochastic": False,
        "uses": frozenset(),
        "signals": False,
    }

    def answer_rung(self, s: Situation, u: FloatArray) -> IntArray:
        return np.zeros_like(s.received)

    def review_level(self, s: Situation, u: FloatArray) -> IntArray:
        return _step_down(s.posture, s.baseline)


@retaliation_policy
class TitForTat(RetaliationPolicy):
    """Answers at the rung received and steps down as the adversary does (Axelrod 1984)."""

    policy: Literal["tit_for_tat"]

    def answer_rung(self, s: Situation, u: FloatArray) -> IntArray:
        return s.received.copy()


@retaliation_policy
class Proportional(RetaliationPolicy):
    """Matches the rung received, but misjudges 'proportionate' by one rung now and then.

    Leng (1993) finds states mostly reciprocate in kind; the noise stands for the difficulty of
    calibrating a 'calibrated and proportionate' answer, as Pakistan called its strike.
    """

    policy: Literal["proportional"]
    classifier: ClassVar[Classifier] = {
        "stochastic": True,
        "uses": frozenset({"received", "adversary_posture"}),
        "signals": False,
    }
    noise: float = Field(
        0.2, ge=0, le=1, description="Chance the answer is one rung off (up or down, equally)."
    )

    def answer_rung(self, s: Situation, u: FloatArray) -> IntArray:
        shift = np.where(u < self.noise / 2, -1, np.where(u < self.noise, 1, 0))
        return _clip(s.received + shift, s.war)


@retaliation_policy
class Escalate(RetaliationPolicy):
    """Answers above the rung received and never steps down: escalation dominance (Kahn 1965)."""

    policy: Literal["escalate"]
    classifier: ClassVar[Classifier] = {
        "stochastic": False,
        "uses": frozenset({"received"}),
        "signals": False,
    }
    step: int = Field(1, ge=1, description="How many rungs above the act received to answer.")

    def answer_rung(self, s: Situation, u: FloatArray) -> IntArray:
        return _clip(s.received + self.step, s.war)

    def review_level(self, s: Situation, u: FloatArray) -> IntArray:
        return s.posture.copy()


@retaliation_policy
class GenerousTitForTat(RetaliationPolicy):
    """Tit for tat that lets some acts go and sometimes steps down first (Nowak & Sigmund 1992)."""

    policy: Literal["generous_tit_for_tat"]
    classifier: ClassVar[Classifier] = {
        "stochastic": True,
        "uses": frozenset({"received", "adversary_posture"}),
        "signals": False,
    }
    forgive: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Chance an act goes unanswered, and chance a review steps down one rung "
        "although the adversary has not.",
    )

    def answer_rung(self, s: Situation, u: FloatArray) -> IntArray:
        return np.where(u < self.forgive, 0, s.received).astype(np.int64)

    def review_level(self, s: Situation, u: FloatArray) -> IntArray:
        mirrored = super().review_level(s, u)
        return np.where(
            u < self.forgive, np.minimum(mirrored, _step_down(s.posture, s.baseline)), mirrored
        )


@retaliation_policy
class Graduated(RetaliationPolicy):
    """GRIT (Osgood 1962): answer firmly in kind, but take small unilateral steps down."""

    policy: Literal["graduated"]
    classifier: ClassVar[Classifier] = {
        "stochastic": True,
        "uses": frozenset({"received", "adversary_posture"}),
        "signals": False,
    }
    step_down: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Chance a review steps down one rung unilaterally (a conciliatory initiative).",
    )

    def answer_rung(self, s: Situation, u: FloatArray) -> IntArray:
        return s.received.copy()

    def review_level(self, s: Situation, u: FloatArray) -> IntArray:
        mirrored = super().review_level(s, u)
        return np.where(
            u < self.step_down, np.minimum(mirrored, _step_down(s.posture, s.baseline)), mirrored
        )


@retaliation_policy
class Threshold(RetaliationPolicy):
    """Answers only once fading, accumulated provocation passes a threshold.

    A tolerance threshold, as in deterrence by 'red lines' (Schelling 1966): small acts are
    absorbed until together they amount to something that must be answered.
    """

    policy: Literal["threshold"]
    classifier: ClassVar[Classifier] = {
        "stochastic": False,
        "uses": frozenset({"received", "memory", "adversary_posture"}),
        "signals": False,
    }
    threshold: float = Field(
        6.0, gt=0, description="Sum of perceived rungs that triggers an answer."
    )
    decay: float = Field(
        0.1, ge=0, le=1, description="Share of the accumulated provocation that fades each day."
    )

    def answer_rung(self, s: Situation, u: FloatArray) -> IntArray:
        memory = s.memory
        memory += s.received
        answered = memory >= self.threshold
        memory[answered] = 0.0
        return np.where(answered, s.received, 0).astype(np.int64)

    def forget(self, memory: FloatArray) -> None:
        memory *= 1 - self.decay


@mediation_policy
class Decide(MediationPolicy):
    """Accepts when talks are worth more than refusing, with noise: a logit choice.

    The gain weighs ripeness (both sides hurting, Zartman 1989), the mediator's pressure and what
    refusing would cost, the answer the talks would hold back, and an open public pledge
    (``sim.model.decisions.mediation_gain``).
    """

    policy: Literal["decide"]

    def accepts(self, gain: FloatArray, rationality: float, u: FloatArray) -> BoolArray:
        return decisions.binary_choice(gain, rationality, u)


@mediation_policy
class Accept(MediationPolicy):
    """Always accepts an offer of mediation."""

    policy: Literal["accept"]

    def accepts(self, gain: FloatArray, rationality: float, u: FloatArray) -> BoolArray:
        return np.ones(gain.shape, dtype=bool)


@mediation_policy
class Refuse(MediationPolicy):
    """Always refuses an offer of mediation."""

    policy: Literal["refuse"]

    def accepts(self, gain: FloatArray, rationality: float, u: FloatArray) -> BoolArray:
        return np.zeros(gain.shape, dtype=bool)
