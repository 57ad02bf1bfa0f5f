"""Runs per second of the ensemble runner against Mesa's own ``batch_run``, in one process.

Both run the same Mesa model (``EscalationModel`` on the baseline scenario) with the same run
seeds and the same number of worker processes: the runner as it always does (chunks of many
worlds per model), ``batch_run`` with one world per model instance, stepped day by day. Both end
with the same per-run record (a ``Batch``), and the worlds batch_run returns are checked to be
the runner's own runs:

    python benchmarks/bench_ensemble.py                      # 100,000 runner runs, 300 batch_run
    python benchmarks/bench_ensemble.py --runs 1000000 --batch-runs 2000 --reps 5
    python benchmarks/bench_ensemble.py --chunks 1024 8192 65536   # also the runner by chunk size

It prints runs per second for each at 1 and N workers (every core by default) and their ratio,
the runner's speed-up from 1 to N workers beside the machine's own ceiling (N lone processes
simulating side by side, without any runner or pool, against one alone), and with ``--chunks``
the runner on one worker for each chunk size. The runner gains by doing the same work on many
worlds at once (numpy over arrays of worlds), not by doing less: each world is the same run.
Timings are in-process, the best of ``--reps`` repetitions, contenders alternating.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from anywhere, package installed or not
sys.path.insert(0, str(HERE))

from bench_model import (  # noqa: E402  (it also turns tqdm's monitor thread off: see there)
    SEED,
    batch_run_batch,
    lone_processes,
    same_runs,
)

from sim.experiments.ensemble import chunk_size, run_ensemble  # noqa: E402
from sim.experiments.execution import default_workers  # noqa: E402
from sim.inputs.loader import load_scenario  # noqa: E402
from sim.model.scenario import Scenario  # noqa: E402

BASELINE = HERE.parent / "scenarios" / "jan2024_baseline.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="runs of the runner")
    parser.add_argument("--batch-runs", type=int, default=300, help="runs of mesa.batch_run")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--chunks", type=int, nargs="*", default=[], metavar="CHUNK")
    args = parser.parse_args()
    scenario = load_scenario(BASELINE)
    counts = sorted({1, args.workers})
    print(
        f"load average {os.getloadavg()[0]:.2f} at the start; baseline scenario; runner {args.runs:,} runs, batch_run {args.batch_runs:,} runs "
        f"(one world per model); workers {' and '.join(map(str, counts))}; best of {args.reps}"
    )

    best: dict[tuple[str, int], float] = {}  # seconds (per run for the lone processes)
    matched: list[bool] = []  # batch_run's worlds against the runner's runs, each repetition
    lone_runs = chunk_size(args.runs, args.workers)
    runner_batch = None
    for rep in range(args.reps):
        for workers in counts:
            assert threading.active_count() == 1, "workers would not be forked (see bench_model)"
            start = time.perf_counter()
            ensemble = run_ensemble(scenario, runs=args.runs, seed=SEED, workers=workers)
            seconds = time.perf_counter() - start
            best["runner", workers] = min(best.get(("runner", workers), seconds), seconds)
            runner_batch = ensemble.batch
        if args.workers > 1:  # the machine's ceiling, measured between the same contenders
            for processes in (1, args.workers):
                rate = lone_processes(scenario, lone_runs, processes)
                best["lone", processes] = min(best.get(("lone", processes), 1 / rate), 1 / rate)
        if rep < max(1, args.reps - 1):  # batch_run is slow: one repetition fewer
            for workers in counts:
                start = time.perf_counter()
                batch = batch_run_batch(scenario, args.batch_runs, workers)
                seconds = time.perf_counter() - start
                best["batch_run", workers] = min(best.get(("batch_run", workers), seconds), seconds)
                matched.append(runner_batch is not None and same_runs(runner_batch, batch))
    runs = {"runner": args.runs, "batch_run": args.batch_runs, "lone": 1}
    rates = {(name, workers): runs[name] / seconds for (name, workers), seconds in best.items()}
    for workers in counts:
        runner, batch_run = rates["runner", workers], rates["batch_run", workers]
        print(
            f"  {workers} worker(s): runner {runner:9,.0f} runs/s   "
            f"batch_run {batch_run:6,.1f} runs/s   ratio {runner / batch_run:6,.0f}x"
        )
    print(
        "  batch_run's worlds are the runner's runs with the same seeds: "
        f"{bool(matched) and all(matched)}"
    )
    if args.workers > 1:
        scaling = rates["runner", args.workers] / rates["runner", 1]
        batch_scaling = rates["batch_run", args.workers] / rates["batch_run", 1]
        ceiling = rates["lone", args.workers] / rates["lone", 1]
        print(
            f"  speed-up from 1 to {args.workers} workers: runner {scaling:.2f}x, "
            f"batch_run {batch_scaling:.2f}x"
        )
        print(
            f"  this machine's ceiling: {args.workers} lone processes side by side "
            f"({lone_runs:,} runs each) simulate {ceiling:.2f}x as fast as one"
        )
    for chunk in args.chunks:
        seconds = min(
            _timed_runner(scenario, args.runs, chunk) for _ in range(max(1, args.reps - 1))
        )
        print(f"  1 worker, chunks of {chunk:>7,}: runner {args.runs / seconds:9,.0f} runs/s")
    print(f"  load average {os.getloadavg()[0]:.2f} at the end (other work on this machine)")


def _timed_runner(scenario: Scenario, runs: int, chunk: int) -> float:
    start = time.perf_counter()
    run_ensemble(scenario, runs=runs, seed=SEED, workers=1, chunk=chunk)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
