"""The teaching dashboard: its model and controls exactly, and the page in a real browser (slow)."""

from __future__ import annotations

import os
import runpy
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import load_scenario
from sim.cli import main, parse_overrides
from sim.dashboard import (
    OWN,
    DashboardModel,
    Page,
    dashboard_overrides,
    events_html,
    forced_interventions,
    model_params,
    replay_command,
    rung_table,
)
from sim.model import EscalationModel
from sim.policies import RETALIATION_POLICIES
from tests.conftest import BASELINE, ROOT, SCENARIOS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = os.environ.get("DASHBOARD_SCREENSHOT")
"""Set to a path (docs/images/dashboard.png) to save the browser test's view of the dashboard."""


@pytest.fixture(autouse=True)
def project_folder(monkeypatch):
    """The dashboard reads scenarios/ in the current folder, as when started from the project."""
    monkeypatch.chdir(ROOT)


def no_changes(**changed):
    return {
        "policies": {},
        "audience_costs": {},
        "mediation": OWN,
        "armed_group_activity": 1.0,
        **changed,
    }


def test_controls_left_alone_change_nothing():
    model = DashboardModel()
    assert model.overrides == {}
    assert model.error is None
    assert model.config == load_scenario(BASELINE)
    assert model.scenario_file == "jan2024_baseline.yaml"


def test_each_control_becomes_one_loader_override():
    baseline = load_scenario(BASELINE)
    overrides = dashboard_overrides(
        baseline,
        policies={"iran": OWN, "pakistan": "escalate"},
        audience_costs={"iran": "0.1", "pakistan": "0.3"},
        mediation="refuse",
        armed_group_activity=2.5,
    )
    assert overrides == {
        "actors.pakistan.retaliation.policy": "escalate",
        "actors.pakistan.audience_cost": 0.3,
        "armed_groups.jaish_al_adl.daily_rate": 0.0375,
        "armed_groups.bla_blf.daily_rate": 0.0375,
        "interventions": [{"mediator": "china", "response": "refuse"}],
    }


def test_the_model_runs_the_overridden_scenario():
    model = DashboardModel(
        pakistan_policy="threshold", iran_audience_cost="0.5", armed_group_activity=0.0
    )
    pakistan = model.config.actors["pakistan"]
    assert pakistan.retaliation.policy == "threshold"
    assert pakistan.retaliation.delay == 2  # kept from the scenario, as --set keeps it
    assert pakistan.retaliation.threshold == 6.0  # the new policy's default
    assert model.config.actors["iran"].audience_cost == 0.5
    assert [g.daily_rate for g in model.config.armed_groups.values()] == [0.0, 0.0]


def test_a_policy_or_cost_the_scenario_already_has_is_not_overridden():
    hawkish = load_scenario(SCENARIOS / "jan2024_hawkish.yaml")
    overrides = dashboard_overrides(
        hawkish, **no_changes(policies={"iran": "escalate"}, audience_costs={"pakistan": "0.15"})
    )
    assert overrides == {}


def test_forcing_mediation_changes_an_existing_forced_answer_instead_of_adding_one():
    accepted = load_scenario(SCENARIOS / "jan2024_mediation_accepted.yaml")
    assert forced_interventions(accepted, "refuse") == [
        {"mediator": "china", "offer_on_day": 3, "response": "refuse"}
    ]
    model = DashboardModel(scenario_file="jan2024_mediation_accepted.yaml", mediation="refuse")
    assert model.error is None
    (intervention,) = model.config.interventions
    assert (intervention.offer_on_day, intervention.response) == (3, "refuse")


def test_forcing_mediation_without_a_mediator_sets_nothing():
    alone = load_scenario(SCENARIOS / "jan2024_no_mediator.yaml")
    assert dashboard_overrides(alone, **no_changes(mediation="accept")) == {}


def test_a_dashboard_run_is_the_story_run_with_the_same_seed():
    model = DashboardModel(pakistan_policy="escalate", seed=11)
    while model.running:
        model.step()
    assert model.day == 60
    reference = EscalationModel(model.config, rng=np.random.default_rng(11))
    reference.run()
    assert model.rung_history == reference.rung_history
    assert model.events == reference.events


