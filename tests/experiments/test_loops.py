"""Loops of many small ensembles (SALib, EMA Workbench, sweeps) take the quick path: a scenario
file parsed once, not at every point, and the summary read from its arrays. The quick path gives
exactly what the slow one gave (issue 22); how fast it is, is measured in benchmarks/bench_api.py.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import load_scenario, parameter_space, run_ensemble
from sim.analysis import statistics
from sim.inputs import yaml_files
from sim.inputs.yaml_files import read_yaml
from tests.conftest import BASELINE

KEYS = ["actors.pakistan.cost", "actors.pakistan.audience_cost", "decision.rationality"]
ROWS = [(0.5, 0.0, 2.0), (3.0, 1.2, 9.5), (5.5, 0.4, 15.0)]
"""Three points of a SALib-style loop over KEYS, within the parameter space's ranges."""
OUTCOMES = ["sustained", "answer_7d", "days_to_calm"]


@pytest.fixture
def cold_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """An empty store of parsed texts, and the texts PyYAML parses from now on."""
    monkeypatch.setattr(yaml_files, "_parsed", type(yaml_files._parsed)())
    parsed: list[str] = []
    load = yaml.load

    def counting(text: str, Loader: type) -> object:  # noqa: N803 - PyYAML's keyword
        parsed.append(text)
        return load(text, Loader=Loader)

    monkeypatch.setattr(yaml_files.yaml, "load", counting)
    return parsed


def _point(values: tuple[float, ...]) -> dict[str, float]:
    space = parameter_space(load_scenario(BASELINE), keys=KEYS)
    return space.overrides(dict(zip(KEYS, values, strict=True)))


def test_a_loop_over_one_file_parses_it_once(cold_parses):
    for values in ROWS:
        load_scenario(BASELINE, overrides=_point(values))
    assert len(cold_parses) == 1  # the baseline extends no file: one text, parsed once
    assert cold_parses[0] == BASELINE.read_text(encoding="utf-8")


def test_the_loop_gives_what_parsing_every_time_gave(monkeypatch):
    """The slow path, as before: the file parsed afresh at every point of the loop."""
    points = [_point(values) for values in ROWS]
    quick = [load_scenario(BASELINE, overrides=point) for point in points]
    slow = []
    for point in points:
        monkeypatch.setattr(yaml_files, "_parsed", type(yaml_files._parsed)())
        slow.append(load_scenario(BASELINE, overrides=point))
    for a, b, values in zip(quick, slow, ROWS, strict=True):
        assert a == b
        assert a.model_dump(mode="json") == b.model_dump(mode="json")
        assert (a.actors["pakistan"].cost, a.decision.rationality) == (values[0], values[2])
        fast_runs = run_ensemble(a, runs=150, outcomes=OUTCOMES)
        slow_runs = run_ensemble(b, runs=150, outcomes=OUTCOMES)
        assert fast_runs.estimates == slow_runs.estimates
        pd.testing.assert_frame_equal(fast_runs.runs, slow_runs.runs)
    # the points differ: the loop is not handing back one scenario three times
    assert len({s.actors["pakistan"].cost for s in quick}) == len(ROWS)


def test_a_changed_file_is_read_as_it_now_is(cold_parses, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: a\nhorizon: 30\n", encoding="utf-8")
    assert read_yaml(path) == {"name": "a", "horizon": 30}
    path.write_text("name: a\nhorizon: 40\n", encoding="utf-8")  # same size, same second
    assert read_yaml(path) == {"name": "a", "horizon": 40}
    assert read_yaml(path) == {"name": "a", "horizon": 40}
    assert len(cold_parses) == 2


def test_each_read_gets_a_mapping_of_its_own(cold_parses, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("actors:\n  a: {cost: 1.0, tags: [x, y]}\n", encoding="utf-8")
    first = read_yaml(path)
    first["actors"]["a"]["cost"] = 9.0
    first["actors"]["a"]["tags"].append("z")
    first["extra"] = 1
    assert read_yaml(path) == {"actors": {"a": {"cost": 1.0, "tags": ["x", "y"]}}}
    assert len(cold_parses) == 1


def test_a_text_with_a_set_is_parsed_every_time(cold_parses, tmp_path):
    """A ``!!set`` is a value that can change in place, which a copy of the mapping would
    share: such a text is not kept."""
    path = tmp_path / "s.yaml"
    path.write_text("tags: !!set {x, y}\n", encoding="utf-8")
    first = read_yaml(path)
    first["tags"].add("z")
    assert read_yaml(path) == {"tags": {"x", "y"}}
    assert len(cold_parses) == 2


def test_a_file_with_a_problem_says_so_every_time(cold_parses, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(Exception, match="YAML syntax error"):
            read_yaml(path)
    assert len(cold_parses) == 2


def test_the_store_of_parsed_texts_stays_bounded(cold_parses, tmp_path):
    for i in range(yaml_files.PARSED_KEPT + 5):
        path = tmp_path / f"s{i}.yaml"
        path.write_text(f"name: s{i}\n", encoding="utf-8")
        read_yaml(path)
    assert len(yaml_files._parsed) == yaml_files.PARSED_KEPT
    read_yaml(tmp_path / "s0.yaml")  # the oldest was let go: parsed again
    assert len(cold_parses) == yaml_files.PARSED_KEPT + 6


def _widest_as_before(summary: pd.DataFrame) -> float:
    """``max_halfwidth`` as it was written with pandas, before it read the arrays."""
    probabilities = summary[summary["kind"] == "probability"]
    return float(((probabilities["ci_high"] - probabilities["ci_low"]) / 2).max())


def test_estimates_and_widest_interval_are_those_of_the_summary_table():
    ensemble = run_ensemble(load_scenario(BASELINE), runs=300, seed=5, outcomes=OUTCOMES)
    summary = ensemble.summary
    assert set(summary["kind"]) == {"probability", "days"}  # days_to_calm is not a probability
    widest = statistics.max_halfwidth(summary)
    assert widest == _widest_as_before(summary)
    probabilities = summary[summary["kind"] == "probability"]
    halves = (probabilities["ci_high"] - probabilities["ci_low"]) / 2
    assert widest in set(halves) and 0 < widest < 0.5
    estimates = ensemble.estimates
    assert list(estimates) == OUTCOMES
    for row in summary.itertuples():
        assert estimates[row.outcome] == (row.estimate, row.ci_low, row.ci_high)
        assert all(type(x) is float for x in estimates[row.outcome])
    only_days = summary[summary["kind"] == "days"]
    assert math.isnan(statistics.max_halfwidth(only_days))
    assert math.isnan(_widest_as_before(only_days))
    assert math.isnan(statistics.max_halfwidth(summary.iloc[:0]))
    gap = summary.copy()
    gap.loc[0, "ci_high"] = np.nan  # pandas skips a missing bound: so does the array version
    assert statistics.max_halfwidth(gap) == _widest_as_before(gap)
