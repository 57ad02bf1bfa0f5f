"""The teaching dashboard: its controls, run, reasons and ensembles exactly, its page rendered in
Python, and the page in a real browser (slow)."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import os
import re
import runpy
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
import yaml
from matplotlib.text import Text

from sim import load_scenario
from sim.analysis.statistics import compare_runs
from sim.analysis.story import names_of, reason, run_story
from sim.cli.commands import parse_overrides
from sim.cli.main import main
from sim.inputs.errors import ScenarioError
from sim.model.record import Choice, Event
from sim.model.scenario import Decision, Mechanisms, Mediation, StateConfig, ThirdPartyConfig
from sim.views.controls import SettingsError, controls_for, overrides_for
from sim.views.dashboard import (
    AFTER,
    BEFORE,
    EXTRA_SCENARIOS,
    KEY_OUTCOMES,
    DashboardModel,
    EnsembleResult,
    Guard,
    Page,
    Settings,
    Weighing,
    command_html,
    comparable,
    compare,
    crisis_title,
    curve_choices,
    curve_outcomes,
    day_events,
    default_scenario,
    difference_lines,
    ensemble_command,
    ensemble_figure,
    ensemble_of,
    first_curve,
    first_model,
    key_outcomes,
    ladder_figure,
    offered_scenarios,
    open_rung,
    posture_rows,
    reached_note,
    replay_command,
    story_html,
    summary_lines,
    today_html,
    weighing,
    weighing_html,
)
from sim.views.drivers import drivers
from sim.views.page_style import CHART_FONT_PT, CHART_WIDTH_IN, CURVES_WIDTH_IN
from sim.views.picker import SEED_CRISIS, picker_label, picker_note
from sim.views.text import percent
from tests.conftest import BASELINE, ROOT

THREE_STATES: dict[str, Any] = {
    "name": "three_states",
    "description": "A clash on one border, and a group based in a third state across another.",
    "horizon": 30,
    "runs": 500,
    "seed": 3,
    # a one-off clash: these tests read the words of each day; fighting that goes on has its
    # own exact traces (tests/model/test_model3.py)
    "mechanisms": {"operations": False},
    "ladder": {
        "strike_rung": 3,
        "rungs": [
            {"name": "normal relations"},
            {"name": "protest"},
            {"name": "show of force"},
            {"name": "strike on a camp", "target": "armed_group"},
            {"name": "clash"},
            {"name": "war"},
        ],
    },
    "actors": {
        "arland": {
            "name": "Arland",
            "retaliation": {"policy": "strategic", "delay": 1},
            "resolve": {"beta": [3, 3]},
            "cost": 2.0,
            "audience_cost": 0.5,
            "perception": {"error": 0.1},
            "attribution": {"base": 0.3},
            "mediation": {"policy": "decide"},
        },
        "borduria": {
            "name": "Borduria",
            "nuclear": True,
            "retaliation": {"policy": "tit_for_tat", "delay": 2},
            "resolve": 0.6,
            "cost": 1.5,
            "perception": {"error": 0.1},
            "attribution": {"base": 0.3},
            "mediation": {"policy": "decide"},
        },
        "cardia": {
            "name": "Cardia",
            "retaliation": {"policy": "never"},
            "resolve": {"beta": [2, 6]},
            "cost": 3.0,
            "perception": {"error": 0.1},
            "attribution": {"base": 0.3},
            "mediation": {"policy": "refuse"},
        },
    },
    "relations": [{"between": ["arland", "borduria"]}, {"between": ["arland", "cardia"]}],
    "armed_groups": {
        "hill_front": {
            "name": "Hill Front",
            "host": "cardia",
            "target": "arland",
            "daily_rate": 0.05,
            "attack_rung": 3,
        }
    },
    "third_parties": {
        "league": {
            "name": "The League",
            "leverage": {"arland": 0.4, "borduria": 0.4},
            "mediation": {
                "parties": ["arland", "borduria"],
                "trigger_rung": 3,
                "agreement_rate": 0.05,
            },
        }
    },
    "events": [
        {
            "day": 0,
            "type": "act",
            "actor": "arland",
            "target": "borduria",
            "rung": 4,
            "description": "Arland's troops clash with Borduria's at the border",
        }
    ],
}
"""Three states and a third-state host: Cardia hosts the Hill Front, which attacks Arland."""
THREE = "scenarios/cases/three_states.yaml"
BASE = "scenarios/jan2024_baseline.yaml"


def write(path: Path, content: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def three_states(**changes: Any) -> dict[str, Any]:
    scenario = copy.deepcopy(THREE_STATES)
    scenario.update(changes)
    return scenario


def make_project(folder: Path) -> Path:
    """A project folder: the shipped baseline, the three-state case with its record of what was
    observed and the library's parent (neither a scenario), a short run, and a student's broken
    copy of the baseline."""
    (folder / "scenarios" / "cases").mkdir(parents=True)
    shutil.copy(BASELINE, folder / BASE)
    write(folder / THREE, THREE_STATES)
    (folder / "scenarios" / "cases" / "three_states.observed.yaml").write_text("observed: []\n")
    write(folder / "scenarios" / "cases" / "_library.yaml", {"horizon": 30})
    short = yaml.safe_load(BASELINE.read_text()) | {"name": "short", "horizon": 3}
    write(folder / "scenarios" / "short.yaml", short)
    broken = BASELINE.read_text().replace("name: Pakistan\n", "name: Pakistan\n    pledg: 0.5\n")
    (folder / "scenarios" / "my_unforgiving.yaml").write_text(broken)
    return folder


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dashboard reads scenarios/ in the current folder, as when started from the project."""
    monkeypatch.chdir(make_project(tmp_path))
    monkeypatch.delenv(EXTRA_SCENARIOS, raising=False)
    return tmp_path


def loader_message(path: str, overrides: dict[str, Any] | None = None) -> str:
    with pytest.raises(ScenarioError) as refused:
        load_scenario(path, overrides)
    return str(refused.value)


# ---------------------------------------------------------------------------- scenarios offered


def test_the_picker_offers_scenarios_cases_and_the_files_named_at_start(project, monkeypatch):
    mine = write(project / "elsewhere" / "mine.yaml", three_states(name="mine"))
    assert offered_scenarios() == {
        BASE: Path(BASE),
        "scenarios/my_unforgiving.yaml": Path("scenarios/my_unforgiving.yaml"),
        "scenarios/short.yaml": Path("scenarios/short.yaml"),
        THREE: Path(THREE),
    }
    assert default_scenario(offered_scenarios()) == BASE
    named = [str(mine), BASE, "missing.yaml", str(project / "scenarios")]
    monkeypatch.setenv(EXTRA_SCENARIOS, os.pathsep.join(named))
    assert list(offered_scenarios()) == [
        BASE,
        "scenarios/my_unforgiving.yaml",
        "scenarios/short.yaml",
        THREE,
        mine.as_posix(),
    ]
    assert default_scenario(offered_scenarios()) == mine.as_posix()
    assert DashboardModel(Settings(mine.as_posix())).config.name == "mine"


@pytest.mark.parametrize(
    "sent",
    [
        "/etc/passwd",
        "../../../../etc/passwd",
        "scenarios/../scenarios/jan2024_baseline.yaml",
        "./scenarios/jan2024_baseline.yaml",
        "jan2024_baseline.yaml",
        "scenarios/cases/three_states.observed.yaml",
        "scenarios/cases/_library.yaml",
        ["scenarios/jan2024_baseline.yaml"],
        None,
    ],
)
def test_the_picker_refuses_any_name_it_did_not_offer(project, monkeypatch, sent):
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a name that was not offered reached the disk")

    monkeypatch.setattr("sim.views.dashboard.load_scenario", never)
    with pytest.raises(SettingsError) as refused:
        DashboardModel(Settings(sent))
    assert str(refused.value) == "Pick a scenario from the list."


def test_an_absolute_path_of_an_offered_file_is_refused_too(project):
    with pytest.raises(SettingsError, match=r"^Pick a scenario from the list\.$"):
        DashboardModel(Settings(str((project / BASE).resolve())))


# ---------------------------------------------------------------------------- controls


EVERY_KIND = (
    "decision.deterrence",
    "actors.*.audience_cost",
    "actors.*.cost",
    "armed_groups.*.daily_rate",
    "third_parties.*.leverage",
    "third_parties.*.mediation.agreement_rate",
)
"""A ranking naming a number of every kind a control can set (the documented one is checked
against the baseline in tests/views/test_drivers.py)."""


@pytest.fixture
def every_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    """The controls as a ranking naming ``EVERY_KIND`` would make them."""
    monkeypatch.setattr("sim.views.controls.drivers", lambda: EVERY_KIND)


