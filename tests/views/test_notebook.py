"""The tutorial notebook runs top to bottom, as a student would run it from JupyterLab, and what it
prints agrees with what its text tells the student."""

from __future__ import annotations

import ast
import importlib.util
import re
from itertools import pairwise
from pathlib import Path

import pytest

import sim

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
TUTORIAL = NOTEBOOKS / "tutorial.ipynb"
LIBRARIES = {"matplotlib", "numpy", "pandas", "pathlib", "scipy", "tempfile"}
"""What the notebook may import besides ``sim``: the standard scientific stack."""

NUMBER = r"[+-]?\d+\.\d"
INTERVAL = rf"({NUMBER}) (points|days) \(95% CI ({NUMBER}) to ({NUMBER})\)"
VERDICTS = ("higher", "lower", "no detectable difference")


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


def _code(notebook) -> str:
    """The notebook's Python, without IPython magics."""
    return "\n".join(
        line
        for cell in notebook.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if not line.lstrip().startswith("%")
    )


def _listing() -> set[Path]:
    """What is next to the notebook and in results/ (the folders a notebook might write to)."""
    return {
        path
        for folder in (NOTEBOOKS, ROOT / "results")
        if folder.is_dir()
        for path in folder.iterdir()
    }


def _consistent(low: float, high: float, verdict: str) -> bool:
    """The verdict agrees with its 95% CI (bounds rounded to 0.1, so 0 counts on either side)."""
    if verdict == "higher":
        return low >= 0
    if verdict == "lower":
        return high <= 0
    return low <= 0 <= high


def _texts(notebook) -> list[str]:
    """Each code cell's text outputs (printed, or shown as text), images left out: what a rerun
    must reproduce exactly."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for output in cell.outputs:
            if output["output_type"] == "stream":
                parts.append(output["text"])
            elif output["output_type"] == "error":
                parts.append(output["ename"])
            elif "image/png" not in output.get("data", {}):
                parts.append(output.get("data", {}).get("text/plain", ""))
        found.append("".join(parts))
    return found


def test_notebook_is_committed_executed() -> None:
    """Stored with its outputs, so a reader on the web sees them: every code cell ran once, in
    order, and shows something; no error, no path of the machine that ran it."""
    notebook = nbformat.read(TUTORIAL, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    for cell in code:
        assert cell.outputs, f"no output: {cell.source[:60]}"
        assert all(output["output_type"] != "error" for output in cell.outputs), cell.source[:60]
    text = "\n".join(_texts(notebook))
    assert str(ROOT) not in text and "/tmp" not in text and "Traceback" not in text


def test_every_exercise_has_an_answer_that_says_what_its_cell_prints() -> None:
    notebook = nbformat.read(TUTORIAL, as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in notebook.cells]
    exercises = [i for i, t in enumerate(tags) if "exercise" in t]
    assert len(exercises) == 3
    for number, (start, end) in enumerate(pairwise([*exercises, len(tags)]), 1):
        assert notebook.cells[start].source.startswith(f"### Exercise {number}\n")
        answers = [i for i in range(start, end) if "answer" in tags[i]]
        texts = [i for i in range(start, end) if "answer-text" in tags[i]]
        assert len(answers) == len(texts) == 1 and answers[0] < texts[0], (number, answers, texts)
        printed = _text(notebook.cells[answers[0]])
        assert printed.strip(), f"exercise {number}: its answer cell printed nothing"
        # Every number the written answer quotes is one the answer cell printed.
        quoted = re.findall(r"[+-]?\d+\.\d+%?", notebook.cells[texts[0]].source)
        assert quoted, f"exercise {number}: the answer quotes no number"
        for number_text in quoted:
            assert number_text in printed, (number, number_text, printed)


def test_the_why_quote_is_the_line_seed_7_prints() -> None:
    notebook = nbformat.read(TUTORIAL, as_version=4)
    quote = _tagged(notebook, "why-quote").source.split("> why:", 1)[1].split("\n\n", 1)[0]
    quote = "why: " + " ".join(line.removeprefix("> ").strip() for line in quote.splitlines())
    assert quote in " ".join(_text(_tagged(notebook, "story")).split()), quote


def test_notebook_names_are_the_documented_public_api() -> None:
    """One set of names: what the notebook imports from sim is in ``sim.__all__``, and every
    name of ``sim.__all__`` is listed in docs/python.md's table of public names."""
    notebook = nbformat.read(TUTORIAL, as_version=4)
    imported = {
        alias.name
        for node in ast.walk(ast.parse(_code(notebook)))
        if isinstance(node, ast.ImportFrom) and node.module == "sim"
        for alias in node.names
    }
    assert imported and imported <= set(sim.__all__), imported - set(sim.__all__)
    python_md = (ROOT / "docs" / "python.md").read_text()
    table = python_md.split("<!-- names:start -->", 1)[1].split("<!-- names:end -->", 1)[0]
    listed = re.findall(r"^\| `sim\.(\w+)`", table, re.M)
    assert listed == sim.__all__


