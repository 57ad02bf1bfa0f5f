"""The command line's grammar: every command, option and its help (argparse only).

What each command does is :mod:`sim.cli.commands`; this module only says what may be typed.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.experiments.execution import default_workers
from sim.inputs.arguments import SEED_MAX
from sim.views.classroom import (
    CULL_MINUTES,
    ENSEMBLES_AT_ONCE,
    MAX_ENSEMBLES_AT_ONCE,
    WAITING_ROOM,
)

if TYPE_CHECKING:
    pass

DEFAULT_COMPARISON = (
    "jan2024_mediation_accepted.yaml",
    "jan2024_mediation_refused.yaml",
    "jan2024_no_mediator.yaml",
)
"""The default comparison's scenarios, shipped with the package (sim.files.shipped)."""
DEFAULT_COMPARISON_OUT = Path("results/default_comparison")
DEFAULT_INIT_FOLDER = Path("my-escalation-sim")
"""Where ``init`` copies the examples when no folder is given (in the current folder)."""


def _whole(minimum: int, maximum: int | None = None) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{shown}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {minimum} to {maximum}, got {value}"
            )
        return value

    return parse


def _halfwidth(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 0.5, got {value}")
    return value


def _rung_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected rungs separated by commas, such as 5,6,7; got '{text}'"
        ) from None


def _example(text: str) -> str:
    return "examples:\n" + textwrap.indent(textwrap.dedent(text).strip(), "  ")


JSON_COMMANDS = ("validate", "run", "compare", "sweep", "backtest")
"""Commands whose summary --json prints as JSON (docs/results.md lists the keys)."""


def package_version() -> str:
    """This package's version, from its installed metadata."""
    from importlib import metadata

    try:
        return metadata.version("escalation-sim")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def add_output_options(
    parser: argparse.ArgumentParser, *, json_output: bool, top: bool = False
) -> None:
    """-q, -v and --json, on the program and again on each command. A command's copies have
    no default of their own, so ``run.py --json validate X`` keeps the --json given first."""
    default: Any = False if top else argparse.SUPPRESS
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="print nothing but errors (no progress bar)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="print more detail: versions, timings, outcome definitions",
    )
    if json_output:
        parser.add_argument(
            "--json",
            action="store_true",
            default=default,
            help="print the summary as JSON (stable keys: docs/results.md); errors too",
        )


