"""The Monte Carlo runner: many runs of a scenario, on every core, reproducibly.

Seeding: run ``i`` of an ensemble with seed ``s`` has the seed ``sim.model.streams.run_seeds(s, i,
i + 1)``, derived from ``SeedSequence(s)``; every random number of the run comes from that seed's
own stream. Runs are simulated in chunks (many worlds of one ``EscalationModel`` at once) and
reassembled in order; since a run never depends on the other runs of its chunk, the results are
identical for any number of workers and any chunk size, and an ensemble extended with more runs
starts with exactly the runs it had. ``story --seed`` replays any run from its seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import itertools
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import outcomes as catalogue
from sim.analysis import statistics as analysis
from sim.experiments import execution
from sim.files.folders import versions
from sim.inputs import arguments
from sim.inputs.arguments import SEED_MAX, whole
from sim.model import uncertainty
from sim.model.model import EscalationModel
from sim.model.record import Batch
from sim.model.scenario import LIMITS, Scenario
from sim.model.streams import run_seeds

CHUNK_RUNS = 65536
"""Most runs per task (worlds of one model): numpy pays best on large arrays, and memory stays
bounded (about 100 MB a task). Results do not depend on the chunk size."""


def chunk_size(runs: int, workers: int) -> int:
    """Equal chunks, as few as the limit allows, and as many per worker: every worker then
    has the same work, and each chunk is as large as it can be."""
    per_worker = math.ceil(runs / (workers * CHUNK_RUNS))
    return max(1, math.ceil(runs / (workers * per_worker)))


def simulate(scenario: Scenario, seeds: np.ndarray) -> Batch:
    """Run one chunk of runs, all at once as the worlds of one model: one model per parameter set
    when some of the scenario's numbers are uncertain (``sim.model.uncertainty.resolved``); the
    ``Batch`` in run order."""
    batches, positions = [], []
    for concrete, rows, number in uncertainty.resolved(scenario, seeds):
        model = EscalationModel(concrete, seeds[rows])
        model.run()
        batch = model.batch()
        # free its arrays now, so a worker's memory does not grow chunk after chunk
        model.release()
        if number >= 0:
            batch = dataclasses.replace(
                batch, parameter_set=np.full(rows.size, number, dtype=np.int64)
            )
        batches.append(batch)
        positions.append(rows)
    if len(batches) == 1:
        return batches[0]
    order = np.argsort(np.concatenate(positions), kind="stable")
    return Batch.concatenate(batches).take(order)


LARGE_TABLE = 1_000_000_000
"""A runs table bigger than this (bytes of CSV) is announced before the runs start."""

SAMPLE_RUNS = 64
"""Runs simulated to measure the bytes of one run's row (``runs_csv_bytes``)."""


def runs_csv_bytes(scenario: Scenario, runs: int) -> int:
    """About how many bytes ``runs.csv`` will take for ``runs`` runs of ``scenario``: the CSV
    bytes of the rows of its first ``SAMPLE_RUNS`` runs, scaled, with the run numbers' digits
    counted exactly (the other cells differ little in length from row to row)."""
    sample = min(SAMPLE_RUNS, runs)
    batch = simulate(scenario, run_seeds(scenario.seed, 0, sample))
    rows = analysis.runs_table(batch, scenario).to_csv(index=False)
    header = len(rows.split("\n", 1)[0]) + 1

    def digits(n: int) -> int:  # the digits of the run numbers 0 to n - 1
        return n + sum(max(0, n - 10**k) for k in range(1, len(str(n))))

    per_row = (len(rows) - header - digits(sample)) / sample
    return int(header + per_row * runs + digits(runs))


MAX_TARGET_RUNS = 1_000_000
"""The most runs ``--target-halfwidth`` adds up to (``run_ensemble``'s default ``max_runs``)."""


@dataclass
class Ensemble:
    """The result of ``run_ensemble``: tables ready for pandas, and how they were made.

    With ``run_ensemble(..., outcomes=[...])`` the summary holds just those outcomes and
    ``curves`` and ``occupancy`` are empty.
    """

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

    @property
    def estimates(self) -> dict[str, tuple[float, float, float]]:
        """Each outcome of the summary by name: (estimate, 95% low, 95% high)."""
        table = self.summary
        columns = [
            table[c].to_numpy(dtype=float).tolist() for c in ("estimate", "ci_low", "ci_high")
        ]
        return {
            str(name): (estimate, low, high)
            for name, estimate, low, high in zip(table["outcome"], *columns, strict=True)
        }


