"""How a strategic state decides: the terms of each option, and the noisy choice among them.

This file holds the terms of "how does Pakistan decide to retaliate?"; the state that weighs
them, and what it does with its choice, is ``sim.model.states.StateAgent``, and the rule that
chooses is its policy (``sim.model.policies``). A state that owes an answer weighs
every option it has (no answer, or an act at some rung of the ladder, against the target that
rung hits, perhaps announced in advance) by the sum of named terms, each from the crisis
literature, and picks one by a logit choice (a quantal response, McKelvey & Palfrey 1995;
applied to crises by Signorino 1999): option ``o`` is chosen with probability proportional to
``exp(rationality * utility(o))``. With ``rationality = .inf`` it always picks the best option.

The terms of an answer of public rung ``r`` and read severity ``e`` to an act read at ``q``
(every rung divided by the war rung, so that 1 is war):

- ``resolve``: restoring deterrence (Schelling 1966; Snyder & Diesing 1977). Answering up to the
  rung received is worth ``deterrence * resolve`` per rung; each rung above it is worth
  ``coercion`` of that times the chance the state believes the adversary will then back down
  rather than answer: compelling is harder than deterring, and a state escalates to coerce when
  it believes the other side will give way (Fearon 1995's risk-return trade-off). A denied act is worth
  answering only ``denied_value`` as much; a reprisal (an answer to the state's own act, no
  graver than it) only ``reprisal_value`` as much: a proportionate reprisal closes the account
  rather than opening a new one (Schelling 1966 on tacit bargaining; Leng 1993 on reciprocity).
- ``cost``: the cost of force, steeply convex (Fearon 1995: war is costly; its costs rise much
  faster than the scale of the act): ``(cost + economic ties) * r**cost_convexity``.
- ``pressure``: each third party's leverage over the state times how hard it presses, which
  grows with the crisis and after a refused mediation, times ``r``.
- ``protection``: a third party aligned with the adversary makes strikes on it costlier
  (extended deterrence, Huth 1988).
- ``risk``: the harm the state expects from the adversary's answer, by its belief about the
  adversary's resolve (Jervis 1976; Fearon 1995). The adversary's answer is predicted two levels
  deep, as in cognitive-hierarchy models (Camerer, Ho & Chong 2004): the adversary weighs its own
  deterrence (answering up to what it received), cost, pressure, pledges and nuclear shadow, and
  the risk of the state's counter-answer, which it predicts one level deep (the state restoring
  deterrence, without risk or coercion of its own). So an adversary that fears the
  counter-answer can be predicted to back down: deterrence works by the threat of the next
  answer (Schelling 1966), and coercion can pay where the state believes the adversary weak.
  Facing an act of war, an adversary that would not answer gives way: a state goes to war when
  it believes the adversary will not fight back (Blainey 1973's optimism about war; Fearon 1995).
- ``commitment``: backing down from a public pledge (answering below the strike rung, or not at
  all) costs the audience cost (Fearon 1994), less the face-saving of talks under way.
- ``nuclear``: against a nuclear-armed adversary, acts from ``nuclear_from_rung`` up carry a
  steeply rising risk (Schelling 1960, 'the threat that leaves something to chance'); below it
  nothing changes, so limited fighting stays possible (Snyder 1965).
- ``talks`` and ``ceasefire``: a hostile act while talks are under way defies the mediators'
  leverage, the more the graver the act; a strike during an agreed ceasefire breaks it (with
  talks under fire, at a cost in proportion to the act).

A state with nothing left to answer reviews its posture now and then: hold, step down one rung,
step back to the baseline, or crack down on an armed group it hosts. Stepping down gives up some
``resolve`` but relieves the standing ``cost``, the ``pressure`` and the ``nuclear`` shadow,
answers the adversary's own conciliation (``reciprocity``, Osgood 1962) and takes the way out
the ``talks`` offer (Zartman 2000). Accepting mediation is a binary logit choice on
``mediation_gain``.

Beliefs (Fearon 1995, private information): each observer holds a belief over ``belief_types``
equally likely resolve types of the other state (its prior is that state's resolve distribution,
the common prior), and updates it by Bayes' rule from each act it sees, with the likelihood of
that act under each type (``type_probabilities``). An observer allows for error even in a state
that always best-responds: it reads choices with a precision of at most ``OBSERVER_PRECISION``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.model.ladder import STATE_TARGETS, Ladder, TargetKind

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

OBSERVER_PRECISION = 10.0
"""Highest logit precision an observer assumes when reading another state's choices."""

