"""``init`` copies the shipped examples into a folder of one's own, never over a changed file
without --force; commands that need the shipped library find it from any folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import studies
from sim.cli.main import main
from sim.cli.parser import build_parser
from tests.conftest import ROOT

SHIPPED = sorted(
    path.relative_to(ROOT)
    for path in (ROOT / "scenarios").rglob("*.yaml")
    if "blind" not in path.parts
)
"""The example files, by the repository's own layout (everything in scenarios/ but blind/)."""

NEXT = (
    "Next, from that folder (results go to its results/):\n"
    "  cd {folder}\n"
    "  escalation-sim validate scenarios/jan2024_baseline.yaml\n"
    "  escalation-sim run scenarios/jan2024_baseline.yaml\n"
)


def files_in(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_init_copies_every_example_byte_for_byte_and_says_what_it_wrote(tmp_path, capsys):
    folder = tmp_path / "class"
    assert main(["init", str(folder)]) == 0
    assert files_in(folder) == SHIPPED
    assert len(SHIPPED) == 93  # 9 scenarios, 40 cases with their records and the base, 1 + 2
    for path in SHIPPED:
        assert (folder / path).read_bytes() == (ROOT / path).read_bytes(), path
    assert not (folder / "scenarios" / "blind").exists()
    assert capsys.readouterr().out == (
        f"Wrote 93 files into {folder}/:\n"
        "  scenarios/           9 files: the example scenarios (jan2024_baseline.yaml, its "
        "variants, jul2025_campaign.yaml, jul2025_dominance.yaml)\n"
        "  scenarios/cases/     81 files: the case library (each case with its record, "
        "<case>.observed.yaml)\n"
        "  scenarios/profiles/  1 file: calibrated.yaml, the calibrated profile\n"
        "  scenarios/sweeps/    2 files: drivers.yaml, sensitivity.yaml, sweeps of the baseline\n"
        + NEXT.format(folder=folder)
    )


def test_init_without_a_folder_makes_my_escalation_sim_here(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert files_in(tmp_path / "my-escalation-sim") == SHIPPED
    assert capsys.readouterr().out.endswith(NEXT.format(folder="my-escalation-sim"))


def test_init_again_leaves_identical_files_alone(tmp_path, capsys):
    folder = tmp_path / "class"
    assert main(["init", str(folder)]) == 0
    (folder / "scenarios" / "sweeps" / "sensitivity.yaml").unlink()
    capsys.readouterr()
    assert main(["init", str(folder)]) == 0
    assert capsys.readouterr().out == (
        f"Wrote 1 file into {folder}/; 92 already there, unchanged:\n"
        "  scenarios/sweeps/    1 file: sensitivity.yaml, sweeps of the baseline\n"
        + NEXT.format(folder=folder)
    )
    assert main(["init", str(folder)]) == 0
    assert capsys.readouterr().out == (
        f"All 93 example files are in {folder}/ already, unchanged.\n" + NEXT.format(folder=folder)
    )


def test_init_refuses_to_overwrite_a_changed_file_and_writes_nothing(tmp_path, capsys):
    folder = tmp_path / "class"
    assert main(["init", str(folder)]) == 0
    baseline = folder / "scenarios" / "jan2024_baseline.yaml"
    hawkish = folder / "scenarios" / "jan2024_hawkish.yaml"
    baseline.write_text("name: mine\n")
    hawkish.write_text("name: also mine\n")
    missing = folder / "scenarios" / "cases" / "_library.yaml"
    missing.unlink()
    capsys.readouterr()
    assert main(["init", str(folder)]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder}: 2 example files there differ from the shipped ones and would be "
        "overwritten: scenarios/jan2024_baseline.yaml, scenarios/jan2024_hawkish.yaml; nothing "
        "was written. Add --force to replace them with the shipped versions (other files are "
        "kept), or choose another folder (escalation-sim init OTHER_FOLDER)\n"
    )
    assert baseline.read_text() == "name: mine\n"
    assert not missing.exists()  # nothing at all was written


def test_init_force_replaces_changed_files_and_keeps_ones_own(tmp_path, capsys):
    folder = tmp_path / "class"
    assert main(["init", str(folder)]) == 0
    baseline = folder / "scenarios" / "jan2024_baseline.yaml"
    baseline.write_text("name: mine\n")
    own = folder / "scenarios" / "my_crisis.yaml"
    own.write_text("name: my_crisis\n")
    capsys.readouterr()
    assert main(["init", str(folder), "--force"]) == 0
    assert baseline.read_bytes() == (ROOT / "scenarios" / "jan2024_baseline.yaml").read_bytes()
    assert own.read_text() == "name: my_crisis\n"
    assert capsys.readouterr().out.startswith(
        f"Wrote 1 file into {folder}/ (1 replaced with --force); 92 already there, unchanged:\n"
    )


def test_init_never_replaces_a_folder_in_a_files_place(tmp_path, capsys):
    folder = tmp_path / "class"
    (folder / "scenarios" / "cases" / "_library.yaml").mkdir(parents=True)
    assert main(["init", str(folder), "--force"]) == 2
    assert capsys.readouterr().err == (
        f"error: {folder}: scenarios/cases/_library.yaml is there but not a file (a folder?), so "
        "the shipped file cannot go there even with --force; nothing was written. Move it away, "
        "or choose another folder (escalation-sim init OTHER_FOLDER)\n"
    )
    assert files_in(folder) == []


def test_init_into_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    assert main(["init", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"error: {target} exists and is not a folder; choose another folder\n"
    )
    assert target.read_text() == "mine\n"


def test_the_copied_folder_works_as_the_project_folder_does(tmp_path, monkeypatch):
    """The calibrated scenario finds its profile in the copy (scenarios/profiles/), and a case
    its base (_library.yaml), as in the project folder."""
    monkeypatch.chdir(tmp_path)
    assert main(["init", "class"]) == 0
    monkeypatch.chdir(tmp_path / "class")
    assert main(["validate", "scenarios/jan2024_calibrated.yaml"]) == 0
    assert main(["validate", "scenarios/cases/nov2010-korea-yeonpyeong.yaml"]) == 0


def test_backtest_and_calibrate_default_to_the_shipped_library_from_anywhere(tmp_path, monkeypatch):
    parser = build_parser()
    assert parser.parse_args(["backtest"]).cases is None
    assert parser.parse_args(["calibrate"]).cases is None
    monkeypatch.chdir(tmp_path)
    assert studies.case_library() == ROOT / "scenarios" / "cases"
    monkeypatch.chdir(ROOT)
    assert studies.case_library() == Path("scenarios/cases")  # as typed in the project folder


def test_the_dashboard_without_scenarios_here_points_to_init(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(studies, "DASHBOARD_MODULES", ())
    monkeypatch.chdir(tmp_path)
    assert main(["dashboard"]) == 2
    assert capsys.readouterr().err == (
        "error: the dashboard lists the scenario files in scenarios/, and there is no such folder "
        f"here ({tmp_path}); run it from the project folder or from a folder made by "
        "'escalation-sim init' (it copies the example scenarios), or name scenario files\n"
    )


@pytest.mark.parametrize("command", [["init", "--help"], ["backtest", "--help"]])
def test_help_says_where_the_examples_come_from(command, capsys):
    with pytest.raises(SystemExit):
        main(command)
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "default: my-escalation-sim" in out
        if command[0] == "init"
        else "the case library shipped with escalation-sim" in out
    )