def _chunks(start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
    for first in range(start, stop, size):
        yield first, min(first + size, stop)


def _simulate_task(task: tuple[int, Scenario, int, int, int]) -> tuple[int, Batch]:
    """One chunk; the worker derives its runs' seeds itself, so a large ensemble starts at once."""
    index, scenario, seed, start, stop = task
    return index, simulate(scenario, run_seeds(seed, start, stop))


def _simulate_runs(
    pool: Executor,
    scenario: Scenario,
    seed: int,
    runs: range,
    size: int,
    bar: Any,
    kept: list[Batch],
) -> None:
    """Simulate ``runs`` in chunks of ``size`` and append their batches to ``kept`` in order.

    On Ctrl-C the leading chunks that finished are appended before ``Interrupted`` goes on, so
    an interrupted ensemble is always its first runs.
    """
    tasks = [
        (index, scenario, seed, a, b)
        for index, (a, b) in enumerate(_chunks(runs.start, runs.stop, size))
    ]
    finished: dict[int, Batch] = {}

    def keep(task: tuple[int, Scenario, int, int, int], future: Future[tuple[int, Batch]]) -> None:
        index, batch = future.result()
        finished[index] = batch
        bar.update(batch.runs)

    try:
        execution.run_tasks(pool, _simulate_task, tasks, keep)
    finally:
        kept += [finished[i] for i in itertools.takewhile(finished.__contains__, range(len(tasks)))]


def _chosen(scenario: Scenario, names: Sequence[str] | None) -> list[catalogue.Outcome]:
    if names is None:
        return catalogue.for_scenario(scenario)
    states = list(scenario.actors)
    labels = {state: config.name for state, config in scenario.actors.items()}
    return [
        catalogue.outcome(name, scenario.horizon, scenario.ladder.war, states, labels)
        for name in names
    ]


def runs_to_reach(done: int, widest: float, target: float, cap: int) -> int | None:
    """Runs after which the widest 95% CI half-width should be within ``target``, or None when
    it is already, or ``done`` has reached ``cap``.

    A half-width shrinks as one over the square root of the runs; 5% more than that estimate
    makes one more round rarely needed. Used for one ensemble's probabilities and for the
    differences of a comparison alike.
    """
    if widest <= target or done >= cap:
        return None
    needed = math.ceil(done * (widest / target) ** 2 * 1.05)
    return min(max(needed, done + 1), cap)


def widest_difference(ensembles: Sequence[Ensemble]) -> float:
    """The widest 95% CI half-width of the probability differences of a comparison (the first
    ensemble is the reference)."""
    scenario = ensembles[0].scenario
    table = analysis.compare_runs(
        pd.concat([e.runs for e in ensembles]), catalogue.for_scenario(scenario), scenario.horizon
    )
    probabilities = table[table["kind"] == "probability"]
    return float(((probabilities["ci_high"] - probabilities["ci_low"]) / 2).max())


def run_ensemble(
    scenario: Scenario | str | os.PathLike[str],
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    target_halfwidth: float | None = None,
    progress: bool = False,
    max_runs: int | None = None,
    chunk: int | None = None,
    outcomes: Sequence[str] | None = None,
    pool: Executor | None = None,
) -> Ensemble:
    """Run an ensemble of a scenario (or of a scenario file's path) and return its tables; no
    files are written (see ``sim.files.results``).

    ``runs`` and ``seed`` default to the scenario's. ``workers`` defaults to 1: the runs are
    simulated in this process, which works anywhere, a process pool's worker included (the
    command line uses every core); more start a pool of processes (capped at the work there is
    and 4 per core), or ``pool`` runs them on an executor the caller made
    (``sim.experiments.execution.executor``, a Dask client's). Results are the same for any.

    With ``target_halfwidth``, runs are added in rounds until every summary probability's 95%
    interval is at most that wide on each side, or ``max_runs`` (default ``MAX_TARGET_RUNS``)
    is reached; ``metadata["target_met"]`` says which. ``outcomes`` names the outcomes to
    estimate (``python run.py outcomes``); given, only they are summarised and the curves and
    occupancy tables are skipped, which suits many quick calls in a loop (``.estimates``).
    Ctrl-C returns the first runs that finished, marked ``interrupted``. ``chunk`` fixes the
    runs per task (default: ``chunk_size``); results are the same for any.
    """
    scenario = arguments.scenario("scenario", scenario, "run_ensemble")
    runs = whole("runs", scenario.runs if runs is None else runs, 1, LIMITS["runs"])
    seed = whole("seed", scenario.seed if seed is None else seed, 0, SEED_MAX)
    workers = whole("workers", 1 if workers is None else workers, 1, 4096)
    max_runs = whole("max_runs", MAX_TARGET_RUNS if max_runs is None else max_runs, 1)
    if chunk is not None:
        chunk = whole("chunk", chunk, 1)
    if target_halfwidth is not None:
        target_halfwidth = arguments.number(
            "target_halfwidth", target_halfwidth, 0, 0.5, above=True
        )
    progress = arguments.flag("progress", progress)
    if pool is not None and not callable(getattr(pool, "submit", None)):
        raise TypeError(f"pool must be an executor (with submit), got {type(pool).__name__}")
    if outcomes is not None:
        outcomes = arguments.names("outcomes", outcomes, "outcome names")
        if not outcomes:
            raise ValueError("outcomes must name at least one outcome, or be None for all")
    chosen = _chosen(scenario, outcomes)
    started = datetime.datetime.now(datetime.UTC)
    clock = time.perf_counter()
    tasks = None
    if target_halfwidth is None:
        tasks = math.ceil(runs / (chunk or chunk_size(runs, execution.cap_workers(workers, runs))))
    used = workers if pool is not None else execution.cap_workers(workers, tasks)
    batches: list[Batch] = []
    interrupted = False
    target_met = None
    bar = execution.progress_bar(runs, enabled=progress, desc=scenario.name)
    try:
        with (
            contextlib.nullcontext(pool)
            if pool is not None
            else execution.executor(workers, tasks=tasks) as ex
        ):
            goal = runs
            while True:
                done_runs = sum(b.runs for b in batches)
                size = chunk or chunk_size(goal - done_runs, used)
                todo = range(done_runs, goal)
                _simulate_runs(ex, scenario, seed, todo, size, bar, batches)
                done_runs = goal
                if target_halfwidth is None:
                    break
                table = analysis.runs_table(Batch.concatenate(batches), scenario)
                widest = analysis.max_halfwidth(analysis.summarize(table, chosen))
                target_met = widest <= target_halfwidth
                more = runs_to_reach(done_runs, widest, target_halfwidth, max_runs)
                if more is None:
                    break
                goal = more
                bar.total = goal
                bar.refresh()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
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
            "target_met": None if interrupted else target_met,
            "workers": used,
            "interrupted": interrupted,
            "command": sys.argv,
            "started": started.isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - clock, 3),
            "versions": versions(),
        },
        outcomes=outcomes,
    )


