"""calibrate: ABC-SMC on a small synthetic library whose true parameter is known; the same
posterior on any executor and after a resume; the profile; bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.cli.main import main
from sim.experiments import backtest, calibrate, calibration_cases, calibration_folder
from sim.experiments.calibrate import Settings
from sim.experiments.execution import InlineExecutor, executor
from sim.inputs.loader import load_scenario
from sim.inputs.parameters import Parameter
from sim.model.streams import run_seeds
from tests.conftest import ROOT, crisis, state

STRATEGIC: dict[str, Any] = {
    "retaliation": {"policy": "strategic", "delay": 1, "reaction_delay": 1},
    "resolve": {"beta": [3, 3]},
    "cost": 3.0,
    "audience_cost": 0.5,
    "perception": {"error": 0.1},
}
"""Both states of every synthetic case decide strategically, with the library's standard."""

DETERRENCE = Parameter(
    "decision.deterrence", "real", 4.0, 0.0, 12.0, source="test prior", label="deterrence"
)
TRUE_DETERRENCE = 8.0
"""The value the synthetic observations are simulated with (answers within a week in about
two runs of three, against one in seven at the default 4)."""
OPENINGS = {"first": ("a", "b", 5), "second": ("b", "a", 5), "third": ("a", "b", 6)}
"""Each synthetic case: who opens, against whom, at which rung."""


def case_mapping(name: str) -> dict[str, Any]:
    actor, target, rung = OPENINGS[name]
    return crisis(
        name=name,
        start_date="2024-01-01",
        horizon=60,
        runs=100,
        actors={"a": state("A", **STRATEGIC), "b": state("B", **STRATEGIC)},
        events=[{"day": 0, "type": "act", "actor": actor, "target": target, "rung": rung}],
    )


