"""The command line as a user runs it: outputs, files written, exit codes and messages."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import stat
import struct
import subprocess
import sys
import termios
import time

import pandas as pd
import pytest

from sim.cli.main import main
from tests.conftest import BASELINE, ROOT, SCENARIOS

ACCEPTED = SCENARIOS / "jan2024_mediation_accepted.yaml"
REFUSED = SCENARIOS / "jan2024_mediation_refused.yaml"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_prints_ok_and_a_summary(capsys):
    code, out, _ = cli(capsys, "validate", BASELINE)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"ok: {BASELINE}"
    assert "horizon 60 days, from 16 January 2024; 1000 runs, seed 20240116" in out
    assert (
        "pakistan (Pakistan, nuclear-armed): strategic (delay 2, reaction_delay 1); resolve "
        "beta(3, 3); cost 3; audience cost 0.5; pledge 0.5; mediation decide" in out
    )
    assert "iran-pakistan: baseline 0 (normal relations), economic ties 0.1" in out
    assert "mechanisms: all on; 3 rounds a day" in out


def test_story_tells_the_run_day_by_day(capsys):
    code, out, _ = cli(capsys, "story", BASELINE, "--seed", "7", "--full")
    assert code == 0
    assert out.startswith("jan2024_baseline — one run (seed 7), day 0 = 16 January 2024")
    assert "Day 0 (Tue 16 Jan)  [postures: Iran 4, Pakistan 0]" in out
    assert "        why: " in out
    assert "Iran strikes two Jaish al-Adl sites near Panjgur" in out
    assert "Highest rung reached:" in out


def test_run_writes_every_file(capsys, tmp_path):
    out_dir = tmp_path / "baseline"
    code, out, _ = cli(
        capsys,
        "run",
        BASELINE,
        "--runs",
        "200",
        "--seed",
        "1",
        "--workers",
        "2",
        "--out",
        out_dir,
        "--set",
        "horizon=30",
    )
    assert code == 0
    assert "jan2024_baseline__horizon-30: 200 runs (seed 1, 2 workers" in out
    assert "P(the state struck first answers with a strike within 7 days)" in out
    names = {p.name for p in out_dir.iterdir()}
    assert names == {
        "runs.csv",
        "curves.csv",
        "occupancy.csv",
        "summary.csv",
        "metadata.json",
        "curves.png",
        "curves.svg",
        "occupancy.png",
        "occupancy.svg",
    }
    runs = pd.read_csv(out_dir / "runs.csv")
    assert len(runs) == 200 and runs["run"].tolist() == list(range(200))
    curves = pd.read_csv(out_dir / "curves.csv")
    assert len(curves) == 8 * 31  # every rung, days 0..30
    metadata = json.loads((out_dir / "metadata.json").read_text())
    assert metadata["kind"] == "ensemble"
    (ensemble,) = metadata["ensembles"]
    assert ensemble["scenario"]["horizon"] == 30 and ensemble["runs"] == 200
    assert ensemble["command"][:3] == ["run.py", "run", str(BASELINE)]
    assert not list(out_dir.glob(".*.tmp"))


def test_results_do_not_depend_on_workers(capsys, tmp_path):
    for workers in ("1", "2"):
        cli(
            capsys,
            "run",
            BASELINE,
            "--runs",
            "150",
            "--workers",
            workers,
            "--quiet",
            "--out",
            tmp_path / workers,
            "--set",
            "horizon=20",
        )
    for table in ("runs.csv", "curves.csv", "occupancy.csv", "summary.csv"):
        assert (tmp_path / "1" / table).read_bytes() == (tmp_path / "2" / table).read_bytes()


def test_existing_results_need_force(capsys, tmp_path):
    args = ["run", BASELINE, "--runs", "20", "--out", tmp_path, "--set", "horizon=10"]
    (tmp_path / "keep.txt").write_text("mine")
    code, _, err = cli(capsys, *args)
    assert code == 2
    assert err == (
        f"error: {tmp_path} holds files that no run wrote (keep.txt); choose another --out, or "
        "add --force to write the results beside them (those files are kept)\n"
    )
    assert cli(capsys, *args, "--force")[0] == 0
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_compare_reports_differences(capsys, tmp_path):
    code, out, _ = cli(capsys, "compare", ACCEPTED, REFUSED, "--runs", "300", "--out", tmp_path)
    assert code == 0
    assert (
        "jan2024_mediation_refused against jan2024_mediation_accepted (same seeds: compared run "
        "for run (paired)):" in out
    )
    assert "higher in jan2024_mediation_refused" in out
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert table["paired"].all() and set(table["method"]) == {"tango score", "paired bootstrap"}
    assert set(table["scenario"]) == {"jan2024_mediation_refused"}
    assert {"comparison.png", "comparison.svg"} <= {p.name for p in tmp_path.iterdir()}


def lines_of(out: str) -> list[str]:
    return out.rstrip("\n").split("\n")


def test_the_default_command_is_brief_and_full_on_request(capsys, tmp_path):
    """Three scenarios compared: at most 20 lines, the key outcomes only, no p-values, and
    'talks accepted' (what the scenarios differ in) left out in one line; --full prints every
    outcome of every scenario with p-values, as before."""
    code, out, _ = cli(capsys, "--runs", "200", "--out", tmp_path / "brief")
    assert code == 0
    said = lines_of(out)
    assert len(said) <= 20
    assert said[0] == "3 scenarios, 200 runs each" + said[0].split("200 runs each", 1)[1]
    assert "p = " not in out and "p < " not in out
    compared = [line for line in said if line.startswith("  P(") or line.startswith("  Days")]
    labels = {line[2:68].rstrip() for line in compared}
    assert labels == {
        "P(the state struck first answers with a strike within 7 days)",
        "P(some state strikes another state's forces within 30 days)",
        "P(both sides strike, on three or more days in all)",
        "P(war by the horizon)",
        "P(back to baseline within 14 days)",
    }
    assert len(compared) == 10  # five outcomes, two scenarios against the first
    left_out = (
        "  Left out, true by construction: talks are accepted by all their parties (the "
        "scenarios differ in actors.iran.mediation.policy)"
    )
    assert said.count(left_out) == 2
    assert said[-2] == (
        "(6 of 16 outcomes; --full shows every one, --outcomes NAME ... chooses, --json gives all)"
    )
    code, full, _ = cli(capsys, "--runs", "200", "--out", tmp_path / "full", "--full")
    assert code == 0
    assert len(lines_of(full)) > 60 and full.count(", p") >= 2 * 15
    assert full.count("Widest 95% CI half-width") == 3
    assert full.count(left_out) == 2  # left out in --full too: it is no finding
    table = pd.read_csv(tmp_path / "full" / "comparison.csv", keep_default_na=False)
    marked = table[table["by_construction"] != ""]
    assert set(marked["outcome"]) == {"accepted"}
    assert set(marked["by_construction"]) == {"actors.iran.mediation.policy"}


def test_json_stays_complete_and_says_what_is_true_by_construction(capsys, tmp_path):
    code, out, _ = cli(
        capsys, "compare", ACCEPTED, REFUSED, "--runs", "100", "--out", tmp_path, "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert [len(e["summary"]) for e in report["ensembles"]] == [16, 16]
    assert len(report["comparison"]) == 16
    marked = {
        r["outcome"]: r["by_construction"] for r in report["comparison"] if r["by_construction"]
    }
    assert marked == {"accepted": "actors.iran.mediation.policy"}


def test_outcomes_chooses_what_is_printed(capsys, tmp_path):
    code, out, _ = cli(
        capsys,
        "run",
        BASELINE,
        "--runs",
        "100",
        "--out",
        tmp_path,
        "--outcomes",
        "war",
        "strike_7d",
    )
    assert code == 0
    said = lines_of(out)
    assert [line[2:68].rstrip() for line in said[1:3]] == [
        "P(war by the horizon)",
        "P(some state strikes across the border within 7 days)",
    ]
    assert said[3].startswith("Results in ")


@pytest.mark.parametrize(
    "command",
    [
        ["run", BASELINE],
        ["compare", ACCEPTED, REFUSED],
        ["story", BASELINE, "--seed", "7"],
        [],
    ],
    ids=["run", "compare", "story", "default"],
)
def test_an_unknown_outcome_is_refused_before_anything_runs(capsys, tmp_path, command):
    code, out, err = cli(
        capsys,
        *command,
        "--out" if command[:1] != ["story"] else "--seed",
        tmp_path / "x" if command[:1] != ["story"] else "7",
        "--outcomes",
        "war",
        "calm_14",
    )
    assert code == 2 and out == ""
    assert err.startswith("error: --outcomes calm_14: not an outcome of the summary of jan2024_")
    assert "; did you mean 'calm_14d'? Choose from: answer_7d, strike_7d, forces_7d, " in err
    assert err.endswith("strike_30d_pakistan, forces_30d_pakistan\n")
    assert not (tmp_path / "x").exists()


def test_story_is_brief_by_default_and_agrees_with_the_full_story(capsys):
    code, full, _ = cli(capsys, "story", BASELINE, "--seed", "7", "--full")
    code, out, _ = cli(capsys, "story", BASELINE, "--seed", "7")
    assert code == 0
    said = lines_of(out)
    assert len(said) <= 20 and "why:" not in out
    assert said[:2] == [
        "jan2024_baseline — one run (seed 7), day 0 = 16 January 2024",
        "Turning points:",
    ]
    # every turning point is a line of the full story, with its day
    turns = said[2 : said.index("Key outcomes of this run:")]
    days: dict[str, set[str]] = {}
    for line in lines_of(full):
        if line.startswith("Day "):
            day = line.split("  [")[0]
        elif line.startswith("    ") and not line.startswith("        "):
            days.setdefault(line.strip(), set()).add(day)
    for turn in turns:
        day, _, event = turn.strip().partition(": ")
        assert day in days[event]
    assert "  The state struck first answers with a strike within 7 days: yes (day 2)" in said
    answer = "Pakistan answers Iran: 'limited strike on an armed group' against BLA/BLF."
    assert min(days[answer], key=lambda d: int(d.split()[1])) == "Day 2 (Thu 18 Jan)"
    # never calm (two truces, but the measures stay): the full story's end, said alike
    assert "Not back to baseline within 60 days." in lines_of(full)
    assert lines_of(full)[-1] == (
        "Measures still in force (envoys, borders, trade): Iran's against Pakistan, "
        "Pakistan's against Iran."
    )
    assert "  Back to baseline within 14 days: no" in said
    assert "  War by the horizon: no" in said


def test_plot_redraws_from_saved_tables_without_running(capsys, tmp_path, monkeypatch):
    cli(capsys, "run", BASELINE, "--runs", "50", "--out", tmp_path, "--set", "horizon=15")
    for figure in tmp_path.glob("*.png"):
        figure.unlink()

    def no_running(*args, **kwargs):
        raise AssertionError("plot must not rerun the simulation")

    monkeypatch.setattr("sim.experiments.ensemble.run_ensemble", no_running)
    monkeypatch.setattr("sim.model.model.EscalationModel.run", no_running)
    code, out, _ = cli(capsys, "plot", tmp_path, "--rungs", "5,6")
    assert code == 0 and out.startswith("Redrew curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000


def test_plot_refuses_a_folder_that_is_not_results(capsys, tmp_path):
    code, _, err = cli(capsys, "plot", tmp_path)
    assert code == 2
    assert err == (
        f"error: {tmp_path} is not a results folder (missing runs.csv, curves.csv, "
        "occupancy.csv, summary.csv, metadata.json); make one with 'python run.py "
        "run SCENARIO'\n"
    )


def test_rungs_must_be_on_the_ladder(capsys, tmp_path):
    code, _, err = cli(capsys, "run", BASELINE, "--rungs", "5,9", "--out", tmp_path)
    assert code == 2
    assert err == "error: --rungs: 9 not on the ladder; choose rungs from 1 to 7\n"
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "nope.yaml"], "error: nope.yaml: no such file"),
        (
            ["run", BASELINE, "--set", "horizon"],
            "error: --set horizon: expected KEY.PATH=VALUE, such as actors.iran.pledge=0.1",
        ),
        (["compare", BASELINE], "error: compare needs at least two scenario files"),
        (
            ["compare", BASELINE, BASELINE],
            "error: compare needs scenarios with different names, got "
            "jan2024_baseline, jan2024_baseline",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, args, message):
    code, _, err = cli(capsys, *args)
    assert code == 2
    assert err.strip() == message


@pytest.mark.parametrize(
    "args, message",
    [
        (["--runs", "0"], "argument --runs: expected a whole number >= 1, got 0"),
        (["--workers", "-1"], "argument --workers: expected a whole number >= 1, got -1"),
        (
            ["--target-halfwidth", "2"],
            "argument --target-halfwidth: expected a number between 0 and 0.5, got 2.0",
        ),
        (["--engine", "mesa"], "unrecognized arguments: --engine mesa"),
    ],
)
def test_bad_options_exit_2(capsys, args, message):
    with pytest.raises(SystemExit) as caught:
        main(["run", str(BASELINE), *args])
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_unwritable_out_is_refused_before_running(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cli(capsys, "run", BASELINE, "--out", blocker)
    assert code == 2 and err == f"error: --out {blocker} is a file, expected a folder\n"
    code, _, err = cli(capsys, "run", BASELINE, "--out", blocker / "sub")
    assert code == 2 and err.startswith(f"error: cannot write to {blocker / 'sub'} (")


def test_every_command_has_help_with_examples(capsys):
    for command in ("validate", "story", "run", "compare", "plot", "schema"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "examples:" in capsys.readouterr().out


def test_scenario_problems_come_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASELINE.read_text().replace("pledge: 0.5  ", "pledge: 1.3  ", 1))
    done = subprocess.run(
        [sys.executable, "run.py", "validate", str(bad)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{bad}: actors.iran.pledge: expected a number from 0 to 1, got 1.3" in done.stderr


def _read_until(fd: int, pattern: str, seconds: float) -> str:
    """What a terminal shows until ``pattern`` appears in it (or ``seconds`` pass)."""
    seen = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not re.search(pattern, seen):
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                seen += os.read(fd, 65536).decode(errors="replace")
            except OSError:  # the program closed the terminal
                break
    return seen


@pytest.mark.slow
def test_ctrl_c_saves_what_was_finished(tmp_path):
    # stderr on a terminal, as a user's, so the progress bar shows; Ctrl-C once it says runs
    # are done (evidence, not a sleep: a busy machine only makes the wait longer). One worker,
    # so chunks finish in order and the bar's count is the first runs, which are kept
    terminal, other_end = pty.openpty()
    fcntl.ioctl(other_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [
            sys.executable,
            "run.py",
            "run",
            str(BASELINE),
            "--runs",
            "10000000",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=other_end,
        text=True,
    )
    os.close(other_end)
    try:
        shown = _read_until(terminal, r"\b[1-9]\d*/10000000\b", seconds=600)
        assert re.search(r"\b[1-9]\d*/10000000\b", shown), shown[-2000:]
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=120)
        err = shown + _read_until(terminal, r"(?!x)x", seconds=5)  # the rest, to the end
    finally:
        os.close(terminal)
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3, err[-2000:]  # interrupted, part of the results saved
    assert "Interrupted: kept " in err and "of 10,000,000 runs of jan2024_baseline" in err
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert 0 < len(runs) < 10_000_000
    assert runs["run"].tolist() == list(range(len(runs)))
    assert "Traceback" not in err


@pytest.mark.slow
def test_default_job_writes_the_comparison(tmp_path):
    """From an empty folder: the default comparison's scenarios ship with the package."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "results" / "default_comparison"
    assert (folder / "comparison.png").stat().st_size > 10_000
    summary = pd.read_csv(folder / "summary.csv")
    assert summary["scenario"].unique().tolist() == [
        "jan2024_mediation_accepted",
        "jan2024_mediation_refused",
        "jan2024_no_mediator",
    ]
    assert summary["runs"].unique().tolist() == [1000]


