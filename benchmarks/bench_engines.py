"""Speed of the two engines on one scenario, single core, in one process.

    python benchmarks/bench_engines.py [--scenario PATH] [--mesa-runs 2000] [--fast-runs 100000]
                                       [--chunk N]

Prints runs per second for the Mesa engine and the fast engine, their ratio (the target is a fast
engine at least 50 times faster), and the peak memory of the fast engine's 100,000 runs, which
``simulate_fast`` processes in chunks of ``sim.fast.CHUNK`` runs (each with its own generator).
Both engines run in this one process, on one core (numpy's elementwise operations are
single-threaded; the fast engine uses no BLAS).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere, package installed or not

from sim.fast import CHUNK, simulate_fast  # noqa: E402
from sim.loader import load_scenario  # noqa: E402
from sim.model import EscalationModel  # noqa: E402
from sim.outcomes import Batch, batch_of_models  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

FIRST_SEED = 1_000_000


def mesa_rate(scenario: Scenario, runs: int) -> float:
    start = time.perf_counter()
    models = []
    for seed in range(FIRST_SEED, FIRST_SEED + runs):
        model = EscalationModel(scenario, rng=np.random.default_rng(seed))
        model.run()
        models.append(model)
    batch_of_models(models)
    return runs / (time.perf_counter() - start)


def fast_batch(scenario: Scenario, runs: int, chunk: int) -> Batch:
    """``runs`` runs in calls of ``chunk`` seeds, as the runner hands them out."""
    seeds = list(range(FIRST_SEED, FIRST_SEED + runs))
    return Batch.concatenate(
        [simulate_fast(scenario, seeds[i : i + chunk]) for i in range(0, runs, chunk)]
    )


def fast_rate(scenario: Scenario, runs: int, chunk: int) -> float:
    fast_batch(scenario, min(runs, 1000), chunk)  # warm up
    start = time.perf_counter()
    batch = fast_batch(scenario, runs, chunk)
    elapsed = time.perf_counter() - start
    assert batch.runs == runs
    return runs / elapsed


def fast_peak_memory(scenario: Scenario, runs: int, chunk: int) -> tuple[float, float]:
    """Peak bytes allocated (tracemalloc) while simulating, and the result's own size."""
    tracemalloc.start()
    batch = fast_batch(scenario, runs, chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = sum(
        a.nbytes
        for a in (
            batch.rungs,
            batch.first_strike_day,
            batch.mediation_offered,
            batch.mediation_accepted,
        )
    )
    return peak, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "jan2024_baseline.yaml"))
    parser.add_argument("--mesa-runs", type=int, default=2000)
    parser.add_argument("--fast-runs", type=int, default=100_000)
    parser.add_argument(
        "--chunk",
        type=int,
        default=CHUNK,
        help="seeds per simulate_fast call (default: sim.fast.CHUNK)",
    )
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)

    mesa = mesa_rate(scenario, args.mesa_runs)
    fast = fast_rate(scenario, args.fast_runs, args.chunk)
    peak, result = fast_peak_memory(scenario, args.fast_runs, args.chunk)
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    mib = 1024 * 1024
    print(f"scenario        {scenario.name} (horizon {scenario.horizon} days)")
    print(f"mesa engine     {mesa:10,.0f} runs/s  ({args.mesa_runs:,} runs)")
    print(
        f"fast engine     {fast:10,.0f} runs/s  ({args.fast_runs:,} runs, chunks of {args.chunk:,})"
    )
    print(f"speed-up        {fast / mesa:10.0f} x   (target >= 50 x)")
    print(
        f"fast peak mem   {peak / mib:10.1f} MiB traced while simulating {args.fast_runs:,} runs "
        f"(of which the Batch returned: {result / mib:.1f} MiB)"
    )
    print(f"process max RSS {max_rss:10.1f} MiB (whole process, Mesa runs included)")


if __name__ == "__main__":
    main()