def test_notebook_uses_the_public_api() -> None:
    notebook = nbformat.read(TUTORIAL, as_version=4)
    source = _code(notebook)
    assert "from sim import" in source
    assert not re.search(r"^\s*(from|import) sim\.", source, re.M), "only `from sim import`"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "sim":
            for alias in node.names:
                # an exported name, or one of the package's modules (sweep, outcomes, ...)
                exported = alias.name in sim.__all__
                assert exported or importlib.util.find_spec(f"sim.{alias.name}"), alias.name
        elif isinstance(node, ast.ImportFrom):
            assert node.module is not None and node.module.split(".")[0] in LIBRARIES, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] in LIBRARIES, alias.name


def _comparison(text: str) -> dict[str, tuple[float, float, float, str, str]]:
    """Outcome -> (difference, CI low, CI high, unit, verdict), from the comparison's lines."""
    found = {}
    for line in text.splitlines():
        match = re.match(rf"^(\w+) +{INTERVAL}, p [<=] [\d.]+: (.+)$", line)
        if match:
            name, difference, unit, low, high, verdict = match.groups()
            found[name] = (float(difference), float(low), float(high), unit, verdict)
    return found


@pytest.mark.slow
def test_tutorial_runs_top_to_bottom() -> None:
    notebook = nbformat.read(TUTORIAL, as_version=4)
    before = _listing()
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    stored = _texts(nbformat.read(TUTORIAL, as_version=4))
    client.execute()  # raises CellExecutionError on the first failing cell
    # The stored outputs are what the code makes now: every text output, cell by cell.
    assert _texts(notebook) == stored, "rerun the notebook and store it (docs/python.md)"

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell.execution_count is not None, f"cell did not run: {cell.source[:60]}"
        text = _text(cell)
        assert "Traceback" not in text and "Error" not in text, text[-2000:]
    # Files go to a temporary folder only: nothing new next to the notebook or in results/.
    after = _listing()
    assert after <= before, after - before

    # One story, with a reason under the decisions.
    story = _text(_tagged(notebook, "story"))
    assert "(seed 7)" in story and "Highest rung reached" in story, story[:500]
    assert story.count("why: ") >= 3, story

    # A world of a many-world model is the run told alone with its seed.
    replay = _text(_tagged(notebook, "replay"))
    assert re.search(r"5 worlds in one model; each identical to its story told alone: True", replay)

    # The paired comparison prints every outcome with an interval whose verdict it agrees with,
    # and shows what the text after it says.
    comparison = _comparison(_text(_tagged(notebook, "comparison")))
    assert len(comparison) >= 12, comparison
    for name, (_, low, high, _, verdict) in comparison.items():
        assert verdict in VERDICTS and _consistent(low, high, verdict), (name, low, high, verdict)
    assert comparison["calm_14d"][4] == "higher"
    assert comparison["days_to_calm"][3:] == ("days", "lower")
    assert comparison["sustained"][4] == "lower"
    assert comparison["restrike"][4] == "lower"
    assert abs(comparison["answer_7d"][0]) < 1.0, "Pakistan's first answer barely moves"

    # Paired against unpaired, for one outcome: same difference, narrower paired interval, and
    # only the paired analysis detects the difference (as the text says).
    paired = _text(_tagged(notebook, "paired"))
    counts = re.search(
        r"([\d,]+) runs each; (\d+) runs differ \((\d+) only with talks accepted, "
        r"(\d+) only with talks refused\)",
        paired,
    )
    assert counts is not None, paired
    runs, differ, b, c = (int(group.replace(",", "")) for group in counts.groups())
    assert differ == b + c > 0
    lines = {}
    for kind in ("paired", "unpaired"):
        match = re.search(rf"{kind} \(\w+\) +{INTERVAL}, width ({NUMBER}) points: (.+)", paired)
        assert match is not None, (kind, paired)
        difference, unit, low, high, width, verdict = match.groups()
        lines[kind] = (float(difference), float(low), float(high), float(width), verdict)
        assert unit == "points" and _consistent(float(low), float(high), verdict), match[0]
    assert (
        lines["paired"][0] == lines["unpaired"][0] == pytest.approx((b - c) / runs * 100, abs=0.05)
    )
    assert lines["paired"][3] < lines["unpaired"][3], lines
    assert lines["paired"][4] != "no detectable difference", lines
    assert lines["unpaired"][4] == "no detectable difference", lines
    assert "compare_runs gave the same paired interval: True" in paired
    # The printed paired interval is Tango's for these counts, recomputed here.
    _, low, high = sim.tango_interval(b, c, runs)
    assert lines["paired"][1:3] == pytest.approx((low * 100, high * 100), abs=0.05)

    # Switching third parties off: no talks at all, and the crisis lasts longer.
    mechanisms = _text(_tagged(notebook, "mechanisms"))
    assert re.search(r"beliefs off: a detectable difference in \d of 6 outcomes", mechanisms)
    third = mechanisms.split("third_parties off:", 1)[1]
    assert re.search(r"accepted +off +0\.0%", third), third
    effects = {  # outcome -> verdict
        match[1]: match[6]
        for match in re.finditer(rf"^ +(\w+) +off .*?: {INTERVAL}, (.+)$", third, re.M)
    }
    assert effects["calm_14d"] == "lower" and effects["days_to_calm"] == "higher", effects

    # The sweep stored every point, none failed.
    sweep = _text(_tagged(notebook, "sweep"))
    assert re.search(r"(\d+)/\1 points stored, 0 failed", sweep), sweep

    # More runs narrow both intervals; the paired one is always the narrower.
    widths = [
        (int(match[1]), float(match[2]), float(match[3]))
        for match in re.finditer(
            r"(\d+) runs each: .*paired CI .*\(width ([\d.]+)\), unpaired CI .*\(width ([\d.]+)\)",
            _text(_tagged(notebook, "ci")),
        )
    ]
    assert [runs for runs, _, _ in widths] == [250, 1000, 4000], widths
    for (_, paired_wide, unpaired_wide), (_, paired_narrow, unpaired_narrow) in pairwise(widths):
        assert paired_narrow < paired_wide and unpaired_narrow < unpaired_wide, widths
    assert all(paired < unpaired for _, paired, unpaired in widths), widths

    # The memo sentence quotes the paired interval.
    memo = _text(_tagged(notebook, "memo"))
    assert re.search(r"a difference of \d+ points \(paired 95% CI -?\d+ to -?\d+\)", memo), memo

    # Figures are shown inline: the story, the curves, paired vs unpaired, the sweep.
    images = [
        output
        for cell in code_cells
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(images) >= 4
