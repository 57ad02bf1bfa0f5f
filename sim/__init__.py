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
    "Batch": "sim.record",
    "Ensemble": "sim.runner",
    "EscalationModel": "sim.model",
    "Event": "sim.model",
    "Ladder": "sim.ladder",
    "Outcome": "sim.outcomes",
    "Parameter": "sim.parameters",
    "ParameterSpace": "sim.parameters",
    "PointEvaluator": "sim.runner",
    "Problem": "sim.errors",
    "Results": "sim.results",
    "Rung": "sim.ladder",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.errors",
    "StoryTables": "sim.story",
    "SweepDefinition": "sim.sweep",
    "analyze_sweep": "sim.sweep",
    "compare_runs": "sim.analysis",
    "load_results": "sim.results:load",
    "load_scenario": "sim.loader",
    "load_sweep": "sim.sweep:load_results",
    "newcombe_interval": "sim.analysis",
    "outcome": "sim.outcomes",
    "outcome_estimates": "sim.analysis",
    "parameter_space": "sim.parameters",
    "parse_params": "sim.sweep",
    "run_ensemble": "sim.runner",
    "run_story": "sim.story",
    "run_sweep": "sim.sweep",
    "standard_outcomes": "sim.outcomes:for_scenario",
    "story_figure": "sim.plotting",
    "story_tables": "sim.story",
    "tango_interval": "sim.analysis",
    "tell": "sim.story",
    "wilson_interval": "sim.analysis",
}
"""Each public name and where it lives: ``module`` or ``module:attribute`` when the name differs
(the one place to change when a module moves)."""

__all__ = [
    "Batch",
    "Ensemble",
    "EscalationModel",
    "Event",
    "Ladder",
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
    "load_results",
    "load_scenario",
    "load_sweep",
    "newcombe_interval",
    "outcome",
    "outcome_estimates",
    "parameter_space",
    "parse_params",
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
    from sim.analysis import (
        compare_runs,
        newcombe_interval,
        outcome_estimates,
        tango_interval,
        wilson_interval,
    )
    from sim.errors import Problem, ScenarioError
    from sim.ladder import Ladder, Rung
    from sim.loader import load_scenario
    from sim.model import EscalationModel, Event
    from sim.outcomes import Outcome, outcome
    from sim.outcomes import for_scenario as standard_outcomes
    from sim.parameters import Parameter, ParameterSpace, parameter_space
    from sim.plotting import story_figure
    from sim.record import Batch
    from sim.results import Results
    from sim.results import load as load_results
    from sim.runner import Ensemble, PointEvaluator, run_ensemble
    from sim.scenario import Scenario
    from sim.story import StoryTables, run_story, story_tables, tell
    from sim.sweep import SweepDefinition, analyze_sweep, parse_params, run_sweep
    from sim.sweep import load_results as load_sweep
