"""escalation-sim: an agent-based Monte Carlo model of how interstate crises escalate or calm down.

The public API, used by the command line, the notebook and the dashboard alike. Names are
imported when first used (PEP 562), so ``import sim`` and the command line's ``--help`` stay
quick: the model, numpy, pandas and matplotlib load only when something needs them.
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
    "Problem": "sim.loader",
    "Rung": "sim.ladder",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.loader",
    "StoryTables": "sim.story",
    "compare_runs": "sim.analysis",
    "load_scenario": "sim.loader",
    "newcombe_interval": "sim.analysis",
    "outcome": "sim.outcomes",
    "run_ensemble": "sim.runner",
    "run_story": "sim.story",
    "story_figure": "sim.story",
    "story_tables": "sim.story",
    "tango_interval": "sim.analysis",
    "tell": "sim.story",
    "wilson_interval": "sim.analysis",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute '{name}'")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from sim.analysis import compare_runs, newcombe_interval, tango_interval, wilson_interval
    from sim.ladder import Ladder, Rung
    from sim.loader import Problem, ScenarioError, load_scenario
    from sim.model import EscalationModel, Event
    from sim.outcomes import Outcome, outcome
    from sim.record import Batch
    from sim.runner import Ensemble, run_ensemble
    from sim.scenario import Scenario
    from sim.story import StoryTables, run_story, story_figure, story_tables, tell