ANSWER_TERMS = (
    "resolve",
    "cost",
    "pressure",
    "protection",
    "risk",
    "commitment",
    "nuclear",
    "talks",
    "ceasefire",
)
REVIEW_TERMS = ("resolve", "relief", "pressure", "nuclear", "reciprocity", "talks", "crackdown")


@dataclass(frozen=True)
class Options:
    """The options of one kind of decision by one state towards one adversary.

    ``rung`` is the public rung of the act (0: no act); ``effective`` the severity the adversary
    reads (an announced strike reads one rung lower); ``group`` the index of the armed group a
    strike hits (-1 for none). For reviews, ``drop`` says how far an option steps down: 0 holds,
    1 steps one rung, -1 steps to the baseline; ``group`` marks a crackdown.
    """

    labels: tuple[str, ...]
    rung: IntArray
    effective: IntArray
    target: tuple[TargetKind, ...]
    group: IntArray
    announced: BoolArray
    strike: BoolArray
    drop: IntArray

    @property
    def size(self) -> int:
        return len(self.labels)

    @property
    def on_state(self) -> BoolArray:
        """Options that strike a state (its forces or leaders), not a group or civilians."""
        return np.array([kind in STATE_TARGETS for kind in self.target]) & self.strike


def answer_options(ladder: Ladder, struck_groups: Mapping[int, str], warnings: bool) -> Options:
    """No answer, then one act per rung (one per armed group that can be struck on the group
    rung), then announced strikes below war when ``warnings`` are on."""
    labels, rung, effective, target, group, announced = (
        ["no answer"],
        [0],
        [0],
        ["none"],
        [-1],
        [False],
    )

    def add(r: int, g: int, name: str, warn: bool) -> None:
        labels.append(("announced " if warn else "") + name)
        rung.append(r)
        effective.append(r - 1 if warn else r)
        target.append(ladder.target(r))
        group.append(g)
        announced.append(warn)

    for warn in (False, True):
        for r in range(1, ladder.size):
            if warn and not (warnings and ladder.strike_rung <= r < ladder.war):
                continue
            if ladder.target(r) == "armed_group":
                for g, group_name in struck_groups.items():
                    add(r, g, f"{ladder.name(r)} ({group_name})", warn)
            else:
                add(r, -1, ladder.name(r), warn)
    rungs = np.array(rung, dtype=np.int64)
    return Options(
        labels=tuple(labels),
        rung=rungs,
        effective=np.array(effective, dtype=np.int64),
        target=tuple(target),  # type: ignore[arg-type]
        group=np.array(group, dtype=np.int64),
        announced=np.array(announced, dtype=bool),
        strike=rungs >= ladder.strike_rung,
        drop=np.zeros(len(labels), dtype=np.int64),
    )


def review_options(hosted_groups: Mapping[int, str]) -> Options:
    """Hold, step down one rung, step back to the baseline, or crack down on a hosted group."""
    labels = ["hold", "step down one rung", "step back to the baseline"]
    drop = [0, 1, -1]
    group = [-1, -1, -1]
    for g, name in hosted_groups.items():
        labels.append(f"crack down on {name}")
        drop.append(0)
        group.append(g)
    size = len(labels)
    return Options(
        labels=tuple(labels),
        rung=np.zeros(size, dtype=np.int64),
        effective=np.zeros(size, dtype=np.int64),
        target=("none",) * size,  # type: ignore[arg-type]  # "none" is a TargetKind
        group=np.array(group, dtype=np.int64),
        announced=np.zeros(size, dtype=bool),
        strike=np.zeros(size, dtype=bool),
        drop=np.array(drop, dtype=np.int64),
    )


def nuclear_shadow(rungs: IntArray, ladder: Ladder, from_rung: int) -> FloatArray:
    """0 below ``from_rung``, rising linearly to 1 at war."""
    start = min(from_rung, ladder.war)
    return np.maximum((rungs - start + 1) / (ladder.war - start + 1), 0.0)


