"""The program's entry point: parse, run one command, and turn every known failure into a
one-paragraph message and an exit code (``--json``: one strict JSON object, errors included).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from sim.cli.commands import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    cmd_compare,
    cmd_completion,
    cmd_default,
    cmd_explain,
    cmd_outcomes,
    cmd_plot,
    cmd_run,
    cmd_schema,
    cmd_story,
    cmd_validate,
)
from sim.cli.parser import (
    build_parser,
)
from sim.cli.studies import cmd_backtest, cmd_calibrate, cmd_dashboard, cmd_sweep
from sim.cli.workspace import cmd_init
from sim.experiments.execution import ExecutorError
from sim.inputs.errors import ResultsError, ScenarioError

COMMANDS = {
    "init": cmd_init,
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


def print_json(report: dict[str, Any]) -> None:
    """One strict JSON object on stdout (NaN and infinities as null, with a note saying where)."""
    import json

    from sim.files.folders import strict_json

    data, nulled = strict_json(report)
    if nulled:
        data["notes"] = [
            *data.get("notes", []),
            "null stands for a number that is not finite (too few runs for an interval, or "
            "never within the horizon) at: "
            + ", ".join(nulled[:20])
            + (f" and {len(nulled) - 20} more" if len(nulled) > 20 else ""),
        ]
    print(json.dumps(data, indent=2, allow_nan=False, default=str), flush=True)


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
