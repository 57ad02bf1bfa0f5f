"""The dashboard in a classroom: ensembles take turns at one gate, pages are culled and their
memory returned, Solara's /resourcez and close beacon answer nothing they should not; and thirty
pages served at once stay within the documented bounds (slow)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ipyvuetify as v
import pytest
import solara
import solara.server.settings

from sim.cli.main import main
from sim.views import classroom, dashboard
from sim.views.classroom import (
    CULL_TIMEOUT,
    ENSEMBLES_AT_ONCE,
    ENSEMBLES_VARIABLE,
    LOG_VARIABLE,
    Abandoned,
    EnsembleGate,
    Refused,
    close_routes,
    ensembles_at_once,
    waiting_words,
)
from sim.views.dashboard import EXTRA_SCENARIOS, Page
from tests.conftest import ROOT
from tests.views.test_dashboard import Rendered, free_port, make_project, wait_until_served

DEADLINE = 60.0
"""Seconds to wait for evidence that something happened in another thread or process: generous,
so a busy machine only makes a test slower, never wrong."""

BUSY = (
    "This page's ensemble has not finished yet: it shows here when it has, and then Run "
    "ensemble runs another."
)


def wait_for(condition: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    """Wait until ``condition()`` is true (its value), up to ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < end, f"waited {deadline:.0f} s for {what}"
        time.sleep(0.05)