def deterrence_value(
    effective: IntArray,
    received: IntArray,
    war: int,
    coercion: float,
    success: FloatArray | None = None,
) -> FloatArray:
    """(n, O): value per unit of resolve of answering at ``effective`` an act read at ``received``.

    Up to the rung received, an answer restores deterrence; each rung above it is worth
    ``coercion`` times ``success`` (n, O), the chance the state believes the adversary will back
    down rather than answer (1 when not given: no look-ahead).
    """
    e = effective[None, :]
    q = received[:, None]
    above = coercion * np.maximum(e - q, 0)
    if success is not None:
        above = above * success
    return (np.minimum(e, q) + above) / war


def resolve_per_unit(
    options: Options,
    received: IntArray,
    weights: DecisionWeights,
    war: int,
    *,
    coercion: float,
    success: FloatArray | None = None,
    denied: BoolArray | None = None,
    reprisal: BoolArray | None = None,
) -> FloatArray:
    """(..., O): the ``resolve`` term of an answer per unit of resolve, for acts read at
    ``received``: ``deterrence`` times ``deterrence_value``, worth ``denied_value`` as much for a
    denied act and ``reprisal_value`` as much for a reprisal.

    ``answer_terms`` weighs it for the state's own answer; ``predicted_answer`` for the
    adversary's, at every severity (``denied`` and ``reprisal`` may then carry a leading axis
    of worlds, broadcast against ``received``).
    """
    per_unit = weights.deterrence * deterrence_value(
        options.effective, received, war, coercion, success
    )
    if denied is not None:
        per_unit = per_unit * np.where(denied, weights.denied_value, 1.0)[..., None]
    if reprisal is not None:
        per_unit = per_unit * np.where(reprisal, weights.reprisal_value, 1.0)[..., None]
    return per_unit


@dataclass(frozen=True)
class AnswerSituation:
    """What a state weighs when answering, for ``n`` worlds (arrays of length n).

    ``pressure`` is the total third-party pressure on the state (its parts by third party in
    ``pressure_parts``); ``protection`` the adversary's protection; ``talks`` the leverage of
    mediators whose talks are under way; ``face_saving`` their face-saving share.
    """

    received: IntArray
    resolve: FloatArray
    posture: IntArray
    denied: BoolArray
    reprisal: BoolArray
    success: FloatArray | None
    cost: float
    pressure: FloatArray
    pressure_parts: Mapping[str, FloatArray]
    protection: FloatArray
    pledge: BoolArray
    audience_cost: float
    talks: FloatArray
    face_saving: FloatArray
    ceasefire: BoolArray
    adversary_nuclear: bool


def answer_terms(
    options: Options,
    situation: AnswerSituation,
    weights: DecisionWeights,
    ladder: Ladder,
    *,
    reaction: bool = False,
) -> dict[str, FloatArray]:
    """The named terms of every option, each (n, O), without ``risk`` (see ``risk_term``).

    ``resolve`` is returned per unit of resolve times the state's resolve; the per-unit part is
    under the key ``"resolve_per_unit"`` for the belief likelihoods.
    """
    s = situation
    war = ladder.war
    r = options.rung.astype(np.float64)
    share = r / war
    n = s.received.shape[0]
    per_unit = resolve_per_unit(
        options,
        s.received,
        weights,
        war,
        coercion=weights.coercion,
        success=s.success,
        denied=s.denied,
        reprisal=s.reprisal,
    )
    backing_down = (options.rung < ladder.strike_rung)[None, :] & s.pledge[:, None]
    terms = {
        "resolve_per_unit": per_unit,
        "resolve": per_unit * s.resolve[:, None],
        "cost": np.broadcast_to(-s.cost * share**weights.cost_convexity, (n, options.size)),
        "pressure": -s.pressure[:, None] * share[None, :],
        "protection": -weights.protection
        * s.protection[:, None]
        * (share * options.strike)[None, :],
        "commitment": np.zeros((n, options.size))
        if reaction
        else -s.audience_cost * (1 - s.face_saving)[:, None] * backing_down,
        "nuclear": np.broadcast_to(
            -weights.nuclear_risk
            * s.adversary_nuclear
            * nuclear_shadow(options.rung, ladder, weights.nuclear_from_rung),
            (n, options.size),
        ),
        "talks": -weights.talks * s.talks[:, None] * share[None, :],
        "ceasefire": -weights.ceasefire_break
        * s.ceasefire[:, None]
        * (options.strike * (share if weights.break_in_proportion else 1.0))[None, :],
    }
    for name, part in s.pressure_parts.items():
        terms[f"pressure:{name}"] = -part[:, None] * share[None, :]
    return terms


