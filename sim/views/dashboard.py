"""The teaching dashboard: one run day by day with the reasons of every decision, and ensembles
pinned and compared, for any scenario, in a browser.

It is built from Mesa's SolaraViz parts: ``ModelController`` (Reset, Play, Step) drives a
``DashboardModel``, and Mesa's ``update_counter`` redraws the run after each step. SolaraViz's
own frame is left out because all it adds are the generic controls a class does not need (render
interval, threads, raw time); the controls here are made from the scenario itself, one section
per state, armed group and third party, each explained in the words of the scenario schema. A
control turns into a loader override (``--set``), so every check and message is the loader's.

The picker offers the files in ``scenarios/`` and ``scenarios/cases/`` of the folder the server
runs in, and the files named in ``ESCALATION_SIM_SCENARIOS`` (separated by the path separator,
``:`` on Linux); a name sent by the browser is looked up in that list and never used as a path.

It needs the ``dashboard`` extra (``pip install ".[dashboard]"``); ``import sim`` never imports
it. Start it from the project folder with ``python run.py dashboard`` or ``solara run app.py``.
"""

from __future__ import annotations

import logging
import math
import os
import shlex
import textwrap
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from html import escape
from pathlib import Path
from typing import Any, cast

import matplotlib as mpl
import numpy as np
import pandas as pd
import solara
import solara.lab
import solara.server.settings
import yaml
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter
from solara.alias import rv

from sim.analysis import outcomes as catalogue
from sim.analysis.outcomes import Outcome, for_scenario
from sim.analysis.statistics import compare_runs, outcome_curves
from sim.analysis.story import day_label, names_of, reason, weighed_terms
from sim.inputs.arguments import SEED_MAX
from sim.inputs.loader import load_scenario
from sim.model import uncertainty
from sim.model.model import EscalationModel, opening
from sim.model.record import Event
from sim.model.scenario import (
    Scenario,
)
from sim.views import classroom, plotting
from sim.views.controls import Control, SettingsError, changes_in_words, controls_for, overrides_for
from sim.views.page_style import (
    CHART_STYLE,
    CHART_WIDTH_IN,
    CSS,
    CURVES_HEIGHT_IN,
    CURVES_WIDTH_IN,
)
from sim.views.picker import picker_label, picker_note
from sim.views.text import (
    name_struck,
    outcome_name,
    outcome_words,
    percent_tick,
    reached_on_day_0_text,
    value_text,
)

SCENARIO_FOLDERS = (Path("scenarios"), Path("scenarios/cases"))
EXTRA_SCENARIOS = "ESCALATION_SIM_SCENARIOS"
"""Environment variable naming more scenario files to offer, as ``python run.py dashboard``
passes them on."""
DEFAULT_SCENARIO = "scenarios/jan2024_baseline.yaml"
DEFAULT_SEED = 7
ENSEMBLE_RUNS = (500, 1000, 2000, 5000)
DEFAULT_RUNS = 2000
PLAY_SPEEDS = {"slow": 1000, "normal": 400, "fast": 50}
"""Milliseconds between days when Play runs (Mesa's play interval, by a name)."""
KEY_OUTCOMES = (
    "answer_7d",
    "strike_30d",
    "forces_30d",
    "sustained",
    "war",
    "accepted",
    "calm_14d",
    "days_to_calm",
)
"""The outcomes an ensemble is summarised by, and compared on, when the scenario has them."""

BEFORE, AFTER = plotting.OKABE_ITO[0], plotting.OKABE_ITO[1]
"""Pinned ensemble in blue, the newer one in vermillion: told apart with any colour vision."""

warnings.filterwarnings(
    "ignore", message="Cookies with samesite=none require https", category=UserWarning
)
"""Solara warns, ten lines on every page load, that it falls back to the right cookie for a
server on 127.0.0.1."""
solara.server.settings.theme.show_banner = False  # its fixed badge covered the Run button
solara.server.settings.telemetry.mixpanel_enable = False  # offline: the page calls nobody
classroom.configure_server()  # limits for a class: sim/views/classroom.py


LOG = logging.getLogger(__name__)


def offered_scenarios() -> dict[str, Path]:
    """The scenarios a student can pick, by the name the picker shows.

    The files in ``scenarios/`` and ``scenarios/cases/``, but not the ``*.observed.yaml``
    records of a case nor the parents that cases extend (``_library.yaml``: a name starting with
    '_'), then the files named in ``ESCALATION_SIM_SCENARIOS``, each once.
    """
    offered: dict[str, Path] = {}
    seen: set[Path] = set()
    named = [Path(p) for p in os.environ.get(EXTRA_SCENARIOS, "").split(os.pathsep) if p]
    found = [
        path
        for folder in SCENARIO_FOLDERS
        for path in sorted(folder.glob("*.yaml"))
        if not path.name.startswith("_") and not path.name.endswith(".observed.yaml")
    ]
    for path in found + named:
        if not path.is_file():
            continue
        if path.resolve() not in seen:
            seen.add(path.resolve())
            offered[path.as_posix()] = path
    return offered


