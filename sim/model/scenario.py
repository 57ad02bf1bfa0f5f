"""The typed, immutable form of a scenario: what the model reads instead of raw YAML.

Every key a scenario file may hold is a field here, with its type, range, default and meaning;
``docs/scenarios.md`` is generated from these fields (``python run.py schema``), so it cannot drift
from the code. Parsing and checking YAML files lives in ``sim.inputs.loader``; ``docs/model.md`` explains
what each quantity does in the model and where each default comes from.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from sim.model import uncertainty as _uncertainty
from sim.model._config import Config, Sequence
from sim.model.distributions import Distribution
from sim.model.ladder import Casualties, Ladder, TargetKind
from sim.model.policies import (
    MEDIATION_POLICIES,
    RETALIATION_POLICIES,
    MediationPolicy,
    RetaliationPolicy,
)

ActorId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Probability = Annotated[float, Field(ge=0, le=1)]
WEIGHT_MAX = 1e6
"""The largest weight a scenario may give. Beyond it a weight times a rung's share overflows the
choice arithmetic (a cost of 1e308 made NaN of choices, and a sweep of garbage, silently); no
weight of the model means anything near it. A check, not a bound of the key's range, so sweeps
and calibration keep drawing their ranges from the defaults."""


def _within_weight_max(value: float) -> float:
    if value > WEIGHT_MAX:
        raise ValueError(f"expected a number from 0 to 1,000,000, got {value:g}")
    return value


Weight = Annotated[float, Field(ge=0, allow_inf_nan=False), AfterValidator(_within_weight_max)]
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

LIMITS = {
    "horizon": 3650,
    "runs": 10_000_000,
    "rungs": 32,
    "states": 12,
    "rounds": 16,
    "parameter_sets": 4096,
    "particles": 100_000,
    "days": 3650,
    "history": 36_500,
}
"""Largest horizon, runs per ensemble, ladder, number of states, rounds a day, parameter sets
and particles of a profile; longest delay or cooldown (``days``) and how far back history may
go (``history``, in days before day 0). Checked before anything is allocated; to go beyond
``runs``, run several ensembles with different seeds."""


class Mechanisms(Config):
    """Switches: each mechanism can be turned off to show a class what it adds."""

    beliefs: bool = Field(
        True,
        description="States update their beliefs about each other's resolve from the acts they "
        "see (off: beliefs stay at the prior).",
    )
    commitments: bool = Field(
        True, description="Public pledges to respond, and the audience cost of backing down."
    )
    third_parties: bool = Field(
        True, description="Third parties' pressure, protection and mediation (off: none act)."
    )
    armed_groups: bool = Field(True, description="Armed groups attack (off: none do).")
    misperception: bool = Field(True, description="Acts are sometimes misread by one rung.")
    nuclear: bool = Field(
        True, description="The nuclear shadow over the top rungs for nuclear-armed adversaries."
    )
    warnings: bool = Field(
        True,
        description="A strategic state may announce a strike in advance: read one rung lower "
        "and fewer casualties, yet it honours a pledge to strike.",
    )
    reactions: bool = Field(
        True,
        description="A strategic state reacts diplomatically (protest, recalled envoy, pledge) "
        "before its answer is ready.",
    )
    operations: bool = Field(
        True,
        description="Fighting that goes on (model 3): a strike at the rung just below war (a "
        "sustained exchange of fire) opens an operation its author carries on day after day "
        "until it stops, a ceasefire or war; forces in contact that exchange fire fall into an "
        "engagement that goes on by its own dynamics (off: every act is a one-off, as in "
        "model 2).",
    )
    talks_under_fire: bool = Field(
        True,
        description="Talks survive strikes (only war ends them), and the daily chance that they "
        "end in a ceasefire grows with the hurt both sides have suffered (Zartman's mutually "
        "hurting stalemate; off: a strike ends talks and the chance is constant, as in model 2).",
    )
    sticky_measures: bool = Field(
        True,
        description="Non-kinetic measures stick (model 3): a state struck, or taking an act "
        "without force above its baseline, puts measures in force (envoys recalled, a border "
        "closed) beside its posture; it lifts them by a visible act, inside an agreed ceasefire "
        "or at the slow daily rate `decision.measure_review_rate`; calm needs them lifted (off: no measures, as in "
        "model 2).",
    )
    direct_talks: bool = Field(
        True,
        description="Two states whose strikes have hurt each other may agree a ceasefire "
        "between themselves, with no mediator (model 3): daily chance "
        "`decision.direct_agreement_rate`, raised by the hurt both have suffered as mediated "
        "talks are (off: a ceasefire needs a mediator or a scripted event, as before).",
    )
    rounds_per_day: int = Field(
        3,
        ge=1,
        le=LIMITS["rounds"],
        description="Rounds of acts and answers within one day; answers with delay 0 come in "
        "the next round. 1 means no same-day answers.",
    )


class Decision(Config):
    """The shared behavioural parameters of strategic decisions (``docs/model.md``).

    The same for every state of a scenario: they say how states in crises weigh things, not
    who these states are. Their defaults are teaching defaults, each explained in docs/model.md.
    """

    rationality: float = Field(
        8.0,
        ge=0,
        description="Logit precision of every choice (McKelvey & Palfrey 1995): 0 chooses at "
        "random, larger values choose the best option more surely, .inf always does.",
    )
    deterrence: Weight = Field(
        4.0,
        description="Value of answering in kind up to the rung received, per unit of resolve, "
        "for an answer at the war rung (Schelling 1966).",
    )
    coercion: Probability = Field(
        1.0,
        description="Share of that value each rung above the one received adds if the "
        "adversary then backs down; it is weighed by the chance the state believes it will "
        "(compelling is harder than deterring, Schelling 1966; Fearon 1995).",
    )
    cost_convexity: float = Field(
        3.0,
        ge=1,
        le=8,
        description="How steeply the cost of force rises with the rung: an act at a share s of "
        "the ladder costs s to this power times the state's cost of war (Fearon 1995).",
    )
    risk: Weight = Field(
        1.5,
        description="Weight of the harm the state expects from the adversary's answer, as it "
        "believes the adversary will answer (Jervis 1976).",
    )
    nuclear_risk: Weight = Field(
        4.0,
        description="Weight of the nuclear shadow: the cost of acts at or above "
        "`nuclear_from_rung` against a nuclear-armed adversary (Schelling 1960; Snyder 1965).",
    )
    nuclear_from_rung: int = Field(
        6,
        ge=1,
        description="First rung over which the nuclear shadow falls; below it, limited "
        "fighting stays possible (the stability-instability paradox).",
    )
    standing_cost: Weight = Field(
        1.0,
        description="Weight of what a standing hostile posture costs, relieved by stepping down.",
    )
    reciprocity: Weight = Field(
        0.5,
        description="Pull to answer a conciliatory act with one (Osgood 1962; Leng 1993).",
    )
    review_rate: Probability = Field(
        0.5,
        description="Chance each day that a state revisits a hostile posture with nothing left "
        "to answer.",
    )
    belief_types: int = Field(
        5,
        ge=2,
        le=15,
        description="Resolve types an observer distinguishes (its prior is the other's resolve "
        "distribution cut into this many equally likely slices).",
    )
    ripeness: Weight = Field(
        2.0,
        description="Pull towards accepting mediation when both sides are hurting (Zartman 1989).",
    )
    talks: Weight = Field(
        2.0,
        description="While talks are under way: the weight of the mediators' leverage against "
        "hostile acts (the more, the graver the act) and for conciliatory ones.",
    )
    ceasefire_break: Weight = Field(
        1.5, description="Cost of breaking an agreed ceasefire with a strike."
    )
    protection: Weight = Field(
        1.0,
        description="Weight of a third party's protection of the adversary (extended "
        "deterrence, Huth 1988) against strikes on that adversary.",
    )
    reprisal_value: Probability = Field(
        0.3,
        description="Share of the value of answering left when the act was a reprisal: an "
        "answer to the state's own act, no graver than it, which closes the account rather "
        "than opening a new one (Schelling 1966; Leng 1993).",
    )
    denied_value: Probability = Field(
        0.5,
        description="Share of the value of answering left when the act was denied: a covert "
        "act lets its target look away (Carson 2016).",
    )
    operation_continuation: Probability = Field(
        0.85,
        description="Daily chance that a state carries on an operation it has opened (a "
        "campaign, Pape 1996; Byman & Waxman 2002): its mean length is 1 / (1 - p) days, 6.7 at "
        "0.85 (teaching default, the value of the model review's prototype; calibrated on the "
        "case library).",
    )
    engagement_continuation: Probability = Field(
        0.6,
        description="Daily chance that an engagement of forces in contact goes on (local "
        "dynamics of fire, not a capital's decision): a mean of 2.5 days at 0.6 (teaching "
        "default of the model review; calibrated on the case library).",
    )
    measure_review_rate: Probability = Field(
        0.02,
        description="Daily chance that a state lifts non-kinetic measures it holds outside an "
        "agreed ceasefire (inside one, `review_rate`): about 50 days on average (teaching default of the model review, §3.4; sanctions between adversaries "
        "outlast the crisis that brought them, Drezner 1999).",
    )
    direct_agreement_rate: Probability = Field(
        0.016,
        description="Daily chance that two states whose strikes have hurt each other, with no "
        "talks under way, agree a ceasefire between themselves, times 1 + `hurting_stalemate` x "
        "the lesser of their summed hurt (teaching default: half the mediated "
        "`agreement_rate` of the seed case, since mediated crises end in agreement more often, "
        "Beardsley 2011).",
    )
    hurting_stalemate: Weight = Field(
        1.0,
        description="How much the hurt both sides have suffered raises the daily chance that "
        "talks end in a ceasefire: the rate is multiplied by 1 + this x the lesser of the two "
        "sides' summed hurt (Zartman 1989, 2000; teaching default of the model review).",
    )


class Perception(Config):
    """Fog: acts are sometimes read one rung higher or lower than they were (Jervis 1976)."""

    error: Probability = Field(description="Chance an act is misread by one rung.")
    upward_share: Probability = Field(
        0.5, description="Of the misreadings, the share read as worse than they were."
    )


class Attribution(Config):
    """How a state decides whom to hold responsible for an armed group's attack.

    The odds of blaming a state start at ``base`` and are multiplied by each piece of evidence.
    """

    base: Probability = Field(
        description="Chance of blaming the group's host (or sponsor) with no evidence at all."
    )
    claim: Weight = Field(1.0, description="Odds multiplier when the group claims the attack.")
    known_base: Weight = Field(
        1.0, description="Odds multiplier for the host when the group's bases there are known."
    )
    sponsor: Weight = Field(1.0, description="Odds multiplier for a known sponsor.")
    per_attack: Weight = Field(
        1.0, description="Odds multiplier for each earlier attack by the group (up to three)."
    )


class StateConfig(Config):
    """A state: who it is, how resolved, what force costs it, and how it answers and steps down."""

    name: str = Field(description="Name shown in stories and plots.")
    nuclear: bool = Field(False, description="Nuclear-armed.")
    retaliation: RetaliationSpec = Field(
        description="How it answers hostile acts: `policy` (`strategic`, deciding by its "
        "terms, or a scripted persona), `delay`, `reaction_delay` and the persona's parameters."
    )
    resolve: Distribution = Field(
        description="How much it values standing firm, 0 to 1: drawn for each run and known "
        "only to itself; its adversaries start from this distribution as their belief."
    )

    @field_validator("resolve")
    @classmethod
    def _a_share(cls, value: Distribution) -> Distribution:
        if not 0 <= value.low <= value.high <= 1:
            if value.kind == "fixed":
                raise ValueError(f"resolve is a share from 0 to 1, got {value.low:g}")
            written = ", ".join(f"{number:g}" for number in value.params)
            raise ValueError(
                f"{{{value.kind}: [{written}]}} reaches {value.low:g} to {value.high:g}, outside "
                "resolve's range 0 to 1"
            )
        return value

    cost: Weight = Field(
        description="What war would cost this state, in units of what it stakes in the crisis; "
        "smaller acts cost far less, steeply less the lower the rung (Fearon 1995)."
    )
    audience_cost: Weight = Field(
        0.0,
        description="Cost of backing down from a public pledge to respond (Fearon 1994).",
    )
    pledge: Probability = Field(
        0.0,
        description="Chance it pledges publicly to respond when struck (a strategic state's "
        "reaction); a scenario can also script a pledge.",
    )
    perception: Perception = Field(description="How reliably it reads the adversary's acts.")
    attribution: Attribution = Field(
        description="Whom it holds responsible for an armed group's attack."
    )
    mediation: MediationSpec = Field(
        description="How it answers an offer of mediation: `decide` (weigh it), `accept` or "
        "`refuse`."
    )
    crackdown_cost: Weight = Field(
        1.0,
        description="Domestic cost of cracking down on an armed group it hosts, as a "
        "conciliatory act towards the group's target.",
    )


class Relation(Config):
    """A pair of states in crisis with each other: their peacetime baseline and their ties."""

    between: Names = Field(min_length=2, max_length=2, description="The two states, by id.")
    baseline: int = Field(
        0,
        ge=0,
        description="The posture each holds towards the other in peacetime (0: normal "
        "relations; a hostile peace, such as no ambassadors, is higher). Calm means both back "
        "at it.",
    )
    economic_ties: Weight = Field(
        0.0, description="What trade and investment add to each side's cost of using force."
    )


class ArmedGroupConfig(Config):
    """A non-state armed group: where it is based, whom it attacks, who (if anyone) backs it."""

    name: str = Field(description="Name shown in stories and plots.")
    host: ActorId = Field(description="Id of the state on whose soil it is based.")
    target: ActorId = Field(description="Id of the state it attacks.")
    sponsor: ActorId | None = Field(None, description="Id of a state that backs it, if any.")
    daily_rate: Weight = Field(description="Expected attacks per day in calm times.")
    capacity: Probability = Field(1.0, description="Starting strength (1 = full).")
    claims: Probability = Field(0.5, description="Chance it claims responsibility for an attack.")
    base_known: bool = Field(True, description="Its bases on the host's soil are publicly known.")
    attack_rung: int = Field(
        ge=1, description="Rung at which its target reads an attack it blames on a state."
    )
    tension_sensitivity: Weight = Field(
        0.0,
        description="Rate multiplier growth with the crisis: rate x (1 + s x crisis rung / war).",
    )
    spoiler_boost: Weight = Field(
        0.0,
        description="Rate multiplier growth while talks or a ceasefire are under way: x (1 + b).",
    )
    strike_damage: Probability = Field(
        0.0, description="Share of its capacity lost to each strike on it."
    )
    crackdown_damage: Probability = Field(
        0.3, description="Share of its capacity lost to a crackdown by its host."
    )
    recovery: Probability = Field(0.0, description="Capacity regained each day, up to full.")


class Pressure(Config):
    """How hard a third party presses the parties to hold back, as the crisis climbs."""

    base: Weight = Field(0.0, description="Pressure in a crisis at rung 0.")
    per_rung: Weight = Field(
        0.0, description="Extra pressure for each rung of the crisis (its highest posture)."
    )
    after_refusal: Weight = Field(
        0.0,
        description="Extra pressure on a state that refused its mediation, for the rest of the "
        "run (leverage used).",
    )


class Mediation(Config):
    """A third party's offers of talks."""

    parties: Names = Field(min_length=2, description="Ids of the states it offers talks to.")
    joint_with: Names = Field(
        (), description="Other third parties that mediate with it: their leverage adds up."
    )
    trigger_rung: int | None = Field(
        None,
        ge=1,
        description="Offers at the end of a day on which a party acted at or above this rung "
        "(null: only on scripted days).",
    )
    agreement_rate: Probability = Field(
        description="Daily chance that talks under way end in an agreed ceasefire."
    )
    face_saving: Probability = Field(
        0.5,
        description="Share of a party's audience cost the talks take away: a mediator gives "
        "cover for concessions (Beardsley 2011).",
    )
    cooldown: int = Field(
        3, ge=0, le=LIMITS["days"], description="Days after a refusal before it offers again."
    )
    offer_at_war: bool = Field(
        False, description="Whether it still offers talks to states already at war."
    )


