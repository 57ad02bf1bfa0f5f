"""What the Python API costs on top of the simulation, alone and in the loops users write.

    python benchmarks/bench_api.py                       # 500 runs a call, 5 rounds
    python benchmarks/bench_api.py --runs 1000 --rounds 15 --only ensemble
    python benchmarks/bench_api.py --profile salib       # cProfile one SALib loop instead

In one process, on one core, each round times every contender beside its *model alone* twin
(order alternating from round to round, so a busy machine weighs on both alike). The model
alone is ``sim.experiments.ensemble.simulate`` on the same scenarios and run seeds, already
built: the model built, run and its record taken, nothing else. Contenders:

* ``ensemble``: ``run_ensemble(scenario, runs=N)`` as a Python user calls it (all tables made)
  and ``run_ensemble(..., outcomes=[...])`` (only the named outcomes, for calls in a loop).
  For the outcomes-only call it also prints the *fixed cost*: the call's time minus the time
  spent inside ``simulate`` during that very call, in milliseconds (issue 22: at most 20 ms for
  500 runs).
* ``sweep``: ``sim.run_sweep`` of a grid over two parameters (Pakistan's audience cost and
  China's leverage on Pakistan, 3 x 3 points of N runs) into a fresh folder, as
  ``docs/python.md`` writes it: stored point by point, ``sweep.csv`` and ``metadata.json`` at
  the end.
* ``salib``: the SALib loop of ``docs/python.md``: a Sobol sample over three parameters,
  ``load_scenario(path, overrides=...)`` and ``run_ensemble(..., outcomes=[...])`` per row, then
  ``sobol.analyze``.
* ``ema``: the EMA Workbench loop of ``docs/python.md``: ``perform_experiments`` over four
  uncertainties, a model function that loads the scenario with EMA's values and runs an
  ensemble (skipped without ``ema_workbench``).

For each it prints the median time, runs per second (the loops' target, issue 22: 10,000 runs/s
on one core) and the median of the per-round ratios to the model alone. The load average is
printed first and last: the machine may be shared.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from anywhere, package installed or not

import numpy as np  # noqa: E402

from sim.experiments import ensemble as ensemble_module  # noqa: E402
from sim.experiments.ensemble import PointEvaluator, run_ensemble, simulate  # noqa: E402
from sim.experiments.sweep_definition import SweepDefinition, parse_params  # noqa: E402
from sim.experiments.sweep_execution import run_sweep  # noqa: E402
from sim.inputs.loader import load_scenario  # noqa: E402
from sim.inputs.parameters import parameter_space  # noqa: E402
from sim.model.scenario import Scenario  # noqa: E402
from sim.model.streams import run_seeds  # noqa: E402

BASELINE = HERE.parent / "scenarios" / "jan2024_baseline.yaml"
SEED = 1
OUTCOMES = ("answer_7d", "forces_30d", "war")  # what a sweep point records by default
GRID = ["actors.pakistan.audience_cost=0:1:3", "third_parties.china.leverage.pakistan=0.2,0.5,0.8"]
SALIB_KEYS = ["actors.pakistan.cost", "actors.pakistan.audience_cost", "decision.rationality"]
SALIB_BASE = 4  # Sobol base sample: 4 x (3 + 2) = 20 rows
EMA_KEYS = [
    "actors.pakistan.cost",
    "actors.iran.cost",
    "decision.rationality",
    "third_parties.china.mediation.agreement_rate",
]
EMA_EXPERIMENTS = 12


@dataclass
class Contender:
    """A timed call, the number of runs it simulates, and its model-alone twin (if any)."""

    name: str
    call: Callable[[], object]
    runs: int
    twin: Callable[[], object] | None = None
    seconds: list[float] = field(default_factory=list)
    model: list[float] = field(default_factory=list)
    fixed: list[float] = field(default_factory=list)  # seconds outside simulate, when measured


@contextlib.contextmanager
def simulate_clock(into: list[float]) -> Iterator[None]:
    """Add up the time spent inside ``simulate`` (the model) while the block runs."""
    original = ensemble_module.simulate

    def timed_simulate(*args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            into.append(time.perf_counter() - start)

    ensemble_module.simulate = timed_simulate  # type: ignore[assignment]
    try:
        yield
    finally:
        ensemble_module.simulate = original


def alone(scenarios: list[Scenario], runs: int) -> Callable[[], object]:
    """The model alone on each already-built scenario, with the scenario's own run seeds."""

    def call() -> None:
        for scenario in scenarios:
            simulate(scenario, run_seeds(scenario.seed, 0, runs))

    return call


def ensemble_contenders(scenario: Scenario, runs: int) -> list[Contender]:
    model = alone([scenario], runs)
    return [
        Contender("run_ensemble", lambda: run_ensemble(scenario, runs=runs), runs, model),
        Contender(
            "run_ensemble(outcomes=...)",
            lambda: run_ensemble(scenario, runs=runs, outcomes=OUTCOMES),
            runs,
            model,
        ),
    ]


def sweep_contender(scenario: Scenario, runs: int, scratch: Path) -> Contender:
    mapping = scenario.model_dump(mode="json")
    definition = SweepDefinition(
        parameters=parse_params(GRID),
        runs=runs,
        seed=scenario.seed,
        outcomes=OUTCOMES,
        context={"scenario": mapping},
    )
    evaluate = PointEvaluator(scenario=mapping, outcomes=OUTCOMES)
    points = definition.points().points
    built = [load_scenario(BASELINE, overrides=p) for p in points]
    counter = iter(range(1_000_000))

    def call() -> None:
        run_sweep(definition, evaluate, scratch / f"sweep{next(counter)}")

    return Contender(f"sweep ({len(points)} points)", call, runs * len(points), alone(built, runs))


