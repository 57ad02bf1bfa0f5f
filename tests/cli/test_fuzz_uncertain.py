"""Distributions, profiles and garbage on random keys of the baseline, fed to the command line.

Whatever stands where a number or any other value could, ``validate`` either exits 2 with a
one-paragraph message naming the key path it was put at (or the profile file it named), or it
accepts the file and ``story`` then tells a run of it: never a traceback, never a failure in
``story`` of a file ``validate`` accepted (issue 23). The default run tries 50 files; the
slow-marked test tries many more.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli.main import main
from sim.model import uncertainty
from sim.model.scenario import Scenario
from tests.conftest import BASELINE, SCENARIOS

RAW = yaml.safe_load(BASELINE.read_text())


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here] if here else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*here, index))
    return found


PATHS = [
    *_paths(RAW),
    # real keys the baseline leaves to their defaults, and the uncertainty block itself
    ("decision", "rationality"),
    ("decision", "coercion"),
    ("decision", "talks"),
    ("actors", "iran", "crackdown_cost"),
    ("uncertainty", "sets"),
    ("uncertainty", "distributions"),
    ("uncertainty", "from_profile"),
    ("uncertainty", "profiles"),
]
"""Every key of the baseline (blocks, lists and values), and a few it does not write."""
REAL = [
    *(path for path, _, _ in uncertainty.real_keys(Scenario, RAW)),
    *PATHS[-8:-4],
]
"""The real-valued keys among them: where a distribution or a profile may stand."""

FINITE = st.floats(allow_nan=False, allow_infinity=False)
ANY_FLOAT = st.one_of(
    FINITE,
    st.sampled_from([0.0, 1.0, -1.0, 1e-300, 1e150, 1e308, -1e308, float("nan"), float("inf")]),
    st.integers(-(10**3), 10**3),
    st.just(10**400),
)
SHARE = st.floats(0, 1)


@st.composite
def _in_range(draw: st.DrawFn) -> dict[str, list[float]]:
    """A distribution on 0 to 1: within the range of every real key of the baseline."""
    a, b, c = sorted(draw(st.lists(SHARE, min_size=3, max_size=3)))
    return draw(
        st.sampled_from(
            [
                {"uniform": [a, c]},
                {"triangular": [a, b, c]},
                {"beta": [1 + 9 * a, 1 + 9 * c]},
            ]
        )
    )


DISTRIBUTION = st.one_of(
    _in_range(),
    st.fixed_dictionaries({"uniform": st.lists(ANY_FLOAT, min_size=2, max_size=2)}),
    st.fixed_dictionaries({"beta": st.lists(ANY_FLOAT, min_size=2, max_size=2)}),
    st.fixed_dictionaries({"triangular": st.lists(ANY_FLOAT, min_size=3, max_size=3)}),
)
"""Distributions, valid on 0 to 1 or with any parameters at all."""

TEXT = st.sampled_from(["", "xyz", "calibrated", "fuzz", "x" * 300, "../x", "a b"])
GARBAGE_ITEM = st.one_of(ANY_FLOAT, TEXT, st.none(), st.booleans(), st.lists(FINITE, max_size=2))
GARBAGE = st.one_of(
    # shaped like a distribution, but not one
    st.dictionaries(
        st.sampled_from(["uniform", "beta", "triangular", "normal", "unifrom", "profile"]),
        st.one_of(GARBAGE_ITEM, st.lists(GARBAGE_ITEM, max_size=4)),
        min_size=1,
        max_size=2,
    ),
    st.lists(st.one_of(GARBAGE_ITEM, st.lists(GARBAGE_ITEM, max_size=2)), max_size=3),
    st.booleans(),
    st.sampled_from(["", "xyz", "x" * 300]),
    st.dictionaries(TEXT, GARBAGE_ITEM, max_size=2),
)
"""What no key of the baseline takes as it stands: ids and names of its own are left out, so a
value that is refused is refused at its own key."""

PROFILE = st.fixed_dictionaries(
    {
        "profile": st.one_of(
            st.sampled_from(["calibrated", "fuzz", "fuzz", "nowhere"]),
            st.sampled_from([["x"], 5, None, "", "x" * 300, "a/b", "../fuzz"]),
        )
    }
)
"""A profile named: the shipped one, the one each example writes, none, or not a name."""

COLUMN = st.one_of(
    st.lists(SHARE, min_size=1, max_size=4),
    st.lists(ANY_FLOAT, max_size=4),
    st.lists(st.one_of(GARBAGE_ITEM, st.lists(FINITE, max_size=2)), max_size=3),
    GARBAGE_ITEM,
    st.dictionaries(TEXT, FINITE, max_size=2),
)


@st.composite
def _profile_file(draw: st.DrawFn, key: str) -> Any:
    """profiles/fuzz.yaml: samples for the key fuzzed (or another), weights or none, or junk."""
    samples = draw(COLUMN)
    entry: dict[str, Any] = {"samples": samples}
    weights = draw(
        st.one_of(
            st.none(),
            st.just([1.0] * len(samples) if isinstance(samples, list) else [1.0]),
            COLUMN,
        )
    )
    if weights is not None:
        entry["weights"] = weights
    name = draw(st.sampled_from([key, key, "decision.risk", "actors.*.cost"]))
    return draw(
        st.sampled_from(
            [{"parameters": {name: entry}}, {"parameters": {name: entry}}, {"parameters": []}]
        )
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of scenarios/ (with its profiles/), where each example writes its files."""
    copied = tmp_path_factory.mktemp("fuzz_uncertain") / "scenarios"
    shutil.copytree(SCENARIOS, copied)
    return copied


