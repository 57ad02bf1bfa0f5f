"""A calibration's folder: what a resume must match, read back checked, and a pyabc database
that exists only whole.

A calibration is resumed only when everything its result depends on is what the folder records
(``settings`` in ``metadata.json``: the library's hash and cases, the model's version and
fingerprint, the size, the seed, the priors and the version of pyabc, whose database holds the
finished generations). Anything else, a damaged ``metadata.json`` (not JSON, or a value of the
wrong type) or a ``pyabc.db`` that is not a database pyabc can resume (empty, truncated, a
folder), is refused with one message naming the file, the key and the remedy: ``--force`` (the
old files kept in ``<folder>.previous``) or another ``--out``.

``pyabc.db`` is created as ``pyabc.db.partial`` and renamed into place once pyabc has set it up,
so a calibration killed at any moment leaves no database at all, or one whose stored
generations are whole (SQLite commits each generation at once); the rerun resumes it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.inputs.errors import Problem, ScenarioError

DB_NAME = "pyabc.db"
PARTIAL_DB = f"{DB_NAME}.partial"
"""Where a new database is set up before it is renamed to ``DB_NAME``."""
METADATA = "metadata.json"
KIND = "escalation-sim calibration"
CV_KIND = "escalation-sim cross-validation"
ADVICE = (
    "choose another --out, or add --force to start afresh (the old files kept in "
    "<folder>.previous beside it)"
)


class CalibrationError(ScenarioError):
    """A calibration that cannot start or resume, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        if len(problems) > 1:
            text = f"{len(problems)} problems with the calibration:\n" + "\n".join(
                f"  - {problem}" for problem in problems
            )
            self.args = (text,)


SETTING_OPTIONS = {
    "populations": "--populations",
    "particles": "--particles",
    "runs": "--runs",
    "seed": "--seed",
    "check_runs": "--check-runs",
}


def pyabc_version() -> str:
    """The version of pyabc, whose database format holds the stored generations."""
    from sim.files.folders import versions

    return versions("pyabc")["pyabc"]


# --------------------------------------------------------------------------- #
# metadata.json, read back checked
# --------------------------------------------------------------------------- #


def _whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _text_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _mapping(value: Any) -> bool:
    return isinstance(value, dict)


Check = Callable[[Any], bool]
TYPES: dict[str, tuple[Check, str]] = {
    "kind": (_text, "text"),
    "settings": (_mapping, "a mapping"),
    "settings.library_hash": (_text, "text"),
    "settings.cases": (_texts, "a list of case names"),
    "settings.left_out": (_text_or_none, "a case name or null"),
    "settings.model": (_mapping, "a mapping"),
    "settings.model.version": (_text, "text"),
    "settings.model.fingerprint": (_text, "text"),
    "settings.populations": (_whole, "a whole number"),
    "settings.particles": (_whole, "a whole number"),
    "settings.runs": (_whole, "a whole number"),
    "settings.seed": (_whole, "a whole number"),
    "settings.check_runs": (_whole, "a whole number"),
    "settings.parameters": (_mapping, "a mapping"),
    "settings.pyabc": (_text, "text"),
    "complete": (lambda v: isinstance(v, bool), "true or false"),
    "generations_done": (_whole, "a whole number"),
    "started": (_text, "text"),
    "finished": (_text_or_none, "text or null"),
    "command": (_texts, "a list of words"),
    "wall_seconds": (_number, "a number"),
}
"""The type of every key of ``metadata.json`` a resume reads (a key may be missing: a missing
setting is a difference, reported as such)."""
REQUIRED = frozenset({"settings"})
"""Keys without which a ``metadata.json`` says nothing a resume could match."""


