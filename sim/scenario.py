"""The typed, immutable form of a scenario: what the model reads instead of raw YAML.

Every key a scenario file may hold is a field here, with its type, range, default and meaning;
``docs/scenarios.md`` is generated from these fields (``python run.py schema``), so it cannot drift
from the code. Parsing and checking YAML files lives in ``sim.loader``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import Field, StringConstraints

from sim._config import Config, Sequence
from sim.ladder import Ladder
from sim.policies import (
    MEDIATION_POLICIES,
    RETALIATION_POLICIES,
    MediationPolicy,
    RetaliationPolicy,
)

ActorId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Probability = Annotated[float, Field(ge=0, le=1)]
Names = Sequence[ActorId]

# The discriminated unions are built from the registries, so a newly registered policy is
# accepted by the loader with no change here. Type checkers see the base classes.
if TYPE_CHECKING:
    RetaliationSpec = RetaliationPolicy
    MediationSpec = MediationPolicy
else:
    RetaliationSpec = Annotated[
        Union[tuple(RETALIATION_POLICIES.values())], Field(discriminator="policy")  # noqa: UP007
    ]
    MediationSpec = Annotated[
        Union[tuple(MEDIATION_POLICIES.values())], Field(discriminator="policy")  # noqa: UP007
    ]


class Restraint(Config):
    """What holds a state back from climbing: the chance each extra rung is given up.

    The chance of stopping short of rung k is
    ``climb_cost * (k / war)**2 + economic_ties + outside_pressure - audience_cost``, clipped to
    [0, 1]: climbing is cheap near the bottom and very costly near war.
    """

    climb_cost: Probability = Field(
        description="Restraint from the cost of climbing itself; grows with the square of the "
        "rung, so it bites hardest near war."
    )
    economic_ties: Probability = Field(
        description="Restraint from trade and investment with the adversary, at every rung."
    )
    outside_pressure: Probability = Field(
        description="Restraint from third parties urging calm (UN, great powers), at every rung."
    )


class Perception(Config):
    """Fog: acts are sometimes read one rung higher or lower than they were."""

    error: Probability = Field(description="Chance an act is misread by one rung.")
    upward_share: Probability = Field(
        0.5, description="Of the misreadings, the share read as worse than they were."
    )


class StateConfig(Config):
    """A state: its adversaries and the rules by which it climbs and descends the ladder."""

    name: str = Field(description="Name shown in stories and plots.")
    adversaries: Names = Field(min_length=1, description="Ids of the states it is in crisis with.")
    initial_rung: int = Field(
        0, ge=0, description="Its rung towards each adversary on day 0, before initial events."
    )
    retaliation: RetaliationSpec = Field(
        description="How it answers a hostile act: `policy` (a name from the retaliation "
        "registry), `delay` and the policy's own parameters."
    )
    restraint: Restraint = Field(description="What holds its answers down.")
    audience_cost: Probability = Field(
        description="Domestic pressure not to back down: offsets restraint and lowers the daily "
        "chance of stepping down (pledges to respond, an election)."
    )
    deescalation: Probability = Field(
        description="Daily chance of stepping down one rung when it has nothing to answer."
    )
    perception: Perception = Field(description="How reliably it reads the adversary's acts.")
    attribution: Probability = Field(
        description="Chance it blames an armed group's attack on the state hosting the group."
    )
    mediation: MediationSpec = Field(
        description="How it answers an offer of mediation: `policy` and its parameters."
    )


class ArmedGroupConfig(Config):
    """A non-state armed group based in one state and attacking another."""

    name: str = Field(description="Name shown in stories and plots.")
    based_in: ActorId = Field(description="Id of the state whose territory hosts it.")
    targets: ActorId = Field(description="Id of the state it attacks.")
    daily_rate: float = Field(ge=0, description="Expected attacks per day in calm times.")
    attack_rung: int = Field(
        ge=1, description="Rung at which the target reads an attack it blames on the host state."
    )
    tension_sensitivity: float = Field(
        0.0,
        ge=0,
        description="Rate multiplier growth with the crisis: rate x (1 + s x crisis rung / war).",
    )
    spoiler_boost: float = Field(
        0.0, ge=0, description="Rate multiplier growth while mediation is under way: x (1 + b)."
    )
    strike_damage: Probability = Field(
        0.0, description="Share of its capacity lost to each strike on it."
    )
    recovery: Probability = Field(0.0, description="Capacity regained each day, up to full.")


class MediatorConfig(Config):
    """A third party that offers talks to the parties of a crisis."""

    name: str = Field(description="Name shown in stories and plots.")
    parties: Names = Field(min_length=2, description="Ids of the states it offers mediation to.")
    trigger_rung: int | None = Field(
        None, ge=1, description="Offers once any party stands at this rung or higher (null: never)."
    )
    duration: int = Field(ge=1, description="Days accepted mediation lasts.")
    effectiveness: Probability = Field(
        description="While it lasts: the chance an answer is called off, and the share of the "
        "remaining distance to 1 added to the daily chance of stepping down."
    )
    cooldown: int = Field(
        ge=0, description="Days after a refusal or an ended mediation before it offers again."
    )


class MediationIntervention(Config):
    """A scripted change to a mediator: an offer on a set day and/or a forced answer."""

    mediator: ActorId = Field(description="Id of the mediator concerned.")
    offer_on_day: int | None = Field(
        None, ge=1, description="Day on which it offers, whatever the rung (null: by its trigger)."
    )
    response: Literal["accept", "refuse"] | None = Field(
        None,
        description="Every party's answer to all its offers, overriding their mediation "
        "policies (null: each party's policy decides).",
    )


class InitialEvent(Config):
    """A hostile act done before the simulation starts."""

    day: int = Field(le=0, description="Day of the act: 0 is the start day, -1 the day before.")
    actor: ActorId = Field(description="Id of the state that acted.")
    target: ActorId = Field(description="Id of the state it acted against.")
    rung: int = Field(ge=1, description="Rung of the act; the actor stands on it afterwards.")
    description: str = Field("", description="What happened, for stories.")


class Scenario(Config):
    """A whole crisis: ladder, actors, interventions and how long and how often to run it."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Short name, also a folder name (letters, digits, _ . -); results go to "
        "results/<name>/.",
    )
    description: str = Field("", description="What the scenario asks, for students.")
    start_date: datetime.date | None = Field(
        None,
        strict=False,
        description="Calendar date of day 0 (2024-01-16), so stories can say '18 January'.",
    )
    horizon: int = Field(ge=1, description="Days simulated after day 0.")
    runs: int = Field(ge=1, description="Runs in an ensemble unless the command says otherwise.")
    seed: int = Field(ge=0, description="Seed of the ensemble's random streams.")
    ladder: Ladder = Field(description="The escalation ladder.")
    actors: dict[ActorId, StateConfig] = Field(
        min_length=2, description="The states in the crisis, by id."
    )
    armed_groups: dict[ActorId, ArmedGroupConfig] = Field(
        default_factory=dict, description="Non-state armed groups, by id."
    )
    mediators: dict[ActorId, MediatorConfig] = Field(
        default_factory=dict, description="Third parties offering mediation, by id."
    )
    initial_events: Sequence[InitialEvent] = Field((), description="Acts done before day 0.")
    interventions: Sequence[MediationIntervention] = Field(
        (), description="Scripted mediation offers and forced answers."
    )
