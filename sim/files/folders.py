"""Folders written whole or not at all, one writer at a time: the one atomic writer and lock.

Every command that writes a folder does it through :func:`write_folder` (results of ``run`` and
``compare``, backtests, explain tables) or, for a folder filled point by point, through its lock
and :func:`atomic_write` (sweeps, calibrations). Files go into a temporary folder beside the
target (``.<name>.partial-<pid>-<token>``), which is swapped in whole at the end, so the target
always holds one complete result, the previous one, or nothing. A lock beside the target
(``.<name>.lock``) keeps a second writer out; the kernel releases it when its holder dies, so a
killed run never blocks the next. ``metadata.json`` is written last and lists the SHA-256 of
every table and the run's id, so a reader can refuse a folder whose tables do not match it.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.inputs.errors import ResultsError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TABLES = ("runs", "curves", "occupancy", "summary")
FORMATS = ("csv", "parquet")
FIGURE_SUFFIXES = (".png", ".svg")
MARKER = "metadata.json"
RESULT_NAMES = frozenset(
    {
        MARKER,
        "backtest.json",
        *(
            f"{stem}.{fmt}"
            for stem in (
                *TABLES,
                "comparison",
                "climbs",
                "causes",
                "items",
                "scores",
                "trajectory",
                "timing",
                "reliability",
            )
            for fmt in FORMATS
        ),
        *(
            f"{stem}{suffix}"
            for stem in ("curves", "occupancy", "comparison", "causes", "backtest", "trajectory")
            for suffix in FIGURE_SUFFIXES
        ),
    }
)
"""Every name a command of this program writes into a results folder: the files that
``--force`` may replace. Any other file is the user's, and is kept."""
_UMASK = os.umask(0o022)
os.umask(_UMASK)


# --------------------------------------------------------------------------- #
# Writing single files
# --------------------------------------------------------------------------- #


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Make ``path`` by ``write`` on a temporary file beside it, renamed into place once whole:
    readers see the old file or the new one, never part of one; on any failure the temporary
    file is removed. A path that exists and is not a regular file (a pipe, a device, a folder)
    is refused, never replaced."""
    if os.path.lexists(path) and not os.path.islink(path) and not os.path.isfile(path):
        raise ResultsError(
            f"{shown(path)} exists and is not a regular file; choose another file name"
        )
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes it private; results are for sharing
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_table(table: pd.DataFrame, path: Path) -> None:
    """A table as CSV or, for a ``.parquet`` path, as Parquet (pandas dtypes and NaN kept)."""
    if path.suffix == ".parquet":
        atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n"))


def write_text(text: str, path: Path) -> None:
    def dump(temporary: Path) -> None:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write(path, dump)


def strict_json(value: Any) -> tuple[Any, list[str]]:
    """``value`` as strict JSON allows it: numpy numbers as Python's, NaN and infinities as
    null; also the key paths where a number became null, for a note. Other objects are left
    for ``json.dumps(default=str)``."""
    nulled: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {str(k): walk(v, f"{path}.{k}" if path else str(k)) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [walk(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(node)]
        if isinstance(node, bool | np.bool_):
            return bool(node)
        if isinstance(node, np.integer):
            return int(node)
        if isinstance(node, float | np.floating):
            if math.isfinite(node):
                return float(node)
            nulled.append(path or "(top)")
            return None
        return node

    return walk(value, ""), nulled


def write_json(data: object, path: Path) -> None:
    write_text(json.dumps(data, indent=2, default=str) + "\n", path)


def write_figure(figure: Figure, path: Path, dpi: int = 200) -> Path:
    """PNG at 200 dpi for slides, SVG for print; the format follows the suffix."""
    fmt = path.suffix.lstrip(".")
    atomic_write(path, lambda tmp: figure.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight"))
    return path


def require_format(table_format: str) -> None:
    """Refuse, before anything runs, a table format this installation cannot write."""
    if table_format not in FORMATS:
        raise ResultsError(f"--format {table_format}: expected one of {', '.join(FORMATS)}")
    if table_format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ResultsError(
                "--format parquet needs the pyarrow package, of the optional 'parquet' extra: "
                'pip install -e ".[parquet]" (or leave out --format for CSV)'
            ) from None


def disk_reason(error: OSError) -> str:
    """Why a write failed, in words: 'no space left on the disk', 'permission denied'..."""
    reasons = {
        errno.ENOSPC: "no space left on the disk",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "the disk is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENAMETOOLONG: "the name is too long for the file system",
    }
    return reasons.get(error.errno or 0, error.strerror or str(error))


def shown(path: Path | str, width: int = 120) -> str:
    """A path for a message, cut in the middle when it is very long."""
    text = str(path)
    return text if len(text) <= width else f"{text[: width // 2]}...{text[-width // 3 :]}"


# --------------------------------------------------------------------------- #
# The folder lock
# --------------------------------------------------------------------------- #


def _side_name(target: Path) -> str:
    """The target's name for the files beside it, short enough for any file system."""
    name = target.name
    if len(name) <= 100:
        return name
    return f"{name[:80]}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def real_path(folder: Path) -> Path:
    """Where a folder really is (symbolic links followed), so that the lock, the temporary
    folder and the swap all happen beside the folder itself, whichever way it is named."""
    return Path(os.path.realpath(folder))


