"""Statistics and tables: intervals checked against scipy and published values, tables exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis import outcomes
from sim.analysis import statistics as analysis
from sim.inputs.loader import load_scenario, scenario_from_mapping
from sim.model.record import NO_DAY, Batch
from tests.conftest import BASELINE, SCENARIOS, crisis


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
    """Three runs of two states (a struck b on day 0) over days 0..3, written out by hand."""
    never = NO_DAY
    return Batch(
        seeds=np.array([11, 12, 13]),
        reach_day=np.array(
            [
                [0, 0, 0],
                [0, 0, 0],
                [0, 0, 0],
                [0, 0, 0],
                [0, 0, 0],
                [0, 0, 0],
                [never, never, 2],
                [never, never, 3],
            ]
        ),
        strike_day=np.array([[never, never, 3], [2, never, 1]]),
        forces_day=np.array([[never, never, 3], [2, never, 1]]),
        highest_act=np.array([[0, 0, 7], [5, 2, 6]]),
        final_posture=np.array([[3, 0, 7], [3, 0, 7]]),
        answer_day=np.array([2, never, 1]),
        strike_days=np.array([1, 0, 3]),
        restrike_day=np.array([never, never, 3]),
        war_day=np.array([never, never, 3]),
        calm_day=np.array([never, 2, never]),
        offered_day=np.array([2, never, never]),
        accepted_day=np.array([2, never, never]),
        ceasefire_day=np.array([3, never, never]),
        pledges=np.array([[0, 0, 1], [1, 0, 0]]),
        backed_down=np.array([[0, 0, 0], [0, 0, 0]]),
        attacks=np.zeros((0, 3), dtype=np.int64),
        blamed=np.zeros((2, 3), dtype=np.int64),
        misread_up=np.array([0, 1, 0]),
        occupancy=np.array(
            [
                [0, 0, 0, 0, 0, 3, 0, 0],
                [0, 0, 0, 1, 0, 2, 0, 0],
                [1, 0, 0, 0, 0, 1, 1, 0],
                [1, 0, 0, 1, 0, 0, 0, 1],
            ]
        ),
    )


@pytest.fixture
def scenario():
    return scenario_from_mapping(crisis(horizon=3), source="test")


def test_runs_table_columns_and_values(scenario):
    runs = analysis.runs_table(tiny_batch(), scenario)
    assert runs["seed"].tolist() == [11, 12, 13]
    assert runs["highest_rung"].tolist() == [5, 5, 7]
    assert runs["answer_day"].tolist()[0] == 2 and np.isnan(runs["answer_day"][1])
    assert runs["strike_day_b"].tolist()[2] == 1
    assert list(runs.columns[:4]) == ["scenario", "run", "seed", "highest_rung"]
    assert {"calm_day", "war_day", "forces_day_a", "pledges_b", "misread_up"} <= set(runs.columns)
    # 'never' is NaN, so a comparison counts it as no and .mean() is over all runs, as on CSV
    assert (runs["calm_day"] <= 3).mean() == pytest.approx(1 / 3)


def test_runs_table_reads_back_the_same_from_csv(scenario, tmp_path):
    runs = analysis.runs_table(tiny_batch(), scenario)
    runs.to_csv(tmp_path / "runs.csv", index=False)
    back = pd.read_csv(tmp_path / "runs.csv")
    for column in ("calm_day", "answer_day", "war_day"):
        assert (back[column] <= 3).mean() == (runs[column] <= 3).mean()
    pd.testing.assert_frame_equal(back, runs, check_dtype=False)


def test_curves_are_cumulative_probabilities_with_wilson_bands(scenario):
    runs = analysis.runs_table(tiny_batch(), scenario)
    curves = analysis.curves_table(runs, horizon=3)
    war = curves[curves["rung"] == 7]
    assert war["probability"].tolist() == pytest.approx([0, 0, 0, 1 / 3])
    low, high = analysis.wilson_interval(1, 3)
    assert war["ci_low"].iloc[-1] == pytest.approx(low) and war["ci_high"].iloc[
        -1
    ] == pytest.approx(high)


def test_occupancy_shares_sum_to_one(scenario):
    table = analysis.occupancy_table(tiny_batch(), scenario)
    assert table.groupby("day")["share"].sum().tolist() == pytest.approx([1, 1, 1, 1])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("answer_2d", [True, False, True]),
        ("answer_1d", [False, False, True]),
        ("strike_2d", [True, False, True]),
        ("strike_2d_a", [False, False, False]),
        ("forces_3d_a", [False, False, True]),
        ("rung6_2d", [False, False, True]),
        ("sustained", [False, False, True]),
        ("war", [False, False, True]),
        ("war_2d", [False, False, False]),
        ("restrike", [False, False, True]),
        ("offered", [True, False, False]),
        ("accepted", [True, False, False]),
        ("ceasefire_3d", [True, False, False]),
        ("calm_2d", [False, True, False]),
        ("pledge_a", [False, False, True]),
        ("backed_down_b", [False, False, False]),
    ],
)
def test_each_outcome_of_the_catalogue_on_scripted_runs(scenario, name, expected):
    runs = analysis.runs_table(tiny_batch(), scenario)
    found = outcomes.outcome(name, 3, 7, ["a", "b"])
    assert found.kind == "probability"
    assert found.per_run(runs).tolist() == expected


def test_days_to_calm_is_a_days_outcome(scenario):
    runs = analysis.runs_table(tiny_batch(), scenario)
    found = outcomes.outcome("days_to_calm", 3, 7, ["a", "b"])
    assert found.kind == "days"
    values = found.per_run(runs)
    assert np.isnan(values[0]) and values[1] == 2


@pytest.mark.parametrize(
    "name, message",
    [
        ("strike_9d", "outcome 'strike_9d' looks past the horizon (3 days)"),
        ("rung9_2d", "outcome 'rung9_2d' names rung 9, above war (7)"),
        (
            "strike_2d_c",
            "outcome 'strike_2d_c' names 'c', which is not a state of this scenario (states: a, b)",
        ),
        ("war_2d_a", "outcome 'war_2d_a': war_Nd has no per-state form"),
        ("p_war", "unknown outcome 'p_war'"),
    ],
)
def test_outcome_names_that_do_not_fit(name, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        outcomes.outcome(name, 3, 7, ["a", "b"])


def test_summary_numbers(scenario):
    runs = analysis.runs_table(tiny_batch(), scenario)
    chosen = [outcomes.outcome(n, 3, 7, ["a", "b"]) for n in ("war", "days_to_calm")]
    summary = analysis.summarize(runs, chosen)
    war = summary[summary["outcome"] == "war"].iloc[0]
    assert war["estimate"] == pytest.approx(1 / 3) and war["kind"] == "probability"
    days = summary[summary["outcome"] == "days_to_calm"].iloc[0]
    assert days["estimate"] == np.inf  # two of three runs never calm: the median is 'never'


def test_median_interval_is_the_order_statistic_interval():
    days = np.arange(1, 101, dtype=float)
    runs = pd.DataFrame({"scenario": "x", "calm_day": days})
    found = outcomes.outcome("days_to_calm", 200, 7, ["a"])
    median, low, high = analysis.estimate(found, runs)
    expected = stats.quantile_test(days, q=median, p=0.5).confidence_interval(0.95)
    assert (median, low, high) == (50.5, expected.low, expected.high)


@pytest.mark.parametrize(
    "b, c, n, expected",
    [
        # Fagerland, Lydersen & Laake (2013), Bentur et al. data: Tango -0.517 to -0.026
        (1, 7, 21, (-0.5172, -0.0260)),
        # Agresti & Min (2005), PropCIs scoreci.mp(b = 40, c = 20, n = 160): 0.0309 to 0.2181
        (40, 20, 160, (0.0309, 0.2181)),
    ],
)
def test_tango_interval_matches_published_values(b, c, n, expected):
    diff, low, high = analysis.tango_interval(b, c, n)
    assert diff == pytest.approx((b - c) / n)
    assert (low, high) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize("b, c, n", [(0, 0, 50), (3, 0, 40), (30, 12, 500), (0, 9, 20)])
def test_tango_interval_is_where_the_score_test_does_not_reject(b, c, n):
    """Against a brute-force inversion that finds the constrained maximum likelihood estimate
    numerically, independently of the closed form the implementation uses."""
    from scipy import optimize

    def score(delta: float) -> float:
        # maximise the multinomial likelihood of (p12, p21) under p12 - p21 = delta
        def minus_log_likelihood(p21: float) -> float:
            p12 = p21 + delta
            rest = 1 - p12 - p21
            if min(p12, p21, rest) <= 0:
                return 1e300
            return -(b * np.log(p12) + c * np.log(p21) + (n - b - c) * np.log(rest))

        upper = (1 - delta) / 2
        lower = max(0.0, -delta)
        p21 = optimize.minimize_scalar(
            minus_log_likelihood,
            bounds=(lower + 1e-12, upper - 1e-12),
            method="bounded",
            options={"xatol": 1e-13},
        ).x
        return (b - c - n * delta) / np.sqrt(n * (2 * p21 + delta * (1 - delta)))

    _, low, high = analysis.tango_interval(b, c, n)
    z = stats.norm.ppf(0.975)
    grid = np.linspace(-0.999, 0.999, 4001)
    inside = [d for d in grid if abs(score(d)) <= z]
    assert low == pytest.approx(min(inside), abs=1e-3)
    assert high == pytest.approx(max(inside), abs=1e-3)


def test_mcnemar_score_p_value_agrees_with_the_tango_interval():
    for b, c in [(40, 20), (25, 13), (10, 10), (3, 0)]:
        p = analysis.mcnemar_p_value(b, c)
        assert p == pytest.approx(2 * stats.norm.sf(abs(b - c) / np.sqrt(b + c)))
        _, low, high = analysis.tango_interval(b, c, 200)
        assert (p < 0.05) == (low > 0 or high < 0)
    assert analysis.mcnemar_p_value(0, 0) == 1.0


def _runs(name: str, seeds, **columns) -> pd.DataFrame:
    return pd.DataFrame({"scenario": name, "seed": seeds, **columns})


def test_compare_pairs_runs_that_share_seeds_and_states_a_verdict():
    seeds = np.arange(200)
    rng = np.random.default_rng(0)
    base = rng.random(200) < 0.3
    more = base | (rng.random(200) < 0.2)  # never lower, run for run
    runs = pd.concat(
        [
            _runs("a", seeds, war_day=np.where(base, 5.0, np.nan), calm_day=np.full(200, 10.0)),
            _runs("b", seeds, war_day=np.where(more, 5.0, np.nan), calm_day=np.full(200, 14.0)),
        ]
    )
    chosen = [outcomes.outcome(n, 60, 7, ["x"]) for n in ("war", "days_to_calm")]
    table = analysis.compare_runs(runs, chosen, 60)
    war = table[table["outcome"] == "war"].iloc[0]
    b, c = int((more & ~base).sum()), 0
    assert war["paired"] and war["method"] == "tango score"
    assert (war["difference"], war["ci_low"], war["ci_high"]) == pytest.approx(
        analysis.tango_interval(b, c, 200)
    )
    assert war["verdict"] == "higher" and war["p_value"] == analysis.mcnemar_p_value(b, c)
    days = table[table["outcome"] == "days_to_calm"].iloc[0]
    assert (days["value"], days["reference_value"], days["difference"]) == (14, 10, 4)
    assert days["ci_low"] == 4 and days["ci_high"] == 4 and days["verdict"] == "higher"


def test_compare_scenarios_with_different_seeds_as_independent_samples():
    runs = pd.concat(
        [
            _runs("a", np.arange(70), war_day=np.where(np.arange(70) < 56, 1.0, np.nan)),
            _runs("b", np.arange(100, 180), war_day=np.where(np.arange(80) < 48, 1.0, np.nan)),
        ]
    )
    table = analysis.compare_runs(runs, [outcomes.outcome("war", 60, 7, ["x"])], 60)
    row = table.iloc[0]
    assert not row["paired"] and row["method"] == "newcombe+chi2"
    # Newcombe (1998), Table II: 48/80 against 56/70 is -0.3339 to -0.0524
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-0.3339, -0.0524), abs=5e-5)
    assert row["verdict"] == "lower"


@pytest.mark.parametrize("shift", [0.0, 1.0, 3.0])
def test_days_difference_p_value_agrees_with_its_bootstrap_interval(shift):
    rng = np.random.default_rng(11)
    base = rng.integers(5, 30, size=400).astype(float)
    other = base + np.where(rng.random(400) < 0.5, shift, 0.0)
    runs = pd.concat(
        [
            pd.DataFrame(
                {"scenario": "b", "run": range(400), "seed": range(400), "calm_day": other}
            ),
            pd.DataFrame(
                {"scenario": "a", "run": range(400), "seed": range(400), "calm_day": base}
            ),
        ]
    )
    found = outcomes.outcome("days_to_calm", 60, 7, ["a"])
    row = analysis.compare_runs(runs, [found], 60).iloc[0]
    excludes_zero = row["ci_low"] > 0 or row["ci_high"] < 0
    assert (row["p_value"] < 0.05) == excludes_zero
    assert row["method"] == "paired bootstrap"


# ---------------------------------------------------------------------------- curves by day


def hand_runs() -> pd.DataFrame:
    """Five runs of two states over a horizon of 4 days, each day written by hand."""
    nan = np.nan
    return pd.DataFrame(
        {
            "scenario": "hand",
            "run": range(5),
            "answer_day": [2.0, nan, 1.0, 4.0, nan],
            "forces_day_a": [nan, 3.0, nan, nan, nan],
            "forces_day_b": [2.0, 1.0, nan, nan, nan],
            "calm_day": [1.0, nan, 3.0, 3.0, nan],
            "war_day": [nan, nan, nan, nan, 0.0],
            "strike_day_a": [0.0, 0.0, 0.0, 0.0, 0.0],
            "strike_day_b": [2.0, 1.0, 1.0, 4.0, nan],
            "strike_days": [1, 3, 1, 1, 0],
        }
    )


def test_outcome_curves_by_day_are_counted_by_hand():
    chosen = outcomes.curve_outcomes(horizon=4, war=7, states=["a", "b"])
    assert [o.name for o in chosen] == ["answer_4d", "forces_4d", "calm_4d", "war_4d"]
    curves = analysis.outcome_curves(hand_runs(), chosen, horizon=4)
    assert list(curves.columns) == [
        "scenario", "outcome", "label", "day", "probability", "ci_low", "ci_high", "runs"
    ]  # fmt: skip
    by = {name: rows for name, rows in curves.groupby("outcome", sort=False)}
    assert list(by) == ["answer", "forces", "calm", "war"]
    # answers on days 2, 1, 4 (two runs never): by day 0..4, 0, 1, 2, 2, 3 runs of 5
    assert by["answer"]["probability"].tolist() == pytest.approx([0, 0.2, 0.4, 0.4, 0.6])
    # the first strike on forces by either state: days 2 (b), 1 (b before a's 3), never x3
    assert by["forces"]["probability"].tolist() == pytest.approx([0, 0.2, 0.4, 0.4, 0.4])
    assert by["calm"]["probability"].tolist() == pytest.approx([0, 0.2, 0.2, 0.6, 0.6])
    # at war from the history (day 0) in one run
    assert by["war"]["probability"].tolist() == pytest.approx([0.2] * 5)
    assert by["answer"]["day"].tolist() == [0, 1, 2, 3, 4]
    assert set(curves["runs"]) == {5}
    last = by["answer"].iloc[-1]
    # Wilson's 95% interval of 3 in 5, by hand: (0.6 + 1.96^2/10 -+ 1.96 sqrt(0.24/5 +
    # 1.96^2/100)) / (1 + 1.96^2/5) = (0.9842 -+ 0.5762) / 1.7683
    assert (last["ci_low"], last["ci_high"]) == pytest.approx((0.2307, 0.8824), abs=1e-4)
    assert by["answer"]["label"].iloc[0] == (
        "P(the state struck first answers with a strike by that day)"
    )
    assert (
        by["forces"]["label"].iloc[0] == "P(some state strikes another state's forces by that day)"
    )
    assert by["calm"]["label"].iloc[0] == "P(back to baseline by that day)"
    assert by["war"]["label"].iloc[0] == "P(war by that day)"


def test_a_curve_on_day_n_is_the_catalogues_outcome_within_n_days():
    runs = hand_runs()
    chosen = outcomes.curve_outcomes(horizon=4, war=7, states=["a", "b"])
    curves = analysis.outcome_curves(runs, chosen, horizon=4)
    for name in outcomes.CURVES:
        for day in range(5):
            within = outcomes.outcome(f"{name}_{day}d", 4, 7, ["a", "b"])
            share = float(np.mean(within.per_run(runs)))
            row = curves[(curves["outcome"] == name) & (curves["day"] == day)]
            assert row["probability"].item() == pytest.approx(share), (name, day)


def test_no_answer_curve_without_a_state_struck_first_and_none_for_sustained():
    unopened = outcomes.curve_outcomes(horizon=4, war=7, states=["a", "b"], opened=False)
    assert [o.name for o in unopened] == ["forces_4d", "calm_4d", "war_4d"]
    sustained = outcomes.outcome("sustained", 4, 7, ["a", "b"])
    with pytest.raises(ValueError, match="^outcome 'sustained' has no day on which it happened"):
        analysis.outcome_curves(hand_runs(), [sustained], horizon=4)


def test_outcome_curves_of_two_scenarios_are_told_apart():
    runs = pd.concat([hand_runs(), hand_runs().assign(scenario="other", war_day=np.nan)])
    chosen = outcomes.curve_outcomes(horizon=4, war=7, states=["a", "b"])
    curves = analysis.outcome_curves(runs, chosen, horizon=4)
    war = curves[curves["outcome"] == "war"]
    assert war.groupby("scenario", sort=False)["probability"].max().to_dict() == {
        "hand": pytest.approx(0.2),
        "other": 0.0,
    }


# --------------------------------------------------------------------------- #
# Differences true by construction, and the key outcomes
# --------------------------------------------------------------------------- #


def test_what_two_scenarios_differ_in_is_read_from_the_resolved_scenarios():
    from sim.analysis.outcomes import differing_keys

    accepted, refused = (
        load_scenario(SCENARIOS / f"jan2024_mediation_{n}.yaml").model_dump(mode="json")
        for n in ("accepted", "refused")
    )
    # the two files say only this: both states' answer to talks (and their names)
    assert differing_keys(refused, accepted) == [
        "actors.iran.mediation.policy",
        "actors.pakistan.mediation.policy",
    ]
    assert differing_keys(accepted, accepted) == []


def test_an_outcome_is_true_by_construction_only_where_a_key_it_images_differs():
    from sim.analysis.outcomes import by_construction, differing_keys, outcome

    base = load_scenario(BASELINE)
    committed = load_scenario(BASELINE, {"actors.pakistan.pledge": 1.0})
    no_china = load_scenario(SCENARIOS / "jan2024_no_mediator.yaml")
    states = list(base.actors)

    def named(name: str):
        return outcome(name, base.horizon, base.ladder.war, states)

    pledge = differing_keys(committed.model_dump(mode="json"), base.model_dump(mode="json"))
    assert pledge == ["actors.pakistan.pledge"]
    assert by_construction(named("pledge_pakistan"), pledge) == "actors.pakistan.pledge"
    assert by_construction(named("pledge_iran"), pledge) is None
    for finding in ("answer_7d", "sustained", "calm_14d", "backed_down_pakistan", "accepted"):
        assert by_construction(named(finding), pledge) is None
    # no mediator: China stays, without its mandate (the whole mediation block is absent)
    mediator = differing_keys(no_china.model_dump(mode="json"), base.model_dump(mode="json"))
    assert mediator[0] == "third_parties.china.mediation"
    assert by_construction(named("offered"), mediator) == "third_parties.china.mediation"
    assert by_construction(named("accepted"), mediator) == "third_parties.china.mediation"
    for finding in ("ceasefire_14d", "calm_14d", "sustained", "war"):
        assert by_construction(named(finding), mediator) is None


def test_the_key_outcomes_follow_the_horizon():
    from sim.analysis.outcomes import standard
    from sim.views.text import KEY_OUTCOMES, key_outcomes

    def names(horizon: int) -> list[str]:
        return [o.name for o in standard(horizon, ["iran", "pakistan"], 7)]

    assert key_outcomes(names(60)) == list(KEY_OUTCOMES)
    assert key_outcomes(names(20)) == [
        "answer_7d",
        "forces_7d",
        "sustained",
        "war",
        "calm_14d",
        "accepted",
    ]
    # too short for calm_14d: a shorter calm does not stand in for it
    assert key_outcomes(names(5)) == ["answer_5d", "forces_5d", "sustained", "war", "accepted"]