def write_library(folder: Path, names: tuple[str, ...] = tuple(OPENINGS), seed: int = 2024) -> None:
    """Cases whose 'observed' items are run ``k`` of seed ``seed`` at the true deterrence, for
    the ``k``-th case (so that the cases are independent draws)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(names):
        mapping = case_mapping(name)
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(mapping))
        data = calibration_cases.CaseData(
            name, mapping, tuple(backtest.ITEMS), (0.0,) * len(backtest.ITEMS)
        )
        found = calibration_cases.item_outcomes(
            data, {DETERRENCE.path: TRUE_DETERRENCE}, run_seeds(seed, k, k + 1)
        )
        items = {
            item: {
                "observed": bool(found[item][0]),
                "evidence": f"run {k} of seed {seed} with deterrence {TRUE_DETERRENCE}.",
            }
            for item in backtest.ITEMS
        }
        (folder / f"{name}.observed.yaml").write_text(
            yaml.safe_dump({"case": name, "items": items})
        )


TINY = Settings(populations=2, particles=3, runs=5, seed=5, parameters=(DETERRENCE,))
"""A calibration small enough for the default test run (on two of the three cases)."""


class StopAfter(InlineExecutor):
    """Inline, but Ctrl-C arrives at the ``n``-th task."""

    def __init__(self, n: int) -> None:
        self.n = n

    def submit(self, fn, /, *args, **kwargs):
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt
        return super().submit(fn, *args, **kwargs)


def test_every_item_of_the_synthetic_cases_is_scored(library):
    assert [case.name for case in library.cases] == ["first", "second", "third"]
    model = calibration_cases.LibraryModel(
        calibration_cases.case_data(library), (DETERRENCE,), 10, 1
    )
    assert model.observed()["p"].size == 3 * len(backtest.ITEMS)


def test_expand_sets_a_starred_key_for_every_state():
    mapping = case_mapping("first")
    assert calibration_cases.expand(mapping, "actors.*.cost", 2.5) == {
        "actors.a.cost": 2.5,
        "actors.b.cost": 2.5,
    }
    assert calibration_cases.expand(mapping, "third_parties.*.pressure.base", 1.0) == {}
    assert calibration_cases.expand(mapping, "decision.risk", 0.0) == {"decision.risk": 0.0}


def test_a_particle_is_every_cases_ensemble_on_common_random_numbers(library):
    model = calibration_cases.LibraryModel(
        calibration_cases.case_data(library), (DETERRENCE,), 40, 5
    )
    predicted = model({"deterrence": 6.0})["p"]
    expected = []
    for case in calibration_cases.case_data(library):
        seeds = run_seeds(calibration_cases.case_seed(5, case.name), 0, 40)
        found = calibration_cases.item_outcomes(case, {"decision.deterrence": 6.0}, seeds)
        expected += [found[item].mean() for item in case.items]
    assert predicted.tolist() == expected
    observed = model.observed()["p"]
    assert calibration_cases.brier_distance({"p": predicted}, {"p": observed}) == pytest.approx(
        np.mean((np.asarray(expected) - observed) ** 2)
    )


def test_an_interrupted_calibration_resumes_to_the_same_posterior(pair, tiny, tmp_path):
    """Interrupted in generation 2, resumed with several proposals at a time: the posterior of
    one uninterrupted run, one proposal at a time."""
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        calibrate.calibrate(pair, cut, TINY, StopAfter(TINY.particles + 2), slots=1)
    meta = json.loads((cut / "metadata.json").read_text())
    assert (meta["complete"], meta["generations_done"]) == (False, 1)
    assert calibration_folder.stored_generations(cut) == 1
    resumed = calibrate.calibrate(pair, cut, TINY, InlineExecutor(), slots=5)
    pd.testing.assert_frame_equal(tiny.particles, resumed.particles)
    pd.testing.assert_frame_equal(tiny.generations, resumed.generations)
    assert resumed.complete


@pytest.mark.slow
def test_a_process_pool_gives_the_inline_posterior(pair, tiny, tmp_path):
    with executor(2) as pool:
        pooled = calibrate.calibrate(pair, tmp_path, TINY, pool, slots=2)
    pd.testing.assert_frame_equal(tiny.particles, pooled.particles)


@pytest.mark.slow
def test_a_dask_cluster_gives_the_local_posterior(pair, tiny, tmp_path):
    with executor(2, kind="dask") as pool:
        remote = calibrate.calibrate(pair, tmp_path, TINY, pool, slots=2)
    pd.testing.assert_frame_equal(tiny.particles, remote.particles)
    pd.testing.assert_frame_equal(tiny.generations, remote.generations)


@pytest.mark.slow
def test_the_posterior_covers_the_true_deterrence(library, tmp_path):
    """Three generations of 20 particles, 100 runs a case, on 27 simulated observations: the
    90% interval holds the value they were simulated with (8), and the posterior sits nearer it
    than the prior (uniform on 0 to 12: mean 6, sd 3.5, 90% interval 0.6 to 11.4) with under
    half the prior's spread. (With this seed: mean 7.5, sd 1.1, 90% interval 6.0 to 9.4.)"""
    settings = Settings(populations=3, particles=20, runs=100, seed=11, parameters=(DETERRENCE,))
    with executor(2) as pool:
        posterior = calibrate.calibrate(library, tmp_path, settings, pool, slots=2)
    row = calibrate.summary(posterior).iloc[0]
    assert row["q05"] <= TRUE_DETERRENCE <= row["q95"]
    assert abs(row["mean"] - TRUE_DETERRENCE) < 1.0
    assert row["sd"] < 0.5 * 12.0 / np.sqrt(12.0)
    assert row["q95"] - row["q05"] < 0.5 * (0.9 * 12.0)


def test_one_particle_at_the_written_values_forecasts_as_backtest(library):
    cases = list(library.cases)
    reference = backtest.forecasts(cases, runs=30, workers=1)
    particles = pd.DataFrame(
        {"particle": [0], "weight": [1.0], DETERRENCE.path: [4.0], "brier": [0.0]}
    )
    posterior = calibrate.Posterior((DETERRENCE,), particles, pd.DataFrame(), {})
    mine = calibrate.forecasts(library, 30, InlineExecutor(), posterior)
    written = calibrate.forecasts(library, 30, InlineExecutor())
    pd.testing.assert_frame_equal(mine, reference)
    pd.testing.assert_frame_equal(written, reference)


