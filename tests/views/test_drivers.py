"""The dashboard's numeric controls are the documented sensitivity ranking's drivers: the
ranking is the rule applied to the Morris tables kept in docs, docs/dashboard.md quotes it, the
sweep that made it screens every number a control could offer, and a control set in the
dashboard changes the run exactly as the loader's ``--set`` does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest
import yaml

from sim import load_scenario, run_ensemble
from sim.model.scenario import Decision, Mechanisms, StateConfig
from sim.views import drivers as ranking
from sim.views.controls import MECHANISM_LABELS, controls_for
from sim.views.drivers import LEVERS, OUTCOMES, RANKING, THRESHOLD, Ranked, drivers, generic, rank
from tests.conftest import BASELINE, ROOT

TABLES = ROOT / "docs" / "data" / "drivers"
DOCS = ROOT / "docs" / "dashboard.md"
SWEEP = ROOT / ranking.SWEEP


def numeric(controls: list[Any]) -> list[Any]:
    """The controls that set a number; the others are the scenario's choices: a policy, resolve
    (a distribution, private to the state), whether a third party offers talks, a switch."""
    return [
        c
        for c in controls
        if all(isinstance(v, int | float) and not isinstance(v, bool) for _, v in c.options)
    ]


def test_rank_takes_each_keys_largest_mu_star_over_the_outcomes_and_the_states():
    def table(rows: dict[str, float]) -> pd.DataFrame:
        return pd.DataFrame({"parameter": list(rows), "mu_star": list(rows.values())})

    tables = {
        "answer_7d": table({"decision.deterrence": 0.2, "actors.a.pledge": 0.05}),
        "calm_14d": table({"decision.deterrence": 0.3, "actors.b.pledge": 0.12}),
        "forces_30d": table({"decision.deterrence": 0.1, "third_parties.c.leverage.a": 0.0994}),
    }
    found = rank(tables)
    assert found == (
        Ranked("decision.deterrence", 0.3, "calm_14d"),
        Ranked("actors.*.pledge", 0.12, "calm_14d"),
        Ranked("third_parties.*.leverage", 0.099, "forces_30d"),
    )
    assert drivers(found) == ("decision.deterrence", "actors.*.pledge")  # 0.099 < THRESHOLD


def test_the_ranking_is_the_rule_applied_to_the_documented_morris_tables():
    tables = {o: pd.read_csv(TABLES / f"morris_{o}.csv") for o in OUTCOMES}
    assert rank(tables) == RANKING
    assert {generic(p) for t in tables.values() for p in t["parameter"]} == set(LEVERS)


def test_the_sweep_file_is_the_documented_run_and_screens_every_lever():
    block = yaml.safe_load(SWEEP.read_text())["sweep"]
    assert block["design"] == "morris"
    assert tuple(block["outcomes"]) == OUTCOMES
    assert {generic(p) for p in block["parameters"]} == set(LEVERS)
    baseline = load_scenario(BASELINE)
    for path, spec in block["parameters"].items():  # half to twice the baseline's, a share to 1
        value: Any = baseline
        for part in path.split("."):
            value = value[part] if isinstance(value, Mapping) else getattr(value, part)
        high = min(2 * value, 1.0) if _share(path) else 2 * value
        assert spec["bounds"] == [value / 2, high], path
    docs = DOCS.read_text()
    assert f"\n{ranking.COMMAND}\n" in docs  # the command block
    said = (
        f"{block['samples']} trajectories, {block['runs']:,} runs per point, seed {block['seed']}"
    )
    assert said in docs


def _share(path: str) -> bool:
    """A number of the decision block or of a state that the schema caps at 1 (a chance)."""
    section, name = path.split(".")[0], path.rsplit(".", 1)[-1]
    model = {"decision": Decision, "actors": StateConfig}.get(section)
    if model is None or name not in model.model_fields:
        return False
    return any(getattr(rule, "le", None) == 1 for rule in model.model_fields[name].metadata)


def documented_rows() -> list[tuple[str, float, str, bool]]:
    text = DOCS.read_text()
    table = text.split("<!-- ranking -->", 1)[1].split("<!-- /ranking -->", 1)[0]
    rows = []
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append((cells[1].strip("`"), float(cells[2]), cells[3].strip("`"), cells[4] == "yes"))
    return rows


def test_docs_quote_the_ranking_and_which_parameters_get_a_control():
    assert documented_rows() == [
        (r.key, r.mu_star, r.outcome, r.mu_star >= THRESHOLD) for r in RANKING
    ]
    assert f"at least {THRESHOLD:.2f}" in DOCS.read_text()


def test_the_baseline_offers_a_control_for_each_driver_and_for_no_other_number():
    baseline = load_scenario(BASELINE)
    controls = controls_for(baseline)
    offered = numeric(controls)
    assert sorted({generic(c.key) for c in offered}) == sorted(drivers())
    states = [s for s in baseline.actors if baseline.adversaries(s)]
    for key in drivers():
        if key.startswith("actors.*."):  # for each state in crisis, in its own section
            found = [c for c in offered if generic(c.key) == key]
            assert [c.section for c in found] == [baseline.actors[s].name for s in states], key
    # the shared drivers first in the sidebar, in the ranking's order
    shared = [k for k in drivers() if k.startswith("decision.")]
    assert [c.key for c in controls[: len(shared)]] == shared


def test_every_mechanism_switch_is_offered():
    switches = [n for n, f in Mechanisms.model_fields.items() if f.annotation is bool]
    assert set(MECHANISM_LABELS) == set(switches)
    assert {"operations", "talks_under_fire", "sticky_measures"} <= set(switches)
    offered = [c.key for c in controls_for(load_scenario(BASELINE)) if c.section == "Mechanisms"]
    assert offered == [f"mechanisms.{n}" for n in MECHANISM_LABELS]  # the baseline has them all


@pytest.mark.parametrize(
    "path",
    [BASELINE, ROOT / "scenarios" / "cases" / "jun2025-israel-iran.yaml"],
    ids=["base", "case"],
)
def test_every_choice_offered_is_one_the_loader_accepts(path):
    base = load_scenario(path)
    for control in numeric(controls_for(base)):
        assert control.own in [v for _, v in control.options], control.key
        for _, value in control.options:
            load_scenario(path, control.overrides(value))  # raises on a value out of bounds


def test_pledge_to_one_changes_the_run_as_the_loader_would(monkeypatch):
    """The README's example (Pakistan's pledge: 1.0), made in the dashboard: the same scenario,
    the same runs as ``--set actors.pakistan.pledge=1.0``, and Pakistan answers more often."""
    from sim.views.dashboard import DashboardModel, Settings, ensemble_of, replay_command

    monkeypatch.chdir(ROOT)
    name = "scenarios/jan2024_baseline.yaml"
    pledge = {c.key: c for c in controls_for(load_scenario(name))}["actors.pakistan.pledge"]
    assert pledge.value_of("1") == 1.0
    model = DashboardModel(Settings(name, {pledge.key: pledge.value_of("1")}))
    assert model.overrides == {"actors.pakistan.pledge": 1.0}
    assert model.config == load_scenario(name, {"actors.pakistan.pledge": 1.0})
    assert "--set actors.pakistan.pledge=1.0" in replay_command(model)
    committed = ensemble_of(model, 1000)
    loaded = run_ensemble(model.config, runs=1000, seed=model.config.seed, workers=1)
    pd.testing.assert_frame_equal(committed.runs, loaded.runs)
    written = ensemble_of(DashboardModel(Settings(name)), 1000)

    def answered(runs: pd.DataFrame) -> float:
        return float((runs["answer_day"] <= 7).mean())

    # a pledge to answer, always made, makes the answer likelier (README: about 96% against 81%)
    assert answered(committed.runs) > answered(written.runs) + 0.05


def test_a_shared_driver_sets_the_decision_block(monkeypatch):
    from sim.views.dashboard import DashboardModel, Settings

    monkeypatch.chdir(ROOT)
    name = "scenarios/jan2024_baseline.yaml"
    for key in (k for k in drivers() if k.startswith("decision.")):
        control = {c.key: c for c in controls_for(load_scenario(name))}[key]
        label, value = control.options[-1]  # the largest offered, not the scenario's own
        assert value != control.own
        model = DashboardModel(Settings(name, {key: control.value_of(label)}))
        assert model.overrides == {key: value}
        assert model.config == load_scenario(name, {key: value})
        assert getattr(model.config.decision, key.removeprefix("decision.")) == value


def test_the_tables_in_docs_are_those_of_the_sweep_file():
    """The documented tables have a row for each parameter of the sweep file, no more."""
    block = yaml.safe_load(SWEEP.read_text())["sweep"]
    for outcome in OUTCOMES:
        table = pd.read_csv(TABLES / f"morris_{outcome}.csv")
        assert list(table["parameter"]) == list(block["parameters"]), outcome


def documented_sweep() -> tuple[Any, pd.DataFrame]:
    from sim.experiments.sweep_definition import parse_sweep_block
    from sim.inputs.loader import read_sweep_block

    return parse_sweep_block(read_sweep_block(SWEEP)), pd.read_csv(TABLES / "sweep.csv.gz")


def test_the_morris_tables_are_the_analysis_of_the_documented_sweeps_points():
    """``sweep.csv.gz`` is the sweep's own table: its points are the design of the sweep file,
    and the Morris tables the ranking reads are its analysis, number for number."""
    from sim.experiments.sweep import analyze_sweep

    definition, results = documented_sweep()
    assert list(results["point"]) == list(range(definition.size())) == list(range(1392))
    design = definition.points().points
    for i in (0, 1, 695, 1391):
        assert {k: results.loc[i, k] for k in design[i]} == pytest.approx(design[i], rel=1e-12)
    assert results["error"].isna().all()
    for outcome in OUTCOMES:
        table = pd.read_csv(TABLES / f"morris_{outcome}.csv", index_col="parameter")
        pd.testing.assert_frame_equal(table, analyze_sweep(definition, results, outcome), rtol=1e-9)


def test_points_of_the_documented_sweep_run_again_to_the_same_numbers():
    """Three points evaluated afresh, as ``python run.py sweep`` evaluates them (each with its
    own seed), give the estimates the table holds: the tables come from this sweep file."""
    from sim.experiments.designs import point_seed
    from sim.experiments.ensemble import PointEvaluator

    definition, results = documented_sweep()
    evaluate = PointEvaluator(
        scenario=load_scenario(SWEEP).model_dump(mode="json"),
        outcomes=definition.outcomes,
        source=str(SWEEP),
    )
    design = definition.points().points
    for i in (0, 500, 1391):
        estimates = evaluate(dict(design[i]), definition.runs, point_seed(definition.seed, i))
        assert {o: estimates[o][0] for o in OUTCOMES} == {o: results.loc[i, o] for o in OUTCOMES}