def answer_available(
    options: Options, posture: IntArray, strike_rung: int, *, reaction: bool
) -> BoolArray:
    """(n, O): acts without force must climb above the standing posture (an envoy cannot be
    recalled twice); strikes can always be made again; a reaction has no strikes."""
    below = options.rung < strike_rung
    climbs = options.rung[None, :] > posture[:, None]
    allowed = np.where(below[None, :], climbs, not reaction)
    allowed[:, 0] = True
    return allowed


def risk_term(options: Options, belief: FloatArray, harm: FloatArray, weight: float) -> FloatArray:
    """(n, O): minus the expected harm of the adversary's answer to each option.

    ``harm`` is (n, war + 1, K): by the severity the adversary reads and its resolve type.
    """
    return -weight * by_belief(options, belief, harm)


@dataclass(frozen=True)
class DecisionWeights:
    """The shared weights of ``sim.model.scenario.Decision``, as plain floats for the hot loop."""

    rationality: float
    deterrence: float
    coercion: float
    cost_convexity: float
    risk: float
    nuclear_risk: float
    nuclear_from_rung: int
    standing_cost: float
    reciprocity: float
    ripeness: float
    talks: float
    ceasefire_break: float
    protection: float
    denied_value: float
    reprisal_value: float
    break_in_proportion: bool = False
    """Breaking a ceasefire costs ``ceasefire_break`` x the act's share of the ladder (the war
    rung costs it whole), not the same for every strike (model 3, with talks under fire: so a
    war is never cheaper to start than a small strike once a ceasefire holds)."""


def total(terms: Mapping[str, FloatArray], names: tuple[str, ...]) -> FloatArray:
    """Sum of the named terms (the breakdowns such as ``pressure:china`` are not added)."""
    present = [terms[name] for name in names if name in terms]
    result = np.array(
        np.broadcast_to(present[0], np.broadcast_shapes(*(t.shape for t in present))),
        dtype=np.float64,
    )
    for term in present[1:]:
        result += term
    return result


def choice_probabilities(
    utility: FloatArray, available: BoolArray, rationality: float
) -> FloatArray:
    """Logit choice probabilities over the last axis; unavailable options get 0.

    Option 0 (no answer, hold) is always available; utilities are taken relative to it before
    exponentiating, and a row whose numbers would overflow is done again relative to its best
    option. Either way each row's result depends on that row alone. With infinite rationality,
    the best option gets 1 (the first of tied best options).
    """
    if np.isinf(rationality):
        best = np.argmax(np.where(available, utility, -np.inf), axis=-1)
        return np.eye(utility.shape[-1])[best]
    scaled = np.where(available, rationality * (utility - utility[..., :1]), -np.inf)
    return logit_shares(scaled)


def logit_shares[F: np.floating](scaled: NDArray[F]) -> NDArray[F]:
    """``exp(scaled)`` normalised over the last axis, in ``scaled``'s precision.

    ``scaled`` holds utilities times precision, relative to option 0 (-inf where unavailable).
    A row whose exponentials overflow is done again relative to its best option, so each row's
    result depends on that row alone.
    """
    with np.errstate(over="ignore"):  # an overflowing row is redone below
        weights = np.exp(scaled)
    sums = last_sum(weights)[..., None]
    overflow = ~np.isfinite(sums[..., 0])
    if overflow.any():
        rows = scaled[overflow]
        rows = np.exp(rows - rows.max(axis=-1, keepdims=True))
        weights[overflow] = rows
        sums[overflow] = last_sum(rows)[..., None]
    weights /= sums
    return weights


def draw(probabilities: FloatArray, u: FloatArray) -> IntArray:
    """The option whose cumulative probability first exceeds ``u`` (inverse-CDF sampling)."""
    cumulative = np.cumsum(probabilities, axis=-1)
    chosen = (cumulative <= u[:, None]).sum(axis=-1)
    last = probabilities.shape[-1] - 1
    # rounding can leave the last cumulative value a hair under 1: fall back to the last option
    # that has any probability
    top = last - np.argmax(probabilities[:, ::-1] > 0, axis=-1)
    return np.minimum(chosen, top).astype(np.int64)


