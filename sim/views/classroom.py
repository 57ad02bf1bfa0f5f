"""The dashboard in a classroom: the limits that keep thirty pages on a teacher's laptop within
bounds, set once here and told in the README and ``run.py dashboard --help``.

- **Ensembles wait their turn.** At most ``ENSEMBLES_AT_ONCE`` ensembles (2; ``--ensembles``)
  run at once on the whole server, and each page one at a time. Up to ``WAITING_ROOM`` more
  wait, first come first served, each page told how many are ahead of it; a click beyond that,
  or a second click of a page whose ensemble has not finished, is refused with a sentence on
  the page. An ensemble is one thread while it waits or runs, so its threads are bounded too.
- **Pages left are culled.** A page closed (its tab, or the browser) ends at once; a page whose
  connection dropped keeps its state ``CULL_TIMEOUT`` (5 minutes: a laptop closed and opened
  again finds its run) and is then culled. It is Solara's ``kernel.cull_timeout``, 24 hours by
  default, set here unless ``SOLARA_KERNEL_CULL_TIMEOUT`` says otherwise.
- **Memory is returned.** When pages end, their memory is collected and handed back to the
  system (glibc's ``malloc_trim``): the server shrinks as the class leaves.
- **Nothing about the server is shown.** Solara's ``/resourcez`` (threads, pages, memory and CPU
  to anyone who asks, with no switch to turn it off) answers 404, and its close beacon
  ``POST /_solara/api/close/{kernel}`` answers 400 or 404, not an error 500, to a request it
  cannot use.

This module imports Solara only inside its functions, so the command line reads its limits
without the dashboard extra.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

ENSEMBLES_AT_ONCE = 2
"""Ensembles that run at once on the server by default: each takes one core for about a second
per 2,000 runs, and a teacher's laptop keeps the rest for the pages."""
WAITING_ROOM = 40
"""Ensembles that may wait for a turn: a class of thirty clicking at once waits, none refused."""
CULL_MINUTES = 5
"""How long a page whose connection dropped keeps its state before it is culled."""
CULL_TIMEOUT = f"{CULL_MINUTES}m"
MEMORY_PER_PAGE_MB = 10
"""The documented bound on the memory an open page adds to the server: its run, its widgets
and charts, its pinned and newest ensembles (5,000 runs: 1.5 MB of tables each). Measured: 5 MB
for a page, 6 with an ensemble of 2,000 runs (tests/views/test_classroom.py, thirty pages)."""
MEMORY_PER_ENSEMBLE_MB = 25
"""The bound on what an ensemble adds while it runs (5,000 runs: about 20 MB), beyond its page."""
MEMORY_KEPT_PER_PAGE_MB = 5
"""The bound on what the server keeps, once the pages have gone, for each page that was open:
memory Python's allocator holds for the next pages (measured: about 3.6 MB a page after
thirty, and no more after a second and a third class)."""
ENSEMBLES_VARIABLE = "ESCALATION_SIM_ENSEMBLES"
"""Environment variable by which ``run.py dashboard --ensembles`` tells the server its limit."""
LOG_VARIABLE = "ESCALATION_SIM_DASHBOARD_LOG"
"""Environment variable by which ``run.py dashboard -v`` asks for a line each time the pages or
the ensembles change: how many pages are open, how many ensembles run and wait."""
CULL_VARIABLE = "SOLARA_KERNEL_CULL_TIMEOUT"
"""Solara's own setting; when set, it is left as it is."""
MAX_ENSEMBLES_AT_ONCE = 64

LOG = logging.getLogger(__name__)


class Refused(Exception):
    """A click the server cannot take now; the message is for the page."""


class Abandoned(Exception):
    """The page closed while its ensemble waited for a turn: it never runs."""


@dataclass(eq=False)
class Ticket:
    """One ensemble admitted: waiting for a turn, then running."""

    page: object
    running: bool = False