def default_scenario(offered: Mapping[str, Path]) -> str | None:
    """The first file the teacher named, else the baseline, else the first offered."""
    named = [p for p in os.environ.get(EXTRA_SCENARIOS, "").split(os.pathsep) if p]
    for name in [*(Path(p).as_posix() for p in named), DEFAULT_SCENARIO]:
        if name in offered:
            return name
    return next(iter(offered), None)


def scenario_path(name: str) -> Path:
    """The file of an offered scenario; any other name, a path above all, is refused."""
    offered = offered_scenarios()
    if not isinstance(name, str) or name not in offered:
        raise SettingsError("Pick a scenario from the list.")
    return offered[name]


# ---------------------------------------------------------------------------- controls


@dataclass(frozen=True)
class Settings:
    """What the controls say: the scenario picked, the value of each control, the run's seed."""

    scenario: str
    choices: Mapping[str, Any] = field(default_factory=dict)
    seed: int = DEFAULT_SEED


def build(settings: Settings) -> tuple[Scenario, Scenario, dict[str, Any]]:
    """The scenario file as written, the scenario the settings make of it, and the loader
    overrides between them; ``SettingsError`` says why they cannot be made."""
    path = scenario_path(settings.scenario)
    seed = settings.seed
    if not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise SettingsError(f"A seed is a whole number from 0 up, not {seed}.")
    try:
        base = load_scenario(path)
        overrides = overrides_for(base, settings.choices)
        # the run's own parameter set, when some numbers are distributions
        scenario, _ = uncertainty.for_seed(load_scenario(path, overrides), seed)
        EscalationModel(scenario, seed)  # a scenario the model cannot start is refused too
    except Exception as error:  # the loader's message, whatever went wrong: never a traceback
        raise SettingsError(str(error) or type(error).__name__) from error
    return base, scenario, overrides


class DashboardModel(EscalationModel):
    """One recorded run of what the settings say, as Mesa's ModelController makes it on Reset.

    Reset reads the scenario file again, so a teacher can edit it and press Reset. If it no
    longer loads, the run starts again on ``fallback``'s scenario (the last one that loaded)
    and ``error`` holds the loader's message for the page to show.
    """

    settings: Settings
    base: Scenario
    """The scenario file as written: the controls' own values."""
    overrides: dict[str, Any]
    error: str | None
    stopped: str | None = None

    def __init__(self, settings: Settings, fallback: DashboardModel | None = None) -> None:
        self.error = None
        try:
            base, scenario, overrides = build(settings)
        except SettingsError as error:
            if fallback is None:
                raise
            self.error = f"{error}\n\nStill showing the last version that loaded."
            settings, base = fallback.settings, fallback.base
            scenario, overrides = fallback.config, fallback.overrides
        self.settings = settings
        self.base = base
        self.overrides = overrides
        super().__init__(scenario, settings.seed, record=True)

    def step(self) -> None:
        """One day; the run stops at the horizon, as ``story`` does, or at a failure of the
        model, which ``stopped`` tells (and the server's log in full)."""
        day = self.day + 1
        try:
            super().step()
        except Exception as error:
            LOG.exception("the run of %s failed", self.settings)
            self.stopped = f"The run stopped: the model failed on day {day} ({error})."
            self.running = False
        if self.day >= self.config.horizon:
            self.running = False


def replay_command(model: DashboardModel) -> str:
    """The terminal command that tells this very run: the dashboard teaches the command line."""
    words = [
        "python",
        "run.py",
        "story",
        model.settings.scenario,
        "--seed",
        str(model.settings.seed),
    ]
    for key, value in model.overrides.items():
        words += ["--set", f"{key}={yaml_value(value)}"]
    return shlex.join(words)


def command_html(command: str) -> str:
    """A command for the page: it wraps only between an option and the next, never inside
    '--set key=value', and copies as typed."""
    words = shlex.split(command)
    groups: list[list[str]] = []
    for word in words:
        if groups and groups[-1][-1].startswith("--") and not word.startswith("--"):
            groups[-1].append(word)
        else:
            groups.append([word])
    spans = (f"<span class='word'>{escape(shlex.join(group))}</span>" for group in groups)
    return " ".join(spans)


