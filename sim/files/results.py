"""Result folders: written whole or not at all, one writer at a time, and checked when read.

A folder from ``run`` or ``compare`` holds the tables ``runs``, ``curves``, ``occupancy``,
``summary`` (and ``comparison``) as CSV or Parquet, ``metadata.json``, and the figures;
``docs/results.md`` documents every column and says what a folder guarantees after a crash.

Every command that writes a folder does it through :func:`write_folder`: the files go into a
temporary folder beside the target (``.<name>.partial-<pid>-<token>``), which is swapped in whole
at the end, so the target always holds one complete result, the previous one, or nothing. A lock
beside the target (``.<name>.lock``) keeps a second writer out; the kernel releases it when its
holder dies, so a killed run never blocks the next. ``metadata.json`` is written last and lists
the SHA-256 of every table and the run's id, and :func:`load` refuses a folder whose tables do not
match it.
"""

from __future__ import annotations

import ctypes
import datetime
import errno
import functools
import hashlib
import io
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.analysis import outcomes
from sim.analysis import statistics as analysis
from sim.inputs.errors import ResultsError
from sim.views import plotting

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.experiments.ensemble import Ensemble

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
                "reliability",
            )
            for fmt in FORMATS
        ),
        *(
            f"{stem}{suffix}"
            for stem in ("curves", "occupancy", "comparison", "causes", "backtest")
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
    file is removed."""
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
                'pip install ".[parquet]" (or leave out --format for CSV)'
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

    The lock is an ``flock`` (through filelock) on ``.<name>.lock`` beside the folder, not in it,
    since the folder itself is swapped. The kernel drops it when its holder exits or is killed,
    so a stale lock cannot exist; the holder's pid is written in the file for the message.
    ``name`` is the folder as the user wrote it, for messages.
    """
    named = shown(name or target)
    import filelock

    path = lock_path(target)
    lock = filelock.FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
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
    except OSError as error:
        raise ResultsError(f"cannot write to {named} ({disk_reason(error)})") from None
    try:
        with suppress(OSError):  # the pid is for messages only
            path.write_text(f"{os.getpid()}\n")
        yield
    finally:
        with suppress(OSError):
            path.write_text("")
        lock.release()


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
        _between_files()
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


def _foreign(target: Path, replace: bool, extra: frozenset[str], named: str) -> list[Path]:
    """The user's files in ``target``, to keep; refuse what may not be replaced."""
    if not target.is_dir():
        return []
    entries = sorted(target.iterdir())
    foreign = [p for p in entries if not _ours(p.name, extra)]
    folders = [p for p in foreign if p.is_dir() and not p.is_symlink()]
    if folders:
        names = ", ".join(f"{p.name}/" for p in folders[:5])
        more = f" and {len(folders) - 5} more" if len(folders) > 5 else ""
        raise ResultsError(
            f"{named} holds folders that no run wrote ({names}{more}); results are "
            "written into a folder of their own: choose another --out"
        )
    ours = [p for p in entries if _ours(p.name, extra) and not p.name.endswith(".tmp")]
    if not replace and (ours or foreign):
        names = ", ".join(p.name for p in foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        if not foreign:
            reason = "already holds results"
            remedy = "add --force to overwrite them"
        elif not ours:
            reason = f"holds files that no run wrote ({names})"
            remedy = "add --force to write the results beside them (those files are kept)"
        else:
            reason = f"already holds results, and files that no run wrote ({names})"
            remedy = "add --force to overwrite the results (those other files are kept)"
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
    _between_files()


def _between_files() -> None:
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
) -> Iterator[Folder]:
    """Write a results folder whole: yield a :class:`Folder` to write into, swap it in at the end.

    Checks first (before any work): ``out`` can be written, no other process is writing it,
    and it holds no result unless ``replace`` (``--force``). The lock is held until the end.
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
        foreign = _foreign(target, replace, extra, named)
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
            shutil.rmtree(left, ignore_errors=True)


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


@functools.cache
def platform_info() -> dict[str, Any]:
    """Python, operating system and package versions; read once per process."""
    from sim.experiments.ensemble import versions

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
    root = Path(__file__).resolve().parent.parent
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


# --------------------------------------------------------------------------- #
# Results of run and compare
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Results:
    """A results folder read back: its tables and metadata."""

    folder: Path
    runs: pd.DataFrame
    curves: pd.DataFrame
    occupancy: pd.DataFrame
    summary: pd.DataFrame
    metadata: dict[str, object]
    comparison: pd.DataFrame | None = None

    @property
    def ensembles(self) -> list[dict[str, object]]:
        return list(self.metadata["ensembles"])  # type: ignore[call-overload]

    @property
    def first_scenario(self) -> dict[str, object]:
        return dict(self.ensembles[0]["scenario"])  # type: ignore[call-overload]

    @property
    def rung_names(self) -> list[str]:
        ladder = self.first_scenario["ladder"]
        return [rung["name"] for rung in ladder["rungs"]]  # type: ignore[index]

    @property
    def start_date(self) -> str | None:
        start = self.first_scenario.get("start_date")
        return str(start) if start else None

    @property
    def horizon(self) -> int:
        return int(self.first_scenario["horizon"])  # type: ignore[call-overload]

    @property
    def war(self) -> int:
        return len(self.rung_names) - 1


@dataclass(frozen=True)
class Saved:
    """What :func:`save` wrote: file names, and why the figures are missing, if they are."""

    files: list[str]
    comparison: pd.DataFrame | None = None
    figures_error: str | None = None


def save(
    ensembles: Sequence[Ensemble],
    folder: Folder,
    rungs: Sequence[int] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> Saved:
    """Write the tables, figures and (last) metadata of one ensemble or a comparison.

    ``provenance`` adds keys to the metadata (the command, how to rerun it). If the disk fills
    up while the figures are drawn, the figures are left out and the tables are still saved;
    ``python run.py plot`` draws them later. Ctrl-C stops it between two files.
    """
    with interrupts_between_files():
        return _save(ensembles, folder, rungs, provenance)


def _save(
    ensembles: Sequence[Ensemble],
    folder: Folder,
    rungs: Sequence[int] | None,
    provenance: Mapping[str, Any] | None,
) -> Saved:
    scenario = ensembles[0].scenario
    tables = {
        name: pd.concat([getattr(e, name) for e in ensembles], ignore_index=True) for name in TABLES
    }
    comparison = None
    if len(ensembles) > 1:
        comparison = analysis.compare_runs(
            tables["runs"], outcomes.for_scenario(scenario), scenario.horizon
        )
    for name, table in tables.items():
        folder.table(table, name)
    if comparison is not None:
        folder.table(comparison, "comparison")
    metadata: dict[str, Any] = {
        "kind": "comparison" if len(ensembles) > 1 else "ensemble",
        "ensembles": [
            {**e.metadata, "scenario_hash": scenario_hash(e.metadata["scenario"])}
            for e in ensembles
        ],
    }
    drawn = Results(folder=folder.path, metadata=metadata, comparison=comparison, **tables)
    figures_error = None
    try:
        for name, figure in figures(drawn, rungs).items():
            for suffix in FIGURE_SUFFIXES:
                folder.figure(figure, f"{name}{suffix}")
    except ResultsError as error:
        folder.drop_figures()
        figures_error = str(error)
    metadata = {
        "kind": metadata["kind"],
        **folder.manifest(),
        "format": folder.table_format,
        "written": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **(provenance or {}),
        "platform": platform_info(),
        **({"code": code_revision()} if code_revision() is not None else {}),
        "ensembles": metadata["ensembles"],
    }
    folder.json(metadata, MARKER)
    return Saved(
        files=[*folder.files, *folder.figures], comparison=comparison, figures_error=figures_error
    )


def load(folder: Path) -> Results:
    """Read a results folder written by ``run`` or ``compare``, checked to be one whole result.

    Each table's bytes must match the SHA-256 that ``metadata.json`` (written last) lists for it;
    a folder mixing files of two runs, changed by hand, or written by a version that did not list
    its files is a ResultsError that says which file and how to remake the folder.
    """
    if not os.path.isdir(folder):
        raise ResultsError(f"{shown(folder)} is not a folder")
    record = folder / MARKER
    if not record.is_file():
        missing = [
            f"{name}.csv"
            for name in TABLES
            if not any((folder / f"{name}.{fmt}").exists() for fmt in FORMATS)
        ]
        raise ResultsError(
            f"{shown(folder)} is not a results folder (missing {', '.join([*missing, MARKER])}); "
            "make one with 'python run.py run SCENARIO'"
        )
    try:
        metadata = json.loads(record.read_bytes())
    except (OSError, ValueError) as error:
        raise ResultsError(f"{shown(folder)}/{MARKER} cannot be read ({error})") from None
    rerun = _rerun_hint(metadata)
    files = metadata.get("files") if isinstance(metadata, dict) else None
    if not isinstance(files, dict) or not isinstance(metadata.get("run_id"), str):
        raise ResultsError(
            f"{shown(folder)}: its {MARKER} lists no files and no run id (it was written by an "
            f"earlier version, or by hand), so it cannot be checked as one complete result; "
            f"{rerun}"
        )
    ensembles = metadata.get("ensembles")
    if not (
        isinstance(ensembles, list)
        and ensembles
        and all(isinstance(e, dict) and isinstance(e.get("scenario"), dict) for e in ensembles)
    ):
        raise ResultsError(
            f"{shown(folder)}/{MARKER} does not describe the ensembles it holds; {rerun}"
        )
    tables: dict[str, pd.DataFrame] = {}
    wanted = [*TABLES, *(["comparison"] if metadata.get("kind") == "comparison" else [])]
    for stem in wanted:
        name = next((n for n in (f"{stem}.{fmt}" for fmt in FORMATS) if n in files), None)
        if name is None:
            raise ResultsError(
                f"{shown(folder)} is not one complete result: its {MARKER} lists no {stem} "
                f"table; {rerun}"
            )
        tables[stem] = _read_checked(folder, name, str(files[name]), rerun)
    comparison = tables.pop("comparison", None)
    return Results(folder=folder, metadata=metadata, comparison=comparison, **tables)


def _rerun_hint(metadata: Any) -> str:
    rerun = metadata.get("rerun") if isinstance(metadata, dict) else None
    if isinstance(rerun, str):
        return f"remake it with: {rerun}"
    return "remake it by running the command again"


def _read_checked(folder: Path, name: str, expected: str, rerun: str) -> pd.DataFrame:
    """A table whose bytes are exactly those the run wrote (hashed as read, so a swap in the
    middle of reading is caught too)."""
    try:
        data = (folder / name).read_bytes()
    except FileNotFoundError:
        raise ResultsError(
            f"{shown(folder)} is not one complete result: {name} is missing; {rerun}"
        ) from None
    except OSError as error:
        raise ResultsError(
            f"{shown(folder)}/{name} cannot be read ({disk_reason(error)})"
        ) from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise ResultsError(
            f"{shown(folder)} is not one complete result: {name} is not the file its {MARKER} "
            f"lists (it was changed, or comes from another run); {rerun}"
        )
    try:
        if name.endswith(".parquet"):
            require_format("parquet")
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data))
    except ResultsError:
        raise
    except Exception as error:  # noqa: BLE001 - any parser failure is an unreadable table
        raise ResultsError(f"{shown(folder)}/{name} cannot be read ({error})") from None


def figures(results: Results, rungs: Sequence[int] | None = None) -> dict[str, Figure]:
    """Every figure of a results folder, drawn from its tables.

    Scenarios are labelled by :func:`plotting.scenario_labels` (short descriptions, else their
    names made readable). A comparison's figure shows every outcome's difference with its 95%
    CI and, over days, the outcome that differs most (:func:`plotting.most_different`).
    """
    names = list(dict.fromkeys(results.curves["scenario"]))
    descriptions = {
        str(scenario.get("name")): str(scenario.get("description") or "")
        for scenario in (dict(e.get("scenario") or {}) for e in results.ensembles)  # type: ignore[call-overload]
    }
    labels = plotting.scenario_labels(names, descriptions)
    drawn = {
        "curves": plotting.escalation_curves(
            results.curves, results.rung_names, rungs, results.start_date, labels
        ),
        "occupancy": plotting.occupancy(
            results.occupancy, results.rung_names, results.start_date, labels
        ),
    }
    if len(names) > 1 and results.comparison is not None and len(results.comparison):
        actors: dict[str, dict[str, object]] = dict(results.first_scenario["actors"])  # type: ignore[call-overload]
        states = list(actors)
        display = {state: str(actor.get("name", state)) for state, actor in actors.items()}
        columns: dict[str, list[str]] = {}
        for name in dict.fromkeys(results.comparison["outcome"]):
            try:
                definition = outcomes.outcome(
                    str(name), results.horizon, results.war, states, display
                ).definition
            except ValueError:
                continue
            found = plotting.day_columns(definition, list(results.runs.columns))
            if found:
                columns[str(name)] = found
        shown_outcome = plotting.most_different(results.comparison, list(columns))
        curve = (
            analysis.outcome_curve(results.runs, columns[shown_outcome], results.horizon)
            if shown_outcome is not None
            else None
        )
        drawn["comparison"] = plotting.comparison_figure(
            results.comparison, shown_outcome, curve, labels, results.start_date
        )
    if "parameter_set" in results.runs.columns:
        # some numbers were uncertain: chance and parameter uncertainty apart, per scenario
        states = list(dict(results.first_scenario["actors"]))  # type: ignore[call-overload]
        names_shown = [n for n in UNCERTAINTY_OUTCOMES if _fits(n, results.horizon)]
        chosen = [outcomes.outcome(n, results.horizon, results.war, states) for n in names_shown]
        uncertain = results.runs.dropna(subset=["parameter_set"])
        for scenario, runs in uncertain.groupby("scenario", sort=False):
            key = "uncertainty" if len(names) == 1 else f"uncertainty_{scenario}"
            drawn[key] = plotting.uncertainty_figure(
                analysis.parameter_set_estimates(runs, chosen),
                analysis.uncertainty_split(runs, chosen),
                labels.get(str(scenario), str(scenario)),
            )
    return drawn


UNCERTAINTY_OUTCOMES = ("answer_7d", "forces_30d", "sustained", "calm_14d")
"""The outcomes the uncertainty figure shows, where the horizon reaches them."""


def _fits(name: str, horizon: int) -> bool:
    digits = "".join(c for c in name if c.isdigit())
    return not digits or int(digits) <= horizon


def draw(results: Results, rungs: Sequence[int] | None = None) -> list[Path]:
    """Draw every figure of a results folder into it, as PNG and SVG (each file replaced whole).

    A full disk is a ResultsError; the figures not yet redrawn keep their earlier version.
    Ctrl-C stops it between two files.
    """
    with interrupts_between_files():
        return _draw(results, rungs)


def _draw(results: Results, rungs: Sequence[int] | None) -> list[Path]:
    written = []
    for name, figure in figures(results, rungs).items():
        for suffix in FIGURE_SUFFIXES:
            _between_files()
            path = results.folder / f"{name}{suffix}"
            try:
                write_figure(figure, path)
            except OSError as error:
                raise ResultsError(
                    f"cannot write {path.name} in {shown(results.folder)} "
                    f"({disk_reason(error)}); the figures not yet redrawn keep their earlier "
                    "version"
                ) from None
            written.append(path)
    return written
