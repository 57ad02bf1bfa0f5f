"""Statistics and tables: intervals checked against scipy and published values, tables exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import analysis
from sim.outcomes import Batch


@pytest.mark.parametrize("k, n", [(0, 10), (1, 10), (5, 10), (10, 10), (37, 1000), (999, 1000)])
def test_wilson_interval_matches_scipy(k, n):
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = analysis.wilson_interval(k, n)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


@pytest.mark.parametrize(
    "counts, expected",
    [
        # Newcombe (1998), Table II, method 10; the same numbers as statsmodels'
        # confint_proportions_2indep(method="newcomb")
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.0582, 0.8062)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ],
)
def test_newcombe_interval_matches_published_values(counts, expected):
    k1, n1, k2, n2 = counts
    diff, low, high = analysis.newcombe_interval(k1, n1, k2, n2)
    assert diff == pytest.approx(k1 / n1 - k2 / n2)
    assert (low, high) == pytest.approx(expected, abs=5e-5)


def test_two_proportion_p_value_is_the_pooled_z_test():
    k1, n1, k2, n2 = 56, 70, 48, 80
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert analysis.two_proportion_p_value(k1, n1, k2, n2) == pytest.approx(
        2 * stats.norm.sf(abs(z))
    )
    assert analysis.two_proportion_p_value(0, 10, 0, 10) == 1.0


def tiny_batch() -> Batch:
    """Three runs of two states over days 0..3, written out by hand."""
    rungs = np.array(
        [
            [[4, 0], [4, 0], [4, 4], [3, 3]],  # strikes on day 2, never calm
            [[4, 0], [3, 0], [0, 0], [0, 0]],  # calm on day 2
            [[4, 0], [4, 5], [6, 5], [7, 7]],  # war on day 3
        ],
        dtype=np.int8,
    )
    return Batch(
        rungs=rungs,
        first_strike_day=np.array([2, -1, 1]),
        mediation_offered=np.array([True, False, True]),
        mediation_accepted=np.array([True, False, False]),
        seeds=np.array([11, 12, 13]),
    )


@pytest.fixture
def scenario():
    from sim import load_scenario
    from tests.conftest import BASELINE

    return load_scenario(BASELINE, {"horizon": 3})


def test_runs_table_columns_and_values(scenario):
    runs = analysis.runs_table(tiny_batch(), scenario)
    assert list(runs.columns) == [
        "scenario",
        "run",
        "seed",
        "highest_rung",
        *[f"first_day_rung_{k}" for k in range(8)],
        "final_rung_iran",
        "final_rung_pakistan",
        "first_strike_day",
        "mediation_offered",
        "mediation_accepted",
        "days_to_calm",
    ]
    assert runs["highest_rung"].tolist() == [4, 4, 7]
    assert runs["first_day_rung_5"].tolist() == [pd.NA, pd.NA, 1]
    assert runs["first_day_rung_7"].tolist() == [pd.NA, pd.NA, 3]
    assert runs["final_rung_pakistan"].tolist() == [3, 0, 7]
    assert runs["first_strike_day"].tolist() == [2, pd.NA, 1]
    assert runs["days_to_calm"].tolist() == [pd.NA, 2, pd.NA]
    assert runs["seed"].tolist() == [11, 12, 13]


def test_curves_are_cumulative_probabilities_with_wilson_bands(scenario):
    runs = analysis.runs_table(tiny_batch(), scenario)
    curves = analysis.curves_table(runs, horizon=3)
    rung5 = curves[curves["rung"] == 5]
    assert rung5["day"].tolist() == [0, 1, 2, 3]
    assert rung5["probability"].tolist() == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3])
    low, high = analysis.wilson_interval(1, 3)
    assert rung5["ci_low"].iloc[1] == pytest.approx(low)
    assert rung5["ci_high"].iloc[1] == pytest.approx(high)
    assert set(curves.columns) == {
        "scenario",
        "rung",
        "day",
        "probability",
        "ci_low",
        "ci_high",
        "runs",
    }


def test_occupancy_shares_sum_to_one(scenario):
    occupancy = analysis.occupancy_table(tiny_batch(), scenario)
    assert occupancy.groupby("day")["share"].sum().tolist() == pytest.approx([1, 1, 1, 1])
    day3 = occupancy[occupancy["day"] == 3].set_index("rung")["share"]
    assert day3[0] == pytest.approx(1 / 3) and day3[3] == pytest.approx(1 / 3)


def test_summary_numbers(scenario):
    runs = analysis.runs_table(tiny_batch(), scenario)
    summary = analysis.summarize(runs, horizon=40, war=7).set_index("outcome")
    assert summary.loc["p_strike_7d", "estimate"] == pytest.approx(2 / 3)
    assert summary.loc["p_war", "estimate"] == pytest.approx(1 / 3)
    # days to calm: 2, never, never -> median never
    assert summary.loc["median_days_to_calm", "estimate"] == np.inf
    assert analysis.max_halfwidth(summary.reset_index()) == pytest.approx(
        max((h - lo) / 2 for lo, h in [analysis.wilson_interval(k, 3) for k in (2, 2, 1)])
    )


def test_median_interval_is_the_order_statistic_interval():
    runs = pd.DataFrame(
        {
            "scenario": "s",
            "first_strike_day": pd.array([pd.NA] * 101, "Int64"),
            "highest_rung": 0,
            "days_to_calm": pd.array(range(1, 102), "Int64"),
        }
    )
    row = analysis.summarize(runs, 60, 7).set_index("outcome").loc["median_days_to_calm"]
    assert row["estimate"] == 51
    # binomial(101, 1/2) order statistics for a 95% interval: the 41st and 61st values
    assert (row["ci_low"], row["ci_high"]) == (41, 61)


def test_compare_runs_against_the_first_scenario():
    def runs(name, strikes, n):
        return pd.DataFrame(
            {
                "scenario": name,
                "highest_rung": 4,
                "days_to_calm": pd.array([1] * n, "Int64"),
                "first_strike_day": pd.array([3] * strikes + [pd.NA] * (n - strikes), "Int64"),
            }
        )

    table = analysis.compare_runs(pd.concat([runs("a", 48, 80), runs("b", 56, 70)]), 60, 7)
    row = table.set_index("outcome").loc["p_strike_7d"]
    assert (row["scenario"], row["reference"]) == ("b", "a")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert bool(row["distinguishable"]) is True


def test_distinguishable_needs_the_test_and_the_interval_to_agree():
    def runs(name, wars, n):
        return pd.DataFrame(
            {
                "scenario": name,
                "highest_rung": [7] * wars + [4] * (n - wars),
                "days_to_calm": pd.array([1] * n, "Int64"),
                "first_strike_day": pd.array([pd.NA] * n, "Int64"),
            }
        )

    table = analysis.compare_runs(pd.concat([runs("a", 0, 2000), runs("b", 4, 2000)]), 60, 7)
    war = table.set_index("outcome").loc["p_war"]
    assert war["p_value"] < 0.05 and war["ci_low"] < 0
    assert not bool(war["distinguishable"])