def lock_path(target: Path) -> Path:
    return target.parent / f".{_side_name(target)}.lock"


@contextmanager
def folder_lock(target: Path, name: Path | None = None) -> Iterator[None]:
    """Hold the lock of a results folder, or raise ResultsError naming the process holding it.

    The lock is an ``flock`` on ``.<name>.lock`` beside the folder, not in it, since the folder
    itself is swapped. The kernel drops it when its holder exits or is killed, so a stale lock
    cannot exist; the holder's pid is written in the file for the message. The file is removed
    on release (a clean exit or Ctrl-C), so nothing is left beside the folder: see
    :func:`_take_lock` for why removing it is safe. Only a killed holder leaves the file, which
    is then no lock, and the next holder removes it. ``name`` is the folder as the user wrote
    it, for messages.
    """
    named = shown(name or target)
    refuse_library(target, named)
    path = lock_path(target)
    try:
        held = _take_lock(path)
    except OSError as error:
        raise ResultsError(f"cannot write to {named} ({disk_reason(error)})") from None
    if held is None:
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            raise ResultsError(
                f"{named} is in use by another run; wait for it to finish, or choose another --out"
            ) from None
        raise ResultsError(
            f"{named} is in use by another run (pid {pid}); wait for it to finish, or "
            "choose another --out"
        ) from None
    try:
        with suppress(OSError):  # the pid is for messages only
            path.write_text(f"{os.getpid()}\n")
        yield
    finally:
        held()


def _take_lock(path: Path) -> Callable[[], None] | None:
    """Lock the file ``path`` without waiting: the function that releases (and removes) it, or
    None if another process holds it.

    Removing a lock file on release is safe only because every taker checks, once it holds the
    flock, that the file it locked is still the one at ``path``: a holder removes the file while
    it still holds it, so a taker that opened the file just before may lock a file no longer
    there, sees that, and tries again with the new one. Two processes can then never both think
    they hold the lock. Where there is no ``flock`` (Windows), filelock's lock, which removes its
    file itself on release, is used.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import filelock

        lock = filelock.FileLock(str(path), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            return None
        return lambda: lock.release()
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError:
            os.close(fd)
            raise
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(fd), current):
            break
        os.close(fd)  # its holder removed it as it let go: take the file now at ``path``

    def release() -> None:
        with suppress(OSError):
            path.unlink()  # while still held, so no taker can hold the removed file (above)
        os.close(fd)

    return release


def _keep_as_previous(old: Path, target: Path) -> None:
    """The replaced result, kept whole as the folder's one ``.previous`` (an older one goes);
    a folder that held no result of this program is simply dropped."""
    try:
        held = any(_ours(p.name, ()) and not p.name.endswith(".tmp") for p in old.iterdir())
        if held:
            os.rename(old, _cleared_previous(target))
            return
    except OSError:
        pass  # the new result is in place; what is left over only costs disk
    shutil.rmtree(old, ignore_errors=True)


def previous_path(target: Path) -> Path:
    """Where a folder's replaced result is kept: one ``<name>.previous`` beside it."""
    return target.parent / f"{_side_name(target)}.previous"


