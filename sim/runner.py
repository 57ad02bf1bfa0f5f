"""The Monte Carlo runner: many runs of a scenario, on every core, reproducibly.

Seeding: run ``i`` of an ensemble with seed ``s`` has the seed ``sim.streams.run_seeds(s, i,
i + 1)``, derived from ``SeedSequence(s)``; every random number of the run comes from that seed's
own stream. Runs are simulated in chunks (many worlds of one ``EscalationModel`` at once) and
reassembled in order; since a run never depends on the other runs of its chunk, the results are
identical for any number of workers and any chunk size, and an ensemble extended with more runs
starts with exactly the runs it had. ``story --seed`` replays any run from its seed.
"""

from __future__ import annotations

import datetime
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim import analysis, outcomes
from sim.execution import default_workers, worker_context, worker_init
from sim.model import EscalationModel
from sim.record import Batch
from sim.scenario import Scenario
from sim.streams import run_seeds

CHUNK_RUNS = 65536
"""Most runs per task (worlds of one model): numpy pays best on large arrays, and memory stays
bounded (about 100 MB a task). Results do not depend on the chunk size."""


def chunk_size(runs: int, workers: int) -> int:
    """Equal chunks, as few as the limit allows, and as many per worker: every worker then
    has the same work, and each chunk is as large as it can be."""
    per_worker = math.ceil(runs / (workers * CHUNK_RUNS))
    return max(1, math.ceil(runs / (workers * per_worker)))


def simulate(scenario: Scenario, seeds: np.ndarray) -> Batch:
    """Run one chunk of runs, all at once as the worlds of one model."""
    model = EscalationModel(scenario, seeds)
    model.run()
    return model.batch()


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


def _chunks(start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
    for first in range(start, stop, size):
        yield first, min(first + size, stop)


class _Pool:
    """Runs chunks inline (one worker) or on a pool of processes started by ``worker_context``."""

    def __init__(self, workers: int) -> None:
        self.pool: Any = None
        if workers > 1:
            self.pool = worker_context().Pool(workers, initializer=worker_init)

    def map_chunks(
        self,
        scenario: Scenario,
        seed: int,
        runs: range,
        chunk: int,
        on_done: Callable[[int], None],
    ) -> list[Batch]:
        """Batches for consecutive chunks of ``runs``; on Ctrl-C, the completed leading chunks.

        Workers derive their runs' seeds themselves, so a large ensemble starts at once.
        """
        tasks = [
            (index, scenario, seed, a, b)
            for index, (a, b) in enumerate(_chunks(runs.start, runs.stop, chunk))
        ]
        results: dict[int, Batch] = {}
        finished = (
            map(_simulate_task, tasks)
            if self.pool is None
            else self.pool.imap_unordered(_simulate_task, tasks)
        )
        try:
            for index, batch in finished:
                results[index] = batch
                on_done(batch.runs)
        except KeyboardInterrupt:
            self.close(terminate=True)
            kept = []
            for index in range(len(tasks)):
                if index not in results:
                    break
                kept.append(results[index])
            raise _Interrupted(kept) from None
        return [results[index] for index in range(len(tasks))]

    def close(self, terminate: bool = False) -> None:
        if self.pool is not None:
            if terminate:
                self.pool.terminate()
            else:
                self.pool.close()
            self.pool.join()
            self.pool = None


def _simulate_task(task: tuple[int, Scenario, int, int, int]) -> tuple[int, Batch]:
    index, scenario, seed, start, stop = task
    return index, simulate(scenario, run_seeds(seed, start, stop))


class _Interrupted(Exception):
    def __init__(self, kept: list[Batch]) -> None:
        self.kept = kept


def run_ensemble(
    scenario: Scenario,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    target_halfwidth: float | None = None,
    progress: bool = False,
    max_runs: int = 1_000_000,
    chunk: int | None = None,
) -> Ensemble:
    """Run an ensemble and return its tables; no files are written (see ``sim.results``).

    ``runs`` and ``seed`` default to the scenario's. With ``target_halfwidth``, runs are added in
    rounds until every summary probability's 95% interval is at most that wide on each side
    (or ``max_runs`` is reached). Ctrl-C returns what was finished, marked ``interrupted``.
    ``chunk`` fixes the runs per task (default: ``chunk_size``); results are the same for any.
    """
    runs = scenario.runs if runs is None else runs
    seed = scenario.seed if seed is None else seed
    workers = default_workers() if workers is None else workers
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if chunk is not None and chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
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
            try:
                size = chunk or chunk_size(goal - done_runs, workers)
                batches += pool.map_chunks(
                    scenario, seed, range(done_runs, goal), size, bar.update
                )
            except _Interrupted as stop:
                batches += stop.kept
                interrupted = True
            done_runs = sum(b.runs for b in batches)
            if interrupted or target_halfwidth is None or done_runs >= max_runs:
                break
            batch = Batch.concatenate(batches)
            table = analysis.runs_table(batch, scenario)
            widest = analysis.max_halfwidth(
                analysis.summarize(table, outcomes.for_scenario(scenario))
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
    runs = analysis.runs_table(batch, scenario)
    summary = analysis.summarize(runs, outcomes.for_scenario(scenario))
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


def versions(*extra: str) -> dict[str, str]:
    """Versions of this package and the libraries that shape its numbers (and ``extra`` ones)."""
    found = {"python": sys.version.split()[0]}
    for package in (
        *extra,
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


@dataclass(frozen=True)
class PointEvaluator:
    """Evaluates one sweep point: an ensemble of the scenario with the point's overrides.

    It carries the scenario as a merged mapping rather than a file name, so workers on another
    machine (Dask) need no copy of the scenario files; each point runs on one core (the sweep
    spreads points over the cores).
    """

    scenario: dict[str, Any]
    outcomes: tuple[str, ...]
    source: str = "scenario"

    def __call__(
        self, overrides: dict[str, Any], runs: int, seed_seq: np.random.SeedSequence
    ) -> dict[str, tuple[float, float, float]]:
        from sim.loader import scenario_from_mapping

        scenario = scenario_from_mapping(self.scenario, overrides, self.source)
        seed = int(seed_seq.generate_state(1, np.uint64)[0] >> 1)
        ensemble = run_ensemble(scenario, runs=runs, seed=seed, workers=1)
        return analysis.outcome_estimates(ensemble.runs, list(self.outcomes), scenario)