def test_each_state_in_crisis_gets_its_own_controls(project, every_kind):
    controls = controls_for(load_scenario(THREE))
    assert [(c.section, c.label) for c in controls] == [
        ("How every state decides", "Deterrence: value of answering in kind"),
        ("Arland", "How it answers"),
        ("Arland", "Resolve"),
        ("Arland", "Audience cost"),
        ("Arland", "Cost of using force"),
        ("Arland", "Answer to offers of talks"),
        ("Borduria", "How it answers"),
        ("Borduria", "Resolve"),
        ("Borduria", "Audience cost"),
        ("Borduria", "Cost of using force"),
        ("Borduria", "Answer to offers of talks"),
        ("Cardia", "How it answers"),  # the host: no talks are offered to it
        ("Cardia", "Resolve"),
        ("Cardia", "Audience cost"),
        ("Cardia", "Cost of using force"),
        ("Armed groups", "Hill Front: attacks"),
        ("The League", "Leverage"),
        ("The League", "Offers talks"),
        ("The League", "Daily chance talks agree"),
        ("Mechanisms", "States learn from acts"),
        ("Mechanisms", "Public pledges"),
        ("Mechanisms", "Third parties act"),
        ("Mechanisms", "Armed groups attack"),
        ("Mechanisms", "Acts can be misread"),
        ("Mechanisms", "Nuclear shadow"),
        ("Mechanisms", "Strikes announced in advance"),
        ("Mechanisms", "Quick diplomatic reactions"),
        ("Mechanisms", "Fighting goes on"),
        ("Mechanisms", "Talks go on under fire"),
        ("Mechanisms", "Measures stick (envoys, borders)"),
        ("Mechanisms", "Truces without a mediator"),
    ]
    by_key = {c.key: c for c in controls}
    assert [label for label, _ in by_key["actors.borduria.retaliation.policy"].options] == [
        "strategic",
        "never",
        "tit_for_tat (scenario)",
        "proportional",
        "escalate",
        "generous_tit_for_tat",
        "graduated",
        "threshold",
    ]
    assert by_key["actors.borduria.resolve"].options == (
        ("0.6 (scenario)", 0.6),
        ("low, about 0.25", {"beta": [2.0, 6.0]}),
        ("middling, about 0.5", {"beta": [3.0, 3.0]}),
        ("high, about 0.75", {"beta": [6.0, 2.0]}),
    )
    # half to twice the scenario's own, the range the ranking measured
    assert [label for label, _ in by_key["actors.cardia.cost"].options] == [
        "1.5",
        "2.25",
        "3 (scenario)",
        "4.5",
        "6",
    ]
    assert [label for label, _ in by_key["decision.deterrence"].options] == [
        "2",
        "3",
        "4 (scenario)",
        "6",
        "8",
    ]
    assert [
        value for _, value in by_key["third_parties.league.mediation.agreement_rate"].options
    ] == [
        0.025,
        0.0375,
        0.05,
        0.075,
        0.1,
    ]
    assert [label for label, _ in by_key["armed_groups.hill_front.daily_rate"].options] == [
        "none",
        "x0.5: about 9 a year",
        "x1: about 18 a year (scenario)",
        "x2: about 36 a year",
        "x4: about 73 a year",
    ]
    assert by_key["third_parties.league.mediation"].options == (
        ("on (scenario)", True),
        ("off", False),
    )


def test_a_state_in_no_crisis_and_mechanisms_with_nothing_to_show_get_no_controls(
    project, every_kind
):
    alone = three_states(relations=[{"between": ["arland", "borduria"]}], third_parties={})
    alone["actors"]["borduria"]["nuclear"] = False
    alone["armed_groups"]["hill_front"]["target"] = "borduria"
    controls = controls_for(load_scenario(write(project / "scenarios" / "alone.yaml", alone)))
    sections = list(dict.fromkeys(c.section for c in controls))
    assert sections == [
        "How every state decides",
        "Arland",
        "Borduria",
        "Armed groups",
        "Mechanisms",
    ]
    assert [c.label for c in controls if c.section == "Mechanisms"] == [
        "States learn from acts",
        "Public pledges",
        "Armed groups attack",
        "Acts can be misread",
        "Strikes announced in advance",
        "Quick diplomatic reactions",
        "Fighting goes on",
        "Talks go on under fire",
        "Measures stick (envoys, borders)",
        "Truces without a mediator",
    ]


def test_each_control_is_explained_in_the_words_of_the_schema(project, every_kind):
    by_key = {c.key: c for c in controls_for(load_scenario(THREE))}

    def schema(model: Any, name: str) -> str:
        return str(model.model_fields[name].description).replace("`", "")

    assert by_key["actors.arland.resolve"].hint({"beta": [3.0, 3.0]}) == schema(
        StateConfig, "resolve"
    )
    assert by_key["actors.arland.audience_cost"].hint(0.5) == schema(StateConfig, "audience_cost")
    assert by_key["actors.arland.cost"].hint(2.0) == schema(StateConfig, "cost")
    assert by_key["third_parties.league.leverage"].hint(1.0) == schema(ThirdPartyConfig, "leverage")
    assert by_key["mechanisms.nuclear"].hint(True) == schema(Mechanisms, "nuclear")
    assert by_key["decision.deterrence"].hint(4.0) == schema(Decision, "deterrence")
    assert by_key["third_parties.league.mediation.agreement_rate"].hint(0.05) == schema(
        Mediation, "agreement_rate"
    )
    assert by_key["actors.borduria.retaliation.policy"].hint("tit_for_tat") == (
        "How it answers a hostile act, and when it steps down: Answers at the rung received "
        "and steps down as the adversary does (Axelrod 1984)."
    )
    assert by_key["actors.borduria.mediation.policy"].hint("refuse") == (
        "How it answers a third party's offer of mediation: Always refuses an offer of mediation."
    )
    assert by_key["armed_groups.hill_front.daily_rate"].hint(1.0) == (
        "Based in Cardia, attacks Arland. Expected attacks per day in calm times. A crisis and "
        "talks under way can make it more active."
    )
    assert "``" not in by_key["actors.arland.retaliation.policy"].hint("strategic")


def test_controls_left_alone_change_nothing(project):
    for name in (BASE, THREE, "scenarios/short.yaml"):
        model = DashboardModel(Settings(name))
        assert (model.overrides, model.error) == ({}, None)
        assert model.config == load_scenario(name) == model.base


def test_each_control_becomes_its_loader_override(project, every_kind):
    choices = {
        "actors.borduria.retaliation.policy": "escalate",
        "actors.borduria.resolve": {"beta": [6.0, 2.0]},
        "actors.arland.audience_cost": 2.0,
        "actors.arland.cost": 2.0,  # the scenario's own: nothing to set
        "actors.cardia.cost": 1.5,
        "decision.deterrence": 8.0,
        "actors.arland.mediation.policy": "accept",
        "armed_groups.hill_front.daily_rate": 4.0,
        "third_parties.league.leverage": 0.5,
        "mechanisms.beliefs": False,
        "mechanisms.warnings": False,
        "mechanisms.nuclear": True,
    }
    base = load_scenario(THREE)
    overrides = overrides_for(base, choices)
    assert overrides == {
        "actors.arland.audience_cost": 2.0,
        "actors.arland.mediation.policy": "accept",
        "actors.borduria.retaliation.policy": "escalate",
        "actors.borduria.resolve": {"beta": [6.0, 2.0]},
        "actors.cardia.cost": 1.5,
        "decision.deterrence": 8.0,
        "armed_groups.hill_front.daily_rate": 0.2,
        "third_parties.league.leverage.arland": 0.2,
        "third_parties.league.leverage.borduria": 0.2,
        "mechanisms": {
            "operations": False,
            "beliefs": False,
            "warnings": False,
        },  # the file's own switch kept
    }
    model = DashboardModel(Settings(THREE, choices))
    assert model.overrides == overrides
    assert model.config == load_scenario(THREE, overrides)
    borduria = model.config.actors["borduria"]
    assert borduria.retaliation.policy == "escalate"
    assert borduria.retaliation.delay == 2  # kept from the scenario, as --set keeps it
    assert (borduria.resolve.kind, borduria.resolve.params) == ("beta", (6.0, 2.0))
    assert model.config.third_parties["league"].leverage == {"arland": 0.2, "borduria": 0.2}
    assert model.config.decision.deterrence == 8.0
    assert (model.config.mechanisms.beliefs, model.config.mechanisms.misperception) == (False, True)
    off = overrides_for(base, {"third_parties.league.mediation": False})
    assert off == {"third_parties.league.mediation": None}
    assert (
        DashboardModel(Settings(THREE, {"third_parties.league.mediation": False}))
        .config.third_parties["league"]
        .mediation
        is None
    )