def build_ensemble(
    scenario: Scenario,
    batch: Batch,
    seed: int,
    metadata: dict[str, Any],
    outcomes: Sequence[str] | None = None,
) -> Ensemble:
    """Tables of a finished batch; the scenario, fully resolved, goes into the metadata.

    With ``outcomes``, only those are summarised and the curves and occupancy are left empty.
    """
    runs = analysis.runs_table(batch, scenario)
    summary = analysis.summarize(runs, _chosen(scenario, outcomes))
    metadata = {
        **metadata,
        "halfwidth_reached": analysis.max_halfwidth(summary),
        "scenario": scenario.model_dump(mode="json"),
    }
    whole = outcomes is None
    return Ensemble(
        scenario=scenario,
        batch=batch,
        runs=runs,
        curves=analysis.curves_table(runs, scenario.horizon) if whole else pd.DataFrame(),
        occupancy=analysis.occupancy_table(batch, scenario) if whole else pd.DataFrame(),
        summary=summary,
        metadata=metadata,
    )


@dataclass(frozen=True)
class PointEvaluator:
    """Evaluates one sweep point: an ensemble of the scenario with the point's overrides.

    It carries the scenario as a merged mapping rather than a file name, so workers on another
    machine (Dask) need no copy of the scenario files; each point runs on one core (the sweep
    spreads points over the cores) and estimates only the outcomes the sweep records.
    """

    scenario: dict[str, Any]
    outcomes: tuple[str, ...]
    source: str = "scenario"

    def __call__(
        self, overrides: dict[str, Any], runs: int, seed_seq: np.random.SeedSequence
    ) -> dict[str, tuple[float, float, float]]:
        from sim.inputs.loader import scenario_from_mapping

        scenario = scenario_from_mapping(self.scenario, overrides, self.source)
        seed = int(seed_seq.generate_state(1, np.uint64)[0] >> 1)
        ensemble = run_ensemble(scenario, runs=runs, seed=seed, outcomes=self.outcomes or None)
        if ensemble.interrupted:  # Ctrl-C within the point: its first runs are not its result
            raise KeyboardInterrupt
        return ensemble.estimates
