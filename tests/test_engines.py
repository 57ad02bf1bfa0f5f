"""The fast engine is the Mesa model: exactly where the model is deterministic, in distribution
everywhere else.

* Exact: scenarios whose every chance is 0 or 1 (drawn at random, with a fixed seed) leave both
  engines no choice, so their ``Batch`` must be identical, run for run.
* Statistical: for every shipped scenario, a hand-made three-state scenario and randomly perturbed
  baselines, both engines run (``MESA_RUNS`` and ``FAST_RUNS`` runs, seeds fixed) and a family of
  tests compares them: P(crisis rung >= k by day t), the crisis rung on day t, the highest rung,
  each state's last-day rung, the first-strike day (with 'never') and the mediation rates. The
  family's p-values are Holm-corrected at family-wise ALPHA = 0.01; no test may reject.
* Power: the same family must reject when the fast engine runs a slightly different scenario
  (negative controls), so passing is not for want of power.

``docs/engines.md`` gives the method and the numbers measured.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.fast import CHUNK, FastEngineUnsupported, check_supported, simulate_fast
from sim.loader import load_scenario
from sim.model import EscalationModel
from sim.outcomes import NO_DAY, Batch, batch_of_models
from sim.policies import MEDIATION_POLICIES, RETALIATION_POLICIES, TitForTat
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
BASELINE = ROOT / "scenarios" / "jan2024_baseline.yaml"

ALPHA = 0.01
MESA_RUNS = 2000
FAST_RUNS = 8000
MESA_FIRST_SEED = 1_000_000
FAST_FIRST_SEED = 5_000_000
FAST_CHUNK = 4000  # run the fast engine in chunks, as the runner does
DAYS = (3, 7, 14, 30)
RANDOM_SCENARIOS = 6


# -- running the engines ---------------------------------------------------------------------


def run_mesa(scenario: Scenario, runs: int, first_seed: int = MESA_FIRST_SEED) -> Batch:
    models = []
    for seed in range(first_seed, first_seed + runs):
        model = EscalationModel(scenario, rng=np.random.default_rng(seed))
        model.run()
        models.append(model)
    return batch_of_models(models)


def run_fast(scenario: Scenario, runs: int, first_seed: int = FAST_FIRST_SEED) -> Batch:
    seeds = list(range(first_seed, first_seed + runs))
    return Batch.concatenate(
        [simulate_fast(scenario, seeds[i : i + FAST_CHUNK]) for i in range(0, runs, FAST_CHUNK)]
    )


_MESA_CACHE: dict[str, Batch] = {}


def mesa_cached(key: str, scenario: Scenario) -> Batch:
    """Mesa runs are the slow part: run each scenario once per session."""
    if key not in _MESA_CACHE:
        _MESA_CACHE[key] = run_mesa(scenario, MESA_RUNS)
    return _MESA_CACHE[key]


def write_scenario(raw: dict[str, Any], folder: Path, name: str = "scenario.yaml") -> Scenario:
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_scenario(path)


# -- the statistics --------------------------------------------------------------------------


def two_proportions(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value for equal proportions: pooled z-test, Fisher's exact test when sparse."""
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 1.0
    if min(n1, n2) * min(pooled, 1 - pooled) < 5:
        table = [[x1, n1 - x1], [x2, n2 - x2]]
        return float(stats.fisher_exact(table).pvalue)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (x1 / n1 - x2 / n2) / se
    return float(2 * stats.norm.sf(abs(z)))


def merged_counts(a: np.ndarray, b: np.ndarray, categories: Sequence[int]) -> np.ndarray:
    """2 x C table of ordered categories, adjacent sparse cells merged (expected counts >= 5)."""
    table = np.array([[np.sum(x == c) for c in categories] for x in (a, b)], dtype=float)
    need = 5 * (len(a) + len(b)) / min(len(a), len(b))  # column total for expected >= 5
    columns: list[np.ndarray] = []
    current = np.zeros(2)
    for column in table.T:
        current = current + column
        if current.sum() >= need:
            columns.append(current)
            current = np.zeros(2)
    if current.sum() > 0:
        if columns:
            columns[-1] = columns[-1] + current
        else:
            columns.append(current)
    return np.array(columns).T