def yaml_value(value: Any) -> str:
    """A value as ``--set`` reads it back (YAML, on one line)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf)
    return text.removesuffix("\n...\n").strip()


def posture_rows(model: EscalationModel) -> list[tuple[str, int, str]]:
    """Each state's highest posture today: name, rung, and the rung's name."""
    today = model.rung_history()[-1]
    return [
        (state.name, today[actor_id], model.ladder.name(today[actor_id]))
        for actor_id, state in model.states.items()
    ]


def postures_html(model: EscalationModel) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td class='rung'>{rung}</td><td>{escape(rung_name)}</td></tr>"
        for name, rung, rung_name in posture_rows(model)
    )
    return f"<table><tr><th>State</th><th>Rung</th><th>Its posture</th></tr>{rows}</table>"


def ladder_figure(model: EscalationModel) -> Figure:
    """Each state's posture by day so far, against the scenario's named rungs."""
    ladder, history = model.ladder, model.rung_array()
    days = np.arange(len(history))
    with mpl.rc_context(CHART_STYLE):
        fig = Figure(figsize=(CHART_WIDTH_IN, 3.8))
        ax = fig.subplots()
        count = len(model.states)
        for i, state in enumerate(model.states.values()):
            colour = plotting.OKABE_ITO[i % len(plotting.OKABE_ITO)]
            rungs = history[:, i] + 0.1 * (i - (count - 1) / 2)
            style = plotting.LINE_STYLES[i % len(plotting.LINE_STYLES)]
            ax.step(days, rungs, where="post", color=colour, linestyle=style, lw=2.5)
            ax.plot(
                days[-1],
                rungs[-1],
                "os^Dv"[i % 5],
                color=colour,
                markersize=9,
                label=plotting.drawn_name(state.name),
            )
        ax.set_yticks(
            range(ladder.size),
            [f"{k} {plotting.drawn_name(ladder.name(k))}" for k in range(ladder.size)],
        )
        ax.set_ylim(-0.4, ladder.war + 0.4)
        ax.set_xlim(0, max(7, model.day + 1))
        ax.set_xlabel("Day of the crisis")
        fig.legend(loc="outside lower center", ncols=min(count, 4), frameon=False)
        fig.set_layout_engine("constrained")
    return plotting.fit_text(fig)


@dataclass(frozen=True)
class Weighing:
    """What spoke for and against one option of a decision: the terms a bar chart shows."""

    heading: str
    terms: tuple[tuple[str, float], ...]


def weighing(event: Event, names: Mapping[str, str]) -> Weighing | None:
    """The terms of the option ``sim.analysis.story.reason`` speaks of: the talks for a mediation, the
    option chosen, or, when nothing was done, the best option not taken."""
    choice = event.choice
    if choice is None:
        return None
    if choice.kind == "mediation":
        option, heading = 1, "Accepting the talks rather than refusing"
    elif choice.chosen != 0:
        option, heading = choice.chosen, f"'{choice.labels[choice.chosen]}', chosen"
    else:
        others = [o for o in range(1, len(choice.labels)) if choice.terms[o]]
        if not others:
            return None
        option = max(others, key=lambda o: choice.utility[o])
        heading = f"'{choice.labels[option]}', the best option not taken"
    terms = tuple(weighed_terms(choice.terms[option], dict(names), event, choice))
    return Weighing(heading, terms)


def weighing_html(found: Weighing) -> str:
    """The terms as bars, for to the right and against to the left, with their values."""
    largest = max((abs(v) for _, v in found.terms), default=0.0) or 1.0
    rows = [f"<div class='option'>{escape(found.heading)}:</div>"]
    for phrase, value in found.terms:
        width = f"{100 * abs(value) / largest:.0f}%"
        against = f"<span class='against' style='width:{width}'></span>" if value < 0 else ""
        pro = f"<span class='for' style='width:{width}'></span>" if value > 0 else ""
        rows.append(
            f"<div class='term-name'>{escape(phrase)}</div>"
            f"<div class='term-bar'><span class='half'>{against}</span>"
            f"<span class='half'>{pro}</span></div>"
            f"<div class='term-value'>{value:+.2f}</div>"
        )
    return f"<div class='terms'>{''.join(rows)}</div>"


def day_events(model: EscalationModel, day: int) -> list[Event]:
    return [event for event in model.events[0] if event.day == day]


def today_html(model: EscalationModel) -> str:
    """Today's events in words; under each decision, why, and its terms as bars."""
    names = names_of(model)
    parts = []
    for event in day_events(model, model.day):
        why = reason(event, names)
        found = weighing(event, names)
        parts.append(
            "<div class='decision'>"
            f"<div class='act'>{escape(event.text)}</div>"
            + (f"<div class='why'>Why: {escape(why)}</div>" if why else "")
            + (weighing_html(found) if found else "")
            + "</div>"
        )
    return "".join(parts) or "<p>A quiet day: nothing was done and nothing decided.</p>"


def story_html(model: EscalationModel) -> str:
    """The earlier days that had events, newest first, in the model's own words."""
    config = model.config
    days: dict[int, list[str]] = {}
    for event in model.events[0]:
        if event.day < model.day:
            days.setdefault(event.day, []).append(event.text)
    parts = []
    for day in sorted(days, reverse=True):
        when = day_label(config, day) + (" (before the run)" if day < 0 else "")
        items = "".join(f"<li>{escape(text)}</li>" for text in days[day])
        parts.append(f"<div class='story-day'>{escape(when)}</div><ul>{items}</ul>")
    return "".join(parts)


# ---------------------------------------------------------------------------- ensembles


@dataclass(frozen=True, eq=False)
class EnsembleResult:
    """An ensemble of the settings at the time, with the words that describe them."""

    settings: Settings
    scenario: Scenario
    overrides: Mapping[str, Any]
    described: str
    runs: pd.DataFrame
    curves: pd.DataFrame
    summary: pd.DataFrame
    seconds: float


def describe(model: DashboardModel) -> str:
    """'jan2024_baseline as written', or with the controls set away from it."""
    changes = changes_in_words(model.base, model.settings.choices)
    name = model.config.name
    return f"{name} with {'; '.join(changes)}" if changes else f"{name} as written"


