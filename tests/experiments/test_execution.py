"""One executor interface and one Ctrl-C policy for ensembles, sweeps and calibration."""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor

import pytest

from sim.experiments import execution
from sim.experiments.execution import (
    ExecutorError,
    InlineExecutor,
    Interrupted,
    cap_workers,
    run_tasks,
)


def square(x: int) -> int:
    if x == 13:
        raise ValueError("unlucky")
    return x * x


def collect(into: dict[int, int]):
    def on_done(task: int, future: Future[int]) -> None:
        into[task] = future.result()

    return on_done


def test_one_worker_runs_in_this_process_and_more_in_a_pool() -> None:
    with execution.executor() as pool:
        assert isinstance(pool, InlineExecutor)
        done: dict[int, int] = {}
        run_tasks(pool, square, range(5), collect(done))
        assert done == {0: 0, 1: 1, 2: 4, 3: 9, 4: 16}
    with execution.executor(workers=2, tasks=10) as pool:
        assert isinstance(pool, ProcessPoolExecutor) and isinstance(pool, Executor)
        done = {}
        run_tasks(pool, square, range(10), collect(done))
        assert done == {x: x * x for x in range(10)}


def test_a_task_error_reaches_the_caller_through_its_future() -> None:
    failed: list[str] = []

    def on_done(task: int, future: Future[int]) -> None:
        if future.exception() is not None:
            failed.append(f"{task}: {future.exception()}")

    with execution.executor() as pool:
        run_tasks(pool, square, [12, 13, 14], on_done)
    assert failed == ["13: unlucky"]


def test_ctrl_c_inline_hands_back_what_finished_then_stops() -> None:
    def interrupted_at_three(x: int) -> int:
        if x == 3:
            raise KeyboardInterrupt
        return x

    done: dict[int, int] = {}
    with pytest.raises(Interrupted), execution.executor() as pool:
        run_tasks(pool, interrupted_at_three, range(10), collect(done))
    assert done == {0: 0, 1: 1, 2: 2}


def test_workers_are_capped_by_the_work_and_the_cores(monkeypatch, caplog) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert cap_workers(1000, 10) == 8  # 4 per core
    assert cap_workers(1000, 3) == 3  # one per task
    assert cap_workers(2, 10) == 2
    assert cap_workers(4) == 4
    assert cap_workers(3, 0) == 1
    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        cap_workers(0)
    caplog.set_level(logging.INFO, logger="sim")
    with execution.executor(workers=1000, tasks=1) as pool:
        assert isinstance(pool, InlineExecutor)  # one task: nothing to start
    with execution.executor(workers=1000, tasks=2):
        pass
    assert caplog.messages == [
        "using 1 worker process rather than 1000: there is only 1 task",
        "using 2 worker processes rather than 1000: there are only 2 tasks",
    ]


def test_bad_executor_choices_are_refused() -> None:
    with pytest.raises(ExecutorError, match="executor 'ray' is unknown; expected local or dask"):
        with execution.executor(kind="ray"):  # type: ignore[arg-type]
            pass
    with pytest.raises(ExecutorError, match="a scheduler address is only used with the dask"):
        with execution.executor(scheduler="tcp://127.0.0.1:1", kind="local"):
            pass


@pytest.mark.parametrize(
    "address, message",
    [
        ("garbage", "cannot reach a Dask scheduler at garbage (missing port number in address "),
        ("http://example.org:80", "cannot reach a Dask scheduler at http://example.org:80 "),
    ],
)
def test_a_malformed_scheduler_address_is_one_sentence(address: str, message: str) -> None:
    pytest.importorskip("distributed")
    with pytest.raises(ExecutorError) as caught:
        with execution.executor(scheduler=address, connect_timeout=1):
            pass
    assert str(caught.value).startswith(message)
    assert str(caught.value).endswith(
        "expected the address of a running scheduler, such as tcp://127.0.0.1:8786"
    )


def test_progress_bar_is_tqdm_on_stderr_and_silent_when_disabled(capsys) -> None:
    with execution.progress_bar(10, enabled=True, unit="run", desc="demo") as bar:
        bar.update(10)
    assert "demo: 100%" in capsys.readouterr().err and bar.monitor_interval == 0
    with execution.progress_bar(10, enabled=False) as bar:
        bar.update(10)
    assert capsys.readouterr().err == ""
