"""The Python API refuses bad arguments with a clear exception (issue 23, "the API trusts its
arguments").

First the issue's reproducers, each with its exact exception and message; then a hypothesis
fuzz: each public function (``run_ensemble``, ``run_story``, ``load_results``,
``wilson_interval`` and the sweep functions of ``sim.__all__``) is called with one argument
replaced by a hostile value (infinity, NaN, negatives, 2**63, floats for whole numbers, text,
bytes, None, mappings, lists, bools, paths to nothing, pipes, folders, ``/dev/zero``), the
others small and valid. Each call either works or raises a TypeError, a ValueError or one of the
project's errors (ScenarioError, ResultsError, SweepError) whose message names the argument (or
the file it named): never another exception, never a hang (an alarm fails the test). Sizes are
bounded (runs at most 60, a horizon of 20 days, at most 30 runs for a target half-width), so the
fuzz checks arguments and cannot start a large job. The default run tries a few examples per
function, derandomized; the slow-marked one tries many more.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.cli.main import main
from sim.experiments.axes import SweepError
from sim.inputs.errors import ResultsError, ScenarioError
from tests.conftest import ROOT, crisis, scenario

SMALL = scenario()
"""The small scripted crisis (horizon 20 days, two states): quick to run."""

ALLOWED = (TypeError, ValueError, ScenarioError, ResultsError, SweepError)
"""What a bad argument may raise (SweepError is a ValueError; the others are the project's)."""

# ---------------------------------------------------------------- the reproducers


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"runs": float("inf")}, TypeError, "runs must be a whole number, got inf"),
        ({"runs": 2**63}, ValueError, "runs must be from 1 to 10,000,000, got "),
        ({"runs": 10, "target_halfwidth": 0}, ValueError, "target_halfwidth must be above 0 "),
        ({"target_halfwidth": -0.1}, ValueError, "target_halfwidth must be above 0 and at most "),
        (
            {"target_halfwidth": float("nan")},
            ValueError,
            "target_halfwidth must be above 0 and at most 0.5, got nan",
        ),
        ({"target_halfwidth": "0.1"}, TypeError, "target_halfwidth must be a number, got '0.1'"),
        (
            {"target_halfwidth": 0.1, "max_runs": -1},
            ValueError,
            "max_runs must be at least 1, got -1",
        ),
        ({"pool": "x"}, TypeError, "pool must be an executor (with submit), got str"),
        ({"progress": "no"}, TypeError, "progress must be True or False, got 'no'"),
        (
            {"outcomes": [1]},
            TypeError,
            "outcomes must be a list of outcome names, got 1 among them",
        ),
        ({"outcomes": [], "target_halfwidth": 0.1}, ValueError, "outcomes must name at least one "),
    ],
)
def test_run_ensemble_reproducers(arguments, error, message):
    with pytest.raises(error) as caught:
        sim.run_ensemble(SMALL, **arguments)
    assert type(caught.value) is error
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "NoneType"),
        ({"name": "x"}, "dict"),
        (b"scenarios/jan2024_baseline.yaml", "bytes"),
    ],
)
def test_run_ensemble_and_run_story_name_what_a_scenario_may_be(value, message):
    for function, call in (
        ("run_ensemble", lambda: sim.run_ensemble(value, runs=5)),
        ("run_story", lambda: sim.run_story(value, 1)),
    ):
        with pytest.raises(TypeError) as caught:
            call()
        assert str(caught.value) == (
            f"{function} takes a Scenario (sim.load_scenario) or a scenario file's path as "
            f"scenario, not {message}"
        )


