"""The house: wings layered ``model < inputs < files < analysis < experiments < views < cli``.

Every import, at the top of a module, inside a function or under ``TYPE_CHECKING``, points to
the importer's own wing or one below it, and the modules import each other without a circle.
Read from the source text (nothing is imported), so a lazy import cannot hide an arrow.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"
WINGS = ("model", "inputs", "files", "analysis", "experiments", "views", "cli")
TOP = {"sim", "sim.__main__"}
"""The package's front door (lazy public API) and ``python -m sim``: above every wing."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(SIM.rglob("*.py"))}


def wing(module: str) -> int:
    if module in TOP:
        return len(WINGS)
    return WINGS.index(module.split(".")[1])


def imports(module: str) -> set[str]:
    """The project's modules that ``module`` imports, resolved to module names."""
    found: set[str] = set()
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if name in MODULES and name != module)
    return found


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_sits_in_a_wing() -> None:
    loose = [m for m in MODULES if m not in TOP and m.split(".")[1] not in WINGS]
    assert not loose, f"modules outside the wings {WINGS}: {loose}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in TOP))
def test_every_import_points_down(module: str) -> None:
    upward = sorted(
        f"{module} -> {target}"
        for target in GRAPH[module]
        if target not in TOP and wing(target) > wing(module)
    )
    assert not upward, "imports a wing above its own: " + "; ".join(upward)


def test_the_model_reads_no_files_and_knows_no_tables() -> None:
    heavy = re.compile(r"^\s*(import|from) (pandas|matplotlib|pyarrow|yaml)\b", re.M)
    offenders = [
        m for m in MODULES if m.startswith("sim.model") and heavy.search(MODULES[m].read_text())
    ]
    assert not offenders, f"the model wing is numpy only: {offenders}"


def test_no_circle() -> None:
    # Depth-first search; a grey node met again closes a circle.
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(GRAPH, white)
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        colour[node] = grey
        for target in sorted(GRAPH[node]):
            if colour[target] == grey:
                circles.append([*path[path.index(target) :], target])
            elif colour[target] == white:
                visit(target, [*path, target])
        colour[node] = black

    for node in sorted(GRAPH):
        if colour[node] == white:
            visit(node, [node])
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def long_files_allowed() -> set[str]:
    """Files over 600 lines that ``docs/architecture.md`` names, each as one concept."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Files over 600 lines", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `(sim/[\w/]+\.py)`", section, re.M))


def test_no_file_over_600_lines_unless_it_is_one_concept_named_in_the_docs() -> None:
    allowed = long_files_allowed()
    long = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in MODULES.values()
        if len(path.read_text().splitlines()) > 600
    }
    unexplained = {name: lines for name, lines in long.items() if name not in allowed}
    assert not unexplained, (
        f"over 600 lines and not explained in docs/architecture.md: {unexplained}"
    )
    stale = allowed - set(long)
    assert not stale, f"docs/architecture.md names files that are no longer long: {stale}"