def ensemble_of(model: DashboardModel, runs: int) -> EnsembleResult:
    """An ensemble of the run's settings on one core, with the scenario's seed: two ensembles
    share their run seeds, so they are compared run for run."""
    from sim.experiments.ensemble import run_ensemble

    if runs not in ENSEMBLE_RUNS:
        raise SettingsError(f"Pick a number of runs from {ENSEMBLE_RUNS}.")
    scenario = model.config
    start = time.perf_counter()
    ensemble = run_ensemble(scenario, runs=runs, seed=scenario.seed, workers=1)
    return EnsembleResult(
        settings=model.settings,
        scenario=scenario,
        overrides=dict(model.overrides),
        described=describe(model),
        runs=ensemble.runs,
        curves=ensemble.curves,
        summary=ensemble.summary,
        seconds=time.perf_counter() - start,
    )


def ensemble_command(result: EnsembleResult) -> str:
    words = ["python", "run.py", "run", result.settings.scenario]
    words += ["--runs", str(len(result.runs)), "--workers", "1"]
    for key, value in result.overrides.items():
        words += ["--set", f"{key}={yaml_value(value)}"]
    return shlex.join(words)


def key_outcomes(scenario: Scenario) -> list[Outcome]:
    """The scenario's outcomes among ``KEY_OUTCOMES``, in that order (talks accepted only if
    some third party offers talks)."""
    offered = {o.name: o for o in for_scenario(scenario)}
    mediated = any(party.mediation for party in scenario.third_parties.values())
    names = [n for n in KEY_OUTCOMES if n in offered and (n != "accepted" or mediated)]
    return [offered[n] for n in names]


def summary_lines(result: EnsembleResult) -> list[str]:
    """Each key outcome of an ensemble with its 95% CI, in words."""
    horizon = result.scenario.horizon
    rows = {str(row["outcome"]): row for row in result.summary.to_dict("records")}
    lines = []
    for outcome in key_outcomes(result.scenario):
        row = rows[outcome.name]
        kind = str(row["kind"])
        value, low, high = (
            value_text(kind, float(row[column]), horizon)
            for column in ("estimate", "ci_low", "ci_high")
        )
        lines.append(f"{outcome_name(kind, str(row['label']))}: {value} (95% CI {low} to {high}).")
    return lines


def comparable(pinned: EnsembleResult, now: EnsembleResult) -> str | None:
    """Why two ensembles cannot be compared outcome by outcome, or None if they can."""
    a, b = pinned.scenario, now.scenario
    if list(a.actors) != list(b.actors) or a.horizon != b.horizon or a.ladder != b.ladder:
        return (
            f"The pinned ensemble is of {a.name}, whose states, ladder or horizon differ from "
            f"those of {b.name}: pin an ensemble of this scenario to compare."
        )
    return None


def compare(pinned: EnsembleResult, now: EnsembleResult) -> pd.DataFrame:
    """``sim.analysis.statistics.compare_runs`` of the newer ensemble against the pinned one, run for
    run when their seeds are the same (as they are for ensembles of the same size)."""
    runs = pd.concat(
        [pinned.runs.assign(scenario="pinned"), now.runs.assign(scenario="now")],
        ignore_index=True,
    )
    both = {o.name for o in key_outcomes(pinned.scenario)}
    chosen = [o for o in key_outcomes(now.scenario) if o.name in both]
    return compare_runs(runs, chosen, now.scenario.horizon)


def difference_lines(table: pd.DataFrame, horizon: int) -> list[str]:
    """Each outcome now against pinned: both values and the difference with its 95% CI."""
    lines = []
    for row in table.to_dict("records"):
        kind = str(row["kind"])
        now, pinned = (
            value_text(kind, float(row[c]), horizon) for c in ("value", "reference_value")
        )
        difference, low, high = (float(row[c]) for c in ("difference", "ci_low", "ci_high"))
        if kind == "probability":
            said = {"higher": "more likely", "lower": "less likely"}
            shift = f"{100 * difference:+.1f} points, 95% CI {100 * low:+.1f} to {100 * high:+.1f}"
        else:
            said = {"higher": "later", "lower": "sooner"}
            shift = f"{difference:+g} days, 95% CI {low:+g} to {high:+g}"
        verdict = said.get(str(row["verdict"]), "no detectable difference")
        lines.append(
            f"{outcome_name(kind, str(row['label']))}: {now} now, {pinned} pinned: "
            f"{verdict} ({shift})."
        )
    return lines


def open_rung(curves: pd.DataFrame, ladder_war: int) -> int:
    """The lowest rung some runs have not reached on day 0: the first that is in question."""
    day0 = curves[curves["day"] == 0].groupby("rung")["probability"].min()
    for rung, share in day0.items():
        if int(cast(int, rung)) > 0 and share < 1:
            return int(cast(int, rung))
    return ladder_war


def opened(scenario: Scenario) -> bool:
    """Whether a state was struck first (by a strike or an attack before day 1)."""
    return opening(scenario)[1] is not None


def curve_outcomes(scenario: Scenario) -> list[Outcome]:
    """The outcomes a class asks about day by day (``outcomes.CURVES``), for this scenario."""
    states = list(scenario.actors)
    names = {state: config.name for state, config in scenario.actors.items()}
    return catalogue.curve_outcomes(
        scenario.horizon, scenario.ladder.war, states, opened(scenario), names
    )


