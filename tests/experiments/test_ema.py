"""EMA Workbench drives the model through the public API: the example of docs/python.md, small.

Skipped without the ``ema`` extra (``pip install ".[ema]"``); CI installs it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.inputs.test_api import guide_blocks, run_guide

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "ipyparallel not installed", UserWarning)
    pytest.importorskip("ema_workbench")

UNCERTAINTIES = [
    "actors__pakistan__cost",
    "actors__iran__cost",
    "decision__rationality",
    "third_parties__china__mediation__agreement_rate",
]


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The guide's EMA section, run once with 24 experiments of 100 runs (and 4 in a pool)."""
    folder = tmp_path_factory.mktemp("ema")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        return run_guide(guide_blocks("ema"), folder)


@pytest.mark.slow
def test_ema_samples_the_uncertainties_within_their_ranges(guide):
    experiments = guide["experiments"]
    assert list(experiments.columns) == [*UNCERTAINTIES, "scenario", "policy", "model"]
    assert len(experiments) == 24
    for name, low, high in [
        ("actors__pakistan__cost", 0.0, 6.0),
        ("actors__iran__cost", 0.0, 6.0),
        ("decision__rationality", 0.0, 16.0),
        ("third_parties__china__mediation__agreement_rate", 0.01, 0.1),
    ]:
        assert experiments[name].between(low, high).all(), name
    # a Latin hypercube: one experiment in each of the 24 equal slices of every range
    slices = np.floor((experiments["actors__pakistan__cost"] - 0.0) / 6.0 * 24)
    assert sorted(slices.astype(int)) == list(range(24))


@pytest.mark.slow
def test_each_experiment_returns_its_outcomes_as_chances(guide):
    outcomes = guide["outcomes"]
    assert sorted(outcomes) == ["calm_14d", "sustained"]
    for values in outcomes.values():
        assert values.shape == (24,)
        assert ((values >= 0) & (values <= 1)).all()
    # 100 runs each: every chance is a whole number of runs
    assert np.allclose(outcomes["sustained"] * 100, np.round(outcomes["sustained"] * 100))
    # the uncertainties matter: the chance of a sustained exchange is not the same everywhere
    assert outcomes["sustained"].max() - outcomes["sustained"].min() > 0.2


@pytest.mark.slow
def test_the_same_model_runs_in_emas_process_pool(guide):
    assert len(guide["more_experiments"]) == 4
    assert (
        (guide["more_outcomes"]["sustained"] >= 0) & (guide["more_outcomes"]["sustained"] <= 1)
    ).all()


@pytest.mark.slow
def test_prim_finds_a_box_that_restricts_an_uncertainty(guide):
    box, discovery = guide["box"], guide["discovery"]
    assert 0 < box.coverage <= 1 and 0 < box.density <= 1
    assert box.density >= 0.8
    limits, full = box.box_lim, discovery.box_init
    restricted = [name for name in UNCERTAINTIES if not limits[name].equals(full[name])]
    assert restricted, "the box restricts no uncertainty"
    inside = (
        guide["experiments"][UNCERTAINTIES]
        .apply(
            lambda column: column.between(limits[column.name].iloc[0], limits[column.name].iloc[1])
        )
        .all(axis=1)
    )
    likely = guide["likely"]
    assert box.coverage == pytest.approx((inside & likely).sum() / likely.sum())
    assert box.density == pytest.approx((inside & likely).sum() / inside.sum())