class Work:
    """An ensemble's work that runs until the test lets it finish, and tells when it started."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> str:
        self.log.append(self.name)
        self.started.set()
        assert self.release.wait(DEADLINE), f"{self.name} was never let finish"
        return self.name


def start(gate: EnsembleGate, page: object, work: Work, **options: Any) -> dict[str, Any]:
    """Admit ``page``'s ensemble and run it in a thread, as the dashboard's task does; the dict
    fills with its result or error, and the counts of ensembles ahead it was told."""
    ticket = gate.admit(page)
    outcome: dict[str, Any] = {"told": []}

    def run() -> None:
        try:
            outcome["result"] = gate.run(ticket, work, waiting=outcome["told"].append, **options)
        except Exception as error:
            outcome["error"] = error

    outcome["thread"] = threading.Thread(target=run)
    outcome["thread"].start()
    return outcome


def done(outcome: dict[str, Any]) -> bool:
    return "result" in outcome or "error" in outcome


# ---------------------------------------------------------------------------- the gate


def test_two_run_at_once_and_the_others_wait_their_turn_in_order():
    gate = EnsembleGate(at_once=2, waiting_room=5)
    log: list[str] = []
    works = [Work(f"page {i}", log) for i in range(5)]
    runs = []
    for work in works:
        runs.append(start(gate, object(), work))
        wait_for(lambda run=runs[-1]: run["told"], "the gate to tell the page its place")
    works[0].started.wait(DEADLINE)
    works[1].started.wait(DEADLINE)
    assert gate.counts() == (2, 3)
    assert log == ["page 0", "page 1"]  # the others have not started
    # each is told how many are ahead of it: the two running, and those that came before
    assert [run["told"] for run in runs] == [[0], [0], [2], [3], [4]]
    works[1].release.set()
    wait_for(lambda: works[2].started.is_set(), "the first in the queue to start")
    assert log == ["page 0", "page 1", "page 2"]
    assert gate.counts() == (2, 2)
    wait_for(lambda: runs[3]["told"][-1] == 2 and runs[4]["told"][-1] == 3, "the queue to move")
    for work in works:
        work.release.set()
    for run in runs:
        run["thread"].join(DEADLINE)
    assert [run["result"] for run in runs] == [f"page {i}" for i in range(5)]
    assert log == [f"page {i}" for i in range(5)]
    assert [run["told"][-1] for run in runs] == [0] * 5
    assert gate.counts() == (0, 0)


def test_a_page_runs_one_ensemble_at_a_time():
    gate = EnsembleGate(at_once=2)
    page = object()
    work = Work("first", [])
    run = start(gate, page, work)
    work.started.wait(DEADLINE)
    with pytest.raises(Refused) as refused:
        gate.admit(page)
    assert str(refused.value) == BUSY
    work.release.set()
    run["thread"].join(DEADLINE)
    assert run["result"] == "first"
    again = Work("again", [])
    again.release.set()
    run = start(gate, page, again)  # finished: the page runs another
    run["thread"].join(DEADLINE)
    assert run["result"] == "again"


def test_a_click_beyond_the_waiting_room_is_refused_with_the_counts():
    gate = EnsembleGate(at_once=1, waiting_room=2)
    works = [Work(str(i), []) for i in range(3)]
    runs = [start(gate, object(), work) for work in works]
    works[0].started.wait(DEADLINE)
    wait_for(lambda: gate.counts() == (1, 2), "one to run and two to wait")
    with pytest.raises(Refused) as refused:
        gate.admit(object())
    assert str(refused.value) == (
        "The server is busy: 1 ensembles are running and 2 are waiting, as many as it takes. "
        "Press Run ensemble again in a minute."
    )
    assert gate.counts() == (1, 2)  # the refused click took no place
    for work in works:
        work.release.set()
    for run in runs:
        run["thread"].join(DEADLINE)
    assert [run["result"] for run in runs] == ["0", "1", "2"]


def test_an_ensemble_whose_page_closed_while_it_waited_never_runs():
    gate = EnsembleGate(at_once=1)
    first, orphan, last = Work("first", []), Work("orphan", []), Work("last", [])
    closed = threading.Event()
    runs = [start(gate, object(), first)]
    runs.append(start(gate, object(), orphan, abandoned=closed.is_set, poll=0.01))
    runs.append(start(gate, object(), last))
    first.started.wait(DEADLINE)
    wait_for(lambda: runs[2]["told"] == [2], "the last to wait")
    closed.set()
    runs[1]["thread"].join(DEADLINE)
    assert isinstance(runs[1]["error"], Abandoned)
    assert gate.counts() == (1, 1)  # its place is freed
    # the last hears it moved up before the first ends (on a busy machine it could wake only
    # after the first had finished, and hear 0 at once)
    wait_for(lambda: runs[2]["told"] == [2, 1], "the last to move up")
    first.release.set()
    last.release.set()
    for run in runs:
        run["thread"].join(DEADLINE)
    assert not orphan.started.is_set()
    assert (runs[0]["result"], runs[2]["result"]) == ("first", "last")
    assert runs[2]["told"] == [2, 1, 0]


def test_a_failed_ensemble_gives_its_turn_on():
    gate = EnsembleGate(at_once=1)
    page = object()

    def broken() -> str:
        raise ValueError("the model broke")

    ticket = gate.admit(page)
    with pytest.raises(ValueError, match="the model broke"):
        gate.run(ticket, broken)
    assert gate.counts() == (0, 0)
    assert gate.run(gate.admit(page), lambda: "ran") == "ran"


def test_the_words_for_a_page_that_waits():
    assert waiting_words(1, 2) == (
        "Waiting for a turn: 1 ensemble is ahead of this one (the server runs 2 at once). It "
        "starts by itself."
    )
    assert waiting_words(5, 2).startswith("Waiting for a turn: 5 ensembles are ahead of this one")


@pytest.mark.parametrize(
    ("given", "expected"), [(None, ENSEMBLES_AT_ONCE), ("", ENSEMBLES_AT_ONCE), (" 3 ", 3)]
)
def test_the_limit_comes_from_the_command(monkeypatch, given, expected):
    if given is None:
        monkeypatch.delenv(ENSEMBLES_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(ENSEMBLES_VARIABLE, given)
    assert ensembles_at_once() == expected


@pytest.mark.parametrize("given", ["0", "-1", "65", "two", "1.5"])
def test_a_limit_that_is_not_a_small_whole_number_is_refused(monkeypatch, given):
    monkeypatch.setenv(ENSEMBLES_VARIABLE, given)
    with pytest.raises(ValueError) as refused:
        ensembles_at_once()
    assert str(refused.value) == (
        "the environment variable ESCALATION_SIM_ENSEMBLES says how many ensembles the dashboard "
        f"runs at once: a whole number from 1 to 64, not {given!r}; unset it for the default (2) "
        "or use run.py dashboard --ensembles"
    )


# ---------------------------------------------------------------------------- the page


@pytest.fixture
def rendered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rendered]:
    """The page rendered in Python, with a gate of its own and ensembles the test releases."""
    monkeypatch.chdir(make_project(tmp_path))
    monkeypatch.delenv(EXTRA_SCENARIOS, raising=False)
    monkeypatch.setattr(classroom, "_gate", EnsembleGate(at_once=1))
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    try:
        yield Rendered(rc)
    finally:
        rc.close()


def alerts(page: Rendered, css_class: str) -> list[str]:
    return [str(w.children[0]) for w in page.rc.find(v.Alert, class_=css_class).widgets]


def test_a_second_click_while_the_pages_ensemble_runs_is_refused_on_the_page(rendered, monkeypatch):
    real = dashboard.ensemble_of
    release = threading.Event()
    calls = []

    def held(model: Any, runs: int) -> Any:
        calls.append(runs)
        assert release.wait(DEADLINE)
        return real(model, 500)

    monkeypatch.setattr(dashboard, "ensemble_of", held)
    rendered.button("Run ensemble").click()
    wait_for(lambda: calls, "the ensemble to start")
    rendered.button("Run ensemble").click()  # disabled in a browser; a client can still send it
    assert alerts(rendered, "ensemble-refused") == [BUSY]
    release.set()
    wait_for(lambda: "500 runs in" in rendered.texts(), "the ensemble's summary")
    assert calls == [2000]  # one ensemble ran, not two
    wait_for(lambda: not alerts(rendered, "ensemble-refused"), "the refusal to go")


def test_a_page_whose_ensemble_waits_says_how_many_are_ahead(rendered, monkeypatch):
    real = dashboard.ensemble_of
    monkeypatch.setattr(dashboard, "ensemble_of", lambda model, runs: real(model, 500))
    gate = classroom.gate()
    other = Work("another page's", [])
    run = start(gate, object(), other)
    other.started.wait(DEADLINE)
    rendered.button("Run ensemble").click()
    wait_for(lambda: alerts(rendered, "ensemble-queue"), "the page to say it waits")
    assert alerts(rendered, "ensemble-queue") == [waiting_words(1, 1)]
    assert gate.counts() == (1, 1)
    assert "500 runs in" not in rendered.texts()
    other.release.set()
    run["thread"].join(DEADLINE)
    wait_for(lambda: "500 runs in" in rendered.texts(), "the page's ensemble to run")
    assert alerts(rendered, "ensemble-queue") == []
    assert gate.counts() == (0, 0)


# ---------------------------------------------------------------------------- the server


def asgi(app: Any, method: str, path: str, query: str = "") -> tuple[int, str]:
    """One HTTP request to an ASGI application, in this process: its status and body."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body.decode()


