"""Where the files shipped with escalation-sim are, and copying the examples to a folder of one's own.

The example scenarios, the case library, the calibrated profile, the example sweeps and the
backtest's external base rates are needed by commands at run time, from any folder. Installed
from a wheel they are package data, ``sim/data/`` inside the package (``pyproject.toml`` maps them
there from the repository); in a clone (an editable install, or the clone on ``sys.path``) they
are the repository's own ``scenarios/`` and ``data/``. :func:`shipped` is the one place that
knows which, so ``backtest`` and ``calibrate`` find the case library from anywhere and ``init``
copies exactly the files a wheel holds. The blind cases (``scenarios/blind/``) are never shipped
nor copied: they must not be run.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sim.files.folders import atomic_write, disk_reason, shown
from sim.inputs.errors import ResultsError

PARTS = {"scenarios": ("scenarios",), "reference": ("data", "reference")}
"""What ships, and where each part is in a clone (in the package, it is ``sim/data/<part>``)."""

SCENARIO_FOLDERS = ("", "cases", "profiles", "sweeps")
"""The folders of ``scenarios/`` that ship, each with its ``*.yaml`` files (pyproject.toml's
package-data says the same); ``scenarios/blind/`` is not one of them."""


def _package_root() -> Path:
    """The folder of the ``sim`` package (always unpacked: pip installs wheels as files)."""
    return Path(str(resources.files("sim")))


def shipped(part: str, *names: str) -> Path:
    """The shipped folder ``part`` (``"scenarios"`` or ``"reference"``), or a file or folder in it.

    Raises ``ResultsError`` naming where it looked when it is missing (an incomplete install),
    so a command never silently goes without its data.
    """
    if part not in PARTS:
        raise ValueError(f"no shipped part {part!r}; expected one of {', '.join(PARTS)}")
    package = _package_root()
    installed = package / "data" / part
    clone = package.parent.joinpath(*PARTS[part])
    base = installed if installed.is_dir() else clone
    path = base.joinpath(*names)
    if not path.exists():
        raise ResultsError(
            f"{shown(path)} is missing: escalation-sim ships it (looked in the installed package, "
            f"{shown(installed)}, and in a clone, {shown(clone)}), so the installation is "
            "incomplete; reinstall escalation-sim (pip install --force-reinstall escalation-sim), "
            "or install it from the project folder with pip install -e ."
        )
    return path


def example_files() -> list[tuple[Path, Path]]:
    """Each shipped scenario file: where it is, and where it goes under a folder of one's own
    (``scenarios/...``, the repository's layout, so the README's commands work there)."""
    scenarios = shipped("scenarios")
    files = []
    for folder in SCENARIO_FOLDERS:
        for path in sorted((scenarios / folder).glob("*.yaml")):
            files.append((path, Path("scenarios", folder, path.name)))
    return files


@dataclass(frozen=True)
class ExamplesCopy:
    """What copying the examples into ``folder`` would do, file by file (paths relative to it)."""

    folder: Path
    sources: dict[Path, Path]
    """Each file to copy, relative to ``folder``: the shipped file it comes from."""
    new: list[Path]
    """Files not there yet."""
    changed: list[Path]
    """Files there already, with other contents: replaced only when asked (``--force``)."""
    same: list[Path]
    """Files there already, identical to the shipped ones: left alone."""
    blocked: list[Path]
    """Paths taken by something that is not a regular file (a folder): never replaced."""


def plan_examples(folder: Path) -> ExamplesCopy:
    """Compare the shipped examples with what ``folder`` holds, writing nothing."""
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{shown(folder)} exists and is not a folder; choose another folder")
    sources = {target: source for source, target in example_files()}
    new, changed, same, blocked = [], [], [], []
    for target, source in sources.items():
        there = folder / target
        if not os.path.lexists(there):
            new.append(target)
        elif not there.is_file():
            blocked.append(target)
        elif filecmp.cmp(source, there, shallow=False):
            same.append(target)
        else:
            changed.append(target)
    return ExamplesCopy(folder, sources, new, changed, same, blocked)


def copy_examples(plan: ExamplesCopy, *, replace: bool) -> list[Path]:
    """Write the new files (and, with ``replace``, the changed ones) of ``plan``, each whole
    (the atomic writer); return what was written, relative to the folder."""
    wanted = plan.new + (plan.changed if replace else [])
    written: list[Path] = []
    for target in sorted(wanted):
        path = plan.folder / target
        source = plan.sources[target]

        def copy(temporary: Path, source: Path = source) -> None:
            shutil.copyfile(source, temporary)

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, copy)
        except OSError as error:
            raise ResultsError(
                f"{shown(path)}: cannot write it ({disk_reason(error)}); "
                f"{len(written)} of {len(wanted)} files were written before it"
            ) from None
        written.append(target)
    return written


def as_typed(path: Path) -> str:
    """``path`` as a user would type it: relative to the current folder when it is under it (in
    the project folder, ``scenarios/...`` as before), else in full."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