def chi_square(a: np.ndarray, b: np.ndarray, categories: Sequence[int]) -> float:
    table = merged_counts(a, b, categories)
    if table.shape[1] < 2:
        return 1.0
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def comparisons(a: Batch, b: Batch, scenario: Scenario) -> dict[str, float]:
    """The family of tests of 'same distribution', each a p-value."""
    war, horizon = scenario.ladder.war, scenario.horizon
    rungs = list(range(war + 1))
    days = sorted({d for d in (*DAYS, horizon) if d <= horizon})
    crisis_a, crisis_b = a.rungs.max(axis=2), b.rungs.max(axis=2)  # (runs, days)
    peak_a, peak_b = (
        np.maximum.accumulate(crisis_a, axis=1),
        np.maximum.accumulate(crisis_b, axis=1),
    )
    p: dict[str, float] = {}
    for t in days:
        for k in range(1, war + 1):
            p[f"P(rung >= {k} by day {t})"] = two_proportions(
                int(np.sum(peak_a[:, t] >= k)), a.runs, int(np.sum(peak_b[:, t] >= k)), b.runs
            )
        p[f"crisis rung on day {t}"] = chi_square(crisis_a[:, t], crisis_b[:, t], rungs)
    p["highest rung"] = chi_square(peak_a[:, -1], peak_b[:, -1], rungs)
    for s, state in enumerate(scenario.actors):
        p[f"{state}'s rung on the last day"] = chi_square(
            a.rungs[:, -1, s], b.rungs[:, -1, s], rungs
        )
    never = horizon + 1
    first_a = np.where(a.first_strike_day == NO_DAY, never, a.first_strike_day)
    first_b = np.where(b.first_strike_day == NO_DAY, never, b.first_strike_day)
    p["first-strike day (with never)"] = chi_square(first_a, first_b, range(1, never + 1))
    for field in ("mediation_offered", "mediation_accepted"):
        x, y = getattr(a, field), getattr(b, field)
        p[field] = two_proportions(int(x.sum()), a.runs, int(y.sum()), b.runs)
    return p


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm-adjusted p-values: reject at family-wise alpha where the adjusted p < alpha."""
    names = sorted(pvalues, key=pvalues.__getitem__)
    m, running, adjusted = len(names), 0.0, {}
    for i, name in enumerate(names):
        running = max(running, min(1.0, (m - i) * pvalues[name]))
        adjusted[name] = running
    return adjusted


def disagreements(a: Batch, b: Batch, scenario: Scenario) -> dict[str, float]:
    """The tests that reject 'same distribution' at family-wise ALPHA, with adjusted p-values."""
    adjusted = holm(comparisons(a, b, scenario))
    return {name: p for name, p in adjusted.items() if p < ALPHA}


# -- scenarios -------------------------------------------------------------------------------


def random_overrides(rng: random.Random, index: int) -> dict[str, Any]:
    """Baseline perturbed within valid ranges, with policies drawn from the registries."""
    o: dict[str, Any] = {"name": f"random_{index}", "horizon": rng.randint(30, 60)}
    for j, state in enumerate(("iran", "pakistan")):
        at = f"actors.{state}."
        # Round robin over the registries: every policy is compared (see the test below).
        retaliation_names = sorted(RETALIATION_POLICIES)
        policy = retaliation_names[(2 * index + j) % len(retaliation_names)]
        o[at + "retaliation.policy"] = policy
        o[at + "retaliation.delay"] = rng.randint(1, 3)
        extras: dict[str, dict[str, Any]] = {
            "proportional": {"noise": round(rng.uniform(0, 0.5), 3)},
            "escalate": {"step": rng.randint(1, 2)},
            "generous_tit_for_tat": {"forgive": round(rng.uniform(0, 0.6), 3)},
            "graduated": {"step_down": round(rng.uniform(0, 0.5), 3)},
            "threshold": {
                "threshold": round(rng.uniform(3, 9), 2),
                "decay": round(rng.uniform(0, 0.3), 3),
            },
        }
        for key, value in extras.get(policy, {}).items():
            o[at + f"retaliation.{key}"] = value
        o[at + "deescalation"] = round(rng.uniform(0.05, 0.5), 3)
        o[at + "audience_cost"] = round(rng.uniform(0, 0.4), 3)
        o[at + "restraint.climb_cost"] = round(rng.uniform(0.2, 1), 3)
        o[at + "restraint.economic_ties"] = round(rng.uniform(0, 0.2), 3)
        o[at + "restraint.outside_pressure"] = round(rng.uniform(0, 0.2), 3)
        o[at + "perception.error"] = round(rng.uniform(0, 0.3), 3)
        o[at + "perception.upward_share"] = round(rng.uniform(0.2, 0.9), 3)
        o[at + "attribution"] = round(rng.uniform(0.1, 1), 3)
        mediation_names = sorted(MEDIATION_POLICIES)
        mediation = mediation_names[(index + j) % len(mediation_names)]
        o[at + "mediation.policy"] = mediation
        if mediation == "probabilistic":
            o[at + "mediation.probability"] = round(rng.uniform(0, 0.8), 3)
            o[at + "mediation.per_rung"] = round(rng.uniform(-0.1, 0.2), 3)
    for group in ("jaish_al_adl", "bla_blf"):
        at = f"armed_groups.{group}."
        o[at + "daily_rate"] = round(rng.uniform(0, 0.08), 4)
        o[at + "attack_rung"] = rng.randint(2, 6)
        o[at + "tension_sensitivity"] = round(rng.uniform(0, 2), 3)
        o[at + "spoiler_boost"] = round(rng.uniform(0, 3), 3)
        o[at + "strike_damage"] = round(rng.uniform(0, 0.6), 3)
        o[at + "recovery"] = round(rng.uniform(0, 0.05), 3)
    o["mediators.china.trigger_rung"] = rng.choice([None, 2, 3, 4, 5, 6])
    o["mediators.china.duration"] = rng.randint(3, 20)
    o["mediators.china.effectiveness"] = round(rng.uniform(0, 0.9), 3)
    o["mediators.china.cooldown"] = rng.randint(0, 5)
    if index % 2:
        o["interventions"] = [{"mediator": "china", "offer_on_day": rng.randint(1, 10)}]
    o["initial_events"] = [
        {"day": 0, "actor": "iran", "target": "pakistan", "rung": rng.randint(2, 6)},
        *(
            [{"day": -1, "actor": "pakistan", "target": "iran", "rung": rng.randint(1, 4)}]
            if index % 3 == 0
            else []
        ),
    ]
    return o


def three_states_raw() -> dict[str, Any]:
    """A three-state crisis: several adversaries per state, two overlapping mediators."""
    raw = yaml.safe_load(BASELINE.read_text())
    afghanistan = {
        **raw["actors"]["pakistan"],
        "name": "Afghanistan",
        "adversaries": ["pakistan"],
        "retaliation": {"policy": "threshold", "threshold": 5.0, "decay": 0.1, "delay": 1},
        "mediation": {"policy": "accept"},
    }
    raw["name"] = "three_states"
    raw["actors"]["pakistan"]["adversaries"] = ["afghanistan", "iran"]
    raw["actors"]["pakistan"]["retaliation"] = {"policy": "graduated", "step_down": 0.2, "delay": 1}
    raw["actors"]["afghanistan"] = afghanistan
    raw["armed_groups"]["ttp"] = {
        "name": "TTP",
        "based_in": "afghanistan",
        "targets": "pakistan",
        "daily_rate": 0.05,
        "attack_rung": 3,
        "tension_sensitivity": 0.5,
        "spoiler_boost": 1.0,
        "strike_damage": 0.2,
        "recovery": 0.02,
    }
    raw["mediators"]["qatar"] = {
        "name": "Qatar",
        "parties": ["afghanistan", "pakistan", "iran"],
        "trigger_rung": 5,
        "duration": 7,
        "effectiveness": 0.8,
        "cooldown": 2,
    }
    raw["initial_events"].append(
        {"day": -1, "actor": "afghanistan", "target": "pakistan", "rung": 3}
    )
    return raw


def deterministic_raw(r: random.Random) -> dict[str, Any]:
    """A random scenario whose every chance is 0 or 1: both engines must agree exactly.

    Policies and parameters are chosen so that each rule still acts (climbs, restraint, step
    downs, fog, blame, spoilers, mediation call-offs, war, several answers due on one day).
    """
    n = r.choice([2, 2, 3])
    ids = [f"s{i}" for i in range(n)]
    pairs = (
        [(0, 1)]
        if n == 2
        else r.choice([[(0, 1), (1, 2)], [(0, 1), (0, 2), (1, 2)], [(0, 2), (1, 2)]])
    )
    adversaries: dict[int, list[str]] = {i: [] for i in range(n)}
    for a, b in pairs:
        adversaries[a].append(ids[b])
        adversaries[b].append(ids[a])
    size = r.randint(4, 8)
    war = size - 1
    strike = r.randint(1, war - 1)
    actors: dict[str, dict[str, Any]] = {}
    for i in range(n):
        policy = r.choice(sorted(RETALIATION_POLICIES))
        retaliation: dict[str, Any] = {"policy": policy, "delay": r.choice([1, 1, 2, 3])}
        extras: dict[str, dict[str, Any]] = {
            "proportional": {"noise": 0.0},
            "escalate": {"step": r.choice([1, 1, 2])},
            "generous_tit_for_tat": {"forgive": r.choice([0.0, 0.0, 1.0])},
            "graduated": {"step_down": r.choice([0.0, 1.0])},
            "threshold": {
                "threshold": float(r.choice([1, 3, 5, 8])),
                "decay": r.choice([0.0, 0.1, 0.5, 1.0]),
            },
        }
        retaliation.update(extras.get(policy, {}))
        held = r.random() < 0.15
        mediation: dict[str, Any] = {"policy": r.choice(sorted(MEDIATION_POLICIES))}
        if mediation["policy"] == "probabilistic":
            mediation["probability"] = r.choice([0.0, 1.0])
            mediation["per_rung"] = r.choice([-1.0, 0.0, 1.0])
        actors[ids[i]] = {
            "name": ids[i].upper(),
            "adversaries": r.sample(adversaries[i], len(adversaries[i])),
            "initial_rung": r.choice([0] * 8 + [1, 2, war - 1]),
            "retaliation": retaliation,
            "restraint": {
                "climb_cost": r.choice([0.0, 0.5]) if held else 0.0,
                "economic_ties": 1.0 if held else 0.0,
                "outside_pressure": 0.0,
            },
            "audience_cost": 0.0 if held else r.choice([0.0, 0.0, 0.0, 1.0]),
            "deescalation": r.choice([0.0, 1.0, 1.0]),
            "perception": {
                "error": r.choice([0.0, 0.0, 1.0]),
                "upward_share": r.choice([0.0, 1.0]),
            },
            "attribution": r.choice([0.0, 1.0, 1.0]),
            "mediation": mediation,
        }
    groups = {}
    for g in range(r.choice([0, 1, 2, 3])):
        a, b = r.choice(pairs)
        if r.random() < 0.5:
            a, b = b, a
        groups[f"g{g}"] = {
            "name": f"G{g}",
            "based_in": ids[a],
            "targets": ids[b],
            "daily_rate": r.choice([0.0, 60.0, 60.0]),  # 1 - exp(-60) == 1.0 in float64
            "attack_rung": r.randint(1, war),
            "tension_sensitivity": r.choice([0.0, 1.0]),
            "spoiler_boost": r.choice([0.0, 2.0]),
            "strike_damage": r.choice([0.0, 1.0]),
            "recovery": r.choice([0.0, 1.0]),
        }
    mediators: dict[str, dict[str, Any]] = {}
    for index in range(r.choice([0, 1, 1, 2])):
        parties = r.choice([[ids[a], ids[b]] for a, b in pairs] + [ids])
        mediators[f"m{index}"] = {
            "name": f"M{index}",
            "parties": list(parties),
            "trigger_rung": r.choice([None, 1, strike, war]),
            "duration": r.randint(1, 5),
            "effectiveness": r.choice([0.0, 1.0]),
            "cooldown": r.randint(0, 3),
        }
    horizon = r.randint(3, 25)
    interventions: list[dict[str, Any]] = []
    for mediator in mediators:
        if r.random() < 0.4:
            intervention: dict[str, Any] = {"mediator": mediator}
            if r.random() < 0.7:
                intervention["offer_on_day"] = r.randint(1, horizon)
            if r.random() < 0.6 or "offer_on_day" not in intervention:
                intervention["response"] = r.choice(["accept", "refuse"])
            interventions.append(intervention)
    events = []
    for _ in range(r.choice([0, 1, 1, 2, 3])):
        a, b = r.choice(pairs)
        if r.random() < 0.5:
            a, b = b, a
        events.append(
            {"day": r.randint(-3, 0), "actor": ids[a], "target": ids[b], "rung": r.randint(1, war)}
        )
    return {
        "name": "deterministic",
        "horizon": horizon,
        "runs": 1,
        "seed": 0,
        "ladder": {"strike_rung": strike, "rungs": [{"name": f"rung {k}"} for k in range(size)]},
        "actors": actors,
        "armed_groups": groups,
        "mediators": mediators,
        "initial_events": events,
        "interventions": interventions,
    }


def assert_same_batch(a: Batch, b: Batch, context: str = "") -> None:
    for field in ("rungs", "first_strike_day", "mediation_offered", "mediation_accepted"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.shape == y.shape and x.dtype == y.dtype, f"{context} {field}"
        assert np.array_equal(x, y), f"{context}: {field} differs"


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


# -- fast unit tests -------------------------------------------------------------------------


def test_shapes_and_dtypes(baseline: Scenario) -> None:
    batch = simulate_fast(baseline, range(50))
    assert batch.rungs.shape == (50, baseline.horizon + 1, len(baseline.actors))
    assert batch.rungs.dtype == np.int8
    assert batch.first_strike_day.shape == (50,) and batch.first_strike_day.dtype == np.int64
    assert batch.mediation_offered.dtype == bool and batch.mediation_accepted.dtype == bool
    mesa = run_mesa(baseline, 2)
    for field in ("rungs", "first_strike_day", "mediation_offered", "mediation_accepted"):
        assert getattr(batch, field).dtype == getattr(mesa, field).dtype
        assert getattr(batch, field).shape[1:] == getattr(mesa, field).shape[1:]
    empty = simulate_fast(baseline, [])
    assert empty.runs == 0 and empty.rungs.shape[1:] == batch.rungs.shape[1:]


def test_same_seeds_same_batch(baseline: Scenario) -> None:
    seeds = [2**63 - 1, 0, 17, 12345678901234]
    assert_same_batch(simulate_fast(baseline, seeds), simulate_fast(baseline, seeds))
    other = simulate_fast(baseline, [s + 1 for s in range(1000)])
    assert not np.array_equal(simulate_fast(baseline, range(1000)).rungs, other.rungs)


def test_long_seed_lists_are_cut_into_fixed_chunks(
    baseline: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sim.fast.CHUNK", 7)
    seeds = list(range(100, 120))
    whole = simulate_fast(baseline, seeds)
    parts = [simulate_fast(baseline, seeds[i : i + 7]) for i in range(0, 20, 7)]
    assert_same_batch(whole, Batch.concatenate(parts))
    assert CHUNK >= 1000


def test_invariants(baseline: Scenario) -> None:
    for path in SCENARIO_FILES:
        scenario = load_scenario(path)
        war, strike = scenario.ladder.war, scenario.ladder.strike_rung
        batch = simulate_fast(scenario, range(3000))
        rungs = batch.rungs
        assert rungs.min() >= 0 and rungs.max() <= war
        # With two states, war is absorbing for each state's highest rung.
        at_war = rungs == war
        assert not np.any(at_war[:, :-1] & ~at_war[:, 1:]), path.name
        # A state steps down at most one rung a day (it has a single adversary here).
        assert np.diff(rungs.astype(int), axis=1).min() >= -1
        struck = batch.first_strike_day != NO_DAY
        days = batch.first_strike_day[struck]
        assert days.min() >= 1 and days.max() <= scenario.horizon
        assert np.all(rungs[struck, days].max(axis=1) >= strike)
        assert not np.any(batch.mediation_accepted & ~batch.mediation_offered)
        if not scenario.mediators:
            assert not batch.mediation_offered.any()


def test_calm_scenario_stays_calm(baseline: Scenario) -> None:
    calm = load_scenario(BASELINE, overrides={"armed_groups": {}, "initial_events": []})
    batch = simulate_fast(calm, range(500))
    assert not batch.rungs.any()
    assert np.all(batch.first_strike_day == NO_DAY)
    assert not batch.mediation_offered.any() and not batch.mediation_accepted.any()


def test_initial_events_set_day_zero(baseline: Scenario) -> None:
    batch = simulate_fast(baseline, range(10))
    mesa = run_mesa(baseline, 1)
    assert np.array_equal(batch.rungs[:, 0], np.repeat(mesa.rungs[:, 0], 10, axis=0))


def test_unsupported_scenarios_are_refused(baseline: Scenario) -> None:
    assert issubclass(FastEngineUnsupported, ValueError)

    class Unregistered(TitForTat):
        pass

    iran = baseline.actors["iran"]
    rogue = iran.model_copy(update={"retaliation": Unregistered(policy="tit_for_tat")})
    with pytest.raises(FastEngineUnsupported, match="not registered"):
        simulate_fast(
            baseline.model_copy(update={"actors": {**baseline.actors, "iran": rogue}}), [1]
        )

    lonely = baseline.actors["pakistan"].model_copy(update={"adversaries": ("iran", "india")})
    one_way = baseline.model_copy(update={"actors": {**baseline.actors, "pakistan": lonely}})
    with pytest.raises(FastEngineUnsupported, match="adversary"):
        check_supported(one_way)

    long_ladder = baseline.ladder.model_copy(
        update={"rungs": baseline.ladder.rungs + baseline.ladder.rungs[-1:] * 130}
    )
    with pytest.raises(FastEngineUnsupported, match="int8"):
        simulate_fast(baseline.model_copy(update={"ladder": long_ladder}), [1])

    for path in SCENARIO_FILES:
        check_supported(load_scenario(path))


def exact_agreement(tmp_path: Path, seeds: range) -> None:
    for seed in seeds:
        scenario = write_scenario(deterministic_raw(random.Random(seed)), tmp_path)
        mesa = run_mesa(scenario, 2, first_seed=seed)
        assert np.array_equal(mesa.rungs[0], mesa.rungs[1]), f"not deterministic: {seed}"
        assert_same_batch(simulate_fast(scenario, [seed, seed + 1]), mesa, f"scenario {seed}")


def test_exact_agreement_on_deterministic_scenarios(tmp_path: Path) -> None:
    exact_agreement(tmp_path, range(150))


@pytest.mark.slow
def test_exact_agreement_on_many_deterministic_scenarios(tmp_path: Path) -> None:
    exact_agreement(tmp_path, range(150, 1000))


def test_every_registered_policy_is_compared() -> None:
    """A newly registered policy must be run by the statistical comparison below."""
    rng = random.Random(6)
    overrides = [random_overrides(rng, i) for i in range(RANDOM_SCENARIOS)]
    used = {o[f"actors.{s}.retaliation.policy"] for o in overrides for s in ("iran", "pakistan")}
    mediation = {o[f"actors.{s}.mediation.policy"] for o in overrides for s in ("iran", "pakistan")}
    shipped = [load_scenario(path) for path in SCENARIO_FILES]
    for scenario in shipped:
        used |= {state.retaliation.policy for state in scenario.actors.values()}
        mediation |= {state.mediation.policy for state in scenario.actors.values()}
    used |= {"threshold", "graduated"}  # the three-state scenario
    mediation |= {"accept"}
    assert used == set(RETALIATION_POLICIES), set(RETALIATION_POLICIES) - used
    assert mediation == set(MEDIATION_POLICIES), set(MEDIATION_POLICIES) - mediation


def test_the_statistics_themselves() -> None:
    """Same-distribution samples pass; a shifted one fails; sparse cells are merged."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, 3000)
    assert chi_square(a, rng.integers(0, 5, 9000), range(5)) > ALPHA
    assert chi_square(a, rng.integers(0, 5, 9000).clip(1, 4), range(5)) < 1e-6
    table = merged_counts(np.array([0] * 100 + [1]), np.array([0] * 100 + [2]), range(3))
    assert table.shape == (2, 1)
    assert two_proportions(0, 100, 0, 300) == 1.0
    assert two_proportions(50, 100, 150, 300) == pytest.approx(1.0)
    assert two_proportions(50, 100, 90, 300) < 1e-3
    assert holm({"a": 0.001, "b": 0.02, "c": 0.5}) == pytest.approx(
        {"a": 0.003, "b": 0.04, "c": 0.5}
    )