def binary_choice(gain: FloatArray, rationality: float, u: FloatArray) -> BoolArray:
    """Logit choice between yes (utility ``gain``) and no (utility 0)."""
    if np.isinf(rationality):
        return gain > 0
    with np.errstate(over="ignore"):  # exp overflowing to inf gives the right limit, 0
        return u < 1.0 / (1.0 + np.exp(-rationality * gain))


def type_probabilities(
    per_unit: FloatArray,
    rest: FloatArray,
    types: FloatArray,
    available: BoolArray,
    rationality: float,
) -> NDArray[np.float32]:
    """(n, K, O): each option's probability if the chooser's resolve were each type.

    ``per_unit`` is the resolve term per unit of resolve, ``rest`` every other term; both (n, O).
    """
    precision = min(rationality, OBSERVER_PRECISION)
    # As choice_probabilities, relative to option 0, but built in place and in single
    # precision: this is the largest array of a decision (worlds x types x options), and a
    # belief needs no more than seven digits.
    slope = (precision * (per_unit - per_unit[:, :1])).astype(np.float32)
    base = np.where(available, precision * (rest - rest[:, :1]), -np.inf).astype(np.float32)
    scaled: NDArray[np.float32] = types.astype(np.float32)[None, :, None] * slope[:, None, :]
    scaled += base[:, None, :]
    return logit_shares(scaled)


def last_sum(values: NDArray[np.floating]) -> NDArray[np.floating]:
    """Sum over the last (short) axis.

    numpy's ``sum`` over a short last axis is several times slower than ``einsum``, whose
    order of addition depends only on the axis length, so each row's sum stays the same
    whatever the other rows are.
    """
    return np.einsum("...o->...", values)


