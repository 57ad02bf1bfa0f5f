"""The tutorial notebook runs top to bottom, as a student would run it from JupyterLab."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TUTORIAL = NOTEBOOKS / "tutorial.ipynb"
INTERVAL = re.compile(r"difference +[+-]\d+\.\d points \(95% CI [+-]\d+\.\d to [+-]\d+\.\d\)")


def _text(cell) -> str:
    """Everything a code cell printed or displayed as text, errors included."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] == "error":
            parts.append("\n".join([output["ename"], output["evalue"], *output["traceback"]]))
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _tagged(notebook, tag: str):
    cells = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}"
    return cells[0]


def test_notebook_is_committed_clean() -> None:
    notebook = nbformat.read(TUTORIAL, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_notebook_uses_the_public_api() -> None:
    notebook = nbformat.read(TUTORIAL, as_version=4)
    source = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "from sim import" in source
    assert not re.search(r"^\s*(from|import) sim\.", source, re.M), "only `from sim import`"


@pytest.mark.slow
def test_tutorial_runs_top_to_bottom() -> None:
    notebook = nbformat.read(TUTORIAL, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell.execution_count is not None, f"cell did not run: {cell.source[:60]}"
        text = _text(cell)
        assert "Traceback" not in text and "Error" not in text, text[-2000:]

    # The comparison prints each outcome's difference with its 95% interval.
    comparison = _text(_tagged(notebook, "comparison"))
    assert len(INTERVAL.findall(comparison)) >= 3, comparison
    # Accepted mediation brings calm within 14 days far more often: an interval above 0.
    calm = _text(_tagged(notebook, "calm"))
    match = re.search(r"Difference: ([+-]\d+\.\d) points \(95% CI ([+-]\d+\.\d) to", calm)
    assert match is not None, calm
    assert float(match[2]) > 0, calm
    # Figures are shown inline.
    images = [
        output
        for cell in code_cells
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(images) >= 3
