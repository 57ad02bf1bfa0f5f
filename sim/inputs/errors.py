"""The errors a user can meet, each reported in one paragraph with exit code 2.

Kept apart from the modules that raise them, so the command line can catch them without
loading the model first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# a value in words: written once in the lowest wing, said from here to every wing above it
from sim.model.schema import kind_of as kind_of
from sim.model.schema import short as short


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where it came from, where it is, what was expected."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        if self.source == "--set":
            return f"--set {self.path}: {self.message}"
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario (or another input file) that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        if len(problems) == 1:
            text = str(problems[0])
        else:
            text = f"{len(problems)} problems in the scenario:\n" + "\n".join(
                f"  - {problem}" for problem in problems
            )
        super().__init__(text)


class ResultsError(Exception):
    """A results folder that cannot be written or read."""


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` to a mistyped ``word``, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# How a value reads in a message: one wording for every input problem.


def dotted(loc: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in loc)


def shape_of(value: Any) -> str:
    """What a value is, without its content (for files that may not be scenarios at all)."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return kind_of(value)


def listing(names: list[str], most: int = 12) -> str:
    """Names for a message: at most ``most`` of them, then how many more."""
    if not names:
        return "none"
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(excerpt(n) for n in names[:most]) + more


def excerpt(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