def test_a_posterior_forecasts_as_a_scenario_drawing_from_its_profile(library, tmp_path):
    """Two particles, deterrence 0 (no answer ever) and 12, weighted 3:1: calibration's forecast
    of a case is what the case's scenario gives with {profile: calibrated} for that key, run by
    the ordinary runner: one way of drawing a posterior, not two."""
    particles = pd.DataFrame(
        {
            "particle": [0, 1],
            "weight": [0.75, 0.25],
            DETERRENCE.path: [0.0, 12.0],
            "brier": [0.0, 0.0],
        }
    )
    posterior = calibrate.Posterior((DETERRENCE,), particles, pd.DataFrame(), {})
    table = calibrate.forecasts(library, 400, InlineExecutor(), posterior)
    case = library.cases[0]
    (tmp_path / "profiles").mkdir()
    profile = {
        "profile": "calibrated",
        "parameters": {DETERRENCE.path: {"samples": [0.0, 12.0], "weights": [0.75, 0.25]}},
    }
    (tmp_path / "profiles" / "calibrated.yaml").write_text(yaml.safe_dump(profile))
    written = dict(library.mappings[case.name])
    written["decision"] = {**written.get("decision", {}), "deterrence": {"profile": "calibrated"}}
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(written))
    scenario = sim.load_scenario(tmp_path / "case.yaml")
    runs = sim.run_ensemble(scenario, runs=400, seed=case.scenario.seed).runs
    states = list(scenario.actors)
    answered = sim.outcome("answer_7d", scenario.horizon, scenario.ladder.war, states).per_run(runs)
    first = table[(table["case"] == case.name) & (table["item"] == "answer_7d")]
    assert 0 < answered.mean() < 1  # both particles were drawn
    assert first["probability"].iloc[0] == answered.mean()


def test_profile_holds_particles_aligned_by_index(pair, tiny):
    posterior = tiny
    text = calibrate.profile_yaml(posterior)
    assert "&" not in text and "*id" not in text  # no YAML anchors or aliases
    data = yaml.safe_load(text)
    assert data["profile"] == "calibrated"
    entry = data["parameters"]["decision.deterrence"]
    assert entry["samples"] == posterior.particles["decision.deterrence"].tolist()
    assert entry["weights"] == pytest.approx(posterior.particles["weight"].tolist())
    assert sum(entry["weights"]) == pytest.approx(1.0)
    provenance = data["provenance"]
    assert provenance["library_hash"] == pair.digest
    assert provenance["cases"] == ["first", "second"]
    assert (provenance["seed"], provenance["particles"], provenance["populations"]) == (5, 3, 2)
    assert provenance["command"] == "run.py calibrate"
    assert provenance["priors"] == {"decision.deterrence": "uniform(0, 12)"}


def test_the_shipped_profile_sets_a_scenarios_decision_keys_jointly(tmp_path):
    """scenarios/profiles/calibrated.yaml, read by the loader: every parameter set is one
    particle of the profile, all keys together."""
    from sim.inputs.loader import load_scenario
    from sim.model import uncertainty

    shipped = yaml.safe_load((ROOT / "scenarios" / "profiles" / "calibrated.yaml").read_text())
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "calibrated.yaml").write_text(yaml.safe_dump(shipped))
    keys = ("deterrence", "rationality", "review_rate")
    mapping = crisis(name="uses_profile", horizon=60)
    mapping["decision"] = {key: {"profile": "calibrated"} for key in keys}
    (tmp_path / "uses_profile.yaml").write_text(yaml.safe_dump(mapping))
    scenario = load_scenario(tmp_path / "uses_profile.yaml")
    particles = list(
        zip(*(shipped["parameters"][f"decision.{key}"]["samples"] for key in keys), strict=True)
    )
    for values in uncertainty.parameter_sets(scenario):
        assert tuple(values[f"decision.{key}"] for key in keys) in particles


def old_metadata(
    library: calibration_cases.Library, settings: Settings, **changes: Any
) -> dict[str, Any]:
    expected = calibrate.folder_settings(library, settings)
    return {"kind": calibration_folder.KIND, "settings": {**expected, **changes}, "complete": False}


