"""The speed targets of the one model (issue 9, "One implementation"; model 3's, issue 20), measured in one run.

    python benchmarks/bench_model.py                    # every target, about 2-3 minutes
    python benchmarks/bench_model.py --reps 5 --batch-runs 1000 --memory-runs 250000 2000000
    python benchmarks/bench_model.py --skip-memory      # the timings only, about a minute

Prints one table, each figure beside its target and PASS or MISS:

- one core: runs per second of the baseline (60 days), the model alone on one chunk of
  ``runner.CHUNK_RUNS`` worlds (``runner.simulate``), and the runner end to end on one worker
  (``run_ensemble(workers=1)``, tables included);
- the runner against ``mesa.batch_run`` running the same model one world per model instance, at
  1 and at 2 workers, with the same seeds; the worlds batch_run returns are checked to be the
  runner's own runs, value for value;
- the runner's speed-up from 1 to 2 workers at 100,000 runs, beside this machine's own ceiling:
  two lone processes simulating side by side (no runner, no pool), against one alone;
- one 60-day story (``run_story``, every event and reason kept): median of many;
- memory: ensembles of 250,000 and 1,000,000 runs on 2 workers, each in a fresh process
  (``--memory-child``): the largest worker's peak RSS (``getrusage(RUSAGE_CHILDREN)``), and the
  parent's traced peak (tracemalloc, workers not traced) beside the tables it returns. Memory is
  bounded when a worker's peak does not grow from the smaller ensemble to the larger (the chunks
  are the same size) and the parent's peak grows only as the tables do (the same per run).

All timings are in-process, with ``time.perf_counter``, for every contender alike. The machine is
shared and noisy: each timing is the best of ``--reps`` repetitions, contenders alternate within a
repetition, and every ratio is taken between figures of this same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mesa
import tqdm

# tqdm starts a monitor thread with its first bar, even a disabled one (the runner's, batch_run's);
# from then on ``runner.worker_context`` sees a threaded process and starts workers through a
# fork server instead of forking. A command runs one ensemble per process and never meets this;
# a benchmark runs many, so it turns the thread off to time every ensemble as a command would.
tqdm.tqdm.monitor_interval = 0

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere, package installed or not

from sim.analysis.story import run_story  # noqa: E402
from sim.experiments.ensemble import CHUNK_RUNS, build_ensemble, chunk_size, run_ensemble, simulate  # noqa: E402
from sim.inputs.loader import load_scenario  # noqa: E402
from sim.model.model import EscalationModel  # noqa: E402
from sim.model.record import Batch  # noqa: E402
from sim.model.scenario import Scenario  # noqa: E402
from sim.model.streams import run_seeds  # noqa: E402

BASELINE = ROOT / "scenarios" / "jan2024_baseline.yaml"
SEED = 1
MIB = 1024 * 1024

TARGET_ONE_CORE = 25_000  # runs/s: model 3's target (issue 20); model 2's was 50,000 (issue 9)
TARGET_VS_BATCH_RUN = 500  # x: model 3's target (issue 20); model 2's was 200
TARGET_SCALING = 1.8  # x from 1 to 2 workers
SCALING_RUNS = 100_000
TARGET_STORY_MS = 50
BOUNDED = 1.1
"""Memory is bounded when a worker's peak, and the parent's peak per run, grow at most this much
from the smaller ensemble to the larger (the parent holds the tables, which grow with the runs)."""


# ---------------------------------------------------------------------- mesa.batch_run


def _batch_of(model: BatchRunModel) -> Batch:
    return model.batch()


class BatchRunModel(EscalationModel):
    """The same model as ``batch_run`` wants it: one seed through ``rng``, a DataCollector.

    Each instance holds one world. ``batch_run`` steps it day by day up to ``max_steps`` (the
    horizon); at the horizon the model stops and collects its ``Batch``, the record the runner
    keeps of every run.
    """

    def __init__(self, scenario: Scenario, rng: int) -> None:
        super().__init__(scenario, [rng])
        self.datacollector = mesa.DataCollector(model_reporters={"batch": _batch_of})

    def step(self) -> None:
        super().step()
        if self.day >= self.config.horizon:
            self.running = False
            self.datacollector.collect(self)


def batch_run_batch(scenario: Scenario, runs: int, workers: int) -> Batch:
    """The first ``runs`` runs of the ensemble with seed ``SEED``, through ``mesa.batch_run``."""
    rows = mesa.batch_run(
        BatchRunModel,
        parameters={"scenario": [scenario]},
        number_processes=workers,
        data_collection_period=-1,
        max_steps=scenario.horizon,
        display_progress=False,
        rng=[int(seed) for seed in run_seeds(SEED, 0, runs)],
    )
    rows.sort(key=lambda row: row["RunId"])
    return Batch.concatenate([row["batch"] for row in rows])


def same_runs(a: Batch, b: Batch) -> bool:
    """Whether ``b``'s runs are the first runs of ``a``, value for value (occupancy aside)."""
    n = b.runs
    for item in dataclasses.fields(Batch):
        if item.name == "occupancy":
            continue
        if not (getattr(a, item.name)[..., :n] == getattr(b, item.name)).all():
            return False
    return True


