"""The command line: ``python run.py`` and the ``escalation-sim`` console script are this program.

Every problem with the user's input ends with exit code 2 and a message naming what was wrong,
never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.experiments.execution import ExecutorError, default_workers
from sim.inputs.errors import ResultsError, ScenarioError

if TYPE_CHECKING:
    from sim.experiments.ensemble import Ensemble
    from sim.model.scenario import Scenario

DEFAULT_COMPARISON = (
    "scenarios/jan2024_mediation_accepted.yaml",
    "scenarios/jan2024_mediation_refused.yaml",
    "scenarios/jan2024_no_mediator.yaml",
)
DEFAULT_COMPARISON_OUT = Path("results/default_comparison")
EXIT_USAGE = 2
RUN_SEED_MAX = 2**63 - 1
"""The largest seed of one run (the seed column of runs.csv holds 63-bit seeds)."""


class UsageError(Exception):
    """Bad input from the user: reported in one paragraph with exit code 2."""


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


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``--set key.path=value`` pairs; values are read as YAML, so 0.4 is a number.

    As in YAML 1.2, only ``true`` and ``false`` are booleans and only ``null`` and ``~`` are
    null: ``policy=no`` is the text 'no', not false.
    """
    from sim.inputs.loader import read_value

    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        shown = pair if len(pair) <= 60 else pair[:57] + "..."
        if not sep or not key:
            raise UsageError(
                f"--set {shown}: expected KEY.PATH=VALUE, such as actors.iran.pledge=0.1"
            )
        try:
            value = read_value(text)
        except ValueError as error:
            excerpt = text if len(text) <= 40 else text[:37] + "..."
            raise UsageError(f"--set {key}: the value '{excerpt}' is {error}") from None
        word = text.strip().lower()
        if isinstance(value, bool) and word not in ("true", "false"):
            value = text.strip()
        if value is None and word not in ("null", "~"):
            value = text.strip()
        overrides[key.strip()] = value
    return overrides


def _load(path: str, pairs: Sequence[str]) -> Scenario:
    """A scenario with its ``--set`` changes; a changed scenario is a variant with its own name
    (so its results never land in the base scenario's folder) unless ``--set name=`` gives one.
    """
    from sim.inputs.loader import load_scenario

    overrides = parse_overrides(pairs)
    scenario = load_scenario(path, overrides)
    if overrides and "name" not in overrides:
        scenario = variant(scenario, overrides)
    return scenario


def variant(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """The scenario renamed and described as a variant of itself by ``overrides``."""
    import hashlib
    import re

    changes = ", ".join(f"{key}={value}" for key, value in overrides.items())
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", changes.replace("=", "-").replace(", ", "_"))
    if len(scenario.name) + 2 + len(slug) > 100:
        slug = "set-" + hashlib.sha256(changes.encode()).hexdigest()[:10]
    name = f"{scenario.name[: 100 - 2 - len(slug)]}__{slug}"
    description = f"{scenario.description.strip()} Changed: {changes}.".strip()
    return scenario.model_copy(update={"name": name, "description": description})


def _example(text: str) -> str:
    return "examples:\n" + textwrap.indent(textwrap.dedent(text).strip(), "  ")


JSON_COMMANDS = ("validate", "run", "compare", "sweep", "backtest")
"""Commands whose summary --json prints as JSON (docs/results.md lists the keys)."""
EXIT_PARTIAL = 3
"""Exit code of a run or sweep that was interrupted after saving part of its results."""
EXIT_INTERRUPTED = 130
"""Exit code of a command interrupted before it saved anything."""


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escalation-sim",
        description="Simulate how an interstate crisis escalates or calms down. With no command, "
        "runs the default comparison (the January 2024 Iran-Pakistan crisis with mediation "
        f"accepted, refused, or no mediator) into {DEFAULT_COMPARISON_OUT}/.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_example("""
            python run.py
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

    def add_engine(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--engine", choices=("mesa", "fast"), help=argparse.SUPPRESS)

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
        add_engine(sub)
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
        type=_whole(0, RUN_SEED_MAX),
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
        "cluster (pip install '.[dask]')",
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
    add_engine(sub)
    sub.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: results/sweep_<scenario name>); rerun to resume",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="start afresh in a folder holding a different sweep (old files kept as .bak)",
    )
    add_set(sub)

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
        help="output folder (default: results/explain_<scenario name>)",
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
        default=Path("scenarios/cases"),
        help="folder of cases (default: scenarios/cases)",
    )
    sub.add_argument(
        "--runs", type=_whole(1), default=2000, metavar="N", help="runs per case (default 2000)"
    )
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
        help="output folder (default: results/backtest, replaced each time)",
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
        "schema", "print the reference of every scenario key (Markdown)", "python run.py schema"
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
        "--port", type=_whole(1), default=8765, metavar="N", help="port (default 8765)"
    )
    add_calibrate_parser(commands)
    return parser


def cmd_validate(args: argparse.Namespace) -> None:
    scenario = _load(args.scenario, args.overrides)
    print(f"ok: {args.scenario}")
    print(describe(scenario))
    if args.verbose:
        import yaml

        print("\nThe scenario fully resolved (extends and --set applied):")
        print(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False), end="")
    args.report = {
        "ok": True,
        "file": str(args.scenario),
        "scenario": scenario.name,
        "horizon": scenario.horizon,
        "states": list(scenario.actors),
        "resolved": scenario.model_dump(mode="json"),
    }


