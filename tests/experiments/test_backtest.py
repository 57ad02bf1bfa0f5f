"""backtest: a library of cases read and checked, scores computed exactly, the command's files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from sim.experiments import backtest
from sim.experiments.backtest import ITEMS, LibraryError, load_library, score, summary
from tests.conftest import crisis, state

ROOT = Path(__file__).resolve().parents[2]


def observed(case: str, **values: object) -> dict:
    items = {}
    for item in ITEMS:
        value = values.get(item, False)
        entry: dict[str, object] = {"observed": value, "evidence": f"scripted {item}."}
        if value is True:
            entry["date"] = "2024-01-03"
        items[item] = entry
    return {"case": case, "items": items}


def write_case(folder: Path, name: str, scenario: dict, seen: dict | None) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump({**scenario, "name": name}))
    if seen is not None:
        (folder / f"{name}.observed.yaml").write_text(yaml.safe_dump(seen))


def library(folder: Path) -> None:
    """Two scripted cases: tit for tat answers for certain, 'never' never does."""
    echo = crisis(start_date="2024-01-01", horizon=60)
    quiet = crisis(start_date="2024-01-01", horizon=60, actors={"b": state("B", "never")})
    write_case(folder, "echo", echo, observed("echo", answer_7d=True, restrike=True))
    write_case(
        folder, "quiet", quiet, observed("quiet", answer_7d=False, restrike="not applicable")
    )


def test_scores_of_two_scripted_cases_are_exact(tmp_path):
    library(tmp_path)
    cases = load_library(tmp_path)
    assert [c.name for c in cases] == ["echo", "quiet"]
    table = score(backtest.forecasts(cases, runs=50, workers=1))
    answer = table[table["item"] == "answer_7d"].set_index("case")
    assert answer.loc["echo", "probability"] == 1.0 and answer.loc["quiet", "probability"] == 0.0
    assert answer["brier"].tolist() == [0.0, 0.0]
    # log score: p kept within [1/(2n), 1 - 1/(2n)] for n = 50 runs
    assert answer.loc["echo", "log_score"] == pytest.approx(-math.log(1 - 1 / 100))
    # leave-one-out base rate: each case's reference is the other case's outcome
    assert answer["base_rate"].tolist() == [0.0, 1.0]
    assert answer["brier_base"].tolist() == [1.0, 1.0]
    restrike = table[table["item"] == "restrike"].set_index("case")
    assert np.isnan(restrike.loc["quiet", "brier"])  # not applicable: not scored
    scores = summary(table).set_index("item")
    assert scores.loc["answer_7d", "skill_vs_coin"] == pytest.approx(1.0)
    assert scores.loc["answer_7d", "skill_vs_base_rate"] == pytest.approx(1.0)
    assert scores.loc["restrike", "cases"] == 1


def test_brier_log_and_skill_against_hand_computed_values():
    items = pd.DataFrame(
        {
            "case": ["x", "y", "z"],
            "item": ["war"] * 3,
            "probability": [0.2, 0.6, 0.9],
            "runs": [100] * 3,
            "observed": [0.0, 1.0, 1.0],
        }
    )
    table = score(items)
    assert table["brier"].tolist() == pytest.approx([0.04, 0.16, 0.01])
    assert table["log_score"].tolist() == pytest.approx(
        [-math.log(0.8), -math.log(0.6), -math.log(0.9)]
    )
    assert table["base_rate"].tolist() == pytest.approx([1.0, 0.5, 0.5])
    row = summary(table).set_index("item").loc["war"]
    assert row["brier"] == pytest.approx(0.07)
    assert row["skill_vs_coin"] == pytest.approx(1 - 0.07 / 0.25)
    base = (1.0 + 0.25 + 0.25) / 3
    assert row["brier_base_rate"] == pytest.approx(base)
    assert row["skill_vs_base_rate"] == pytest.approx(1 - 0.07 / base)


def test_reliability_bins_predicted_against_observed():
    items = pd.DataFrame(
        {
            "case": list("abcd"),
            "item": ["war"] * 4,
            "probability": [0.1, 0.15, 0.9, 0.95],
            "runs": [10] * 4,
            "observed": [0.0, 1.0, 1.0, 1.0],
        }
    )
    table = backtest.reliability(score(items), bins=2)
    assert table["items"].tolist() == [2, 2]
    assert table["mean_predicted"].tolist() == pytest.approx([0.125, 0.925])
    assert table["observed_share"].tolist() == pytest.approx([0.5, 1.0])


def test_every_problem_of_a_case_folder_is_reported_at_once(tmp_path):
    library(tmp_path)
    write_case(tmp_path, "orphan", crisis(start_date="2024-01-01", horizon=60), None)
    bad = observed("echo", answer_7d=True)
    bad["items"]["answer_7d"]["date"] = "2024-06-01"
    bad["items"]["invented"] = {"observed": True, "evidence": "x"}
    bad["items"]["war"]["observed"] = "maybe"
    (tmp_path / "echo.observed.yaml").write_text(yaml.safe_dump(bad))
    (tmp_path / "ghost.observed.yaml").write_text(yaml.safe_dump(observed("ghost")))
    with pytest.raises(LibraryError) as caught:
        load_library(tmp_path)
    messages = [str(p) for p in caught.value.problems]
    echo, orphan, ghost = (
        str(tmp_path / n) for n in ("echo.observed.yaml", "orphan.yaml", "ghost.observed.yaml")
    )
    assert messages == [
        f"{ghost}: no scenario ghost.yaml beside it",
        f"{echo}: items.invented: unknown item (items: {', '.join(ITEMS)})",
        f"{echo}: items.answer_7d.date: 2024-06-01 is day 152 of the scenario, outside its days 0 to 60",
        f"{echo}: items.war.observed: expected true, false, 'not applicable' or 'disputed', got 'maybe'",
        f"{orphan}: no record of what happened: expected orphan.observed.yaml beside it",
    ]


def test_an_observed_file_of_a_scenario_that_does_not_validate(tmp_path):
    write_case(tmp_path, "broken", {**crisis(), "horizon": -1}, observed("broken"))
    write_case(tmp_path, "short", crisis(), observed("short"))
    with pytest.raises(LibraryError) as caught:
        load_library(tmp_path)
    messages = [str(p) for p in caught.value.problems]
    assert messages[0].endswith("horizon: expected a whole number from 1 to 3650, got -1")
    assert (
        messages[1]
        == f"{tmp_path / 'broken.observed.yaml'}: its scenario broken.yaml does not validate (see above)"
    )
    assert (
        messages[2]
        == f"{tmp_path / 'short.yaml'}: horizon: a case runs at least 60 days (the items look that far), got 20"
    )


def backtest_cases(cases: Path, out: Path, *options: str) -> int:
    """``backtest`` of a small library: 40 runs a case, one worker (exit code)."""
    return main(
        ["backtest", str(cases), "--runs", "40", "--workers", "1", "--out", str(out), *options]
    )


def test_each_cell_of_the_backtest_figure_gives_its_probability_and_outcome_on_one_line(tmp_path):
    """Forty cases leave each row of the slide about 14 points high: a second line of text
    would run into the next row."""
    from sim.views.backtest_plots import backtest_figure

    library(tmp_path / "cases")
    out = tmp_path / "out"
    assert backtest_cases(tmp_path / "cases", out) == 0
    items = pd.read_csv(out / "items.csv")
    figure = backtest_figure(
        items, pd.read_csv(out / "reliability.csv"), pd.read_csv(out / "scores.csv")
    )
    marks = {1.0: "✔", 0.0: "✘"}
    expected = [
        f"{row.probability:.0%} {marks.get(row.observed, '–')}" for row in items.itertuples()
    ]
    assert [text.get_text() for text in figure.axes[0].texts] == expected


def test_the_backtest_command_writes_tables_json_and_a_figure(capsys, tmp_path):
    library(tmp_path / "cases")
    out = tmp_path / "out"
    assert backtest_cases(tmp_path / "cases", out) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"Backtest of 2 cases in {tmp_path / 'cases'}/, 40 runs each")
    for text in (
        "all items",
        "escalation items",
        "trajectory (RPS)",
        "days_to_answer (CRPS)",
        "days_to_calm (CRPS)",
        "vs coin",
        "vs base rate (LOO)",
        "vs external rate",
        "vs one feature",
        "AUC [95%]",
        "REL",
    ):
        assert text in printed
    assert len(printed.splitlines()) <= 20  # brief: every score, the headline's skill only
    assert "all nine items" not in printed  # with --full
    skill = printed.split("skill (1 - score / reference)", 1)[1].splitlines()[1:-1]
    assert [line.split()[:2] for line in skill] == [["all", "items"]]
    assert printed.splitlines()[0].endswith("Skill of the headline only (--full: each item's).")
    assert backtest_cases(tmp_path / "cases", out, "--full") == 0
    full = capsys.readouterr().out
    skill = full.split("skill (1 - score / reference)", 1)[1].splitlines()[1:-3]
    # --full ends with the headline's confident forecasts, as backtest.json counts them
    sure = json.loads((out / "backtest.json").read_text())["confident"]
    assert (sure["below"], sure["above"]) == (0.05, 0.95)
    assert full.splitlines()[-2] == (
        f"Confident forecasts (below 5% or above 95%): {sure['confident']} of the headline's "
        f"{sure['forecasts']}; {sure['wrong']} of them wrong, carrying "
        f"{sure['wrong_loss_share']:.1%} of the Brier loss."
    )
    items = pd.read_csv(out / "items.csv")
    headline = items[items["headline"] & items["observed"].notna()]
    assert sure["forecasts"] == len(headline)
    p = headline["probability"]
    assert sure["confident"] == int(((p < 0.05) | (p > 0.95)).sum())
    said = printed.splitlines()
    heads = [i for i, line in enumerate(said) if line.startswith(("  score (", "  skill ("))]
    # every item's skill, as every item's score, and all nine items (brief leaves it out)
    assert len(skill) == heads[1] - heads[0] - 1 + 1 and "all nine items" in full
    names = {p.name for p in out.iterdir()}
    assert {
        "items.csv",
        "scores.csv",
        "trajectory.csv",
        "timing.csv",
        "reliability.csv",
        "backtest.json",
        "backtest.png",
        "backtest.svg",
        "trajectory.png",
        "trajectory.svg",
    } <= names

    def strict(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    data = json.loads((out / "backtest.json").read_text(), parse_constant=strict)
    assert set(data) == {
        "meta",
        "items",
        "scores",
        "trajectory",
        "timing",
        "reliability",
        "headline",
        "references",
        "bootstrap",
        "confident",
    }
    assert data["meta"]["cases"] == ["echo", "quiet"]
    assert [row["item"] for row in data["scores"]] == [
        *ITEMS,
        "all items",
        "all nine items",
        "escalation items",
        "trajectory",
        "days_to_answer",
        "days_to_calm",
    ]
    # the escalation items' score is the mean Brier of the scored rows of those five items
    rows = pd.read_csv(out / "items.csv")
    rows = rows[rows["item"].isin(backtest.ESCALATION) & rows["observed"].notna()]
    brier = ((rows["probability"] - rows["observed"]) ** 2).mean()
    escalation = next(r for r in data["scores"] if r["item"] == "escalation items")
    assert escalation["score"] == pytest.approx(brier)
    for reference in backtest.REFERENCES:
        for key in ("score", "cases"):
            assert f"{reference}_{key}" in data["scores"][0]
        for key in ("", "_low", "_high"):
            assert f"skill_vs_{reference}{key}" in data["scores"][0]
    for key in ("score_low", "log_score_high", "auc", "auc_low", "auc_high", "reliability_low"):
        assert key in data["scores"][0]
    assert {"uncertainty", "within_bin"} <= set(data["scores"][0])
    assert data["headline"]["items"] + [d["item"] for d in data["headline"]["dropped"]]
    assert data["bootstrap"] == {"resamples": 2000, "seed": 20261207, "interval": 0.95}
    # the scripted cases have no trajectory and no timing: those scores skip them
    rows = {row["item"]: row for row in data["scores"]}
    assert rows["trajectory"]["cases"] == 0 and rows["trajectory"]["score"] is None
    assert backtest_cases(tmp_path / "cases", out, "--json") == 0
    printed = json.loads(capsys.readouterr().out, parse_constant=strict)
    assert printed["ok"] is True and printed["scores"][9]["item"] == "all items"


def test_a_folder_without_cases_is_a_clear_message(capsys, tmp_path):
    assert main(["backtest", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: holds no case (no <case>.yaml files)\n"


def test_trajectory_and_timing_in_an_observed_file_are_checked(tmp_path):
    seen = observed("echo", answer_7d=True)
    seen["trajectory"] = {"observed": "escalation", "evidence": " "}
    seen["timing"] = {"days_to_answer": 70, "days_to_calm": "not applicable", "days": 1}
    write_case(tmp_path, "echo", crisis(start_date="2024-01-01", horizon=60), seen)
    with pytest.raises(LibraryError) as caught:
        load_library(tmp_path)
    source = tmp_path / "echo.observed.yaml"
    classes = ", ".join(backtest.CLASSES)
    assert [str(p) for p in caught.value.problems] == [
        f"{source}: trajectory.observed: expected one of the classes {classes} (mildest "
        "first), or 'not applicable' or 'disputed', got 'escalation'",
        f"{source}: trajectory.evidence: expected a sentence saying what shows it (cite the "
        "fact file's sources)",
        f"{source}: timing.days: unknown key (allowed here: days_to_answer, days_to_calm, "
        "evidence)",
        f"{source}: timing.days_to_answer: expected a whole number of days after day 0 from 0 "
        "to 60, or 'never' or 'not applicable' (a day after 60 is 'never'), got 70",
        f"{source}: timing.days_to_calm: expected a whole number of days after day 0 from 0 to "
        "60, or 'never' (a day after 60 is 'never'), got 'not applicable'",
    ]
    seen["trajectory"] = ["war"]
    seen["timing"] = {"days_to_answer": "never", "days_to_calm": True}
    (tmp_path / "echo.observed.yaml").write_text(yaml.safe_dump(seen))
    with pytest.raises(LibraryError) as caught:
        load_library(tmp_path)
    messages = [str(p) for p in caught.value.problems]
    assert messages[0].startswith(f"{source}: trajectory: expected a mapping with observed")
    assert messages[1].endswith("or 'never' (a day after 60 is 'never'), got True")
    assert len(messages) == 2


def hand_library(folder: Path) -> list[backtest.Case]:
    """Three cases with trajectory and timing (x and y open at rung 6), one without."""
    specs = {
        "x": (
            6,
            {"observed": "war", "evidence": "e."},
            {"days_to_answer": 0, "days_to_calm": "never"},
        ),
        "y": (
            6,
            {"observed": "one_exchange", "evidence": "e."},
            {"days_to_answer": 2, "days_to_calm": 10},
        ),
        "z": (
            5,
            {"observed": "no_answer", "evidence": "e."},
            {"days_to_answer": "never", "days_to_calm": "never"},
        ),
        "w": (5, None, None),
    }
    for name, (rung, seen_class, timing) in specs.items():
        scenario = crisis(
            start_date="2024-01-01",
            horizon=60,
            events=[{"day": 0, "type": "act", "actor": "a", "target": "b", "rung": rung}],
        )
        seen = observed(name)
        if seen_class is not None:
            seen["trajectory"] = seen_class
            seen["timing"] = timing
        write_case(folder, name, scenario, seen)
    return load_library(folder)


def test_rps_and_crps_with_their_references_against_hand_computed_values(tmp_path):
    cases = hand_library(tmp_path)
    assert [c.name for c in cases] == ["w", "x", "y", "z"]
    assert cases[1].timing == {"days_to_answer": 0, "days_to_calm": backtest.NEVER}
    items = pd.DataFrame(
        [
            {
                "case": c.name,
                "item": i,
                "label": i,
                "probability": 0.5,
                "runs": 100,
                "observed": 0.0,
                "status": "false",
                "date": "",
            }
            for c in cases
            for i in ITEMS
        ]
    )
    one_hot = np.eye(6)
    forecast = backtest.LibraryForecast(
        items,
        {"w": one_hot[0], "x": one_hot[5], "y": one_hot[2], "z": np.array([0.5, 0.5, 0, 0, 0, 0])},
        {
            name: {"days_to_answer": np.array(answer), "days_to_calm": np.array([61.0])}
            for name, answer in (("w", [0.0]), ("x", [0.0]), ("y", [2.0, 4.0]), ("z", [61.0]))
        },
    )
    result = backtest.evaluate(cases, forecast, external={})
    t = result.trajectory.set_index("case")
    assert t.loc["w", "observed"] == "" and np.isnan(t.loc["w", "rps"])  # not scored
    assert t.loc["x", "rps"] == pytest.approx(0.0)
    assert t.loc["z", "rps"] == pytest.approx(0.25 / 5)
    # x, leave one out: y (one_exchange) and z (no_answer) half each, against war
    assert t.loc["x", "rps_base_rate"] == pytest.approx((0.25 + 0.25 + 1 + 1 + 1) / 5)
    # x, one feature: y shares the opening rung 6 (1 case, weight 1/3), the LOO rate 2/3
    assert t.loc["x", "rps_one_feature"] == pytest.approx((1 / 9 + 1 / 9 + 3) / 5)
    assert t.loc["x", "opening_rung"] == 6
    # the coin: every class alike, cumulative k/6, against war (cumulative 0 below it)
    assert t.loc["x", "rps_coin"] == pytest.approx(sum((k / 6) ** 2 for k in range(1, 6)) / 5)
    rows = result.scores.set_index("item")
    assert rows.loc["trajectory", "cases"] == 3
    assert rows.loc["trajectory", "score"] == pytest.approx(0.05 / 3)
    assert rows.loc["trajectory", "external_cases"] == 0
    assert np.isnan(rows.loc["trajectory", "skill_vs_external"])

    timing = result.timing.set_index(["measure", "case"])
    answer = timing.loc["days_to_answer"]
    assert answer.loc["x", "crps"] == pytest.approx(0.0)
    # y: members 2 and 4 against 2: E|X - y| = 1, E|X - X'| = 1, CRPS 1 - 0.5
    assert answer.loc["y", "crps"] == pytest.approx(0.5)
    # x, leave one out: y's 2 and z's never (61) against 0: 31.5 - (2 * 0.25 * 59) / 2
    assert answer.loc["x", "crps_base_rate"] == pytest.approx(31.5 - 14.75)
    # the coin: every day 0 to 61 alike, against 0: the sum over days of (1 - F)^2
    assert answer.loc["x", "crps_coin"] == pytest.approx(sum((j / 62) ** 2 for j in range(62)))
    assert answer.loc["z", "observed"] == "never" and answer.loc["w", "observed"] == ""
    assert rows.loc["days_to_answer", "cases"] == 3
    assert rows.loc["days_to_calm", "cases"] == 3
    model = answer["crps"].dropna()
    reference = answer["crps_coin"].dropna()
    assert rows.loc["days_to_answer", "skill_vs_coin"] == pytest.approx(
        1 - model.sum() / reference.sum()
    )
    assert (
        rows.loc["days_to_answer", "skill_vs_coin_low"]
        <= rows.loc["days_to_answer", "skill_vs_coin"]
        <= rows.loc["days_to_answer", "skill_vs_coin_high"]
    )


def test_external_base_rates_are_the_primary_rows():
    rates = backtest.external_rates()
    assert set(rates) == {
        "war",
        "sustained",
        "mediation_accepted",
        "calm_14d",
        "calm_60d",
        "answer_7d",
    }
    assert rates["war"]["rate"] == pytest.approx(0.1691)
    assert rates["answer_7d"]["variant"] == "primary (upper bound)"
    assert backtest.external_rates(Path("/nonexistent.csv")) == {}


def test_the_one_feature_is_the_highest_day_0_act():
    cases = {c.name: c for c in load_library(ROOT / "scenarios" / "cases")}
    rungs = {name: backtest.opening_rung(c.scenario) for name, c in cases.items()}
    written = {}  # read from the files as written: the highest rung of an act on day 0 or before
    for name in cases:
        events = yaml.safe_load((ROOT / "scenarios" / "cases" / f"{name}.yaml").read_text())
        acts = [e["rung"] for e in events.get("events", []) if e["type"] == "act" and e["day"] <= 0]
        written[name] = max(acts, default=0)
    assert rungs == written
    assert {name for name, rung in rungs.items() if rung >= 6} >= {
        "feb2020-turkey-syria",
        "jun2025-israel-iran",
    }
    assert all(c.trajectory is not None and c.timing is not None for c in cases.values())


@pytest.mark.slow
def test_scoring_forty_cases_with_every_bootstrap_scores_every_case(tmp_path):
    for k in range(40):
        seen = observed(f"c{k:02d}", sustained=bool(k % 3 == 0), calm_60d=bool(k % 2))
        seen["trajectory"] = {"observed": backtest.CLASSES[k % 6], "evidence": "e."}
        seen["timing"] = {"days_to_answer": k % 9, "days_to_calm": "never" if k % 4 else 12}
        rung = 6 if k % 5 == 0 else 5
        scenario = crisis(
            start_date="2024-01-01",
            horizon=60,
            events=[{"day": 0, "type": "act", "actor": "a", "target": "b", "rung": rung}],
        )
        write_case(tmp_path, f"c{k:02d}", scenario, seen)
    cases = load_library(tmp_path)
    rng = np.random.default_rng(5)
    items = pd.DataFrame(
        [
            {
                "case": c.name,
                "item": i,
                "label": i,
                "probability": rng.uniform(),
                "runs": 2000,
                "observed": float(c.observed[i].value),
                "status": "x",
                "date": "",
            }
            for c in cases
            for i in ITEMS
        ]
    )
    forecast = backtest.LibraryForecast(
        items,
        {c.name: rng.dirichlet(np.ones(6)) for c in cases},
        {
            c.name: {m: rng.integers(0, 62, 2000).astype(float) for m in backtest.TIMING}
            for c in cases
        },
    )
    result = backtest.evaluate(cases, forecast, backtest.external_rates())
    rows = result.scores.set_index("item")
    assert rows.loc["trajectory", "cases"] == 40 and rows.loc["days_to_calm", "cases"] == 40


def test_a_mutual_opening_is_two_day_0_acts_each_answering_the_other():
    cases = {c.name: c for c in load_library(ROOT / "scenarios" / "cases")}
    mutual = {name for name, c in cases.items() if backtest.mutual_opening(c.scenario)}
    written = set()
    for name in cases:
        raw = yaml.safe_load((ROOT / "scenarios" / "cases" / f"{name}.observed.yaml").read_text())
        if raw["items"]["answer_7d"]["observed"] == "not applicable":
            written.add(name)  # rule 5: a mutual opening's answer_7d is not scored
    assert "jul2025-thailand-cambodia" in mutual and "jan2024-iran-pakistan" not in mutual
    assert mutual <= written