class EnsembleGate:
    """The turns of the server's ensembles: ``at_once`` run, up to ``waiting_room`` wait in the
    order they came, one per page. ``admit`` is called on the click and refuses at once, so a
    refused click costs no thread; ``run`` is called in the thread that runs the ensemble."""

    def __init__(self, at_once: int, waiting_room: int = WAITING_ROOM) -> None:
        if not 1 <= at_once <= MAX_ENSEMBLES_AT_ONCE or not 0 <= waiting_room:
            raise ValueError(f"an ensemble gate needs 1 to {MAX_ENSEMBLES_AT_ONCE} at once")
        self.at_once = at_once
        self.waiting_room = waiting_room
        self._turn = threading.Condition()
        self._queue: deque[Ticket] = deque()
        self._running = 0
        self._pages: set[object] = set()

    def counts(self) -> tuple[int, int]:
        """How many ensembles run, and how many wait."""
        with self._turn:
            return self._running, len(self._queue)

    def admit(self, page: object) -> Ticket:
        """A place in the queue for ``page``'s ensemble, or ``Refused`` saying why not."""
        with self._turn:
            if page in self._pages:
                raise Refused(
                    "This page's ensemble has not finished yet: it shows here when it has, and "
                    "then Run ensemble runs another."
                )
            if len(self._queue) >= self.waiting_room:
                raise Refused(
                    f"The server is busy: {self._running} ensembles are running and "
                    f"{len(self._queue)} are waiting, as many as it takes. Press Run ensemble "
                    "again in a minute."
                )
            ticket = Ticket(page)
            self._pages.add(page)
            self._queue.append(ticket)
        say_status(self)
        return ticket

    def run[T](
        self,
        ticket: Ticket,
        work: Callable[[], T],
        waiting: Callable[[int], None] = lambda ahead: None,
        abandoned: Callable[[], bool] = lambda: False,
        poll: float = 0.5,
    ) -> T:
        """Wait for the ticket's turn, then do ``work`` and give the turn on. ``waiting`` is told
        how many ensembles are ahead (running or waiting) each time that changes, and 0 when the
        turn has come; ``abandoned`` is asked every ``poll`` seconds while waiting, and if it
        says the page has gone, the ensemble never runs (``Abandoned``)."""
        try:
            told: int | None = None
            while True:
                with self._turn:
                    if ticket not in self._queue:
                        raise RuntimeError("an ensemble's ticket is used once")
                    place = self._queue.index(ticket)
                    if place == 0 and self._running < self.at_once:
                        self._queue.popleft()
                        self._running += 1
                        ticket.running = True
                        break
                    ahead = self._running + place
                    if ahead == told:
                        if abandoned():
                            raise Abandoned("the page closed before its ensemble's turn")
                        self._turn.wait(poll)
                        continue
                waiting(ahead)  # outside the lock: the page redraws
                told = ahead
            say_status(self)
            waiting(0)
            return work()
        finally:
            with self._turn:
                if ticket.running:
                    self._running -= 1
                    ticket.running = False
                elif ticket in self._queue:
                    self._queue.remove(ticket)
                self._pages.discard(ticket.page)
                self._turn.notify_all()
            say_status(self)


def ensembles_at_once() -> int:
    """The limit ``run.py dashboard --ensembles`` gave, else ``ENSEMBLES_AT_ONCE``."""
    text = os.environ.get(ENSEMBLES_VARIABLE, "").strip()
    if not text:
        return ENSEMBLES_AT_ONCE
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_ENSEMBLES_AT_ONCE:
        raise ValueError(
            f"the environment variable {ENSEMBLES_VARIABLE} says how many ensembles the dashboard "
            f"runs at once: a whole number from 1 to {MAX_ENSEMBLES_AT_ONCE}, not {text!r}; "
            f"unset it for the default ({ENSEMBLES_AT_ONCE}) or use run.py dashboard --ensembles"
        )
    return value