def describe(scenario: Scenario) -> str:
    """A one-screen summary of a scenario."""
    ladder = scenario.ladder
    start = f", from {scenario.start_date:%d %B %Y}" if scenario.start_date else ""
    mechanisms = scenario.mechanisms.model_dump()
    rounds = mechanisms.pop("rounds_per_day")
    off = [name for name, on in mechanisms.items() if not on]
    decision = ", ".join(f"{k} {v:g}" for k, v in scenario.decision.model_dump().items())
    lines = [
        f"{scenario.name}: {scenario.description.strip()}"
        if scenario.description
        else scenario.name,
        f"horizon {scenario.horizon} days{start}; {scenario.runs} runs, seed {scenario.seed}",
        f"ladder: {ladder.size} rungs, strikes from rung {ladder.strike_rung}, war at {ladder.war}",
        f"mechanisms: {'all on' if not off else 'off: ' + ', '.join(off)}; {rounds} rounds a day",
        f"decision: {decision}",
        "states:",
    ]
    for actor_id, state in scenario.actors.items():
        nuclear = ", nuclear-armed" if state.nuclear else ""
        lines.append(
            f"  {actor_id} ({state.name}{nuclear}): {_policy(state.retaliation)}; resolve "
            f"{_distribution(state.resolve.model_dump())}; cost {state.cost:g}; audience cost "
            f"{state.audience_cost:g}; pledge {state.pledge:g}; mediation {_policy(state.mediation)}"
        )
    lines.append("relations:")
    for relation in scenario.relations:
        a, b = relation.between
        lines.append(
            f"  {a}-{b}: baseline {relation.baseline} ({ladder.name(relation.baseline)}), "
            f"economic ties {relation.economic_ties:g}"
        )
    lines += ["armed groups:"] if scenario.armed_groups else []
    for group_id, group in scenario.armed_groups.items():
        sponsor = f", backed by {group.sponsor}" if group.sponsor else ""
        lines.append(
            f"  {group_id} ({group.name}): based in {group.host}, attacks "
            f"{group.target}{sponsor}, {group.daily_rate:g}/day"
        )
    lines += ["third parties:"] if scenario.third_parties else []
    for party_id, party in scenario.third_parties.items():
        leverage = ", ".join(f"{k} {v:g}" for k, v in party.leverage.items())
        talks = ""
        if party.mediation is not None:
            trigger = party.mediation.trigger_rung
            when = f"after acts at rung {trigger}" if trigger else "on set days"
            talks = f"; offers talks {when} to {', '.join(party.mediation.parties)}"
        lines.append(f"  {party_id} ({party.name}): leverage {leverage}{talks}")
    lines += ["events:"] if scenario.events else []
    for event in scenario.events:
        lines.append(f"  day {event.day}: {_event(event)}")
    uncertain = scenario.uncertainty
    if uncertain.active:
        lines.append(
            f"uncertain numbers ({uncertain.sets} parameter sets; each run takes one by its "
            "seed; the numbers above are medians):"
        )
        for key, distribution in uncertain.distributions.items():
            lines.append(f"  {key}: {_distribution(distribution.model_dump())}")
        for key, name in uncertain.from_profile.items():
            profile = uncertain.profiles[name]
            lines.append(
                f"  {key}: profile {name} ({len(profile.weights)} particles, {profile.source})"
            )
    return "\n".join(lines)


def _distribution(value: Any) -> str:
    if isinstance(value, dict):
        ((kind, params),) = value.items()
        return f"{kind}({', '.join(f'{p:g}' for p in params)})"
    return f"{value:g}"


def _event(event: Any) -> str:
    fields = event.model_dump(exclude={"day", "description", "type"}, exclude_defaults=True)
    detail = ", ".join(f"{k} {v}" for k, v in fields.items())
    return f"{event.type} ({detail})" + (f": {event.description}" if event.description else "")


def _policy(policy: Any) -> str:
    """'escalate (delay 2, step 1)': a policy's name and its parameters."""
    values = policy.model_dump(exclude={"policy"})
    params = ", ".join(f"{key} {value}" for key, value in values.items())
    return f"{policy.policy} ({params})" if params else policy.policy


def cmd_story(args: argparse.Namespace) -> None:
    from sim.analysis.story import run_story, tell
    from sim.files import folders
    from sim.views.plotting import story_figure

    if args.plot is not None and args.plot.suffix.lower() not in (".png", ".svg"):
        raise UsageError(
            f"--plot {args.plot}: expected a file name ending in .png or .svg, such as "
            "results/story.png (both formats are written)"
        )
    if args.source is not None:
        scenario, seed = _saved_run(args)
    else:
        if args.scenario is None:
            raise UsageError(
                "story needs a scenario file (story SCENARIO --seed N) or a saved run "
                "(story --from RESULTS --run N)"
            )
        if args.run is not None or args.which is not None:
            raise UsageError("--run and --which go with --from RESULTS")
        scenario = _load(args.scenario, args.overrides)
        seed = 0 if args.seed is None else args.seed
    model = run_story(scenario, seed)
    print(tell(model, seed))
    if args.plot is not None:
        figure = story_figure(model, seed)
        paths = [args.plot.with_suffix(".png"), args.plot.with_suffix(".svg")]
        if not os.path.isdir(args.plot.parent):
            raise UsageError(
                f"--plot {args.plot}: the folder {args.plot.parent} does not exist; create it "
                "first or choose another place"
            )
        try:
            for path in paths:
                folders.write_figure(figure, path, dpi=300)
        except OSError as error:
            raise UsageError(
                f"--plot {args.plot}: cannot write there ({error.strerror or error})"
            ) from None
        print(f"Story figure: {paths[0]} (300 dpi) and {paths[1]}")


