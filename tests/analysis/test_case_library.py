"""The case library as files: every case and observed record is valid, every fact file is listed,
and the blind third is exactly the recorded draw (checked without running any blind case)."""

from __future__ import annotations

import math
import re
import runpy
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.backtest import ITEMS, load_library

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "scenarios" / "cases"
BLIND = ROOT / "scenarios" / "blind"
README = (ROOT / "docs" / "cases" / "README.md").read_text()


def scenario_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.glob("*.yaml")
        if not p.name.endswith(".observed.yaml") and p.name[0] != "_"
    )


def test_the_library_loads_whole_with_its_records() -> None:
    cases = load_library(CASES)
    assert len(cases) == len(scenario_files(CASES)) == 40
    assert all(set(case.observed) == set(ITEMS) for case in cases)


def test_the_blind_cases_are_valid_with_their_records_and_are_read_not_run() -> None:
    blind = load_library(BLIND)  # reads and checks the files; running is backtest.forecasts
    assert len(blind) == len(scenario_files(BLIND)) == 16
    assert all(set(case.observed) == set(ITEMS) for case in blind)


def test_every_case_has_its_fact_file_and_a_line_in_the_library_readme() -> None:
    for path in [*scenario_files(CASES), *scenario_files(BLIND)]:
        assert (ROOT / "docs" / "cases" / f"{path.stem}.md").is_file(), path.stem
        assert f"[{path.stem}]({path.stem}.md)" in README, path.stem


def test_the_blind_third_is_the_seeded_draw_from_the_reviews_list() -> None:
    listed = README.split("The review's order, as drawn: ", 1)[1].split(".\n", 1)[0]
    candidates = [name.strip() for name in re.split(r",\s*", listed.replace("\n", " "))]
    assert len(candidates) == len(set(candidates)) == 28
    drawn = np.random.default_rng(20261207).choice(len(candidates), size=10, replace=False)
    blind = {p.stem for p in scenario_files(BLIND)}
    assert {candidates[i] for i in drawn} <= blind
    assert not blind & (set(candidates) - {candidates[i] for i in drawn})
    others = {p.stem for p in scenario_files(CASES)}
    assert set(candidates) - {candidates[i] for i in drawn} <= others


FRAME_CASES = {
    1: "aug1976-mozambique-rhodesia-nagomia",
    2: "apr1969-us-north-korea-ec121",
    3: "sep1932-colombia-peru-leticia",
    4: "may1977-mozambique-rhodesia-mapai",
    5: "jul1937-china-japan-marco-polo-bridge",
    6: "sep1978-rhodesia-zambia-air-rhodesia",
    7: "feb1979-rhodesia-zambia-zipra",
    8: "apr1986-bahrain-qatar-dibal",
    9: "mar1992-thailand-myanmar-sleeping-dog-hill",
    10: "may1998-eritrea-ethiopia-badme",
    11: "apr1920-russia-poland-kiev",
    12: "mar1984-greece-turkey-aegean",
    13: "aug1990-kuwait-iraq-gulf-war",
    14: "feb1987-morocco-mauritania-sand-wall",
    15: "dec1983-angola-south-africa-askari",
    16: "feb1987-somalia-ethiopia-todghere",
    17: "apr1996-israel-lebanon-grapes-of-wrath",
    18: "jun2004-drc-rwanda-bukavu",
}
"""The cases taken from the ICB sampling frame, by its draw order (each fact file says which
ICB crisis it is)."""


def test_the_frame_cases_are_the_first_draws_and_their_blind_third_the_seeded_positions() -> None:
    frame = pd.read_csv(ROOT / "data" / "reference" / "icb_sampling_frame.csv")
    year = frame.set_index("draw_order")["year"]
    for draw, case in FRAME_CASES.items():
        assert case[3:7] == str(year[draw]), case  # the case's day 0 is in ICB's trigger year
        row = [line for line in README.splitlines() if f"[{case}]({case}.md)" in line]
        assert len(row) == 1 and (f"draw {draw})" in row[0] or f"draw {draw} |" in row[0]), case
    assert sorted(FRAME_CASES) == list(range(1, 19))  # a prefix of the draw order: none skipped
    positions = np.random.default_rng(20261209).choice(18, size=6, replace=False) + 1
    blind = {FRAME_CASES[int(k)] for k in positions}
    assert blind == {p.stem for p in scenario_files(BLIND)} & set(FRAME_CASES.values())
    assert set(FRAME_CASES.values()) - blind <= {p.stem for p in scenario_files(CASES)}


def test_the_agreement_table_in_the_readme_is_what_the_tool_computes_today() -> None:
    tool = runpy.run_path(str(ROOT / "tools" / "agreement.py"))
    pairs = tool["codings"]()
    assert len(pairs) == 56
    table = tool["markdown"](tool["table"](pairs), len(pairs))
    block = README.split("<!-- agreement:start -->\n", 1)[1].split("<!-- agreement:end -->", 1)[0]
    assert block == table, "run: python tools/agreement.py"


def test_alpha_of_two_coders_by_hand() -> None:
    tool = runpy.run_path(str(ROOT / "tools" / "agreement.py"))
    # nominal, 4 units, one disagreement: Do = 2/8 pairs... by Krippendorff's formula, 8 values
    # (five 'a', three 'b'): De = 2*5*3/(8*7) = 30/56; Do = 2/8 (one unit of two unlike values,
    # counted both ways, over 8 values); alpha = 1 - Do/De = 1 - (2/8)/(30/56) = 0.5333...
    units = [("a", "a"), ("a", "b"), ("b", "b"), ("a", "a")]
    assert math.isclose(tool["_alpha"](units, "nominal"), 1 - (2 / 8) / (30 / 56))