def test_a_scenario_path_that_is_missing_or_not_a_file_is_a_scenario_error(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    cases = {
        tmp_path / "missing.yaml": "no such file",
        tmp_path: "is a folder, expected a scenario YAML file",
        tmp_path / "pipe.yaml": "is not a regular file; expected a scenario YAML file",
    }
    for path, said in cases.items():
        for call in (
            lambda path=path: sim.run_ensemble(str(path), runs=5),
            lambda path=path: sim.run_story(path, 1),
        ):
            with pytest.raises(ScenarioError) as caught:
                call()
            assert str(caught.value) == f"{path}: {said}"


def test_run_story_takes_a_scenario_file_as_run_ensemble_does(write_yaml):
    path = write_yaml(crisis())
    by_path, by_scenario = sim.run_story(path, 3), sim.run_story(SMALL, 3)
    assert sim.tell(by_path, 3) == sim.tell(by_scenario, 3)


def test_run_story_reproducers():
    with pytest.raises(ValueError) as caught:
        sim.run_story(SMALL, seed=2**63)
    assert str(caught.value) == (
        "seed must be from 0 to 9,223,372,036,854,775,807, got 9,223,372,036,854,775,808"
    )
    with pytest.raises(TypeError) as caught:
        sim.run_story(SMALL, seed="1")  # type: ignore[arg-type]
    assert str(caught.value) == "seed must be a whole number, got '1'"


def test_a_horizon_set_past_the_checks_is_refused_not_run_for_hours():
    # model_copy(update=...) skips pydantic's checks: a million days would run for hours
    endless = SMALL.model_copy(update={"horizon": 10**6})
    message = "scenario: horizon: expected a whole number from 1 to 3650, got 1000000"
    for call in (lambda: sim.run_ensemble(endless, runs=5), lambda: sim.run_story(endless, 1)):
        with pytest.raises(ScenarioError) as caught:
            call()
        assert str(caught.value) == message
    with pytest.raises(ValueError) as caught:
        sim.EscalationModel(endless, [1, 2])
    assert str(caught.value) == "scenario's horizon must be from 1 to 3,650 days, got 1000000"
    with pytest.raises(TypeError, match="^scenario must be a Scenario, got dict$"):
        sim.EscalationModel({"horizon": 20}, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((5, 0), ValueError, "wilson_interval needs 1 <= n and 0 <= successes <= n, got 5 of 0"),
        ((2.5, 5), ValueError, "successes must be finite whole numbers from 0 up, got 2.5"),
        ((1, float("inf")), ValueError, "n must be finite whole numbers from 0 up, got inf"),
        (
            (float("nan"), 5),
            ValueError,
            "successes must be finite whole numbers from 0 up, got nan",
        ),
        (("1", 5), TypeError, "successes must be a whole number or an array of them, got '1'"),
        ((1, None), TypeError, "n must be a whole number or an array of them, got None"),
        ((True, 5), TypeError, "successes must be a whole number or an array of them, got True"),
        (([1, [2]], 5), ValueError, "successes must be a whole number or an array of them, got "),
        (
            ([1, 2], [5, 5, 5]),
            ValueError,
            "successes and n must have the same shape, got (2,) and (3,)",
        ),
        ((1, 5, float("nan")), ValueError, "z must be a finite number above 0, got nan"),
        ((1, 5, "1.96"), TypeError, "z must be a number, got '1.96'"),
        ((1, 5, 0), ValueError, "z must be a finite number above 0, got 0"),
    ],
)
def test_wilson_interval_reproducers(arguments, error, message):
    with pytest.raises(error) as caught:
        sim.wilson_interval(*arguments)
    assert type(caught.value) is error
    assert str(caught.value).startswith(message)


def test_wilson_interval_takes_counts_of_any_whole_kind():
    # 1 of 3 by hand: p = 1/3, z = 1.959964; Wilson's centre and half-width
    z, p, n = 1.959963984540054, 1 / 3, 3
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    for k, total in ((1, 3), (1.0, 3.0), (np.int64(1), np.uint8(3)), (2**0, 3)):
        low, high = sim.wilson_interval(k, total)
        assert (float(low), float(high)) == pytest.approx((centre - half, centre + half))
    low, high = sim.wilson_interval(0, 2**70)  # a Python int beyond int64 is a count too
    assert (float(low), float(high)) == (0.0, pytest.approx(z * z / 2**70, rel=1e-6))
    assert sim.newcombe_interval(1, 4, 2, 4)[0] == -0.25
    with pytest.raises(ValueError, match="^wilson_interval needs 1 <= n"):
        sim.newcombe_interval(1, 0, 1, 4)  # not a ZeroDivisionError


