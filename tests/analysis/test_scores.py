"""The scores of sim.analysis.scores against hand-computed values and against the libraries that
compute the same thing (properscoring's CRPS, scipy's Mann-Whitney U)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from sim.analysis import scores as sc
from sim.analysis.outcomes import TRAJECTORY_CLASSES, trajectory


def test_brier_and_log_score_by_hand():
    assert sc.brier(np.array([0.2, 0.7]), np.array([0, 1])) == pytest.approx([0.04, 0.09])
    # p = 0 for an event that happened is kept at the floor 1/(2n), n = 50
    assert sc.log_score(np.array([0.0, 0.7]), np.array([1, 0]), 1 / 100) == pytest.approx(
        [-math.log(0.01), -math.log(0.3)]
    )


def test_ranked_probability_score_by_hand():
    # cumulative forecast (0.2, 0.7) against observed class 1, cumulative (0, 1): (0.04 + 0.09) / 2
    assert sc.rps(np.array([[0.2, 0.5, 0.3]]), np.array([1])) == pytest.approx([0.065])
    assert sc.rps(np.array([[0, 0, 1.0]]), np.array([2])) == pytest.approx([0.0])
    assert sc.rps(np.array([[1.0, 0, 0]]), np.array([2])) == pytest.approx([1.0])
    # six classes, uniform forecast, observed the mildest: sum of (k/6 - 1)^2, k = 1..5, over 5
    expected = sum((k / 6 - 1) ** 2 for k in range(1, 6)) / 5
    assert sc.rps(np.full((1, 6), 1 / 6), np.array([0])) == pytest.approx([expected])


def test_crps_by_hand():
    # a point forecast: the absolute error
    assert sc.crps([3.0], 5.0) == pytest.approx(2.0)
    # two equal members 0 and 1, y = 0: E|X - y| = 0.5, E|X - X'| = 0.5, CRPS 0.5 - 0.25
    assert sc.crps([0.0, 1.0], 0.0) == pytest.approx(0.25)
    # weights: 0 with weight 3, 4 with weight 1, y = 4: E|X-y| = 3, E|X-X'| = 2*.75*.25*4 = 1.5
    assert sc.crps([0.0, 4.0], 4.0, weights=np.array([3.0, 1.0])) == pytest.approx(3 - 0.75)
    # ties and unsorted input change nothing
    assert sc.crps([2.0, 0.0, 2.0], 1.0) == pytest.approx(sc.crps([0.0, 2.0, 2.0], 1.0))


def test_crps_on_whole_days_equals_the_sum_over_days_of_the_squared_cdf_gap():
    rng = np.random.default_rng(3)
    sample = rng.integers(0, 62, size=400).astype(float)
    for y in (0.0, 7.0, 61.0):
        days = np.arange(0, 62)
        cdf = (sample[None, :] <= days[:, None]).mean(axis=1)
        expected = np.sum((cdf - (days >= y)) ** 2)
        assert sc.crps(sample, y) == pytest.approx(expected)


def test_crps_agrees_with_properscoring():
    properscoring = pytest.importorskip("properscoring")
    rng = np.random.default_rng(7)
    for _ in range(5):
        sample = rng.normal(10, 5, size=300)
        weights = rng.uniform(0.1, 1, size=300)
        y = float(rng.normal(10, 5))
        assert sc.crps(sample, y) == pytest.approx(properscoring.crps_ensemble(y, sample))
        assert sc.crps(sample, y, weights=weights) == pytest.approx(
            properscoring.crps_ensemble(y, sample, weights=weights)
        )


def test_auc_by_hand_and_against_mann_whitney():
    p = np.array([0.1, 0.4, 0.35, 0.8])
    o = np.array([0, 0, 1, 1])
    assert sc.auc(p, o) == pytest.approx(0.75)  # 0.35 beats 0.1, 0.8 beats both
    assert sc.auc(np.array([0.5, 0.5]), np.array([1, 0])) == 0.5  # a tie counts a half
    assert math.isnan(sc.auc(np.array([0.2, 0.3]), np.array([1, 1])))
    rng = np.random.default_rng(11)
    p = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0], size=40)
    o = rng.integers(0, 2, size=40)
    u = mannwhitneyu(p[o == 1], p[o == 0]).statistic
    assert sc.auc(p, o) == pytest.approx(u / ((o == 1).sum() * (o == 0).sum()))


def test_murphy_decomposition_by_hand():
    p = np.array([0.1, 0.1, 0.9, 0.9])
    o = np.array([0, 1, 1, 1])
    parts = sc.murphy(p, o, bins=5)
    # bins: {0.1, 0.1} observed 0.5, {0.9, 0.9} observed 1; overall 0.75
    assert parts["reliability"] == pytest.approx((2 * 0.4**2 + 2 * 0.1**2) / 4)
    assert parts["resolution"] == pytest.approx((2 * 0.25**2 + 2 * 0.25**2) / 4)
    assert parts["uncertainty"] == pytest.approx(0.75 * 0.25)
    assert parts["brier"] == pytest.approx(0.21)
    assert parts["within_bin"] == pytest.approx(0.0)
    # forecasts that differ within a bin leave a remainder, and the identity still holds
    parts = sc.murphy(np.array([0.05, 0.15, 0.9]), np.array([0, 1, 1]))
    total = parts["reliability"] - parts["resolution"] + parts["uncertainty"]
    assert parts["brier"] == pytest.approx(total + parts["within_bin"])
    assert parts["within_bin"] != pytest.approx(0.0)


def test_bins_hold_their_lower_edge_and_one():
    assert sc.bin_index(np.array([0.0, 0.2, 0.399, 0.4, 1.0])).tolist() == [0, 1, 1, 2, 4]


def test_case_bootstrap_is_seeded_and_resamples_whole_cases():
    counts = sc.bootstrap_counts(7, resamples=500, seed=1)
    assert counts.shape == (500, 7)
    assert (counts.sum(axis=1) == 7).all()
    assert np.array_equal(counts, sc.bootstrap_counts(7, resamples=500, seed=1))
    assert not np.array_equal(counts, sc.bootstrap_counts(7, resamples=500, seed=2))


def test_ratio_skill_and_its_interval():
    # every case: model 1, reference 2, so every resample has skill 0.5
    skill, low, high = sc.ratio_skill(np.ones(5), np.full(5, 2.0), sc.bootstrap_counts(5))
    assert (skill, low, high) == pytest.approx((0.5, 0.5, 0.5))
    # two resamples by hand: case 0 twice (skill 1 - 2/4), case 1 twice (1 - 6/2)
    counts = np.array([[2.0, 0.0], [0.0, 2.0]])
    skill, low, high = sc.ratio_skill(np.array([1.0, 3.0]), np.array([2.0, 1.0]), counts)
    assert skill == pytest.approx(1 - 4 / 3)
    assert low == pytest.approx(np.percentile([0.5, -2.0], 2.5))
    assert high == pytest.approx(np.percentile([0.5, -2.0], 97.5))
    # a reference that scores 0 cannot be beaten
    assert math.isnan(sc.ratio_skill(np.ones(2), np.zeros(2), counts)[0])


def test_the_auc_interval_resamples_cases():
    p = np.array([0.1, 0.4, 0.35, 0.8])
    o = np.array([0, 0, 1, 1])
    ones = np.ones((3, 4))
    assert sc.auc_interval(p, o, ones) == pytest.approx((0.75, 0.75))
    # case 2 (0.35, happened) drawn twice against case 1 (0.4) and case 0 (0.1) once each
    counts = np.array([[1.0, 1.0, 2.0, 0.0]])
    assert sc.auc_interval(p, o, counts) == pytest.approx((0.5, 0.5))


def test_leave_one_out_and_one_feature_weights_by_hand():
    loo = sc.loo_weights(np.array([True, True, False, True]))
    assert loo[0].tolist() == pytest.approx([0, 0.5, 0, 0.5])
    assert loo[2].tolist() == pytest.approx([1 / 3, 1 / 3, 0, 1 / 3])  # an unscored case too
    feature = np.array([True, True, False, False])
    w = sc.feature_weights(np.ones(4, dtype=bool), feature, shrinkage=2)
    # case 0: one other case with its feature (case 1), weight 1/3; the LOO rate weight 2/3,
    # spread over cases 1, 2, 3
    assert w[0].tolist() == pytest.approx([0, 1 / 3 + 2 / 9, 2 / 9, 2 / 9])
    assert w.sum(axis=1) == pytest.approx(np.ones(4))
    # no other case shares the feature: the plain leave-one-out base rate
    w = sc.feature_weights(np.ones(3, dtype=bool), np.array([True, False, False]), shrinkage=2)
    assert w[0].tolist() == pytest.approx([0, 0.5, 0.5])
    o = np.array([1.0, 1.0, 0.0, 0.0])
    p = sc.feature_weights(np.ones(4, dtype=bool), feature) @ o
    assert p[0] == pytest.approx((1 + 2 * (1 / 3)) / 3)  # (k + m * loo) / (n + m)


def test_duplicate_items_keep_the_item_scored_on_more_cases():
    nan = np.nan
    codes = {
        "a": np.array([1, 0, nan, nan, 1.0]),
        "b": np.array([1, 0, 1, 0, 0.0]),
        "c": np.array([1, 0, 1, 0, 0.0]),
        "d": np.array([1, 0, 0, 1, 1.0]),
    }
    dropped = sc.duplicate_items(codes, min_overlap=3)
    # c equals b: the first of the two in order is kept; a equals d where both are scored,
    # d is scored on more cases
    assert dropped == {"c": ("b", 5), "a": ("d", 3)}
    assert sc.duplicate_items(codes, min_overlap=4) == {"c": ("b", 5)}


def runs_frame(**columns: list[float]) -> pd.DataFrame:
    base: dict[str, list[float]] = {
        "answer_day": [],
        "war_day": [],
        "ceasefire_day": [],
        "strike_days": [],
        "strike_day_a": [],
        "strike_day_b": [],
        "highest_act_a": [],
        "highest_act_b": [],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_trajectory_classes_from_the_runs_table():
    nan = np.nan
    runs = runs_frame(
        #          none  downgrade strike sust+cf sust   war
        answer_day=[nan, nan, 3.0, 2.0, 2.0, 1.0],
        war_day=[nan, nan, nan, nan, nan, 9.0],
        ceasefire_day=[nan, nan, nan, 8.0, nan, nan],
        strike_days=[0, 0, 1, 5, 4, 20],
        strike_day_a=[nan, nan, nan, 1.0, 1.0, 1.0],
        strike_day_b=[nan, nan, 3.0, 2.0, 2.0, 1.0],
        highest_act_a=[0, 0, 0, 5, 5, 7],
        highest_act_b=[0, 2, 4, 5, 5, 7],
    )
    classes = trajectory(runs, ["a", "b"], "b")
    assert [TRAJECTORY_CLASSES[c] for c in classes] == [
        "no_answer",
        "non_kinetic_only",
        "one_exchange",
        "repeated_agreement",
        "repeated_no_agreement",
        "war",
    ]
    # no state struck first: any state's strike or hostile act counts
    assert trajectory(runs, ["a", "b"], None).tolist() == [0, 1, 2, 3, 4, 5]
    # a mutual opening is at least one exchange: both sides fired on day 0
    assert trajectory(runs, ["a", "b"], None, mutual=True).tolist() == [2, 2, 2, 3, 4, 5]
    # a protest alone is no answer: a measure starts at a downgrade
    protest = runs.assign(highest_act_b=[0, 1, 4, 5, 5, 7])
    assert trajectory(protest, ["a", "b"], "b").tolist() == [0, 0, 2, 3, 4, 5]


def test_intervals_of_a_mean_and_of_the_murphy_terms_by_hand():
    sums = np.array([1.0, 3.0])
    sizes = np.array([1.0, 1.0])
    # resample 1: case 0 twice (mean 1); resample 2: case 1 twice (mean 3)
    counts = np.array([[2.0, 0.0], [0.0, 2.0]])
    assert sc.mean_interval(counts, sums, sizes) == pytest.approx(
        tuple(np.percentile([1.0, 3.0], [2.5, 97.5]))
    )
    p = np.array([0.1, 0.1, 0.9, 0.9])
    o = np.array([0, 1, 1, 1])
    point = sc.murphy(p, o)
    same = sc.murphy_intervals(p, o, np.ones((4, 4)))
    for key in ("reliability", "resolution", "uncertainty"):
        assert same[key] == pytest.approx((point[key], point[key]))
    # a resample of the first two forecasts only (twice each) is their own decomposition
    twice = sc.murphy_intervals(p, o, np.array([[2.0, 2.0, 0.0, 0.0]]))
    alone = sc.murphy(p[:2], o[:2])
    for key in ("reliability", "resolution", "uncertainty"):
        assert twice[key] == pytest.approx((alone[key], alone[key]))


def test_confident_counts_the_sure_forecasts_the_wrong_ones_and_their_share_of_the_loss():
    p = np.array([0.01, 0.02, 0.5, 0.97, 0.99, 0.96])
    o = np.array([0, 1, 1, 1, 0, 1])
    found = sc.confident(p, o)
    # sure: all but 0.5; wrong: 0.02 that happened and 0.99 that did not
    loss = [0.01**2, 0.98**2, 0.5**2, 0.03**2, 0.99**2, 0.04**2]
    assert (found["forecasts"], found["confident"], found["wrong"]) == (6, 5, 2)
    assert found["wrong_loss_share"] == pytest.approx((loss[1] + loss[4]) / sum(loss))
    assert found["loss_share"] == pytest.approx((sum(loss) - loss[2]) / sum(loss))
    # the edge is strict: exactly 5% or 95% is not confident
    assert sc.confident(np.array([0.05, 0.95]), np.array([1, 0]))["confident"] == 0
    assert np.isnan(sc.confident(np.array([0.0]), np.array([0]))["loss_share"])
