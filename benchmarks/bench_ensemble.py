"""Runs per second of the ensemble runner against Mesa's own ``batch_run``, in one process.

Both run the same Mesa model (``EscalationModel`` on the baseline scenario), the same number of
runs, with the same number of worker processes, and both produce the per-run outcomes the runner
reports (highest rung, final rungs, first strike day, mediation offered and accepted):

    python benchmarks/bench_ensemble.py                 # 10,000 runs, 1 and all workers
    python benchmarks/bench_ensemble.py --runs 2000     # a quicker look

It prints runs per second for each, the runner's speed-up from 1 to N workers beside the
machine's own ceiling (N lone processes simulating side by side, without any runner), the ratio
runner / batch_run at equal workers, and the same for the runner with the fast engine, which
implements the same rules (docs/engines.md). With the Mesa engine both are bound by the model's
own cost per run, so the runner gains by its scheduling (chunks, workers that import once), not
by doing less work.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from pathlib import Path

import mesa
import numpy as np

from sim import EscalationModel, Scenario, load_scenario, run_ensemble
from sim.runner import Engine, default_workers, run_seeds, simulate

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "jan2024_baseline.yaml"


class BatchRunModel(EscalationModel):
    """The same model, shaped as ``batch_run`` wants: keyword parameters, a DataCollector."""

    def __init__(self, scenario: Scenario, rng: int) -> None:
        super().__init__(scenario, rng=np.random.default_rng(rng))
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "highest_rung": lambda m: int(m.rung_array().max()),
                "final_rungs": lambda m: m.rung_array()[-1].tolist(),
                "first_strike_day": lambda m: next(
                    (e.day for e in m.events if e.day >= 1 and e.kind in ("strike", "war")), -1
                ),
                "mediation_offered": lambda m: any(md.offered for md in m.mediators.values()),
                "mediation_accepted": lambda m: any(md.accepted for md in m.mediators.values()),
            }
        )

    def step(self) -> None:
        super().step()
        if not self.running or self.day >= self.config.horizon:
            self.running = False
            self.datacollector.collect(self)


def time_runner(scenario: Scenario, runs: int, workers: int, engine: Engine = "mesa") -> float:
    start = time.perf_counter()
    ensemble = run_ensemble(scenario, runs=runs, seed=1, workers=workers, engine=engine)
    elapsed = time.perf_counter() - start
    assert ensemble.batch.runs == runs
    return runs / elapsed


def time_batch_run(scenario: Scenario, runs: int, workers: int) -> float:
    start = time.perf_counter()
    rows = mesa.batch_run(
        BatchRunModel,
        parameters={"scenario": [scenario]},
        number_processes=workers,
        data_collection_period=-1,
        max_steps=scenario.horizon,
        display_progress=False,
        rng=[int(seed) for seed in run_seeds(1, 0, runs)],
    )
    elapsed = time.perf_counter() - start
    assert len(rows) == runs
    return runs / elapsed


def _lone_rate(scenario: Scenario, runs: int) -> float:
    start = time.perf_counter()
    simulate(scenario, run_seeds(1, 0, runs))
    return runs / (time.perf_counter() - start)


def machine_ceiling(scenario: Scenario, runs: int, workers: int) -> float:
    """How much faster ``workers`` processes simulate side by side than one alone, no runner.

    Each process runs the model on its own, timed from inside, so this is the most any runner
    could gain on this machine (shared caches, memory bandwidth, a virtual machine's cores).
    """
    alone = _lone_rate(scenario, runs)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        side_by_side = pool.starmap(_lone_rate, [(scenario, runs)] * workers)
    return sum(side_by_side) / alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    scenario = load_scenario(BASELINE)
    print(f"baseline scenario, {args.runs:,} runs, Mesa engine; workers: 1 and {args.workers}")
    rates = {}
    for workers in sorted({1, args.workers}):
        rates["runner", workers] = time_runner(scenario, args.runs, workers)
        rates["batch_run", workers] = time_batch_run(scenario, args.runs, workers)
        print(
            f"  {workers} worker(s): runner {rates['runner', workers]:8,.0f} runs/s   "
            f"batch_run {rates['batch_run', workers]:8,.0f} runs/s   "
            f"ratio {rates['runner', workers] / rates['batch_run', workers]:.2f}x"
        )
    if args.workers > 1:
        scaling = rates["runner", args.workers] / rates["runner", 1]
        print(f"  runner speed-up from 1 to {args.workers} workers: {scaling:.2f}x")
        ceiling = machine_ceiling(scenario, min(args.runs, 3000), args.workers)
        print(
            f"  this machine's ceiling: {args.workers} lone processes side by side simulate "
            f"{ceiling:.2f}x as fast as one"
        )
    for workers in sorted({1, args.workers}):
        fast = time_runner(scenario, args.runs, workers, engine="fast")
        print(
            f"  {workers} worker(s): runner --engine fast {fast:10,.0f} runs/s   "
            f"ratio to batch_run {fast / rates['batch_run', workers]:.0f}x"
        )


if __name__ == "__main__":
    main()
