"""The Monte Carlo runner: many runs of a scenario, on every core, reproducibly.

Seeding: run ``i`` of an ensemble with seed ``s`` uses ``numpy.random.default_rng(run_seed)``,
where ``run_seed`` is drawn from ``SeedSequence(s).spawn(...)[i]`` (the child with spawn key
``(i,)``). Runs are grouped into chunks of a fixed size that depends only on the engine, and the
chunks are reassembled in order, so the results are identical for any number of workers, and an
ensemble extended with more runs starts with exactly the runs it had.
"""

from __future__ import annotations

import datetime
import math
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim import analysis
from sim.model import EscalationModel
from sim.outcomes import Batch, batch_of_models
from sim.scenario import Scenario

Engine = Literal["mesa", "fast"]
ENGINES: tuple[Engine, ...] = ("mesa", "fast")
CHUNK_RUNS: dict[Engine, int] = {"mesa": 100, "fast": 5000}
"""Runs per task: large enough to hide the cost of a task, small enough for a lively progress bar."""


def run_seeds(seed: int, start: int, stop: int) -> np.ndarray:
    """The integer seeds of runs ``start`` to ``stop - 1``: replay one with ``story --seed``."""
    return np.array(
        [
            int(np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1, np.uint64)[0] >> 1)
            for i in range(start, stop)
        ],
        dtype=np.int64,
    )


def simulate(scenario: Scenario, seeds: np.ndarray, engine: Engine = "mesa") -> Batch:
    """Run one chunk of replications with the given engine."""
    if engine == "fast":
        from sim.fast import simulate_fast

        return simulate_fast(scenario, [int(s) for s in seeds])
    models = []
    for seed in seeds:
        model = EscalationModel(scenario, rng=np.random.default_rng(int(seed)))
        model.run()
        models.append(model)
    return batch_of_models(models)


@dataclass
class Ensemble:
    """The result of ``run_ensemble``: tables ready for pandas, and how they were made."""

    scenario: Scenario
    batch: Batch
    runs: pd.DataFrame
    curves: pd.DataFrame
    occupancy: pd.DataFrame
    summary: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def interrupted(self) -> bool:
        return bool(self.metadata.get("interrupted", False))


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _chunks(start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
    for first in range(start, stop, size):
        yield first, min(first + size, stop)


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops them and keeps what they finished."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Pool:
    """Runs chunks inline (one worker) or on a process pool that imports the package once."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor: ProcessPoolExecutor | None = None
        if workers > 1:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["sim.runner"])
            self.executor = ProcessPoolExecutor(
                max_workers=workers, mp_context=context, initializer=_ignore_interrupts
            )

    def map_chunks(
        self, scenario: Scenario, seeds: np.ndarray, engine: Engine, on_done: Callable[[int], None]
    ) -> list[Batch]:
        """Batches for consecutive chunks of ``seeds``; on Ctrl-C, the completed leading chunks."""
        bounds = list(_chunks(0, len(seeds), CHUNK_RUNS[engine]))
        results: dict[int, Batch] = {}
        try:
            if self.executor is None:
                for index, (a, b) in enumerate(bounds):
                    results[index] = simulate(scenario, seeds[a:b], engine)
                    on_done(b - a)
            else:
                futures: dict[Future[Batch], int] = {
                    self.executor.submit(simulate, scenario, seeds[a:b], engine): index
                    for index, (a, b) in enumerate(bounds)
                }
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = futures[future]
                        results[index] = future.result()
                        on_done(bounds[index][1] - bounds[index][0])
        except KeyboardInterrupt:
            self.close(cancel=True)
            kept = []
            for index in range(len(bounds)):
                if index not in results:
                    break
                kept.append(results[index])
            raise _Interrupted(kept) from None
        return [results[index] for index in range(len(bounds))]

    def close(self, cancel: bool = False) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=not cancel, cancel_futures=cancel)
            self.executor = None


class _Interrupted(Exception):
    def __init__(self, kept: list[Batch]) -> None:
        self.kept = kept


def run_ensemble(
    scenario: Scenario,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    engine: Engine = "mesa",
    target_halfwidth: float | None = None,
    progress: bool = False,
    max_runs: int = 1_000_000,
) -> Ensemble:
    """Run an ensemble and return its tables; no files are written (see ``sim.results``).

    ``runs`` and ``seed`` default to the scenario's. With ``target_halfwidth``, runs are added in
    rounds until every summary probability's 95% interval is at most that wide on each side
    (or ``max_runs`` is reached). Ctrl-C returns what was finished, marked ``interrupted``.
    """
    runs = scenario.runs if runs is None else runs
    seed = scenario.seed if seed is None else seed
    workers = default_workers() if workers is None else workers
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})")
    started = datetime.datetime.now(datetime.UTC)
    clock = time.perf_counter()
    pool = _Pool(workers)
    batches: list[Batch] = []
    interrupted = False
    done_runs = 0
    bar = tqdm(total=runs, unit="run", disable=not progress, desc=scenario.name, file=sys.stderr)
    try:
        goal = runs
        while True:
            seeds = run_seeds(seed, done_runs, goal)
            try:
                batches += pool.map_chunks(scenario, seeds, engine, bar.update)
            except _Interrupted as stop:
                batches += stop.kept
                interrupted = True
            done_runs = sum(b.runs for b in batches)
            if interrupted or target_halfwidth is None or done_runs >= max_runs:
                break
            batch = Batch.concatenate(batches)
            table = analysis.runs_table(batch, scenario, run_seeds(seed, 0, done_runs))
            widest = analysis.max_halfwidth(
                analysis.summarize(table, scenario.horizon, scenario.ladder.war)
            )
            if widest <= target_halfwidth:
                break
            needed = math.ceil(done_runs * (widest / target_halfwidth) ** 2 * 1.05)
            goal = min(max(needed, done_runs + 1), max_runs)
            bar.total = goal
            bar.refresh()
    finally:
        bar.close()
        pool.close()
    if not batches:
        raise KeyboardInterrupt
    batch = Batch.concatenate(batches)
    return build_ensemble(
        scenario,
        batch,
        seed,
        metadata={
            "seed": seed,
            "runs": batch.runs,
            "runs_requested": runs,
            "target_halfwidth": target_halfwidth,
            "engine": engine,
            "workers": workers,
            "interrupted": interrupted,
            "command": sys.argv,
            "started": started.isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - clock, 3),
            "versions": versions(),
        },
    )


def build_ensemble(
    scenario: Scenario, batch: Batch, seed: int, metadata: dict[str, Any]
) -> Ensemble:
    """Tables of a finished batch; the scenario, fully resolved, goes into the metadata."""
    runs = analysis.runs_table(batch, scenario, run_seeds(seed, 0, batch.runs))
    summary = analysis.summarize(runs, scenario.horizon, scenario.ladder.war)
    metadata = {
        **metadata,
        "halfwidth_reached": analysis.max_halfwidth(summary),
        "scenario": scenario.model_dump(mode="json"),
    }
    return Ensemble(
        scenario=scenario,
        batch=batch,
        runs=runs,
        curves=analysis.curves_table(runs, scenario.horizon),
        occupancy=analysis.occupancy_table(batch, scenario),
        summary=summary,
        metadata=metadata,
    )


def versions() -> dict[str, str]:
    """Versions of this package and the libraries that shape its numbers."""
    found = {"python": sys.version.split()[0]}
    for package in (
        "escalation-sim",
        "mesa",
        "numpy",
        "scipy",
        "pandas",
        "matplotlib",
        "pyyaml",
        "pydantic",
    ):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found