def _saved_run(args: argparse.Namespace) -> tuple[Scenario, int]:
    """The scenario and seed of run ``--run`` of the ensemble saved in ``--from``."""
    from sim.files import results
    from sim.inputs.loader import scenario_from_mapping

    if args.scenario is not None or args.seed is not None or args.overrides:
        raise UsageError(
            "--from replays a saved run exactly: give no scenario file, --seed or --set with it"
        )
    if args.run is None:
        raise UsageError(f"--from {args.source}: say which run to replay with --run N")
    saved = results.load(args.source)
    ensembles = saved.ensembles
    names = [str(e["scenario"]["name"]) for e in ensembles]  # type: ignore[index]
    which = args.which or names[0]
    if which not in names:
        raise UsageError(
            f"--which {which}: {args.source} holds {', '.join(names)}; choose one of them"
        )
    mapping = ensembles[names.index(which)]["scenario"]
    rows = saved.runs[(saved.runs["scenario"] == which) & (saved.runs["run"] == args.run)]
    if rows.empty:
        count = int((saved.runs["scenario"] == which).sum())
        raise UsageError(f"--run {args.run}: {args.source} has runs 0 to {count - 1} of {which}")
    scenario = scenario_from_mapping(mapping, source=f"{args.source}/metadata.json")  # type: ignore[arg-type]
    return scenario, int(rows["seed"].iloc[0])


def _run_all(
    scenarios: list[Scenario],
    files: Sequence[str],
    args: argparse.Namespace,
    out: Path,
    force: bool,
) -> int:
    """Run the scenarios on the same run seeds (so a comparison is paired), save, and report.

    In a comparison, ``--target-halfwidth`` bounds the 95% CIs of the differences against the
    first scenario: runs are added to every scenario alike until they are that narrow. The
    folder is checked and locked before the first run, and the results reach it whole
    (``sim.files.folders.write_folder``); every message on an interrupt or a full disk says what was
    saved.
    """
    from sim.files import folders
    from sim.views import report

    _show_notes(args)
    _check_runs(args.runs)
    progress = not args.quiet and sys.stderr.isatty()
    seed = scenarios[0].seed if args.seed is None else args.seed
    table_format = getattr(args, "format", "csv")
    ensembles: list[Ensemble] = []
    folder = None
    try:
        with folders.write_folder(out, replace=force, table_format=table_format) as folder:
            ensembles = _ensembles(scenarios, files, args, seed, progress)
            saved = report.save(
                ensembles, folder, args.rungs, _provenance(args, files, ensembles, seed, out)
            )
    except KeyboardInterrupt:
        if folder is not None and folder.committed:
            print(f"Interrupted; the results were saved in full in {out}/", file=sys.stderr)
        elif ensembles:
            print(
                f"Interrupted while saving: the {_runs_made(ensembles)} computed were not "
                f"saved; {folders.unchanged(out)}.",
                file=sys.stderr,
            )
        else:
            print(
                f"Interrupted before any run finished; nothing was saved, and "
                f"{folders.unchanged(out)}.",
                file=sys.stderr,
            )
        args.report = {"ok": False, "error": "interrupted", "exit_code": EXIT_INTERRUPTED}
        return EXIT_INTERRUPTED
    except ResultsError as error:
        if not ensembles:
            raise
        raise ResultsError(
            f"{error}. Nothing was saved: {folders.unchanged(out)}, and the "
            f"{_runs_made(ensembles)} computed are lost; make room and run the same command "
            "again (same seed, same results)."
        ) from None
    if saved.figures_error is not None:
        print(
            f"note: the tables were saved but not the figures ({saved.figures_error}); draw "
            f"them when there is room with: python run.py plot {out}",
            file=sys.stderr,
        )
    for ensemble in ensembles:
        print(summary_text(ensemble, verbose=args.verbose))
    if saved.comparison is not None:
        print(comparison_text(saved.comparison))
    interrupted = ensembles[-1].interrupted
    if interrupted:
        ensemble = ensembles[-1]
        print(
            f"Interrupted: kept {ensemble.metadata['runs']:,} of "
            f"{ensemble.metadata['runs_requested']:,} runs of {ensemble.scenario.name}"
            f"{' (later scenarios not run)' if len(ensembles) < len(scenarios) else ''}; "
            f"saved in {out}/",
            file=sys.stderr,
        )
    print(f"Results in {out}/: " + ", ".join(saved.files))
    args.report = {
        "ok": True,
        "folder": str(out),
        "interrupted": interrupted,
        "ensembles": [
            {
                "scenario": e.scenario.name,
                "runs": e.metadata["runs"],
                "seed": e.metadata["seed"],
                "interrupted": e.interrupted,
                "summary": e.summary.to_dict("records"),
            }
            for e in ensembles
        ],
        "comparison": None if saved.comparison is None else saved.comparison.to_dict("records"),
        "files": saved.files,
    }
    return EXIT_PARTIAL if interrupted else 0


def _ensembles(
    scenarios: list[Scenario],
    files: Sequence[str],
    args: argparse.Namespace,
    seed: int,
    progress: bool,
) -> list[Ensemble]:
    """The ensembles of a run or comparison; on Ctrl-C, those finished (the last one marked
    interrupted), or KeyboardInterrupt if no run finished."""
    from sim.experiments.ensemble import run_ensemble

    overrides = parse_overrides(args.overrides)
    runs = args.runs
    per_scenario = args.target_halfwidth if len(scenarios) == 1 else None
    while True:
        ensembles: list[Ensemble] = []
        for scenario, path in zip(scenarios, files, strict=True):
            try:
                ensemble = run_ensemble(
                    scenario,
                    runs=runs,
                    seed=seed,
                    workers=args.workers or default_workers(),
                    target_halfwidth=per_scenario,
                    progress=progress,
                )
            except KeyboardInterrupt:
                if not ensembles:
                    raise
                ensembles[-1].metadata["interrupted"] = True  # the later scenarios never ran
                return ensembles
            if ensemble.metadata["target_met"] is False:
                print(
                    f"note: --target-halfwidth {per_scenario}: stopped at the cap of "
                    f"{ensemble.metadata['runs']:,} runs with the widest 95% CI half-width at "
                    f"{ensemble.metadata['halfwidth_reached']:.2%}; the target was not met",
                    file=sys.stderr,
                )
            ensemble.metadata["command"] = args.command_line
            ensemble.metadata["scenario_file"] = str(path)
            ensemble.metadata["overrides"] = overrides
            ensembles.append(ensemble)
            if ensemble.interrupted:
                break
        if len(scenarios) == 1 or args.target_halfwidth is None or ensembles[-1].interrupted:
            return ensembles
        more = _runs_for_halfwidth(ensembles, args.target_halfwidth)
        if more is None:
            return ensembles
        runs = more