def _cleared_previous(target: Path) -> Path:
    """``previous_path(target)``, an older previous result removed: there is only one."""
    keep = previous_path(target)
    if os.path.lexists(keep):
        shutil.rmtree(keep) if keep.is_dir() and not keep.is_symlink() else keep.unlink()
    return keep


def keep_previous(folder: Path, names: Iterable[str] | None = None) -> Path | None:
    """Move a folder's files (``names`` of them, or all) into its one ``.previous`` folder,
    which replaces any earlier one; the previous result is kept, never deleted. Call it with
    the folder's lock held. Returns where they went (None if there was nothing to move)."""
    chosen = sorted(folder.iterdir()) if names is None else [folder / n for n in names]
    moving = [p for p in chosen if os.path.lexists(p)]
    if not moving:
        return None
    keep = _cleared_previous(real_path(folder))
    keep.mkdir()
    for path in moving:
        os.replace(path, keep / path.name)
    return keep


# --------------------------------------------------------------------------- #
# Writing a whole folder
# --------------------------------------------------------------------------- #


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Folder:
    """A results folder being written: files go to ``path``, a temporary folder beside
    ``target``, and reach ``target`` all at once when :func:`write_folder` ends."""

    target: Path
    path: Path
    table_format: str = "csv"
    name: str = ""
    """The folder as the user wrote it, for messages."""
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    files: dict[str, str] = field(default_factory=dict)
    """Name -> SHA-256 of every table and record written so far."""
    figures: list[str] = field(default_factory=list)
    committed: bool = False
    """True once the folder is in place: from then on the result is saved in full."""

    def _write(self, name: str, write: Callable[[Path], object]) -> Path:
        between_files()
        path = self.path / name
        try:
            write(path)
        except OSError as error:
            raise ResultsError(
                f"cannot save {name} in {self.name or shown(self.target)} ({disk_reason(error)})"
            ) from None
        return path

    def table(self, table: pd.DataFrame, stem: str) -> Path:
        """Write a table in the folder's format; its hash goes into the manifest."""
        path = self._write(f"{stem}.{self.table_format}", lambda p: write_table(table, p))
        self.files[path.name] = _sha256(path)
        return path

    def json(self, data: object, name: str) -> Path:
        path = self._write(name, lambda p: write_json(data, p))
        self.files[name] = _sha256(path)
        return path

    def text(self, text: str, name: str) -> Path:
        path = self._write(name, lambda p: write_text(text, p))
        self.files[name] = _sha256(path)
        return path

    def figure(self, figure: Figure, name: str, dpi: int = 200) -> Path:
        """A figure, listed by name only: ``plot`` may redraw it from the tables."""
        path = self._write(name, lambda p: write_figure(figure, p, dpi=dpi))
        self.figures.append(name)
        return path

    def drop_figures(self) -> None:
        """Remove the figures written so far (to free space for the tables' record)."""
        for name in self.figures:
            (self.path / name).unlink(missing_ok=True)
        self.figures.clear()

    def manifest(self) -> dict[str, Any]:
        """What a reader checks: the run's id and each file's hash; write it last."""
        return {"run_id": self.run_id, "files": dict(self.files), "figures": list(self.figures)}


def _prepared_target(out: Path) -> Path:
    """``out`` as an absolute path whose parent exists, or a ResultsError saying why not."""
    target = real_path(out)
    if target.parent == target:
        raise ResultsError(f"--out {out}: expected a folder to write into, not the root folder")
    # os.path's checks, unlike Path's, answer False rather than fail for names too long
    existing = next(p for p in (target, *target.parents) if os.path.lexists(p))
    if not os.path.isdir(existing):
        if existing == target:
            raise ResultsError(f"--out {shown(out)} is a file, expected a folder")
        raise ResultsError(
            f"cannot write to {shown(out)} ({shown(existing)} is a file, not a folder)"
        )
    refuse_library(target, shown(out))
    longest = os.pathconf(existing, "PC_NAME_MAX") if hasattr(os, "pathconf") else 255
    names = target.relative_to(existing).parts if existing != target else ()
    if any(len(os.fsencode(name)) > longest for name in (*names, target.name)):
        raise ResultsError(
            f"cannot write to {shown(out)} (a folder name is at most {longest} bytes long here; "
            "choose a shorter --out)"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ResultsError(f"cannot write to {shown(out)} ({disk_reason(error)})") from None
    return target


def _leftovers(target: Path, kind: str) -> list[Path]:
    prefix = f".{_side_name(target)}.{kind}-"
    try:
        return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix))
    except OSError:
        return []


