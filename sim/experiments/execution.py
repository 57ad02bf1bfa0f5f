"""Where work executes: one executor interface and one Ctrl-C policy for ensembles, sweeps and
calibration.

* :func:`executor` gives a standard :class:`concurrent.futures.Executor`: the calling process
  itself for one worker (so the Python API works inside anyone else's process pool), a local
  process pool, or a Dask cluster (``dask.distributed``'s own ``Executor`` of a client), so the
  code that submits work is the same for all three.
* :func:`run_tasks` submits tasks to it a few at a time and hands each result back in the calling
  thread. Ctrl-C is noticed within a fraction of a second, even while a long task runs: no more
  tasks are submitted, every task that had finished is still handed back (so it can be kept),
  and :class:`Interrupted` is raised; leaving the ``with executor(...)`` block on it stops the
  workers at once.
* Workers ignore Ctrl-C (the parent stops them) and die with their parent, even when the parent
  is killed outright (on Linux, by the kernel's parent-death signal).
* :func:`progress_bar` is the one progress bar (tqdm, on stderr): rates and time left are tqdm's.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # loaded when first used: the command line starts without them
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

log = logging.getLogger(__name__)

WORKERS_PER_CORE = 4
"""The most worker processes per core: more only adds start-up time and memory."""
POLL_SECONDS = 0.2
"""How often a wait for results looks for a Ctrl-C that arrived while results were handled."""


class ExecutorError(ValueError):
    """An executor that cannot be used (a Dask scheduler that cannot be reached, say)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the work; every task that had finished was handed back first."""


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cap_workers(requested: int, tasks: int | None = None) -> int:
    """Processes worth starting: never more than there are tasks, nor than 4 per core."""
    if requested < 1:
        raise ValueError(f"workers must be at least 1, got {requested}")
    most = (os.cpu_count() or 1) * WORKERS_PER_CORE
    return min(requested, most, requested if tasks is None else max(1, tasks))


def _say_capped(requested: int, used: int, tasks: int | None) -> None:
    if used < requested:
        if tasks is not None and used == max(1, tasks):
            why = "there is only 1 task" if used == 1 else f"there are only {used:,} tasks"
        else:
            why = f"at most {WORKERS_PER_CORE} per core, on {os.cpu_count()} cores"
        processes = "1 worker process" if used == 1 else f"{used} worker processes"
        log.info("using %s rather than %d: %s", processes, requested, why)


def capacity(pool: Executor) -> int:
    """How many tasks ``pool`` runs at once (1 when unknown)."""
    from concurrent.futures import ProcessPoolExecutor

    if isinstance(pool, ProcessPoolExecutor):
        return int(getattr(pool, "_max_workers", 1))
    client = getattr(pool, "_client", None)  # a Dask client's executor
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return 1


def worker_init() -> None:
    """Run in every worker as it starts: leave Ctrl-C to the parent; die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the line above: go now
            os._exit(1)


def worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: ready to run at once wherever that is safe.

    On Linux they are forked from this process, which has already imported the model, as long as
    it has no other threads yet (forking a threaded process can deadlock); elsewhere a fork server
    imports the model once (spawn, on Windows).
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload(["sim.experiments.ensemble"])
        return forkserver
    return multiprocessing.get_context("spawn")


