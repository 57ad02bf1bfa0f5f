"""Start-up time of the command line: whole processes, as a user waits for them.

Each command is started ``--repeat`` times as a fresh process (after one untimed start that warms
the file cache), and the median wall time is compared with its target: ``--help`` of the program
and of every command, and ``python -m sim --version``, within 0.3 s; ``validate`` of the baseline
scenario within 1 s (issue 13):

    python benchmarks/bench_cli.py                 # 7 starts of each command
    python benchmarks/bench_cli.py --repeat 15

Only the standard library times the processes (``subprocess`` and ``time.perf_counter``). The
machine's load average is printed before and after: on a loaded machine every figure is slower.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere, package installed or not

from sim.cli.main import COMMANDS  # noqa: E402

HELP_TARGET = 0.3
VALIDATE_TARGET = 1.0


def cases() -> list[tuple[str, list[str], float]]:
    """(label, arguments after the Python interpreter, target in seconds) of every timed command."""
    found = [("run.py --help", ["run.py", "--help"], HELP_TARGET)]
    found += [
        (f"run.py {name} --help", ["run.py", name, "--help"], HELP_TARGET) for name in COMMANDS
    ]
    found.append(("-m sim --version", ["-m", "sim", "--version"], HELP_TARGET))
    found.append(
        (
            "run.py validate scenarios/jan2024_baseline.yaml",
            ["run.py", "validate", "scenarios/jan2024_baseline.yaml"],
            VALIDATE_TARGET,
        )
    )
    return found


def wall_times(python: str, arguments: list[str], repeat: int) -> list[float]:
    """Seconds each of ``repeat`` fresh processes took, after one untimed start."""
    command = [python, *arguments]
    times = []
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(arguments)} failed with exit code {done.returncode}:\n"
                f"{done.stderr.decode(errors='replace')}"
            )
        if attempt:
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed starts of each command")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to start")
    args = parser.parse_args()
    print(
        f"load average {os.getloadavg()[0]:.2f} (1 min) at the start; {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; median of {args.repeat} starts after one untimed"
    )
    width = max(len(label) for label, _, _ in cases())
    print(f"{'command':<{width}}  {'median':>7}  {'min':>6}  {'max':>6}  {'target':>6}  result")
    missed = 0
    for label, arguments, target in cases():
        times = wall_times(args.python, arguments, args.repeat)
        median = statistics.median(times)
        verdict = "PASS" if median <= target else "MISS"
        missed += verdict == "MISS"
        print(
            f"{label:<{width}}  {median:6.3f}s  {min(times):5.3f}s  {max(times):5.3f}s  "
            f"{target:5.1f}s  {verdict}"
        )
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    print("every command within its target" if not missed else f"{missed} command(s) missed")


if __name__ == "__main__":
    main()