def test_results_readers_refuse_pipes_and_devices_at_once(tmp_path):
    """``load_results`` on a folder whose ``runs.csv`` or ``metadata.json`` is a pipe (which
    would wait forever) or ``/dev/zero`` (which never ends): in a child with a deadline."""
    out = tmp_path / "run"
    assert main(["run", str(ROOT / "scenarios/jan2024_baseline.yaml"), "--runs", "20",
                 "--workers", "1", "--out", str(out), "-q"]) == 0  # fmt: skip
    folders = {}
    for name, make in (
        ("runs.csv", os.mkfifo),
        ("runs.csv", lambda p: p.symlink_to("/dev/zero")),
        ("metadata.json", os.mkfifo),
        ("metadata.json", lambda p: p.symlink_to("/dev/zero")),
    ):
        folder = tmp_path / f"{len(folders)}"
        folder.mkdir()
        for item in out.iterdir():
            if item.is_file():
                (folder / item.name).write_bytes(item.read_bytes())
        (folder / name).unlink()
        make(folder / name)
        folders[folder] = name
    probe = (
        "import sys, sim\nfrom sim.inputs.errors import ResultsError\n"
        "for folder in sys.argv[1:]:\n"
        "    try:\n"
        "        sim.load_results(folder)\n"
        "    except ResultsError as error:\n"
        "        print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *map(str, folders)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    for line, (folder, name) in zip(lines, folders.items(), strict=True):
        what = "a table" if name == "runs.csv" else "a metadata file"
        assert line.startswith(
            f"{folder}/{name} is not a regular file (a pipe, a device or a folder cannot be "
            f"{what}); "
        ), line


def test_load_results_names_its_argument():
    for value, error, message in (
        (None, TypeError, "folder must be a path (str or pathlib.Path), got NoneType"),
        (b"results", TypeError, "folder must be a path (str or pathlib.Path), got bytes"),
        ("", ValueError, "folder must name a file or folder, got ''"),
        ("a\0b", ValueError, "folder must name a file or folder, got 'a\\x00b'"),
        ("/nonexistent/run", ResultsError, "/nonexistent/run is not a folder"),
        ("/dev/zero", ResultsError, "/dev/zero is not a folder"),
    ):
        with pytest.raises(error) as caught:
            sim.load_results(value)  # type: ignore[arg-type]
        assert str(caught.value) == message


def test_a_sweep_store_that_is_a_pipe_or_a_device_is_refused_not_waited_on(tmp_path):
    (tmp_path / "pipe").mkdir()
    os.mkfifo(tmp_path / "pipe" / "sweep.sqlite")
    (tmp_path / "zero").mkdir()
    (tmp_path / "zero" / "sweep.sqlite").symlink_to("/dev/zero")
    for name in ("pipe", "zero"):
        with pytest.raises(SweepError) as caught:
            sim.load_sweep(tmp_path / name)
        assert str(caught.value) == (
            f"{tmp_path / name / 'sweep.sqlite'} is not a regular file (a pipe, a device or a "
            "folder cannot be a sweep store); use another --out, or --force to set it aside"
        )


def _definition(**changes: Any) -> sim.SweepDefinition:
    fields: dict[str, Any] = {
        "parameters": sim.parse_params(["actors.a.cost=0:2:2"]),
        "runs": 5,
        "seed": 1,
        "outcomes": ("sustained",),
        **changes,
    }
    return sim.SweepDefinition(**fields)


def test_sweep_functions_name_their_arguments(tmp_path):
    evaluate = sim.PointEvaluator(scenario=SMALL.model_dump(mode="json"), outcomes=("sustained",))
    cases: list[tuple[Callable[[], object], type[Exception], str]] = [
        (lambda: sim.parse_params("a=1:2:3"), TypeError,
         "texts must be a list of --param strings (PATH=SPEC), got 'a=1:2:3'"),
        (lambda: sim.parse_params([1]), TypeError,
         "texts must be a list of --param strings (PATH=SPEC), got 1 among them"),
        (lambda: _definition(parameters=None), TypeError,
         "parameters must be a list of ParamSpec (sim.parse_params), got None"),
        (lambda: _definition(runs=float("inf")), SweepError, "runs: expected an integer >= 1, got inf"),
        (lambda: _definition(runs=2**63), SweepError,
         "runs: expected an integer <= 10,000,000, got 9,223,372,036,854,775,808"),
        (lambda: _definition(outcomes="sustained"), TypeError,
         "outcomes must be a list of outcome names, got 'sustained'"),
        (lambda: _definition(design=["grid"]), TypeError, "design must be a design's name, got ['grid']"),
        (lambda: _definition(context=[1]), TypeError, "context must be a mapping, got [1]"),
        (lambda: sim.run_sweep(None, evaluate, tmp_path / "a"), TypeError,
         "definition must be a SweepDefinition, got NoneType"),
        (lambda: sim.run_sweep(_definition(), None, tmp_path / "a"), TypeError,
         "evaluate must be a function of (overrides, runs, seed_seq), such as sim.PointEvaluator, got NoneType"),
        (lambda: sim.run_sweep(_definition(), evaluate, None), TypeError,
         "out_dir must be a path (str or pathlib.Path), got NoneType"),
        (lambda: sim.run_sweep(_definition(), evaluate, tmp_path / "a", connect_timeout=float("nan")),
         ValueError, "connect_timeout must be a finite number above 0, got nan"),
        (lambda: sim.run_sweep(_definition(), evaluate, tmp_path / "a", force="yes"), TypeError,
         "force must be True or False, got 'yes'"),
        (lambda: sim.run_sweep(_definition(), evaluate, tmp_path / "a", workers=0), SweepError,
         "workers: expected an integer >= 1, got 0"),
        (lambda: sim.load_sweep(None), TypeError, "out_dir must be a path (str or pathlib.Path), got NoneType"),
        (lambda: sim.analyze_sweep(_definition(), None, "sustained"), TypeError,
         "results must be a sweep's table (sim.load_sweep), got NoneType"),
        (lambda: sim.analyze_sweep(None, pd.DataFrame({"point": []}), "sustained"), TypeError,
         "definition must be a SweepDefinition, got NoneType"),
        (lambda: sim.analyze_sweep(_definition(), pd.DataFrame({"point": []}), "sustained", conf_level=1),
         ValueError, "conf_level must be above 0 and below 1, got 1"),
        (lambda: sim.analyze_sweep(_definition(), pd.DataFrame({"point": []}), "sustained", num_resamples=10**9),
         ValueError, "num_resamples must be from 1 to 100,000, got 1,000,000,000"),
    ]  # fmt: skip
    for call, error, message in cases:
        with pytest.raises(error) as caught:
            call()
        assert (type(caught.value), str(caught.value)) == (error, message)
    assert not (tmp_path / "a").exists()  # refused before the folder was made


# ---------------------------------------------------------------- the fuzz


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> dict[str, Path]:
    """Paths a hostile caller might pass: nothing, a folder, a pipe, a file, a device, a
    folder whose tables are a pipe and a device."""
    root = tmp_path_factory.mktemp("places")
    (root / "folder").mkdir()
    os.mkfifo(root / "pipe")
    (root / "file.txt").write_text("not a result\n")
    for name, make in (("piped", os.mkfifo), ("endless", lambda p: p.symlink_to("/dev/zero"))):
        (root / name).mkdir()
        for stem in ("runs.csv", "metadata.json", "sweep.sqlite"):
            make(root / name / stem)
    return {
        "missing": root / "missing" / "x.yaml",
        "folder": root / "folder",
        "pipe": root / "pipe",
        "file": root / "file.txt",
        "piped": root / "piped",
        "endless": root / "endless",
        "device": Path("/dev/zero"),
        "root": root,
    }


def hostile(places: dict[str, Path]) -> st.SearchStrategy[Any]:
    """Any kind of value, the edges of numbers first; paths only inside the fuzz's own folder
    (and /dev/zero), so nothing is written elsewhere."""
    paths = [p for k, p in places.items() if k != "root"]
    return st.one_of(
        st.sampled_from(
            [
                math.inf,
                -math.inf,
                math.nan,
                -1,
                0,
                1,
                2**63,
                2**64,
                10**400,
                -(2**63) - 1,
                1.5,
                -0.1,
                0.0,
                1e308,
                5e-324,
                "1",
                "",
                "x",
                "a\0b",
                b"x",
                None,
                {},
                {"a": 1},
                [],
                [1],
                [None],
                ["x"],
                (1, 2),
                True,
                False,
                object(),
                np.nan,
                np.int64(3),
                np.float64(0.25),
                np.array([1, 2]),
                *paths,
                *map(str, paths),
            ]
        ),  # fmt: skip
        st.integers(-5, 60),
        st.floats(-1e3, 1e3),
        st.text(max_size=8),
        st.lists(st.integers(-2, 12), max_size=3),
    )


@pytest.fixture(scope="module")
def targets(places, tmp_path_factory) -> dict[str, tuple[Callable[..., object], dict[str, Any]]]:
    """Each function with small valid arguments, by keyword, that the fuzz replaces one by one."""
    path = tmp_path_factory.mktemp("scenario") / "small.yaml"
    import yaml

    path.write_text(yaml.safe_dump(crisis()))
    morris = _definition(
        design="morris", samples=2, parameters=sim.parse_params(["actors.a.cost=0:2"])
    )
    table = pd.DataFrame({"point": range(4), "sustained": [0.1, 0.4, 0.2, 0.6]})
    counter = iter(range(10**9))

    def sweep(**arguments: Any) -> object:  # each call its own new folder, unless replaced
        arguments.setdefault("out_dir", places["root"] / f"sweep{next(counter)}")
        return sim.run_sweep(**arguments)

    evaluate = sim.PointEvaluator(scenario=SMALL.model_dump(mode="json"), outcomes=("sustained",))
    return {
        "run_ensemble": (
            sim.run_ensemble,
            {
                "scenario": SMALL,
                "runs": 10,
                "seed": 1,
                "workers": 1,
                "target_halfwidth": 0.45,
                "max_runs": 30,
                "outcomes": ["answer_7d"],
                "progress": False,
            },
        ),
        "run_ensemble (path)": (sim.run_ensemble, {"scenario": path, "runs": 10, "chunk": 4}),
        "run_story": (sim.run_story, {"scenario": SMALL, "seed": 1}),
        "load_results": (sim.load_results, {"folder": places["folder"]}),
        "wilson_interval": (sim.wilson_interval, {"successes": 3, "n": 10, "z": 1.96}),
        "parse_params": (sim.parse_params, {"texts": ["actors.a.cost=0:2:2"]}),
        "SweepDefinition": (
            sim.SweepDefinition,
            {
                "parameters": sim.parse_params(["actors.a.cost=0:2"]),
                "design": "lhs",
                "samples": 2,
                "runs": 5,
                "seed": 1,
                "outcomes": ("sustained",),
                "second_order": False,
                "levels": 4,
                "context": {},
            },
        ),
        "run_sweep": (
            sweep,
            {
                "definition": _definition(),
                "evaluate": evaluate,
                "executor": "local",
                "workers": 1,
                "connect_timeout": 5.0,
                "force": False,
                "retry_errors": False,
                "progress": False,
                "metadata": {},
            },
        ),
        "load_sweep": (sim.load_sweep, {"out_dir": places["folder"]}),
        "analyze_sweep": (
            sim.analyze_sweep,
            {
                "definition": morris,
                "results": table,
                "outcome": "sustained",
                "conf_level": 0.95,
                "num_resamples": 50,
            },
        ),
    }


BOUNDS = {"runs": 60, "max_runs": 60, "chunk": 60, "workers": 2, "num_resamples": 2000}
"""The largest valid value the fuzz may pass where a number sets the size of the work: the
point is to check arguments, not to start a large job."""


class Hang(Exception):
    pass


@pytest.fixture
def alarm() -> Iterator[None]:
    """A call that takes a minute has hung (a pipe read, an endless loop): fail, do not wait."""

    def ring(signum: int, frame: object) -> None:
        raise Hang("the call did not return within 60 s")

    previous = signal.signal(signal.SIGALRM, ring)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _writes_outside(places: dict[str, Path], target: str, name: str, value: object) -> bool:
    """A folder for run_sweep to write into outside the fuzz's own folder (text such as "1" is
    a folder of the current directory): not passed, so the fuzz writes nowhere else."""
    if target != "run_sweep" or name != "out_dir" or not isinstance(value, str | os.PathLike):
        return False
    text = os.fspath(value)
    if not isinstance(text, str) or not text or "\0" in text or text == "/dev/zero":
        return False
    return not Path(text).is_relative_to(places["root"])


def _too_big(name: str, value: object) -> bool:
    limit = BOUNDS.get(name)
    if limit is None:
        return False
    try:
        return bool(value > limit)  # type: ignore[operator]
    except Exception:  # noqa: BLE001 - not comparable: not a size the fuzz must bound
        return False


def _named(message: str, name: str, value: object) -> bool:
    """The message names the argument, or the path it was given (a path's own problem)."""
    if any(word in message for word in (name, name.split("_")[0], name.removesuffix("s"))):
        return True
    if isinstance(value, str | os.PathLike) and str(os.fspath(value)):
        return os.fspath(value) in message or str(Path(os.fspath(value))) in message
    return False


def _try(targets, target: str, name: str, value: object) -> None:
    function, valid = targets[target]
    arguments = {**valid, name: value}
    signal.alarm(60)
    try:
        function(**arguments)
    except Hang:
        raise
    except ALLOWED as error:
        message = str(error)
        assert "\n" not in message.strip() or isinstance(error, ScenarioError), message
        assert _named(message, name, value), (target, name, value, message)
    finally:
        signal.alarm(0)


def _cases(targets) -> list[tuple[str, str]]:
    return [(target, name) for target, (_, valid) in targets.items() for name in valid]


@st.composite
def _case(draw: st.DrawFn, targets, places) -> tuple[str, str, object]:
    target, name = draw(st.sampled_from(_cases(targets)))
    value = draw(hostile(places).filter(lambda v: not _too_big(name, v)))
    if target == "run_sweep" and name == "out_dir":
        value = draw(st.sampled_from([v for k, v in places.items() if k != "root"]))
        value = draw(st.sampled_from([value, str(value)]))
    return target, name, value


QUICK = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is never red by the luck of a draw
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)


def test_every_argument_of_every_function_takes_each_hostile_kind_of_value(targets, places, alarm):
    """Each (function, argument) pair with each sampled hostile value at least once: the
    systematic half of the fuzz, quick and the same on every run."""
    fixed = [
        math.inf, math.nan, -1, 0, 2**63, 1.5, "1", b"x", None, {}, [1], True,
        places["missing"], str(places["pipe"]), places["folder"], "/dev/zero",
    ]  # fmt: skip
    for target, name in _cases(targets):
        for value in fixed:
            if _too_big(name, value) or _writes_outside(places, target, name, value):
                continue
            _try(targets, target, name, value)


@given(data=st.data())
@settings(QUICK, max_examples=60)
def test_hostile_arguments_fuzz(targets, places, alarm, data):
    target, name, value = data.draw(_case(targets, places))
    _try(targets, target, name, value)


@pytest.mark.slow
@given(data=st.data())
@settings(QUICK, max_examples=1500)
def test_hostile_arguments_fuzz_long(targets, places, alarm, data):
    target, name, value = data.draw(_case(targets, places))
    _try(targets, target, name, value)
