"""The package works outside the clone: its wheel, installed alone into a fresh virtual
environment, copies its examples with ``init``, runs one and backtests the shipped library from
another folder, with ``sim`` imported from the wheel, never from the repository."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "sim", "scenarios", "data")
"""What the build needs from the repository (the blind cases included: they must stay out)."""

EXAMPLES = sorted(
    path.relative_to(ROOT)
    for path in (ROOT / "scenarios").rglob("*.yaml")
    if "blind" not in path.parts
)
CASES = sorted(
    path.stem
    for path in (ROOT / "scenarios" / "cases").glob("*.yaml")
    if not path.name.endswith(".observed.yaml") and not path.name.startswith("_")
)


def _setuptools_or_skip() -> None:
    """The wheel is built without build isolation, so nothing is downloaded: the test extra
    installs setuptools. Without it the test is skipped here, and fails on CI."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        version = None
    if version is None or tuple(int(p) for p in version.split(".")[:2]) < (77, 0):
        found = f"found {version}" if version else "not installed"
        reason = f"building the wheel offline needs setuptools>=77 ({found})"
        if os.environ.get("CI"):
            pytest.fail(f'{reason}; install the test extra: pip install -e ".[test]"')
        pytest.skip(reason)


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_the_wheel_works_alone_from_another_folder(tmp_path):
    _setuptools_or_skip()
    quiet = {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}  # nothing from the network
    building = {**os.environ, **quiet}  # the running interpreter's setuptools, as it sees it
    env = {k: v for k, v in building.items() if k not in ("PYTHONPATH", "PYTHONHOME")}

    # the wheel, built from a copy of the sources (no build/ left in the clone)
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip"]
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", "dist", "./source"],
        tmp_path,
        building,
    )
    (wheel,) = (tmp_path / "dist").glob("escalation_sim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [name for name in names if "blind" in name]
    shipped = sorted(
        Path(name.removeprefix("sim/data/"))
        for name in names
        if name.startswith("sim/data/scenarios/")
    )
    assert shipped == EXAMPLES
    assert "sim/data/reference/external_base_rates.csv" in names

    # a fresh venv with the wheel alone; the dependencies are the running interpreter's, seen
    # through a .pth file, without the repository on the path
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    _run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], tmp_path, env)
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            tmp_path,
            env,
        ).stdout.strip()
    )
    dependencies = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    assert str(ROOT) not in dependencies
    (site / "zz_dependencies.pth").write_text("".join(f"{path}\n" for path in dependencies))

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    imported = _run(
        [str(python), "-c", "import sim, sys; print(sim.__file__); print(sys.path)"], elsewhere, env
    ).stdout.splitlines()
    assert Path(imported[0]) == site / "sim" / "__init__.py"
    # the clone itself is not on the path (its .venv, which may sit inside it, may be)
    assert str(ROOT) not in ast.literal_eval(imported[1])

    # init, from another folder
    program = str(venv / "bin" / "escalation-sim")
    said = _run([program, "init"], elsewhere, env).stdout
    assert said.startswith(f"Wrote {len(EXAMPLES)} files into my-escalation-sim/:\n")
    mine = elsewhere / "my-escalation-sim"
    for path in EXAMPLES:
        assert (mine / path).read_bytes() == (ROOT / path).read_bytes(), path
    assert not (mine / "scenarios" / "blind").exists()

    # a small run of the copied scenario, in the folder init made
    command = [program, "run", "scenarios/jan2024_baseline.yaml", "--runs", "40", "--workers", "1"]
    _run(command, mine, env)
    results = mine / "results" / "jan2024_baseline"
    runs = pd.read_csv(results / "runs.csv")
    assert runs["run"].tolist() == list(range(40))
    metadata = json.loads((results / "metadata.json").read_text())
    assert metadata["ensembles"][0]["runs"] == 40
    assert metadata["ensembles"][0]["scenario_file"] == "scenarios/jan2024_baseline.yaml"
    assert "code" not in metadata  # no git revision: the installed package is not a checkout
    assert (results / "curves.png").stat().st_size > 10_000

    # the backtest finds the shipped library in the installed package, from anywhere
    command = [program, "backtest", "--runs", "5", "--workers", "1", "--json"]
    report = json.loads(_run(command, elsewhere, env).stdout)
    assert report["ok"] is True
    assert report["meta"]["cases"] == CASES
    assert report["meta"]["cases_folder"] == str(site / "sim" / "data" / "scenarios" / "cases")
    assert report["references"]["external"], "the shipped external base rates were not read"
    written = elsewhere / "results" / "backtest"
    assert len(pd.read_csv(written / "trajectory.csv")) == len(CASES)
    assert (written / "backtest.png").stat().st_size > 10_000