def test_switching_a_mechanism_keeps_the_files_own_mechanisms(project):
    own = three_states(name="slow", mechanisms={"rounds_per_day": 2, "reactions": False})
    base = load_scenario(write(project / "scenarios" / "slow.yaml", own))
    assert overrides_for(base, {"mechanisms.beliefs": False}) == {
        "mechanisms": {"reactions": False, "rounds_per_day": 2, "beliefs": False}
    }
    assert overrides_for(base, {"mechanisms.reactions": True}) == {
        "mechanisms": {"reactions": True, "rounds_per_day": 2}
    }


def test_what_the_browser_sends_must_be_one_of_the_choices(project, every_kind):
    by_key = {c.key: c for c in controls_for(load_scenario(THREE))}
    policy, cost, talks = (
        by_key["actors.borduria.retaliation.policy"],
        by_key["actors.arland.audience_cost"],
        by_key["third_parties.league.mediation"],
    )
    assert (policy.value_of("escalate"), policy.value_of("tit_for_tat (scenario)")) == (
        "escalate",
        "tit_for_tat",
    )
    assert (cost.value_of("0.5 (scenario)"), talks.value_of(False)) == (0.5, False)
    for control, sent in [(cost, "99"), (cost, 0.5), (policy, ["escalate"]), (talks, "off")]:
        with pytest.raises(SettingsError) as refused:
            control.value_of(sent)
        assert str(refused.value) == (
            f"{control.section}, {control.label}: pick one of the choices offered."
        )
    assert cost.label_of(0.25) == "0.25" and cost.label_of(0.7) == "0.7"


# ---------------------------------------------------------------------------- the run


def test_the_replay_command_tells_the_same_run(project):
    choices = {
        "actors.borduria.retaliation.policy": "escalate",
        "actors.arland.resolve": {"beta": [2.0, 6.0]},
        "mechanisms.beliefs": False,
    }
    model = DashboardModel(Settings(THREE, choices, seed=12))
    command = replay_command(model)
    assert command == (
        "python run.py story scenarios/cases/three_states.yaml --seed 12 "
        "--set 'actors.arland.resolve={beta: [2.0, 6.0]}' "
        "--set actors.borduria.retaliation.policy=escalate "
        "--set 'mechanisms={beliefs: false, operations: false}'"  # the file's own switch kept
    )
    words = shlex.split(command)
    pairs = [words[i + 1] for i, word in enumerate(words) if word == "--set"]
    replayed = load_scenario(words[3], parse_overrides(pairs))
    assert replayed == model.config
    while model.running:
        model.step()
    story = run_story(replayed, int(words[5]))
    assert model.rung_history() == story.rung_history()
    assert [e.text for e in model.events[0]] == [e.text for e in story.events[0]]


def test_a_command_wraps_only_between_options_and_copies_as_typed():
    command = "python run.py story 'my file.yaml' --seed 12 --set 'mechanisms={beliefs: false}'"
    assert command_html(command) == (
        "<span class='word'>python</span> <span class='word'>run.py</span> "
        "<span class='word'>story</span> <span class='word'>&#x27;my file.yaml&#x27;</span> "
        "<span class='word'>--seed 12</span> "
        "<span class='word'>--set &#x27;mechanisms={beliefs: false}&#x27;</span>"
    )


def test_the_run_stops_at_the_horizon(project):
    model = DashboardModel(Settings(THREE))
    for _ in range(29):
        model.step()
    assert model.running
    model.step()
    assert (model.day, model.running, len(model.rung_history())) == (30, False, 31)


def test_a_failure_of_the_model_stops_the_run_with_a_sentence(project, monkeypatch):
    model = DashboardModel(Settings(THREE))
    model.step()

    def broken(self: Any) -> None:
        raise ValueError("no such posture")

    monkeypatch.setattr("sim.model.model.EscalationModel.step", broken)
    model.step()
    assert (model.running, model.stopped) == (
        False,
        "The run stopped: the model failed on day 2 (no such posture).",
    )


def test_a_scenario_the_loader_refuses_is_refused_with_the_loaders_message(project):
    expected = loader_message("scenarios/my_unforgiving.yaml")
    assert expected.startswith("scenarios/my_unforgiving.yaml: actors.pakistan.pledg: unknown key")
    with pytest.raises(SettingsError) as refused:
        DashboardModel(Settings("scenarios/my_unforgiving.yaml"))
    assert str(refused.value) == expected


def test_reset_after_the_file_broke_keeps_the_last_version_that_loaded(project):
    choices = {"actors.arland.audience_cost": 1.0}
    good = DashboardModel(Settings(THREE, choices, seed=4))
    broken = three_states()
    broken["actors"]["arland"]["retaliation"]["policy"] = "stratgic"
    write(project / THREE, broken)
    again = DashboardModel(Settings(THREE, choices, seed=4), fallback=good)
    assert again.error == f"{loader_message(THREE)}\n\nStill showing the last version that loaded."
    assert (again.config, again.settings, again.overrides) == (
        good.config,
        good.settings,
        good.overrides,
    )
    assert again.day == 0 and again is not good


def test_a_seed_is_a_whole_number_from_zero(project):
    for seed in (-3, 2**63):
        with pytest.raises(SettingsError) as refused:
            DashboardModel(Settings(THREE, seed=seed))
        assert str(refused.value) == f"A seed is a whole number from 0 up, not {seed}."


def test_postures_and_the_ladder_chart(project):
    model = DashboardModel(Settings(THREE))
    assert posture_rows(model) == [
        ("Arland", 4, "clash"),
        ("Borduria", 0, "normal relations"),
        ("Cardia", 0, "normal relations"),
    ]
    for _ in range(3):
        model.step()
    figure = ladder_figure(model)
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "0 normal relations",
        "1 protest",
        "2 show of force",
        "3 strike on a camp",
        "4 clash",
        "5 war",
    ]
    history = np.array(model.rung_array())
    steps = [line for line in ax.get_lines() if len(line.get_xdata()) == 4]
    assert [list(np.round(line.get_ydata() - line.get_ydata()[0], 6)) for line in steps] == [
        list(history[:, i] - history[0, i]) for i in range(3)
    ]
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["Arland", "Borduria", "Cardia"]
    assert_chart_text_is_large(figure)


def assert_chart_text_is_large(figure: Any, width: float = CHART_WIDTH_IN) -> None:
    """Every text of a chart at least ``CHART_FONT_PT``, on a chart ``width`` inches wide (the
    ladder's ``CHART_WIDTH_IN``, the curves' ``CURVES_WIDTH_IN``)."""
    texts = [t for t in figure.findobj(Text) if t.get_text() and t.get_visible()]
    assert texts and min(t.get_fontsize() for t in texts) >= CHART_FONT_PT
    assert figure.get_figwidth() == width


def test_today_and_the_earlier_days_in_words(project):
    model = DashboardModel(Settings(THREE))
    assert today_html(model) == (
        "<div class='decision'><div class='act'>Arland&#x27;s troops clash with Borduria&#x27;s "
        "at the border</div></div>"
    )
    assert story_html(model) == ""
    model.step()
    assert day_events(model, 1) == []  # Borduria answers on day 2
    assert today_html(model) == "<p>A quiet day: nothing was done and nothing decided.</p>"
    assert story_html(model) == (
        "<div class='story-day'>Day 0</div><ul><li>Arland&#x27;s troops clash with "
        "Borduria&#x27;s at the border</li></ul>"
    )


def test_the_reasons_shown_are_the_storys_and_the_recorded_terms(project):
    model = DashboardModel(Settings(THREE))
    names = names_of(model)
    decisions = 0
    for _ in range(8):
        model.step()
        shown = today_html(model)
        for event in day_events(model, model.day):
            why = reason(event, names)
            found = weighing(event, names)
            if event.choice is None:
                assert not why and found is None
                continue
            decisions += 1
            assert f"<div class='why'>Why: {escape(why)}</div>" in shown
            assert found is not None and weighing_html(found) in shown
            choice = event.choice
            option = chosen_option(event)
            terms = choice.terms[option]
            parts = any(k.startswith("pressure:") for k in terms)
            recorded = sorted(
                v for k, v in terms.items() if abs(v) >= 0.005 and not (parts and k == "pressure")
            )
            assert sorted(value for _, value in found.terms) == recorded
            assert found.heading.startswith(
                "Accepting the talks"
                if choice.kind == "mediation"
                else f"'{choice.labels[option]}'"
            )
    assert decisions >= 3