CLI_SIZE = [
    "--populations",
    "1",
    "--particles",
    "10",
    "--runs",
    "5",
    "--check-runs",
    "5",
    "--workers",
    "1",
]
CLI_SETTINGS = Settings(populations=1, particles=10, runs=5, seed=1)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"library_hash": "ab" * 32, "cases": ["elsewhere"]},
            "settings.library_hash: this calibration was made from another case library (hash "
            "abababababab, cases elsewhere); the library given now has hash {hash}; choose "
            "another --out, or add --force to start afresh (the old files kept in <folder>.previous beside it)",
        ),
        (
            {"model": {"version": "0.0.1", "fingerprint": "0123456789abcdef"}},
            "settings.model: this calibration was made with another version of the model "
            "(version 0.0.1, fingerprint 0123456789abcdef; now {version}, {fingerprint}); choose "
            "another --out, or add --force to start afresh (the old files kept in <folder>.previous beside it)",
        ),
        (
            {"particles": 11},
            "settings.particles: this calibration was started with --particles 11, not 10: rerun "
            "with --particles 11 to resume it, or choose another --out, or add --force to start "
            "afresh (the old files kept in <folder>.previous beside it)",
        ),
    ],
)
def test_a_folder_of_another_calibration_is_refused_and_kept(
    library, tmp_path, capsys, changes, expected
):
    out = tmp_path / "out"
    out.mkdir()
    meta = json.dumps(old_metadata(library, CLI_SETTINGS, **changes))
    (out / "metadata.json").write_text(meta)
    (out / "pyabc.db").write_bytes(b"generations")
    code = main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out)])
    assert code == 2
    model = calibration_cases.model_version(library)
    text = expected.format(
        hash=library.digest[:12], version=model["version"], fingerprint=model["fingerprint"]
    )
    assert capsys.readouterr().err == f"error: {out / 'metadata.json'}: {text}\n"
    assert (out / "metadata.json").read_text() == meta
    assert (out / "pyabc.db").read_bytes() == b"generations"


def test_every_setting_that_differs_is_reported(library, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metadata.json").write_text(
        json.dumps(old_metadata(library, CLI_SETTINGS, seed=2, runs=8))
    )
    assert main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out)]) == 2
    meta = out / "metadata.json"
    assert capsys.readouterr().err == (
        "error: 2 problems with the calibration:\n"
        f"  - {meta}: settings.runs: this calibration was started with --runs 8, not 5: rerun "
        "with --runs 8 to resume it, or choose another --out, or add --force to start afresh "
        "(the old files kept in <folder>.previous beside it)\n"
        f"  - {meta}: settings.seed: this calibration was started with --seed 2, not 1: rerun "
        "with --seed 2 to resume it, or choose another --out, or add --force to start afresh "
        "(the old files kept in <folder>.previous beside it)\n"
    )


def test_a_folder_of_other_files_is_refused(library, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path}: holds files that are not a calibration; choose another --out, or "
        "add --force to start afresh there (the old files kept in <folder>.previous beside it)\n"
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_force_keeps_the_old_files_in_one_previous_folder(tmp_path):
    out = tmp_path / "calibration"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (tmp_path / "calibration.previous").mkdir()
    (tmp_path / "calibration.previous" / "older.txt").write_text("older")
    calibration_folder.check_folder(out, {"library_hash": "x"}, force=True)
    assert list(out.iterdir()) == []
    kept = tmp_path / "calibration.previous"
    assert [p.name for p in kept.iterdir()] == ["notes.txt"]  # one previous: the older is gone
    assert (kept / "notes.txt").read_text() == "mine"


def test_a_second_calibration_into_a_folder_in_use_is_refused(library, tmp_path, capsys):
    from sim.files.folders import folder_lock, real_path

    out = tmp_path / "out"
    with folder_lock(real_path(out)):  # a calibration already running there
        code = main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {out} is in use by another run (pid {os.getpid()}); wait for it "
        "to finish, or choose another --out\n"
    )
    assert not out.exists()


