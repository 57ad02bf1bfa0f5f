"""The public API's argument checks: one wording for every function of ``sim`` (issue 23).

A Python caller gets what a command-line user gets: a bad argument is a TypeError (wrong kind
of value) or a ValueError (right kind, out of range) whose one-line message names the argument
and what was expected, before any work starts; never a numpy or pathlib error from deep inside,
a hang, or a job far larger than any the command line could start.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.inputs.errors import excerpt

if TYPE_CHECKING:
    from sim.model.scenario import Scenario

SEED_MAX = 2**63 - 1
"""The largest seed of a run: the seed column of runs.csv holds 63-bit seeds."""


def shown(value: object) -> str:
    """A value for a message, cut when it is long (a huge list or text is not repeated whole)."""
    return excerpt(repr(value), 60)


def whole(name: str, value: object, low: int, high: int | None = None) -> int:
    """``value`` if it is a whole number from ``low`` to ``high``; else a TypeError or ValueError
    naming the argument (a float, a bool, infinity or a string is not a number of runs)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {shown(value)}")
    number = int(value)
    if number < low or (high is not None and number > high):
        bound = f"from {low:,} to {high:,}" if high is not None else f"at least {low:,}"
        raise ValueError(f"{name} must be {bound}, got {number:,}")
    return number


def number(
    name: str, value: object, low: float, high: float | None = None, *, above: bool = False
) -> float:
    """``value`` if it is a finite real number from ``low`` (or ``above`` it) to ``high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {shown(value)}")
    try:
        real = float(value)
    except OverflowError:  # a whole number beyond any float
        real = math.inf
    start = f"above {low:g}" if above else f"at least {low:g}"
    bound = f"{start} and at most {high:g}" if high is not None else f"a finite number {start}"
    if (
        not math.isfinite(real)
        or not (low < real if above else low <= real)
        or (high is not None and real > high)
    ):
        raise ValueError(f"{name} must be {bound}, got {shown(value)}")
    return real


def flag(name: str, value: object) -> bool:
    """``value`` if it is True or False (a string such as 'no' would be read as true)."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":  # numpy's bool too
        raise TypeError(f"{name} must be True or False, got {shown(value)}")
    return bool(value)


def path(name: str, value: object) -> Path:
    """``value`` as a Path if it is a str or os.PathLike naming something (not bytes, not empty,
    no NUL character, which no file system takes)."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a path (str or pathlib.Path), got {type(value).__name__}")
    text = os.fspath(value)
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a path as text, got {type(text).__name__}")
    if not text or "\0" in text:
        raise ValueError(f"{name} must name a file or folder, got {shown(text)}")
    return Path(text)


def names(name: str, value: object, what: str = "names") -> list[str]:
    """``value`` as a list if it is a list (or tuple, ...) of strings, not a string itself."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of {what}, got {shown(value)}")
    items = list(value)
    wrong = [item for item in items if not isinstance(item, str)]
    if wrong:
        raise TypeError(f"{name} must be a list of {what}, got {shown(wrong[0])} among them")
    return items


def scenario(name: str, value: object, function: str) -> Scenario:
    """A checked Scenario: ``value`` itself, or the scenario file it names (``load_scenario``).

    A Scenario is checked again (a few milliseconds): one changed with ``model_copy(update=...)``
    or built with ``model_construct`` skipped the checks, and a horizon of a million days would
    run for hours. A problem is the ScenarioError the loader gives.
    """
    from sim.inputs.loader import load_scenario, scenario_from_mapping
    from sim.model.scenario import Scenario

    if isinstance(value, str | os.PathLike):
        return load_scenario(path(name, value))
    if not isinstance(value, Scenario):
        raise TypeError(
            f"{function} takes a Scenario (sim.load_scenario) or a scenario file's path as "
            f"{name}, not {type(value).__name__}"
        )
    try:
        written = value.model_dump(mode="json", warnings=False, exclude_unset=True)
    except Exception as error:  # noqa: BLE001 - a scenario built without its checks
        raise ValueError(f"{name} is not a whole scenario ({excerpt(str(error), 200)})") from None
    scenario_from_mapping(written, source=name)
    return value


def counts(name: str, value: object) -> Any:
    """``value`` as a float array if it is a whole number, or an array or list of them, each
    finite and at least 0 (a count of runs); else a TypeError or ValueError naming it."""
    import numpy as np

    if isinstance(value, str | bytes | Mapping) or value is None:
        raise TypeError(f"{name} must be a whole number or an array of them, got {shown(value)}")
    try:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = float(value)  # a Python int of any size, beyond numpy's int64 too
        array = np.asarray(value)
    except (ValueError, OverflowError):  # ragged lists, numbers beyond any array
        raise ValueError(
            f"{name} must be a whole number or an array of them, got {shown(value)}"
        ) from None
    if array.dtype.kind not in "iuf" or array.dtype.kind == "b":
        raise TypeError(f"{name} must be a whole number or an array of them, got {shown(value)}")
    with np.errstate(invalid="ignore", over="ignore"):
        array = array.astype(float)
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array != np.floor(array)):
        raise ValueError(f"{name} must be finite whole numbers from 0 up, got {shown(value)}")
    return array