def curve_words(scenario: Scenario, outcome: Outcome) -> str:
    """A curve's name in the select and its title: the outcome's words without the deadline,
    the state struck first named ('The state struck first (Pakistan) answers with a strike')."""
    words = outcome_words(catalogue.by_that_day(outcome.label)).removesuffix(" by that day")
    struck = opening(scenario)[1]
    return name_struck(words, None if struck is None else scenario.actors[struck].name)


def curve_choices(scenario: Scenario, curves: pd.DataFrame) -> dict[str, int | str]:
    """What the curve select offers, by its words: the outcomes a class asks about, then the
    rungs from the opening (a rung every run stood on from day 0 would be a flat 100% line)."""
    choices: dict[str, int | str] = {
        curve_words(scenario, o): catalogue.curve_name(o.name) for o in curve_outcomes(scenario)
    }
    reached = set(plotting.reached_on_day_0(curves))
    ladder = scenario.ladder
    for rung in range(1, ladder.size):
        if rung not in reached:
            choices[f"The crisis reaches rung {rung}: {ladder.name(rung)}"] = rung
    return choices


def first_curve(scenario: Scenario, curves: pd.DataFrame) -> int | str:
    """The curve shown first: the struck state's answer, or else the first rung in question."""
    return "answer" if opened(scenario) else open_rung(curves, scenario.ladder.war)


def reached_note(scenario: Scenario, curves: pd.DataFrame) -> str:
    """'Rungs 1 to 4 (...) were already reached on day 0 by the opening act.' (or nothing)."""
    names = [scenario.ladder.name(r) for r in range(scenario.ladder.size)]
    return reached_on_day_0_text(plotting.reached_on_day_0(curves), names)


def curve_rows(result: EnsembleResult, curve: int | str) -> pd.DataFrame:
    """One ensemble's curve by day: a rung's (``curves``) or an outcome's, from its runs."""
    if isinstance(curve, int):
        return result.curves[result.curves["rung"] == curve]
    chosen = curve_outcome(result.scenario, curve)
    return outcome_curves(result.runs, [chosen], result.scenario.horizon)


def curve_outcome(scenario: Scenario, curve: str) -> Outcome:
    """The outcome behind a curve's name ('answer'), or a SettingsError naming those there are."""
    offered = {catalogue.curve_name(o.name): o for o in curve_outcomes(scenario)}
    if curve not in offered:
        raise SettingsError(
            f"There is no curve '{curve}' for {scenario.name} (curves: {', '.join(offered)})."
        )
    return offered[curve]


def ensemble_figure(now: EnsembleResult, pinned: EnsembleResult | None, curve: int | str) -> Figure:
    """P(an outcome has happened, or the crisis has reached a rung, by each day): the pinned
    and the newer ensemble, with 95% bands, in per cent. A rung every run had reached on day 0
    says so instead of drawing a flat 100% line."""
    scenario = now.scenario
    shown = [(pinned, "Pinned", BEFORE, "--")] if pinned is not None else []
    shown.append((now, "Newest" if pinned is not None else "This ensemble", AFTER, "-"))
    reached = isinstance(curve, int) and curve in plotting.reached_on_day_0(now.curves)
    with mpl.rc_context(CHART_STYLE):
        fig = Figure(figsize=(CURVES_WIDTH_IN, CURVES_HEIGHT_IN))
        ax = fig.subplots()
        top = 0.0
        for result, label, colour, style in shown:
            if result is None or reached:
                continue
            rows = curve_rows(result, curve)
            ax.fill_between(
                rows["day"],
                rows["ci_low"],
                rows["ci_high"],
                color=colour,
                alpha=0.2,
                linewidth=0,
                step="post",
            )
            ax.step(
                rows["day"],
                rows["probability"],
                where="post",
                color=colour,
                linestyle=style,
                lw=2.5,
                label=f"{label} ({len(result.runs):,} runs)",
            )
            top = max(top, float(rows["ci_high"].max()))
        if reached:
            ax.text(
                0.5,
                0.5,
                "Already reached on day 0\nby the opening act",
                transform=ax.transAxes,
                ha="center",
                va="center",
                color="0.25",
            )
        ax.set_ylim(0, min(1.05, max(0.05, top * 1.15)))  # a 100% line stays in sight
        ax.yaxis.set_major_formatter(FuncFormatter(percent_tick))
        ax.set_xlim(0, scenario.horizon)
        ax.set_xlabel(_days_axis(scenario))
        ax.set_ylabel("Share of runs")
        if isinstance(curve, int):
            rung = plotting.drawn_name(scenario.ladder.name(curve))
            ax.set_title(textwrap.fill(f"Reached rung {curve}, {rung}, by that day", 44))
        else:
            words = curve_words(scenario, curve_outcome(scenario, curve))
            ax.set_title(textwrap.fill(f"{words}, by that day", 44))
        if not reached:
            fig.legend(  # one entry a line: two fit no column's width
                loc="outside lower center",
                ncols=1,
                frameon=False,
                title="Line: share of runs; band: 95% CI",
            )
        fig.set_layout_engine("constrained")
    return plotting.fit_text(fig)


def _days_axis(scenario: Scenario) -> str:
    when = f" (day 0 = {scenario.start_date:%d %b %Y})" if scenario.start_date else ""
    return f"Day of the crisis{when}"


# ---------------------------------------------------------------------------- the page