def test_a_library_that_does_not_validate_is_refused(tmp_path, capsys):
    write_library(tmp_path, ("first",))
    (tmp_path / "first.observed.yaml").unlink()
    assert main(["calibrate", str(tmp_path), *CLI_SIZE, "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'first.yaml'}: no record of what happened: expected "
        "first.observed.yaml beside it\n"
    )
    assert not (tmp_path / "out").exists()


def test_too_few_particles_and_a_stray_scheduler_are_refused(library, tmp_path, capsys):
    args = ["calibrate", str(library.folder), "--out", str(tmp_path / "out"), "--workers", "1"]
    assert main([*args, "--particles", "9"]) == 2
    assert capsys.readouterr().err == (
        "error: --particles: 9: expected at least 10 for 8 parameters (the proposal kernel "
        "needs a covariance)\n"
    )
    assert main([*args, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert capsys.readouterr().err == "error: --scheduler is only used with --executor dask\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_calibrate_command_writes_posterior_profile_scores_and_figures(library, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["folder"] == str(out)
    for name in (
        "posterior.csv",
        "generations.csv",
        "summary.csv",
        "items.csv",
        "scores.csv",
        "calibrated.yaml",
        "calibration.json",
        "marginals.png",
        "pairwise.svg",
        "pyabc.db",
    ):
        assert (out / name).is_file(), name
    posterior = pd.read_csv(out / "posterior.csv")
    assert list(posterior.columns) == [
        "particle",
        "weight",
        *[p.path for p in calibrate.PARAMETERS],
        "brier",
    ]
    assert len(posterior) == 10 and posterior["weight"].sum() == pytest.approx(1.0)
    summary = pd.read_csv(out / "summary.csv")
    assert summary["parameter"].tolist() == [p.path for p in calibrate.PARAMETERS]
    scores = pd.read_csv(out / "scores.csv")
    assert {"brier_defaults", "skill_vs_defaults", "skill_vs_base_rate"} <= set(scores.columns)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["complete"] and meta["generations_done"] == 1
    # the same command again: nothing left to sample, the same posterior
    before = (out / "posterior.csv").read_bytes()
    assert main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out), "-q"]) == 0
    assert (out / "posterior.csv").read_bytes() == before
    # what the weights are worth: Kish's (sum w)^2 / sum w^2, all ten in a first generation
    weights = posterior["weight"].to_numpy()
    worth = pd.read_csv(out / "generations.csv")["effective_particles"].tolist()
    assert worth == pytest.approx([weights.sum() ** 2 / (weights**2).sum()]) == [10.0]
    assert report["generations"][-1]["effective_particles"] == pytest.approx(10.0)
    capsys.readouterr()
    assert main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out)]) == 0
    assert (
        "  The last generation is worth 10.0 of its 10 particles (effective sample size): fewer "
        "than 20, so each end of a 90% interval rests on less than one particle; read the "
        "intervals from a finer fit (--particles 100 or more).\n"
    ) in capsys.readouterr().out


def test_enough_effective_particles_are_said_without_a_warning():
    from sim.views.text import _effective_particles

    assert _effective_particles({"effective_particles": 25.04}, 40) == (
        "  The last generation is worth 25.0 of its 40 particles (effective sample size)."
    )


@pytest.mark.slow
def test_cross_validation_forecasts_each_case_from_the_others(library, tmp_path, capsys):
    out = tmp_path / "cv"
    args = ["calibrate", str(library.folder), "--cross-validate", *CLI_SIZE, "--out", str(out)]
    assert main(args) == 0
    items = pd.read_csv(out / "cv_items.csv")
    assert items["case"].unique().tolist() == ["first", "second", "third"]
    for name in ("first", "second", "third"):
        meta = json.loads((out / "folds" / name / "metadata.json").read_text())
        assert meta["settings"]["left_out"] == name
        assert name not in meta["settings"]["cases"]
    scored = backtest.score(items[list(items.columns[:8])])
    assert items["base_rate"].tolist() == pytest.approx(scored["base_rate"].tolist(), nan_ok=True)
    scores = pd.read_csv(out / "cv_scores.csv")
    assert scores["item"].iloc[-1] == "all items"
    assert (out / "cv.png").is_file() and (out / "cv.json").is_file()
    printed = capsys.readouterr().out
    assert "Leave-one-case-out cross-validation on 3 cases" in printed
    # the out-of-sample forecasts scored as backtest scores the defaults, intervals and all
    skill = pd.read_csv(out / "cv_skill.csv").set_index("item")
    rungs = {c.name: backtest.opening_rung(c.scenario) for c in library.cases}
    from sim.analysis import scores as sc

    _, rows, _ = backtest.binary_scores(
        items[list(items.columns[:8])], rungs, backtest.external_rates(), sc.bootstrap_counts(3)
    )
    expected = pd.DataFrame(rows).set_index("item")
    for column in ("score", "skill_vs_base_rate", "skill_vs_one_feature", "skill_vs_base_rate_low"):
        assert skill[column].tolist() == pytest.approx(expected[column].tolist(), nan_ok=True)
    headline = skill.loc["all items"]
    assert (
        f"  all items: Brier {headline['score']:.3f} [{headline['score_low']:.3f}, "
        f"{headline['score_high']:.3f}]; vs base rate (LOO) "
    ) in printed
    assert json.loads((out / "cv.json").read_text())["skill"][0]["item"] == "answer_7d"


