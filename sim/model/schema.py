"""The scenario schema read as data: a key's type under its wrappers, and the range it allows.

One reading of pydantic annotations for every walk over the schema: the scenario's own check of
uncertain numbers (``sim.model.uncertainty``), the loader's messages, the parameter space and the
schema reference. Each walk goes over something else (a raw mapping, a checked scenario, a key
path, the classes alone), but all of them ask these two questions the same way.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

import annotated_types
from pydantic.fields import FieldInfo

Number = int | float


def unwrap(
    annotation: Any, constraints: list[Any] | None = None, *, optional: bool = True
) -> tuple[Any, list[Any]]:
    """The type under ``Annotated`` (and, if ``optional``, under ``X | None``) with every
    constraint met on the way, a field's own metadata first if given in ``constraints``."""
    found = list(constraints or [])
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *meta = get_args(annotation)
            for item in meta:
                found += list(getattr(item, "metadata", [])) or [item]
        elif optional and origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation, found
            annotation = members[0]
        else:
            return annotation, found


@dataclass(frozen=True)
class Limits:
    """The lowest and highest values a key's constraints allow (None: unbounded), each
    inclusive unless ``*_open``. The numbers are the schema's own, as written there."""

    low: Number | None = None
    high: Number | None = None
    low_open: bool = False
    high_open: bool = False

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) as floats, infinite where unbounded."""
        return (
            -math.inf if self.low is None else float(self.low),
            math.inf if self.high is None else float(self.high),
        )

    def allows(self, value: float) -> bool:
        low, high = self.bounds
        above = value > low if self.low_open else value >= low
        below = value < high if self.high_open else value <= high
        return above and below

    def words(self) -> str:
        """'from 0 to 1', 'at least 0', 'above 0 and at most 1'... ('' when unbounded)."""
        if self.low is not None and self.high is not None and not (self.low_open or self.high_open):
            return f"from {self.low} to {self.high}"
        parts = []
        if self.low is not None:
            parts.append(f"{'above' if self.low_open else 'at least'} {self.low}")
        if self.high is not None:
            parts.append(f"{'below' if self.high_open else 'at most'} {self.high}")
        return " and ".join(parts)


def limits(constraints: typing.Iterable[Any]) -> Limits:
    """The range the constraints allow; a nested ``FieldInfo`` counts with its own metadata."""
    low: Number | None = None
    high: Number | None = None
    low_open = high_open = False
    for item in constraints:
        if isinstance(item, FieldInfo):
            inner = limits(item.metadata)
            low, low_open, high, high_open = inner.low, inner.low_open, inner.high, inner.high_open
        elif isinstance(item, annotated_types.Ge):
            low, low_open = typing.cast(Number, item.ge), False
        elif isinstance(item, annotated_types.Gt):
            low, low_open = typing.cast(Number, item.gt), True
        elif isinstance(item, annotated_types.Le):
            high, high_open = typing.cast(Number, item.le), False
        elif isinstance(item, annotated_types.Lt):
            high, high_open = typing.cast(Number, item.lt), True
    return Limits(low, high, low_open, high_open)


# --------------------------------------------------------------------------- #
# A value in words, for messages (here, the lowest wing, so that the model's own checks and
# sim.inputs.errors say a value the same way)
# --------------------------------------------------------------------------- #


def cut(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters, ending in ``...`` when cut."""
    return text if len(text) <= width else text[: width - 3] + "..."


def short(value: Any) -> str:
    """A value as the user wrote it, cut to a readable length."""
    return cut(repr(value))


def kind_of(value: Any) -> str:
    """How a YAML value reads to its author: ``text 'high'``, ``true``, ``a list``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null (nothing)"
    if isinstance(value, str):
        return f"text '{cut(value)}'"
    if isinstance(value, int | float):
        return short(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