def crisis_title(scenario: Scenario) -> str:
    """'Iran and Pakistan: jan2024_baseline', from the states in crisis."""
    names = list(
        dict.fromkeys(scenario.actors[a].name for r in scenario.relations for a in r.between)
    )
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    return f"{listed}: {scenario.name}"


def first_model() -> DashboardModel | str:
    """The model the page opens on, or, if no scenario loads, why not."""
    offered = offered_scenarios()
    first = default_scenario(offered)
    if first is None:
        return (
            "There are no scenario files in scenarios/ or scenarios/cases/ here: start the "
            "dashboard from the project folder, or name a scenario file when you start it."
        )
    problems = []
    for name in dict.fromkeys([first, *offered]):
        try:
            return DashboardModel(Settings(name))
        except SettingsError as error:
            problems.append(str(error))
    return "No scenario could be loaded:\n\n" + "\n\n".join(problems)


@solara.component
def ControlInput(control: Control, value: Any, on_value: Callable[[Any], None]) -> None:
    """One control with its explanation always shown under it; ``on_value`` gets what the
    browser sent, unchecked."""
    hint = control.hint(value)
    if control.switch:
        rv.Switch(
            label=control.label,
            v_model=bool(value),
            on_v_model=on_value,
            hint=hint,
            persistent_hint=True,
            inset=True,
            class_=f"control {control.css_class}",
        )
    else:
        rv.Select(
            label=control.label,
            items=[label for label, _ in control.options],
            v_model=control.label_of(value),
            on_v_model=on_value,
            hint=hint,
            persistent_hint=True,
            class_=f"control {control.css_class}",
        )


@solara.component
def Controls(
    model: DashboardModel,
    change: Callable[[Settings], None],
    refuse: Callable[[str], None],
    problem: str | None,
) -> None:
    """The sidebar: the scenario picker, then the scenario's controls by section.

    What the browser sends is checked before it is used: a scenario name must be one offered,
    a choice one of the control's options.
    """
    settings = model.settings
    offered = list(offered_scenarios())
    if settings.scenario not in offered:
        offered.append(settings.scenario)

    def pick(name: Any) -> None:
        change(Settings(name, {}, settings.seed))

    def choose(control: Control, sent: Any) -> None:
        try:
            value = control.value_of(sent)
        except SettingsError as error:
            refuse(str(error))
            return
        change(Settings(settings.scenario, {**settings.choices, control.key: value}, settings.seed))

    rv.Select(
        label="Scenario",
        items=[{"text": picker_label(name), "value": name} for name in offered],
        v_model=settings.scenario,
        on_v_model=pick,
        hint="A crisis as a scenario file; picking one starts a new run of it.",
        persistent_hint=True,
        class_="control scenario-picker",
    )
    note = picker_note(settings.scenario)
    if note:
        solara.HTML(tag="p", unsafe_innerHTML=escape(note), classes=["picker-note"])
    for message in (problem, model.error):
        if message:
            solara.Error(message, classes=["scenario-error"])
    section = None
    for control in controls_for(model.base):
        if control.section != section:
            section = control.section
            solara.HTML(tag="div", unsafe_innerHTML=escape(section), classes=["control-section"])
        value = settings.choices.get(control.key, control.own)
        ControlInput(control, value, partial(choose, control))


@solara.component
def TodayPanel(model: DashboardModel) -> None:
    """The run's day and today's acts with their reasons, beside Mesa's Step button."""
    update_counter.get()  # Mesa's signal that the model stepped
    config = model.config
    heading = f"{day_label(config, model.day)} of {config.horizon}, run {model.settings.seed}"
    if not model.running:
        heading += ": the end of the run"
    if model.stopped:
        solara.Error(model.stopped, classes=["run-error"])
    solara.HTML(tag="h3", unsafe_innerHTML=escape(heading), classes=["run-day"])
    solara.HTML(tag="h3", unsafe_innerHTML="Today, and why", classes=["today-heading"])
    solara.HTML(unsafe_innerHTML=today_html(model), classes=["today"])


@solara.component
def RunDetails(model: DashboardModel) -> None:
    """The run so far: postures, the ladder by day, the earlier days, the replay command."""
    update_counter.get()
    config = model.config
    figure = solara.use_memo(lambda: ladder_figure(model), dependencies=[model, model.day])
    with solara.Div(classes=["run-grid"]):
        with solara.Div():
            solara.HTML(unsafe_innerHTML=postures_html(model), classes=["postures"])
            with solara.Div(classes=["dashboard-figure", "ladder-chart"]):
                solara.FigureMatplotlib(
                    figure, format="png", dpi=150, dependencies=[model, model.day]
                )
            solara.HTML(
                tag="p",
                unsafe_innerHTML=(
                    f"A <b>rung</b> is a step on the escalation ladder, from 0 "
                    f"({escape(config.ladder.name(0))}) to {config.ladder.war} "
                    f"({escape(config.ladder.name(config.ladder.war))}); a state's posture is "
                    "the highest rung it stands at towards an adversary."
                ),
            )
        with solara.Div():
            story = story_html(model)
            if story:
                solara.HTML(tag="h3", unsafe_innerHTML="Earlier")
                solara.HTML(unsafe_innerHTML=story, classes=["story"])
    solara.HTML(
        tag="p",
        unsafe_innerHTML="The same run in a terminal: "
        f"<code>{command_html(replay_command(model))}</code>",
        classes=["replay"],
    )