def chosen_option(event: Event) -> int:
    """The option the reason speaks of, from the recorded choice."""
    choice = event.choice
    assert choice is not None
    if choice.kind == "mediation":
        return 1
    if choice.chosen:
        return choice.chosen
    others = [o for o in range(1, len(choice.labels)) if choice.terms[o]]
    return max(others, key=lambda o: choice.utility[o])


def decision(choice: Choice) -> Event:
    return Event(2, 0, "strike", "borduria", "arland", 4, "Borduria answers Arland", choice)


def test_the_bars_weigh_the_option_the_reason_speaks_of():
    names = {"arland": "Arland", "borduria": "Borduria", "league": "The League"}
    answer = Choice(
        kind="answer",
        labels=("no answer", "protest", "clash"),
        terms=(
            {},
            {"resolve": 0.1, "cost": -0.05},
            {
                "resolve": 0.8,
                "cost": -0.4,
                "pressure": -0.1,
                "pressure:The League": -0.1,
                "risk": 0.001,
            },
        ),
        utility=(0.0, 0.05, 0.3),
        probability=(0.3, 0.2, 0.5),
        chosen=2,
    )
    assert weighing(decision(answer), names) == Weighing(
        "'clash', chosen",
        (("restoring deterrence", 0.8), ("the cost", -0.4), ("The League's pressure", -0.1)),
    )
    let_go = dataclasses.replace(answer, chosen=0)
    assert weighing(decision(let_go), names) == Weighing(
        "'clash', the best option not taken",
        (("restoring deterrence", 0.8), ("the cost", -0.4), ("The League's pressure", -0.1)),
    )
    talks = Choice(
        kind="mediation",
        labels=("refuse", "accept"),
        terms=({}, {"ripeness": 1.2, "held_back": -1.5}),
        utility=(0.0, -0.3),
        probability=(0.9, 0.1),
        chosen=0,
    )
    assert weighing(decision(talks), names) == Weighing(
        "Accepting the talks rather than refusing",
        (("the answer the talks would hold back", -1.5), ("both sides hurting", 1.2)),
    )
    alone = Choice("answer", ("no answer",), ({},), (0.0,), (1.0,), 0)
    assert weighing(decision(alone), names) is None


def test_the_bars_are_drawn_for_to_the_right_and_against_to_the_left():
    assert weighing_html(Weighing("'clash', chosen", (("the cost", -0.4), ("resolve", 0.8)))) == (
        "<div class='terms'><div class='option'>&#x27;clash&#x27;, chosen:</div>"
        "<div class='term-name'>the cost</div><div class='term-bar'><span class='half'>"
        "<span class='against' style='width:50%'></span></span><span class='half'></span></div>"
        "<div class='term-value'>-0.40</div>"
        "<div class='term-name'>resolve</div><div class='term-bar'><span class='half'></span>"
        "<span class='half'><span class='for' style='width:100%'></span></span></div>"
        "<div class='term-value'>+0.80</div></div>"
    )


# ---------------------------------------------------------------------------- ensembles


def summary_row(outcome: str, label: str, kind: str, values: tuple[float, ...]) -> dict[str, Any]:
    return dict(
        zip(
            ["outcome", "label", "kind", "estimate", "ci_low", "ci_high"],
            [outcome, label, kind, *values],
            strict=True,
        )
    )


def test_an_ensemble_is_summarised_in_words(project):
    scenario = load_scenario(THREE)
    # a scenario with a mediator has every key outcome, in the constant's order; without one,
    # "talks accepted" is left out rather than shown at 0%
    assert [o.name for o in key_outcomes(scenario)] == list(KEY_OUTCOMES)
    unmediated = scenario.model_copy(update={"third_parties": {}})
    assert [o.name for o in key_outcomes(unmediated)] == [
        name for name in KEY_OUTCOMES if name != "accepted"
    ]
    rows = [
        summary_row(
            "answer_7d",
            "P(the state struck first answers within 7 days)",
            "probability",
            (0.55, 0.53, 0.57),
        ),
        summary_row("strike_30d", "P(some state strikes)", "probability", (1.0, 0.998, 1.0)),
        summary_row("forces_30d", "P(forces)", "probability", (0.0, 0.0, 0.002)),
        summary_row(
            "sustained",
            "P(both sides strike, on three or more days in all)",
            "probability",
            (0.925, 0.9, 0.95),
        ),
        summary_row("war", "P(war by the horizon)", "probability", (0.004, 0.002, 0.0079)),
        summary_row("accepted", "P(talks are accepted)", "probability", (0.5, 0.47, 0.52)),
        summary_row(
            "calm_14d", "P(back to baseline within 14 days)", "probability", (0.41, 0.38, 0.43)
        ),
        summary_row("days_to_calm", "Days until back to baseline", "days", (17.0, 16.0, 31.0)),
    ]
    result = EnsembleResult(
        Settings(THREE),
        scenario,
        {},
        "three_states as written",
        pd.DataFrame(),
        pd.DataFrame(),
        pd.DataFrame(rows),
        0.3,
    )
    assert summary_lines(result) == [
        "The state struck first answers within 7 days: 55% (95% CI 53% to 57%).",
        "Some state strikes: 100% (95% CI 99.8% to 100%).",
        "Forces: 0% (95% CI 0% to 0.2%).",
        "Both sides strike, on three or more days in all: 92.5% (95% CI 90% to 95.0%).",
        "War by the horizon: 0.4% (95% CI 0.2% to 0.8%).",
        "Talks are accepted: 50% (95% CI 47% to 52%).",
        "Back to baseline within 14 days: 41% (95% CI 38% to 43%).",
        "Days until back to baseline (median): 17 (95% CI 16 to not within 30).",
    ]


def test_a_comparison_is_told_in_words():
    table = pd.DataFrame(
        [
            (
                "probability",
                "P(both sides strike, on three or more days in all)",
                0.71,
                0.12,
                0.596,
                0.573,
                0.617,
                "higher",
            ),
            (
                "probability",
                "P(back to baseline within 14 days)",
                0.0,
                0.41,
                -0.406,
                -0.428,
                -0.385,
                "lower",
            ),
            (
                "probability",
                "P(war by the horizon)",
                0.004,
                0.005,
                -0.001,
                -0.004,
                0.002,
                "no detectable difference",
            ),
            ("days", "Days until back to baseline", 61.0, 17.0, 44.0, 43.0, 44.5, "higher"),
            ("days", "Days until back to baseline", 15.0, 17.0, -2.0, -3.0, -1.0, "lower"),
        ],
        columns=[
            "kind",
            "label",
            "value",
            "reference_value",
            "difference",
            "ci_low",
            "ci_high",
            "verdict",
        ],
    )
    assert difference_lines(table, 60) == [
        "Both sides strike, on three or more days in all: 71% now, 12% pinned: more likely "
        "(+59.6 points, 95% CI +57.3 to +61.7).",
        "Back to baseline within 14 days: 0% now, 41% pinned: less likely "
        "(-40.6 points, 95% CI -42.8 to -38.5).",
        "War by the horizon: 0.4% now, 0.5% pinned: no detectable difference "
        "(-0.1 points, 95% CI -0.4 to +0.2).",
        "Days until back to baseline (median): not within 60 now, 17 pinned: later "
        "(+44 days, 95% CI +43 to +44.5).",
        "Days until back to baseline (median): 15 now, 17 pinned: sooner "
        "(-2 days, 95% CI -3 to -1).",
    ]


def test_a_pinned_ensemble_is_compared_run_for_run(project):
    before = ensemble_of(DashboardModel(Settings(THREE)), 500)
    changed = {"actors.borduria.retaliation.policy": "escalate"}
    now = ensemble_of(DashboardModel(Settings(THREE, changed)), 500)
    assert (before.described, now.described) == (
        "three_states as written",
        "three_states with Borduria, how it answers: escalate",
    )
    assert ensemble_command(now) == (
        "python run.py run scenarios/cases/three_states.yaml --runs 500 --workers 1 "
        "--set actors.borduria.retaliation.policy=escalate"
    )
    assert now.runs["seed"].tolist() == before.runs["seed"].tolist()
    table = compare(before, now)
    runs = pd.concat(
        [before.runs.assign(scenario="pinned"), now.runs.assign(scenario="now")], ignore_index=True
    )
    expected = compare_runs(runs, key_outcomes(now.scenario), 30)
    pd.testing.assert_frame_equal(table, expected)
    assert table["paired"].all() and table["outcome"].tolist() == [
        o.name for o in key_outcomes(now.scenario)
    ]
    same = compare(before, before)
    assert (same["difference"] == 0).all()
    assert set(same["verdict"]) == {"no detectable difference"}
    assert comparable(before, now) is None