def _check_runs(runs: int | None) -> None:
    """Refuse, before anything is allocated, more runs than one ensemble may have."""
    from sim.model.scenario import LIMITS

    if runs is not None and runs > LIMITS["runs"]:
        raise UsageError(
            f"--runs {runs}: at most {LIMITS['runs']:,} runs per ensemble; for more, run "
            "several ensembles with different --seed values (together they are one larger "
            "sample)"
        )


def _runs_made(ensembles: list[Ensemble]) -> str:
    total = sum(int(e.metadata["runs"]) for e in ensembles)
    return f"{total:,} run{'s' if total != 1 else ''}"


def _provenance(
    args: argparse.Namespace,
    files: Sequence[str],
    ensembles: list[Ensemble],
    seed: int,
    out: Path,
) -> dict[str, Any]:
    """How the results were made and the command that makes them again, exactly.

    The rerun asks for the runs that were made: an ensemble's first N runs are the same
    whatever N, so it gives the same tables (an interrupted comparison's later scenarios,
    with fewer runs, are the exception: its rerun completes them).
    """
    import shlex

    made = {int(e.metadata["runs"]) for e in ensembles}
    runs = made.pop() if len(made) == 1 else int(ensembles[0].metadata["runs_requested"])
    words = ["python", "run.py", "compare" if len(files) > 1 else "run", *map(str, files)]
    words += ["--runs", str(runs), "--seed", str(seed)]
    for pair in args.overrides:
        words += ["--set", pair]
    if args.rungs:
        words += ["--rungs", ",".join(map(str, args.rungs))]
    if getattr(args, "format", "csv") != "csv":
        words += ["--format", args.format]
    words += ["--out", str(out), "--force"]
    return {"rerun": shlex.join(words), "working_directory": os.getcwd()}


MAX_COMPARISON_RUNS = 1_000_000
"""The most runs per scenario that --target-halfwidth adds in a comparison."""


def _runs_for_halfwidth(ensembles: list[Ensemble], target: float) -> int | None:
    """Runs per scenario for the widest difference CI to reach ``target``; None when reached
    (or when the cap is reached, which is then said)."""
    import math

    import pandas as pd

    from sim.analysis import outcomes
    from sim.analysis import statistics as analysis

    scenario = ensembles[0].scenario
    table = analysis.compare_runs(
        pd.concat([e.runs for e in ensembles]), outcomes.for_scenario(scenario), scenario.horizon
    )
    probabilities = table[table["kind"] == "probability"]
    widest = float(((probabilities["ci_high"] - probabilities["ci_low"]) / 2).max())
    runs = ensembles[0].batch.runs
    for ensemble in ensembles:
        ensemble.metadata["difference_halfwidth_reached"] = widest
    if widest <= target:
        return None
    if runs >= MAX_COMPARISON_RUNS:
        print(
            f"note: --target-halfwidth {target}: the differences' widest 95% CI half-width is "
            f"{widest:.2%} at the cap of {MAX_COMPARISON_RUNS:,} runs per scenario; the "
            "target was not reached",
            file=sys.stderr,
        )
        return None
    needed = math.ceil(runs * (widest / target) ** 2 * 1.05)
    return min(max(needed, runs + 1), MAX_COMPARISON_RUNS)


def summary_text(ensemble: Ensemble, verbose: bool = False) -> str:
    meta = ensemble.metadata
    lines = [
        f"{ensemble.scenario.name}: {meta['runs']:,} runs (seed {meta['seed']}, "
        f"{meta['workers']} workers, {meta['wall_seconds']} s)"
    ]
    if verbose:
        versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        lines.append(f"  versions: {versions}")
        from sim.analysis.outcomes import for_scenario

        for found in for_scenario(ensemble.scenario):
            lines.append(f"  {found.name}: {found.definition}")
    for row in ensemble.summary.to_dict("records"):
        label = row["label"]
        if row["kind"] == "probability":
            lines.append(
                f"  {label:<66} {row['estimate']:6.1%}  (95% CI {row['ci_low']:.1%} to "
                f"{row['ci_high']:.1%})"
            )
        else:
            lines.append(
                f"  {label:<66} {_days(row['estimate']):>6}  (95% CI {_days(row['ci_low'])} "
                f"to {_days(row['ci_high'])})"
            )
    lines.append(
        f"  Widest 95% CI half-width of these probabilities: +-{meta['halfwidth_reached']:.1%}"
    )
    return "\n".join(lines)


def _days(value: float) -> str:
    if value != value:  # NaN: too few runs for an interval
        return "n/a"
    return "never" if value == float("inf") else f"{value:g} d"