def _recover(target: Path) -> None:
    """Clear what a killed writer left beside ``target`` (the lock is held, so none is alive).

    A temporary folder is dropped. A previous result set aside just before the swap (on file
    systems without an atomic exchange) is put back if the new one never arrived.
    """
    for partial in _leftovers(target, "partial"):
        shutil.rmtree(partial, ignore_errors=True)
    for old in _leftovers(target, "old"):
        if not os.path.lexists(target):
            os.rename(old, target)
        else:
            shutil.rmtree(old, ignore_errors=True)


def _ours(name: str, extra: Iterable[str]) -> bool:
    """A file this program writes (or a temporary file a killed write left behind)."""
    return name in RESULT_NAMES or name in extra or (name.startswith(".") and name.endswith(".tmp"))


MAX_METADATA_BYTES = 100 * 10**6
"""The largest ``metadata.json`` a reader takes: far above what a comparison of many scenarios
records, so a file that never ends is refused before it is read."""


def read_regular(path: Path, limit: int, what: str, remedy: str) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes; else a
    ResultsError saying what it is. Opened without blocking and checked on the open file, so a
    pipe is never waited on and a device (``/dev/zero``) never read, even if swapped in after a
    look at the path."""
    where = shown(path)
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ResultsError(f"{where} is missing; {remedy}") from None
    except OSError as error:
        raise ResultsError(f"{where} cannot be read ({disk_reason(error)})") from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise ResultsError(
                f"{where} is not a regular file (a pipe, a device or a folder cannot be {what}); "
                f"{remedy}"
            )
        if info.st_size > limit:
            raise ResultsError(
                f"{where} is {info.st_size:,} bytes, more than the {limit:,} of {what} of any "
                f"result of this program; {remedy}"
            )
        with os.fdopen(handle, "rb", closefd=False) as reader:
            data = reader.read(limit + 1)
    except OSError as error:
        raise ResultsError(f"{where} cannot be read ({disk_reason(error)})") from None
    finally:
        os.close(handle)
    if len(data) > limit:  # it grew while read
        raise ResultsError(f"{where} is more than {limit:,} bytes; {remedy}")
    return data


def result_kind(folder: Path) -> tuple[str | None, dict[str, Any]]:
    """What a folder holds, by what the program wrote there: the kind its ``metadata.json``
    records (with that record), ``backtest`` or ``explain`` by their tables; None for none."""
    record = folder / MARKER
    if record.is_file():
        try:
            data = json.loads(read_regular(record, MAX_METADATA_BYTES, "a metadata file", ""))
        except (ResultsError, ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("kind"), str):
            return data["kind"], data
        return "unreadable result", {}
    if (folder / "backtest.json").is_file():
        return "backtest", {}
    if any((folder / f"causes.{fmt}").is_file() for fmt in FORMATS):
        return "explain", {}
    return None, {}


KIND_NAMES = {
    "escalation-sim calibration": "calibration",
    "escalation-sim cross-validation": "cross-validation",
}
"""The kinds a ``metadata.json`` records, as messages name them."""
CALIBRATION_NAMES = frozenset({"calibrated.yaml", "folds"})
"""What a calibration writes that would otherwise be taken for inputs or the user's folders:
the profile it fitted and the cross-validation's folds."""
INPUT_SUFFIXES = (".yaml", ".yml")
"""Files of these suffixes in a folder are inputs (scenarios, cases, sweeps), unless a command
names them among its own (a calibration's ``calibrated.yaml``)."""


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)


