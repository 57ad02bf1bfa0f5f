"""``init``: a folder of one's own, with the example scenarios and the case library copied in.

The package ships its scenarios (``sim.files.shipped``); a student or a class works on copies, laid
out as in the project folder (``FOLDER/scenarios/...``), so every command of the README works
there as written, and results go to ``FOLDER/results/``.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from sim.cli.commands import UsageError

FOLDER_WORDS = {
    "scenarios": "the example scenarios (jan2024_baseline.yaml, its variants, jul2025_campaign.yaml, jul2025_dominance.yaml)",
    "scenarios/cases": "the case library (each case with its record, <case>.observed.yaml)",
    "scenarios/profiles": "the calibrated profile",
    "scenarios/sweeps": "sweeps of the baseline",
}
"""What each copied folder holds, in words."""


def cmd_init(args: argparse.Namespace) -> None:
    from sim.files.shipped import copy_examples, plan_examples

    folder: Path = args.folder
    plan = plan_examples(folder)
    if plan.blocked:
        raise UsageError(
            f"{folder}: {_listed(plan.blocked)} {'is' if len(plan.blocked) == 1 else 'are'} "
            "there but not a file (a folder?), so the shipped file cannot go there even with "
            "--force; nothing was written. Move it away, or choose another folder "
            "(escalation-sim init OTHER_FOLDER)"
        )
    if plan.changed and not args.force:
        one = len(plan.changed) == 1
        raise UsageError(
            f"{folder}: {_counted(plan.changed)} there "
            f"{'differs from the shipped one' if one else 'differ from the shipped ones'} and "
            f"would be overwritten: {_listed(plan.changed)}; nothing was written. Add --force to "
            "replace them with the shipped versions (other files are kept), or choose another "
            "folder (escalation-sim init OTHER_FOLDER)"
        )
    written = copy_examples(plan, replace=args.force)
    replaced = set(plan.changed) & set(written)
    if written:
        print(
            f"Wrote {len(written)} file{'s' if len(written) > 1 else ''} into {folder}/"
            + (f" ({len(replaced)} replaced with --force)" if replaced else "")
            + (f"; {len(plan.same)} already there, unchanged" if plan.same else "")
            + ":"
        )
        for line in _by_folder(written):
            print(line)
    else:
        print(f"All {len(plan.same)} example files are in {folder}/ already, unchanged.")
    quoted = shlex.quote(str(folder))
    print(
        "Next, from that folder (results go to its results/):\n"
        f"  cd {quoted}\n"
        "  escalation-sim validate scenarios/jan2024_baseline.yaml\n"
        "  escalation-sim run scenarios/jan2024_baseline.yaml"
    )


def _listed(paths: list[Path], most: int = 5) -> str:
    shown = ", ".join(str(p) for p in sorted(paths)[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")


def _by_folder(written: list[Path]) -> list[str]:
    """One line per folder: how many files, their names when few, else what they are."""
    groups: dict[str, list[str]] = {}
    for path in written:
        groups.setdefault(path.parent.as_posix(), []).append(path.name)
    lines = []
    for name, files in sorted(groups.items()):
        count = f"{len(files)} file{'s' if len(files) > 1 else ''}: "
        what = FOLDER_WORDS.get(name, ", ".join(files))
        if len(files) <= 2 and name in FOLDER_WORDS:
            what = f"{', '.join(files)}, {what}"
        lines.append(f"  {name + '/':<21}{count}{what}")
    return lines


def _counted(paths: list[Path]) -> str:
    return f"{len(paths)} example file{'s' if len(paths) > 1 else ''}"