@pytest.mark.filterwarnings("ignore:websockets.legacy is deprecated:DeprecationWarning")
def test_resourcez_answers_nobody_and_the_close_beacon_never_fails():
    from solara.server import kernel_context
    from solara.server.starlette import app

    close_routes(app)
    close_routes(app)  # loading the dashboard again changes nothing
    assert asgi(app, "GET", "/resourcez") == (404, "Not Found")
    assert asgi(app, "GET", "/resourcez", "verbose") == (404, "Not Found")
    assert asgi(app, "POST", "/_solara/api/close/x") == (
        400,
        "The close beacon names the page it closes: ?session_id=...",
    )
    assert asgi(app, "POST", "/_solara/api/close/x", "session_id=y") == (404, "No such page.")
    closed = []

    class Kernel:
        page_status = {"page-1": None}

        def page_close(self, page_id: str) -> None:
            closed.append(page_id)

    kernel_context.contexts["k-1"] = Kernel()
    try:
        assert asgi(app, "POST", "/_solara/api/close/k-1", "session_id=page-2") == (
            404,
            "No such page.",
        )
        assert closed == []
        assert asgi(app, "POST", "/_solara/api/close/k-1", "session_id=page-1")[0] == 200
        assert closed == ["page-1"]
    finally:
        del kernel_context.contexts["k-1"]