# -- statistical equality (slow) -------------------------------------------------------------


def _shipped(path: Path) -> Callable[[Path], Scenario]:
    return lambda _folder: load_scenario(path)


def _random(index: int) -> Callable[[Path], Scenario]:
    def build(_folder: Path) -> Scenario:
        rng = random.Random(6)
        overrides = [random_overrides(rng, i) for i in range(RANDOM_SCENARIOS)][index]
        return load_scenario(BASELINE, overrides=overrides)

    return build


CASES: dict[str, Callable[[Path], Scenario]] = {
    **{path.stem: _shipped(path) for path in SCENARIO_FILES},
    **{f"random_{i}": _random(i) for i in range(RANDOM_SCENARIOS)},
    "three_states": lambda folder: write_scenario(three_states_raw(), folder),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_engines_agree_in_distribution(case: str, tmp_path: Path) -> None:
    scenario = CASES[case](tmp_path)
    mesa = mesa_cached(case, scenario)
    fast = run_fast(scenario, FAST_RUNS)
    rejected = disagreements(mesa, fast, scenario)
    assert not rejected, f"{case}: engines disagree on {rejected}"


NEGATIVE_CONTROLS = {
    "pakistan deescalation 0.25 -> 0.1": {"actors.pakistan.deescalation": 0.1},
    "pakistan forgive 0.25 -> 0.4": {"actors.pakistan.retaliation.forgive": 0.4},
    "iran perception error 0.1 -> 0.25": {"actors.iran.perception.error": 0.25},
}


@pytest.mark.slow
@pytest.mark.parametrize("control", list(NEGATIVE_CONTROLS))
def test_the_comparison_detects_a_different_model(control: str, baseline: Scenario) -> None:
    """Power: the fast engine runs a perturbed baseline; the family of tests must reject."""
    mesa = mesa_cached("jan2024_baseline", baseline)
    perturbed = load_scenario(BASELINE, overrides=NEGATIVE_CONTROLS[control])
    rejected = disagreements(mesa, run_fast(perturbed, FAST_RUNS), baseline)
    assert rejected, f"{control}: not detected"
