"""Distributions and profiles are checked when a scenario is read, each bad one reported at its
key path with what was expected: never a traceback, never a failure later in ``story`` or
``run`` (issue 23).

Each test is one class of input the issue found reaching the code unchecked; the messages are
the exact words a student reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sim.cli.main import main
from sim.inputs.errors import ScenarioError
from sim.inputs.loader import load_scenario
from sim.model.scenario import Scenario
from tests.conftest import BASELINE


def _problems(path: Path, overrides: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return [str(problem) for problem in caught.value.problems]


@pytest.fixture
def with_profile(tmp_path: Path):
    """A copy of the baseline beside ``profiles/fit.yaml`` holding ``parameters``; its
    decision.rationality drawn from the profile."""

    def write(parameters: Any, key: str = "decision.rationality") -> tuple[Path, Path]:
        (tmp_path / "profiles").mkdir(exist_ok=True)
        profile = tmp_path / "profiles" / "fit.yaml"
        profile.write_text(yaml.safe_dump({"parameters": parameters}))
        raw = yaml.safe_load(BASELINE.read_text())
        node = raw
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = {"profile": "fit"}
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump(raw))
        return path, profile

    return write


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        (["low", "high"], "expected a list of finite numbers, got text 'low' at item 0"),
        ([4.0, None], "expected a list of finite numbers, got null (nothing) at item 1"),
        ([[4.0], [8.0]], "expected a list of finite numbers, got a list at item 0"),
        (8.0, "expected a non-empty list of finite numbers, got 8.0"),
        ([], "expected a non-empty list of finite numbers, got an empty list"),
        ([4.0, True], "expected a list of finite numbers, got true at item 1"),
        ([4.0, float("nan")], "expected a list of finite numbers, got nan at item 1"),
        (
            [4.0, 10**400],
            # a number is cut to 60 characters in a message: 57 and "..."
            f"expected a list of finite numbers, got 1{'0' * 56}... at item 1",
        ),
    ],
    ids=["strings", "nulls", "nested lists", "a scalar", "empty", "a bool", "nan", "huge"],
)
def test_profile_samples_that_are_not_numbers_are_reported_in_the_profile(
    with_profile, samples, expected
):
    path, profile = with_profile({"decision.rationality": {"samples": samples}})
    assert _problems(path) == [f"{profile}: parameters.decision.rationality.samples: {expected}"]


@pytest.mark.parametrize(
    ("weights", "where", "expected"),
    [
        ({"a": 1.0}, "weights", "expected a non-empty list of finite numbers, got a mapping"),
        (["a", "b"], "weights", "expected a list of finite numbers, got text 'a' at item 0"),
        ([1.0, -1.0], "weights", "weights must be 0 or more and add up to more than 0"),
        ([0, 0], "weights", "weights must be 0 or more and add up to more than 0"),
        ([1.0, 1.0, 1.0], "weights", "one weight per sample: 2 samples, 3 weights"),
    ],
    ids=["a mapping", "strings", "negative", "all zero", "one too many"],
)
def test_profile_weights_are_a_list_of_numbers_one_per_sample(
    with_profile, weights, where, expected
):
    path, profile = with_profile(
        {"decision.rationality": {"samples": [4.0, 8.0], "weights": weights}}
    )
    assert _problems(path) == [f"{profile}: parameters.decision.rationality.{where}: {expected}"]


def test_a_misspelt_key_of_a_profile_is_not_silently_left_out(with_profile):
    path, profile = with_profile({"decision.rationality": {"samples": [4.0], "weight": [1.0]}})
    assert _problems(path) == [
        f"{profile}: parameters.decision.rationality.weight: unknown key (allowed here: "
        "samples, weights)"
    ]


def test_a_profile_reaching_outside_the_keys_range_is_refused(with_profile):
    path, _ = with_profile({"actors.iran.pledge": {"samples": [0.5, 3.0]}}, "actors.iran.pledge")
    assert _problems(path) == [
        f"{path}: actors.iran.pledge: {{profile: fit}} reaches 0.5 to 3, outside this key's "
        "range 0 to 1"
    ]


NOT_A_NUMBER = "only a number can be a distribution or a profile, and this key is not one"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("name", {"uniform": [0, 1]}, "expected text, got {uniform: [0, 1]}"),
        (
            "horizon",
            {"uniform": [30, 90]},
            "expected a whole number from 1 to 3650, got {uniform: [30, 90]}",
        ),
        (
            "seed",
            {"profile": "calibrated"},
            "expected a whole number at least 0, got {profile: calibrated}",
        ),
        (
            "runs",
            {"beta": [2, 2]},
            "expected a whole number from 1 to 10000000, got {beta: [2, 2]}",
        ),
        ("actors.iran.nuclear", {"beta": [1, 1]}, "expected true or false, got {beta: [1, 1]}"),
        (
            "armed_groups.bla_blf.host",
            {"uniform": [0, 1]},
            "expected text, got {uniform: [0, 1]}",
        ),
        (
            "uncertainty.sets",
            {"uniform": [8, 64]},
            "expected a whole number from 1 to 4096, got {uniform: [8, 64]}",
        ),
        (
            "decision",
            {"profile": "calibrated"},
            "expected a block of keys (indented key: value lines), got {profile: calibrated}",
        ),
    ],
    ids=["name", "horizon", "seed", "runs", "a switch", "an id", "sets", "a block"],
)
def test_keys_that_cannot_be_uncertain_are_refused_at_their_path(key, value, expected):
    assert _problems(BASELINE, {key: value}) == [f"--set {key}: {NOT_A_NUMBER}: {expected}"]


def test_a_key_that_cannot_be_uncertain_is_named_in_the_file_that_wrote_it(tmp_path):
    raw = yaml.safe_load(BASELINE.read_text())
    raw["horizon"] = {"uniform": [30, 90]}
    raw["ladder"] = {"triangular": [1, 2, 3]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw))
    # one problem each: nothing more about the ladder's missing keys, nor the events' rungs
    assert _problems(path) == [
        f"{path}: horizon: {NOT_A_NUMBER}: expected a whole number from 1 to 3650, got "
        "{uniform: [30, 90]}",
        f"{path}: ladder: {NOT_A_NUMBER}: expected a block of keys (indented key: value "
        "lines), got {triangular: [1, 2, 3]}",
    ]


def test_a_profile_cannot_stand_for_resolve_which_is_drawn_for_each_run():
    assert _problems(BASELINE, {"actors.iran.resolve": {"profile": "calibrated"}}) == [
        "--set actors.iran.resolve: a profile cannot stand here (this key is a distribution of "
        "its own, drawn for each run): expected a number, {beta: [a, b]}, {uniform: [low, "
        "high]} or {triangular: [low, mode, high]}, got {profile: calibrated}"
    ]


@pytest.mark.parametrize(
    ("block", "entries", "expected"),
    [
        (
            "distributions",
            {"name": {"uniform": [0, 1]}},
            "is filled in from the numbers written as distributions, not written by hand: write "
            "the distribution where the number stands (cost: {uniform: [2, 4]})",
        ),
        (
            "distributions",
            {"actors.iran.pledge": {"uniform": [0, 5]}},
            "is filled in from the numbers written as distributions, not written by hand: write "
            "the distribution where the number stands (cost: {uniform: [2, 4]})",
        ),
        (
            "from_profile",
            {"horizon": "calibrated"},
            "is filled in from the numbers written as {profile: NAME}, not written by hand: "
            "write {profile: NAME} where the number stands (cost: {profile: calibrated})",
        ),
    ],
    ids=["on name", "out of range", "from a profile"],
)
def test_the_filled_in_parts_of_uncertainty_are_not_written_by_hand(
    tmp_path, block, entries, expected
):
    raw = yaml.safe_load(BASELINE.read_text())
    raw["uncertainty"] = {block: entries}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert _problems(path) == [f"{path}: uncertainty.{block}: {expected}"]
    # nor through the API, where they used to pass and break story and run later
    with pytest.raises(ValidationError, match=f"uncertainty.{block} is filled in"):
        Scenario.model_validate(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"triangular": [0, 1e308, 1e308]},
            "triangular takes numbers at most 1e+150 apart (its draws would overflow), got "
            "[0, 1e+308, 1e+308]",
        ),
        (
            {"uniform": [0, 1e200]},
            "uniform takes numbers at most 1e+150 apart (its draws would overflow), got "
            "[0, 1e+200]",
        ),
        (
            {"uniform": [1, 10**400]},
            f"uniform takes finite numbers, got [1, 1{'0' * 52}...",
        ),
    ],
    ids=["triangular", "uniform", "a whole number too large for a float"],
)
def test_a_distribution_whose_draws_would_overflow_is_refused(value, expected):
    assert _problems(BASELINE, {"decision.rationality": value}) == [
        f"--set decision.rationality: {expected}"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"unifrom": [2, 4]},
            "unknown distribution 'unifrom' (expected a number at least 0, {beta: [a, b]}, "
            "{uniform: [low, high]}, {triangular: [low, mode, high]} or {profile: NAME}); did "
            "you mean 'uniform'?",
        ),
        (
            {"uniform": [2, 4], "beta": [1, 1]},
            "expected a number at least 0, {beta: [a, b]}, {uniform: [low, high]}, "
            "{triangular: [low, mode, high]} or {profile: NAME}, got a mapping of 2 keys",
        ),
    ],
    ids=["misspelt", "two at once"],
)
def test_a_mapping_on_a_real_key_that_is_no_distribution_says_what_could_stand(value, expected):
    assert _problems(BASELINE, {"actors.iran.cost": value}) == [
        f"--set actors.iran.cost: {expected}"
    ]


def test_a_key_above_an_open_bound_is_refused_a_distribution_that_reaches_the_bound():
    """threshold must be above 0: a draw of exactly 0 would fail the run, so [0, 5] is out."""
    overrides = {
        "actors.iran.retaliation.policy": "threshold",
        "actors.iran.retaliation.threshold": {"uniform": [0, 5]},
    }
    assert _problems(BASELINE, overrides) == [
        "--set actors.iran.retaliation.threshold: {uniform: [0, 5]} reaches 0 to 5, outside "
        "this key's range above 0"
    ]
    overrides["actors.iran.retaliation.threshold"] = {"uniform": [0.5, 5]}
    assert load_scenario(BASELINE, overrides).uncertainty.active


def test_a_key_in_an_optional_block_can_be_uncertain_and_is_checked():
    """third_parties.<id>.mediation may be null; its numbers are real keys all the same."""
    key = "third_parties.china.mediation.agreement_rate"
    scenario = load_scenario(BASELINE, {key: {"uniform": [0.01, 0.05]}})
    assert scenario.uncertainty.distributions[key].params == (0.01, 0.05)
    assert _problems(BASELINE, {key: {"uniform": [0.01, 5]}}) == [
        f"--set {key}: {{uniform: [0.01, 5]}} reaches 0.01 to 5, outside this key's range 0 to 1"
    ]


@pytest.mark.parametrize(
    ("uncertainty", "where", "expected"),
    [
        ([1, 2], "uncertainty", "a list"),
        (None, "uncertainty", "null (nothing)"),
        ({"profiles": [1]}, "uncertainty.profiles", "a list"),
    ],
    ids=["a list", "null", "profiles a list"],
)
def test_an_uncertainty_block_that_is_not_a_mapping(tmp_path, uncertainty, where, expected):
    raw = yaml.safe_load(BASELINE.read_text())
    raw["uncertainty"] = uncertainty
    raw["decision"] = {"rationality": {"profile": "calibrated"}, "risk": {"uniform": [1, 2]}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert _problems(path) == [
        f"{path}: {where}: expected a mapping (indented key: value lines), got {expected}"
    ]


def test_a_profile_written_in_the_scenario_is_checked_too(tmp_path):
    """A dumped scenario carries its profiles in uncertainty.profiles; one edited by hand is
    checked where it is used and where it stands."""
    raw = yaml.safe_load(BASELINE.read_text())
    raw["uncertainty"] = {
        "profiles": {"p": {"weights": {"a": 1}, "values": {"actors.iran.cost": [1.0]}}}
    }
    raw["actors"]["iran"]["cost"] = {"profile": "p"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert _problems(path) == [
        f"{path}: actors.iran.cost: profile 'p' has weights that are not a non-empty list of "
        "finite numbers, got a mapping",
        f"{path}: uncertainty.profiles.p.weights: expected a list, got a mapping",
    ]


def test_a_child_scenario_can_replace_a_distribution_by_a_profile(tmp_path):
    parent = yaml.safe_load(BASELINE.read_text())
    parent["actors"]["iran"]["cost"] = {"uniform": [2, 4]}
    (tmp_path / "parent.yaml").write_text(yaml.safe_dump(parent))
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "fit.yaml").write_text(
        "parameters:\n  actors.*.cost: {samples: [2.0, 3.0, 5.0]}\n"
    )
    (tmp_path / "child.yaml").write_text(
        "extends: parent.yaml\nactors:\n  iran:\n    cost: {profile: fit}\n"
    )
    scenario = load_scenario(tmp_path / "child.yaml")
    assert scenario.uncertainty.from_profile == {"actors.iran.cost": "fit"}
    assert scenario.uncertainty.distributions == {}
    assert scenario.actors["iran"].cost == 3.0


@pytest.mark.parametrize("command", ["validate", "story", "run"])
def test_the_command_line_exits_2_with_one_paragraph(tmp_path, capsys, command):
    raw = yaml.safe_load(BASELINE.read_text())
    raw["uncertainty"] = {"distributions": {"horizon": {"uniform": [10, 20]}}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw))
    code = main([command, str(path), "-q"])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {path}: uncertainty.distributions: is filled in from the numbers written as "
        "distributions, not written by hand: write the distribution where the number stands "
        "(cost: {uniform: [2, 4]})\n"
    )


def test_a_value_is_said_in_words_by_one_helper_for_every_wing():
    """One ``kind_of``/``short``, in the model (the lowest wing); inputs/errors.py says it on."""
    import inspect

    from sim.inputs import errors
    from sim.model import schema, uncertainty

    assert errors.kind_of is schema.kind_of and errors.short is schema.short
    assert uncertainty._kind is schema.kind_of and uncertainty._cut is schema.cut
    assert "def _kind" not in inspect.getsource(uncertainty)
    said = [schema.kind_of(v) for v in (True, None, "x" * 61, 2.5, {}, [], (1,))]
    assert said == [
        "true",
        "null (nothing)",
        f"text '{'x' * 57}...'",
        "2.5",
        "a mapping",
        "a list",
        "tuple",
    ]
