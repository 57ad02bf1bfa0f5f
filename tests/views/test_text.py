"""Words for outcomes and rungs: one name each, never two that read alike."""

from __future__ import annotations

import pytest

from sim import load_scenario
from sim.analysis import outcomes
from sim.experiments.cases import ITEMS
from sim.views.text import (
    README_ROWS,
    name_struck,
    percent_tick,
    reached_on_day_0_text,
    reads_alike,
)
from tests.conftest import SCENARIOS

SHIPPED = sorted(
    p
    for folder in (SCENARIOS, SCENARIOS / "cases")
    for p in folder.glob("*.yaml")
    if not p.name.startswith("_") and not p.name.endswith(".observed.yaml")
)


def test_names_that_share_two_words_in_a_row_read_alike():
    assert reads_alike("P(a sustained exchange of strikes)", "sustained exchange of fire")
    assert reads_alike("Strike on state forces", "a strike on state forces by day 7")
    assert not reads_alike(
        "P(both sides strike, on three or more days in all)", "sustained exchange of fire"
    )
    assert not reads_alike("P(war by the horizon)", "war")
    assert not reads_alike("P(some state strikes another state's forces)", "strike on state forces")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_no_outcome_reads_like_a_rung_of_a_shipped_scenario(path):
    """The summary's outcomes and the curves by day are told apart from every rung's name,
    so that 'a sustained exchange of strikes' (an outcome) never stands beside 'sustained
    exchange of fire' (rung 6) again."""
    scenario = load_scenario(path)
    states = list(scenario.actors)
    said = [o.label for o in outcomes.for_scenario(scenario)]
    said += [
        o.label for o in outcomes.curve_outcomes(scenario.horizon, scenario.ladder.war, states)
    ]
    rungs = [rung.name for rung in scenario.ladder.rungs]
    clashes = [(label, rung) for label in said for rung in rungs if reads_alike(label, rung)]
    assert clashes == []


def test_sustained_has_one_name_in_the_summary_the_backtest_and_the_readme():
    label = outcomes.outcome("sustained", 60, 7, ["a", "b"]).label
    assert label == "P(both sides strike, on three or more days in all)"
    assert ITEMS["sustained"][1] == "Both sides strike, on three or more days in all"
    assert README_ROWS["sustained"] == "both sides strike, on three or more days in all"


def test_the_rungs_reached_on_day_0_and_the_state_struck_first_in_words():
    names = ["calm", "protest", "downgrade", "posture", "strike"]
    assert reached_on_day_0_text([1, 2, 3, 4], names) == (
        "Rungs 1 to 4 (protest to strike) were already reached on day 0 by the opening act."
    )
    assert reached_on_day_0_text([2], names) == (
        "Rung 2 (downgrade) was already reached on day 0 by the opening act."
    )
    assert reached_on_day_0_text([], names) == ""
    assert name_struck("The state struck first answers", "Pakistan") == (
        "The state struck first (Pakistan) answers"
    )
    assert name_struck("The state struck first answers", None) == "The state struck first answers"


@pytest.mark.parametrize(
    "value, shown", [(0.0, "0%"), (0.005, "0.5%"), (0.02, "2.0%"), (0.4, "40%"), (1.0, "100%")]
)
def test_a_probability_axis_reads_in_per_cent_as_the_command_line_does(value, shown):
    assert percent_tick(value) == shown
