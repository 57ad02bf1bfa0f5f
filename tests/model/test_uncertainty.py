"""Numbers written as distributions or profiles: parameter sets, per-run draws, the split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import EscalationModel, load_scenario, run_story
from sim.analysis.outcomes import outcome
from sim.analysis.statistics import parameter_set_estimates, uncertainty_split
from sim.experiments.ensemble import run_ensemble, simulate
from sim.inputs.errors import ScenarioError
from sim.model import uncertainty
from sim.model.scenario import Scenario
from sim.model.streams import run_seeds
from tests.conftest import BASELINE

COST = {"actors.pakistan.cost": {"uniform": [1.0, 5.0]}}


def test_a_distribution_in_place_of_a_number_moves_into_the_uncertainty_block():
    scenario = load_scenario(BASELINE, {**COST, "decision.risk": {"triangular": [1, 1.5, 2]}})
    assert scenario.actors["pakistan"].cost == 3.0  # the median stands in place
    assert scenario.uncertainty.distributions["actors.pakistan.cost"].params == (1.0, 5.0)
    assert scenario.decision.risk == 1.5
    dumped = scenario.model_dump(mode="json")
    assert dumped["actors"]["pakistan"]["cost"] == {"uniform": [1.0, 5.0]}
    assert dumped["uncertainty"] == {"sets": 32}
    assert Scenario.model_validate(dumped) == scenario
    assert "uncertainty" not in load_scenario(BASELINE).model_dump(mode="json")


def test_parameter_sets_are_a_latin_hypercube_drawn_from_the_scenario_seed():
    scenario = load_scenario(BASELINE, COST)
    sets = uncertainty.parameter_sets(scenario)
    costs = np.array([s["actors.pakistan.cost"] for s in sets])
    # one set in each of the 32 equally likely slices of [1, 5]
    assert sorted(np.floor((costs - 1.0) / 4.0 * 32).astype(int)) == list(range(32))
    assert uncertainty.parameter_sets(scenario) == sets
    other = load_scenario(BASELINE, {**COST, "seed": 1})
    assert uncertainty.parameter_sets(other) != sets


def test_each_run_simulates_the_numbers_of_the_set_its_own_seed_draws():
    scenario = load_scenario(BASELINE, {**COST, "uncertainty.sets": 4})
    seeds = run_seeds(3, 0, 400)
    batch = simulate(scenario, seeds)
    sets = uncertainty.set_of_runs(seeds, 4)
    assert batch.parameter_set.tolist() == sets.tolist()
    values = uncertainty.parameter_sets(scenario)
    for number in range(4):
        rows = np.flatnonzero(sets == number)
        alone = simulate(uncertainty.for_set(scenario, values[number]), seeds[rows])
        assert alone.calm_day.tolist() == batch.calm_day[rows].tolist()
        assert alone.strike_day.tolist() == batch.strike_day[:, rows].tolist()
    # a story replays any run, with its set
    run = 17
    story = run_story(scenario, int(seeds[run]))
    assert story.config.actors["pakistan"].cost == values[sets[run]]["actors.pakistan.cost"]
    assert story.tally.calm_day[0] == batch.calm_day[run]


def test_runs_are_the_same_for_any_number_of_workers_and_carry_their_numbers():
    scenario = load_scenario(BASELINE, {**COST, "uncertainty.sets": 8})
    one = run_ensemble(scenario, runs=600, workers=1)
    two = run_ensemble(scenario, runs=600, workers=2)
    pd.testing.assert_frame_equal(one.runs, two.runs)
    values = uncertainty.parameter_sets(scenario)
    expected = [values[s]["actors.pakistan.cost"] for s in one.runs["parameter_set"]]
    assert one.runs["param.actors.pakistan.cost"].tolist() == expected


def test_the_model_refuses_a_scenario_whose_numbers_are_not_resolved():
    scenario = load_scenario(BASELINE, COST)
    with pytest.raises(ValueError, match="has uncertain numbers \\(actors.pakistan.cost\\)"):
        EscalationModel(scenario, 1)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"decision.coercion": {"uniform": [-1, 2]}},
            "--set decision.coercion: {uniform: [-1, 2]} reaches -1 to 2, outside this key's "
            "range 0 to 1",
        ),
        (
            {"actors.iran.cost": {"beta": [0, 2]}},
            "--set actors.iran.cost: beta takes two numbers above 0, got [0, 2]",
        ),
        (
            {"decision.talks": {"profile": "nowhere"}},
            "--set decision.talks: no profile 'nowhere' (looked for profiles/nowhere.yaml in "
            f"{BASELINE.parent} and the folders above it)",
        ),
    ],
)
def test_bad_distributions_name_the_key_and_what_was_expected(overrides, message):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(BASELINE, overrides)
    assert [str(p) for p in caught.value.problems] == [message]


def test_a_profile_sets_its_keys_jointly_particle_by_particle(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "fit.yaml").write_text(
        "parameters:\n"
        "  decision.rationality: {samples: [4.0, 8.0, 12.0], weights: [0.2, 0.5, 0.3]}\n"
        "  decision.risk: {samples: [1.0, 1.5, 2.0], weights: [0.2, 0.5, 0.3]}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(BASELINE.read_text())
    scenario = load_scenario(
        path,
        {
            "decision.rationality": {"profile": "fit"},
            "decision.risk": {"profile": "fit"},
            "uncertainty.sets": 100,
        },
    )
    sets = uncertainty.parameter_sets(scenario)
    pairs = [(s["decision.rationality"], s["decision.risk"]) for s in sets]
    assert set(pairs) == {(4.0, 1.0), (8.0, 1.5), (12.0, 2.0)}  # never mixed across particles
    # a Latin hypercube draws each particle as often as its weight says, to within one set
    counts = [pairs.count(p) for p in [(4.0, 1.0), (8.0, 1.5), (12.0, 2.0)]]
    assert all(abs(c - w * 100) <= 1 for c, w in zip(counts, (0.2, 0.5, 0.3), strict=True))
    assert scenario.decision.rationality == 8.0  # the weighted median stands in place
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, {"decision.talks": {"profile": "fit"}})
    assert [str(p) for p in caught.value.problems] == [
        "--set decision.talks: profile 'fit' has no values for this key (it has: "
        "decision.rationality, decision.risk)"
    ]


def test_the_split_gives_the_parameters_all_of_a_spread_they_cause_and_none_of_chance():
    answer = outcome("answer_7d", 60, 7, ["iran", "pakistan"])
    sets = np.repeat(np.arange(10), 100)
    # set s answers in all its runs or none: the parameters explain everything
    decided = np.where(sets % 2 == 0, 2.0, np.nan)
    rng = np.random.default_rng(5)
    chance = np.where(rng.random(1000) < 0.5, 2.0, np.nan)  # the same coin in every set
    tables = []
    for name, days in (("decided", decided), ("chance", chance)):
        tables.append(pd.DataFrame({"scenario": name, "answer_day": days, "parameter_set": sets}))
    split = uncertainty_split(pd.concat(tables, ignore_index=True), [answer])
    shares = dict(zip(split["scenario"], split["parameter_share"], strict=True))
    assert shares["decided"] == pytest.approx(1.0)
    # chance alone: the estimate's expected value is 0; with 10 sets of 100 its standard
    # error is about 0.02, so 0.05 is more than two of them
    assert shares["chance"] < 0.05
    per_set = parameter_set_estimates(tables[0], [answer])
    assert per_set["estimate"].tolist() == [1.0, 0.0] * 5


@pytest.mark.slow
def test_a_costlier_force_answers_less_across_the_parameter_sets():
    scenario = load_scenario(BASELINE, COST)
    runs = run_ensemble(scenario, runs=4000, workers=2).runs
    answer = outcome("answer_7d", 60, 7, ["iran", "pakistan"])
    per_set = parameter_set_estimates(runs, [answer])
    # 32 sets of about 125 runs: each estimate within about +-9 points; across cost 1 to 5
    # the answer rate falls by about 40 points, so the rank correlation is strongly negative
    rho = per_set["estimate"].corr(per_set["param.actors.pakistan.cost"], method="spearman")
    assert rho < -0.7
    split = uncertainty_split(runs, [answer])
    assert split["parameter_share"].iloc[0] > 0.02


def test_the_uncertainty_figure_has_a_panel_per_outcome_with_its_share():
    from sim.views.plotting import uncertainty_figure

    answer = outcome("answer_7d", 60, 7, ["iran", "pakistan"])
    sets = np.repeat(np.arange(4), 50)
    runs = pd.DataFrame(
        {"scenario": "s", "answer_day": np.where(sets < 2, 2.0, np.nan), "parameter_set": sets}
    )
    figure = uncertainty_figure(
        parameter_set_estimates(runs, [answer]), uncertainty_split(runs, [answer]), "s"
    )
    shown = [ax for ax in figure.axes if ax.get_visible()]
    assert len(shown) == 1
    assert shown[0].get_title().endswith("parameters explain 100% of the spread")
    assert list(shown[0].lines[-1].get_ydata()) == [0.5, 0.5]  # the line of all runs
    assert list(shown[0].lines[0].get_ydata()) == [0.0, 0.0, 1.0, 1.0]  # the sets, sorted
    assert tuple(figure.get_size_inches()) == (16.0, 9.0)


def test_a_key_written_as_a_distribution_ranges_over_its_support_in_the_parameter_space():
    from sim.inputs.parameters import parameter_space

    space = parameter_space(load_scenario(BASELINE, COST), keys=["actors.pakistan.cost"])
    (parameter,) = space.parameters
    assert (parameter.low, parameter.high) == (1.0, 5.0)


def test_a_profile_key_with_a_star_sets_that_key_of_every_state():
    scenario = load_scenario(
        BASELINE,
        {
            "actors.iran.cost": {"profile": "calibrated"},
            "actors.pakistan.cost": {"profile": "calibrated"},
        },
    )
    sets = uncertainty.parameter_sets(scenario)
    # one particle per set: both states take the same calibrated cost (the profile's actors.*.cost)
    assert all(s["actors.iran.cost"] == s["actors.pakistan.cost"] for s in sets)
    samples = set(scenario.uncertainty.profiles["calibrated"].values["actors.*.cost"])
    assert {s["actors.iran.cost"] for s in sets} <= samples


def test_the_shipped_calibrated_scenario_draws_the_decision_parameters_from_the_profile():
    from tests.conftest import SCENARIOS

    scenario = load_scenario(SCENARIOS / "jan2024_calibrated.yaml")
    assert sorted(scenario.uncertainty.from_profile) == [
        "decision.deterrence",
        "decision.rationality",
        "decision.review_rate",
    ]
    assert scenario.uncertainty.profiles[
        "calibrated"
    ].source == "scenarios/profiles/calibrated.yaml" or (
        scenario.uncertainty.profiles["calibrated"].source.endswith(
            "scenarios/profiles/calibrated.yaml"
        )
    )


def test_a_run_of_an_uncertain_scenario_draws_chance_and_parameters_apart(tmp_path):
    from sim.cli.main import main

    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--runs",
                "200",
                "--out",
                str(tmp_path),
                "-q",
                "--set",
                "actors.pakistan.cost={uniform: [1, 5]}",
                "--set",
                "uncertainty.sets=4",
            ]
        )
        == 0
    )
    assert (tmp_path / "uncertainty.png").stat().st_size > 0
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert sorted(runs["parameter_set"].unique()) == [0, 1, 2, 3]
    assert runs["param.actors.pakistan.cost"].between(1, 5).all()
