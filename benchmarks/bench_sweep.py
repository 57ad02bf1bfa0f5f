"""Sweep throughput: the local process pool against a Dask LocalCluster, in one process.

    python benchmarks/bench_sweep.py                          # 24 points x 1,000 runs
    python benchmarks/bench_sweep.py --points 64 --runs 10000 # a bigger sweep

The same grid sweep of the baseline scenario (Pakistan's audience cost over ``--points`` values)
runs into a fresh folder with the local executor, then with ``--executor dask`` on a LocalCluster
of as many worker processes (one thread each), first one that the sweep starts itself (as
``--executor dask`` without ``--scheduler``; its start-up is in the time), then one already running
(as with ``--scheduler``; its start-up is not). Every core by default. It prints design points and
runs per second for each, the ratio to the local pool, and checks the ``sweep.csv`` files are
byte-identical. There is one engine (the model's worlds): a point is one ``run_ensemble`` of
``--runs`` runs on one core, as ``python run.py sweep`` runs it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere, package installed or not

from distributed import Client, LocalCluster  # noqa: E402

from sim.experiments.axes import ParamSpec  # noqa: E402
from sim.experiments.ensemble import PointEvaluator  # noqa: E402
from sim.experiments.execution import default_workers  # noqa: E402
from sim.experiments.sweep_definition import SweepDefinition  # noqa: E402
from sim.experiments.sweep_execution import run_sweep  # noqa: E402
from sim.inputs.loader import load_scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "jan2024_baseline.yaml"
OUTCOMES = ("answer_7d", "forces_30d", "war")  # what `run.py sweep` records by default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=24)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()

    scenario = load_scenario(BASELINE).model_dump(mode="json")
    values = tuple(round(i / (args.points - 1), 6) for i in range(args.points))
    definition = SweepDefinition(
        parameters=(ParamSpec("actors.pakistan.audience_cost", "values", values=values),),
        runs=args.runs,
        seed=1,
        outcomes=OUTCOMES,
        context={"scenario": scenario},
    )
    evaluate = PointEvaluator(scenario=scenario, outcomes=OUTCOMES, source=str(BASELINE))
    print(f"baseline scenario, {args.points} points x {args.runs:,} runs, {args.workers} workers")
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folders = {name: Path(scratch) / name for name in ("local", "own", "running")}
        start = time.perf_counter()
        run_sweep(definition, evaluate, folders["local"], workers=args.workers)
        seconds["local pool (--executor local)"] = time.perf_counter() - start

        start = time.perf_counter()
        run_sweep(definition, evaluate, folders["own"], executor="dask", workers=args.workers)
        seconds["dask, own LocalCluster (--executor dask)"] = time.perf_counter() - start

        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            ) as cluster,
            Client(cluster) as client,
        ):
            client.wait_for_workers(args.workers)
            start = time.perf_counter()
            run_sweep(
                definition,
                evaluate,
                folders["running"],
                executor="dask",
                scheduler=cluster.scheduler_address,
            )
            seconds["dask, running cluster (--scheduler)"] = time.perf_counter() - start
        csvs = {folder.joinpath("sweep.csv").read_bytes() for folder in folders.values()}

    runs = args.points * args.runs
    local = seconds["local pool (--executor local)"]
    for name, elapsed in seconds.items():
        print(
            f"  {name:<41} {args.points / elapsed:6.2f} points/s {runs / elapsed:8,.0f} runs/s "
            f"({elapsed:5.1f} s, {local / elapsed:.2f}x the local pool)"
        )
    print(f"  the three sweep.csv files are byte-identical: {len(csvs) == 1}")


if __name__ == "__main__":
    main()