def test_ensembles_of_different_crises_are_not_compared(project):
    def of(name: str) -> EnsembleResult:
        empty = pd.DataFrame()
        return EnsembleResult(Settings(name), load_scenario(name), {}, name, empty, empty, empty, 0)

    assert comparable(of(BASE), of(THREE)) == (
        "The pinned ensemble is of jan2024_baseline, whose states, ladder or horizon differ "
        "from those of three_states: pin an ensemble of this scenario to compare."
    )
    assert comparable(of(BASE), of("scenarios/short.yaml")) == (
        "The pinned ensemble is of jan2024_baseline, whose states, ladder or horizon differ "
        "from those of short: pin an ensemble of this scenario to compare."
    )
    assert comparable(of("scenarios/short.yaml"), of("scenarios/short.yaml")) is None


def test_only_the_offered_ensemble_sizes_are_run(project):
    with pytest.raises(
        SettingsError, match=r"^Pick a number of runs from \(500, 1000, 2000, 5000\)\.$"
    ):
        ensemble_of(DashboardModel(Settings(THREE)), 10**9)


def test_the_ensemble_chart_draws_the_pinned_and_the_newest_curve(project):
    before = ensemble_of(DashboardModel(Settings(THREE)), 500)
    now = ensemble_of(DashboardModel(Settings(THREE, {"actors.arland.cost": 0.5})), 500)
    assert open_rung(now.curves, 5) == 5  # every run stands at rung 4 (clash) on day 0
    assert open_rung(now.curves[now.curves["rung"] < 4], 5) == 5
    figure = ensemble_figure(now, before, 5)
    (ax,) = figure.axes
    lines = [line for line in ax.get_lines() if line.get_label().endswith("runs)")]
    assert [(line.get_label(), line.get_color()) for line in lines] == [
        ("Pinned (500 runs)", BEFORE),
        ("Newest (500 runs)", AFTER),
    ]
    curve = now.curves[now.curves["rung"] == 5]["probability"].to_numpy()
    assert np.array_equal(lines[1].get_ydata(), curve)
    assert ax.get_title() == "Reached rung 5, war, by that day"
    assert_chart_text_is_large(figure, CURVES_WIDTH_IN)
    alone = ensemble_figure(now, None, 5)
    assert [line.get_label() for line in alone.axes[0].get_lines()] == ["This ensemble (500 runs)"]
    # every run stands at rung 4 from day 0: a sentence, not a flat 100% line
    opening = ensemble_figure(now, before, 4)
    (ax,) = opening.axes
    assert ax.get_lines() == [] and opening.legends == []
    assert [t.get_text() for t in ax.texts] == ["Already reached on day 0\nby the opening act"]
    assert ax.get_title() == "Reached rung 4, clash, by that day"


def test_the_curves_a_class_asks_about_come_first_and_the_rungs_from_the_opening(project):
    result = ensemble_of(DashboardModel(Settings(BASE)), 500)
    assert list(curve_choices(result.scenario, result.curves).items()) == [
        ("The state struck first (Pakistan) answers with a strike", "answer"),
        ("Some state strikes another state's forces", "forces"),
        ("Back to baseline", "calm"),
        ("War", "war"),
        ("The crisis reaches rung 5: strike on state forces", 5),
        ("The crisis reaches rung 6: sustained exchange of fire", 6),
        ("The crisis reaches rung 7: war", 7),
    ]
    assert first_curve(result.scenario, result.curves) == "answer"
    assert reached_note(result.scenario, result.curves) == (
        "Rungs 1 to 4 (verbal protest to limited strike on an armed group) were already "
        "reached on day 0 by the opening act."
    )
    with pytest.raises(SettingsError, match=r"^There is no curve 'sustained' for jan2024_baseline"):
        ensemble_figure(result, None, "sustained")


def test_the_answer_curve_is_the_share_of_runs_answered_by_each_day_in_per_cent(project):
    before = ensemble_of(DashboardModel(Settings(BASE)), 500)
    now = ensemble_of(
        DashboardModel(Settings(BASE, {"actors.pakistan.retaliation.policy": "escalate"})), 500
    )
    figure = ensemble_figure(now, before, "answer")
    (ax,) = figure.axes
    assert ax.get_title().replace("\n", " ") == (
        "The state struck first (Pakistan) answers with a strike, by that day"
    )
    lines = [line for line in ax.get_lines() if line.get_label().endswith("runs)")]
    assert [line.get_label() for line in lines] == ["Pinned (500 runs)", "Newest (500 runs)"]
    for line, result in zip(lines, (before, now), strict=True):
        # the share of runs whose answer_day is on or before each day, counted here directly
        answered = result.runs["answer_day"].to_numpy()
        expected = [float(np.mean(answered <= day)) for day in range(61)]
        assert line.get_ydata() == pytest.approx(expected)
        # on day 7 it is the summary's answer_7d
        row = result.summary.set_index("outcome").loc["answer_7d"]
        assert line.get_ydata()[7] == pytest.approx(row["estimate"])
    assert ax.get_ylabel() == "Share of runs"
    figure.canvas.draw()
    bottom, top = ax.get_ylim()
    shown = [
        (value, label.get_text())
        for value, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)
        if bottom <= value <= top
    ]
    assert [text for _, text in shown] == ["0%", "20%", "40%", "60%", "80%", "100%"]
    assert all(text == percent(value) for value, text in shown)
    assert_chart_text_is_large(figure, CURVES_WIDTH_IN)


def test_without_a_state_struck_first_there_is_no_answer_curve(project):
    scenario = load_scenario(BASE, overrides={"events": []})
    assert [o.name for o in curve_outcomes(scenario)] == ["forces_60d", "calm_60d", "war_60d"]
    curves = pd.DataFrame({"rung": [0, 1], "day": [0, 0], "probability": [1.0, 0.2]})
    assert first_curve(scenario, curves) == 1
    assert reached_note(scenario, curves) == ""


# ---------------------------------------------------------------------------- the page


def test_the_title_names_the_states_in_crisis(project):
    assert crisis_title(load_scenario(THREE)) == "Arland, Borduria and Cardia: three_states"
    assert crisis_title(load_scenario(BASE)) == "Iran and Pakistan: jan2024_baseline"


def test_without_any_scenario_the_page_says_where_to_start_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(EXTRA_SCENARIOS, raising=False)
    assert first_model() == (
        "There are no scenario files in scenarios/ or scenarios/cases/ here: start the "
        "dashboard from the project folder, or name a scenario file when you start it."
    )
    write(tmp_path / "scenarios" / "bad.yaml", {"name": "bad"})
    assert first_model() == "No scenario could be loaded:\n\n" + loader_message(
        "scenarios/bad.yaml"
    )


def test_the_page_opens_on_the_first_scenario_that_loads(project, monkeypatch):
    monkeypatch.setenv(EXTRA_SCENARIOS, "scenarios/my_unforgiving.yaml")
    model = first_model()
    assert isinstance(model, DashboardModel) and model.settings == Settings(BASE)


@dataclass
class Rendered:
    """The page rendered in Python, as Solara serves it (in its app layout)."""

    rc: Any

    def select(self, css_class: str) -> Any:
        return self.rc.find(v.Select, class_=css_class).widget

    def alerts(self) -> list[str]:
        return [str(w.children[0]) for w in self.rc.find(v.Alert).widgets]

    def texts(self) -> str:
        return " ".join(str(w.unsafe_innerHTML) for w in self.rc.find(solara.widgets.HTML).widgets)

    def button(self, name: str) -> Any:
        (found,) = [w for w in self.rc.find(v.Btn).widgets if w.children == [name]]
        return found


@pytest.fixture
def page(project: Path) -> Iterator[Rendered]:
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    try:
        yield Rendered(rc)
    finally:
        rc.close()


def test_the_page_refuses_a_name_sent_for_the_picker_and_keeps_the_run(page):
    picker = page.select("control scenario-picker")
    assert picker.items == [
        {"text": "jan2024_baseline: teaching scenario", "value": BASE},
        {"text": "my_unforgiving", "value": "scenarios/my_unforgiving.yaml"},
        {"text": "short", "value": "scenarios/short.yaml"},
        {"text": "cases/three_states", "value": THREE},
    ]
    picker.v_model = "/etc/passwd"
    assert "Pick a scenario from the list." in page.alerts()
    assert page.select("control scenario-picker").v_model == BASE
    assert "Iran has just struck" in page.texts()


