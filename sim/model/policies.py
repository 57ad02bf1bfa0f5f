"""How a state answers a hostile act, steps down, and answers an offer of mediation.

The default retaliation policy is ``strategic``: the state weighs its options and picks one with
the logit choice of ``sim.model.decisions`` (escalation as a decision). The other retaliation policies
are scripted personas for teaching, each one small class: they answer by a fixed rule of
reciprocity and step down by a fixed rule, whatever the costs, beliefs or third parties.

Every decision takes numpy arrays, one entry per world (parallel run), and the uniform numbers it
may need come from the worlds' own streams. A policy is found by the name in the YAML key
``policy`` through a registry; adding one is a class here with a ``@retaliation_policy`` or
``@mediation_policy`` decorator. Rungs are integers on the scenario's ladder; an answer of 0 means
"no answer", and a conciliation to the current posture means "hold".
"""

from __future__ import annotations

from typing import ClassVar, Literal, get_args

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from sim.model._config import Config

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


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
    strategic: ClassVar[bool] = False
    """True for the policy that decides by ``sim.model.decisions``; scripted personas are False."""

    def answer(self, received: IntArray, memory: FloatArray, top: int, u: FloatArray) -> IntArray:
        """Rung of the answer to each perceived act (0 = none). May update ``memory`` in place."""
        raise NotImplementedError

    def conciliate(self, own: IntArray, other: IntArray, baseline: int, u: FloatArray) -> IntArray:
        """The posture to step down to when reviewing a standing posture (``own`` = hold).

        ``other`` is the adversary's posture towards this state. The default is reciprocity:
        step down as far as the adversary has (Axelrod 1984), never below the baseline.
        """
        return np.maximum(np.minimum(own, other), baseline)

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
    strategic: ClassVar[bool] = True


@retaliation_policy
class Never(RetaliationPolicy):
    """Never answers and steps down at every review: pure restraint (Axelrod's 'always cooperate')."""

    policy: Literal["never"]

    def answer(self, received: IntArray, memory: FloatArray, top: int, u: FloatArray) -> IntArray:
        return np.zeros_like(received)

    def conciliate(self, own: IntArray, other: IntArray, baseline: int, u: FloatArray) -> IntArray:
        return _step_down(own, baseline)


@retaliation_policy
class TitForTat(RetaliationPolicy):
    """Answers at the rung received and steps down as the adversary does (Axelrod 1984)."""

    policy: Literal["tit_for_tat"]

    def answer(self, received: IntArray, memory: FloatArray, top: int, u: FloatArray) -> IntArray:
        return received.copy()


@retaliation_policy
class Proportional(RetaliationPolicy):
    """Matches the rung received, but misjudges 'proportionate' by one rung now and then.

    Leng (1993) finds states mostly reciprocate in kind; the noise stands for the difficulty of
    calibrating a 'calibrated and proportionate' answer, as Pakistan called its strike.
    """

    policy: Literal["proportional"]
    noise: float = Field(
        0.2, ge=0, le=1, description="Chance the answer is one rung off (up or down, equally)."
    )

    def answer(self, received: IntArray, memory: FloatArray, top: int, u: FloatArray) -> IntArray:
        shift = np.where(u < self.noise / 2, -1, np.where(u < self.noise, 1, 0))
        return _clip(received + shift, top)


@retaliation_policy
class Escalate(RetaliationPolicy):
    """Answers above the rung received and never steps down: escalation dominance (Kahn 1965)."""

    policy: Literal["escalate"]
    step: int = Field(1, ge=1, description="How many rungs above the act received to answer.")

    def answer(self, received: IntArray, memory: FloatArray, top: int, u: FloatArray) -> IntArray:
        return _clip(received + self.step, top)

    def conciliate(self, own: IntArray, other: IntArray, baseline: int, u: FloatArray) -> IntArray:
        return own.copy()


@retaliation_policy
class GenerousTitForTat(RetaliationPolicy):
    """Tit for tat that lets some acts go and sometimes steps down first (Nowak & Sigmund 1992)."""

    policy: Literal["generous_tit_for_tat"]
    forgive: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Chance an act goes unanswered, and chance a review steps down one rung "
        "although the adversary has not.",
    )

    def answer(self, received: IntArray, memory: FloatArray, top: int, u: FloatArray) -> IntArray:
        return np.where(u < self.forgive, 0, received).astype(np.int64)

    def conciliate(self, own: IntArray, other: IntArray, baseline: int, u: FloatArray) -> IntArray:
        mirrored = super().conciliate(own, other, baseline, u)
        return np.where(u < self.forgive, np.minimum(mirrored, _step_down(own, baseline)), mirrored)


@retaliation_policy
class Graduated(RetaliationPolicy):
    """GRIT (Osgood 1962): answer firmly in kind, but take small unilateral steps down."""

    policy: Literal["graduated"]
    step_down: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Chance a review steps down one rung unilaterally (a conciliatory initiative).",
    )

    def answer(self, received: IntArray, memory: FloatArray, top: int, u: FloatArray) -> IntArray:
        return received.copy()

    def conciliate(self, own: IntArray, other: IntArray, baseline: int, u: FloatArray) -> IntArray:
        mirrored = super().conciliate(own, other, baseline, u)
        return np.where(
            u < self.step_down, np.minimum(mirrored, _step_down(own, baseline)), mirrored
        )


@retaliation_policy
class Threshold(RetaliationPolicy):
    """Answers only once fading, accumulated provocation passes a threshold.

    A tolerance threshold, as in deterrence by 'red lines' (Schelling 1966): small acts are
    absorbed until together they amount to something that must be answered.
    """

    policy: Literal["threshold"]
    threshold: float = Field(
        6.0, gt=0, description="Sum of perceived rungs that triggers an answer."
    )
    decay: float = Field(
        0.1, ge=0, le=1, description="Share of the accumulated provocation that fades each day."
    )

    def answer(self, received: IntArray, memory: FloatArray, top: int, u: FloatArray) -> IntArray:
        memory += received
        answered = memory >= self.threshold
        memory[answered] = 0.0
        return np.where(answered, received, 0).astype(np.int64)

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
        from sim.model.decisions import binary_choice

        return binary_choice(gain, rationality, u)


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
