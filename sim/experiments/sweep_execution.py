"""How a sweep runs: each design point evaluated on an executor, stored as it finishes.

The machinery is model-independent: it drives an *evaluate* callable

    evaluate(overrides, runs, seed_seq) -> {outcome: (estimate, ci_low, ci_high)}

where ``overrides`` maps scenario key paths (``"actors.pakistan.audience_cost"``) to values.
The callable must be picklable (a module-level function, a ``functools.partial`` of one, or
``sim.experiments.ensemble.PointEvaluator``) so it can run in a process pool or on Dask. Points run on
``sim.experiments.execution.executor`` (inline, a local process pool, or Dask) under its Ctrl-C policy:
Ctrl-C stops the sweep within a fraction of a second, every point that had finished is stored,
and ``sweep.csv`` and ``metadata.json`` are written from the store before the interrupt goes on.
A point whose evaluate raises is stored with ``"Type: message"`` (and its traceback) and the
sweep goes on; a rerun does not retry it unless ``retry_errors=True``.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sim.experiments import execution
from sim.experiments.axes import SweepError, Value
from sim.experiments.designs import point_seed
from sim.experiments.sweep_definition import SweepDefinition, positive_int
from sim.experiments.sweep_store import (
    CSV_NAME,
    METADATA_NAME,
    STORE_NAME,
    Outcomes,
    PointResult,
    SweepStore,
    export_csv,
    now,
    params_json,
)
from sim.files.folders import disk_reason, write_json
from sim.inputs import arguments

log = logging.getLogger(__name__)

EvaluateFn = Callable[
    [dict[str, Value], int, np.random.SeedSequence], Mapping[str, Sequence[float]]
]
Task = tuple[int, dict[str, Value]]


def _one_line(text: str, limit: int = 2000) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _normalise_outcomes(raw: object, wanted: Sequence[str]) -> Outcomes:
    if not isinstance(raw, Mapping):
        raise TypeError(
            "evaluate must return a mapping of outcome -> (estimate, low, high), "
            f"got {type(raw).__name__}"
        )
    out: Outcomes = {}
    for name, triple in raw.items():
        try:
            est, lo, hi = (float(x) for x in triple)
        except (TypeError, ValueError):
            raise TypeError(
                f"outcome {name!r}: expected (estimate, low, high), got {triple!r}"
            ) from None
        out[str(name)] = (est, lo, hi)
    missing = [w for w in wanted if w not in out]
    if missing:
        raise KeyError(
            f"evaluate returned no outcome {missing[0]!r} (has: {', '.join(sorted(out))})"
        )
    return out


def evaluate_point(
    evaluate: EvaluateFn,
    index: int,
    overrides: dict[str, Value],
    runs: int,
    sweep_seed: int,
    outcomes: Sequence[str] = (),
) -> PointResult:
    """Evaluate point ``index`` with its own seed; an exception becomes a recorded error.

    Module-level so process pools and Dask can ship it.
    """
    t0 = time.perf_counter()
    try:
        raw = evaluate(dict(overrides), runs, point_seed(sweep_seed, index))
        res = _normalise_outcomes(raw, outcomes)
    except Exception as e:  # noqa: BLE001 - a failing point is data; the sweep goes on
        return PointResult(
            index,
            overrides,
            None,
            runs,
            error=_one_line(f"{type(e).__name__}: {e}"),
            traceback=traceback.format_exc(),
            elapsed_s=time.perf_counter() - t0,
        )
    return PointResult(index, overrides, res, runs, elapsed_s=time.perf_counter() - t0)


def _evaluate_task(
    evaluate: EvaluateFn, runs: int, seed: int, outcomes: tuple[str, ...], task: Task
) -> PointResult:
    return evaluate_point(evaluate, task[0], task[1], runs, seed, outcomes)


@dataclass(frozen=True)
class SweepSummary:
    """What a :func:`run_sweep` call did."""

    out_dir: Path
    definition_hash: str
    total: int
    skipped: int
    evaluated: int
    failed: int
    finished: int
    elapsed_s: float
    csv_path: Path

    @property
    def complete(self) -> bool:
        """True when every design point has a stored result (possibly an error)."""
        return self.finished == self.total

    def message(self) -> str:
        """One line for the CLI."""
        parts = [f"{self.finished}/{self.total} points stored in {self.out_dir}"]
        if self.skipped:
            parts.append(f"{self.skipped} already finished (skipped)")
        parts.append(f"{self.evaluated} evaluated in {self.elapsed_s:.1f} s")
        if self.failed:
            parts.append(f"{self.failed} failed (see the error column of {CSV_NAME})")
        return "; ".join(parts)


def _check_executor_args(kind: str, workers: int, scheduler: str | None) -> None:
    positive_int("workers", workers)
    if kind not in ("local", "dask"):
        raise SweepError(f"executor {kind!r} is unknown; expected local or dask")
    if kind == "local" and scheduler is not None:
        raise SweepError("--scheduler is only used with --executor dask")


def run_sweep(
    definition: SweepDefinition,
    evaluate: EvaluateFn,
    out_dir: str | os.PathLike[str],
    *,
    executor: Literal["local", "dask"] = "local",
    workers: int = 1,
    scheduler: str | None = None,
    connect_timeout: float = 5.0,
    force: bool = False,
    retry_errors: bool = False,
    progress: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> SweepSummary:
    """Run (or resume) a sweep into ``out_dir``; return a summary.

    Points already stored are skipped (errors too, unless ``retry_errors``).
    ``executor="local"`` runs inline for one worker and in a process pool of ``workers``
    otherwise (never more processes than points to evaluate, nor 4 per core);
    ``executor="dask"`` submits to ``scheduler`` (``tcp://host:port``), or to a LocalCluster
    of ``workers`` processes when no scheduler is given. ``progress`` shows a bar on stderr.
    ``metadata`` is merged into ``metadata.json`` (e.g. the scenario file). Writes ``sweep.csv``
    and ``metadata.json`` at the end, and also when interrupted (Ctrl-C), so the CSV always
    reflects what is stored. Bad input, an unusable folder or executor: ``SweepError``.
    """
    if not isinstance(definition, SweepDefinition):
        raise TypeError(f"definition must be a SweepDefinition, got {type(definition).__name__}")
    if not callable(evaluate):
        raise TypeError(
            f"evaluate must be a function of (overrides, runs, seed_seq), such as "
            f"sim.PointEvaluator, got {type(evaluate).__name__}"
        )
    out = arguments.path("out_dir", out_dir)
    if not isinstance(executor, str):
        raise TypeError(f"executor must be 'local' or 'dask', got {arguments.shown(executor)}")
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be an address (text), got {arguments.shown(scheduler)}")
    arguments.number("connect_timeout", connect_timeout, 0, above=True)
    for name, value in (("force", force), ("retry_errors", retry_errors), ("progress", progress)):
        arguments.flag(name, value)
    if metadata is not None and not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping, got {arguments.shown(metadata)}")
    _check_executor_args(executor, workers, scheduler)
    design = definition.points()  # deterministic
    total = len(design)
    started = now()

    # Refuse a foreign folder before connecting anything; opening takes the lock.
    store = SweepStore.open(out, definition, force=force)
    run = _Run(store, definition, out, total, started)
    how = {"executor": executor, "workers": workers, "scheduler": scheduler}
    bar = None
    try:
        stored = store.latest()
        for idx, sp in stored.items():
            if idx >= total or sp.params_json != params_json(design.points[idx]):
                raise SweepError(
                    f"stored point {idx} does not match this design's point {idx} "
                    "(were numpy/scipy/SALib upgraded?); use another --out or --force"
                )
        todo = [
            (i, design.points[i])
            for i in range(total)
            if i not in stored or (retry_errors and stored[i].error is not None)
        ]
        run.skipped = total - len(todo)
        bar = execution.progress_bar(
            total * definition.runs,
            enabled=progress,
            initial=run.skipped * definition.runs,  # not counted in the rate
            desc="sweep",
        )

        def keep(task: Task, future: Future[PointResult]) -> None:
            result = _result(future, task, definition.runs, executor)
            previous = stored.get(result.index)
            store.record(result, attempt=(previous.attempt + 1) if previous else 0)
            run.evaluated += 1
            bar.set_postfix_str(f"{run.skipped + run.evaluated}/{total} points", refresh=False)
            bar.update(definition.runs)

        evaluate_task = functools.partial(
            _evaluate_task, evaluate, definition.runs, definition.seed, definition.outcomes
        )
        if todo:
            # connected before the first point, so an unusable executor stores nothing
            with execution.executor(
                workers, scheduler, kind=executor, tasks=len(todo), connect_timeout=connect_timeout
            ) as pool:
                execution.run_tasks(pool, evaluate_task, todo, keep)
    except BaseException as error:
        if bar is not None:
            bar.close()
        if run.evaluated:
            run.finish(how, metadata, failing=True)
        else:  # the store is as it was: so are its exports
            store.close()
        if isinstance(error, execution.ExecutorError):
            raise SweepError(str(error)) from None
        if isinstance(error, BrokenProcessPool):
            raise SweepError(
                f"a worker process died ({error}); the finished points are stored: rerun the "
                "same command to resume"
            ) from None
        raise
    bar.close()
    return run.finish(how, metadata, failing=False)


def _result(future: Future[PointResult], task: Task, runs: int, executor: str) -> PointResult:
    """The point's result; a point that keeps killing Dask workers is recorded as its error."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise
    except Exception as error:
        if type(error).__name__ == "KilledWorker":  # distributed's, without importing it
            return PointResult(
                task[0], task[1], None, runs, error=_one_line(f"KilledWorker: {error}")
            )
        raise SweepError(
            f"the {executor} executor failed on point {task[0]} "
            f"({type(error).__name__}: {_one_line(str(error), 300)}); the finished points are "
            "stored: rerun the same command to resume"
        ) from None


class _Run:
    """One call of ``run_sweep``: what it found, what it did, and its closing export."""

    def __init__(
        self,
        store: SweepStore,
        definition: SweepDefinition,
        out: Path,
        total: int,
        started: str,
    ) -> None:
        self.store = store
        self.definition = definition
        self.out = out
        self.total = total
        self.skipped = 0
        self.started = started
        self.evaluated = 0
        self.clock = time.perf_counter()

    def finish(
        self, how: Mapping[str, Any], metadata: Mapping[str, Any] | None, *, failing: bool
    ) -> SweepSummary:
        """Export ``sweep.csv`` and ``metadata.json`` from the store, then release it.

        While another error is on its way (``failing``), a failed export is only noted, so
        that error is the one reported; the points stay in the store either way.
        """
        from sim.files.folders import versions

        try:
            latest = self.store.latest()
            summary = SweepSummary(
                out_dir=self.out,
                definition_hash=self.definition.hash(),
                total=self.total,
                skipped=self.skipped,
                evaluated=self.evaluated,
                failed=sum(1 for p in latest.values() if p.error is not None),
                finished=len(latest),
                elapsed_s=time.perf_counter() - self.clock,
                csv_path=self.out / CSV_NAME,
            )
            meta = {
                "kind": "sweep",
                "definition": self.definition.to_json(),
                "definition_hash": summary.definition_hash,
                "points": {
                    "total": self.total,
                    "finished": summary.finished,
                    "failed": summary.failed,
                },
                "last_run": {
                    "started_at": self.started,
                    "finished_at": now(),
                    **how,
                    "skipped": self.skipped,
                    "evaluated": self.evaluated,
                    "elapsed_s": round(summary.elapsed_s, 3),
                },
                "versions": versions("SALib", "distributed"),
                **dict(metadata or {}),
            }
            try:
                export_csv(self.out, self.store)
                write_json(meta, self.out / METADATA_NAME)
            except OSError as error:
                message = (
                    f"cannot write {CSV_NAME} and {METADATA_NAME} in {self.out} "
                    f"({disk_reason(error)}); the {summary.finished} finished points are kept in "
                    f"{STORE_NAME}: make room and rerun the same command to write them"
                )
                if not failing:
                    raise SweepError(message) from None
                log.warning("%s", message)
            return summary
        finally:
            self.store.close()