def test_pages_are_culled_minutes_after_their_connection_drops(monkeypatch):
    monkeypatch.delenv("SOLARA_KERNEL_CULL_TIMEOUT", raising=False)
    monkeypatch.setattr(solara.server.settings.kernel, "cull_timeout", "24h")  # Solara's default
    classroom.configure_server()
    assert solara.server.settings.kernel.cull_timeout == CULL_TIMEOUT == "5m"
    monkeypatch.setenv("SOLARA_KERNEL_CULL_TIMEOUT", "30s")  # a teacher's own choice stays
    monkeypatch.setattr(solara.server.settings.kernel, "cull_timeout", "30s")
    classroom.configure_server()
    assert solara.server.settings.kernel.cull_timeout == "30s"


def test_dashboard_command_passes_its_limits_to_the_server(monkeypatch, started):
    monkeypatch.chdir(ROOT)
    envs = started.envs
    monkeypatch.setenv(LOG_VARIABLE, "1")  # left from elsewhere: only -v asks for the log
    assert main(["dashboard"]) == 0
    assert main(["dashboard", "--ensembles", "4", "-v"]) == 0
    assert [env[ENSEMBLES_VARIABLE] for env in envs] == ["2", "4"]
    assert [env.get(LOG_VARIABLE) for env in envs] == [None, "1"]


def test_a_port_out_of_range_is_a_usage_error_in_one_paragraph():
    said = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "dashboard", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert said.returncode == 2
    assert said.stderr.splitlines()[-1] == (
        "escalation-sim dashboard: error: argument --port: expected a whole number from 1 to "
        "65535, got 70000"
    )
    assert "Traceback" not in said.stderr and said.stdout == ""


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--port", "0"], "argument --port: expected a whole number >= 1, got 0"),
        (["--ensembles", "0"], "argument --ensembles: expected a whole number >= 1, got 0"),
        (
            ["--ensembles", "65"],
            "argument --ensembles: expected a whole number from 1 to 64, got 65",
        ),
        (["--ensembles", "many"], "argument --ensembles: expected a whole number, got 'many'"),
    ],
)
def test_a_port_or_limit_out_of_range_is_a_usage_error(monkeypatch, capsys, option, said):
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(subprocess, "Popen", never)
    with pytest.raises(SystemExit) as stopped:
        main(["dashboard", *option])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"escalation-sim dashboard: error: {said}"
    assert "Traceback" not in err


# ---------------------------------------------------------------------------- thirty pages

PAGES = 30
CLICKING = 8
"""Pages of the thirty that press Run ensemble, twice in a row."""
MB_PER_PAGE = classroom.MEMORY_PER_PAGE_MB
MB_PER_ENSEMBLE = classroom.MEMORY_PER_ENSEMBLE_MB
MB_KEPT_PER_PAGE = classroom.MEMORY_KEPT_PER_PAGE_MB