def p_text(p: float) -> str:
    """'p < 0.001' for very small p-values, else 'p = 0.021'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def comparison_text(table: Any) -> str:
    """Each outcome of each scenario against the first: values, difference, CI, verdict."""
    lines = []
    for name, rows in table.groupby("scenario", sort=False):
        reference = rows["reference"].iloc[0]
        how = (
            "same seeds: compared run for run (paired)"
            if rows["paired"].all()
            else "different seeds: compared as independent samples"
        )
        lines.append(f"{name} against {reference} ({how}):")
        for row in rows.to_dict("records"):
            if row["kind"] == "probability":
                values = f"{row['value']:6.1%} vs {row['reference_value']:6.1%}"
                diff = (
                    f"{row['difference'] * 100:+.1f} points ({row['ci_low'] * 100:+.1f} to "
                    f"{row['ci_high'] * 100:+.1f})"
                )
            else:
                values = f"{_days(row['value']):>6} vs {_days(row['reference_value']):>6}"
                diff = f"{row['difference']:+g} d ({row['ci_low']:+g} to {row['ci_high']:+g})"
            verdict = row["verdict"]
            if verdict != "no detectable difference":
                verdict = f"{verdict} in {name}"
            else:
                verdict = "no detectable difference at this number of runs"
            lines.append(
                f"  {row['label']:<66} {values}  {diff}, {p_text(row['p_value'])}: {verdict}"
            )
    return "\n".join(lines)


def _check_rungs(rungs: list[int] | None, war: int) -> None:
    bad = [rung for rung in rungs or [] if not 1 <= rung <= war]
    if bad:
        raise UsageError(
            f"--rungs: {', '.join(map(str, bad))} not on the ladder; choose rungs from 1 to {war}"
        )


def cmd_run(args: argparse.Namespace) -> int:
    scenario = _load(args.scenario, args.overrides)
    _check_rungs(args.rungs, scenario.ladder.war)
    out = args.out or Path("results") / scenario.name
    return _run_all([scenario], [args.scenario], args, out, args.force)


def cmd_compare(args: argparse.Namespace) -> int:
    if len(args.scenarios) < 2:
        raise UsageError("compare needs at least two scenario files")
    scenarios = [_load(path, args.overrides) for path in args.scenarios]
    _check_rungs(args.rungs, min(s.ladder.war for s in scenarios))
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names):
        raise UsageError(f"compare needs scenarios with different names, got {', '.join(names)}")
    _check_comparable(args.scenarios, scenarios)
    default_out = Path("results") / ("compare_" + "_vs_".join(names))
    return _run_all(scenarios, args.scenarios, args, args.out or default_out, args.force)


def _check_comparable(paths: Sequence[str], scenarios: list[Scenario]) -> None:
    """Scenarios compared day by day need the same days and the same ladder."""
    first = scenarios[0]
    for path, other in zip(paths[1:], scenarios[1:], strict=True):
        if other.horizon != first.horizon:
            raise UsageError(
                f"{path}: its horizon is {other.horizon} days but {paths[0]}'s is "
                f"{first.horizon}; compared scenarios need the same horizon (change one with "
                f"--set horizon={first.horizon})"
            )
        if other.ladder != first.ladder:
            raise UsageError(
                f"{path}: its ladder differs from {paths[0]}'s; compared scenarios need the same "
                "ladder (rungs, targets and strike rung), so that rung k means the same in both"
            )


def cmd_default(args: argparse.Namespace) -> int:
    from sim.inputs.loader import load_scenario

    missing = [path for path in DEFAULT_COMPARISON if not Path(path).exists()]
    if missing:
        raise UsageError(
            f"the default comparison needs {', '.join(missing)}; run it from the "
            "project folder, or use 'compare' with your own scenario files"
        )
    scenarios = [load_scenario(path) for path in DEFAULT_COMPARISON]
    out = args.out or DEFAULT_COMPARISON_OUT
    if out == DEFAULT_COMPARISON_OUT and out.exists():
        print(f"Replacing the previous default comparison in {out}/")
    options = argparse.Namespace(**vars(args), overrides=[], target_halfwidth=None, rungs=None)
    code = _run_all(
        scenarios, DEFAULT_COMPARISON, options, out, force=out == DEFAULT_COMPARISON_OUT
    )
    args.report = options.report
    return code


DEFAULT_SWEEP_OUTCOMES = ("answer_7d", "forces_30d", "war")
"""What a sweep records unless told otherwise (the 30-day one only with a long enough horizon)."""


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.analysis.outcomes import outcome
    from sim.experiments import designs, sweep
    from sim.experiments.ensemble import PointEvaluator
    from sim.inputs.loader import load_scenario, read_sweep_block
    from sim.views import sweep_plots

    _show_notes(args)
    scenario = _load(args.scenario, args.overrides)
    block = read_sweep_block(args.scenario)
    # the design is known before the definition checks its parameters against it
    chosen = {k: getattr(args, k) for k in ("design", "samples") if getattr(args, k) is not None}
    try:
        if args.params:
            definition = sweep.SweepDefinition(parameters=sweep.parse_params(args.params), **chosen)
        elif block is not None:
            definition = sweep.parse_sweep_block(block, chosen=chosen)
        else:
            raise UsageError(
                f"{args.scenario} has no sweep: block; say what to vary with --param KEY.PATH=SPEC"
            )
        changes = {
            key: getattr(args, key) for key in ("runs", "seed") if getattr(args, key) is not None
        }
        if args.outcomes:
            changes["outcomes"] = tuple(args.outcomes)
        if args.params or block is None:
            changes.setdefault("runs", scenario.runs)
            changes.setdefault("seed", scenario.seed)
        if not (args.outcomes or definition.outcomes):
            changes["outcomes"] = tuple(
                name
                for name in DEFAULT_SWEEP_OUTCOMES
                if name != "forces_30d" or scenario.horizon >= 30
            )
        changes["context"] = {"scenario": scenario.model_dump(mode="json")}
        definition = dataclasses.replace(definition, **changes)
        points = definition.points().points
    except designs.SweepError as error:
        raise UsageError(str(error)) from None
    for name in definition.outcomes:
        try:
            outcome(name, scenario.horizon, scenario.ladder.war, list(scenario.actors))
        except ValueError as error:
            raise UsageError(f"--outcome: {error}") from None
    for point in points[:: max(1, len(points) // 64)]:
        try:
            load_scenario(args.scenario, {**parse_overrides(args.overrides), **point})
        except ScenarioError as error:
            raise UsageError(str(error).replace("--set ", "--param ")) from None
    evaluator = PointEvaluator(
        scenario=scenario.model_dump(mode="json"),
        outcomes=tuple(definition.outcomes),
        source=str(args.scenario),
    )
    out = args.out or Path("results") / f"sweep_{scenario.name}"
    try:
        summary = sweep.run_sweep(
            definition,
            evaluator,
            out,
            executor=args.executor,
            workers=args.workers or default_workers(),
            scheduler=args.scheduler,
            force=args.force,
            progress=not args.quiet and sys.stderr.isatty(),
            metadata={"command": args.command_line, "scenario_file": str(args.scenario)},
        )
    except designs.SweepError as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        stored = sweep.stored_points(out)
        saved = (
            f"{stored} of {len(points)} points are stored in {out}/ (sweep.csv lists them); "
            "rerun the same command to resume"
            if stored
            else f"no point had finished, so nothing was stored in {out}/"
        )
        print(f"Interrupted: {saved}.", file=sys.stderr)
        code = EXIT_PARTIAL if stored else EXIT_INTERRUPTED
        args.report = {
            "ok": False,
            "interrupted": True,
            "folder": str(out),
            "stored_points": stored,
            "exit_code": code,
        }
        return code
    print(summary.message())
    results_table = sweep.load_results(out)
    indices = {}
    if summary.complete and definition.design in ("sobol", "morris") and not summary.failed:
        for name in definition.outcomes:
            try:
                indices[name] = sweep.analyze_sweep(definition, results_table, name)
            except designs.SweepError as error:
                print(f"note: no {definition.design} indices of {name}: {error}", file=sys.stderr)
                continue
            indices[name].to_csv(out / f"{definition.design}_{name}.csv")
            if results_table[name].nunique() == 1:
                print(
                    f"{name} is {results_table[name].iloc[0]:.3f} at every design point: "
                    "there is no sensitivity to measure."
                )
                continue
            print(f"{definition.design} indices of {name}:")
            print(indices[name].round(3).to_string())
        print(designs.index_warning(definition, results_table, indices), end="")
    try:
        figures = sweep_plots.draw_sweep(results_table, out, indices=indices or None)
    except OSError as error:
        from sim.files.folders import disk_reason

        print(
            f"note: the figures were not drawn ({disk_reason(error)}); sweep.csv holds every "
            "result",
            file=sys.stderr,
        )
        figures = []
    print(
        f"Results in {out}/: sweep.csv, metadata.json, " + ", ".join(path.name for path in figures)
    )
    args.report = {
        "ok": True,
        "folder": str(out),
        "points": summary.total,
        "evaluated": summary.evaluated,
        "skipped": summary.skipped,
        "failed": summary.failed,
        "complete": summary.complete,
        "indices": {
            name: table.reset_index().to_dict("records") for name, table in indices.items()
        },
        "files": ["sweep.csv", "metadata.json", *(path.name for path in figures)],
    }
    return 0


def _show_notes(args: argparse.Namespace) -> None:
    """The library's notes (``logging`` under ``sim``) on stderr as ``note: ...``: warnings
    (a stale lock taken over, say) always, details (such as fewer workers than asked for)
    with -v, nothing with -q."""
    import logging

    class Notes(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            print(f"note: {record.getMessage()}", file=sys.stderr)  # the stderr of the moment

    logger = logging.getLogger("sim")
    for old in [h for h in logger.handlers if h.get_name() == "sim.cli.commands"]:
        logger.removeHandler(old)
    handler = Notes()
    handler.set_name("sim.cli.commands")
    logger.addHandler(handler)
    logger.setLevel(
        logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    )


def cmd_plot(args: argparse.Namespace) -> None:
    from sim.files import folders, results
    from sim.views import report

    if not os.path.isdir(args.folder):
        raise ResultsError(f"{folders.shown(args.folder)} is not a folder")
    with folders.folder_lock(folders.real_path(args.folder), args.folder):
        saved = results.load(args.folder)
        _check_rungs(args.rungs, saved.war)
        written = report.draw(saved, args.rungs)
    print(f"Redrew {', '.join(path.name for path in written)} in {args.folder}/")


def cmd_explain(args: argparse.Namespace) -> None:
    from sim.analysis import explain
    from sim.files import folders, results
    from sim.inputs.loader import scenario_from_mapping
    from sim.views import plotting

    saved = results.load(args.folder)
    names = [str(e["scenario"]["name"]) for e in saved.ensembles]  # type: ignore[index]
    which = args.which or names[0]
    if which not in names:
        raise UsageError(f"--which {which}: {args.folder} holds {', '.join(names)}; choose one")
    mapping = saved.ensembles[names.index(which)]["scenario"]
    scenario = scenario_from_mapping(mapping, source=f"{args.folder}/metadata.json")  # type: ignore[arg-type]
    rung = args.rung if args.rung is not None else explain.default_rung(scenario)
    if rung > scenario.ladder.war:
        raise UsageError(f"--rung {rung}: the ladder's top rung (war) is {scenario.ladder.war}")
    runs = saved.runs[saved.runs["scenario"] == which]
    reached = runs[runs["highest_rung"] >= rung]
    # the highest posture can stay below an act that was answered at once; replay every run
    # that came within one rung of it, and keep those whose acts reached it
    candidates = runs[runs["highest_rung"] >= rung - 1] if reached.empty else reached
    found = explain.climbs(scenario, candidates["seed"].tolist(), candidates["run"].tolist(), rung)
    if not found:
        raise UsageError(
            f"no run of {which} in {args.folder} acted at rung {rung} "
            f"('{scenario.ladder.name(rung)}') or higher; choose a lower --rung"
        )
    table = explain.summary(found, len(runs))
    out = args.out or Path("results") / f"explain_{which}"
    with folders.write_folder(out, replace=True) as folder:
        folder.table(pd_frame([vars(c) for c in found]), "climbs")
        folder.table(table, "causes")
        figure = plotting.explain_figure(table, which, scenario.ladder.name(rung), len(runs))
        for suffix in (".png", ".svg"):
            folder.figure(figure, f"causes{suffix}")
    print(
        f"{which}: {len(found):,} of {len(runs):,} runs acted at rung {rung} "
        f"('{scenario.ladder.name(rung)}') or higher. What started the climb:"
    )
    for row in table.to_dict("records"):
        if row["runs"]:
            print(
                f"  {row['cause']:<22} {row['share']:6.1%}  (95% CI {row['ci_low']:.1%} to "
                f"{row['ci_high']:.1%}; {row['runs']:,} run{'' if row['runs'] == 1 else 's'})"
            )
    print("Three runs to replay as stories:")
    shown = list(dict.fromkeys(c.cause for c in found))[:3]
    examples = [next(c for c in found if c.cause == cause) for cause in shown]
    examples += [c for c in found if c not in examples][: 3 - len(examples)]
    for climb in examples:
        print(
            f"  {climb.cause}: run {climb.run}, day {climb.day}: {climb.text}\n"
            f"    python run.py story --from {args.folder} --run {climb.run}"
            + (f" --which {which}" if args.which else "")
        )
    print(f"Results in {out}/: climbs.csv, causes.csv, causes.png, causes.svg")


def pd_frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows)


def cmd_backtest(args: argparse.Namespace) -> None:
    import time

    from sim.experiments import backtest
    from sim.files import folders
    from sim.views import backtest_plots

    _check_runs(args.runs)
    cases = backtest.load_library(args.cases)
    out = args.out
    with folders.write_folder(out, replace=True) as folder:
        clock = time.perf_counter()
        workers = args.workers or default_workers()
        table = backtest.score(backtest.forecasts(cases, args.runs, workers))
        scores = backtest.summary(table)
        reliability = backtest.reliability(table)
        meta = {
            "cases_folder": str(args.cases),
            "cases": [case.name for case in cases],
            "runs_per_case": args.runs,
            "wall_seconds": round(time.perf_counter() - clock, 3),
            "command": args.command_line,
        }
        folder.table(table, "items")
        folder.table(scores, "scores")
        folder.table(reliability, "reliability")
        figure = backtest_plots.backtest_figure(table, reliability, scores)
        for suffix in (".png", ".svg"):
            folder.figure(figure, f"backtest{suffix}")
        data = backtest.as_json(table, scores, meta)
        folder.json(data, "backtest.json")
    args.report = {"ok": True, "folder": str(out), **data}
    print(
        f"Backtest of {len(cases)} cases in {args.cases}/, {args.runs:,} runs each "
        f"({meta['wall_seconds']} s). Brier score: lower is better; skill above 0 beats the "
        "reference."
    )
    print(
        f"  {'item':<20} {'cases':>5} {'happened':>8} {'Brier':>7} {'log':>6} {'vs coin':>8} {'vs base rate':>13}"
    )
    for row in scores.to_dict("records"):
        print(
            f"  {row['item']:<20} {row['cases']:>5} {row['happened']:>8} {row['brier']:7.3f} "
            f"{row['log_score']:6.2f} {_skill(row['skill_vs_coin']):>8} "
            f"{_skill(row['skill_vs_base_rate']):>13}"
        )
    if scores["skill_vs_base_rate"].isna().any():
        print("  n/a: the base rate was right every time (a Brier score of 0 cannot be beaten)")
    print(
        f"Results in {out}/: items.csv, scores.csv, reliability.csv, backtest.json, backtest.png, backtest.svg"
    )


def _skill(value: float) -> str:
    return "n/a" if value != value else f"{value:+.2f}"


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
        default=Path("scenarios/cases"),
        help="folder of cases, laid out as for backtest (default: scenarios/cases)",
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
        "(pip install '.[dask]'); the result is the same",
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
        help="start afresh in a folder holding another calibration (old files kept as .bak)",
    )


def cmd_calibrate(args: argparse.Namespace) -> int:
    try:
        from sim.experiments import calibrate
    except ImportError as error:
        raise UsageError(
            f"calibrate needs the package pyabc, which is not installed ({error}); install it "
            "into the virtual environment with .venv/bin/pip install pyabc"
        ) from None
    from sim.experiments.execution import ExecutorError, executor

    if args.scheduler is not None and args.executor != "dask":
        raise UsageError("--scheduler is only used with --executor dask")
    base = calibrate.DEFAULT_CV_SETTINGS if args.cross_validate else calibrate.DEFAULT_SETTINGS
    settings = calibrate.Settings(
        populations=args.populations or base.populations,
        particles=args.particles or base.particles,
        runs=args.runs or base.runs,
        seed=args.seed,
    )
    out = args.out or (calibrate.DEFAULT_CV_OUT if args.cross_validate else calibrate.DEFAULT_OUT)
    library = calibrate.load(args.cases)
    workers = args.workers or default_workers()
    report = calibrate.echo(args.quiet)
    try:
        with executor(workers, args.scheduler, kind=args.executor) as pool:
            if args.cross_validate:
                data = calibrate.run_cross_validation(
                    library,
                    out,
                    settings,
                    pool,
                    workers,
                    args.check_runs,
                    force=args.force,
                    report=report,
                    command=args.command_line,
                )
            else:
                posterior = calibrate.calibrate(
                    library,
                    out,
                    settings,
                    pool,
                    workers,
                    force=args.force,
                    report=report,
                    command=args.command_line,
                )
                if report is not None:
                    report(f"scoring the posterior: {args.check_runs:,} runs of each case")
                data = calibrate.write_calibration(out, library, posterior, pool, args.check_runs)
    except ExecutorError as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        stored = calibrate.stored_generations(out)
        print(
            f"Interrupted: {stored} finished generation(s) are stored in {out}/; rerun the same "
            "command to resume.",
            file=sys.stderr,
        )
        args.report = {
            "ok": False,
            "interrupted": True,
            "folder": str(out),
            "stored_generations": stored,
        }
        return EXIT_PARTIAL if stored else EXIT_INTERRUPTED
    args.report = {"ok": True, "folder": str(out), **data}
    print(calibrate.describe(data, out))
    return 0


def cmd_outcomes(args: argparse.Namespace) -> None:
    from sim.analysis import outcomes

    print(textwrap.dedent(outcomes.__doc__ or "").strip())


def cmd_completion(args: argparse.Namespace) -> None:
    """A static script generated from the parser: completing never runs the program."""
    import shtab

    print(shtab.complete(build_parser(), shell=args.shell), end="")


def cmd_schema(args: argparse.Namespace) -> None:
    from sim.inputs.schema_doc import scenario_reference

    print(scenario_reference(), end="")


DASHBOARD_MODULES = ("solara", "solara_assets", "altair")
"""Modules of the dashboard extra; without solara_assets the page would need the internet."""


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def cmd_dashboard(args: argparse.Namespace) -> None:
    """Serve ``sim.views.dashboard`` with ``solara run``, in production mode, until Ctrl-C."""
    import importlib.util
    import subprocess

    missing = [name for name in DASHBOARD_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            "the dashboard needs the packages of the optional 'dashboard' extra (missing: "
            f"{', '.join(missing)}). Install them from the project folder with "
            'pip install ".[dashboard]" (into the virtual environment: .venv/bin/pip install '
            '".[dashboard]"), then run python run.py dashboard again.'
        )
    missing_files = [str(path) for path in args.scenarios if not path.is_file()]
    if missing_files:
        raise UsageError(f"no such scenario file: {', '.join(missing_files)}")
    if not args.scenarios and not Path("scenarios").is_dir():
        raise UsageError(
            "the dashboard lists the scenario files in scenarios/, and there is no such folder "
            f"here ({Path.cwd()}); run it from the project folder, or name scenario files"
        )
    if args.host not in LOCAL_HOSTS:
        print(
            f"warning: --host {args.host} serves the dashboard beyond this machine: anyone who "
            f"can reach this computer on port {args.port} can open it and run simulations on "
            "it, with no password. Use the default --host 127.0.0.1 to keep it to this computer.",
            file=sys.stderr,
        )
    command = [sys.executable, "-m", "solara", "run", "sim.views.dashboard", "--host", args.host]
    command += ["--port", str(args.port), "--production", "--no-check-version"]
    env = {
        **os.environ,
        # Solara's start-up telemetry fires before the dashboard module can turn it off
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_THEME_SHOW_BANNER": "False",
    }
    if args.scenarios:
        env["ESCALATION_SIM_SCENARIOS"] = os.pathsep.join(str(p.resolve()) for p in args.scenarios)
    try:
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return
    if code != 0:
        raise UsageError(
            f"the dashboard server stopped with exit code {code} (see its message above); if "
            f"port {args.port} is already in use, choose another with --port"
        )


COMMANDS = {
    "validate": cmd_validate,
    "story": cmd_story,
    "run": cmd_run,
    "compare": cmd_compare,
    "plot": cmd_plot,
    "sweep": cmd_sweep,
    "explain": cmd_explain,
    "backtest": cmd_backtest,
    "calibrate": cmd_calibrate,
    "outcomes": cmd_outcomes,
    "completion": cmd_completion,
    "schema": cmd_schema,
    "dashboard": cmd_dashboard,
}


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; a stopped pool's stuck thread never keeps it from exiting."""
    code = _main(argv)
    from sim.experiments import execution

    if argv is None and execution.abandoned_threads():  # as a program, not called in-process
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.command_line = ["run.py", *argv]
    args.report = None
    if getattr(args, "engine", None):
        print(
            "note: --engine is no longer needed and is ignored: there is one engine, which runs "
            "many runs at once (docs/model.md)",
            file=sys.stderr,
        )
    command = COMMANDS.get(args.command, cmd_default)
    as_json = getattr(args, "json", False)
    stdout = sys.stdout
    if args.quiet or as_json:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - closed below
    code = 0
    try:
        code = command(args) or 0
    except (ScenarioError, UsageError, ResultsError, ExecutorError) as error:
        code = EXIT_USAGE
        args.report = {"ok": False, "error": str(error), "exit_code": code}
        if isinstance(error, ScenarioError):
            args.report["problems"] = [vars(p) for p in error.problems]
        print(f"error: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
        args.report = {"ok": False, "error": "interrupted; nothing was saved", "exit_code": code}
        print("Interrupted before any result was saved; nothing was written.", file=sys.stderr)
    except BrokenPipeError:
        # the reader (e.g. `| head`) left; everything was already saved, so leave quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
    finally:
        if sys.stdout is not stdout:
            sys.stdout.close()
            sys.stdout = stdout
    if as_json and args.report is not None:
        import json

        try:
            print(json.dumps(args.report, indent=2, default=str), flush=True)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code