class InlineExecutor(Executor):
    """Runs each task in the calling process as it is submitted: no processes to start, so it
    is quick for small jobs and works where a process may not have children (a pool's worker)."""

    def submit[R](self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(error)
        return future


@contextlib.contextmanager
def executor(
    workers: int = 1,
    scheduler: str | None = None,
    *,
    kind: Literal["local", "dask"] | None = None,
    tasks: int | None = None,
    connect_timeout: float = 5.0,
) -> Iterator[Executor]:
    """A ``concurrent.futures.Executor`` for the ``with`` block; stopped at its end.

    ``kind="local"`` (the default without ``scheduler``): the calling process for one worker,
    else a pool of ``workers`` processes. ``kind="dask"`` (the default with ``scheduler``): the
    Dask scheduler at ``scheduler`` (``tcp://host:port``), or a local Dask cluster of ``workers``
    processes without one. ``tasks``, when known, caps the processes started (see
    :func:`cap_workers`). Leaving the block by an exception (Ctrl-C included) cancels what is
    still queued and stops the workers at once; otherwise it waits for submitted tasks.
    Raises :class:`ExecutorError` when the Dask scheduler cannot be reached or used.

        with executor(workers=4) as pool:
            run_tasks(pool, simulate, chunks, on_done=keep)
    """
    kind = kind or ("dask" if scheduler is not None else "local")
    if kind not in ("local", "dask"):
        raise ExecutorError(f"executor {kind!r} is unknown; expected local or dask")
    if kind == "local" and scheduler is not None:
        raise ExecutorError("a scheduler address is only used with the dask executor")
    used = cap_workers(workers, tasks)
    if scheduler is None:  # processes this one starts (a running cluster has its own)
        _say_capped(workers, used, tasks)
    if kind == "dask":
        with _dask(used, scheduler, connect_timeout) as pool:
            yield pool
        return
    if used == 1:
        yield InlineExecutor()
        return
    from concurrent.futures import ProcessPoolExecutor

    local = ProcessPoolExecutor(used, mp_context=worker_context(), initializer=worker_init)
    try:
        yield local
    except BaseException:
        _stop_pool(local)
        raise
    local.shutdown(wait=True)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and end the workers now (their tasks in flight are lost)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # Python 3.12-3.13 have no public way to stop busy workers: end the processes directly
    # (shutdown forgets them), then let the pool's manager thread see them gone and finish.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()
    if manager is not None:
        # a worker killed while sending a result can leave the manager reading a message that
        # never ends: wait a while, then let the program end without it (see abandoned_threads)
        manager.join(timeout=STOP_TIMEOUT)
        if manager.is_alive():
            _ABANDONED.append(manager)


STOP_TIMEOUT = 10.0
"""Seconds to wait for a stopped pool's manager thread."""
_ABANDONED: list[Any] = []


def abandoned_threads() -> bool:
    """Whether a stopped pool left a thread that would keep the interpreter from exiting; the
    command line then ends the process at once, once everything is saved and said."""
    return any(thread.is_alive() for thread in _ABANDONED)


@contextlib.contextmanager
def _dask(workers: int, scheduler: str | None, connect_timeout: float) -> Iterator[Executor]:
    """An executor on a Dask cluster; Dask's own log lines stay out of the user's terminal."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError(
            "the dask executor needs the optional extra: pip install -e '.[dask]' "
            "(that is, dask[distributed])"
        ) from None
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # workers' tracebacks on shutdown would precede our message
    cluster: Any = None
    client: Any = None
    try:
        if scheduler is None:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # its HTTP server starts anyway: any free port
                silence_logs=logging.CRITICAL,
                preload=[__name__],  # dask_setup below, in every worker
            )
            client = Client(cluster, set_as_default=False)
        else:
            _probe(scheduler, connect_timeout)
            try:
                client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
            except Exception as error:  # noqa: BLE001 - whatever Dask raises, say it in one line
                raise ExecutorError(
                    f"cannot use the Dask scheduler at {scheduler}: {_one_line(error)}"
                ) from None
        try:
            client.wait_for_workers(1, timeout=connect_timeout)
        except (OSError, TimeoutError):
            raise ExecutorError(
                f"the Dask scheduler at {scheduler or 'the local cluster'} has no workers "
                f"(waited {connect_timeout:g} s); start some with: dask worker ADDRESS"
            ) from None
        pool = client.get_executor(pure=False)
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=False)  # cancels every task still queued or running
            raise
        pool.shutdown(wait=True)
    finally:
        for closing in (client, cluster):
            if closing is not None:
                with contextlib.suppress(Exception):
                    closing.close()
        quiet.setLevel(level)


def dask_setup(worker: Any) -> None:
    """Run by every worker of a local Dask cluster as it starts (a Dask preload): Ctrl-C in the
    terminal reaches the workers too, and is the parent's to handle; a worker that took it would
    print its own traceback above the parent's message."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _probe(scheduler: str, timeout: float) -> None:
    """Refuse an address that is malformed, unreachable or not a Dask scheduler, within
    ``timeout`` seconds, before a ``Client`` exists (a failed one prints tracebacks at exit)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect

    async def handshake() -> None:
        comm = await connect(scheduler, timeout=timeout)
        await comm.close()

    try:
        # in a thread of its own: the caller's thread may already run an event loop (Jupyter)
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, asyncio.wait_for(handshake(), timeout + 0.5)).result()
    except TimeoutError:
        raise ExecutorError(
            f"no Dask scheduler answered at {scheduler} within {timeout:g} s; check the address "
            "(such as tcp://127.0.0.1:8786) and that the scheduler is running"
        ) from None
    except Exception as error:  # noqa: BLE001 - a malformed address, a refused or garbled reply
        raise ExecutorError(
            f"cannot reach a Dask scheduler at {scheduler} ({_one_line(error)}); expected the "
            "address of a running scheduler, such as tcp://127.0.0.1:8786"
        ) from None


def _one_line(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _CtrlC:
    """Turns Ctrl-C into a request that the task loop honours at a safe point.

    Inside :meth:`interruptible` (waiting for results, or running a task inline) Ctrl-C raises
    ``KeyboardInterrupt`` at once; elsewhere (handing a result back, say, while it is stored) it
    is only noted, and the loop stops right after. Installed only in the main thread, and only
    over Python's default handler, so a program with its own SIGINT handling keeps it.
    """

    def __init__(self) -> None:
        self.requested = False
        self.depth = 0
        self.previous: Any = None

    def __enter__(self) -> _CtrlC:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        if self.depth:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        if self.requested:
            raise KeyboardInterrupt
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1


def run_tasks[T, R](
    pool: Executor,
    fn: Callable[[T], R],
    tasks: Iterable[T],
    on_done: Callable[[T, Future[R]], None],
    *,
    window: int | None = None,
) -> None:
    """Run ``fn(task)`` for every task on ``pool``, at most ``window`` at a time (default:
    twice what the pool runs at once, so no worker waits; one at a time inline).

    ``on_done(task, future)`` is called in this thread as each finishes (``future.result()``
    then returns at once, or raises the task's exception). On Ctrl-C nothing more is submitted,
    queued tasks are cancelled, ``on_done`` still gets every task that had finished, and
    :class:`Interrupted` is raised.
    """
    inline = isinstance(pool, InlineExecutor)
    window = 1 if inline else window or 2 * capacity(pool)
    todo = iter(tasks)
    pending: dict[Future[R], T] = {}
    with _CtrlC() as ctrl_c:
        try:
            while True:
                # an inline task runs inside submit: let Ctrl-C stop it there
                with ctrl_c.interruptible() if inline else contextlib.nullcontext():
                    while len(pending) < window and not ctrl_c.requested:
                        try:
                            task = next(todo)
                        except StopIteration:
                            break
                        pending[pool.submit(fn, task)] = task
                if not pending:
                    return
                with ctrl_c.interruptible():
                    done, _ = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in [f for f in pending if f in done]:  # in the order submitted
                    on_done(pending.pop(future), future)
                if ctrl_c.requested:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            for future in pending:
                future.cancel()
            for future, task in pending.items():
                if future.done() and not future.cancelled():
                    on_done(task, future)
            raise Interrupted from None


def progress_bar(
    total: int, *, enabled: bool, unit: str = "run", desc: str | None = None, initial: int = 0
) -> tqdm:
    """The progress bar of every long job, on stderr: done, rate and time left (tqdm's).

    The command line enables it only on a terminal and without ``-q``.
    """
    return _bar_class()(
        total=total,
        initial=initial,
        unit=unit,
        desc=desc,
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
    )


@functools.cache
def _bar_class() -> type[tqdm]:
    from tqdm import tqdm

    class Bar(tqdm):
        # no monitor thread: worker processes are forked, and a threaded process must not fork
        monitor_interval = 0

    return Bar