def predicted_answer(
    options: Options,
    rest: FloatArray,
    available: BoolArray,
    types: FloatArray,
    weights: DecisionWeights,
    ladder: Ladder,
    rationality: float,
    reprisal_up_to: IntArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """How an adversary would answer an act read at each severity, if its resolve were each
    type: (harm, quiet), each (n, war + 1, K).

    ``harm`` is the harm the state expects from the answer; ``quiet`` the chance of no answer
    at all (the adversary backs down; facing war, it does not fight back). ``options``, ``rest``
    (every term but resolve, (n, O), with the risk of the counter-answer for a two-level
    prediction) and ``available`` describe the adversary's answer. Its resolve term is the one
    ``answer_terms`` weighs (``resolve_per_unit``): it restores deterrence up to what it
    received, does not itself plan to coerce, and takes no act as denied. An act answering the
    adversary's own, read at or below ``reprisal_up_to`` (n,), is a reprisal to it, worth
    answering only ``reprisal_value`` as much. Harm is the answer's read severity as a share of
    war to the power ``cost_convexity``, as costs are.
    """
    war = ladder.war
    severities = np.arange(war + 1)
    # the resolve term of answer_terms, for every severity E the adversary could answer:
    # (n, E, O), then (n, E, K, O): its utility for each option, by severity and type
    reprisal = None
    if reprisal_up_to is not None:
        reprisal = severities[None, :] <= reprisal_up_to[:, None]
    per_unit = resolve_per_unit(options, severities, weights, war, coercion=0.0, reprisal=reprisal)
    per_unit = np.broadcast_to(per_unit, (rest.shape[0], *per_unit.shape[-2:]))
    utility = types[None, None, :, None] * per_unit[:, :, None, :] + rest[:, None, None, :]
    probabilities = choice_probabilities(utility, available[:, None, None, :], rationality)
    harm = probabilities @ ((options.effective / war) ** weights.cost_convexity)
    quiet = probabilities[..., 0].copy()
    harm[:, 0, :] = 0.0  # no act, no answer
    quiet[:, 0, :] = 1.0
    harm[:, war, :] = 1.0 - quiet[:, war, :]  # an adversary that answers war at all fights it
    return harm, quiet


def by_belief(options: Options, belief: FloatArray, predicted: FloatArray) -> FloatArray:
    """(n, O): a predicted quantity (n, war + 1, K) for each option, averaged over the belief
    (averaged per severity first: there are fewer severities than options)."""
    return np.einsum("nwk,nk->nw", predicted, belief)[:, options.effective]


def subset(situation: AnswerSituation, rows: NDArray[np.intp]) -> AnswerSituation:
    """The situation in some of its worlds."""
    values = {}
    for name in AnswerSituation.__dataclass_fields__:
        value = getattr(situation, name)
        if isinstance(value, np.ndarray):
            value = value[rows]
        elif isinstance(value, dict):
            value = {key: part[rows] for key, part in value.items()}
        values[name] = value
    return AnswerSituation(**values)


@dataclass(frozen=True)
class ReviewSituation:
    """What a state weighs when reviewing a standing posture, for ``n`` worlds."""

    resolve: FloatArray
    posture: IntArray
    baseline: int
    cost: float
    pressure: FloatArray
    pressure_parts: Mapping[str, FloatArray]
    conciliated: BoolArray
    talks: FloatArray
    adversary_nuclear: bool
    crackdown_cost: float


def review_levels(options: Options, posture: IntArray, baseline: int) -> IntArray:
    """(n, O): the posture each review option leads to."""
    drop = options.drop[None, :]
    stepped = np.where(drop == -1, baseline, posture[:, None] - drop)
    return np.maximum(stepped, baseline)


def review_terms(
    options: Options,
    situation: ReviewSituation,
    levels: IntArray,
    weights: DecisionWeights,
    ladder: Ladder,
) -> dict[str, FloatArray]:
    """The named terms of every review option, each (n, O); holding is the zero of the scale.

    ``levels`` is what ``review_levels`` gives: the posture each option leads to.
    """
    s = situation
    war = ladder.war
    dropped = (s.posture[:, None] - levels) / war
    crackdown = (options.group >= 0)[None, :]
    moves = (options.drop != 0)[None, :] | crackdown
    conceded = np.where(crackdown, 1.0 / war, dropped)
    shadow_now = nuclear_shadow(s.posture, ladder, weights.nuclear_from_rung)[:, None]
    shadow_new = nuclear_shadow(levels, ladder, weights.nuclear_from_rung)
    per_unit = -weights.deterrence * conceded
    terms = {
        "resolve_per_unit": per_unit,
        "resolve": per_unit * s.resolve[:, None],
        "relief": weights.standing_cost
        * s.cost
        * (
            (s.posture[:, None] / war) ** weights.cost_convexity
            - (levels / war) ** weights.cost_convexity
        ),
        "pressure": s.pressure[:, None] * conceded,
        "nuclear": weights.nuclear_risk * s.adversary_nuclear * (shadow_now - shadow_new),
        "reciprocity": weights.reciprocity * s.conciliated[:, None] * moves,
        "talks": weights.talks * s.talks[:, None] * moves,
        "crackdown": -s.crackdown_cost * crackdown * np.ones((s.posture.shape[0], 1)),
    }
    for name, part in s.pressure_parts.items():
        terms[f"pressure:{name}"] = part[:, None] * conceded
    return terms


def review_available(
    options: Options, posture: IntArray, baseline: int, levels: IntArray
) -> BoolArray:
    """(n, O): a step must lead below the posture; 'to the baseline' only if two or more rungs."""
    allowed = (levels < posture[:, None]) | (options.drop == 0)[None, :]
    one_step = posture - 1 <= baseline
    allowed[:, 2] &= ~one_step
    return allowed


def mediation_gain(
    *,
    resolve: FloatArray,
    owed: IntArray,
    own_hurt: IntArray,
    other_hurt: IntArray,
    leverage: float,
    pressure: FloatArray,
    after_refusal: float,
    alignment: float,
    pledge: BoolArray,
    audience_cost: float,
    face_saving: float,
    weights: DecisionWeights,
    war: int,
) -> dict[str, FloatArray]:
    """The terms of accepting talks rather than refusing them, each (n,).

    Ripeness is mutual: it is the lesser of the two sides' distance above their baseline
    (Zartman 1989's mutually hurting stalemate). The mediators' leverage weighs their pressure
    and what refusing would add to it (Beardsley 2011); alignment makes talks more welcome
    (Kydd 2003); the answer the talks would hold back, and a pledge the state could not honour,
    weigh against (less the talks' face-saving).
    """
    return {
        "ripeness": weights.ripeness * np.minimum(own_hurt, other_hurt) / war,
        "pressure": leverage * (pressure + after_refusal),
        "alignment": np.full(resolve.shape, alignment),
        "held_back": -weights.deterrence * resolve * owed / war,
        "commitment": -audience_cost * (1 - face_saving) * pledge,
    }