@solara.component
def EnsemblePanel(model: DashboardModel) -> None:
    """Many runs of the settings: pin one ensemble, change a control, run again, compare."""
    runs = solara.use_reactive(DEFAULT_RUNS)
    pinned = solara.use_reactive(cast(EnsembleResult | None, None))
    # one at a time per page, and a few at once on the server: sim/views/classroom.py
    task = classroom.use_queued_task(lambda: ensemble_of(model, runs.value))
    result = task.value if task.finished and not task.error else None
    with solara.Div(classes=["ensemble-row"]):
        sizes = {f"{n:,}": n for n in ENSEMBLE_RUNS}
        rv.Select(
            label="Runs",
            items=list(sizes),
            v_model=f"{runs.value:,}",
            on_v_model=lambda text: runs.set(sizes.get(str(text), runs.value)),
            class_="runs-select",
        )
        solara.Button("Run ensemble", color="primary", on_click=task, disabled=task.pending)
        solara.Button(
            "Pin it",
            on_click=lambda: pinned.set(result),
            disabled=result is None or result is pinned.value,
            outlined=True,
        )
        solara.Button(
            "Unpin", on_click=lambda: pinned.set(None), disabled=pinned.value is None, text=True
        )
    solara.ProgressLinear(task.pending)
    classroom.show_notice(task)
    if task.error:
        solara.Error(f"The ensemble could not be run: {task.exception}", classes=["ensemble-error"])
    elif result is None:
        solara.Info(
            "Run an ensemble of these settings, pin it, change a control, and run again: "
            "both are drawn on one chart and compared run for run."
        )
    else:
        if pinned.value is result:
            solara.Info("Pinned. Now change a control and press Run ensemble to compare.")
        if result.settings != model.settings:
            solara.Warning("The controls changed since this ensemble: press Run ensemble for them.")
        before = pinned.value if pinned.value is not result else None
        why_not = comparable(before, result) if before is not None else None
        if why_not:
            solara.Warning(why_not)
        EnsembleView(result, None if why_not else before)


@solara.component
def EnsembleView(result: EnsembleResult, before: EnsembleResult | None) -> None:
    """The newest ensemble's curve (an outcome a class asks about, or a rung), the pinned one's
    beside it, and the outcomes: compared run for run when one is pinned."""
    chosen = solara.use_reactive(cast(int | str | None, None))
    choices = curve_choices(result.scenario, result.curves)
    curve = chosen.value if chosen.value in choices.values() else None
    if curve is None:
        curve = first_curve(result.scenario, result.curves)
    words = {value: words for words, value in choices.items()}
    figure = solara.use_memo(
        lambda: ensemble_figure(result, before, curve), dependencies=[result, before, curve]
    )
    rv.Select(
        label="Curve: by each day",
        items=list(choices),
        v_model=words.get(curve),
        on_v_model=lambda label: chosen.set(choices.get(str(label))),
        class_="rung-select",
        style_="max-width: 520px",
    )
    note = reached_note(result.scenario, result.curves)
    if note:
        solara.HTML(tag="p", unsafe_innerHTML=escape(note), classes=["reached-note"])
    with solara.Div(classes=["dashboard-figure", "ensemble-chart"]):
        solara.FigureMatplotlib(figure, format="png", dpi=150, dependencies=[result, before, curve])
    if before is not None:
        said = (
            f"<p><b>Pinned</b> (blue, dashed): {escape(before.described)}.<br>"
            f"<b>Newest</b> (vermillion): {escape(result.described)}.</p>"
            "<p>Newest against pinned, run for run, with 95% confidence intervals:</p>"
        )
        lines = difference_lines(compare(before, result), result.scenario.horizon)
    else:
        said = (
            f"<p>{escape(result.described)}: {len(result.runs):,} runs in "
            f"{result.seconds:.1f} s.</p>"
        )
        lines = summary_lines(result)
    listed = "".join(f"<li>{escape(line)}</li>" for line in lines)
    command = command_html(ensemble_command(result))
    solara.HTML(
        unsafe_innerHTML=f"{said}<ul>{listed}</ul><p class='ensemble-command'>The newest "
        f"ensemble in a terminal: <code>{command}</code></p>",
        classes=["outcomes"],
    )