def test_set_values_follow_yaml_1_2_so_no_is_text():
    from sim.cli.commands import parse_overrides

    assert parse_overrides(["a.policy=no", "b=true", "c=0.4", "d=off", "e=null", "f=~"]) == {
        "a.policy": "no",
        "b": True,
        "c": 0.4,
        "d": "off",
        "e": None,
        "f": None,
    }


def test_a_run_with_set_is_filed_and_titled_as_its_own_variant(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [
        "run",
        BASELINE,
        "--runs",
        "30",
        "--set",
        "horizon=10",
        "--set",
        "actors.iran.pledge=0.9",
    ]
    code, out, _ = cli(capsys, *args)
    assert code == 0
    name = "jan2024_baseline__horizon-10_actors.iran.pledge-0.9"
    folder = tmp_path / "results" / name
    assert f"Results in results/{name}/" in out
    assert not (tmp_path / "results" / "jan2024_baseline").exists()
    (ensemble,) = json.loads((folder / "metadata.json").read_text())["ensembles"]
    assert ensemble["overrides"] == {"horizon": 10, "actors.iran.pledge": 0.9}
    assert ensemble["scenario"]["name"] == name
    assert ensemble["scenario"]["description"].endswith(
        "Changed: horizon=10, actors.iran.pledge=0.9."
    )


def test_comparing_scenarios_of_different_horizons_says_what_differs(capsys, tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text(f"extends: {REFUSED}\nname: short\nhorizon: 30\n")
    code, _, err = cli(capsys, "compare", ACCEPTED, short, "--runs", "20", "--out", tmp_path / "c")
    assert code == 2
    assert err == (
        f"error: {short}: its horizon is 30 days but {ACCEPTED}'s is 60; compared scenarios "
        "need the same horizon (change one with --set horizon=60)\n"
    )


def test_compare_target_halfwidth_bounds_the_paired_differences(capsys, tmp_path):
    code, out, _ = cli(
        capsys,
        "compare",
        ACCEPTED,
        REFUSED,
        "--runs",
        "200",
        "--target-halfwidth",
        "0.03",
        "--set",
        "horizon=20",
        "--out",
        tmp_path,
    )
    assert code == 0
    table = pd.read_csv(tmp_path / "comparison.csv")
    probabilities = table[table["kind"] == "probability"]
    assert ((probabilities["ci_high"] - probabilities["ci_low"]) / 2).max() <= 0.03
    runs = pd.read_csv(tmp_path / "runs.csv")
    counts = runs.groupby("scenario").size()
    assert counts.nunique() == 1 and counts.iloc[0] > 200


def test_p_values_below_a_thousandth_print_as_such():
    from sim.views.text import p_text

    assert p_text(0.0004) == "p < 0.001"
    assert p_text(0.0099) == "p = 0.0099"
    assert p_text(0.5) == "p = 0.5"


def test_version_and_python_minus_m(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("escalation-sim ")
    done = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(BASELINE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.startswith(f"ok: {BASELINE}")


@pytest.mark.parametrize("shell", ["bash", "zsh", "tcsh"])
def test_completion_scripts_name_every_command(capsys, shell):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for command in ("validate", "story", "run", "compare", "sweep", "backtest", "explain"):
        assert command in script


def test_json_output_of_validate_run_and_errors(capsys, tmp_path):
    code, out, _ = cli(capsys, "validate", BASELINE, "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["scenario"] == "jan2024_baseline"
    assert data["states"] == ["iran", "pakistan"]
    code, out, _ = cli(
        capsys, "run", BASELINE, "--runs", "30", "--set", "horizon=10", "--out", tmp_path, "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["folder"] == str(tmp_path) and not data["interrupted"]
    (ensemble,) = data["ensembles"]
    assert ensemble["runs"] == 30 and {row["outcome"] for row in ensemble["summary"]} >= {"war"}
    code, out, err = cli(capsys, "validate", tmp_path / "missing.yaml", "--json")
    assert code == 2 and json.loads(out) == {
        "ok": False,
        "error": f"{tmp_path / 'missing.yaml'}: no such file",
        "exit_code": 2,
        "problems": [
            {"source": str(tmp_path / "missing.yaml"), "path": "", "message": "no such file"}
        ],
    }
    assert err.startswith("error: ")


def test_quiet_prints_nothing_but_errors(capsys, tmp_path):
    code, out, err = cli(
        capsys, "run", BASELINE, "--runs", "20", "--set", "horizon=5", "--out", tmp_path, "-q"
    )
    assert (code, out, err) == (0, "", "")
    code, out, err = cli(capsys, "validate", tmp_path / "nope.yaml", "-q")
    assert code == 2 and out == "" and err.startswith("error: ")


def test_the_default_command_takes_runs_workers_seed_and_out(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code, out, _ = (
        cli(
            capsys,
            "--runs",
            "40",
            "--workers",
            "1",
            "--seed",
            "3",
            "--out",
            tmp_path,
            "--set",
            "x=1",
        )
        if False
        else cli(capsys, "--runs", "40", "--workers", "1", "--seed", "3", "--out", tmp_path)
    )
    assert code == 0
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert runs.groupby("scenario").size().tolist() == [40, 40, 40]
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert {e["seed"] for e in meta["ensembles"]} == {3}


def test_output_options_before_the_command_are_kept(capsys):
    assert main(["--json", "validate", str(BASELINE)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert main(["-q", "validate", str(BASELINE)]) == 0
    assert capsys.readouterr().out == ""


def _strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_json_usage_errors_are_one_json_object_too(capsys):
    assert main(["--json", "run", str(BASELINE), "--runs", "x"]) == 2
    captured = capsys.readouterr()
    assert _strict(captured.out) == {
        "ok": False,
        "error": "argument --runs: expected a whole number, got 'x'",
        "exit_code": 2,
    }
    assert "error: argument --runs: expected a whole number, got 'x'" in captured.err


def test_json_of_a_tiny_run_is_strict_with_nulls_and_a_note(tmp_path, capsys):
    # three runs: some intervals are not finite numbers
    assert main(["run", str(BASELINE), "--runs", "3", "--json", "--out", str(tmp_path / "o")]) == 0
    report = _strict(capsys.readouterr().out)
    nulls = [row for e in report["ensembles"] for row in e["summary"] if None in row.values()]
    assert nulls
    assert report["notes"][-1].startswith("null stands for a number that is not finite")


def test_a_superscript_digit_in_a_key_path_is_a_message_not_a_traceback(capsys):
    assert main(["validate", str(BASELINE), "--set", "relations.².baseline=1"]) == 2
    assert capsys.readouterr().err == (
        "error: --set relations.²: relations is a list of 1 items; expected an item number "
        "from 0 to 0\n"
    )


def test_a_story_never_replaces_a_pipe_with_its_figure(tmp_path, capsys):
    pipe = tmp_path / "story.png"
    os.mkfifo(pipe)
    assert main(["story", str(BASELINE), "--seed", "1", "--plot", str(pipe)]) == 2
    assert capsys.readouterr().err.endswith(
        f"{pipe} exists and is not a regular file; choose another file name\n"
    )
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


def test_a_sweep_of_values_no_chart_can_scale_keeps_its_results(tmp_path, capsys):
    out = tmp_path / "huge"
    code = main(
        [
            "sweep",
            str(BASELINE),
            "--param",
            "decision.rationality=1e308,1.7e308",
            "--runs",
            "5",
            "--workers",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "note: the figures were not drawn" in capsys.readouterr().err
    assert len((out / "sweep.csv").read_text().splitlines()) == 1 + 2


def test_a_weight_beyond_a_million_is_refused_before_it_overflows_the_choices(tmp_path, capsys):
    """A cost of 1.7e308 once made NaN of choices: a sweep of garbage, silently (issue 23)."""
    code, out, err = cli(
        capsys, "sweep", BASELINE, "--param", "actors.iran.cost=1e308,1.7e308", "--out", tmp_path
    )
    assert code == 2 and out == ""
    assert err == (
        "error: --param actors.iran.cost: expected a number from 0 to 1,000,000, got 1e+308\n"
    )


def test_backtest_and_sweep_refuse_an_unknown_name_before_running(capsys, tmp_path):
    code, out, err = cli(capsys, "backtest", "--out", tmp_path / "bt", "--outcomes", "forces_7")
    assert code == 2 and out == "" and not (tmp_path / "bt").exists()
    assert err == (
        "error: --outcomes forces_7: not an outcome of the backtest's items; did you mean "
        "'forces_7d'? Choose from: answer_7d, forces_7d, sustained, war, restrike, "
        "mediation_accepted, ceasefire_14d, calm_14d, calm_60d, all items, all nine items, "
        "escalation items, days_to_answer, days_to_calm, trajectory\n"
    )
    sweep = ["sweep", BASELINE, "--param", "actors.iran.cost=1:2:2", "--outcome", "war"]
    code, out, err = cli(capsys, *sweep, "--out", tmp_path / "sw", "--outcomes", "wars")
    assert code == 2 and out == "" and not (tmp_path / "sw").exists()
    assert err == (
        "error: --outcomes wars: not an outcome of this sweep; did you mean 'war'? Choose "
        "from: war\n"
    )


def test_a_runs_table_over_the_limit_is_announced_before_the_runs(capsys, tmp_path, monkeypatch):
    """The estimate is the measured bytes of a sample of rows, scaled: within 5% of the
    runs.csv written. Over the limit (lowered here to a kilobyte), a note says so with what to
    do instead; with --format parquet nothing is said."""
    from sim.experiments import ensemble
    from sim.inputs.loader import load_scenario

    estimate = ensemble.runs_csv_bytes(load_scenario(BASELINE), 3000)
    code, _, err = cli(capsys, "run", BASELINE, "--runs", "3000", "--out", tmp_path / "a")
    assert code == 0 and "runs.csv will take" not in err
    assert estimate == pytest.approx((tmp_path / "a" / "runs.csv").stat().st_size, rel=0.05)
    monkeypatch.setattr(ensemble, "LARGE_TABLE", 1000)
    code, _, err = cli(capsys, "run", BASELINE, "--runs", "50", "--out", tmp_path / "b")
    size = ensemble.runs_csv_bytes(load_scenario(BASELINE), 50) / 1e9
    assert code == 0 and err.startswith(
        f"note: runs.csv will take about {size:.1f} GB on disk (one row per run). To keep it "
        "smaller: --format parquet (pip install -e '.[parquet]') stores the same table "
        "compressed, fewer --runs, or --target-halfwidth to stop once the intervals are narrow "
        "enough.\n"
    )
    pytest.importorskip("pyarrow")
    code, _, err = cli(
        capsys, "run", BASELINE, "--runs", "50", "--format", "parquet", "--out", tmp_path / "c"
    )
    assert code == 0 and "runs.csv will take" not in err