def library_roots() -> tuple[Path, ...]:
    """Where the scenario library may be: the package's ``sim/data/scenarios`` (installed) and
    the clone's ``scenarios/`` (the same places :func:`sim.files.shipped.shipped` looks)."""
    package = Path(__file__).resolve().parents[1]
    return (package / "data" / "scenarios", package.parent / "scenarios")


def in_library(target: Path) -> Path | None:
    """The scenario library ``target`` is in (or is), or None."""
    for root in library_roots():
        if root.is_dir() and target.is_relative_to(real_path(root)):
            return root
    return None


def refuse_library(target: Path, named: str) -> None:
    """Nothing is ever written into the scenario library, not even a lock beside a folder of it."""
    library = in_library(target)
    if library is not None:
        raise ResultsError(
            f"{named} is in the scenario library ({shown(library)}); results are never written "
            "there, even with --force: choose another --out"
        )


def check_target(
    target: Path,
    named: str,
    *,
    kind: str | None,
    replace: bool,
    names: Iterable[str] = (),
    loose: bool = True,
) -> tuple[str | None, dict[str, Any]]:
    """The one rule for a folder a command is about to write (every command calls it, through
    :func:`write_folder` or directly): raise ResultsError unless it may.

    Never, even with ``replace`` (--force): the scenario library or a folder in it, a folder
    holding inputs (``*.yaml`` not among ``names``), a folder holding folders that no run wrote.
    Not without ``replace``: a folder holding a result of another ``kind``, or (``loose``) only
    files that no command wrote (``calibrate`` says so in its own words). Returns what the
    folder holds (:func:`result_kind`), for the command's own checks of a rerun.
    ``target`` is the real path (:func:`real_path`), ``named`` the folder as the user wrote it.
    """
    refuse_library(target, named)
    if not os.path.isdir(target):  # os.path's answers False for a name too long, not an error
        return None, {}
    found, record = result_kind(target)
    own = frozenset(names) | (CALIBRATION_NAMES if found in KIND_NAMES else frozenset())
    entries = sorted(target.iterdir())
    inputs = [p for p in entries if p.suffix.lower() in INPUT_SUFFIXES and p.name not in own]
    if inputs:
        listed = ", ".join(p.name for p in inputs[:5])
        more = f" and {len(inputs) - 5} more" if len(inputs) > 5 else ""
        raise ResultsError(
            f"{named} holds inputs ({listed}{more}); results are never written into a folder "
            "of inputs, even with --force: choose another --out"
        )
    folders = [p for p in entries if p.is_dir() and not p.is_symlink() and p.name not in own]
    if folders:
        listed = ", ".join(f"{p.name}/" for p in folders[:5])
        more = f" and {len(folders) - 5} more" if len(folders) > 5 else ""
        raise ResultsError(
            f"{named} holds folders that no run wrote ({listed}{more}); results are "
            "written into a folder of their own: choose another --out"
        )
    if loose and not replace and found is None:
        strays = [p for p in entries if not _ours(p.name, own) and not p.name.startswith(".")]
        if strays and len(strays) == len([p for p in entries if not p.name.startswith(".")]):
            listed = ", ".join(p.name for p in strays[:5])
            more = f" and {len(strays) - 5} more" if len(strays) > 5 else ""
            raise ResultsError(
                f"{named} holds files that no run wrote ({listed}{more}); choose another --out, "
                "or add --force to write the results beside them (those files are kept)"
            )
    if not replace and found is not None and kind is not None and found != kind:
        raise ResultsError(
            f"{named} holds another kind of result ({kind_name(found)}), not this command's "
            f"({kind_name(kind)}); choose another --out, or add --force to replace it (it is "
            f"kept in {previous_path(target).name} beside it)"
        )
    return found, record


def in_use(target: Path) -> int | None:
    """The pid of the command writing ``target`` now (0 if it cannot be told), or None:
    asked without taking the lock or creating any file."""
    path = lock_path(target)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: filelock's file exists only while held
        return 0 if path.exists() else None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        try:
            return int(path.read_text().strip())
        except (OSError, ValueError):
            return 0
    finally:
        os.close(fd)
    return None


