"""The vectorised batch engine: the Mesa model's rules, run for many runs at once with numpy.

Every run of a chunk is one entry (the last axis) of a few numpy arrays; the loops are over days,
directed state pairs ("dyads"), armed groups and mediators, never over runs. The rules are those
of ``sim.model`` and ``sim.agents``, step for step (``docs/engines.md`` maps each one); the
decisions that belong to a policy are made by calling that policy's own vectorised methods
(``respond``, ``step_down_chance``, ``forget``, ``accepts``) on the arrays of the runs concerned, so
the two engines share one source of truth for them.

Randomness: one ``numpy.random.Generator`` per chunk, ``np.random.default_rng(list(seeds))``, so
a run's result depends only on the seeds of its chunk (and never on how many workers ran the
chunks). Calls with more than ``CHUNK`` seeds are cut into consecutive chunks of ``CHUNK`` seeds,
each with its own generator, which keeps memory bounded. The draws are not the Mesa engine's
draws: the two engines agree in distribution, not run by run (``tests/test_engines.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.outcomes import NO_DAY, Batch
from sim.policies import (
    MEDIATION_POLICIES,
    RETALIATION_POLICIES,
    MediationPolicy,
    RetaliationPolicy,
)
from sim.scenario import Scenario

CHUNK = 8192
"""Largest number of runs simulated at once (one generator each); longer seed lists are cut."""

__all__ = ["CHUNK", "FastEngineUnsupported", "check_supported", "simulate_fast"]


class FastEngineUnsupported(ValueError):
    """The scenario uses something the fast engine cannot simulate faithfully: use Mesa."""


@dataclass(frozen=True)
class _State:
    delay: int
    ring: int  # length of the pending-answer ring: due days day+1 .. day+delay
    hold: tuple[float, ...]  # chance of stopping short of rung k, k = 0 .. war
    step_down: float  # deescalation * (1 - audience_cost), before mediation and policy
    error: float
    upward: float
    retaliation: RetaliationPolicy
    mediation: MediationPolicy
    dyads: tuple[int, ...]  # its dyads, in the order of its adversaries


@dataclass(frozen=True)
class _Dyad:
    state: int
    adversary: int
    reverse: int  # the dyad (adversary, state)
    pair: int  # unordered pair, for mediation cover
    struck_groups: tuple[int, ...]  # groups hurt by this dyad's strikes (hosted by the adversary)


@dataclass(frozen=True)
class _Group:
    dyad: int  # (host, target): the group stops while the host is at war with the target
    blame_dyad: int  # (target, host): where a blamed attack waits to be answered
    pair: int
    daily_rate: float
    attack_rung: int
    tension_sensitivity: float
    spoiler_boost: float
    strike_damage: float
    recovery: float
    attribution: float


@dataclass(frozen=True)
class _Mediator:
    parties: tuple[int, ...]
    trigger: int | None
    duration: int
    effectiveness: float
    cooldown: int
    offer_days: frozenset[int]
    forced: bool | None  # True: every party accepts; False: every party refuses; None: policies


@dataclass(frozen=True)
class _Plan:
    horizon: int
    war: int
    strike: int
    states: tuple[_State, ...]
    dyads: tuple[_Dyad, ...]
    groups: tuple[_Group, ...]
    mediators: tuple[_Mediator, ...]
    pair_mediators: tuple[tuple[int, ...], ...]  # per pair: covering mediators, scenario order
    rung0: tuple[int, ...]  # per dyad, after the initial events
    capacity0: tuple[float, ...]
    pending0: tuple[tuple[tuple[int, int], ...], ...]  # per dyad: (due day, perceived), in order


def check_supported(scenario: Scenario) -> None:
    """Raise ``FastEngineUnsupported`` if the fast engine cannot run ``scenario`` faithfully."""
    _plan(scenario)


def _check_references(scenario: Scenario) -> None:
    """The loader refuses these; a scenario built in code might not have been through it."""
    actors = scenario.actors
    for actor_id, config in actors.items():
        for adversary in config.adversaries:
            if adversary not in actors or actor_id not in actors[adversary].adversaries:
                raise FastEngineUnsupported(
                    f"'{actor_id}' lists '{adversary}' as adversary, but not the other way round"
                )
        adversaries = config.adversaries
        if len(set(adversaries)) != len(adversaries) or actor_id in adversaries:
            raise FastEngineUnsupported(f"'{actor_id}' lists an adversary twice, or itself")
    for group_id, group in scenario.armed_groups.items():
        host = actors.get(group.based_in)
        if host is None or group.targets not in host.adversaries:
            raise FastEngineUnsupported(
                f"armed group '{group_id}': its host and target are not adversaries"
            )
    for mediator_id, mediator in scenario.mediators.items():
        if not set(mediator.parties) <= set(actors):
            raise FastEngineUnsupported(f"mediator '{mediator_id}' has a party that is no state")
    for event in scenario.initial_events:
        if event.actor not in actors or event.target not in actors[event.actor].adversaries:
            raise FastEngineUnsupported(
                f"initial event by '{event.actor}' against '{event.target}', not its adversary"
            )
    for intervention in scenario.interventions:
        if intervention.mediator not in scenario.mediators:
            raise FastEngineUnsupported(
                f"intervention for '{intervention.mediator}', which is no mediator"
            )


def _plan(scenario: Scenario) -> _Plan:
    ladder = scenario.ladder
    war, strike = ladder.war, ladder.strike_rung
    if war > 127:
        raise FastEngineUnsupported(
            f"ladder with {ladder.size} rungs: the fast engine stores rungs as int8 (at most 128)"
        )
    ids = list(scenario.actors)
    index = {actor_id: i for i, actor_id in enumerate(ids)}
    _check_references(scenario)
    for actor_id, config in scenario.actors.items():
        kind = type(config.retaliation)
        if RETALIATION_POLICIES.get(config.retaliation.policy) is not kind:
            raise FastEngineUnsupported(
                f"retaliation policy class {kind.__name__} of '{actor_id}' is not registered"
            )
        kind_m = type(config.mediation)
        if MEDIATION_POLICIES.get(config.mediation.policy) is not kind_m:
            raise FastEngineUnsupported(
                f"mediation policy class {kind_m.__name__} of '{actor_id}' is not registered"
            )

    dyad_keys = [(index[s], index[a]) for s in ids for a in scenario.actors[s].adversaries]
    dyad_index = {key: i for i, key in enumerate(dyad_keys)}
    pair_keys = sorted({frozenset(key) for key in dyad_keys}, key=sorted)
    pair_index = {key: i for i, key in enumerate(pair_keys)}
    group_items = list(scenario.armed_groups.values())

    dyads = tuple(
        _Dyad(
            state=s,
            adversary=a,
            reverse=dyad_index[(a, s)],
            pair=pair_index[frozenset((s, a))],
            struck_groups=tuple(
                g
                for g, group in enumerate(group_items)
                if index[group.based_in] == a and index[group.targets] == s
            ),
        )
        for s, a in dyad_keys
    )

    states = []
    for s, config in enumerate(scenario.actors.values()):
        restraint = config.restraint
        hold = tuple(
            min(
                max(
                    restraint.climb_cost * (k / war) ** 2
                    + restraint.economic_ties
                    + restraint.outside_pressure
                    - config.audience_cost,
                    0.0,
                ),
                1.0,
            )
            for k in range(war + 1)
        )
        delay = config.retaliation.delay
        states.append(
            _State(
                delay=delay,
                ring=delay + 1,
                hold=hold,
                step_down=config.deescalation * (1 - config.audience_cost),
                error=config.perception.error,
                upward=config.perception.upward_share,
                retaliation=config.retaliation,
                mediation=config.mediation,
                dyads=tuple(dyad_index[(s, index[a])] for a in config.adversaries),
            )
        )

    groups = tuple(
        _Group(
            dyad=dyad_index[(index[group.based_in], index[group.targets])],
            blame_dyad=dyad_index[(index[group.targets], index[group.based_in])],
            pair=pair_index[frozenset((index[group.based_in], index[group.targets]))],
            daily_rate=group.daily_rate,
            attack_rung=group.attack_rung,
            tension_sensitivity=group.tension_sensitivity,
            spoiler_boost=group.spoiler_boost,
            strike_damage=group.strike_damage,
            recovery=group.recovery,
            attribution=scenario.actors[group.targets].attribution,
        )
        for group in group_items
    )

    mediators: list[_Mediator] = []
    for mediator_id, mediator in scenario.mediators.items():
        forced = next(
            (
                i.response
                for i in scenario.interventions
                if i.mediator == mediator_id and i.response is not None
            ),
            None,
        )
        mediators.append(
            _Mediator(
                parties=tuple(index[p] for p in mediator.parties),
                trigger=mediator.trigger_rung,
                duration=mediator.duration,
                effectiveness=mediator.effectiveness,
                cooldown=mediator.cooldown,
                offer_days=frozenset(
                    i.offer_on_day
                    for i in scenario.interventions
                    if i.mediator == mediator_id and i.offer_on_day is not None
                ),
                forced=None if forced is None else forced == "accept",
            )
        )
    pair_mediators = tuple(
        tuple(m for m, med in enumerate(mediators) if set(pair) <= set(med.parties))
        for pair in pair_keys
    )

    # The initial events are deterministic: play them once, as EscalationModel does.
    rung = [scenario.actors[ids[s]].initial_rung for s, _ in dyad_keys]
    capacity = [1.0] * len(groups)
    pending: list[list[tuple[int, int]]] = [[] for _ in dyad_keys]
    for event in sorted(scenario.initial_events, key=lambda e: e.day):
        actor, target = index[event.actor], index[event.target]
        act, back = dyad_index[(actor, target)], dyad_index[(target, actor)]
        rung[act] = max(rung[act], event.rung)
        if event.rung == war:
            rung[back] = war
            pending[back] = []
            continue
        if event.rung >= strike:
            for g in dyads[act].struck_groups:
                capacity[g] *= 1 - groups[g].strike_damage
        due = max(event.day + states[target].delay, 1)
        pending[back].append((due, event.rung))

    return _Plan(
        horizon=scenario.horizon,
        war=war,
        strike=strike,
        states=tuple(states),
        dyads=dyads,
        groups=groups,
        mediators=tuple(mediators),
        pair_mediators=pair_mediators,
        rung0=tuple(rung),
        capacity0=tuple(capacity),
        pending0=tuple(tuple(p) for p in pending),
    )


def simulate_fast(scenario: Scenario, run_seeds: Sequence[int]) -> Batch:
    """Simulate one run per seed of ``run_seeds``; the same ``Batch`` as ``batch_of_models``.

    Raises ``FastEngineUnsupported`` if the scenario needs something this engine cannot do.
    """
    plan = _plan(scenario)
    seeds = [int(seed) for seed in run_seeds]
    if not seeds:
        return Batch(
            rungs=np.zeros((0, plan.horizon + 1, len(plan.states)), dtype=np.int8),
            first_strike_day=np.zeros(0, dtype=np.int64),
            mediation_offered=np.zeros(0, dtype=bool),
            mediation_accepted=np.zeros(0, dtype=bool),
        )
    batches = [
        _Chunk(plan, seeds[start : start + CHUNK]).run() for start in range(0, len(seeds), CHUNK)
    ]
    return batches[0] if len(batches) == 1 else Batch.concatenate(batches)


class _Chunk:
    """The state of a chunk of runs; the last axis of every array is the run."""

    def __init__(self, plan: _Plan, seeds: list[int]) -> None:
        self.plan = plan
        self.rng = np.random.default_rng(seeds)
        n = self.n = len(seeds)
        self.rung = np.repeat(np.array(plan.rung0, dtype=np.int8)[:, None], n, axis=1)
        self.memory = np.zeros((len(plan.dyads), n))
        self.capacity = np.repeat(np.array(plan.capacity0)[:, None], n, axis=1)
        # Pending answers of dyad (s, a), the acts s perceived from a: a ring over due days
        # (due % ring) of counts and of up to K perceived rungs in arrival order; K grows as needed.
        self.count: list[np.ndarray] = []
        self.value: list[np.ndarray] = []
        self.waiting = np.zeros((len(plan.dyads), n), dtype=np.int32)
        for dyad, entries in zip(plan.dyads, plan.pending0, strict=True):
            ring = plan.states[dyad.state].ring
            per_day = [0] * ring
            for due, _ in entries:
                per_day[due % ring] += 1
            count = np.zeros((ring, n), dtype=np.int16)
            value = np.zeros((ring, max(2, *per_day), n), dtype=np.int8)
            for due, perceived in entries:
                slot = due % ring
                value[slot, count[slot, 0]] = perceived
                count[slot] += 1
            self.count.append(count)
            self.value.append(value)
            self.waiting[len(self.count) - 1] = len(entries)
        m = len(plan.mediators)
        self.days_left = np.zeros((m, n), dtype=np.int32)
        self.cooldown = np.zeros((m, n), dtype=np.int32)
        self.offered = np.zeros(n, dtype=bool)
        self.accepted = np.zeros(n, dtype=bool)
        self.first_strike = np.full(n, NO_DAY, dtype=np.int64)
        self.history = np.empty((plan.horizon + 1, len(plan.states), n), dtype=np.int8)
        self.cover: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(plan.pair_mediators)
        self.running: np.ndarray | None = None  # None: every run still running
        self.hold = [np.asarray(state.hold) for state in plan.states]

    # -- helpers ---------------------------------------------------------------------------

    def _tops(self, out: np.ndarray) -> None:
        for s, state in enumerate(self.plan.states):
            if len(state.dyads) == 1:
                out[s] = self.rung[state.dyads[0]]
            else:
                np.max(self.rung[list(state.dyads)], axis=0, out=out[s])

    def _schedule(self, dyad: int, due: int, rows: np.ndarray, perceived: np.ndarray) -> None:
        """Append a pending answer due on ``due`` for the given runs, after those already there."""
        count, value = self.count[dyad], self.value[dyad]
        slot = due % count.shape[0]
        k = count[slot, rows]
        if int(k.max()) >= value.shape[1]:
            value = np.concatenate([value, np.zeros_like(value)], axis=1)
            self.value[dyad] = value
        value[slot, k, rows] = perceived
        count[slot, rows] = k + 1
        self.waiting[dyad, rows] += 1

    def _perceive(self, dyad: int, rows: np.ndarray, rungs: np.ndarray, day: int) -> None:
        """StateAgent.perceive with fog, for the runs ``rows``: dyad is (perceiver, actor)."""
        state = self.plan.states[self.plan.dyads[dyad].state]
        perceived = rungs.astype(np.int8, copy=True)
        misread = np.flatnonzero(self.rng.random(rows.size) < state.error)
        if misread.size:
            up = self.rng.random(misread.size) < state.upward
            shifted = perceived[misread] + np.where(up, 1, -1)
            perceived[misread] = np.clip(shifted, 1, self.plan.war)
        self._schedule(dyad, day + state.delay, rows, perceived)

    # -- the day ----------------------------------------------------------------------------

    def run(self) -> Batch:
        plan = self.plan
        self._tops(self.history[0])
        for day in range(1, plan.horizon + 1):
            top = self.history[day - 1]
            self._groups(day, top)
            if plan.mediators:
                self._mediators(day, top)
            acts = self._states(day)
            self._deliver(acts, day)
            for g, group in enumerate(plan.groups):
                if group.recovery > 0:
                    np.minimum(self.capacity[g] + group.recovery, 1.0, out=self.capacity[g])
            self._tops(self.history[day])
            if plan.mediators:
                # EscalationModel stops a run once every state is at war with every adversary;
                # only its mediators could still act (offer, be accepted), so freeze them.
                settled = (self.rung == plan.war).all(axis=0)
                self.running = ~settled if settled.any() else None
        return Batch(
            rungs=np.ascontiguousarray(self.history.transpose(2, 0, 1)),
            first_strike_day=self.first_strike,
            mediation_offered=self.offered,
            mediation_accepted=self.accepted,
        )

    def _groups(self, day: int, top: np.ndarray) -> None:
        """ArmedGroupAgent.step for every group, in scenario order."""
        plan = self.plan
        if not plan.groups:
            return
        tension = top.max(axis=0) / plan.war
        for g, group in enumerate(plan.groups):
            if group.daily_rate == 0:
                continue  # Mesa draws, but a zero rate never attacks
            rate = group.daily_rate * self.capacity[g] * (1 + group.tension_sensitivity * tension)
            cover = self.cover[group.pair]
            if cover is not None and group.spoiler_boost:
                rate = np.where(cover[0], rate * (1 + group.spoiler_boost), rate)
            chance = -np.expm1(-rate)
            attack = self.rng.random(self.n) < chance
            attack &= self.rung[group.dyad] != plan.war
            rows = np.flatnonzero(attack)
            if rows.size:
                rows = rows[self.rng.random(rows.size) < group.attribution]
            if rows.size:
                rungs = np.full(rows.size, group.attack_rung, dtype=np.int8)
                self._perceive(group.blame_dyad, rows, rungs, day)

    def _mediators(self, day: int, top: np.ndarray) -> None:
        """MediatorAgent.step for every mediator, in scenario order; then who covers which pair."""
        plan, running = self.plan, self.running
        for m, mediator in enumerate(plan.mediators):
            days_left, cooldown = self.days_left[m], self.cooldown[m]
            active = days_left > 0
            idle = ~active
            if running is not None:
                active &= running
                idle &= running
            if active.any():
                days_left[active] -= 1
                cooldown[active & (days_left == 0)] = mediator.cooldown
            scripted = day in mediator.offer_days
            if not scripted:
                cooling = idle & (cooldown > 0)
                cooldown[cooling] -= 1
                idle &= ~cooling
                if mediator.trigger is None:
                    continue
                triggered = np.zeros(self.n, dtype=bool)
                for p in mediator.parties:
                    triggered |= top[p] >= mediator.trigger
                idle &= triggered
            rows = np.flatnonzero(idle)
            if not rows.size:
                continue
            self.offered[rows] = True
            agree = np.ones(rows.size, dtype=bool)
            for p in mediator.parties:
                if mediator.forced is None:
                    rung = top[p, rows].astype(np.int64)
                    agree &= plan.states[p].mediation.accepts(rung, self.rng)
                elif not mediator.forced:
                    agree[:] = False
            cooldown[rows[~agree]] = mediator.cooldown
            agreed = rows[agree]
            self.accepted[agreed] = True
            days_left[agreed] = mediator.duration
        # Mediation between two states: the first mediator (scenario order) whose accepted talks
        # cover both, as EscalationModel.mediation_between.
        any_active = bool(self.days_left.any())
        for pair, covering in enumerate(plan.pair_mediators):
            if not covering or not any_active:
                self.cover[pair] = None
                continue
            on = np.zeros(self.n, dtype=bool)
            effectiveness = np.zeros(self.n)
            for m in reversed(covering):
                active = self.days_left[m] > 0
                on |= active
                effectiveness[active] = plan.mediators[m].effectiveness
            self.cover[pair] = (on, effectiveness) if on.any() else None

    def _states(self, day: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """StateAgent.step for every state: the acts of the day, in Mesa's delivery order."""
        plan, rng, war = self.plan, self.rng, self.plan.war
        acts: list[tuple[int, np.ndarray, np.ndarray]] = []
        for d, dyad in enumerate(plan.dyads):
            state = plan.states[dyad.state]
            policy = state.retaliation
            rung, memory = self.rung[d], self.memory[d]
            cover = self.cover[dyad.pair]
            slot = day % state.ring
            due = self.count[d][slot].copy()
            self.count[d][slot] = 0
            self.waiting[d] -= due
            at_war = rung == war
            due[at_war] = 0  # Mesa drops the answers due towards an adversary it is at war with
            for k in range(int(due.max())):
                rows = np.flatnonzero(due > k)
                received = self.value[d][slot, k, rows].astype(np.int64)
                mem = memory[rows]
                wanted = policy.respond(received, mem, war, rng)
                memory[rows] = mem
                go = wanted > 0
                if cover is not None:
                    on, effectiveness = cover[0][rows], cover[1][rows]
                    go &= ~(on & (rng.random(rows.size) < effectiveness))
                rows, wanted = rows[go], wanted[go]
                current = rung[rows].astype(np.int64)
                climb = wanted.copy()
                holding = np.flatnonzero(climb > current)
                while holding.size:
                    held = rng.random(holding.size) < self.hold[dyad.state][climb[holding]]
                    holding = holding[held]
                    climb[holding] -= 1
                    holding = holding[climb[holding] > current[holding]]
                acted = climb > current
                if acted.any():
                    rows, climb = rows[acted], climb[acted]
                    rung[rows] = climb
                    acts.append((d, rows, climb))
                    struck = rows[climb >= plan.strike]
                    first = self.first_strike[struck]
                    self.first_strike[struck] = np.where(first == NO_DAY, day, first)
            quiet = (due == 0) & ~at_war & (self.waiting[d] == 0) & (rung > 0)
            rows = np.flatnonzero(quiet)
            if rows.size:
                chance = np.full(rows.size, state.step_down)
                if cover is not None:
                    on, effectiveness = cover[0][rows], cover[1][rows]
                    chance = np.where(on, chance + effectiveness * (1 - chance), chance)
                chance = policy.step_down_chance(chance)
                rung[rows[rng.random(rows.size) < chance]] -= 1
            if at_war.any():
                kept = memory[at_war]  # Mesa skips the dyad, forget included
                policy.forget(memory)
                memory[at_war] = kept
            else:
                policy.forget(memory)
        return acts

    def _deliver(self, acts: list[tuple[int, np.ndarray, np.ndarray]], day: int) -> None:
        """EscalationModel._deliver for each act of the day, in order."""
        plan, war = self.plan, self.plan.war
        for d, rows, rungs in acts:
            dyad = plan.dyads[d]
            back = dyad.reverse
            to_war = rungs == war
            if to_war.any():
                at = rows[to_war]
                self.rung[back, at] = war
                self.count[back][:, at] = 0
                self.waiting[back, at] = 0
                rows, rungs = rows[~to_war], rungs[~to_war]
                if not rows.size:
                    continue
            if dyad.struck_groups:
                hit = rows[rungs >= plan.strike]
                for g in dyad.struck_groups:
                    self.capacity[g, hit] *= 1 - plan.groups[g].strike_damage
            self._perceive(back, rows, rungs, day)
