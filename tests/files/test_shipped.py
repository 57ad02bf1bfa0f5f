"""The shipped files are found in a clone and in an installed package, and are what the wheel
holds: the scenarios and the case library, never the blind cases."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sim.files import shipped as shipped_module
from sim.files.shipped import example_files, shipped
from sim.inputs.errors import ResultsError
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_in_a_clone_the_shipped_files_are_the_repositorys_own():
    assert shipped("scenarios") == ROOT / "scenarios"
    assert shipped("scenarios", "cases") == ROOT / "scenarios" / "cases"
    assert shipped("reference", "external_base_rates.csv") == (
        ROOT / "data" / "reference" / "external_base_rates.csv"
    )


def test_an_installed_package_uses_its_own_data_not_a_folder_beside_it(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "sim"
    (package / "data" / "scenarios" / "cases").mkdir(parents=True)
    (tmp_path / "site-packages" / "scenarios" / "cases").mkdir(parents=True)  # not the clone's
    monkeypatch.setattr(shipped_module, "_package_root", lambda: package)
    assert shipped("scenarios", "cases") == package / "data" / "scenarios" / "cases"


def test_a_missing_shipped_file_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    package = tmp_path / "sim"
    package.mkdir()
    monkeypatch.setattr(shipped_module, "_package_root", lambda: package)
    with pytest.raises(ResultsError) as error:
        shipped("reference", "external_base_rates.csv")
    assert str(error.value) == (
        f"{tmp_path}/data/reference/external_base_rates.csv is missing: escalation-sim ships it "
        f"(looked in the installed package, {package}/data/reference, and in a clone, "
        f"{tmp_path}/data/reference), so the installation is incomplete; reinstall escalation-sim "
        "(pip install --force-reinstall escalation-sim), or install it from the project folder "
        "with pip install -e ."
    )


def test_the_examples_are_the_shipped_scenarios_and_never_the_blind_cases():
    copied = {str(target) for _, target in example_files()}
    repository = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "scenarios").rglob("*.yaml")
        if "blind" not in path.relative_to(ROOT).parts
    }
    assert copied == repository
    assert "scenarios/cases/_library.yaml" in copied
    assert "scenarios/profiles/calibrated.yaml" in copied
    assert len([p for p in copied if p.startswith("scenarios/cases/")]) == 81  # 40 cases + base
    assert (ROOT / "scenarios" / "blind").is_dir()  # there in the clone, yet not copied
    assert not any("blind" in p for p in copied)


def test_the_wheel_maps_exactly_what_init_copies():
    """pyproject.toml's package data and init's list of folders say the same: a folder added to
    one and not the other would ship files init does not copy, or the reverse."""
    mapped = PYPROJECT["package-dir"]
    assert mapped == {"sim.data": "data", "sim.data.scenarios": "scenarios"}
    data = PYPROJECT["package-data"]
    scenario_packages = {k for k in data if k.startswith("sim.data.scenarios")}
    folders = {
        package.removeprefix("sim.data.scenarios").lstrip(".").replace(".", "/")
        for package in scenario_packages
    }
    assert folders == set(shipped_module.SCENARIO_FOLDERS)
    assert all(data[package] == ["*.yaml"] for package in scenario_packages)
    assert not any("blind" in package for package in PYPROJECT["packages"])


def test_the_wheel_holds_every_wing_of_sim():
    wings = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "sim").rglob("__init__.py")
    }
    code = {package for package in PYPROJECT["packages"] if not package.startswith("sim.data")}
    assert code == wings


def test_a_shipped_part_must_be_one_that_ships():
    with pytest.raises(ValueError, match="no shipped part 'blind'"):
        shipped("blind")


def test_every_shipped_scenario_folder_exists_in_the_repository():
    for folder in shipped_module.SCENARIO_FOLDERS:
        assert (ROOT / "scenarios" / folder).is_dir(), folder
    assert Path(shipped("reference")).is_dir()