def _put(doc: Any, path: tuple[Any, ...], value: Any) -> bool:
    """Set ``value`` at ``path``, making the blocks on the way; False where an earlier edit
    left a list or a value on the way."""
    node = doc
    for part in path[:-1]:
        if isinstance(node, dict) and not isinstance(node.get(part), dict | list):
            node[part] = {}
        if isinstance(node, list) and not (isinstance(part, int) and part < len(node)):
            return False
        node = node[part]
    if isinstance(node, list) and not (isinstance(path[-1], int) and path[-1] < len(node)):
        return False
    node[path[-1]] = value
    return True


def _try(library: Path, data: st.DataObject, capsys: pytest.CaptureFixture[str]) -> None:
    doc = copy.deepcopy(RAW)
    edits = data.draw(st.integers(1, 2), label="edits")
    placed: list[tuple[Any, ...]] = []
    for _ in range(edits):
        path = data.draw(st.sampled_from(PATHS) | st.sampled_from(REAL), label="path")
        value = data.draw(st.one_of(DISTRIBUTION, DISTRIBUTION, PROFILE, GARBAGE), label="value")
        if _put(doc, path, value):
            placed.append(path)
    if not placed:
        return
    key = ".".join(str(part) for part in placed[-1])
    (library / "profiles" / "fuzz.yaml").write_text(
        yaml.safe_dump(data.draw(_profile_file(key), label="profile"), allow_unicode=True)
    )
    scenario = library / "fuzzed.yaml"
    scenario.write_text(yaml.safe_dump(doc, allow_unicode=True))

    code = main(["validate", str(scenario), "-q"])
    err = capsys.readouterr().err
    event(f"validate exit {code}")
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("error: ") and err.endswith("\n") and "\n\n" not in err, err
        named = {
            ".".join(str(part) for part in path[:cut])
            for path in placed
            for cut in range(1, len(path) + 1)
        }
        assert any(f": {name}:" in err or f": {name}." in err for name in named) or (
            "profiles/fuzz.yaml" in err or "profiles/calibrated.yaml" in err
        ), (placed, err)
        return
    code = main(["story", str(scenario), "--seed", "7", "-q"])
    err = capsys.readouterr().err
    event(f"story exit {code}")
    assert code == 0, err
    assert "Traceback" not in err


QUICK = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is never red by the luck of a draw
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@QUICK
@given(data=st.data())
def test_uncertain_values_anywhere_are_refused_at_their_key_or_run(library, capsys, data):
    _try(library, data, capsys)


@pytest.mark.slow
@settings(QUICK, max_examples=300)
@given(data=st.data())
def test_uncertain_values_anywhere_on_many_files(library, capsys, data):
    _try(library, data, capsys)
