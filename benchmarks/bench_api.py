"""What the Python API costs on top of the simulation: ``run_ensemble`` against the model alone.

    python benchmarks/bench_api.py                    # 1,000 runs of the baseline, 15 rounds
    python benchmarks/bench_api.py --runs 200 --rounds 30

In one process, on one core, each round times side by side (order alternating, so a busy
machine weighs on both alike):

* the model alone: ``sim.experiments.ensemble.simulate`` on the ensemble's run seeds (the model built, run
  and its record taken: the simulation time);
* ``run_ensemble(scenario, runs=N)`` as a Python user calls it (default: one worker, this
  process), all tables made;
* ``run_ensemble(..., outcomes=[...])``: only the named outcomes estimated, for calls in a loop.

It prints the median of each and the median of the per-round ratios to the model alone. The
target (issue 13) is a ratio of at most 1.2 for 1,000 runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from anywhere, package installed or not

from sim.experiments.ensemble import run_ensemble, simulate  # noqa: E402
from sim.inputs.loader import load_scenario  # noqa: E402
from sim.model.streams import run_seeds  # noqa: E402

BASELINE = HERE.parent / "scenarios" / "jan2024_baseline.yaml"
SEED = 1
OUTCOMES = ("answer_7d", "forces_30d", "war")  # what a sweep point records by default


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    scenario = load_scenario(BASELINE)
    contenders: dict[str, Callable[[], object]] = {
        "model alone (simulate)": lambda: simulate(scenario, run_seeds(SEED, 0, args.runs)),
        "run_ensemble": lambda: run_ensemble(scenario, runs=args.runs, seed=SEED),
        "run_ensemble(outcomes=...)": lambda: run_ensemble(
            scenario, runs=args.runs, seed=SEED, outcomes=OUTCOMES
        ),
    }
    for call in contenders.values():  # warm-up: imports, caches, package versions
        call()
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for i in range(args.rounds):
        for name in names if i % 2 == 0 else reversed(names):
            seconds[name].append(timed(contenders[name]))
    model = seconds[names[0]]
    print(
        f"baseline scenario, {args.runs:,} runs, one core, {args.rounds} rounds; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    for name in names:
        ratio = statistics.median(s / m for s, m in zip(seconds[name], model, strict=True))
        print(
            f"  {name:<28} median {statistics.median(seconds[name]):7.3f} s   "
            f"{ratio:5.2f}x the model alone"
        )


if __name__ == "__main__":
    main()
