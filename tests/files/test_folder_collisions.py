"""Folder collisions between every pair of commands: one command's result is never changed by
another pointed at its folder (sim/files/folders.py, ``check_target``: one rule for all).

For each ordered pair (A writes a folder, then B is pointed at it with ``--out``, or as its
target for ``plot``, or ``story --plot`` into it), B is refused with exit 2 and one paragraph,
and A's files are byte for byte what they were; with ``--force`` (each command once as A and
once as B), A's result is kept whole in ``<name>.previous``. The scenario library and folders
holding inputs are never written, even with --force; a folder in use by another command is
refused. Every A is made once per module, at the smallest size that exercises its code
(calibrate's A, the most expensive, is marked slow).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from sim.cli.main import main
from sim.files import folders
from sim.files.shipped import shipped
from tests.conftest import BASELINE, ROOT
from tests.experiments.test_backtest import library as backtest_library
from tests.experiments.test_calibrate import CLI_SIZE, write_library

OTHER = ROOT / "scenarios" / "jan2024_hawkish.yaml"
SMALL = ["--runs", "20", "--workers", "1", "--set", "horizon=10", "-q"]
COMMANDS = ("run", "compare", "sweep", "backtest", "calibrate", "explain", "plot", "story")
WRITERS = tuple(c for c in COMMANDS if c != "plot")
"""Commands that make a folder of their own (plot redraws the one it is given)."""
KINDS = {
    "run": "ensemble",
    "compare": "comparison",
    "sweep": "sweep",
    "backtest": "backtest",
    "calibrate": "calibration",
    "explain": "explain",
}
"""The kind each command's result records, as the messages name it."""
SLOW = {"calibrate"}
"""Commands whose result takes more than a few seconds to make, even at the smallest size."""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The inputs every command reads: two case libraries and a run result to explain."""
    here = tmp_path_factory.mktemp("inputs")
    backtest_library(here / "backtest_cases")
    write_library(here / "calibration_cases")
    assert main(["run", str(BASELINE), *SMALL, "--out", str(here / "source")]) == 0
    return here


def argv(command: str, folder: Path, inputs: Path) -> list[str]:
    """``command`` at its smallest size, writing into (or reading) ``folder``."""
    out = ["--out", str(folder)]
    return {
        "run": ["run", str(BASELINE), *SMALL, *out],
        "compare": ["compare", str(BASELINE), str(OTHER), *SMALL, *out],
        "sweep": [
            "sweep",
            str(BASELINE),
            "--param",
            "actors.pakistan.audience_cost=0:1:2",
            "--runs",
            "10",
            "--set",
            "horizon=10",
            "--workers",
            "1",
            "-q",
            *out,
        ],
        "backtest": [
            "backtest",
            str(inputs / "backtest_cases"),
            "--runs",
            "5",
            "--workers",
            "1",
            "-q",
            *out,
        ],
        "calibrate": ["calibrate", str(inputs / "calibration_cases"), *CLI_SIZE, "-q", *out],
        "explain": ["explain", str(inputs / "source"), "--rung", "4", *out],
        "plot": ["plot", str(folder)],
        "story": ["story", str(BASELINE), "--set", "horizon=10", "--plot", str(folder / "s.png")],
    }[command]


@pytest.fixture(scope="module")
def made(inputs: Path, tmp_path_factory: pytest.TempPathFactory):
    """A's folder, made once per command and module (``made(command)``)."""
    cache: dict[str, Path] = {}

    def make(command: str) -> Path:
        if command not in cache:
            folder = tmp_path_factory.mktemp("made") / command
            if command == "story":
                folder.mkdir()
            assert main(argv(command, folder, inputs)) == 0
            cache[command] = folder
        return cache[command]

    return make


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (its name relative to it) and its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def copy_of(made, command: str, tmp_path: Path) -> Path:
    folder = tmp_path / "held"
    shutil.copytree(made(command), folder, symlinks=True)
    return folder