def _lookup(data: dict[str, Any], key: str) -> tuple[bool, Any]:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def read_metadata(folder: Path, kind: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """``folder``'s ``metadata.json`` if it is one of ``kind`` (None if it is no calibration's),
    with a problem for every key a resume reads that has the wrong type."""
    import json

    path = folder / METADATA
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("kind") != kind:
        return None, []
    problems = []
    from sim.inputs.errors import kind_of

    for key, (check, expected) in TYPES.items():
        present, value = _lookup(data, key)
        if present and check(value):
            continue
        if present or key in REQUIRED:
            found = f"found {kind_of(value)}" if present else "found nothing"
            problems.append(
                Problem(
                    str(path),
                    key,
                    f"expected {expected}, {found}: this metadata.json is damaged, so the "
                    f"calibration cannot be resumed; {ADVICE}",
                )
            )
    return data, problems


def check_folder(out: Path, expected: dict[str, Any], force: bool, kind: str = KIND) -> None:
    """Check that ``out`` can hold this calibration: empty, or the same calibration to resume,
    with a database pyabc can resume.

    With ``force``, a folder holding anything else is started afresh; its old files are kept in
    the folder's one ``<name>.previous`` beside it (``sim.files.folders.keep_previous``).
    Every problem is reported at once; nothing is changed then.
    """
    if out.exists() and not out.is_dir():
        raise CalibrationError([Problem("--out", str(out), "is a file, expected a folder")])
    from sim.files.folders import check_target, real_path, shown

    # the one folder rule; a folder of the user's files is told below, in this command's words
    check_target(real_path(out), shown(out), kind=kind, replace=force, names={DB_NAME}, loose=False)
    if not out.is_dir() or not any(out.iterdir()):
        return
    old, problems = read_metadata(out, kind)
    if old is None:
        what = "a calibration" if kind == KIND else "a cross-validation"
        problems.append(
            Problem(
                str(out),
                "",
                f"holds files that are not {what}; choose another --out, or add --force "
                "to start afresh there (the old files kept in <folder>.previous beside it)",
            )
        )
    elif not problems:
        problems += _differences(out / METADATA, old["settings"], expected)
        if not problems and kind == KIND:
            problems += store_problems(out / DB_NAME)
    if not problems:
        return
    if not force:
        raise CalibrationError(problems)
    from sim.files.folders import keep_previous

    keep_previous(out)


def _differences(source: Path, old: dict[str, Any], new: dict[str, Any]) -> list[Problem]:
    where = str(source)
    problems = []
    if old.get("library_hash") != new["library_hash"] or old.get("cases") != new["cases"]:
        problems.append(
            Problem(
                where,
                "settings.library_hash",
                f"this calibration was made from another case library (hash "
                f"{str(old.get('library_hash'))[:12]}, cases {', '.join(old.get('cases') or [])}); "
                f"the library given now has hash {new['library_hash'][:12]}; {ADVICE}",
            )
        )
    if old.get("model") != new["model"]:
        was = old.get("model") or {}
        problems.append(
            Problem(
                where,
                "settings.model",
                f"this calibration was made with another version of the model (version "
                f"{was.get('version')}, fingerprint {was.get('fingerprint')}; now "
                f"{new['model']['version']}, {new['model']['fingerprint']}); {ADVICE}",
            )
        )
    if old.get("left_out") != new["left_out"]:
        problems.append(
            Problem(
                where,
                "settings.left_out",
                f"this calibration left out {old.get('left_out') or 'no case'}, not "
                f"{new['left_out'] or 'no case'}; {ADVICE}",
            )
        )
    for key, option in SETTING_OPTIONS.items():
        if old.get(key) != new.get(key):
            problems.append(
                Problem(
                    where,
                    f"settings.{key}",
                    f"this calibration was started with {option} {old.get(key)}, not "
                    f"{new.get(key)}: rerun with {option} {old.get(key)} to resume it, or {ADVICE}",
                )
            )
    if old.get("parameters") != new["parameters"]:
        problems.append(
            Problem(
                where,
                "settings.parameters",
                f"this calibration fitted other parameters or priors "
                f"({', '.join(old.get('parameters') or {})}); {ADVICE}",
            )
        )
    if old.get("pyabc") != new["pyabc"]:
        problems.append(
            Problem(
                where,
                "settings.pyabc",
                f"this calibration's generations were stored by pyabc "
                f"{old.get('pyabc') or '(version not recorded)'}, and pyabc {new['pyabc']} is "
                f"installed now: its database and proposals may differ; install pyabc "
                f"{old.get('pyabc') or 'as it was'} to resume it, or {ADVICE}",
            )
        )
    return problems


def write_metadata(out: Path, data: dict[str, Any]) -> None:
    from sim.files import folders

    folders.write_json(data, out / METADATA)


# --------------------------------------------------------------------------- #
# pyabc.db: whole or absent
# --------------------------------------------------------------------------- #


def store_problems(db: Path) -> list[Problem]:
    """Why ``db`` cannot be resumed (nothing if it is absent or a database pyabc can resume)."""
    try:
        stored_generations_in(db)
    except CalibrationError as error:
        return list(error.problems)
    return []


def stored_generations_in(db: Path) -> int:
    """Generations stored in the pyabc database ``db`` (0 if there is none); a CalibrationError
    if it is not a database pyabc can resume."""
    import os

    if not os.path.lexists(db):
        return 0
    if not db.is_file():
        reason = "is not a regular file (a folder, a link to nothing, or a device)"
    elif db.stat().st_size == 0:
        reason = "is empty"
    else:
        unreadable = _unreadable(db)
        if unreadable is None:
            return _max_t(db) + 1
        reason = unreadable
    return _refuse(db, reason)


def _refuse(db: Path, reason: str) -> int:
    raise CalibrationError(
        [
            Problem(
                str(db),
                "",
                f"{reason}: it is not a pyabc database that can be resumed; {ADVICE}",
            )
        ]
    )


def _unreadable(db: Path) -> str | None:
    """Why pyabc cannot resume ``db`` (None if it can): read with SQLite first, so a file that
    is not pyabc's is not given pyabc's tables (as opening it with pyabc would)."""
    import sqlite3

    try:
        # read-write, so that SQLite rolls back a commit a kill cut short (its journal)
        connection = sqlite3.connect(db)
        try:
            tables = {
                row[0]
                for row in connection.execute("select name from sqlite_master where type='table'")
            }
            if not {"version", "abc_smc", "populations"} <= tables:
                return "holds no pyabc tables (it was cut short, or is another file)"
            version = connection.execute("select version_num from version").fetchall()
            runs = connection.execute("select count(*) from abc_smc where id = 1").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error as error:
        return f"cannot be read as a database ({error})"
    from pyabc.storage.version import __db_version__

    if [str(row[0]) for row in version] != [str(__db_version__)]:
        found = ", ".join(str(row[0]) for row in version) or "none"
        return (
            f"has database version {found}, not pyabc's {__db_version__} (it was cut short "
            "while being created, or made by another pyabc)"
        )
    if runs != 1:
        return "holds no calibration run"
    return None


def _max_t(db: Path) -> int:
    import pyabc

    last = pyabc.History(f"sqlite:///{db.resolve()}", _id=1, create=False).max_t
    return -1 if last is None else int(last)


def stored_generations(out: Path) -> int:
    """Finished generations stored in a calibration folder (and its folds, if any); a database
    that cannot be resumed counts none."""
    total = 0
    for db in [out / DB_NAME, *sorted((out / "folds").glob(f"*/{DB_NAME}"))]:
        try:
            total += stored_generations_in(db)
        except CalibrationError:
            continue
    return total


def new_store(out: Path, create: Callable[[str], None]) -> Path:
    """``out/pyabc.db``, set up by ``create`` (given its SQLAlchemy URL) under another name
    and renamed into place once whole: killed before, it leaves no ``pyabc.db``."""
    import os

    db = out / DB_NAME
    partial = out / PARTIAL_DB
    for leftover in (partial, out / f"{PARTIAL_DB}-journal"):
        leftover.unlink(missing_ok=True)
    create(f"sqlite:///{partial.resolve()}")
    os.replace(partial, db)
    return db