def test_the_run_shows_rungs_and_events_in_words():
    model = DashboardModel(pakistan_policy="escalate")
    for _ in range(2):
        model.step()
    assert rung_table(model) == (
        "<table><tr><th>State</th><th>Rung</th><th>On the ladder</th></tr>"
        "<tr><td>Iran</td><td>4</td><td>limited strike on non-state targets</td></tr>"
        "<tr><td>Pakistan</td><td>4</td><td>limited strike on non-state targets</td></tr>"
        "</table>"
    )
    assert events_html(model) == (
        "<b>Day 2 (Thu 18 Jan)</b><ul><li>Jaish al-Adl attacks Iran</li>"
        "<li>Iran does not blame Pakistan</li><li>Pakistan answers Iran: &#x27;limited strike "
        "on non-state targets&#x27; (held back from &#x27;strike on state forces&#x27;)</li></ul>"
        "<b>Day 1 (Wed 17 Jan)</b><ul><li>China offers to mediate</li>"
        "<li>Pakistan refuses China&#x27;s mediation</li></ul>"
        "<b>Day 0 (Tue 16 Jan)</b><ul><li>Iran strikes two Jaish al-Adl sites near Panjgur, "
        "Pakistan; two children killed</li></ul>"
    )
    model.step()
    assert events_html(model).startswith("<p><b>Day 3 (Fri 19 Jan)</b>: a quiet day</p>")


def test_the_replay_command_rebuilds_the_same_scenario_and_seed():
    model = DashboardModel(pakistan_policy="escalate", mediation="accept", seed=12)
    command = replay_command(model)
    assert command == (
        "python run.py story scenarios/jan2024_baseline.yaml --seed 12 "
        "--set actors.pakistan.retaliation.policy=escalate "
        "--set 'interventions=[{mediator: china, response: accept}]'"
    )
    words = shlex.split(command)
    pairs = [words[i + 1] for i, word in enumerate(words) if word == "--set"]
    assert load_scenario(words[3], parse_overrides(pairs)) == model.config


def test_a_scenario_the_loader_refuses_shows_its_message_and_the_default_scenario(
    tmp_path, monkeypatch
):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "jan2024_baseline.yaml").write_text(BASELINE.read_text())
    broken = yaml.safe_load(BASELINE.read_text())
    broken["actors"]["pakistan"]["retaliation"]["forgiv"] = 0.0
    (tmp_path / "scenarios" / "mine.yaml").write_text(yaml.safe_dump(broken))
    monkeypatch.chdir(tmp_path)
    model = DashboardModel(scenario_file="mine.yaml", pakistan_audience_cost="0.5")
    assert model.error == (
        "scenarios/mine.yaml: actors.pakistan.retaliation.forgiv: unknown key 'forgiv'; did "
        "you mean 'forgive'? (allowed here: policy, delay, forgive)\n\n"
        "Showing jan2024_baseline.yaml unchanged instead."
    )
    assert model.config == load_scenario(BASELINE)
    assert (model.scenario_file, model.overrides) == ("jan2024_baseline.yaml", {})
    assert model_params()["scenario_file"]["values"] == ["jan2024_baseline.yaml", "mine.yaml"]


def test_the_controls_are_the_model_parameters_at_their_defaults():
    params = model_params()
    model = DashboardModel()
    assert list(params) == [
        "scenario_file",
        "iran_policy",
        "iran_audience_cost",
        "pakistan_policy",
        "pakistan_audience_cost",
        "mediation",
        "armed_group_activity",
        "seed",
    ]
    assert params["pakistan_policy"]["values"] == [OWN, *RETALIATION_POLICIES]
    assert params["mediation"]["values"] == [OWN, "accept", "refuse"]
    assert params["scenario_file"]["values"] == sorted(p.name for p in SCENARIOS.glob("*.yaml"))
    assert params["iran_audience_cost"]["value"] == params["pakistan_audience_cost"]["value"] == OWN
    costs = params["iran_audience_cost"]["values"]
    assert (costs[:4], costs[-1], len(costs)) == ([OWN, "0", "0.05", "0.1"], "1", 22)
    assert params["seed"]["value"] == model.seed == 7


