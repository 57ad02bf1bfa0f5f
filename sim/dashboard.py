"""The teaching dashboard: step through one run, day by day, and run small ensembles, in a browser.

It is Mesa's own ``SolaraViz``: the sidebar's controls are the keyword parameters of
``DashboardModel``, which turns them into loader overrides of a scenario file, so every check and
message is the loader's. It needs the ``dashboard`` extra (``pip install ".[dashboard]"``), and
``import sim`` never imports it. Start it from the project folder (scenario files are read from
``scenarios/`` there) with ``python run.py dashboard`` or ``solara run app.py``.
"""

from __future__ import annotations

import inspect
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import solara
import solara.lab
import yaml
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim import plotting
from sim.analysis import OUTCOME_LABELS
from sim.loader import ScenarioError, load_scenario
from sim.model import EscalationModel
from sim.policies import RETALIATION_POLICIES
from sim.runner import ENGINES, Engine, run_ensemble
from sim.scenario import Scenario
from sim.story import day_label

SCENARIOS = Path("scenarios")
DEFAULT_SCENARIO = "jan2024_baseline.yaml"
OWN = "scenario's own"
"""The choice that leaves a policy or the answer to mediation as the scenario file has it."""
MEDIATION_CHOICES = (OWN, "accept", "refuse")
AUDIENCE_COST_CHOICES = (OWN, *(f"{step / 20:g}" for step in range(21)))
"""Audience costs from 0 to 1 by 0.05, or the scenario's own: a student's own file is never
overridden by a control left alone."""
PANEL_STYLE = {**plotting.STYLE, "font.size": 11, "axes.labelsize": 11, "legend.fontsize": 10}
"""The projector style, smaller: the ladder chart shares its row with the day's events."""
CSS = """
.dashboard-figure img { max-width: 100%; height: auto; }
.events { max-height: 380px; overflow-y: auto; }
.scenario-error { white-space: pre-wrap; }
.rung-display table { border-collapse: collapse; margin: 4px 0 8px; }
.rung-display th, .rung-display td { padding: 4px 14px 4px 0; border-bottom: 1px solid #ddd; }
.rung-display td:nth-child(2) { text-align: right; font-weight: bold; }
.v-slider .v-slider__thumb-label-container { display: block !important; }
.v-slider .v-slider__thumb-label.primary {
  transform: translate(-50%, 22px) !important; background-color: transparent !important;
  color: inherit !important; font-size: 11px; height: auto !important;
  width: auto !important; border-radius: 0 !important;
}
.v-slider .v-slider__thumb-label > * { transform: none !important; }
"""
"""Figures fit their column, and each slider's value stays shown under its thumb: Vuetify shows it
only while dragging, and students need to read the value they set."""


def scenario_files() -> list[str]:
    """The files a student can pick: every YAML file in ``scenarios/``, their own copies too."""
    return sorted(path.name for path in SCENARIOS.glob("*.yaml"))


def forced_interventions(scenario: Scenario, response: str) -> list[dict[str, Any]]:
    """The scenario's interventions, with every mediator's offers answered ``response``.

    A forced answer the scenario already gives is changed rather than added to, as the loader
    allows one per mediator; scripted offer days are kept.
    """
    interventions = [item.model_dump(exclude_none=True) for item in scenario.interventions]
    for mediator_id in scenario.mediators:
        forcing = [i for i in interventions if i["mediator"] == mediator_id and "response" in i]
        if forcing:
            forcing[0]["response"] = response
        else:
            interventions.append({"mediator": mediator_id, "response": response})
    return interventions


