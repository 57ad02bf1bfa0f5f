"""escalation-sim: an agent-based Monte Carlo model of how interstate crises escalate or calm down.

The public API, used by the command line, the notebook and the dashboard alike.
"""

from sim.analysis import compare_runs, newcombe_interval, tango_interval, wilson_interval
from sim.ladder import Ladder, Rung
from sim.loader import Problem, ScenarioError, load_scenario
from sim.model import EscalationModel, Event
from sim.outcomes import Outcome, outcome
from sim.record import Batch
from sim.runner import Ensemble, run_ensemble
from sim.scenario import Scenario
from sim.story import StoryTables, run_story, story_figure, story_tables, tell

__all__ = [
    "Batch",
    "Ensemble",
    "EscalationModel",
    "Event",
    "Ladder",
    "Outcome",
    "Problem",
    "Rung",
    "Scenario",
    "ScenarioError",
    "StoryTables",
    "compare_runs",
    "load_scenario",
    "newcombe_interval",
    "outcome",
    "run_ensemble",
    "run_story",
    "story_figure",
    "story_tables",
    "tango_interval",
    "tell",
    "wilson_interval",
]
