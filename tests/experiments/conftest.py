"""Fixtures shared by the calibration tests: a synthetic case library and one tiny,
uninterrupted calibration of it (made once per module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.experiments import calibrate, calibration_cases
from sim.experiments.execution import InlineExecutor
from tests.experiments.test_calibrate import TINY, write_library


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> calibration_cases.Library:
    folder = tmp_path_factory.mktemp("library")
    write_library(folder)
    return calibration_cases.load(folder)


@pytest.fixture(scope="module")
def pair(library: calibration_cases.Library) -> calibration_cases.Library:
    return library.without("third")


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where ``tiny`` is stored."""
    return tmp_path_factory.mktemp("tiny")


@pytest.fixture(scope="module")
def tiny(pair: calibration_cases.Library, tiny_folder: Path) -> calibrate.Posterior:
    """One uninterrupted tiny calibration, one proposal at a time."""
    out = tiny_folder
    return calibrate.calibrate(
        pair, out, TINY, InlineExecutor(), slots=1, command=["run.py", "calibrate"]
    )