def salib_contender(scenario: Scenario, runs: int) -> Contender:
    from SALib.analyze import sobol
    from SALib.sample import sobol as sobol_sample

    chosen = parameter_space(scenario, keys=SALIB_KEYS, bounds={"decision.rationality": (2, 16)})
    problem = chosen.salib_problem()
    rows = sobol_sample.sample(problem, SALIB_BASE, calc_second_order=False, seed=1)
    overrides = [chosen.overrides(dict(zip(problem["names"], r, strict=True))) for r in rows]
    built = [load_scenario(BASELINE, overrides=o) for o in overrides]

    def call() -> None:  # docs/python.md's loop, as written there
        y = []
        for row in rows:
            values = dict(zip(problem["names"], row, strict=True))
            point = load_scenario(BASELINE, overrides=chosen.overrides(values))
            y.append(
                run_ensemble(point, runs=runs, outcomes=["sustained"]).estimates["sustained"][0]
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # too few samples for trustworthy indices: timing only
            sobol.analyze(problem, np.array(y), calc_second_order=False, seed=1)

    return Contender(
        f"SALib Sobol ({len(rows)} samples)", call, runs * len(rows), alone(built, runs)
    )


def ema_contender(scenario: Scenario, runs: int) -> Contender | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "ipyparallel not installed"
        try:
            from ema_workbench import Model, ScalarOutcome, perform_experiments
        except ImportError:
            return None
    logging.getLogger("EMA").setLevel(logging.WARNING)
    uncertain = parameter_space(
        scenario,
        keys=EMA_KEYS,
        bounds={"third_parties.china.mediation.agreement_rate": (0.01, 0.1)},
    )

    def escalation(**overrides: object) -> dict[str, float]:  # docs/python.md's model function
        changed = load_scenario(BASELINE, overrides=uncertain.overrides(overrides))
        ensemble = run_ensemble(changed, runs=runs, outcomes=["sustained", "calm_14d"])
        return {name: estimate for name, (estimate, _, _) in ensemble.estimates.items()}

    model = Model("escalation", function=escalation)
    model.uncertainties = uncertain.ema_parameters()
    model.outcomes = [ScalarOutcome("sustained"), ScalarOutcome("calm_14d")]

    def experiments() -> object:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):  # tqdm's bar
            return perform_experiments(
                model, scenarios=EMA_EXPERIMENTS, uncertainty_sampling_kwargs={"rng": 1}
            )

    # the same experiments, built once for the model-alone twin
    table, _ = experiments()  # type: ignore[misc]
    built = [
        load_scenario(BASELINE, overrides=uncertain.overrides(row))
        for row in table[uncertain.names].to_dict("records")
    ]

    return Contender(
        f"EMA perform_experiments ({EMA_EXPERIMENTS})",
        experiments,
        runs * EMA_EXPERIMENTS,
        alone(built, runs),
    )


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def run_round(contender: Contender, twin_first: bool) -> None:
    if contender.twin is not None and twin_first:
        contender.model.append(timed(contender.twin))
    inside: list[float] = []
    with simulate_clock(inside):
        contender.seconds.append(timed(contender.call))
    contender.fixed.append(contender.seconds[-1] - sum(inside))
    if contender.twin is not None and not twin_first:
        contender.model.append(timed(contender.twin))


def report(contender: Contender) -> None:
    median = statistics.median(contender.seconds)
    line = (
        f"  {contender.name:<34} median {median:7.3f} s  "
        f"{contender.runs / median:9,.0f} runs/s (range "
        f"{contender.runs / max(contender.seconds):,.0f}-{contender.runs / min(contender.seconds):,.0f})"
    )
    if contender.model:
        ratio = statistics.median(
            s / m for s, m in zip(contender.seconds, contender.model, strict=True)
        )
        line += f"  {ratio:5.2f}x the model alone"
    line += f"; outside the model {statistics.median(contender.fixed) * 1000:6.1f} ms"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="runs per ensemble (default 500)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["ensemble", "sweep", "salib", "ema"],
        default=["ensemble", "sweep", "salib", "ema"],
    )
    parser.add_argument(
        "--profile",
        choices=["ensemble", "sweep", "salib", "ema"],
        help="cProfile one call of this contender (after a warm-up) instead of timing",
    )
    args = parser.parse_args()
    scenario = load_scenario(BASELINE)
    print(
        f"baseline scenario, {args.runs:,} runs per ensemble, one core, {args.rounds} rounds; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        chosen = [args.profile] if args.profile else args.only
        contenders: list[Contender] = []
        if "ensemble" in chosen:
            contenders += ensemble_contenders(scenario, args.runs)
        if "sweep" in chosen:
            contenders.append(sweep_contender(scenario, args.runs, Path(scratch)))
        if "salib" in chosen:
            contenders.append(salib_contender(scenario, args.runs))
        if "ema" in chosen:
            ema = ema_contender(scenario, args.runs)
            if ema is None:
                print("  (EMA Workbench not installed: its loop is skipped)")
            else:
                contenders.append(ema)
        for contender in contenders:  # warm-up: imports, caches, package versions
            contender.call()
            if contender.twin is not None:
                contender.twin()
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(contenders[-1].call)
            stats = pstats.Stats(profile).sort_stats("cumulative")
            stats.print_stats(45)
            return
        for i in range(args.rounds):
            for contender in contenders:
                run_round(contender, twin_first=i % 2 == 0)
    for contender in contenders:
        report(contender)
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
