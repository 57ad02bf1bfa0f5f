"""Dotted key paths into a scenario mapping: the one way to change a value by its path.

``--set actors.iran.pledge=0.1``, a sweep's ``--param`` and the design points of a ``sweep:``
block all name a value by its dotted key path; list items are addressed by number
(``events.0.day``). This module walks such a path through nested mappings and lists and sets the
value, or says in one sentence where the path leaves the data. It knows nothing of the scenario's
schema: the loader passes it hooks for that (which missing keys are blocks the file may leave to
their defaults, and what to do before a value lands), and turns its errors into its problems.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from sim.inputs.errors import did_you_mean

Location = tuple[str | int, ...]
"""Where a value sits: keys of mappings and numbers of list items, from the top."""

EXAMPLE = "actors.iran.pledge"


class OverrideError(ValueError):
    """A key path that does not lead to a value: ``path`` is as far as it got."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def split(key_path: str) -> list[str]:
    """The keys of a dotted key path; an empty key (``a..b``, ``.a``) is refused."""
    keys = key_path.split(".")
    if not all(keys):
        raise OverrideError(key_path, f"expected a dotted key path such as {EXAMPLE}")
    return keys


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def set_value(
    data: MutableMapping[str, Any],
    key_path: str,
    value: Any,
    *,
    is_block: Callable[[Location], bool] = lambda location: False,
    before_set: Callable[[Any, Location, Any], None] | None = None,
    describe_value: Callable[[Any], str] = _short,
) -> Location:
    """Set ``value`` at ``key_path`` inside ``data`` (changed in place); return its location.

    A missing key is created only as the last key (the schema then says whether it is allowed)
    or where ``is_block(location)`` says the data may leave a whole block out. ``before_set``
    sees the holder, the location and the new value just before the value is set;
    ``describe_value`` words a value that stands where the path needs keys.
    """
    keys = split(key_path)
    location: list[str | int] = []
    node: Any = data
    for depth, key in enumerate(keys):
        here = ".".join(keys[: depth + 1])
        where = ".".join(keys[:depth]) or "the top level"
        last = depth == len(keys) - 1
        index: str | int
        if isinstance(node, list):
            if not (key.isascii() and key.isdigit()) or int(key) >= len(node):
                raise OverrideError(
                    here,
                    f"{where} is a list of {len(node)} items; expected an item number from 0 "
                    f"to {len(node) - 1}",
                )
            index = int(key)
        elif isinstance(node, MutableMapping):
            if key not in node and not last:
                if not is_block((*location, key)):
                    keys_here = [str(k) for k in node]
                    raise OverrideError(
                        here, f"no such key in {where}{did_you_mean(key, keys_here)}"
                    )
                node[key] = {}  # a block the data leaves to its defaults
            index = key
        else:
            raise OverrideError(here, f"{where} holds {describe_value(node)}, not keys")
        location.append(index)
        if last:
            if before_set is not None:
                before_set(node, tuple(location), value)
            node[index] = value
        else:
            node = node[index]
    return tuple(location)
