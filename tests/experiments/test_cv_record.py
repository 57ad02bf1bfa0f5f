"""The leave-one-case-out record of model 3 kept in docs/data/calibration_cv/ (what
``calibrate --cross-validate`` wrote on the shipped library; the README gives the command): its
skill table is the analysis of its out-of-sample forecasts by the rule ``backtest`` scores the
defaults with, and the README's table is that skill table."""

from __future__ import annotations

import json

import pandas as pd

from sim.experiments import calibration_cases, cross_validation
from sim.views.text import backtest_markdown
from tests.conftest import ROOT

RECORD = ROOT / "docs" / "data" / "calibration_cv"
FORECAST_COLUMNS = ["case", "item", "label", "probability", "runs", "observed", "status", "date"]
"""The columns of ``backtest.forecasts``: what a fold's forecast of its left-out case is."""


def test_the_record_is_a_complete_cross_validation_of_the_shipped_library():
    meta = json.loads((RECORD / "metadata.json").read_text())
    library = calibration_cases.load(ROOT / "scenarios" / "cases")
    assert meta["complete"] and meta["kind"] == "escalation-sim cross-validation"
    assert meta["settings"]["cases"] == [case.name for case in library.cases]
    assert meta["settings"]["library_hash"] == library.digest
    assert len(meta["settings"]["parameters"]) == 8
    items = pd.read_csv(RECORD / "cv_items.csv")
    assert items["case"].unique().tolist() == [case.name for case in library.cases]


def test_the_skill_table_is_the_analysis_of_the_stored_forecasts():
    items = pd.read_csv(RECORD / "cv_items.csv", keep_default_na=False, na_values=[""])
    library = calibration_cases.load(ROOT / "scenarios" / "cases")
    skill = cross_validation.out_of_sample_skill(library, items[FORECAST_COLUMNS])
    stored = pd.read_csv(RECORD / "cv_skill.csv")
    pd.testing.assert_frame_equal(skill, stored, check_dtype=False, rtol=1e-9)


def test_the_readme_table_is_the_stored_skill_table():
    readme = (ROOT / "README.md").read_text()
    quoted = readme.split("<!-- cv-table:start -->\n", 1)[1].split("<!-- cv-table:end -->", 1)[0]
    rows = pd.read_csv(RECORD / "cv_skill.csv").to_dict("records")
    assert quoted == backtest_markdown(rows)
