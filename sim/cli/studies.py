"""The research commands: sweeps over parameters, the backtest against real crises, the
calibration, and the teaching dashboard's server; each thin: load, run the experiment, write, say.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.commands import (
    EXIT_INTERRUPTED,
    EXIT_PARTIAL,
    UsageError,
    check_runs,
    load_with_overrides,
    parse_overrides,
    show_notes,
)
from sim.cli.parser import (
    DEFAULT_SWEEP_OUTCOMES,
)
from sim.experiments.execution import ExecutorError, default_workers

if TYPE_CHECKING:
    from sim.experiments.sweep_definition import SweepDefinition
    from sim.experiments.sweep_execution import SweepSummary
from sim.inputs.errors import ScenarioError
from sim.views import classroom


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.analysis.outcomes import outcome
    from sim.experiments import (
        axes,
        sweep_definition,
        sweep_execution,
        sweep_store,
    )
    from sim.experiments.ensemble import PointEvaluator
    from sim.inputs.loader import load_scenario, read_sweep_block
    from sim.views.text import chosen_outcomes

    show_notes(args)
    scenario = load_with_overrides(args.scenario, args.overrides)
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
    try:  # the indices printed: of the key outcomes among the sweep's, or those asked for
        recorded = list(definition.outcomes)
        shown = recorded if args.full else chosen_outcomes(recorded, args.shown, "this sweep")
        shown = shown or recorded  # none of the key outcomes recorded: all of them
    except ValueError as error:
        raise UsageError(str(error)) from None
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
        return _sweep_interrupted(args, out, len(points), sweep_store.stored_points(out))
    try:
        return _finish_sweep(args, definition, summary, out)
    except KeyboardInterrupt:
        # every point was stored before the interrupt: the sweep is kept, only what is drawn
        # from it (indices, figures) may be missing
        return _sweep_interrupted(args, out, len(points), sweep_store.stored_points(out))


def _sweep_interrupted(args: argparse.Namespace, out: Path, total: int, stored: int) -> int:
    """Say what an interrupted sweep kept; exit 3 if it kept points, 130 if none."""
    if stored >= total:
        saved = (
            f"all {total} points are stored in {out}/ (sweep.csv lists them), but the indices "
            "and figures may not all be written; rerun the same command to write them (no "
            "point is evaluated again)"
        )
    elif stored:
        saved = (
            f"{stored} of {total} points are stored in {out}/ (sweep.csv lists them); "
            "rerun the same command to resume"
        )
    else:
        saved = f"no point had finished, so nothing was stored in {out}/"
    print(f"Interrupted: {saved}.", file=sys.stderr)
    code = EXIT_PARTIAL if stored else EXIT_INTERRUPTED
    args.report = {
        "ok": False,
        "interrupted": True,
        "folder": str(out),
        "stored_points": stored,
        "complete": stored >= total,
        "exit_code": code,
    }
    return code


def _finish_sweep(
    args: argparse.Namespace,
    definition: SweepDefinition,
    summary: SweepSummary,
    out: Path,
) -> int:
    """A stored sweep's summary, indices and figures, from its store."""
    from sim.experiments import axes, sensitivity, sweep_store
    from sim.experiments.sweep import analyze_sweep
    from sim.files import folders
    from sim.views import sweep_plots
    from sim.views.text import brief_hint, chosen_outcomes

    print(summary.message())
    results_table = sweep_store.load_results(out)
    recorded = list(definition.outcomes)  # the names were checked before the sweep ran
    shown = (recorded if args.full else chosen_outcomes(recorded, args.shown, "this sweep")) or (
        recorded
    )
    indices = {}
    if summary.complete and definition.design in ("sobol", "morris") and not summary.failed:
        for name in definition.outcomes:
            try:
                indices[name] = analyze_sweep(definition, results_table, name)
            except axes.SweepError as error:
                print(f"note: no {definition.design} indices of {name}: {error}", file=sys.stderr)
                continue
            folders.atomic_write(out / f"{definition.design}_{name}.csv", indices[name].to_csv)
            if results_table[name].nunique() == 1:
                print(
                    f"{name} is {results_table[name].iloc[0]:.3f} at every design point: "
                    "there is no sensitivity to measure."
                )
                continue
            if name in shown:
                print(f"{definition.design} indices of {name}:")
                print(indices[name].round(3).to_string())
        if len(shown) < len(indices):
            print(brief_hint(len(shown), len(indices), f"outcomes' {definition.design} indices"))
        told = {name: table for name, table in indices.items() if name in shown}
        print(sensitivity.index_warning(definition, results_table, told), end="")
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
    except (ValueError, OverflowError) as error:
        # values a chart cannot scale (1e308 on an axis): the results are stored all the same
        print(
            f"note: the figures were not drawn (matplotlib could not place values this large "
            f"or small on an axis: {error}); sweep.csv holds every result",
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


def case_library() -> Path:
    """The case library shipped with escalation-sim (found from any folder), as a user would
    type it: ``scenarios/cases`` in the project folder."""
    from sim.files.shipped import as_typed, shipped

    return Path(as_typed(shipped("scenarios", "cases")))


def cmd_backtest(args: argparse.Namespace) -> None:
    import time

    from sim.experiments import backtest
    from sim.files import folders
    from sim.views import backtest_plots
    from sim.views.text import backtest_text, chosen_outcomes

    check_runs(args.runs)
    args.cases = args.cases or case_library()
    if args.shown:
        try:
            rows = [
                *backtest.ITEMS,
                "all items",
                "all nine items",
                "escalation items",
                *backtest.TIMING,
                "trajectory",
            ]
            chosen_outcomes(rows, args.shown, "the backtest's items")
        except ValueError as error:
            raise UsageError(str(error)) from None
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
        + ("" if args.full or args.shown else " Skill of the headline only (--full: each item's).")
    )
    print(backtest_text(result, args.full, args.shown))
    print(f"Results in {out}/: {', '.join(files)}")