class ThirdPartyConfig(Config):
    """A state or organisation outside the crisis that presses, protects or mediates."""

    name: str = Field(description="Name shown in stories and plots.")
    leverage: dict[ActorId, Weight] = Field(
        description="Its leverage over each state of the crisis (trade, aid, arms, alliance), "
        "in units of that state's stakes."
    )
    alignment: dict[ActorId, Annotated[float, Field(ge=-1, le=1)]] = Field(
        default_factory=dict,
        description="How closely it stands by each state, -1 to 1; a positive alignment "
        "protects that state (extended deterrence) and makes its talks more welcome there.",
    )
    pressure: Pressure = Field(
        default_factory=Pressure, description="How hard it presses for restraint."
    )
    mediation: Mediation | None = Field(None, description="Its offers of talks, if it makes any.")


class EventBase(Config):
    """Something scripted: before day 0 it is history; after, it happens on its day."""

    day: int = Field(
        ge=-LIMITS["history"],
        description="Day of the event: 0 is the start day, -1 the day before.",
    )
    description: str = Field("", description="What happened, for stories.")


class ActEvent(EventBase):
    """A state's act on a set day."""

    type: Literal["act"]
    actor: ActorId = Field(description="Id of the state acting.")
    target: ActorId = Field(description="Id of the state it acts against.")
    rung: int = Field(ge=1, description="Rung of the act.")
    target_kind: TargetKind | None = Field(
        None, description="What it hit (default: the ladder's target for the rung)."
    )
    group: ActorId | None = Field(
        None, description="Id of the armed group struck, for a strike on an armed group."
    )
    location: ActorId | None = Field(
        None,
        description="Id of the state on whose soil it happened (default: the group's host, "
        "else the target).",
    )
    casualties: Casualties | None = Field(
        None, description="Casualty band (default: the ladder's for the rung)."
    )
    announced: bool = Field(False, description="Announced in advance (a warning).")
    denied: bool = Field(
        False,
        description="Not acknowledged by the actor, nor publicly blamed on it by the target (a "
        "secret both keep, Carson 2016): the target may let it pass quietly.",
    )
    answered: bool = Field(
        False,
        description="Already answered before the run starts: it sets postures and beliefs but "
        "leaves nothing to answer.",
    )
    operation: bool | None = Field(
        None,
        description="A strike that opens an operation carried on day after day (true: a "
        "declared or open-ended operation, at the act's rung), or a one-off act that opens "
        "none whatever its rung (false); unset: the model's rule, a strike at the sustained "
        "rung opens one (mechanism `operations`).",
    )


