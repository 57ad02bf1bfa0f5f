"""escalation-sim: an agent-based Monte Carlo model of how interstate crises escalate or calm down.

The public API, used by the command line, the notebook and the dashboard alike, and described
in docs/python.md: scenarios, stories, ensembles, the outcome catalogue, comparisons, results
folders, sweeps and the parameter space (for SALib and EMA Workbench). Names are imported when
first used (PEP 562), so ``import sim`` and the command line's ``--help`` stay quick: the model,
numpy, pandas and matplotlib load only when something needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Batch": "sim.model.record",
    "Ensemble": "sim.experiments.ensemble",
    "EscalationModel": "sim.model.model",
    "Event": "sim.model.model",
    "Ladder": "sim.model.ladder",
    "OUTCOME_FORMS": "sim.analysis.outcomes:FORMS",
    "Outcome": "sim.analysis.outcomes",
    "Parameter": "sim.inputs.parameters",
    "ParameterSpace": "sim.inputs.parameters",
    "PointEvaluator": "sim.experiments.ensemble",
    "Problem": "sim.inputs.errors",
    "Results": "sim.files.results",
    "Rung": "sim.model.ladder",
    "Scenario": "sim.model.scenario",
    "ScenarioError": "sim.inputs.errors",
    "StoryTables": "sim.analysis.story",
    "SweepDefinition": "sim.experiments.sweep_definition",
    "analyze_sweep": "sim.experiments.sweep",
    "compare_runs": "sim.analysis.statistics",
    "comparison_figure": "sim.views.plotting",
    "curve_outcomes": "sim.analysis.outcomes",
    "escalation_curves": "sim.views.plotting",
    "load_results": "sim.files.results:load",
    "load_scenario": "sim.inputs.loader",
    "load_sweep": "sim.experiments.sweep_store:load_results",
    "newcombe_interval": "sim.analysis.statistics",
    "outcome": "sim.analysis.outcomes",
    "outcome_curves": "sim.analysis.statistics",
    "outcome_estimates": "sim.analysis.statistics",
    "parameter_space": "sim.inputs.parameters",
    "parse_params": "sim.experiments.sweep_definition",
    "response_curve": "sim.views.sweep_plots",
    "run_ensemble": "sim.experiments.ensemble",
    "run_story": "sim.analysis.story",
    "run_sweep": "sim.experiments.sweep_execution",
    "standard_outcomes": "sim.analysis.outcomes:for_scenario",
    "story_figure": "sim.views.plotting",
    "story_tables": "sim.analysis.story",
    "tango_interval": "sim.analysis.statistics",
    "tell": "sim.analysis.story",
    "wilson_interval": "sim.analysis.statistics",
}
"""Each public name and where it lives: ``module`` or ``module:attribute`` when the name differs
(the one place to change when a module moves)."""

__all__ = [
    "Batch",
    "Ensemble",
    "EscalationModel",
    "Event",
    "Ladder",
    "OUTCOME_FORMS",
    "Outcome",
    "Parameter",
    "ParameterSpace",
    "PointEvaluator",
    "Problem",
    "Results",
    "Rung",
    "Scenario",
    "ScenarioError",
    "StoryTables",
    "SweepDefinition",
    "analyze_sweep",
    "compare_runs",
    "comparison_figure",
    "curve_outcomes",
    "escalation_curves",
    "load_results",
    "load_scenario",
    "load_sweep",
    "newcombe_interval",
    "outcome",
    "outcome_curves",
    "outcome_estimates",
    "parameter_space",
    "parse_params",
    "response_curve",
    "run_ensemble",
    "run_story",
    "run_sweep",
    "standard_outcomes",
    "story_figure",
    "story_tables",
    "tango_interval",
    "tell",
    "wilson_interval",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute '{name}'")
    module, _, attribute = module.partition(":")
    value = getattr(import_module(module), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from sim.analysis.outcomes import FORMS as OUTCOME_FORMS
    from sim.analysis.outcomes import Outcome, curve_outcomes, outcome
    from sim.analysis.outcomes import for_scenario as standard_outcomes
    from sim.analysis.statistics import (
        compare_runs,
        newcombe_interval,
        outcome_curves,
        outcome_estimates,
        tango_interval,
        wilson_interval,
    )
    from sim.analysis.story import StoryTables, run_story, story_tables, tell
    from sim.experiments.ensemble import Ensemble, PointEvaluator, run_ensemble
    from sim.experiments.sweep import analyze_sweep
    from sim.experiments.sweep_definition import SweepDefinition, parse_params
    from sim.experiments.sweep_execution import run_sweep
    from sim.experiments.sweep_store import load_results as load_sweep
    from sim.files.results import Results
    from sim.files.results import load as load_results
    from sim.inputs.errors import Problem, ScenarioError
    from sim.inputs.loader import load_scenario
    from sim.inputs.parameters import Parameter, ParameterSpace, parameter_space
    from sim.model.ladder import Ladder, Rung
    from sim.model.model import EscalationModel
    from sim.model.record import Batch, Event
    from sim.model.scenario import Scenario
    from sim.views.plotting import comparison_figure, escalation_curves, story_figure
    from sim.views.sweep_plots import response_curve
