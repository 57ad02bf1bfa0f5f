"""The command line: ``python run.py`` and the ``escalation-sim`` console script are this program.

Every problem with the user's input ends with exit code 2 and a message naming what was wrong,
never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.parser import (
    DEFAULT_COMPARISON,
    DEFAULT_COMPARISON_OUT,
    DEFAULT_SWEEP_OUTCOMES,
    build_parser,
)
from sim.experiments.execution import ExecutorError, default_workers
from sim.inputs.errors import ResultsError, ScenarioError
from sim.views.text import comparison_text, describe, summary_text

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


EXIT_PARTIAL = 3
"""Exit code of a run or sweep that was interrupted after saving part of its results."""
EXIT_INTERRUPTED = 130
"""Exit code of a command interrupted before it saved anything."""


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


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.analysis.outcomes import outcome
    from sim.experiments import (
        axes,
        sensitivity,
        sweep_definition,
        sweep_execution,
        sweep_store,
    )
    from sim.experiments.ensemble import PointEvaluator
    from sim.experiments.sweep import analyze_sweep
    from sim.inputs.loader import load_scenario, read_sweep_block
    from sim.views import sweep_plots

    _show_notes(args)
    scenario = _load(args.scenario, args.overrides)
    block = read_sweep_block(args.scenario)
    # the design is known before the definition checks its parameters against it
    chosen = {k: getattr(args, k) for k in ("design", "samples") if getattr(args, k) is not None}
    try:
        if args.params:
            definition = sweep_definition.SweepDefinition(
                parameters=sweep_definition.parse_params(args.params), **chosen
            )
        elif block is not None:
            definition = sweep_definition.parse_sweep_block(block, chosen=chosen)
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
    except axes.SweepError as error:
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
        summary = sweep_execution.run_sweep(
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
    except axes.SweepError as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        stored = sweep_store.stored_points(out)
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
    results_table = sweep_store.load_results(out)
    indices = {}
    if summary.complete and definition.design in ("sobol", "morris") and not summary.failed:
        for name in definition.outcomes:
            try:
                indices[name] = analyze_sweep(definition, results_table, name)
            except axes.SweepError as error:
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
        print(sensitivity.index_warning(definition, results_table, indices), end="")
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
    with folders.write_folder(out, replace=args.force, kind="explain") as folder:
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
    from sim.views.text import backtest_text

    _check_runs(args.runs)
    cases = backtest.load_library(args.cases)
    out = args.out
    files = [
        "items.csv",
        "scores.csv",
        "trajectory.csv",
        "timing.csv",
        "reliability.csv",
        "backtest.json",
        "backtest.png",
        "backtest.svg",
        "trajectory.png",
        "trajectory.svg",
    ]
    with folders.write_folder(out, replace=args.force, kind="backtest") as folder:
        clock = time.perf_counter()
        workers = args.workers or default_workers()
        result = backtest.evaluate(
            cases,
            backtest.run_library(cases, args.runs, workers),
            backtest.external_rates(),
        )
        meta = {
            "cases_folder": str(args.cases),
            "cases": [case.name for case in cases],
            "runs_per_case": args.runs,
            "wall_seconds": round(time.perf_counter() - clock, 3),
            "command": args.command_line,
        }
        folder.table(result.items, "items")
        folder.table(result.scores, "scores")
        folder.table(result.trajectory, "trajectory")
        folder.table(result.timing, "timing")
        folder.table(result.reliability, "reliability")
        figure = backtest_plots.backtest_figure(result.items, result.reliability, result.scores)
        classes = backtest_plots.trajectory_figure(result.trajectory, result.scores)
        for suffix in (".png", ".svg"):
            folder.figure(figure, f"backtest{suffix}")
            folder.figure(classes, f"trajectory{suffix}")
        data = backtest.as_json(result, None, meta)
        folder.json(data, "backtest.json")
    args.report = {"ok": True, "folder": str(out), **data}
    print(
        f"Backtest of {len(cases)} cases in {args.cases}/, {args.runs:,} runs each "
        f"({meta['wall_seconds']} s). Lower scores are better; skill above 0 beats the "
        "reference; [a, b]: 95% interval from resampling whole cases."
    )
    print(backtest_text(result))
    print(f"Results in {out}/: {', '.join(files)}")


def cmd_calibrate(args: argparse.Namespace) -> int:
    try:
        from sim.experiments import calibrate, calibration_cases, cross_validation
    except ImportError as error:
        raise UsageError(
            f"calibrate needs the package pyabc, which is not installed ({error}); install it "
            "into the virtual environment with .venv/bin/pip install pyabc"
        ) from None
    from sim.experiments.execution import ExecutorError, executor
    from sim.files import folders
    from sim.views import calibrate_plots

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
    library = calibration_cases.load(args.cases)
    workers = args.workers or default_workers()
    report = calibrate.echo(args.quiet)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"--out {out}: cannot make its folder ({folders.disk_reason(error)})"
        ) from None
    try:
        # one calibration at a time in a folder: the same lock as every other command's
        with (
            folders.folder_lock(folders.real_path(out), out),
            executor(workers, args.scheduler, kind=args.executor) as pool,
        ):
            if args.cross_validate:
                data = cross_validation.run_cross_validation(
                    library,
                    out,
                    settings,
                    pool,
                    workers,
                    args.check_runs,
                    force=args.force,
                    report=report,
                    command=args.command_line,
                    figure=calibrate_plots.cross_validation_figure,
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
                data = calibrate.write_calibration(
                    out, library, posterior, pool, args.check_runs, calibrate_plots.figures
                )
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


def strict_json(value: Any) -> tuple[Any, list[str]]:
    """``value`` as strict JSON allows it: NaN and infinities become null, and the key paths
    where that happened are returned, for a note."""
    nulled: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, float) and not math.isfinite(node):
            nulled.append(path or "(top)")
            return None
        if isinstance(node, dict):
            return {str(k): walk(v, f"{path}.{k}" if path else str(k)) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [walk(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(node)]
        return node

    return walk(value, ""), nulled


def print_json(report: dict[str, Any]) -> None:
    """One strict JSON object on stdout (NaN and infinities as null, with a note saying where)."""
    import json

    data, nulled = strict_json(json.loads(json.dumps(report, default=str)))
    if nulled:
        data["notes"] = [
            *data.get("notes", []),
            "null stands for a number that is not finite (too few runs for an interval, or "
            "never within the horizon) at: "
            + ", ".join(nulled[:20])
            + (f" and {len(nulled) - 20} more" if len(nulled) > 20 else ""),
        ]
    print(json.dumps(data, indent=2, allow_nan=False), flush=True)


def _parsed(argv: list[str]) -> argparse.Namespace | int:
    """The arguments, or the exit code of a usage error; with --json, a usage error is also one
    JSON object on stdout (argparse's own message still goes to stderr)."""
    if "--json" not in argv:
        return build_parser().parse_args(argv)
    import contextlib
    import io

    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            return build_parser().parse_args(argv)
    except SystemExit as stop:
        sys.stderr.write(said.getvalue())
        code = stop.code if isinstance(stop.code, int) else EXIT_USAGE
        if code != 0:
            lines = [line for line in said.getvalue().splitlines() if line.strip()]
            message = lines[-1].split(": error: ", 1)[-1] if lines else "usage error"
            print_json({"ok": False, "error": message, "exit_code": code})
        return code


def _main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parsed = _parsed(argv)
    if isinstance(parsed, int):
        return parsed
    args = parsed
    args.command_line = ["run.py", *argv]
    args.report = None
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
        try:
            print_json(args.report)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code