def dashboard_overrides(
    scenario: Scenario,
    *,
    policies: Mapping[str, str],
    audience_costs: Mapping[str, str],
    mediation: str,
    armed_group_activity: float,
) -> dict[str, Any]:
    """The loader overrides (``--set`` pairs) that make ``scenario`` what the controls say.

    Only what differs from the scenario is set, so the replay command stays short; controls for
    states the scenario does not have are left out. ``armed_group_activity`` multiplies every
    group's daily attack rate.
    """
    overrides: dict[str, Any] = {}
    for actor_id, state in scenario.actors.items():
        policy = policies.get(actor_id, OWN)
        if policy not in (OWN, state.retaliation.policy):
            overrides[f"actors.{actor_id}.retaliation.policy"] = policy
        cost = audience_costs.get(actor_id, OWN)
        if cost != OWN and float(cost) != state.audience_cost:
            overrides[f"actors.{actor_id}.audience_cost"] = float(cost)
    if armed_group_activity != 1:
        for group_id, group in scenario.armed_groups.items():
            rate = round(group.daily_rate * armed_group_activity, 6)
            overrides[f"armed_groups.{group_id}.daily_rate"] = rate
    if mediation != OWN and scenario.mediators:
        overrides["interventions"] = forced_interventions(scenario, mediation)
    return overrides


class DashboardModel(EscalationModel):
    """An ``EscalationModel`` made from keyword parameters, as ``SolaraViz`` makes its models.

    The parameters are the dashboard's controls (defaults: the baseline's values, or the
    scenario's own choice); the run's generator is ``default_rng(seed)``, as in ``story --seed``.
    If the loader refuses the result, the model runs the default scenario unchanged and ``error``
    holds the loader's message for the page to show, instead of a traceback.
    """

    def __init__(
        self,
        scenario_file: str = DEFAULT_SCENARIO,
        iran_policy: str = OWN,
        iran_audience_cost: str = OWN,
        pakistan_policy: str = OWN,
        pakistan_audience_cost: str = OWN,
        mediation: str = OWN,
        armed_group_activity: float = 1.0,
        seed: int = 7,
    ) -> None:
        self.error: str | None = None
        try:
            scenario = load_scenario(SCENARIOS / scenario_file)
            self.overrides = dashboard_overrides(
                scenario,
                policies={"iran": iran_policy, "pakistan": pakistan_policy},
                audience_costs={"iran": iran_audience_cost, "pakistan": pakistan_audience_cost},
                mediation=mediation,
                armed_group_activity=armed_group_activity,
            )
            scenario = load_scenario(SCENARIOS / scenario_file, self.overrides)
        except ScenarioError as error:
            self.error = f"{error}\n\nShowing {DEFAULT_SCENARIO} unchanged instead."
            scenario_file, self.overrides = DEFAULT_SCENARIO, {}
            scenario = load_scenario(SCENARIOS / DEFAULT_SCENARIO)
        self.scenario_file = scenario_file
        self.seed = seed
        super().__init__(scenario, rng=np.random.default_rng(seed))

    def step(self) -> None:
        """One day; the run stops at the horizon, as ``run`` does."""
        super().step()
        if self.day >= self.config.horizon:
            self.running = False


def model_params() -> dict[str, Any]:
    """The sidebar's controls, one per ``DashboardModel`` parameter, starting at its default.

    Policy names come from the registry, so a newly registered policy appears here by itself.
    """
    policies = [OWN, *RETALIATION_POLICIES]
    cost = {"type": "Select", "values": list(AUDIENCE_COST_CHOICES)}
    controls: dict[str, dict[str, Any]] = {
        "scenario_file": {"type": "Select", "label": "Scenario", "values": scenario_files()},
        "iran_policy": {"type": "Select", "label": "Iran: retaliation policy", "values": policies},
        "iran_audience_cost": {**cost, "label": "Iran: audience cost"},
        "pakistan_policy": {
            "type": "Select",
            "label": "Pakistan: retaliation policy",
            "values": policies,
        },
        "pakistan_audience_cost": {**cost, "label": "Pakistan: audience cost"},
        "mediation": {
            "type": "Select",
            "label": "Answer to offers of mediation",
            "values": list(MEDIATION_CHOICES),
        },
        "armed_group_activity": {
            "type": "SliderFloat",
            "label": "Armed-group attacks ×",
            "min": 0.0,
            "max": 4.0,
            "step": 0.25,
        },
        "seed": {"type": "SliderInt", "label": "Seed of the run", "min": 0, "max": 99, "step": 1},
    }
    defaults = inspect.signature(DashboardModel).parameters
    return {name: {**spec, "value": defaults[name].default} for name, spec in controls.items()}