def runner_batch_part(batch: Batch, part: int, parts: int) -> Batch:
    """One of ``parts`` equal slices of a batch's runs (occupancy split evenly; only timed)."""
    size = -(-batch.runs // parts)
    cut = slice(part * size, (part + 1) * size)
    values = {
        item.name: getattr(batch, item.name)[..., cut]
        for item in dataclasses.fields(Batch)
        if item.name != "occupancy"
    }
    return Batch(**values, occupancy=batch.occupancy // parts)


# ---------------------------------------------------------------------- timing helpers


def timed[T](work: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    """Seconds that ``work(*args, **kwargs)`` took, and what it returned."""
    start = time.perf_counter()
    result = work(*args, **kwargs)
    return time.perf_counter() - start, result


def cpu_timed(work: Callable[..., object], *args: Any) -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds that ``work(*args)`` took.

    CPU time is what the work cost this process whatever else the machine was doing: on a busy
    machine it tells what one free core would give (wall time is what was had).
    """
    wall, cpu = time.perf_counter(), time.process_time()
    work(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def _lone(scenario: Scenario, runs: int, barrier: Any, queue: Any) -> None:
    seeds = run_seeds(SEED, 0, runs)
    barrier.wait()
    start = time.perf_counter()
    simulate(scenario, seeds)
    queue.put(runs / (time.perf_counter() - start))


def lone_processes(scenario: Scenario, runs: int, processes: int) -> float:
    """Total runs/s of ``processes`` forked processes simulating ``runs`` each, side by side.

    No runner and no pool: each process simulates one chunk and times itself from the moment
    all have started (a barrier), so this is what the machine itself allows.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes)
    queue = context.Queue()
    children = [
        context.Process(target=_lone, args=(scenario, runs, barrier, queue))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    rates = [queue.get() for _ in children]
    for child in children:
        child.join()
    return sum(rates)


# ---------------------------------------------------------------------- memory (a fresh process)


def memory_child(scenario_path: str, runs: int, workers: int) -> None:
    """Run one ensemble and print its memory figures as JSON (``--memory-child``)."""
    scenario = load_scenario(scenario_path)
    os.register_at_fork(after_in_child=tracemalloc.stop)  # trace this process, not the workers
    tracemalloc.start()
    start = time.perf_counter()
    ensemble = run_ensemble(scenario, runs=runs, seed=SEED, workers=workers)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    batch_bytes = sum(getattr(ensemble.batch, f.name).nbytes for f in dataclasses.fields(Batch))
    table_bytes = sum(
        int(frame.memory_usage(deep=True).sum())
        for frame in (ensemble.runs, ensemble.curves, ensemble.occupancy, ensemble.summary)
    )
    print(
        json.dumps(
            {
                "runs": ensemble.batch.runs,
                "seconds": seconds,
                "chunk": chunk_size(runs, workers),
                "traced_peak": peak,
                "result": batch_bytes + table_bytes,
                "parent_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "worker_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
            }
        )
    )


def memory(scenario_path: str, runs: int, workers: int) -> dict[str, float]:
    """``memory_child`` in a fresh process."""
    command = [sys.executable, __file__, "--scenario", scenario_path, "--workers", str(workers)]
    output = subprocess.run(
        [*command, "--memory-child", str(runs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# ---------------------------------------------------------------------- the table


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, figure: str, target: str = "", passed: bool | None = None) -> None:
        verdict = "" if passed is None else ("PASS" if passed else "MISS")
        self.rows.append((what, figure, target, verdict))
        print(f"  {what:<58} {figure:>22}  {target:<12} {verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(BASELINE))
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each timing (best)")
    parser.add_argument("--chunk", type=int, default=CHUNK_RUNS, help="worlds in the one chunk")
    parser.add_argument("--runs", type=int, default=SCALING_RUNS, help="runs of the runner")
    parser.add_argument("--batch-runs", type=int, default=300, help="runs of mesa.batch_run")
    parser.add_argument("--stories", type=int, default=60, help="stories timed (median)")
    parser.add_argument(
        "--memory-runs", type=int, nargs="+", default=[250_000, 1_000_000], metavar="RUNS"
    )
    parser.add_argument("--workers", type=int, default=2, help="the 'N workers' compared to 1")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.scenario, args.memory_child, args.workers)
        return

    scenario = load_scenario(args.scenario)
    n = args.workers
    print(
        f"{scenario.name}, {scenario.horizon} days; best of {args.reps}; "
        f"{os.cpu_count()} cores; mesa {mesa.__version__}; "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )
    table = Table()

    # Each repetition times, in turn: one chunk (the model alone); the runner on 1 and N workers;
    # one and N lone processes (the machine's ceiling); batch_run on 1 and N workers.
    counts = sorted({1, n})
    chunk_seeds = run_seeds(SEED, 0, args.chunk)
    lone_runs = chunk_size(args.runs, n)
    simulate(scenario, chunk_seeds[:1000])  # warm up
    best: dict[str, float] = {}
    matched: list[bool] = []  # batch_run's worlds against the runner's runs, each repetition

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)

    runner_batch = None
    for rep in range(args.reps):
        wall, cpu = cpu_timed(simulate, scenario, chunk_seeds)
        keep("chunk", wall / args.chunk)
        keep("chunk cpu", cpu / args.chunk)
        for workers in counts:
            assert threading.active_count() == 1, "workers would not be forked (see tqdm above)"
            seconds, ensemble = timed(
                run_ensemble, scenario, runs=args.runs, seed=SEED, workers=workers
            )
            keep(f"runner {workers}", seconds / args.runs)
            runner_batch = ensemble.batch
        if n > 1:
            for processes in (1, n):
                keep(f"lone {processes}", 1 / lone_processes(scenario, lone_runs, processes))
        if rep < max(1, args.reps - 1):  # batch_run is slow: one repetition fewer
            for workers in counts:
                seconds, batch = timed(batch_run_batch, scenario, args.batch_runs, workers)
                keep(f"batch_run {workers}", seconds / args.batch_runs)
                matched.append(runner_batch is not None and same_runs(runner_batch, batch))
    rate = {name: 1 / seconds for name, seconds in best.items()}  # runs/s

    print("\n  one core")
    table.add(
        f"model alone, one chunk of {args.chunk:,} worlds",
        f"{rate['chunk']:,.0f} runs/s",
        f">= {TARGET_ONE_CORE:,}",
        rate["chunk"] >= TARGET_ONE_CORE,
    )
    table.add("  the same per CPU second of this process", f"{rate['chunk cpu']:,.0f} runs/s")
    table.add(
        f"runner, 1 worker, {args.runs:,} runs (tables included)",
        f"{rate['runner 1']:,.0f} runs/s",
        f">= {TARGET_ONE_CORE:,}",
        rate["runner 1"] >= TARGET_ONE_CORE,
    )

    print(f"\n  runner against mesa.batch_run (one world per model, {args.batch_runs:,} runs)")
    for workers in counts:
        table.add(
            f"mesa.batch_run, {workers} worker(s)", f"{rate[f'batch_run {workers}']:,.1f} runs/s"
        )
        ratio = rate[f"runner {workers}"] / rate[f"batch_run {workers}"]
        table.add(
            f"runner / batch_run, {workers} worker(s)",
            f"{ratio:,.0f} x",
            f">= {TARGET_VS_BATCH_RUN} x",
            ratio >= TARGET_VS_BATCH_RUN,
        )
    same = all(matched) and bool(matched)
    table.add(
        "batch_run's worlds are the runner's runs (same seeds)",
        "identical" if same else "DIFFERENT",
        "identical",
        same,
    )

    if n > 1:
        print(f"\n  from 1 to {n} workers")
        table.add(f"runner, {n} workers, {args.runs:,} runs", f"{rate[f'runner {n}']:,.0f} runs/s")
        scaling = rate[f"runner {n}"] / rate["runner 1"]
        table.add(
            f"runner speed-up, 1 to {n} workers, {args.runs:,} runs",
            f"{scaling:.2f} x",
            f">= {TARGET_SCALING} x",
            scaling >= TARGET_SCALING,
        )
        ceiling = rate[f"lone {n}"] / rate["lone 1"]
        table.add(
            f"machine ceiling: {n} lone processes / 1 ({lone_runs:,} runs each)",
            f"{ceiling:.2f} x",
        )
        table.add("runner speed-up as a share of the ceiling", f"{scaling / ceiling:.0%}")
        assert runner_batch is not None
        parts = [runner_batch_part(runner_batch, part, n) for part in range(n)]
        serial = min(
            timed(lambda: build_ensemble(scenario, Batch.concatenate(parts), SEED, {}))[0]
            for _ in range(args.reps)
        )
        table.add(
            f"serial in the parent: concatenate {n} chunks, build tables",
            f"{serial * 1000:,.0f} ms",
        )

    print("\n  story")
    story_seeds = [int(s) for s in run_seeds(SEED, 0, args.stories)]
    run_story(scenario, story_seeds[0])  # warm up
    story_times = [cpu_timed(run_story, scenario, seed) for seed in story_seeds]
    story_ms = [wall * 1000 for wall, _ in story_times]
    median = statistics.median(story_ms)
    table.add(
        f"one {scenario.horizon}-day story, median of {args.stories}",
        f"{median:.1f} ms",
        f"<= {TARGET_STORY_MS} ms",
        median <= TARGET_STORY_MS,
    )
    table.add(
        "  the same in CPU time of this process (median)",
        f"{statistics.median(cpu for _, cpu in story_times) * 1000:.1f} ms",
    )
    table.add(
        "  fastest / 90th percentile / slowest",
        f"{min(story_ms):.1f} / {statistics.quantiles(story_ms, n=10)[-1]:.1f} / "
        f"{max(story_ms):.1f} ms",
    )

    if not args.skip_memory:
        print(f"\n  memory, {n} workers, each ensemble in a fresh process")
        found = [memory(args.scenario, runs, n) for runs in args.memory_runs]
        for m in found:
            runs = int(m["runs"])
            table.add(
                f"{runs:,} runs: largest worker's peak RSS (chunk {int(m['chunk']):,})",
                f"{m['worker_rss'] / MIB:,.0f} MiB",
            )
            table.add(
                f"{runs:,} runs: parent traced peak / tables returned",
                f"{m['traced_peak'] / MIB:,.0f} / {m['result'] / MIB:,.0f} MiB",
            )
            table.add(
                f"{runs:,} runs: parent peak RSS; wall time",
                f"{m['parent_rss'] / MIB:,.0f} MiB; {m['seconds']:.1f} s",
            )
        if len(found) > 1:
            small, large = found[0], found[-1]
            sizes = f"{int(large['runs']):,} / {int(small['runs']):,} runs"
            worker_growth = large["worker_rss"] / small["worker_rss"]
            table.add(
                f"largest worker's peak RSS, {sizes}",
                f"{worker_growth:.2f} x",
                f"<= {BOUNDED} x",
                worker_growth <= BOUNDED,
            )
            per_run = [m["traced_peak"] / m["runs"] for m in found]
            growth = per_run[-1] / per_run[0]
            table.add(
                "parent traced peak per run (B), "
                + " / ".join(f"{int(m['runs']):,}" for m in found)
                + " runs",
                " / ".join(f"{b:,.0f}" for b in per_run),
            )
            table.add(
                f"parent traced peak per run, {sizes}",
                f"{growth:.2f} x",
                f"<= {BOUNDED} x",
                growth <= BOUNDED,
            )

    print(f"\n  load average {os.getloadavg()[0]:.2f} at the end (other work on this machine)")


if __name__ == "__main__":
    main()