def test_controls_left_alone_keep_a_students_own_values(tmp_path, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    mine = yaml.safe_load(BASELINE.read_text())
    mine["actors"]["pakistan"]["audience_cost"] = 0.5
    mine["actors"]["iran"]["audience_cost"] = 0.35
    (tmp_path / "scenarios" / "mine.yaml").write_text(yaml.safe_dump(mine))
    monkeypatch.chdir(tmp_path)
    model = DashboardModel(scenario_file="mine.yaml")
    assert model.overrides == {}
    assert [s.audience_cost for s in model.config.actors.values()] == [0.35, 0.5]


def test_the_run_stops_at_the_horizon():
    model = DashboardModel()  # armed groups stay active, so the run never settles early
    for _ in range(59):
        model.step()
    assert model.running
    model.step()
    assert (model.day, model.running, len(model.rung_history)) == (60, False, 61)


def test_app_exposes_the_page():
    assert runpy.run_path(str(ROOT / "app.py"))["page"] is Page


def test_import_sim_does_not_import_solara():
    code = "import sys, sim, sim.cli; print(sorted(m for m in sys.modules if 'solara' in m))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_dashboard_command_serves_the_app_with_solara(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda command: calls.append(command) or 0)
    assert main(["dashboard", "--port", "8800"]) == 0
    assert calls == [
        [
            sys.executable,
            "-m",
            "solara",
            "run",
            "sim.dashboard",
            "--host",
            "127.0.0.1",
            "--port",
            "8800",
            "--production",
            "--no-check-version",
        ]
    ]


def test_dashboard_command_without_the_extra_says_what_to_install(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "solara" else real(name)
    )
    assert main(["dashboard"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: the dashboard needs the packages of the optional 'dashboard' extra (missing: "
        'solara). Install them from the project folder with pip install ".[dashboard]" (into '
        'the virtual environment: .venv/bin/pip install ".[dashboard]"), then run python '
        "run.py dashboard again.\n"
    )


def test_dashboard_command_outside_the_project_folder_says_where_to_run_it(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main(["dashboard"]) == 2
    assert "run it from the project folder" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def dashboard(tmp_path):
    """``run.py dashboard`` on a free port, in a folder holding the shipped scenarios and a
    student's broken copy; the server is stopped whatever happens."""
    (tmp_path / "scenarios").mkdir()
    for path in SCENARIOS.glob("*.yaml"):
        (tmp_path / "scenarios" / path.name).write_text(path.read_text())
    broken = BASELINE.read_text().replace("forgive: 0.25", "forgiv: 0.0")
    (tmp_path / "scenarios" / "my_unforgiving.yaml").write_text(broken)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "dashboard", "--port", str(port)],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "BROWSER": "true"},  # solara opens a browser: make it a no-op
        start_new_session=True,  # so that the server and its solara child stop together
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the dashboard did not answer within 90 s"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        reason = f"the browser test needs Debian's chromium at {CHROMIUM}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; install it (apt-get install chromium) on the CI machine")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.slow
def test_dashboard_in_a_browser(chromium, dashboard):
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    page = chromium.new_page(viewport={"width": 1280, "height": 1200})
    elsewhere, failed = [], []
    local = (dashboard, "blob:", "data:")
    page.on("request", lambda r: r.url.startswith(local) or elsewhere.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page.goto(dashboard)

    rungs = page.locator(".rung-display")
    expect(rungs).to_contain_text("Pakistan")  # not blank: ipyvue 2 or later renders nothing
    expect(page.get_by_text("Model Parameters")).to_be_visible()
    rungs_before = rungs.inner_text()
    assert " ".join(rungs_before.split()) == (
        "State Rung On the ladder Iran 4 limited strike on non-state targets "
        "Pakistan 0 normal relations"
    )
    chart = page.locator(".ensemble-chart img")

    def drawn_chart() -> bytes:
        page.get_by_role("button", name="Run ensemble").click()
        expect(chart).to_be_visible()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=chart.element_handle()
        )
        return chart.screenshot()

    chart_before = drawn_chart()
    summary_before = page.locator(".ensemble-summary").inner_text()

    page.locator(".v-select", has_text="Pakistan: retaliation policy").click()
    page.locator(".menuable__content__active").get_by_text("escalate", exact=True).click()
    page.get_by_role("button", name="Reset").click()
    expect(page.get_by_text("The settings changed since this ensemble")).to_be_visible()
    for day in range(1, 7):
        page.get_by_role("button", name="Step").click()
        expect(page.locator("h3", has_text=f"Day {day} (")).to_be_visible()

    expected = DashboardModel(pakistan_policy="escalate")
    for _ in range(6):
        expected.step()
    rows = [
        f"{s.name} {s.top_rung} {expected.ladder.name(s.top_rung)}"
        for s in expected.states.values()
    ]
    rungs_after = " ".join(rungs.inner_text().split())
    assert rungs_after == f"State Rung On the ladder {' '.join(rows)}"
    assert rungs_after != " ".join(rungs_before.split())
    expect(page.locator(".events")).to_contain_text("Pakistan steps down to 'diplomatic downgrade'")

    assert drawn_chart() != chart_before
    assert page.locator(".ensemble-summary").inner_text() != summary_before
    if SCREENSHOT:
        page.evaluate("document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
        page.screenshot(path=SCREENSHOT)

    page.locator(".v-select", has_text="Scenario").first.click()
    page.locator(".menuable__content__active").get_by_text("my_unforgiving.yaml").click()
    page.get_by_role("button", name="Reset").click()
    expect(page.locator(".scenario-error")).to_have_text(
        "scenarios/my_unforgiving.yaml: actors.pakistan.retaliation.forgiv: unknown key 'forgiv'; "
        "did you mean 'forgive'? (allowed here: policy, delay, forgive)\n\n"
        "Showing jan2024_baseline.yaml unchanged instead."
    )
    expect(page.get_by_text("Traceback")).to_have_count(0)
    assert not elsewhere, f"the page asked for more than local assets: {elsewhere}"
    assert not failed, f"some of the page's requests failed: {failed}"