_gate: EnsembleGate | None = None
_gate_lock = threading.Lock()


def gate() -> EnsembleGate:
    """The server's one gate, made on first use with the limit the server was started with."""
    global _gate
    with _gate_lock:
        if _gate is None:
            _gate = EnsembleGate(ensembles_at_once())
        return _gate


# ---------------------------------------------------------------------------- a page's ensembles


@dataclass(frozen=True)
class QueuedTask[T]:
    """A Solara task whose runs take their turn at the gate: called like the task (a button's
    ``on_click``), read like it (``pending``, ``finished``, ``value``, ...), and ``notice`` is
    what the page says about its turn (waiting, or refused), or None."""

    task: Any
    start: Callable[[], None]
    notice: tuple[str, str] | None

    def __call__(self) -> None:
        self.start()

    @property
    def pending(self) -> bool:
        return bool(self.task.pending)

    @property
    def finished(self) -> bool:
        return bool(self.task.finished)

    @property
    def error(self) -> bool:
        return bool(self.task.error)

    @property
    def exception(self) -> BaseException | None:
        return self.task.exception

    @property
    def value(self) -> T | None:
        return self.task.value


def waiting_words(ahead: int, at_once: int) -> str:
    """What a page says while its ensemble waits for a turn."""
    ensembles = "ensemble is" if ahead == 1 else "ensembles are"
    return (
        f"Waiting for a turn: {ahead} {ensembles} ahead of this one (the server runs "
        f"{at_once} at once). It starts by itself."
    )


def use_queued_task[T](work: Callable[[], T]) -> QueuedTask[T]:
    """A hook: ``work`` (an ensemble of the page's settings) run as a Solara task that takes its
    turn at the server's gate, at most one per page."""
    import solara
    import solara.lab

    notice = solara.use_reactive(cast(tuple[str, str] | None, None))
    page = solara.use_memo(object, dependencies=[])
    the_gate = gate()

    def run(ticket: Ticket, abandoned: Callable[[], bool]) -> T:
        def waiting(ahead: int) -> None:
            notice.set(("waiting", waiting_words(ahead, the_gate.at_once)) if ahead else None)

        try:
            return the_gate.run(ticket, work, waiting=waiting, abandoned=abandoned)
        finally:
            if not abandoned():
                notice.set(None)  # a refusal while it ran is stale now

    task = solara.lab.use_task(run, dependencies=None, raise_error=False)

    def start() -> None:
        try:
            ticket = the_gate.admit(page)
        except Refused as refused:
            notice.set(("refused", str(refused)))
            return
        notice.set(None)
        task(ticket, page_closed())

    return QueuedTask(task, start, notice.value)


def show_notice(task: QueuedTask[Any]) -> None:
    """The page's sentence about its ensemble's turn, if any (called inside a component)."""
    import solara

    if task.notice is None:
        return
    kind, words = task.notice
    if kind == "waiting":
        solara.Info(words, classes=["ensemble-queue"])
    else:
        solara.Warning(words, classes=["ensemble-refused"])


def page_closed() -> Callable[[], bool]:
    """Whether the page (Solara's kernel) this is called from has closed since."""
    try:
        from solara.server import kernel_context

        context = kernel_context.get_current_context()
    except Exception:  # not in a server (a test's render): a page that never closes
        return lambda: False
    return context.closed_event.is_set


# ---------------------------------------------------------------------------- the server