def replay_command(model: DashboardModel) -> str:
    """The terminal command that tells this very run: the dashboard teaches the command line."""
    words = ["python", "run.py", "story", str(SCENARIOS / model.scenario_file)]
    words += ["--seed", str(model.seed)]
    for key, value in model.overrides.items():
        text = (
            yaml.safe_dump(value, default_flow_style=True).strip()
            if isinstance(value, list)
            else value
        )
        words += ["--set", f"{key}={text}"]
    return shlex.join(words)


def rung_table(model: EscalationModel) -> str:
    """Each state's rung today, number and name, as an HTML table."""
    rows = "".join(
        f"<tr><td>{escape(state.name)}</td><td>{state.top_rung}</td>"
        f"<td>{escape(model.ladder.name(state.top_rung))}</td></tr>"
        for state in model.states.values()
    )
    return f"<table><tr><th>State</th><th>Rung</th><th>On the ladder</th></tr>{rows}</table>"


def ladder_figure(model: EscalationModel) -> Figure:
    """Each state's rung by day so far, against the scenario's named rungs."""
    ladder, history = model.ladder, model.rung_history
    days = np.arange(len(history))
    with mpl.rc_context(PANEL_STYLE):
        fig = Figure(figsize=(6.4, 3.6))
        ax = fig.subplots()
        for i, (actor_id, state) in enumerate(model.states.items()):
            colour = plotting.OKABE_ITO[i % len(plotting.OKABE_ITO)]
            rungs = np.array([day[actor_id] for day in history]) + 0.08 * (i - 0.5)
            style = plotting.LINE_STYLES[i % len(plotting.LINE_STYLES)]
            ax.step(days, rungs, where="post", color=colour, linestyle=style, lw=2.5)
            ax.plot(days[-1], rungs[-1], "o", color=colour, markersize=9, label=state.name)
        ax.set_yticks(range(ladder.size), [f"{k} {ladder.name(k)}" for k in range(ladder.size)])
        ax.set_ylim(-0.4, ladder.war + 0.4)
        ax.set_xlim(0, max(7, model.day))
        ax.set_xlabel("Day of the crisis")
        ax.legend(loc="upper right")
        fig.tight_layout()
    return fig


def events_html(model: DashboardModel) -> str:
    """The run so far in the model's own words, newest day first; today even if it was quiet."""
    days: dict[int, list[str]] = {model.day: []}
    for event in model.events:
        days.setdefault(event.day, []).append(event.text)
    parts = []
    for day in sorted(days, reverse=True):
        heading = f"<b>{escape(day_label(model.config, day))}</b>"
        items = "".join(f"<li>{escape(text)}</li>" for text in days[day])
        parts.append(f"{heading}<ul>{items}</ul>" if items else f"<p>{heading}: a quiet day</p>")
    return "".join(parts)


@solara.component
def RunView(model: DashboardModel) -> None:
    """One run, stepped by Mesa's controls: each state's rung, and the days in words."""
    update_counter.get()  # Mesa's signal that the model stepped
    if model.error:
        solara.Error(model.error, classes=["scenario-error"])
    with solara.Columns([3, 2]):
        with solara.Column():
            solara.HTML(
                tag="h3",
                unsafe_innerHTML=escape(
                    f"{model.config.name}: {day_label(model.config, model.day)}"
                ),
            )
            solara.HTML(unsafe_innerHTML=rung_table(model), classes=["rung-display"])
            with solara.Column(classes=["dashboard-figure"]):
                solara.FigureMatplotlib(
                    ladder_figure(model), format="png", dependencies=[model, model.day]
                )
        with solara.Column():
            solara.HTML(tag="h3", unsafe_innerHTML="What happened")
            solara.HTML(unsafe_innerHTML=events_html(model), classes=["events"])
    solara.HTML(
        tag="p",
        unsafe_innerHTML="Change a control, then press <b>Reset</b> to start a run with it; "
        "<b>Step</b> is one day. The same run in a terminal: "
        f"<code>{escape(replay_command(model))}</code>",
    )