@solara.component
def Dashboard(first: DashboardModel) -> None:
    """The page once a scenario has loaded: controls, one run, ensembles."""
    model: solara.Reactive[DashboardModel] = solara.use_reactive(first)
    parameters = solara.use_reactive({"settings": first.settings, "fallback": first})
    problem = solara.use_reactive(cast(tuple[str, str] | None, None))
    refusals = solara.use_reactive({"controls": 0, "run": 0})
    controller = solara.use_reactive(0)

    def refuse(message: str, place: str = "controls") -> None:
        problem.set((place, message))
        refusals.set({**refusals.value, place: refusals.value[place] + 1})

    def change(settings: Settings, place: str = "controls") -> None:
        """Start a new run with these settings, or keep the current one and say why not, at
        the ``place`` the change was made ('controls' or 'run')."""
        try:
            new = DashboardModel(settings)
        except SettingsError as error:
            refuse(str(error), place)
            return
        problem.set(None)
        if not model.value.running:  # Mesa's controller disabled Step and Play: renew it
            controller.set(controller.value + 1)
        model.set(new)
        parameters.set({"settings": settings, "fallback": new})

    current = model.value
    solara.Title(f"{crisis_title(current.config)} · escalation-sim")
    with solara.AppBar():
        solara.AppBarTitle(crisis_title(current.config))
    with solara.Sidebar():
        said = problem.value[1] if problem.value and problem.value[0] == "controls" else None
        with Guard():
            # a refused value would stay in its input: the inputs are remade with those in force
            afresh(refusals.value["controls"], lambda: Controls(current, change, refuse, said))
    with solara.Div(classes=["teach-grid"]):
        with solara.Div(classes=["run-column"]):
            if current.config.description:
                solara.HTML(
                    tag="p",
                    unsafe_innerHTML=escape(current.config.description),
                    classes=["question"],
                )
            with Guard():
                RunSection(
                    model,
                    parameters,
                    controller.value,
                    change,
                    problem.value,
                    refusals.value["run"],
                )
        with solara.Div(classes=["curves-column"]):
            solara.HTML(tag="h3", unsafe_innerHTML="How likely is each outcome? Many runs")
            with Guard():
                EnsemblePanel(current)
    with solara.Div(classes=["dashboard-section"]):
        solara.HTML(tag="h2", unsafe_innerHTML="One run, day by day")
        solara.HTML(
            tag="p",
            unsafe_innerHTML="<b>Step</b> is one day, <b>▶</b> plays on at the speed chosen, "
            "<b>Reset</b> starts this run again (and reads the scenario file again). Any change "
            "of control starts a new run at once.",
        )
        with Guard():
            RunDetails(current)


@solara.component
def RunSection(
    model: solara.Reactive[DashboardModel],
    parameters: solara.Reactive[dict[str, Any]],
    controller: int,
    change: Callable[[Settings, str], None],
    problem: tuple[str, str] | None,
    refusals: int,
) -> None:
    """Mesa's Reset, Play and Step, today and why, then the play speed and the seed.

    ``controller`` renews Mesa's controller, which keeps Step and Play disabled once a run has
    ended, even for the new run a change of control starts.
    """
    play_interval = solara.use_reactive(PLAY_SPEEDS["normal"])
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    current = model.value
    with solara.Div(classes=["ensemble-row", "run-controls"]):
        with solara.Div():
            afresh(
                controller,
                lambda: ModelController(
                    model,
                    model_parameters=parameters,
                    play_interval=play_interval,
                    render_interval=render_interval,
                    use_threads=use_threads,
                ),
            )
    TodayPanel(current)
    # the speed and the seed below today's reasons, so that these sit beside Step
    with solara.Div(classes=["ensemble-row", "run-options"]):
        speed = {v: k for k, v in PLAY_SPEEDS.items()}.get(play_interval.value, "normal")
        solara.ToggleButtonsSingle(
            value=speed,
            values=list(PLAY_SPEEDS),
            on_value=lambda chosen: play_interval.set(PLAY_SPEEDS.get(chosen, 400)),
            classes=["play-speed"],
        )
        afresh(
            refusals,
            lambda: solara.InputInt(
                "Run (seed)",
                value=current.settings.seed,
                on_value=lambda seed: change(
                    Settings(current.settings.scenario, current.settings.choices, seed), "run"
                ),
                classes=["seed-input"],
            ),
        )
    if problem and problem[0] == "run":
        solara.Error(problem[1], classes=["run-error"])


@solara.component
def Afresh(children: Sequence[Any] = ()) -> Any:
    """Renders its one child; see ``afresh``."""
    (child,) = children
    return child


def afresh(renew: int, make: Callable[[], Any]) -> None:
    """Render ``make()``, inside ``Afresh`` when ``renew`` is odd, so that a change of ``renew``
    mounts it afresh: new widgets and new state (keys do not remount a component here)."""
    if renew % 2:
        with Afresh():
            make()
    else:
        make()


@solara.component
def Guard(children: Sequence[Any] = ()) -> Any:
    """One component of the page that, if anything in it fails, says so in a sentence instead
    of Solara's traceback (the server's log has it), and can be started again."""
    exception, clear = solara.use_exception()
    if exception is not None:
        LOG.error("the dashboard failed", exc_info=exception)
        with solara.Column() as failed:
            solara.Error(
                f"Something went wrong here: {exception}. The server's log has the details.",
                classes=["guard-error"],
            )
            solara.Button("Carry on", on_click=clear, color="primary")
        return failed
    (child,) = children  # one component: a guard around a plain element never settles
    return child


def light_theme() -> None:
    """The page's one theme, light like its charts, whatever the browser kept of an earlier
    choice (Solara remembers a theme picked in any Solara app of this address)."""
    solara.lab.theme.dark = False


@solara.component
def Page() -> None:
    """The dashboard, with a fresh model for each browser tab, in one light theme."""
    solara.Style(CSS)
    solara.use_effect(light_theme, [])
    first = solara.use_memo(first_model, dependencies=[])
    if isinstance(first, str):
        solara.Error(first, classes=["scenario-error"])
    else:
        with Guard():
            Dashboard(first)