class _Census:
    """The pages open (Solara's kernels), counted as they start and end."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages = 0


CENSUS = _Census()


def say_status(ensembles: EnsembleGate | None = None) -> None:
    """One line on the pages and the ensembles, for ``run.py dashboard -v``."""
    running, waiting = (ensembles or gate()).counts()
    LOG.info(
        "classroom: %d pages open, %d ensembles running, %d waiting",
        CENSUS.pages,
        running,
        waiting,
    )


def _page_opened() -> Callable[[], None]:
    with CENSUS.lock:
        CENSUS.pages += 1
    say_status()

    def page_ended() -> None:
        with CENSUS.lock:
            CENSUS.pages -= 1
        say_status()
        JANITOR.due()

    return page_ended


class _Janitor:
    """Returns the memory of pages that ended to the system, once the closing has settled: a
    collection, then glibc's ``malloc_trim`` (elsewhere the collection only)."""

    SETTLE = 1.0
    """Seconds without a page ending before the memory is returned (a class leaves at once)."""

    def __init__(self) -> None:
        self._due = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.returned = 0

    def due(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="classroom-janitor")
                self._thread.daemon = True
                # Solara's threads carry the page they were started in: this one keeps none
                if hasattr(self._thread, "current_context"):
                    self._thread.current_context = None
                self._thread.start()
        self._due.set()

    def _loop(self) -> None:
        while True:
            self._due.wait()
            while self._due.wait(self.SETTLE):  # until the pages stop ending
                self._due.clear()
            self._due.clear()
            return_memory()
            self.returned += 1


JANITOR = _Janitor()


def return_memory() -> None:
    """Collect what ended pages left, and hand glibc's free memory back to the system."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if not sys.platform.startswith("linux") or name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)


def configure_server() -> None:
    """The classroom's settings for the server this module is loaded in: the cull timeout, the
    census of pages, the closed routes, and the log ``-v`` asks for. Loading again (Solara's
    reload) changes nothing."""
    import solara.lab
    import solara.server.settings
    from solara.server import kernel_context

    gate()  # a limit the server cannot use stops it here, before any page opens
    if not os.environ.get(CULL_VARIABLE):
        solara.server.settings.kernel.cull_timeout = CULL_TIMEOUT
    # one census, however many times the dashboard is loaded
    previous = getattr(kernel_context, "_escalation_sim_census", None)
    if previous is not None:
        previous()
    kernel_context._escalation_sim_census = solara.lab.on_kernel_start(_page_opened)  # type: ignore[attr-defined]
    starlette = sys.modules.get("solara.server.starlette")
    if starlette is not None:
        close_routes(starlette.app)
    if os.environ.get(LOG_VARIABLE) and not LOG.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
        LOG.propagate = False


RESOURCEZ = "/resourcez"
CLOSE_BEACON = "/_solara/api/close/{kernel_id}"


def close_routes(app: Any) -> None:
    """Replace two of Solara's routes in ``app`` (its Starlette application): ``/resourcez``
    answers 404, and the close beacon checks what it is sent before it closes a page."""
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    def not_found(request: Request) -> Response:
        return PlainTextResponse("Not Found", status_code=404)

    routes = app.router.routes
    for index, route in enumerate(routes):
        path = getattr(route, "path", None)
        endpoint = getattr(route, "endpoint", None)
        if getattr(endpoint, "classroom", False):
            continue
        if path == RESOURCEZ:
            not_found.classroom = True  # type: ignore[attr-defined]
            routes[index] = Route(RESOURCEZ, endpoint=not_found)
        elif path == CLOSE_BEACON and endpoint is not None:
            routes[index] = Route(CLOSE_BEACON, endpoint=_checked_close(endpoint), methods=["POST"])


def _checked_close(close: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Solara's close beacon, called only with a page it knows: without ``?session_id=`` 400,
    for a page or kernel it does not know 404 (Solara's own raises KeyError: an error 500)."""
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response

    def checked(request: Request) -> Response:
        from solara.server import kernel_context

        page_id = request.query_params.get("session_id")
        if not page_id:
            return PlainTextResponse(
                "The close beacon names the page it closes: ?session_id=...", status_code=400
            )
        context = kernel_context.contexts.get(request.path_params["kernel_id"])
        if context is None or page_id not in context.page_status:
            return PlainTextResponse("No such page.", status_code=404)
        return close(request)

    checked.classroom = True  # type: ignore[attr-defined]
    return checked