def message(kind: str, content: dict[str, Any], page: str) -> str:
    """A message of Jupyter's protocol, as Solara's page sends it over its websocket."""
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": kind,
        "session": page,
        "username": "",
        "date": datetime.datetime.now(datetime.UTC).isoformat(),
        "version": "5.3",
    }
    return json.dumps(
        {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
    )


def received(raw: str | bytes) -> dict[str, Any]:
    """A message from the server: JSON, or Jupyter's binary frame with the JSON first."""
    if isinstance(raw, bytes):
        (count,) = struct.unpack("!I", raw[:4])
        offsets = struct.unpack(f"!{count}I", raw[4 : 4 + 4 * count])
        raw = raw[offsets[0] : offsets[1] if count > 1 else len(raw)].decode()
    return dict(json.loads(raw))


class BrowserPage:
    """A page of the dashboard as a browser opens it, without the browser: the HTML page (its
    session cookie), Solara's websocket to a kernel of its own, the app run in it; then buttons
    clicked, and everything the server sends kept to be read."""

    def __init__(self, host: str) -> None:
        from websockets.sync.client import connect

        self.host = host
        with urllib.request.urlopen(f"http://{host}/", timeout=DEADLINE) as answer:
            cookie = answer.headers["set-cookie"].split(";")[0]
        self.kernel, self.page = str(uuid.uuid4()), str(uuid.uuid4())
        self.opened = contextlib.ExitStack()
        self.socket = self.opened.enter_context(
            connect(
                f"ws://{host}/jupyter/api/kernels/{self.kernel}/channels?session_id={self.page}",
                additional_headers={"Cookie": cookie},
                max_size=None,
                max_queue=None,  # read everything as it comes, as a browser does
                ping_interval=None,
                open_timeout=DEADLINE,
            )
        )
        self.said: list[str] = []
        self.buttons: dict[str, str] = {}
        control = uuid.uuid4().hex
        self.send("comm_open", {"comm_id": control, "target_name": "solara.control", "data": {}})
        run = {"method": "run", "args": {"path": "", "appName": None}}
        self.send("comm_msg", {"comm_id": control, "data": run})
        self.read_until(lambda m: m["content"].get("comm_id") == control, "the page to render")

    def send(self, kind: str, content: dict[str, Any]) -> None:
        self.socket.send(message(kind, content, self.page))

    def read_until(self, found: Callable[[dict[str, Any]], bool], what: str) -> None:
        end = time.monotonic() + DEADLINE * 2
        while True:
            left = end - time.monotonic()
            assert left > 0, f"waited {DEADLINE * 2:.0f} s for {what}"
            got = received(self.socket.recv(timeout=left))
            self.said.append(json.dumps(got["content"]))
            state = got["content"].get("data", {}).get("state", {})
            if got["header"]["msg_type"] == "comm_open" and state.get("_model_name") == "BtnModel":
                self.buttons[str(state.get("children"))] = got["content"]["comm_id"]
            if found(got):
                return

    def click(self, label: str) -> None:
        event = {"method": "custom", "content": {"event": "click", "data": {}}}
        self.send("comm_msg", {"comm_id": self.buttons[str([label])], "data": event})

    def says(self, text: str) -> bool:
        return any(text in line for line in self.said)

    def close(self) -> None:
        """The tab closed: the browser's close beacon, then the socket."""
        beacon = f"http://{self.host}/_solara/api/close/{self.kernel}?session_id={self.page}"
        with urllib.request.urlopen(urllib.request.Request(beacon, method="POST")) as answer:
            assert answer.status == 200
        self.opened.close()

    def drop(self) -> None:
        """The connection dropped (a laptop closed, a network gone): no beacon."""
        self.opened.close()


def server_process(command: subprocess.Popen[bytes]) -> int:
    """The solara server that ``run.py dashboard`` started: its only child."""
    children = Path(f"/proc/{command.pid}/task/{command.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def rss_and_threads(pid: int) -> tuple[float, int]:
    """The process's resident memory in MB, and its threads, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


STATUS = re.compile(r"classroom: (\d+) pages open, (\d+) ensembles running, (\d+) waiting")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc")
def test_thirty_pages_at_once_stay_within_the_bounds_and_are_culled(tmp_path):
    """Thirty pages open at once on ``run.py dashboard -v``, eight of them press Run ensemble
    twice: the server's memory stays within the documented bound, its threads grow by one a page
    at most, two ensembles run at once and each page's second click is refused; then half the
    pages close and half drop their connection, and all are culled and their memory returned."""
    folder = make_project(tmp_path)
    port = free_port()
    host = f"127.0.0.1:{port}"
    log_path = folder / "server.log"
    env = {k: value for k, value in os.environ.items() if k != EXTRA_SCENARIOS}
    env |= {"BROWSER": "true", "SOLARA_KERNEL_CULL_TIMEOUT": "2s"}  # culled in seconds here
    # the server imports this checkout's sim, not another one installed in the environment
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with log_path.open("w") as log:
        command = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "dashboard", "-v", "--port", str(port)],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        wait_until_served(command, f"http://{host}/", log_path.read_text)
        server = server_process(command)

        def status() -> list[tuple[int, int, int]]:
            return [(int(a), int(b), int(c)) for a, b, c in STATUS.findall(log_path.read_text())]

        def pages_open() -> int | None:
            said = status()
            return said[-1][0] if said else None

        # /resourcez and the close beacon of the real server
        for path, code in [("/resourcez", 404), ("/resourcez?verbose", 404)]:
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(f"http://{host}{path}", timeout=DEADLINE)
            assert answer.value.code == code
        for query, code in [("", 400), ("?session_id=x", 404)]:
            request = urllib.request.Request(
                f"http://{host}/_solara/api/close/x{query}", method="POST"
            )
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(request, timeout=DEADLINE)
            assert answer.value.code == code

        # one page first, with an ensemble, so that what is measured is the pages, not imports
        first = BrowserPage(host)
        first.click("Run ensemble")
        first.read_until(lambda m: "2,000 runs in" in json.dumps(m["content"]), "an ensemble")
        first.close()
        wait_for(lambda: pages_open() == 0, "the first page to end")
        rss_at_start, threads_at_start = rss_and_threads(server)

        with ThreadPoolExecutor(PAGES) as opening:
            pages = list(opening.map(lambda _: BrowserPage(host), range(PAGES)))
        assert pages_open() == PAGES
        peak_rss, peak_threads = rss_and_threads(server)
        for page in pages[:CLICKING]:
            page.click("Run ensemble")
            page.click("Run ensemble")
        for page in pages[:CLICKING]:
            page.read_until(lambda m: "2,000 runs in" in json.dumps(m["content"]), "its ensemble")
            rss, threads = rss_and_threads(server)
            peak_rss, peak_threads = max(peak_rss, rss), max(peak_threads, threads)
        wait_for(lambda: status()[-1][1:] == (0, 0), "the ensembles to finish")

        bound = rss_at_start + PAGES * MB_PER_PAGE + ENSEMBLES_AT_ONCE * MB_PER_ENSEMBLE
        assert peak_rss <= bound, (rss_at_start, peak_rss)
        # a thread a page (its connection), and one a page that clicked while it waits or runs
        assert peak_threads <= threads_at_start + PAGES + CLICKING, (threads_at_start, peak_threads)
        assert max(running for _, running, _ in status()) <= ENSEMBLES_AT_ONCE
        assert max(waiting for _, _, waiting in status()) <= CLICKING
        for page in pages[:CLICKING]:
            assert page.says(BUSY)  # its second click, refused with a sentence

        for page in pages[: PAGES // 2]:
            page.close()
        for page in pages[PAGES // 2 :]:
            page.drop()
        wait_for(lambda: pages_open() == 0, "every page to be culled")
        kept = rss_at_start + PAGES * MB_KEPT_PER_PAGE
        wait_for(lambda: rss_and_threads(server)[0] <= kept, f"memory back under {kept:.0f} MB")
        # the pages' threads end: Solara's pool lets them go when a page comes after they idled

        def threads_with_a_new_page() -> bool:
            page = BrowserPage(host)
            threads = rss_and_threads(server)[1]
            page.close()
            return threads <= threads_at_start + 1

        wait_for(threads_with_a_new_page, "the threads of the pages to end")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(command.pid, signal.SIGTERM)
        try:
            command.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(command.pid, signal.SIGKILL)
            command.wait()
