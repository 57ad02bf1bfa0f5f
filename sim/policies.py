"""How a state answers a hostile act, and whether it accepts mediation.

Each policy is one small class: its parameters are validated fields (they come from the scenario
YAML) and its decision is a method. Decisions take numpy arrays, one entry per simulated run, so the
Mesa agents (one run, arrays of length one) and the vectorised engine (many runs at once) call the
very same rule. A policy is found by the name in the YAML key ``policy`` through a registry; adding
one is a class here with a ``@retaliation_policy`` or ``@mediation_policy`` decorator.

Rungs are integers on the scenario's ladder. A response of 0 means "no answer".
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from sim._config import Config

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class RetaliationPolicy(Config):
    """Base class: the answer a state picks to a hostile act it has perceived."""

    policy: str
    delay: int = Field(
        1, ge=1, description="Days between perceiving a hostile act and answering it."
    )

    def respond(
        self, received: IntArray, memory: FloatArray, top: int, rng: np.random.Generator
    ) -> IntArray:
        """Rung of the answer to each perceived act (0 = none). May update ``memory`` in place."""
        raise NotImplementedError

    def step_down_chance(self, chance: FloatArray) -> FloatArray:
        """The daily chance of stepping down a rung, as this policy changes it."""
        return chance

    def forget(self, memory: FloatArray) -> None:
        """Called once a day: lets a policy's memory of provocations fade."""


class MediationPolicy(Config):
    """Base class: a state's answer to an offer of mediation."""

    policy: str

    def accepts(self, rung: IntArray, rng: np.random.Generator) -> BoolArray:
        """Whether the state accepts, given its current rung towards the other party."""
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
    return np.clip(rungs, 1, top).astype(np.int64)


@retaliation_policy
class Never(RetaliationPolicy):
    """Never answers: the pure-restraint benchmark (Axelrod 1984's 'always cooperate')."""

    policy: Literal["never"]

    def respond(
        self, received: IntArray, memory: FloatArray, top: int, rng: np.random.Generator
    ) -> IntArray:
        return np.zeros_like(received)


@retaliation_policy
class TitForTat(RetaliationPolicy):
    """Answers at the rung received: reciprocity, the winner of Axelrod's tournaments (1984)."""

    policy: Literal["tit_for_tat"]

    def respond(
        self, received: IntArray, memory: FloatArray, top: int, rng: np.random.Generator
    ) -> IntArray:
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

    def respond(
        self, received: IntArray, memory: FloatArray, top: int, rng: np.random.Generator
    ) -> IntArray:
        draw = rng.random(received.shape)
        shift = np.where(draw < self.noise / 2, -1, np.where(draw < self.noise, 1, 0))
        return _clip(received + shift, top)


@retaliation_policy
class Escalate(RetaliationPolicy):
    """Answers above the rung received: escalation dominance (Kahn 1965, 'On Escalation')."""

    policy: Literal["escalate"]
    step: int = Field(1, ge=1, description="How many rungs above the act received to answer.")

    def respond(
        self, received: IntArray, memory: FloatArray, top: int, rng: np.random.Generator
    ) -> IntArray:
        return _clip(received + self.step, top)


@retaliation_policy
class GenerousTitForTat(RetaliationPolicy):
    """Tit for tat that lets some acts go: robust to noise (Nowak & Sigmund 1992)."""

    policy: Literal["generous_tit_for_tat"]
    forgive: float = Field(0.3, ge=0, le=1, description="Chance an act goes unanswered.")

    def respond(
        self, received: IntArray, memory: FloatArray, top: int, rng: np.random.Generator
    ) -> IntArray:
        forgiven = rng.random(received.shape) < self.forgive
        return np.where(forgiven, 0, received).astype(np.int64)


@retaliation_policy
class Graduated(RetaliationPolicy):
    """GRIT (Osgood 1962): answer firmly in kind, but take small unilateral steps down when quiet."""

    policy: Literal["graduated"]
    step_down: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Extra daily chance of a unilateral step down, on top of de-escalation.",
    )

    def respond(
        self, received: IntArray, memory: FloatArray, top: int, rng: np.random.Generator
    ) -> IntArray:
        return received.copy()

    def step_down_chance(self, chance: FloatArray) -> FloatArray:
        return chance + self.step_down * (1 - chance)


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

    def respond(
        self, received: IntArray, memory: FloatArray, top: int, rng: np.random.Generator
    ) -> IntArray:
        memory += received
        answered = memory >= self.threshold
        memory[answered] = 0.0
        return np.where(answered, received, 0).astype(np.int64)

    def forget(self, memory: FloatArray) -> None:
        memory *= 1 - self.decay


@mediation_policy
class Accept(MediationPolicy):
    """Always accepts an offer of mediation."""

    policy: Literal["accept"]

    def accepts(self, rung: IntArray, rng: np.random.Generator) -> BoolArray:
        return np.ones(rung.shape, dtype=bool)


@mediation_policy
class Refuse(MediationPolicy):
    """Always refuses an offer of mediation."""

    policy: Literal["refuse"]

    def accepts(self, rung: IntArray, rng: np.random.Generator) -> BoolArray:
        return np.zeros(rung.shape, dtype=bool)


@mediation_policy
class Probabilistic(MediationPolicy):
    """Accepts with a chance that grows with the crisis: 'ripeness' (Zartman 1989).

    The chance is ``probability + per_rung * rung``, clipped to [0, 1]: the higher a state has
    climbed, the more a way down looks worth having.
    """

    policy: Literal["probabilistic"]
    probability: float = Field(0.5, ge=0, le=1, description="Chance of accepting at rung 0.")
    per_rung: float = Field(
        0.0, ge=-1, le=1, description="Change of that chance per rung the state stands on."
    )

    def accepts(self, rung: IntArray, rng: np.random.Generator) -> BoolArray:
        chance = np.clip(self.probability + self.per_rung * rung, 0.0, 1.0)
        return rng.random(rung.shape) < chance
