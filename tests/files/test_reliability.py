"""Hostile and careless inputs (issue 12): each ends in exit 2 with one paragraph naming the file
(or option), the key and what was expected, before anything is computed; or it works exactly."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim.cli.main import main
from tests.conftest import BASELINE, crisis

BASE = yaml.safe_load(BASELINE.read_text())


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def scenario_file(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def changed(tmp_path: Path, change: Any, name: str = "scenario.yaml") -> Path:
    """The baseline with ``change(raw)`` applied, written as a file."""
    raw = copy.deepcopy(BASE)
    change(raw)
    return scenario_file(tmp_path, yaml.safe_dump(raw, sort_keys=False), name)


def refused(capsys: pytest.CaptureFixture[str], *args: object) -> str:
    """The one error line of a command that must exit 2."""
    code, _, err = cli(capsys, *args)
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err.removeprefix("error: ").rstrip("\n")


# --------------------------------------------------------------------------- #
# Dates
# --------------------------------------------------------------------------- #


def test_an_invalid_date_names_the_key_in_a_file_and_in_set(tmp_path, capsys):
    path = scenario_file(tmp_path, BASELINE.read_text().replace("2024-01-16 ", "2024-02-30 ", 1))
    assert refused(capsys, "validate", path) == (
        f"{path}: start_date: expected a date like 2024-01-16, got text '2024-02-30'"
    )
    assert refused(capsys, "validate", BASELINE, "--set", "start_date=2024-02-30") == (
        "--set start_date: expected a date like 2024-01-16, got text '2024-02-30'"
    )
    assert refused(capsys, "validate", BASELINE, "--set", "start_date=tomorrow") == (
        "--set start_date: expected a date like 2024-01-16, got text 'tomorrow'"
    )


def test_days_a_calendar_cannot_show_are_refused(tmp_path, capsys):
    assert refused(capsys, "story", BASELINE, "--set", "start_date=9999-12-30") == (
        "--set start_date: day 0 on 9999-12-30 puts the end of the 60-day horizon after "
        "9999-12-31, the last date a calendar can show; choose an earlier start_date"
    )
    assert refused(capsys, "validate", BASELINE, "--set", "start_date=0001-01-20") == (
        f"{BASELINE}: events.0.day: day -32 before 0001-01-20 falls before the year 1, the "
        "first date a calendar can show"
    )
    path = changed(tmp_path, lambda raw: raw["events"][0].update(day=-(10**12)))
    assert refused(capsys, "validate", path) == (
        f"{path}: events.0.day: expected a whole number at least -36500, got -1000000000000"
    )


def test_the_last_day_a_calendar_shows_is_told_with_its_date(capsys):
    code, out, _ = cli(capsys, "story", BASELINE, "--set", "start_date=9999-11-01", "--seed", "3")
    assert code == 0
    assert "day 0 = 01 November 9999" in out
    assert "Day 0 (Mon 01 Nov)" in out


# --------------------------------------------------------------------------- #
# Sizes: refused before anything is allocated
# --------------------------------------------------------------------------- #


def test_huge_delays_are_refused(tmp_path, capsys):
    path = changed(tmp_path, lambda raw: raw["actors"]["iran"]["retaliation"].update(delay=10**12))
    assert refused(capsys, "run", path, "--out", tmp_path / "out") == (
        f"{path}: actors.iran.retaliation.delay: expected a whole number of days from 0 to "
        "3650, got 1000000000000"
    )
    assert refused(
        capsys,
        "validate",
        BASELINE,
        "--set",
        f"actors.pakistan.retaliation.reaction_delay={2**63 - 1}",
    ) == (
        "--set actors.pakistan.retaliation.reaction_delay: expected a whole number of days "
        "from 0 to 3650, got 9223372036854775807"
    )
    assert (
        refused(
            capsys, "validate", BASELINE, "--set", "third_parties.china.mediation.cooldown=10000"
        )
        == "--set third_parties.china.mediation.cooldown: expected a whole number from 0 to 3650, got 10000"
    )
    assert not (tmp_path / "out").exists()


def test_runs_and_horizons_beyond_the_limits_are_refused_before_running(tmp_path, capsys):
    path = changed(tmp_path, lambda raw: raw.update(runs=10**12))
    assert refused(capsys, "run", path, "--out", tmp_path / "out") == (
        f"{path}: runs: expected a whole number from 1 to 10000000, got 1000000000000"
    )
    assert refused(capsys, "run", BASELINE, "--runs", 10**12, "--out", tmp_path / "out") == (
        "--runs 1000000000000: at most 10,000,000 runs per ensemble; for more, run several "
        "ensembles with different --seed values (together they are one larger sample)"
    )
    assert refused(capsys, "story", BASELINE, "--set", "horizon=1000000000") == (
        "--set horizon: expected a whole number from 1 to 3650, got 1000000000"
    )
    assert not (tmp_path / "out").exists()


def test_a_seed_beyond_63_bits_is_refused_by_story(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["story", str(BASELINE), "--seed", str(2**63)])
    assert caught.value.code == 2
    assert (
        "argument --seed: expected a whole number from 0 to 9223372036854775807, got "
        "9223372036854775808" in capsys.readouterr().err
    )


def test_ladders_and_states_beyond_the_limits_are_refused(tmp_path, capsys):
    def rungs(count: int) -> Any:
        return lambda raw: raw["ladder"].update(rungs=[{"name": f"r{i}"} for i in range(count)])

    for count in (33, 10_000):
        path = changed(tmp_path, rungs(count))
        assert refused(capsys, "validate", path) == (
            f"{path}: ladder.rungs: expected at most 32 item(s), got {count}"
        )

    def states(raw: dict[str, Any]) -> None:
        raw["actors"] = {f"s{i}": copy.deepcopy(raw["actors"]["iran"]) for i in range(200)}
        raw["relations"] = [{"between": [f"s{i}", f"s{j}"]} for i in range(200) for j in range(i)]
        for block in ("armed_groups", "third_parties", "events"):
            del raw[block]

    path = changed(tmp_path, states)
    assert refused(capsys, "validate", path) == (
        f"{path}: actors: expected at most 12 item(s), got 200"
    )


def test_the_longest_ladder_runs_exactly(tmp_path, capsys):
    ladder = {"strike_rung": 4, "rungs": [{"name": f"rung {i}"} for i in range(32)]}
    raw = crisis(ladder=ladder, runs=20)
    raw["events"] = [{"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 30}]
    path = scenario_file(tmp_path, yaml.safe_dump(raw))
    assert main(["run", str(path), "--workers", "1", "-q", "--out", str(tmp_path / "out")]) == 0
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert runs["highest_rung"].between(30, 31).all() and (runs["first_day_rung_30"] == 0).all()
    assert runs["highest_act_a"].eq(30).all()
    capsys.readouterr()
    assert main(["story", str(path), "--seed", str(runs["seed"][0])]) == 0
    highest = int(runs["highest_rung"][0])
    assert f"Highest rung reached: {highest} (rung {highest})" in capsys.readouterr().out


# --------------------------------------------------------------------------- #
# Lists that name a state twice
# --------------------------------------------------------------------------- #


def test_a_state_listed_twice_is_refused_where_it_is_written(tmp_path, capsys):
    path = changed(tmp_path, lambda raw: raw["relations"].append(raw["relations"][0]))
    assert refused(capsys, "validate", path) == (
        f"{path}: relations.1.between: relations.0 already pairs iran and pakistan; list each "
        "pair once"
    )
    assert (
        refused(
            capsys,
            "validate",
            BASELINE,
            "--set",
            "third_parties.china.mediation.parties=[iran, pakistan, iran]",
        )
        == "--set third_parties.china.mediation.parties.2: 'iran' is listed twice; list each one once"
    )
    child = scenario_file(
        tmp_path,
        f"extends: {BASELINE}\nactors:\n  iran:\n    pledge: 0.1\n  iran:\n    pledge: 0.2\n",
        "child.yaml",
    )
    assert refused(capsys, "validate", child) == (
        f"{child}: YAML syntax error at line 5, column 3: the key 'iran' is written twice in one "
        "mapping (first on line 3); write each key once (the line reads: 'iran:')"
    )


# --------------------------------------------------------------------------- #
# Paths
# --------------------------------------------------------------------------- #


def test_out_naming_a_file_or_a_name_too_long_is_refused_before_running(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert refused(capsys, "run", BASELINE, "--out", blocker) == (
        f"--out {blocker} is a file, expected a folder"
    )
    assert refused(capsys, "run", BASELINE, "--out", blocker / "sub") == (
        f"cannot write to {blocker / 'sub'} ({blocker} is a file, not a folder)"
    )
    long = tmp_path / ("y" * 300)
    message = refused(capsys, "run", BASELINE, "--out", long / "sub")
    assert message.endswith(
        "(a folder name is at most 255 bytes long here; choose a shorter --out)"
    )
    assert len(message) < 250
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_scenario_name_of_5000_characters_is_refused_with_an_excerpt(tmp_path, capsys):
    path = changed(tmp_path, lambda raw: raw.update(name="x" * 5000))
    assert refused(capsys, "run", path) == (
        f"{path}: name: expected text of at most 100 characters, got 5000: '{'x' * 56}..."
    )
    assert not Path("results", "x" * 100).exists()


def test_a_read_only_location_is_refused_before_running(tmp_path, capsys):
    mount = tmp_path / "readonly"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("a read-only tmpfs needs root and mount; untested here")
    try:
        assert refused(capsys, "run", BASELINE, "--out", mount / "out") == (
            f"cannot write to {mount / 'out'} (the disk is read-only)"
        )
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_story_plot_into_a_missing_folder_creates_nothing(tmp_path, capsys):
    target = tmp_path / "nonexistent" / "dir" / "x.png"
    code, _, err = cli(capsys, "story", BASELINE, "--plot", target)
    assert code == 2
    assert err == (
        f"error: --plot {target}: the folder {target.parent} does not exist; create it first "
        "or choose another place\n"
    )
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- #
# Messages
# --------------------------------------------------------------------------- #


def test_a_value_set_by_a_child_file_or_by_set_names_it(tmp_path, capsys):
    child = scenario_file(tmp_path, f"extends: {BASELINE}\nladder:\n  strike_rung: 50\n")
    assert refused(capsys, "validate", child) == (
        f"{child}: ladder.strike_rung: expected a rung below the war rung (7), got 50"
    )
    assert refused(capsys, "validate", BASELINE, "--set", "ladder.strike_rung=50") == (
        "--set ladder.strike_rung: expected a rung below the war rung (7), got 50"
    )
    assert refused(capsys, "validate", BASELINE, "--set", "ladder.rungs.1.target=civilians") == (
        "--set ladder.rungs.1.target: rung 1 is below the strike rung (4), so its target "
        "cannot be 'civilians'"
    )


def test_a_null_key_names_the_file_that_wrote_it(tmp_path, capsys):
    child = scenario_file(tmp_path, f"extends: {BASELINE}\nnull: 3\n", "child.yaml")
    assert (
        refused(capsys, "validate", child)
        == f"{child}: null: keys must be text, got null (nothing)"
    )


def test_an_empty_ladder_is_one_problem(tmp_path, capsys):
    path = changed(tmp_path, lambda raw: raw["ladder"].update(rungs=[]))
    assert refused(capsys, "validate", path) == (
        f"{path}: ladder.rungs: expected at least 3 item(s), got 0"
    )


def test_long_values_are_quoted_as_an_excerpt(tmp_path, capsys):
    path = changed(tmp_path, lambda raw: raw.update(horizon="y" * 200_000))
    assert refused(capsys, "validate", path) == (
        f"{path}: horizon: expected a whole number, got text '{'y' * 57}...'"
    )
    assert refused(capsys, "validate", BASELINE, "--set", "horizon=[" + "1," * 100_000 + "1") == (
        f"--set horizon: the value '[{'1,' * 18}...' is not valid YAML"
    )


def test_the_content_of_a_file_that_is_not_a_scenario_is_never_shown(tmp_path, capsys):
    secret = "root:x:0:0:root:/root:/bin/bash"
    text_file = scenario_file(tmp_path, secret + "\n", "passwd")
    assert refused(capsys, "validate", text_file) == (
        f"{text_file}: expected a mapping of scenario keys, got text"
    )
    config = scenario_file(tmp_path, "user: admin\npassword: hunter2\n", "settings.yaml")
    assert refused(capsys, "validate", config) == (
        f"{config}: is not a scenario: none of its keys is a scenario key (name, horizon, "
        "ladder, actors, ...; see docs/scenarios.md)"
    )
    child = scenario_file(tmp_path, f"extends: {text_file.name}\nname: x\n", "child.yaml")
    message = refused(capsys, "validate", child)
    assert message == f"{text_file}: expected a mapping of scenario keys, got text"
    assert secret not in message