def test_the_seed_crisis_is_labelled_for_what_each_version_is_and_why_they_differ(page):
    """The teaching scenario and the library's encoding of the same crisis: each names what it
    is in the picker, and one line under it says why it differs from the other."""
    assert picker_label(BASE) == "jan2024_baseline: teaching scenario"
    case = "scenarios/cases/jan2024-iran-pakistan.yaml"
    assert picker_label(case) == "cases/jan2024-iran-pakistan: case library version"
    assert picker_label(THREE) == "cases/three_states" and picker_note(THREE) == ""
    for name, version in SEED_CRISIS.items():
        assert (ROOT / name).is_file(), name
        assert "\n" not in version.why and len(version.why) <= 100, name
    assert SEED_CRISIS[BASE].why != SEED_CRISIS[case].why
    documented = (ROOT / "docs" / "dashboard.md").read_text()
    for name, version in SEED_CRISIS.items():  # docs/dashboard.md quotes the picker's words
        assert f"| `{picker_label(name)}` | {version.why} | `{name}` |" in documented
    assert escape(SEED_CRISIS[BASE].why) in page.texts()
    page.select("control scenario-picker").v_model = THREE
    assert "Day 0 of 30" in page.texts()
    assert all(escape(version.why) not in page.texts() for version in SEED_CRISIS.values())


def test_the_page_follows_the_scenario_picked(page):
    page.select("control scenario-picker").v_model = THREE
    policy = page.select("control control-actors-cardia-retaliation-policy")
    assert (policy.label, policy.v_model) == ("How it answers", "never (scenario)")
    assert "Day 0 of 30, run 7" in page.texts()
    page.button("Step").click()
    assert "Day 1 of 30, run 7" in page.texts()


def test_the_page_shows_the_loaders_message_and_keeps_the_last_good_scenario(page):
    page.select("control scenario-picker").v_model = "scenarios/my_unforgiving.yaml"
    assert loader_message("scenarios/my_unforgiving.yaml") in page.alerts()
    assert page.select("control scenario-picker").v_model == BASE
    assert "Iran has just struck" in page.texts()


def test_a_change_of_control_starts_a_new_run_and_a_refused_one_is_undone(page):
    page.button("Step").click()
    assert "Day 1 (Wed 17 Jan) of 60, run 7" in page.texts()
    page.select("control control-actors-pakistan-retaliation-policy").v_model = "escalate"
    assert "Day 0 (Tue 16 Jan) of 60, run 7" in page.texts()
    assert "--set actors.pakistan.retaliation.policy=escalate" in page.texts()
    talks = page.select("control control-actors-pakistan-mediation-policy")
    talks.v_model = "99"
    assert "Pakistan, Answer to offers of talks: pick one of the choices offered." in page.alerts()
    assert page.select("control control-actors-pakistan-mediation-policy").v_model == (
        "decide (scenario)"
    )


def test_a_guard_says_what_failed_instead_of_a_traceback():
    @solara.component
    def Broken() -> None:
        raise ValueError("the model broke")

    @solara.component
    def Guarded() -> None:
        with Guard():
            Broken()

    _, rc = solara.render(Guarded(), handle_error=False)
    assert rc.find(v.Alert).widget.children == [
        "Something went wrong here: the model broke. The server's log has the details."
    ]
    assert rc.find(v.Btn).widget.children == ["Carry on"]
    rc.close()


def test_app_exposes_the_page():
    assert runpy.run_path(str(ROOT / "app.py"))["page"] is Page


def test_import_sim_does_not_import_solara():
    code = (
        "import sys, sim, sim.cli.commands; print(sorted(m for m in sys.modules if 'solara' in m))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_dashboard_command_serves_the_app_with_solara(monkeypatch, started):
    monkeypatch.chdir(ROOT)
    calls, envs = started.calls, started.envs
    assert main(["dashboard", "--port", "8800"]) == 0
    assert envs[0]["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert "ESCALATION_SIM_SCENARIOS" not in envs[0] or envs[0][
        "ESCALATION_SIM_SCENARIOS"
    ] == os.environ.get("ESCALATION_SIM_SCENARIOS")
    assert calls == [
        [
            sys.executable,
            "-m",
            "solara",
            "run",
            "sim.views.dashboard",
            "--host",
            "127.0.0.1",
            "--port",
            "8800",
            "--production",
            "--no-check-version",
        ]
    ]


def test_dashboard_command_offers_named_files_and_warns_of_a_public_host(
    monkeypatch, capsys, tmp_path, started
):
    monkeypatch.chdir(tmp_path)  # no scenarios/ here: the named files are enough
    own = tmp_path / "mine.yaml"
    own.write_text((ROOT / "scenarios" / "jan2024_baseline.yaml").read_text())
    envs = started.envs
    assert main(["dashboard", "mine.yaml", "--host", "0.0.0.0"]) == 0
    assert envs[0]["ESCALATION_SIM_SCENARIOS"] == str(own.resolve())
    assert capsys.readouterr().err == (
        "warning: --host 0.0.0.0 serves the dashboard beyond this machine: anyone who can reach "
        "this computer on port 8765 can open it and run simulations on it, with no password. "
        "Use the default --host 127.0.0.1 to keep it to this computer.\n"
    )
    assert main(["dashboard", "nowhere.yaml"]) == 2
    assert capsys.readouterr().err == "error: no such scenario file: nowhere.yaml\n"


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
        'solara). Install them from the project folder with pip install -e ".[dashboard]" (into '
        'the virtual environment: .venv/bin/pip install -e ".[dashboard]"), then run python '
        "run.py dashboard again.\n"
    )


# ---------------------------------------------------------------------------- in a browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORTS = [(1024, 768), (1440, 900)]
"""A classroom projector, and a laptop."""
SCREENSHOTS = "DASHBOARD_SCREENSHOTS"
"""Environment variable naming a folder for the browser tests' screenshots (default: pytest's
temporary folder); the README's come from there."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """The dashboard served from a project folder, and where its log and screenshots go."""

    url: str
    folder: Path
    log: Path
    screenshots: Path

    def shot(self, page: Any, name: str) -> None:
        page.screenshot(path=str(self.screenshots / f"{name}.png"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``run.py dashboard`` on a free port of 127.0.0.1, in a project folder; the server is
    stopped whatever happens."""
    folder = make_project(tmp_path_factory.mktemp("project"))
    screenshots = Path(os.environ.get(SCREENSHOTS) or tmp_path_factory.mktemp("screenshots"))
    screenshots.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = folder / "server.log"
    log = log_path.open("w")
    env = {k: value for k, value in os.environ.items() if k != EXTRA_SCENARIOS}
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "dashboard", "--port", str(port)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**env, "BROWSER": "true"},  # solara opens a browser: make it a no-op
        start_new_session=True,  # so that the server and its solara child stop together
    )
    try:
        wait_until_served(server, url, log_path.read_text)
        yield Served(url, folder, log_path, screenshots)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def wait_until_served(
    server: subprocess.Popen[bytes], url: str, stopped: Callable[[], str]
) -> None:
    """Wait for evidence that the dashboard serves (an HTTP answer), up to 90 s; ``stopped``
    says why if its process ends first."""
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, stopped()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, "the dashboard did not answer within 90 s"
        time.sleep(0.2)


@pytest.mark.slow
def test_the_dashboard_command_and_its_server_exit_on_sigterm(tmp_path):
    """SIGTERM to ``run.py dashboard`` alone (as a service manager or ``kill`` sends it) stops
    the solara server it started too: nothing of it is left serving."""
    folder = make_project(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {k: value for k, value in os.environ.items() if k != EXTRA_SCENARIOS}
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "dashboard", "--port", str(port)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**env, "BROWSER": "true"},
        start_new_session=True,  # its own process group: empty once every process of it exits
    )
    try:
        wait_until_served(server, url, lambda: "the dashboard stopped before it served")
        server.send_signal(signal.SIGTERM)  # to the command only, not to its group
        assert server.wait(timeout=60) == 0
        deadline = time.monotonic() + 60
        while True:  # the solara child, in the same group, has gone too
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, "the solara server outlived its command"
            time.sleep(0.2)
        with pytest.raises(OSError):
            urllib.request.urlopen(url, timeout=2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"the browser tests need Debian's chromium at {CHROMIUM}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; install it (apt-get install chromium) on the CI machine")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(served: Served, chromium: Any) -> Iterator[Any]:
    """A fresh tab at a viewport, on the dashboard; it must ask for nothing but the server's own
    files, and nothing may fail."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    pages, elsewhere, failed = [], [], []

    def opened(width: int = 1024, height: int = 768, init_script: str = "") -> Any:
        page = chromium.new_page(viewport={"width": width, "height": height})
        if init_script:
            page.add_init_script(init_script)

        def requested(request: Any) -> None:
            if not request.url.startswith((served.url, "blob:", "data:")):
                elsewhere.append(request.url)

        def answered(response: Any) -> None:
            if response.status >= 400:
                failed.append(f"{response.status} {response.url}")

        page.on("request", requested)
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("response", answered)
        page.goto(served.url)
        expect(page.locator(".run-day")).to_contain_text("Day 0")
        pages.append(page)
        return page

    yield opened
    for page in pages:
        assert "Traceback" not in page.locator("body").inner_text()
        page.close()
    assert not elsewhere, f"the page asked for more than local assets: {elsewhere}"
    assert not failed, f"some of the page's requests failed: {failed}"


def choose(page: Any, css_class: str, option: str) -> None:
    """Pick ``option`` in the select with ``css_class``, as a student does."""
    page.locator(f".{css_class} .v-input__slot").click()
    page.locator(".menuable__content__active").get_by_text(option, exact=True).click()


def run_ensemble(page: Any, shows: str) -> None:
    """Press Run ensemble and wait until the outcomes say what this ensemble ``shows`` (the
    chart may be redrawn before that, by the pin)."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Run ensemble").click()
    expect(page.locator(".outcomes")).to_contain_text(shows)
    expect(page.get_by_role("button", name="Run ensemble")).to_be_enabled()
    page.wait_for_function(
        "() => { const img = document.querySelector('.ensemble-chart img');"
        " return img && img.complete && img.naturalWidth > 0; }"
    )