def cmd_calibrate(args: argparse.Namespace) -> int:
    try:
        from sim.experiments import (
            calibrate,
            calibration_cases,
            calibration_folder,
            cross_validation,
        )
    except ImportError as error:
        raise UsageError(
            f"calibrate needs the package pyabc, which is not installed ({error}); install it "
            "into the virtual environment with .venv/bin/pip install pyabc"
        ) from None
    from sim.experiments.execution import executor
    from sim.files import folders
    from sim.views import calibrate_plots
    from sim.views.text import calibration_text

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
    args.cases = args.cases or case_library()
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
        stored = calibration_folder.stored_generations(out)
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
    print(calibration_text(data, out))
    return 0


DASHBOARD_MODULES = ("solara", "solara_assets", "altair")
"""Modules of the dashboard extra; without solara_assets the page would need the internet."""


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def cmd_dashboard(args: argparse.Namespace) -> None:
    """Serve ``sim.views.dashboard`` with ``solara run``, in production mode, until Ctrl-C or
    SIGTERM."""
    import importlib.util

    missing = [name for name in DASHBOARD_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            "the dashboard needs the packages of the optional 'dashboard' extra (missing: "
            f"{', '.join(missing)}). Install them from the project folder with "
            'pip install -e ".[dashboard]" (into the virtual environment: .venv/bin/pip install '
            '-e ".[dashboard]"), then run python run.py dashboard again.'
        )
    missing_files = [str(path) for path in args.scenarios if not path.is_file()]
    if missing_files:
        raise UsageError(f"no such scenario file: {', '.join(missing_files)}")
    if not args.scenarios and not Path("scenarios").is_dir():
        raise UsageError(
            "the dashboard lists the scenario files in scenarios/, and there is no such folder "
            f"here ({Path.cwd()}); run it from the project folder or from a folder made by "
            "'escalation-sim init' (it copies the example scenarios), or name scenario files"
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
    env[classroom.ENSEMBLES_VARIABLE] = str(args.ensembles)
    if args.verbose:
        env[classroom.LOG_VARIABLE] = "1"
    else:
        env.pop(classroom.LOG_VARIABLE, None)
    code = _serve(command, env)
    if code is None:
        return
    if code != 0:
        raise UsageError(
            f"the dashboard server stopped with exit code {code} (see its message above); if "
            f"port {args.port} is already in use, choose another with --port"
        )


class _Stopped(Exception):
    """SIGTERM reached the dashboard command."""


def _serve(command: list[str], env: dict[str, str]) -> int | None:
    """Run the server until it exits (its exit code) or until Ctrl-C or SIGTERM stop it (None).

    The server is a child process: a SIGTERM that killed this process alone would leave it
    serving, so SIGTERM is caught here and the server is stopped with it (SIGTERM, then SIGKILL
    if it has not gone within 10 s).
    """
    import signal
    import subprocess

    def stop(signum: int, frame: object) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    server = None
    try:
        server = subprocess.Popen(command, env=env)
        return server.wait()
    except (KeyboardInterrupt, _Stopped):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM while it stops
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        return None
    finally:
        signal.signal(signal.SIGTERM, previous)
