"""backtest: a library of cases read and checked, scores computed exactly, the command's files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli.commands import main
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


def test_the_backtest_command_writes_tables_json_and_a_figure(capsys, tmp_path):
    library(tmp_path / "cases")
    out = tmp_path / "out"
    assert (
        main(
            [
                "backtest",
                str(tmp_path / "cases"),
                "--runs",
                "40",
                "--workers",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith(f"Backtest of 2 cases in {tmp_path / 'cases'}/, 40 runs each")
    assert "all items" in printed
    names = {p.name for p in out.iterdir()}
    assert {
        "items.csv",
        "scores.csv",
        "reliability.csv",
        "backtest.json",
        "backtest.png",
        "backtest.svg",
    } <= names
    data = json.loads((out / "backtest.json").read_text())
    assert set(data) == {"meta", "items", "scores"}
    assert data["meta"]["cases"] == ["echo", "quiet"]
    assert (
        main(
            [
                "backtest",
                str(tmp_path / "cases"),
                "--runs",
                "40",
                "--workers",
                "1",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["scores"][-1]["item"] == "all items"


def test_a_folder_without_cases_is_a_clear_message(capsys, tmp_path):
    assert main(["backtest", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: holds no case (no <case>.yaml files)\n"