def add_brief_options(parser: Any, *, top: bool = False, noun: str = "outcomes") -> None:
    """--full and --outcomes: a command prints a brief summary (the key outcomes, see
    ``sim.views.text.KEY_OUTCOMES``) unless told otherwise; --json is always complete."""
    default: Any = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--full",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help=f"print every {noun[:-1]}, with every detail (default: a brief summary of the key "
        f"{noun})",
    )
    parser.add_argument(
        "--outcomes",
        dest="shown",
        nargs="+",
        metavar="NAME",
        default=default,
        help="the outcomes to print (names as in summary.csv, e.g. --outcomes answer_7d war); "
        "an unknown name is refused with the list of names",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escalation-sim",
        description="Simulate how an interstate crisis escalates or calms down. With no command, "
        "runs the default comparison (the January 2024 Iran-Pakistan crisis with mediation "
        f"accepted, refused, or no mediator) into {DEFAULT_COMPARISON_OUT}/. Results go "
        "under the current folder; 'init' copies the example scenarios into a folder of your own.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_example("""
            python run.py
            python run.py init my_class     (the example scenarios, in my_class/scenarios/)
            python run.py validate scenarios/jan2024_baseline.yaml
            python run.py story scenarios/jan2024_baseline.yaml --seed 7
            python run.py run scenarios/jan2024_baseline.yaml --runs 5000
            python run.py compare scenarios/jan2024_mediation_accepted.yaml scenarios/jan2024_mediation_refused.yaml
            python run.py plot results/jan2024_baseline
            python run.py COMMAND --help     (every option of a command)"""),
    )
    parser.add_argument(
        "--version", action="version", version=f"escalation-sim {package_version()}"
    )
    default = parser.add_argument_group("options of the default comparison (no COMMAND)")
    default.add_argument("--runs", type=_whole(1), metavar="N", help="runs per scenario")
    default.add_argument("--seed", type=_whole(0), metavar="N", help="seed of the runs")
    default.add_argument(
        "--workers",
        type=_whole(1),
        metavar="N",
        help=f"processes to use (default: every core, here {default_workers()})",
    )
    default.add_argument(
        "--out", type=Path, metavar="DIR", help=f"output folder (default: {DEFAULT_COMPARISON_OUT})"
    )
    add_output_options(parser, json_output=True, top=True)
    add_brief_options(default, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def scenario_command(name: str, help_text: str, example: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_example(example),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_output_options(sub, json_output=name in JSON_COMMANDS)
        return sub

    def add_set(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY.PATH=VALUE",
            help="change one scenario value for this command only, by its key path "
            "(repeatable), e.g. --set actors.pakistan.retaliation.policy=escalate",
        )

    def add_ensemble_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--runs",
            type=_whole(1),
            metavar="N",
            help="runs per scenario (default: the scenario's `runs`), e.g. --runs 5000",
        )
        sub.add_argument(
            "--seed",
            type=_whole(0),
            metavar="N",
            help="seed of the random streams (default: the scenario's `seed`)",
        )
        sub.add_argument(
            "--workers",
            type=_whole(1),
            metavar="N",
            default=None,
            help=f"processes to use (default: every core, here {default_workers()}); "
            "results are identical for any number",
        )
        sub.add_argument(
            "--target-halfwidth",
            type=_halfwidth,
            metavar="X",
            help="add runs until every reported probability's 95%% CI is within +-X (in "
            "compare: every difference's CI against the first scenario), e.g. 0.01 for +-1 point",
        )
        sub.add_argument(
            "--rungs",
            type=_rung_list,
            metavar="K,K",
            help="rungs to draw curves for (default: those not reached on day 0)",
        )
        sub.add_argument(
            "--force",
            action="store_true",
            help="overwrite an output folder that already holds results (other files in it "
            "are kept)",
        )
        sub.add_argument(
            "--format",
            choices=("csv", "parquet"),
            default="csv",
            help="format of the tables: csv (default) or parquet (needs pyarrow: the "
            "'parquet' extra)",
        )
        add_set(sub)
        add_brief_options(sub)

    sub = scenario_command(
        "init",
        "copy the example scenarios and the case library into a folder of your own",
        f"""
        escalation-sim init
        escalation-sim init my_class --force
        (writes FOLDER/scenarios/..., laid out as in the project folder; default folder:
        {DEFAULT_INIT_FOLDER})""",
    )
    sub.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_INIT_FOLDER,
        metavar="FOLDER",
        help=f"where to copy them (default: {DEFAULT_INIT_FOLDER}, made if missing)",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="replace files there that differ from the shipped ones (other files are kept)",
    )

    sub = scenario_command(
        "validate",
        "check a scenario file and summarise it",
        "python run.py validate scenarios/jan2024_baseline.yaml",
    )
    sub.add_argument("scenario", help="a scenario YAML file")
    add_set(sub)

    sub = scenario_command(
        "story",
        "run once and tell the run day by day in plain words",
        """
                           python run.py story scenarios/jan2024_baseline.yaml --seed 7
                           python run.py story scenarios/jan2024_hawkish.yaml --seed 7
                           python run.py story scenarios/jan2024_baseline.yaml --seed 7 --plot results/story.png
                           python run.py story --from results/jan2024_baseline --run 17
                           (a seed from the `seed` column of runs.csv replays that run exactly)""",
    )
    sub.add_argument(
        "scenario", nargs="?", help="a scenario YAML file (or give --from and --run instead)"
    )
    sub.add_argument(
        "--seed",
        type=_whole(0, SEED_MAX),
        metavar="N",
        help="seed of the run, as in the seed column of runs.csv (default 0)",
    )
    sub.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="RESULTS",
        help="replay a run of a saved ensemble: its folder (with --run)",
    )
    sub.add_argument(
        "--run",
        type=_whole(0),
        metavar="N",
        help="with --from: the run to replay (the `run` column of runs.csv)",
    )
    sub.add_argument(
        "--which",
        metavar="NAME",
        help="with --from a comparison: the scenario the run belongs to (default: the first)",
    )
    sub.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="also draw the run as a timeline for a slide: FILE.png at 300 dpi and FILE.svg "
        "beside it (an existing figure of that name is replaced)",
    )
    add_set(sub)
    add_brief_options(sub)

    sub = scenario_command(
        "run",
        "run an ensemble of one scenario; tables and plots in --out",
        """
                           python run.py run scenarios/jan2024_baseline.yaml --runs 5000 --seed 1 --workers 2 --out results/baseline
                           python run.py run scenarios/jan2024_baseline.yaml --set actors.pakistan.retaliation.policy=escalate
                           python run.py run scenarios/jan2024_baseline.yaml --target-halfwidth 0.01""",
    )
    sub.add_argument("scenario", help="a scenario YAML file")
    sub.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: results/<scenario name>)"
    )
    add_ensemble_options(sub)

    sub = scenario_command(
        "compare",
        "run several scenarios and compare them",
        """
                           python run.py compare scenarios/jan2024_mediation_accepted.yaml scenarios/jan2024_mediation_refused.yaml --runs 5000""",
    )
    sub.add_argument(
        "scenarios",
        nargs="+",
        metavar="scenario",
        help="two or more scenario YAML files; the first is the reference",
    )
    sub.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: results/compare_<first>_vs_<second>...)",
    )
    add_ensemble_options(sub)

    sub = scenario_command(
        "plot",
        "redraw the figures of a results folder, without rerunning",
        "python run.py plot results/jan2024_baseline --rungs 5,6",
    )
    sub.add_argument("folder", type=Path, help="a folder written by run or compare")
    sub.add_argument(
        "--rungs",
        type=_rung_list,
        metavar="K,K",
        help="rungs to draw curves for (default: those not reached on day 0)",
    )

    sub = scenario_command(
        "sweep",
        "how outcomes change as parameters change: grid, Latin hypercube, Sobol or Morris",
        """
        python run.py sweep scenarios/jan2024_baseline.yaml --param actors.pakistan.audience_cost=0:1:11 --param third_parties.china.leverage.pakistan=0.2,0.5,0.8 --runs 1000
        python run.py sweep scenarios/jan2024_baseline.yaml --param actors.pakistan.retaliation.policy=tit_for_tat,escalate,graduated
        python run.py sweep scenarios/sweeps/sensitivity.yaml       (the file's own sweep: block)
        python run.py sweep ... --executor dask --scheduler tcp://127.0.0.1:8786
        Rerunning the same command resumes: finished points are kept and skipped.""",
    )
    sub.add_argument(
        "scenario", help="a scenario YAML file (its `sweep:` block is used if no --param is given)"
    )
    sub.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        metavar="KEY.PATH=SPEC",
        help="a parameter to vary (repeatable): start:stop:count for a grid range, "
        "a,b,c for values (names make it categorical), start:stop for bounds "
        "(lhs, sobol, morris)",
    )
    sub.add_argument(
        "--design",
        choices=["grid", "lhs", "sobol", "morris"],
        help="grid (default), lhs (Latin hypercube), sobol or morris sensitivity",
    )
    sub.add_argument(
        "--samples",
        type=_whole(1),
        metavar="N",
        help="lhs: points; sobol: base sample, a power of 2; morris: trajectories",
    )
    sub.add_argument(
        "--outcome",
        dest="outcomes",
        action="append",
        default=[],
        metavar="NAME",
        help=f"outcome to record (repeatable; default: {', '.join(DEFAULT_SWEEP_OUTCOMES)}): "
        "`python run.py outcomes` lists them all",
    )
    sub.add_argument(
        "--runs",
        type=_whole(1),
        metavar="N",
        help="runs per design point (default: the block's, else the scenario's)",
    )
    sub.add_argument(
        "--seed",
        type=_whole(0),
        metavar="N",
        help="seed of the sweep (default: the block's, else the scenario's)",
    )
    sub.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="local: a process pool on this machine (default); dask: a Dask "
        "cluster (pip install -e '.[dask]')",
    )
    sub.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://127.0.0.1:8786 (default with "
        "--executor dask: a local cluster)",
    )
    sub.add_argument(
        "--workers",
        type=_whole(1),
        metavar="N",
        default=None,
        help=f"processes for the local executor (default: every core, here {default_workers()})",
    )
    sub.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: results/sweep_<scenario name>); rerun to resume",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="start afresh in a folder holding a different sweep (the old sweep kept in <folder>.previous)",
    )
    add_set(sub)
    add_brief_options(sub)

    sub = scenario_command(
        "explain",
        "what started the climb, in the runs of a saved ensemble that reached a rung",
        """
        python run.py explain results/jan2024_hawkish
        python run.py explain results/jan2024_baseline --rung 6
        (the runs are replayed exactly from their seeds; docs/results.md states the rules)""",
    )
    sub.add_argument("folder", type=Path, help="a folder written by run or compare")
    sub.add_argument(
        "--rung",
        type=_whole(1),
        metavar="K",
        help="explain the runs that acted at this rung or higher (default: the first strike "
        "on state forces)",
    )
    sub.add_argument(
        "--which",
        metavar="NAME",
        help="in a comparison folder: the scenario to explain (default: the first)",
    )
    sub.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: results/explain_<scenario name>; a rerun replaces it, "
        "keeping the last in <folder>.previous)",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="replace a folder holding another kind of result (it is kept in <folder>.previous)",
    )

    sub = scenario_command(
        "backtest",
        "score the model's probabilities against what happened in a library of real crises",
        """
        python run.py backtest
        python run.py backtest my_cases/ --runs 5000 --out results/my_backtest
        (a case is <case>.yaml with <case>.observed.yaml beside it: docs/cases/README.md)""",
    )
    sub.add_argument(
        "cases",
        nargs="?",
        type=Path,
        default=None,
        help="folder of cases (default: the case library shipped with escalation-sim, "
        "scenarios/cases of the project; init copies it)",
    )
    sub.add_argument(
        "--runs", type=_whole(1), default=2000, metavar="N", help="runs per case (default 2000)"
    )
    add_brief_options(sub, noun="items")
    sub.add_argument(
        "--workers",
        type=_whole(1),
        metavar="N",
        default=None,
        help=f"processes to use (default: every core, here {default_workers()})",
    )
    sub.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        default=Path("results/backtest"),
        help="output folder (default: results/backtest; a rerun replaces it, keeping the last "
        "in <folder>.previous)",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="replace a folder holding another kind of result (it is kept in <folder>.previous)",
    )

    sub = scenario_command(
        "outcomes",
        "list the named outcomes (for --outcome, backtests and the Python API)",
        "python run.py outcomes",
    )

    sub = scenario_command(
        "completion",
        "print a shell completion script (bash, zsh or tcsh)",
        """
        python run.py completion bash > ~/.local/share/bash-completion/completions/escalation-sim
        python run.py completion zsh > ~/.zfunc/_escalation-sim""",
    )
    sub.add_argument("shell", choices=("bash", "zsh", "tcsh"), help="the shell")

    sub = scenario_command(
        "schema",
        "print the reference of every scenario key (Markdown), or with --json the JSON Schema "
        "editors validate scenario files with",
        """
        python run.py schema
        python run.py schema --json > scenario.schema.json""",
    )
    sub.add_argument(
        "--json",
        action="store_true",
        dest="json_schema",
        help="print the JSON Schema of scenario files (scenarios/scenario.schema.json holds it; "
        "see the README for VS Code)",
    )

    sub = scenario_command(
        "dashboard",
        "open the interactive teaching dashboard in the browser (needs the dashboard extra)",
        """
        python run.py dashboard
        python run.py dashboard my_crisis.yaml
        python run.py dashboard --port 8800
        (the picker offers scenarios/ and scenarios/cases/ of this folder, and the files named)""",
    )
    sub.add_argument(
        "scenarios",
        nargs="*",
        type=Path,
        metavar="SCENARIO",
        help="more scenario files to offer in the picker",
    )
    sub.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to serve on (default 127.0.0.1: this computer only)",
    )
    sub.add_argument(
        "--port", type=_whole(1, 65535), default=8765, metavar="N", help="port (default 8765)"
    )
    sub.add_argument(
        "--ensembles",
        type=_whole(1, MAX_ENSEMBLES_AT_ONCE),
        default=ENSEMBLES_AT_ONCE,
        metavar="N",
        help=f"ensembles that run at once on this server (default {ENSEMBLES_AT_ONCE}); each page "
        f"runs one at a time, up to {WAITING_ROOM} more wait their turn, and a page whose "
        f"connection dropped is culled after {CULL_MINUTES} minutes; with -v the server prints "
        "the pages open and the ensembles running",
    )
    add_calibrate_parser(commands)
    return parser


DEFAULT_SWEEP_OUTCOMES = ("answer_7d", "forces_30d", "sustained")
"""What a sweep records by default: outcomes that vary in the teaching scenarios (war, at a few
per cent at most there, would draw empty heatmaps; ask for it with --outcome war)."""
"""What a sweep records unless told otherwise (the 30-day one only with a long enough horizon)."""


def add_calibrate_parser(commands: Any) -> None:
    """The options of ``calibrate`` (sim/calibrate.py; docs/calibration.md)."""
    text = (
        "fit the model's shared behavioural parameters to a library of real crises (ABC-SMC); "
        "with --cross-validate, score the fit on each crisis left out of it"
    )
    sub = commands.add_parser(
        "calibrate",
        help=text,
        description=text + ". Writes a posterior (samples, summary, figures) and a calibrated "
        "profile that scenarios can use with {profile: calibrated}.",
        epilog=_example("""
            python run.py calibrate
            python run.py calibrate --populations 8 --particles 100 --workers 4
            python run.py calibrate --cross-validate
            python run.py calibrate --executor dask --scheduler tcp://127.0.0.1:8786
            Rerunning the same command resumes; one seed gives the same result on any executor."""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_output_options(sub, json_output=True)
    sub.add_argument(
        "cases",
        nargs="?",
        type=Path,
        default=None,
        help="folder of cases, laid out as for backtest (default: the case library shipped "
        "with escalation-sim, scenarios/cases of the project)",
    )
    sub.add_argument(
        "--cross-validate",
        action="store_true",
        help="leave each case out in turn: calibrate on the others, forecast it (smaller "
        "default size; default --out results/calibration_cv)",
    )
    sub.add_argument(
        "--populations",
        type=_whole(1),
        metavar="N",
        help="generations of ABC-SMC (default 5; 3 with --cross-validate)",
    )
    sub.add_argument(
        "--particles",
        type=_whole(2),
        metavar="N",
        help="particles per generation (default 40; 30 with --cross-validate)",
    )
    sub.add_argument(
        "--runs",
        type=_whole(1),
        metavar="N",
        help="runs of each case for each particle (default 500; 300 with --cross-validate)",
    )
    sub.add_argument("--seed", type=_whole(0), default=1, metavar="N", help="seed (default 1)")
    sub.add_argument(
        "--check-runs",
        type=_whole(1),
        default=2000,
        metavar="N",
        help="runs of each case when the posterior is scored (default 2000, as backtest)",
    )
    sub.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="local: processes on this machine (default); dask: a Dask cluster "
        "(pip install -e '.[dask]'); the result is the same",
    )
    sub.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://127.0.0.1:8786 (default with --executor "
        "dask: a local cluster)",
    )
    sub.add_argument(
        "--workers",
        type=_whole(1),
        metavar="N",
        help=f"processes (default: every core, here {default_workers()}); with --scheduler, "
        "tasks kept in flight",
    )
    sub.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: results/calibration); rerun to resume",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="start afresh in a folder holding another calibration (the old files kept in <folder>.previous)",
    )