def refusal(a: str, b: str, folder: Path) -> str:
    """The one paragraph B prints when pointed at A's folder."""
    named = str(folder)
    if b == "story":
        return (
            f"error: --plot {folder / 's.png'}: {named} holds a result ({KINDS[a]}); a file of "
            "another command would be mixed into it: choose another place\n"
        )
    if a == "story":
        if b == "plot":
            return (
                f"error: {named} is not a results folder (missing runs.csv, curves.csv, "
                "occupancy.csv, summary.csv, metadata.json); make one with 'python run.py run "
                "SCENARIO'\n"
            )
        if b == "calibrate":
            return (
                f"error: {named}: holds files that are not a calibration; choose another --out, "
                "or add --force to start afresh there (the old files kept in <folder>.previous "
                "beside it)\n"
            )
        return (
            f"error: {named} holds files that no run wrote (s.png, s.svg); choose another --out, "
            "or add --force to write the results beside them (those files are kept)\n"
        )
    if b == "plot":
        return (
            f"error: {named} holds another kind of result ({KINDS[a]}), not the result of a run "
            "or a comparison, which is what is read here; give a folder made by 'python run.py "
            "run' or 'compare'\n"
        )
    return (
        f"error: {named} holds another kind of result ({KINDS[a]}), not this command's "
        f"({KINDS[b]}); choose another --out, or add --force to replace it (it is kept in "
        "held.previous beside it)\n"
    )


def pairs() -> list:
    """Every ordered pair of different commands (plot only as B, and only where it refuses:
    plot of a run or comparison is its job, redrawing that folder's figures)."""
    chosen = []
    for a in WRITERS:
        for b in COMMANDS:
            if a == b or (b == "plot" and a in ("run", "compare")):
                continue
            marks = [pytest.mark.slow] if {a, b} & SLOW else []
            chosen.append(pytest.param(a, b, marks=marks))
    return chosen


FORCED = tuple(c for c in COMMANDS if c not in ("plot", "story"))
"""Commands that take --force (plot and story have none)."""


def forced_pairs() -> list:
    """Each command's result once as A and each command with --force once as B, in a cycle
    (A's result is moved aside by one rule, ``check_target``, whatever B is; running every
    pair would run B in full 36 times), and a folder of story's figures under both of its cases:
    kept beside a new result, or moved aside by calibrate, which starts afresh."""
    cycle = [(a, FORCED[(i + 1) % len(FORCED)]) for i, a in enumerate(FORCED)]
    chosen = []
    for a, b in [*cycle, ("story", "run"), ("story", "calibrate")]:
        slow = {a, b} & SLOW or b in ("run", "compare", "backtest")
        chosen.append(pytest.param(a, b, marks=[pytest.mark.slow] if slow else []))
    return chosen


@pytest.mark.parametrize(("a", "b"), pairs())
def test_a_command_pointed_at_anothers_folder_is_refused_and_changes_nothing(
    a, b, made, inputs, tmp_path, capsys
):
    folder = copy_of(made, a, tmp_path)
    before = digest(folder)
    capsys.readouterr()
    assert main(argv(b, folder, inputs)) == 2
    assert capsys.readouterr().err == refusal(a, b, folder)
    assert digest(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["held"]  # no lock, no .previous left


@pytest.mark.parametrize(("a", "b"), forced_pairs())
def test_force_keeps_the_replaced_result_whole_in_previous(a, b, made, inputs, tmp_path, capsys):
    folder = copy_of(made, a, tmp_path)
    before = digest(folder)
    assert main([*argv(b, folder, inputs), "--force"]) == 0
    kept_beside = a == "story" and b != "calibrate"
    if kept_beside:  # no result there: the user's files are kept beside the new one
        assert {k: v for k, v in digest(folder).items() if k.startswith("s.")} == before
        assert not (tmp_path / "held.previous").exists()
    else:  # (calibrate --force starts afresh: the user's files go to .previous, as it says)
        assert digest(tmp_path / "held.previous") == before
        assert not set(digest(folder)) & {"pyabc.db", "sweep.sqlite", "backtest.json"} - {
            "backtest.json" if b == "backtest" else "",
            "sweep.sqlite" if b == "sweep" else "",
            "pyabc.db" if b == "calibrate" else "",
        }
    assert (
        sorted(p.name for p in tmp_path.iterdir())
        == ["held", "held.previous"][: 1 if kept_beside else 2]
    )


@pytest.mark.parametrize(
    "b", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in COMMANDS]
)
def test_a_folder_in_use_by_another_command_is_refused(b, made, inputs, tmp_path, capsys):
    folder = tmp_path / "held"
    if b == "plot":
        folder = copy_of(made, "run", tmp_path)
    else:
        folder.mkdir()
    before = digest(folder)
    with folders.folder_lock(folders.real_path(folder)):  # another command writing there now
        capsys.readouterr()
        assert main(argv(b, folder, inputs)) == 2
    where = f"--plot {folder / 's.png'}: " if b == "story" else ""
    place = "place" if b == "story" else "--out"
    assert capsys.readouterr().err == (
        f"error: {where}{folder} is in use by another run (pid {os.getpid()}); wait for it to "
        f"finish, or choose another {place}\n"
    )
    assert digest(folder) == before