@dataclass(frozen=True)
class EnsembleResult:
    """An ensemble's figure and summary, with the scenario it was run on."""

    scenario: Scenario
    figure: Figure
    summary: str


def ensemble_result(model: DashboardModel, runs: int, engine: Engine) -> EnsembleResult:
    """Run an ensemble of the model's scenario: its escalation curves and headline numbers."""
    scenario = model.config
    ensemble = run_ensemble(scenario, runs=runs, seed=scenario.seed, workers=1, engine=engine)
    changed = f" + {len(model.overrides)} change(s)" if model.overrides else ""
    curves = ensemble.curves.assign(scenario=f"{scenario.name}{changed}")
    start = scenario.start_date.isoformat() if scenario.start_date else None
    figure = plotting.escalation_curves(
        curves, [rung.name for rung in scenario.ladder.rungs], start_date=start
    )
    items = []
    for row in ensemble.summary.itertuples():
        form = "{:.0%}" if str(row.outcome).startswith("p_") else "{:g}"
        low, high = form.format(row.ci_low), form.format(row.ci_high)
        label = OUTCOME_LABELS.get(str(row.outcome), str(row.outcome))
        items.append(
            f"<li>{escape(label)}: {form.format(row.estimate)} (95% CI {low} to {high})</li>"
        )
    return EnsembleResult(scenario, figure, f"<ul>{''.join(items)}</ul>")


@solara.component
def EnsembleView(model: DashboardModel) -> None:
    """A small ensemble of the current run's settings: how likely each rung is, day by day."""
    runs = solara.use_reactive(300)
    engine: solara.Reactive[Engine] = solara.use_reactive(ENGINES[0])
    task = solara.lab.use_task(
        lambda: ensemble_result(model, runs.value, engine.value),
        dependencies=None,
        raise_error=False,
    )
    solara.HTML(
        tag="h3", unsafe_innerHTML="How likely is escalation? An ensemble of these settings"
    )
    with solara.Row(style={"align-items": "center", "max-width": "900px"}):
        solara.SliderInt("Runs", value=runs, min=100, max=1000, step=100)
        solara.ToggleButtonsSingle(value=engine, values=list(ENGINES))
        solara.Button("Run ensemble", color="primary", on_click=task, disabled=task.pending)
    solara.ProgressLinear(task.pending)
    if task.error:
        solara.Error(f"The ensemble failed: {task.exception}")
    elif task.finished and task.value is not None:
        if task.value.scenario != model.config:
            solara.Info("The settings changed since this ensemble: press Run ensemble again.")
        else:
            with solara.Columns([3, 2]):
                with solara.Column(classes=["dashboard-figure", "ensemble-chart"]):
                    solara.FigureMatplotlib(
                        task.value.figure, format="png", dependencies=[task.value]
                    )
                solara.HTML(unsafe_innerHTML=task.value.summary, classes=["ensemble-summary"])


@solara.component
def Page() -> None:
    """The dashboard: Mesa's SolaraViz (controls and model) with a fresh model per browser tab.

    The model is a reactive value shared with SolaraViz, so that the run and ensemble panels can
    be laid out here at full width rather than in SolaraViz's fixed-height component cards.
    """
    initial = solara.use_memo(DashboardModel, dependencies=[])
    model: solara.Reactive[DashboardModel] = solara.use_reactive(initial)
    solara.Style(CSS)
    SolaraViz(
        model,
        model_params=model_params(),
        name="escalation-sim: the January 2024 Iran–Pakistan crisis",
    )
    RunView(model.value)
    EnsembleView(model.value)