class AttackEvent(EventBase):
    """An armed group's attack on a set day."""

    type: Literal["attack"]
    group: ActorId = Field(description="Id of the armed group.")
    claimed: bool = Field(False, description="The group claimed the attack.")
    answered: bool = Field(
        False, description="Already answered before the run starts (history only)."
    )


class PledgeEvent(EventBase):
    """A public pledge to respond: it creates an audience cost the adversary sees."""

    type: Literal["pledge"]
    actor: ActorId = Field(description="Id of the state pledging.")
    target: ActorId = Field(description="Id of the state it pledges to answer.")


class ConciliateEvent(EventBase):
    """A visible step down: an envoy returned, an operation declared over."""

    type: Literal["conciliate"]
    actor: ActorId = Field(description="Id of the state stepping down.")
    target: ActorId = Field(description="Id of the state it steps down towards.")
    to_rung: int = Field(ge=0, description="The posture it steps down to.")


class OfferEvent(EventBase):
    """A third party's offer of talks on a set day (the parties answer by their policies)."""

    type: Literal["offer"]
    third_party: ActorId = Field(description="Id of the third party offering.")


class CeasefireEvent(EventBase):
    """A ceasefire agreed on a set day."""

    type: Literal["ceasefire"]
    between: Names = Field(min_length=2, max_length=2, description="The two states agreeing it.")


