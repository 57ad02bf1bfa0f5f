"""Random mutations of every shipped scenario, fed to the command line as a user would.

Whatever a classmate's file holds, ``validate`` and a short ``run`` end in exit 0, or in exit 2
with a one-paragraph message on stderr: never a traceback, never another code. The default run
tries a few dozen files; the slow-marked tests try many more.
"""

from __future__ import annotations

import copy
import datetime
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli.main import main
from sim.views import report
from tests.conftest import SCENARIOS

SHIPPED = sorted(
    path.relative_to(SCENARIOS)
    for path in [*SCENARIOS.glob("*.yaml"), *(SCENARIOS / "cases").glob("*.yaml")]
    if not path.name.startswith("_") and not path.name.endswith(".observed.yaml")
)
RAW = {path: yaml.safe_load((SCENARIOS / path).read_text()) for path in SHIPPED}

HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**4), 10**4),
    st.sampled_from(
        [-1, 0, 1, 2, 7, 31, 32, 33, 3650, 3651, 10**9, 10**12, 2**63 - 1, 2**63, 10**30]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e-300, 1e300, -0.0, 0.5, 1.0000001]),
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "tomorrow",
            "2024-02-30",
            "9999-12-31",
            "0001-01-01",
            "x" * 5000,
            "iran",
            "pakistan",
            "china",
            "strategic",
            "escalate",
            "accept",
            "act",
            "war",
            "none",
            "armed_group",
            "../../etc/passwd",
            "/dev/zero",
        ]
    ),
    st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)),
    st.lists(st.sampled_from(["iran", "pakistan", "china", 0, 1, None]), max_size=4),
    st.dictionaries(
        st.sampled_from(["beta", "uniform", "name", "policy", "x", "iran"]),
        st.one_of(st.integers(-3, 40), st.floats(), st.lists(st.floats(), max_size=3)),
        max_size=2,
    ),
)

SAME_KIND: dict[type, st.SearchStrategy[Any]] = {
    bool: st.booleans(),
    int: st.one_of(
        st.integers(-40, 40),
        st.sampled_from([0, 1, 7, 31, 32, 3650, 3651, 36_500, 36_501, 10**7, 10**12, 2**63 - 1]),
    ),
    float: st.one_of(
        st.floats(0, 1),
        st.floats(min_value=-1e308, max_value=1e308),
        st.sampled_from([0.0, 1.0, 1e-300, 1e300, 1e308]),
    ),
    str: st.one_of(
        st.sampled_from(["iran", "pakistan", "china", "israel", "united_states", "x" * 5000]),
        st.text(max_size=30),
    ),
    datetime.date: st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31)),
}
"""Values of the same type as the one replaced: the file stays plausible, so more of them
reach the model (with extreme numbers, dates and names)."""


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here] if here else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*here, index))
    return found


EDITS = ["same kind", "same kind", "set", "delete", "repeat", "rename"]
MILD = ["same kind", "same kind", "same kind", "repeat"]
"""For runs: edits that mostly keep the file valid, so that the model itself meets them."""


def _mutate(raw: dict[str, Any], data: st.DataObject, edits: list[str]) -> dict[str, Any]:
    """One to three edits: set a value, delete a key, repeat a list item, rename a key."""
    doc = copy.deepcopy(raw)
    for _ in range(data.draw(st.integers(1, 3 if edits is EDITS else 1), label="edits")):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths), label="path")
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        edit = data.draw(st.sampled_from(edits), label="edit")
        if edit == "same kind":  # a value of the right type, at the edges of its range
            parent[key] = data.draw(SAME_KIND.get(type(parent[key]), HOSTILE), label="value")
        elif edit == "set":
            parent[key] = data.draw(HOSTILE, label="value")
        elif edit == "delete":
            del parent[key]
        elif edit == "repeat" and isinstance(parent[key], list) and parent[key]:
            parent[key].append(copy.deepcopy(parent[key][0]))
        elif edit == "rename" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["nmae", "iran", "null", "sweep", "extends"]))] = (
                parent.pop(key)
            )
    return doc


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of scenarios/, so mutated files sit beside the files they extend."""
    copied = tmp_path_factory.mktemp("fuzz") / "scenarios"
    shutil.copytree(SCENARIOS, copied)
    return copied


def _write(library: Path, data: st.DataObject, edits: list[str]) -> Path:
    source = data.draw(st.sampled_from(SHIPPED), label="scenario")
    mutated = _mutate(RAW[source], data, edits)
    path = library / source.parent / "mutated.yaml"
    path.write_text(yaml.safe_dump(mutated, allow_unicode=True))
    return path


def _accept(code: int, err: str) -> None:
    """Exit 0, or exit 2 with a one-paragraph message."""
    event(f"exit {code}")
    assert code in (0, 2), f"exit {code}: {err[-2000:]}"
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("error: ") and err.endswith("\n"), err[-2000:]


def _validate(library: Path, data: st.DataObject, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(library, data, EDITS)
    code = main(["validate", str(path), "-q"])
    _accept(code, capsys.readouterr().err)


def _run(library: Path, data: st.DataObject, capsys: pytest.CaptureFixture[str], out: Path) -> None:
    path = _write(library, data, MILD)
    # blank figures: drawing is tested on real results elsewhere; here the inputs are the point
    code = main(
        ["run", str(path), "--runs", "20", "--workers", "1", "-q", "--out", str(out), "--force"]
    )
    _accept(code, capsys.readouterr().err)


@pytest.fixture
def blank_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    monkeypatch.setattr(report, "figures", lambda saved, rungs=None: {"curves": Figure()})


QUICK = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MANY = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is never red by the luck of a draw
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@QUICK
@given(data=st.data())
def test_validate_never_crashes(library, capsys, data):
    _validate(library, data, capsys)


@settings(QUICK, max_examples=16)
@given(data=st.data())
def test_a_short_run_never_crashes(library, capsys, tmp_path, blank_figures, data):
    _run(library, data, capsys, tmp_path / "out")


@pytest.mark.slow
@MANY
@given(data=st.data())
def test_validate_never_crashes_on_many_files(library, capsys, data):
    _validate(library, data, capsys)


@pytest.mark.slow
@settings(MANY, max_examples=60)
@given(data=st.data())
def test_a_short_run_never_crashes_on_many_files(library, capsys, tmp_path, blank_figures, data):
    _run(library, data, capsys, tmp_path / "out")
