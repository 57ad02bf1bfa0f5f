"""The everyday commands: validate, story, run, compare, plot, explain and the references
(outcomes, schema, completion); ``python run.py`` and ``escalation-sim`` are ``sim.cli.main``.

Every problem with the user's input ends with exit code 2 and a message naming what was wrong,
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.parser import DEFAULT_COMPARISON, DEFAULT_COMPARISON_OUT, build_parser
from sim.experiments.execution import default_workers
from sim.inputs.errors import ResultsError
from sim.views.text import chosen_outcomes, describe, results_text, story_brief

if TYPE_CHECKING:
    from sim.experiments.ensemble import Ensemble
    from sim.model.scenario import Scenario

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user: reported in one paragraph with exit code 2."""


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``--set key.path=value`` pairs; values are read as YAML, so 0.4 is a number.

    As in YAML 1.2, only ``true`` and ``false`` are booleans and only ``null`` and ``~`` are
    null: ``policy=no`` is the text 'no', not false.
    """
    from sim.inputs.yaml_files import read_value

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


def load_with_overrides(path: str, pairs: Sequence[str]) -> Scenario:
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


EXIT_PARTIAL = 3
"""Exit code of a run or sweep that was interrupted after saving part of its results."""
EXIT_INTERRUPTED = 130
"""Exit code of a command interrupted before it saved anything."""


def cmd_validate(args: argparse.Namespace) -> None:
    scenario = load_with_overrides(args.scenario, args.overrides)
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


def cmd_story(args: argparse.Namespace) -> None:
    from sim.analysis.story import run_story, tell
    from sim.files import folders
    from sim.views.plotting import story_figure

    if args.plot is not None and args.plot.suffix.lower() not in (".png", ".svg"):
        raise UsageError(
            f"--plot {args.plot}: expected a file name ending in .png or .svg, such as "
            "results/story.png (both formats are written)"
        )
    if args.plot is not None:  # checked before the story is told: a refusal costs nothing
        try:
            folders.check_loose_files(args.plot)
        except ResultsError as error:
            raise UsageError(f"--plot {args.plot}: {error}") from None
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
        scenario = load_with_overrides(args.scenario, args.overrides)
        seed = 0 if args.seed is None else args.seed
    _chosen(args, scenario)
    model = run_story(scenario, seed)
    print(tell(model, seed) if args.full else story_brief(model, seed, args.shown))
    if args.plot is not None:
        figure = story_figure(model, seed)
        paths = [args.plot.with_suffix(".png"), args.plot.with_suffix(".svg")]
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
    from sim.experiments.ensemble import LARGE_TABLE, runs_csv_bytes
    from sim.files import folders
    from sim.views import report
    from sim.views.text import large_table_text

    show_notes(args)
    check_runs(args.runs)
    _chosen(args, scenarios[0])
    progress = not args.quiet and sys.stderr.isatty()
    seed = scenarios[0].seed if args.seed is None else args.seed
    table_format = getattr(args, "format", "csv")
    if (
        table_format == "csv"
        and (size := sum(runs_csv_bytes(s, args.runs or s.runs) for s in scenarios)) > LARGE_TABLE
    ):  # said before the runs start
        print(f"note: {large_table_text(size)}", file=sys.stderr)
    ensembles: list[Ensemble] = []
    folder = None
    try:
        names = [scenario.name for scenario in scenarios]

        def same_scenarios(record: dict[str, Any]) -> bool:
            held = [e.get("scenario", {}).get("name") for e in record.get("ensembles", [])]
            return held == names

        with folders.write_folder(
            out,
            replace=force,
            table_format=table_format,
            kind="comparison" if len(scenarios) > 1 else "ensemble",
            same=same_scenarios,
        ) as folder:
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
    print(results_text(ensembles, saved.comparison, args.shown, args.full, args.verbose))
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


def _chosen(args: argparse.Namespace, scenario: Scenario) -> list[str]:
    """The outcomes ``--outcomes`` asks for, checked before anything runs (exit 2 if unknown)."""
    from sim.analysis.outcomes import for_scenario

    names = [o.name for o in for_scenario(scenario)]
    try:
        return chosen_outcomes(names, args.shown, f"the summary of {scenario.name}")
    except ValueError as error:
        raise UsageError(str(error)) from None


def check_runs(runs: int | None) -> None:
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


def _runs_for_halfwidth(ensembles: list[Ensemble], target: float) -> int | None:
    """Runs per scenario for the widest difference CI to reach ``target``; None when reached
    (or when the cap is reached, which is then said)."""
    from sim.experiments.ensemble import MAX_TARGET_RUNS, runs_to_reach, widest_difference

    widest = widest_difference(ensembles)
    runs = ensembles[0].batch.runs
    for ensemble in ensembles:
        ensemble.metadata["difference_halfwidth_reached"] = widest
    if widest > target and runs >= MAX_TARGET_RUNS:
        print(
            f"note: --target-halfwidth {target}: the differences' widest 95% CI half-width is "
            f"{widest:.2%} at the cap of {MAX_TARGET_RUNS:,} runs per scenario; the "
            "target was not reached",
            file=sys.stderr,
        )
    return runs_to_reach(runs, widest, target, MAX_TARGET_RUNS)


def _check_rungs(rungs: list[int] | None, war: int) -> None:
    bad = [rung for rung in rungs or [] if not 1 <= rung <= war]
    if bad:
        raise UsageError(
            f"--rungs: {', '.join(map(str, bad))} not on the ladder; choose rungs from 1 to {war}"
        )


def cmd_run(args: argparse.Namespace) -> int:
    scenario = load_with_overrides(args.scenario, args.overrides)
    _check_rungs(args.rungs, scenario.ladder.war)
    out = args.out or Path("results") / scenario.name
    return _run_all([scenario], [args.scenario], args, out, args.force)


def cmd_compare(args: argparse.Namespace) -> int:
    if len(args.scenarios) < 2:
        raise UsageError("compare needs at least two scenario files")
    scenarios = [load_with_overrides(path, args.overrides) for path in args.scenarios]
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
    from sim.files.shipped import as_typed, shipped
    from sim.inputs.loader import load_scenario

    paths = [as_typed(shipped("scenarios", name)) for name in DEFAULT_COMPARISON]
    scenarios = [load_scenario(path) for path in paths]
    out = args.out or DEFAULT_COMPARISON_OUT
    if out == DEFAULT_COMPARISON_OUT and out.exists():
        print(f"Replacing the previous default comparison in {out}/")
    options = argparse.Namespace(**vars(args), overrides=[], target_halfwidth=None, rungs=None)
    code = _run_all(scenarios, paths, options, out, force=out == DEFAULT_COMPARISON_OUT)
    args.report = options.report
    return code


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
    import pandas as pd

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
    with folders.write_folder(out, replace=args.force, kind="explain") as folder:
        folder.table(pd.DataFrame([vars(c) for c in found]), "climbs")
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


def cmd_outcomes(args: argparse.Namespace) -> None:
    from sim.analysis import outcomes

    print(textwrap.dedent(outcomes.__doc__ or "").strip())


def cmd_completion(args: argparse.Namespace) -> None:
    """A static script generated from the parser: completing never runs the program."""
    import shtab

    print(shtab.complete(build_parser(), shell=args.shell), end="")


def cmd_schema(args: argparse.Namespace) -> None:
    from sim.inputs.json_schema import scenario_json_schema, schema_text

    args.report = scenario_json_schema() if getattr(args, "json", False) else None
    print(schema_text(args.json_schema), end="")


def show_notes(args: argparse.Namespace) -> None:
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