if TYPE_CHECKING:
    EventSpec = EventBase
else:
    EventSpec = Annotated[
        Union[ActEvent, AttackEvent, PledgeEvent, ConciliateEvent, OfferEvent, CeasefireEvent],  # noqa: UP007
        Field(discriminator="type"),
    ]
EVENT_TYPES = {
    "act": ActEvent,
    "attack": AttackEvent,
    "pledge": PledgeEvent,
    "conciliate": ConciliateEvent,
    "offer": OfferEvent,
    "ceasefire": CeasefireEvent,
}


class Profile(Config):
    """A calibrated profile: particles of a posterior, setting several keys jointly."""

    source: str = Field("", description="The file the profile was read from.")
    weights: Sequence[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        min_length=1, max_length=LIMITS["particles"], description="Each particle's weight."
    )
    values: dict[str, Sequence[Annotated[float, Field(allow_inf_nan=False)]]] = Field(
        description="Each key's value in each particle, by dotted key path."
    )

    @model_validator(mode="after")
    def _aligned(self) -> Profile:
        for key, column in self.values.items():
            if len(column) != len(self.weights):
                raise ValueError(
                    f"{key} has {len(column)} values for {len(self.weights)} particle weights"
                )
        if sum(self.weights) <= 0:
            raise ValueError("the particle weights add up to 0")
        return self