LIBRARY_WRITERS = ("run", "compare", "sweep", "backtest", "calibrate", "explain")


@pytest.mark.parametrize("b", LIBRARY_WRITERS)
@pytest.mark.parametrize("force", [[], ["--force"]])
def test_the_scenario_library_is_never_written_even_with_force(b, force, inputs, capsys):
    library = shipped("scenarios")
    for folder in (library / "cases", library / "a_new_folder"):
        before = digest(library)
        capsys.readouterr()
        assert main([*argv(b, folder, inputs), *force]) == 2
        assert capsys.readouterr().err == (
            f"error: {folder} is in the scenario library ({library}); results are never written "
            "there, even with --force: choose another --out\n"
        )
        assert digest(library) == before
        assert not (library / "a_new_folder").exists()
        assert not [p for p in library.iterdir() if p.name.startswith(".")]


def test_story_never_draws_into_the_scenario_library(inputs, capsys):
    library = shipped("scenarios")
    before = digest(library)
    assert main(argv("story", library, inputs)) == 2
    assert capsys.readouterr().err == (
        f"error: --plot {library / 's.png'}: {library} is in the scenario library ({library}); "
        "nothing is written there: choose another place\n"
    )
    assert digest(library) == before


@pytest.mark.parametrize("b", LIBRARY_WRITERS)
@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_folder_holding_inputs_is_never_written_even_with_force(
    b, force, inputs, tmp_path, capsys
):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "my_crisis.yaml").write_text("extends: x.yaml\n")
    (folder / "notes.txt").write_text("mine")
    before = digest(folder)
    capsys.readouterr()
    assert main([*argv(b, folder, inputs), *force]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder} holds inputs (my_crisis.yaml); results are never written into a "
        "folder of inputs, even with --force: choose another --out\n"
    )
    assert digest(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_a_command_never_writes_into_the_library_it_reads(inputs, tmp_path, capsys):
    cases = tmp_path / "cases"
    shutil.copytree(inputs / "backtest_cases", cases)
    before = digest(cases)
    for command in (["backtest", str(cases)], ["calibrate", str(cases), *CLI_SIZE]):
        assert main([*command, "--out", str(cases), "--force"]) == 2
        assert "holds inputs (echo.observed.yaml, echo.yaml, quiet.observed.yaml" in (
            capsys.readouterr().err
        )
    assert digest(cases) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases"]


def test_explain_into_the_results_it_reads_is_refused(inputs, tmp_path, capsys):
    folder = tmp_path / "held"
    shutil.copytree(inputs / "source", folder)
    before = digest(folder)
    assert main(["explain", str(folder), "--rung", "4", "--out", str(folder)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder} holds another kind of result (ensemble), not this command's (explain); "
        "choose another --out, or add --force to replace it (it is kept in held.previous beside "
        "it)\n"
    )
    assert digest(folder) == before