def test_a_database_that_is_not_pyabcs_is_refused(library, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metadata.json").write_text(json.dumps(old_metadata(library, CLI_SETTINGS)))
    (out / "pyabc.db").write_bytes(b"not a database at all")
    assert main(["calibrate", str(library.folder), *CLI_SIZE, "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: {out / 'pyabc.db'}: cannot be read as a database (file is not a database): it "
        "is not a pyabc database that can be resumed; choose another --out, or add --force to "
        "start afresh (the old files kept in <folder>.previous beside it)\n"
    )
    assert (out / "pyabc.db").read_bytes() == b"not a database at all"


def test_help_gives_the_default_sizes():
    from sim.cli.parser import build_parser

    calibrate_parser = build_parser()._subparsers._group_actions[0].choices["calibrate"]  # noqa: SLF001
    text = "".join(calibrate_parser.format_help().split())  # line breaks fall anywhere
    full, cv = calibrate.DEFAULT_SETTINGS, calibrate.DEFAULT_CV_SETTINGS
    for what in ("populations", "particles", "runs"):
        said = f"(default{getattr(full, what)};{getattr(cv, what)}with--cross-validate)"
        assert said in text, what
    assert f"(default{calibrate.CHECK_RUNS},asbacktest)" in text


QUOTED = {
    "decision.rationality": ("rationality", "{:.1f}"),
    "decision.deterrence": ("deterrence", "{:.1f}"),
    "actors.*.cost": ("cost", "{:.1f}"),
    "decision.review_rate": ("review rate", "{:.2f}"),
    "actors.*.audience_cost": ("audience cost", "{:.2f}"),
    "decision.operation_continuation": ("operation continuation", "{:.2f}"),
    "decision.engagement_continuation": ("engagement continuation", "{:.2f}"),
    "decision.direct_agreement_rate": ("rate of truces without a mediator", "{:.3f}"),
}
"""How docs/calibration.md names and rounds each parameter's posterior median and interval."""
README_QUOTES = {"decision.rationality", "decision.deterrence", "actors.*.cost"}
"""The ones the README quotes too, in the same words."""


def test_the_quoted_posterior_is_the_shipped_profiles():
    """docs/calibration.md's posterior medians and 90% intervals, and the README's, are the
    summary (``calibrate.summary``, as ``calibrate`` writes summary.csv) of the shipped
    profile's weighted particles, as the loader reads them for ``{profile: calibrated}``."""
    scenario = load_scenario(ROOT / "scenarios" / "jan2024_calibrated.yaml")
    shipped = scenario.uncertainty.profiles["calibrated"]
    assert set(shipped.values) == {p.path for p in calibrate.PARAMETERS} == set(QUOTED)
    particles = pd.DataFrame({key: list(samples) for key, samples in shipped.values.items()})
    particles["weight"] = list(shipped.weights)
    posterior = calibrate.Posterior(calibrate.PARAMETERS, particles, pd.DataFrame(), {})
    table = calibrate.summary(posterior).set_index("parameter")
    docs = " ".join((ROOT / "docs" / "calibration.md").read_text().split())
    readme = " ".join((ROOT / "README.md").read_text().split())
    for key, (name, form) in QUOTED.items():
        median, low, high = (form.format(table.loc[key, q]) for q in ("median", "q05", "q95"))
        quoted = f"{name} {median} (90%: {low} to {high}"
        assert quoted in docs, quoted
        assert key not in README_QUOTES or quoted in readme, quoted