class Uncertainty(Config):
    """Numbers written as distributions or profiles, and how many parameter sets carry them
    (see ``sim.model.uncertainty``)."""

    sets: int = Field(
        32,
        ge=1,
        le=LIMITS["parameter_sets"],
        description="Parameter sets drawn when some number is a distribution or a profile; each "
        "run takes one, by its own seed. More sets follow the distributions more closely; runs "
        "of one set are simulated together, so each set costs about one model's fixed time.",
    )
    distributions: dict[str, Distribution] = Field(
        default_factory=dict,
        description="Filled in from the numbers written as distributions, by dotted key path.",
    )
    from_profile: dict[str, str] = Field(
        default_factory=dict,
        description="Filled in from the numbers written as `{profile: NAME}`, by dotted key path.",
    )
    profiles: dict[str, Profile] = Field(
        default_factory=dict,
        description="The profiles named, read by the loader from `profiles/NAME.yaml` beside the "
        "scenario file or in a folder above it.",
    )

    @property
    def active(self) -> bool:
        return bool(self.distributions or self.from_profile)


class Scenario(Config):
    """A whole crisis: ladder, actors, events and how long and how often to run it."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=100,
        description="Short name, also a folder name (letters, digits, _ . -); results go to "
        "results/<name>/.",
    )
    description: str = Field("", description="What the scenario asks, for students.")
    start_date: datetime.date | None = Field(
        None,
        strict=False,
        description="Calendar date of day 0 (2024-01-16), so stories can say '18 January'.",
    )
    horizon: int = Field(ge=1, le=LIMITS["horizon"], description="Days simulated after day 0.")
    runs: int = Field(
        ge=1,
        le=LIMITS["runs"],
        description="Runs in an ensemble unless the command says otherwise.",
    )
    seed: int = Field(ge=0, description="Seed of the ensemble's random streams.")
    ladder: Ladder = Field(description="The escalation ladder.")
    mechanisms: Mechanisms = Field(
        default_factory=Mechanisms, description="Which mechanisms are on (all by default)."
    )
    decision: Decision = Field(
        default_factory=Decision,
        description="The shared behavioural parameters of strategic decisions.",
    )
    actors: dict[ActorId, StateConfig] = Field(
        min_length=2,
        max_length=LIMITS["states"],
        description="The states, by id (including states that only host a group).",
    )
    relations: Sequence[Relation] = Field(
        min_length=1, description="The pairs of states in crisis with each other."
    )
    armed_groups: dict[ActorId, ArmedGroupConfig] = Field(
        default_factory=dict, description="Non-state armed groups, by id."
    )
    third_parties: dict[ActorId, ThirdPartyConfig] = Field(
        default_factory=dict, description="Third parties that press, protect or mediate, by id."
    )
    events: Sequence[EventSpec] = Field(
        (), description="Scripted events: history before day 0, and acts on set days."
    )
    uncertainty: Uncertainty = Field(
        default_factory=Uncertainty,
        description="Parameter uncertainty: any real number of the scenario may be written as a "
        "distribution (`{uniform: [2, 4]}`) or as `{profile: calibrated}`; see docs/model.md.",
    )

    @model_validator(mode="before")
    @classmethod
    def _uncertain_numbers(cls, data: Any) -> Any:
        """Distributions written in place of numbers move into ``uncertainty``."""
        return _uncertainty.extract(cls, data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _profiles_named(self) -> Scenario:
        for key, name in self.uncertainty.from_profile.items():
            profile = self.uncertainty.profiles.get(name)
            if profile is None or _uncertainty.profile_column(profile.values, key) is None:
                raise ValueError(f"{key}: profile '{name}' has no values for this key")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dumped as a user writes it: distributions back in place of their medians."""
        return _uncertainty.restore(handler(self), self.uncertainty)

    def relation(self, a: str, b: str) -> Relation | None:
        """The relation between states ``a`` and ``b``, if they are in crisis with each other."""
        for relation in self.relations:
            if set(relation.between) == {a, b}:
                return relation
        return None

    def adversaries(self, state: str) -> list[str]:
        """The states ``state`` is in crisis with, in the order of ``relations``."""
        found = []
        for relation in self.relations:
            if state in relation.between:
                found += [other for other in relation.between if other != state]
        return found