SEND_TO_THE_PICKER = """sent => {
    const picker = document.querySelector('.scenario-picker');
    picker.dataset.sent = sent;
    picker.__vue__.$emit('input', sent);
}"""
"""What a client can send for the picker without the menu: any value at all."""

UNCOVERED = """el => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const inside = r.top > -1 && r.left > -1
        && r.bottom < innerHeight + 1 && r.right < innerWidth + 1;
    return inside && r.width > 0 && r.height > 0 && (hit === el || el.contains(hit));
}"""
"""Whether the element lies in the window and nothing covers its centre. Less than a pixel over
the edge counts as inside: scrolling stops at whole pixels, so an element laid out at a fraction
of one (a bottom at 768.4 in a 768-pixel window) can end there however far it is scrolled."""


@pytest.mark.slow
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda size: f"{size[0]}x{size[1]}")
def test_every_control_is_visible_and_clickable(served, open_page, viewport):
    from playwright.sync_api import expect

    page = open_page(*viewport)
    run_ensemble(page, "2,000 runs in")
    page.get_by_role("button", name="Pin it").click()
    run_ensemble(page, "Newest against pinned")
    controls = len(controls_for(load_scenario(served.folder / BASE))) + 1  # and the picker
    expect(page.locator(".control")).to_have_count(controls)
    targets = [page.locator(".control").nth(i) for i in range(controls)]
    targets = [
        t.locator(".v-input__slot, .v-input--selection-controls__input").first for t in targets
    ]
    targets += [page.get_by_role("button", name=n) for n in ("Reset", "▶", "Step")]
    targets += [page.get_by_role("button", name=n) for n in ("slow", "normal", "fast")]
    targets += [page.locator(".seed-input input"), page.locator(".runs-select .v-input__slot")]
    targets += [page.get_by_role("button", name=n) for n in ("Run ensemble", "Pin it", "Unpin")]
    targets += [page.locator(".rung-select .v-input__slot"), page.locator("header button").last]
    covered = []
    for target in targets:
        target.scroll_into_view_if_needed()
        if not target.evaluate(UNCOVERED):
            covered.append(target.evaluate("el => el.outerHTML.slice(0, 160)"))
    assert not covered, f"controls out of the window or covered: {covered}"
    for chart, inches in (
        (".ladder-chart img", CHART_WIDTH_IN),
        (".ensemble-chart img", CURVES_WIDTH_IN),
    ):
        width = page.locator(chart).bounding_box()["width"]
        smallest = CHART_FONT_PT * width / (72 * inches)
        assert smallest >= 12, f"{chart}: its smallest text is {smallest:.1f} px"
    page.locator(".run-day").scroll_into_view_if_needed()
    served.shot(page, f"dashboard-{viewport[0]}x{viewport[1]}")


@pytest.mark.slow
def test_the_reasons_panel_shows_the_recorded_terms(served, open_page, monkeypatch):
    from playwright.sync_api import expect

    page = open_page()
    for day in (1, 2):
        page.get_by_role("button", name="Step").click()
        expect(page.locator(".run-day")).to_contain_text(f"Day {day} ")
    served.shot(page, "dashboard")
    monkeypatch.chdir(served.folder)
    model = DashboardModel(Settings(BASE))
    model.step()
    model.step()
    names = names_of(model)
    events = day_events(model, 2)
    blocks = page.locator(".today .decision")
    expect(blocks).to_have_count(len(events))
    shown_decisions = 0
    for i, event in enumerate(events):
        block = blocks.nth(i)
        assert block.locator(".act").inner_text() == event.text
        found = weighing(event, names)
        if event.choice is None:
            expect(block.locator(".why")).to_have_count(0)
            continue
        assert found is not None
        shown_decisions += 1
        assert block.locator(".why").inner_text() == f"Why: {reason(event, names)}"
        assert block.locator(".option").inner_text() == f"{found.heading}:"
        shown = list(
            zip(
                block.locator(".term-name").all_inner_texts(),
                block.locator(".term-value").all_inner_texts(),
                strict=True,
            )
        )
        assert shown == [(phrase, f"{value:+.2f}") for phrase, value in found.terms]
    assert shown_decisions >= 1
    page.locator(".today").scroll_into_view_if_needed()
    served.shot(page, "dashboard-reasons")


@pytest.mark.slow
def test_pin_and_compare_shows_two_curves_and_the_differences(served, open_page, monkeypatch):
    from PIL import Image
    from playwright.sync_api import expect

    page = open_page()
    run_ensemble(page, "2,000 runs in")
    # the curve a class asks about first, and the rungs the opening act had already reached
    expect(page.locator(".rung-select")).to_contain_text(
        "The state struck first (Pakistan) answers with a strike"
    )
    expect(page.locator(".reached-note")).to_have_text(
        "Rungs 1 to 4 (verbal protest to limited strike on an armed group) were already "
        "reached on day 0 by the opening act."
    )
    summary = page.locator(".outcomes")
    expect(summary).to_contain_text("jan2024_baseline as written: 2,000 runs in ")
    seconds = float(summary.inner_text().split(" runs in ")[1].split(" s.")[0])
    assert seconds < 5, f"an ensemble of 2,000 runs took {seconds} s"
    page.get_by_role("button", name="Pin it").click()
    expect(page.get_by_text("Pinned. Now change a control")).to_be_visible()
    choose(page, "control-actors-pakistan-retaliation-policy", "escalate")
    expect(page.get_by_text("The controls changed since this ensemble")).to_be_visible()
    run_ensemble(page, "Newest against pinned")
    monkeypatch.chdir(served.folder)
    pinned = ensemble_of(DashboardModel(Settings(BASE)), 2000)
    escalate = {"actors.pakistan.retaliation.policy": "escalate"}
    newest = ensemble_of(DashboardModel(Settings(BASE, escalate)), 2000)
    horizon = newest.scenario.horizon
    assert summary.locator("li").all_inner_texts() == difference_lines(
        compare(pinned, newest), horizon
    )
    assert summary.locator("p").first.inner_text() == (
        "Pinned (blue, dashed): jan2024_baseline as written.\n"
        "Newest (vermillion): jan2024_baseline with Pakistan, how it answers: escalate."
    )
    chart = Image.open(io.BytesIO(page.locator(".ensemble-chart img").screenshot())).convert("RGB")
    pixels = np.asarray(chart).reshape(-1, 3).astype(int)

    def drawn(colour: str) -> int:
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(pixels - rgb).sum(axis=1) < 40).sum())

    assert drawn(BEFORE) > 300 and drawn(AFTER) > 300, (drawn(BEFORE), drawn(AFTER))
    page.locator(".ensemble-chart").scroll_into_view_if_needed()
    served.shot(page, "dashboard-compare")
    summary.locator("ul").scroll_into_view_if_needed()
    served.shot(page, "dashboard-differences")