def check_loose_files(path: Path) -> None:
    """The rule for a command writing single files of its own choosing (``story --plot``):
    never into the scenario library, a results folder, or a folder in use; else ResultsError."""
    folder = real_path(path.parent)
    named = shown(path.parent)
    if not os.path.isdir(folder):
        raise ResultsError(
            f"the folder {named} does not exist; create it first or choose another place"
        )
    library = in_library(folder)
    if library is not None:
        raise ResultsError(
            f"{named} is in the scenario library ({shown(library)}); nothing is written there: "
            "choose another place"
        )
    pid = in_use(folder)
    if pid is not None:
        who = f" (pid {pid})" if pid else ""
        raise ResultsError(
            f"{named} is in use by another run{who}; wait for it to finish, or choose another place"
        )
    found, _ = result_kind(folder)
    if found is not None:
        raise ResultsError(
            f"{named} holds a result ({kind_name(found)}); a file of another command would be "
            "mixed into it: choose another place"
        )


def _foreign(
    target: Path,
    replace: bool,
    extra: frozenset[str],
    named: str,
    kind: str | None,
    same: Callable[[dict[str, Any]], bool] | None,
) -> list[Path]:
    """The user's files in ``target``, to keep; refuse what may not be replaced.

    A result of this command's ``kind`` with the same inputs (``same`` of its record, or any
    when ``same`` is None) is replaced without asking: rerunning a command into its own folder
    just works. Another command's result, or other inputs', needs ``replace`` (--force); the
    scenario library, a folder of inputs or of folders, never (:func:`check_target`).
    """
    found, record = check_target(target, named, kind=kind, replace=replace, names=extra)
    if not target.is_dir():
        return []
    entries = sorted(target.iterdir())
    foreign = [p for p in entries if not _ours(p.name, extra)]
    ours = [p for p in entries if _ours(p.name, extra) and not p.name.endswith(".tmp")]
    rerun = kind is not None and found == kind and (same is None or same(record))
    if replace and found is not None and found != kind:
        return []  # another command's result: kept whole in .previous, the user's files with it
    if replace or rerun:
        return foreign
    if ours or foreign:
        names = ", ".join(p.name for p in foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        if not foreign:
            reason = "already holds results of other inputs"
            remedy = f"add --force to replace them (kept in {previous_path(target).name})"
        elif not ours:
            reason = f"holds files that no run wrote ({names})"
            remedy = "add --force to write the results beside them (those files are kept)"
        else:
            reason = f"already holds results of other inputs, and files that no run wrote ({names})"
            remedy = (
                f"add --force to replace the results (kept in {previous_path(target).name}; "
                "those other files stay)"
            )
        raise ResultsError(f"{named} {reason}; choose another --out, or {remedy}")
    return foreign


def _carry(files: Sequence[Path], staging: Path) -> None:
    """The user's files, into the new folder: hard links, so that until the swap the originals
    stay where they were and a crash loses nothing."""
    for path in files:
        destination = staging / path.name
        if path.is_symlink():
            os.symlink(os.readlink(path), destination)
            continue
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


def _fsync(path: Path) -> None:
    with suppress(OSError):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


_PENDING: list[int] = []
"""Ctrl-C noted by ``interrupts_between_files`` and not acted on yet."""


@contextmanager
def interrupts_between_files() -> Iterator[None]:
    """Ctrl-C while files are written is acted on between two files, never inside one.

    A KeyboardInterrupt raised inside matplotlib's clean-up callbacks (while a figure is saved)
    is printed by Python as an ignored exception and lost: the program would go on as if the
    key had not been pressed. So the key is noted here and raised at the next file.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: _PENDING.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    between_files()


def between_files() -> None:
    if _PENDING:
        _PENDING.clear()
        raise KeyboardInterrupt


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the few renames of a swap are done."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2``); False where not supported.

    Hand-written with ctypes because Python's ``os`` has no ``renameat2``.
    """
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    code = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if code == 0:
        return True
    failure = ctypes.get_errno()
    if failure in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(failure, os.strerror(failure), str(b))


def _swap(staging: Path, target: Path) -> Path | None:
    """Put ``staging`` in place of ``target``; return what is left to remove (the old result)."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return None
    if _exchange(staging, target):
        return staging
    aside = target.parent / f".{_side_name(target)}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(target, aside)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(aside, target)
        raise
    return aside


@contextmanager
def write_folder(
    out: Path,
    *,
    replace: bool,
    table_format: str = "csv",
    names: Iterable[str] = (),
    kind: str | None = None,
    same: Callable[[dict[str, Any]], bool] | None = None,
) -> Iterator[Folder]:
    """Write a results folder whole: yield a :class:`Folder` to write into, swap it in at the end.

    Checks first (before any work): ``out`` can be written, no other process is writing it,
    and it holds no result, or a result of this command's ``kind`` with the same inputs
    (``same`` of its record: a rerun), unless ``replace`` (``--force``). The lock is held until
    the end. A result replaced is kept whole as the folder's one ``<name>.previous``.
    The user's own files in ``out`` (any name not in ``RESULT_NAMES`` or ``names``) are kept in
    the new folder; a folder holding subfolders of its own is refused. If the body raises (an
    error, Ctrl-C, a full disk), the temporary folder is removed and ``out`` is left as it was.
    Once ``Folder.committed`` is True, the new result is in place, whatever happens after.

    Other commands (such as ``calibrate``) use it as::

        with results.write_folder(out, replace=args.force, names={"fit.csv"}) as folder:
            folder.table(frame, "fit")
            folder.json({**meta, **folder.manifest()}, "calibration.json")
    """
    require_format(table_format)
    target = _prepared_target(out)
    extra = frozenset(names)
    named = shown(out)
    with folder_lock(target, out):
        try:
            _recover(target)
        except OSError as error:
            raise ResultsError(
                f"cannot tidy what an interrupted run left beside {named} ({disk_reason(error)})"
            ) from None
        foreign = _foreign(target, replace, extra, named, kind, same)
        staging = target.parent / (
            f".{_side_name(target)}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        try:
            staging.mkdir()
            probe = staging / ".probe.tmp"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise ResultsError(f"cannot write to {shown(out)} ({disk_reason(error)})") from None
        folder = Folder(target=target, path=staging, table_format=table_format, name=named)
        try:
            yield folder
            _carry(foreign, staging)
            for path in staging.iterdir():
                _fsync(path)
            _fsync(staging)
            with _signals_held():
                left = _swap(staging, target)
                folder.committed = True
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise ResultsError(
                f"cannot save the results in {named} ({disk_reason(error)}); {unchanged(out)}"
            ) from None
        except BaseException:
            if not folder.committed:
                shutil.rmtree(staging, ignore_errors=True)
            raise
        _fsync(target.parent)
        if left is not None:
            _keep_as_previous(left, target)


def unchanged(out: Path) -> str:
    """Where an unsaved result leaves its folder, for messages."""
    if os.path.isdir(real_path(out)):
        return f"{shown(out)} still holds what it held before"
    return f"{shown(out)} was not created"


# --------------------------------------------------------------------------- #
# Provenance
# --------------------------------------------------------------------------- #


def scenario_hash(scenario: Mapping[str, Any]) -> str:
    """SHA-256 of a fully resolved scenario (sorted JSON), the same for the same content."""
    text = json.dumps(scenario, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


VERSIONED = (
    "escalation-sim",
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
    "pyyaml",
    "pydantic",
)
"""The packages whose versions shape the numbers, recorded with every result."""


def versions(*extra: str) -> dict[str, str]:
    """Versions of this package and the libraries that shape its numbers (and ``extra`` ones).

    Read once per process: looking them up costs more than a small ensemble.
    """
    return {"python": sys.version.split()[0], **{p: _version(p) for p in (*extra, *VERSIONED)}}


@functools.cache
def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


@functools.cache
def platform_info() -> dict[str, Any]:
    """Python, operating system and package versions; read once per process."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.platform(),
        "machine": platform.machine(),
        "versions": versions(),
    }


@functools.cache
def code_revision() -> dict[str, Any] | None:
    """The git commit of this code and whether its tracked files were modified; None when the
    code is not a git checkout (an installed package) or git is missing."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"revision": head, "modified": bool(status.strip())}
