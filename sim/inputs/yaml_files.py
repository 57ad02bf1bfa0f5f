"""Reading YAML as this program trusts it: bounded in size, aliases, nesting and text keys;
dates and base-60 numbers left as text for the schema to check; every mapping and list its own.

Scenario files, observed records, profiles and ``--set`` values are all read here, so a
problem in any of them gets the same one-paragraph message naming the file and the place.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml

from sim.inputs.errors import Problem, ScenarioError, dotted, excerpt, kind_of, shape_of

Path_ = tuple[str | int, ...]


MAX_FILE_BYTES = 1_000_000
"""Largest YAML file read (a scenario is a few kilobytes)."""
MAX_ALIASES = 1_000
"""Most aliases (``*name``) a file may use."""
MAX_NODES = 200_000
"""Most values a file may hold once its aliases are expanded (a 'billion laughs' is refused)."""
MAX_DEPTH = 40
"""Deepest nesting of mappings and lists."""
PARSED_KEPT = 32
"""Most texts whose parse is kept (``read_yaml``): a loop that loads the same scenario file at
every point (SALib, EMA Workbench) then parses it once."""
PARSED_BYTES = 100_000
"""Longest text whose parse is kept (a scenario is a few kilobytes; memory stays bounded)."""

_parsed: OrderedDict[str, dict[str, Any]] = OrderedDict()
"""The mapping parsed from each recent file text that read without a problem, oldest first."""
_parsed_lock = threading.Lock()  # the dashboard loads scenarios from several threads


class _HardenedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a cap on aliases, dates left as text (the schema checks
    them with their key path, so '2024-02-30' gets a message rather than a crash), and no key
    written twice in one mapping (PyYAML would silently keep the last: a state listed twice
    would lose its first description)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES:,} aliases")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value if isinstance(node, yaml.MappingNode) else []:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key '{excerpt(str(key_node.value))}' is written twice in one mapping "
                    f"(first on line {seen[key_node.value]}); write each key once",
                    key_node.start_mark,
                )
            seen[key_node.value] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_NUMBERS = {"tag:yaml.org,2002:int": _INT, "tag:yaml.org,2002:float": _FLOAT}
"""YAML 1.1's numbers without its base-60 forms: ``horizon: 1:30`` stays the text '1:30' (the
schema then says it is not a whole number) instead of silently becoming 90."""

_HardenedLoader.yaml_implicit_resolvers = {
    first: [
        (tag, _NUMBERS.get(tag, rx))
        for tag, rx in resolvers
        if tag != "tag:yaml.org,2002:timestamp"
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _independent(node: Any) -> Any:
    """The tree with every mapping and list its own: YAML anchors and aliases (and ``<<:`` merge
    keys) share one object between places, so changing one place (``--set``, a child scenario,
    a dashboard control) would silently change the others. Run after the size check."""
    if isinstance(node, dict):
        return {key: _independent(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_independent(value) for value in node]
    return node


def _plain(node: Any) -> bool:
    """Only mappings, lists and immutable scalars (no ``!!set``, ``!!omap`` and the like), so
    that ``_independent`` gives each copy its own of everything that can change."""
    if isinstance(node, dict):
        return all(_plain(value) for value in node.values())
    if isinstance(node, list):
        return all(_plain(value) for value in node)
    return node is None or isinstance(node, str | int | float | bytes)


def read_value(text: str) -> Any:
    """One value written in YAML (a ``--set`` value), read as scenario files are: dates stay
    text for the schema to check, and the same limits on size, aliases and nesting apply.

    Raises ValueError with a short reason when the text is not one usable YAML value.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ValueError(f"longer than {MAX_FILE_BYTES // 1_000_000} MB")
    try:
        value = yaml.load(text, Loader=_HardenedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        raise ValueError("not valid YAML") from None
    except RecursionError:
        raise ValueError(f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    problems = _check_shape(value, "--set")
    if problems:
        raise ValueError(problems[0].message)
    return _independent(value)


def syntax_message(error: yaml.MarkedYAMLError, text: str) -> str:
    """A YAML syntax error in words a scenario's author can act on: where, what, and for the
    usual slips (a tab, a key out of line) what to do, with the line as written."""
    mark = error.problem_mark
    if mark is None:
        return f"YAML syntax error: {error.problem}"
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    where = f"line {mark.line + 1}, column {mark.column + 1}"
    shown = f" (the line reads: {excerpt(line.strip(), 60)!r})" if line.strip() else ""
    problem = str(error.problem or "")
    if "\t" in line[: len(line) - len(line.lstrip())] or "'\\t'" in problem:
        return (
            f"line {mark.line + 1} is indented with a tab; YAML indents with spaces only: "
            f"replace the tab with spaces, lining the key up with the others of its block{shown}"
        )
    if "expected <block end>" in problem or "mapping values are not allowed" in problem:
        return (
            f"YAML syntax error at {where}: the indentation does not fit; the keys of one block "
            "must start in the same column, a key inside a block further right than the block's "
            f"name, and a value on the same line as its key needs a space after the colon{shown}"
        )
    return f"YAML syntax error at {where}: {problem}{shown}"


def read_yaml(path: Path, what: str = "a scenario") -> dict[str, Any]:
    """Read one YAML mapping, within the limits above; every problem is a ``ScenarioError``.

    Only regular files are read (not folders, devices or symbolic-link loops); keys must be
    text; the whole document is walked once, with a budget, before anything else touches it.
    The file is read every time, but a text read before is not parsed again (``PARSED_KEPT``):
    the caller gets a fresh copy of the same mapping, to change as it likes.
    """
    source = str(path)
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise ScenarioError([Problem(source, "", "no such file")]) from None
    except (OSError, RuntimeError) as error:
        raise ScenarioError([Problem(source, "", f"cannot be read ({error})")]) from None
    if resolved.is_dir():
        raise ScenarioError([Problem(source, "", f"is a folder, expected {what} YAML file")])
    if not resolved.is_file():
        raise ScenarioError(
            [Problem(source, "", f"is not a regular file; expected {what} YAML file")]
        )
    try:
        with resolved.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ScenarioError(
                [
                    Problem(
                        source,
                        "",
                        f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; expected {what} YAML file",
                    )
                ]
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError([Problem(source, "", f"cannot be read ({error})")]) from None
    with _parsed_lock:
        kept = _parsed.get(text)
        if kept is not None:
            _parsed.move_to_end(text)
    if kept is not None:  # the same text parses to the same mapping: each caller its own copy
        return _independent(kept)
    try:
        data = yaml.load(text, Loader=_HardenedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        raise ScenarioError([Problem(source, "", syntax_message(error, text))]) from None
    except yaml.YAMLError as error:
        raise ScenarioError([Problem(source, "", f"YAML syntax error: {error}")]) from None
    except RecursionError:
        raise ScenarioError(
            [Problem(source, "", f"nested too deeply (at most {MAX_DEPTH} levels)")]
        ) from None
    if data is None:
        raise ScenarioError(
            [Problem(source, "", f"the file is empty; expected {what} (see docs/scenarios.md)")]
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                Problem(
                    source,
                    "",
                    f"expected a mapping of {what.split(' ', 1)[-1]} keys, got {shape_of(data)}",
                )
            ]
        )
    problems = _check_shape(data, source)
    if problems:
        raise ScenarioError(problems)
    if len(text) <= PARSED_BYTES and _plain(data):
        with _parsed_lock:  # the parse as read, never handed out: each caller gets a copy
            _parsed[text] = data
            while len(_parsed) > PARSED_KEPT:
                _parsed.popitem(last=False)
    return _independent(data)


def _check_shape(data: Any, source: str) -> list[Problem]:
    """Depth, size (aliases expanded) and text keys, in one walk that stops at the budget."""
    problems: list[Problem] = []
    budget = [MAX_NODES]
    stack: list[tuple[Any, Path_]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            return [
                Problem(
                    source,
                    "",
                    f"holds more than {MAX_NODES:,} values once its aliases are expanded",
                )
            ]
        if len(loc) > MAX_DEPTH:
            return [
                Problem(source, dotted(loc[:MAX_DEPTH]), f"nested deeper than {MAX_DEPTH} levels")
            ]
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    problems.append(
                        Problem(
                            source,
                            dotted((*loc, "null" if key is None else str(key))),
                            f"keys must be text, got {kind_of(key)}",
                        )
                    )
                    continue
                stack.append((value, (*loc, key)))
        elif isinstance(node, list):
            stack.extend((value, (*loc, i)) for i, value in enumerate(node))
    return problems