@pytest.mark.slow
def test_a_scenario_with_three_states_gets_its_own_controls(served, open_page):
    from playwright.sync_api import expect

    page = open_page()
    choose(page, "scenario-picker", "cases/three_states")
    expect(page.locator("header")).to_contain_text("Arland, Borduria and Cardia: three_states")
    sections = list(
        dict.fromkeys(c.section for c in controls_for(load_scenario(served.folder / THREE)))
    )
    assert sections[0] == "How every state decides" and sections[1:4] == [
        "Arland",
        "Borduria",
        "Cardia",
    ]
    expect(page.locator(".control-section")).to_have_text(sections)
    expect(page.locator(".control-actors-cardia-retaliation-policy")).to_contain_text(
        "never (scenario)"
    )
    expect(page.locator(".postures td:first-child")).to_have_text(["Arland", "Borduria", "Cardia"])
    sidebar = page.locator(".v-navigation-drawer").inner_text()
    assert "Iran" not in sidebar and "Pakistan" not in sidebar
    page.get_by_role("button", name="Step").click()
    expect(page.locator(".run-day")).to_contain_text("Day 1 of 30, run 7")
    served.shot(page, "dashboard-three-states")


@pytest.mark.slow
def test_a_broken_scenario_shows_the_loaders_message_and_keeps_the_last_good_one(
    served, open_page, monkeypatch
):
    from playwright.sync_api import expect

    page = open_page()
    choose(page, "scenario-picker", "my_unforgiving")
    monkeypatch.chdir(served.folder)
    expect(page.locator(".scenario-error")).to_have_text(
        loader_message("scenarios/my_unforgiving.yaml")
    )
    expect(page.locator(".scenario-picker .v-select__selection")).to_have_text(
        "jan2024_baseline: teaching scenario"
    )
    expect(page.locator("header")).to_contain_text("Iran and Pakistan: jan2024_baseline")
    served.shot(page, "dashboard-error")
    page.locator(".seed-input input").fill("-3")
    page.locator(".seed-input input").press("Enter")
    expect(page.locator(".run-error")).to_have_text("A seed is a whole number from 0 up, not -3.")
    expect(page.locator(".seed-input input")).to_have_value("7")
    # what a client can send for the picker is refused, and the scenario loaded stays
    for sent, loaded, then in [
        ("/etc/passwd", "jan2024_baseline", "short"),
        ("../../../../etc/passwd", "short", "jan2024_baseline: teaching scenario"),
    ]:
        page.evaluate(SEND_TO_THE_PICKER, sent)
        expect(page.locator(".scenario-error")).to_have_text("Pick a scenario from the list.")
        # the inputs are remade with the values in force: wait for the new picker
        expect(page.locator(".scenario-picker[data-sent]")).to_have_count(0)
        expect(page.locator("header")).to_contain_text(f"Iran and Pakistan: {loaded}")
        assert "root:" not in page.locator("body").inner_text()
        choose(page, "scenario-picker", then)
        expect(page.locator(".scenario-error")).to_have_count(0)


@pytest.mark.slow
def test_a_run_that_ended_steps_again_after_a_change(served, open_page):
    from playwright.sync_api import expect

    page = open_page()
    choose(page, "scenario-picker", "short")
    expect(page.locator(".run-day")).to_contain_text("of 3, run 7")
    step = page.get_by_role("button", name="Step")
    for day in (1, 2, 3):
        step.click()
        expect(page.locator(".run-day")).to_contain_text(f"Day {day} ")
    expect(page.locator(".run-day")).to_contain_text("the end of the run")
    expect(step).to_be_disabled()
    choose(page, "control-actors-pakistan-pledge", "1")
    expect(page.locator(".run-day")).to_contain_text("Day 0 ")
    expect(step).to_be_enabled()
    page.get_by_role("button", name="fast").click()
    page.get_by_role("button", name="▶").click()
    expect(page.locator(".run-day")).to_contain_text("Day 3 (Fri 19 Jan) of 3, run 7: the end")
    page.get_by_role("button", name="Reset").click()
    expect(page.locator(".run-day")).to_contain_text("Day 0 ")
    expect(step).to_be_enabled()


@pytest.mark.slow
def test_one_light_theme_for_the_page_and_its_charts(served, open_page):
    """No theme toggle, and light even in a browser that kept 'dark' from an earlier visit
    (Solara remembers a choice per address); the charts are drawn on the page's white."""
    from PIL import Image
    from playwright.sync_api import expect

    page = open_page(
        init_script="localStorage.setItem(':solara:theme.variant', JSON.stringify('dark'))"
    )
    expect(page.locator(".v-application")).to_have_class(re.compile(r"\btheme--light\b"))
    expect(page.locator(".v-application")).not_to_have_class(re.compile(r"\btheme--dark\b"))
    expect(page.locator("header button")).to_have_count(1)  # the sidebar's ☰, nothing else

    def rgb(selector: str, prop: str) -> tuple[int, ...]:
        colour = page.locator(selector).first.evaluate(f"el => getComputedStyle(el).{prop}")
        return tuple(int(c) for c in colour[colour.index("(") + 1 : -1].split(",")[:3])

    assert rgb(".v-application", "backgroundColor") == (255, 255, 255)
    assert max(rgb(".run-day", "color")) <= 60  # dark text on white
    run_ensemble(page, "2,000 runs in")
    for chart in (".ladder-chart img", ".ensemble-chart img"):
        image = Image.open(io.BytesIO(page.locator(chart).screenshot())).convert("RGB")
        corners = [
            image.getpixel((x, y)) for x in (1, image.width - 2) for y in (1, image.height - 2)
        ]
        assert corners == [(255, 255, 255)] * 4, (chart, corners)


UNSCROLLED = """() => { for (const el of [document.scrollingElement, ...document.querySelectorAll('*')])
    { if (el && el.scrollTop) el.scrollTop = 0; } }"""
"""Scroll the window and every box that scrolls (the sidebar, the main area) back to the top."""

DRIVERS_IN_SIGHT = 3
"""The top-ranked controls that must be in sight with the page unscrolled (the sidebar scrolls
on its own for the rest)."""


@pytest.mark.slow
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda size: f"{size[0]}x{size[1]}")
def test_step_today_the_controls_and_the_curves_on_one_screen(served, open_page, viewport):
    """At 1024x768 and 1440x900, unscrolled: the Step button with "Today, and why" beside it,
    the picker and the top-ranked controls, and the curves of a pinned ensemble and the newest
    drawn together (Pakistan's pledge set to 1, the README's example). The screenshots are
    ``dashboard-1024.png`` and ``dashboard-1440.png`` (docs/images/ with DASHBOARD_SCREENSHOTS)."""
    from playwright.sync_api import expect

    page = open_page(*viewport)
    for day in (1, 2):
        page.get_by_role("button", name="Step").click()
        expect(page.locator(".run-day")).to_contain_text(f"Day {day} ")
    expect(page.locator(".today .decision").first).to_be_visible()
    run_ensemble(page, "2,000 runs in")
    page.get_by_role("button", name="Pin it").click()
    choose(page, "control-actors-pakistan-pledge", "1")
    expect(page.locator(".run-day")).to_contain_text("Day 0 ")
    for day in (1, 2):
        page.get_by_role("button", name="Step").click()
        expect(page.locator(".run-day")).to_contain_text(f"Day {day} ")
    run_ensemble(page, "Newest against pinned")
    expect(page.locator(".outcomes")).to_contain_text(
        "Newest (vermillion): jan2024_baseline with Pakistan, chance of a public pledge to "
        "answer: 1"
    )
    page.evaluate(UNSCROLLED)
    width, height = viewport
    in_sight = {
        "Step": page.get_by_role("button", name="Step"),
        "Today, and why": page.locator(".today-heading"),
        "today's reasons": page.locator(".today"),
        "the first reason": page.locator(".today .decision").first,
        "the curves": page.locator(".ensemble-chart img"),
        "the picker": page.locator(".scenario-picker"),
    }
    for key in [k for k in drivers() if k.startswith("decision.")][:DRIVERS_IN_SIGHT]:
        in_sight[key] = page.locator(f".control-{key.replace('.', '-').replace('_', '-')}")
    outside = {}
    for name, element in in_sight.items():
        box = element.bounding_box()
        inside = box is not None and box["x"] >= 0 and box["y"] >= 0
        inside = inside and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
        if not inside:
            outside[name] = box
    assert not outside, f"out of sight at {width}x{height} unscrolled: {outside}"
    step, today = in_sight["Step"].bounding_box(), in_sight["Today, and why"].bounding_box()
    assert today["y"] - (step["y"] + step["height"]) < 120  # beside Step, not a screen below
    served.shot(page, f"dashboard-{width}")


@pytest.mark.slow
def test_the_server_log_stays_quiet(served, open_page):
    open_page()
    open_page(1440, 900)
    lines = served.log.read_text().splitlines()
    assert lines == [f"Solara server is starting at {served.url.rstrip('/')}"]
