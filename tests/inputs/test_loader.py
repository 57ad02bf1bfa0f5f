"""The loader: shipped scenarios load, and every kind of bad input gets its own clear message."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import EscalationModel, Scenario, ScenarioError, load_scenario
from tests.conftest import BASELINE, SCENARIOS


def problems(path: Path, overrides: dict | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_loads(path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name == path.stem


def test_extends_states_only_what_differs():
    hawkish = load_scenario(SCENARIOS / "jan2024_hawkish.yaml")
    assert hawkish.actors["iran"].resolve.params == (6.0, 2.0)
    assert hawkish.actors["iran"].retaliation.delay == 2  # kept from the baseline
    assert hawkish.horizon == load_scenario(BASELINE).horizon
    # `mediation: null` removes China's mandate only: its pressure and protection are the baseline's
    no_mediator = load_scenario(SCENARIOS / "jan2024_no_mediator.yaml").third_parties["china"]
    china = load_scenario(BASELINE).third_parties["china"]
    assert no_mediator.mediation is None and china.mediation is not None
    assert no_mediator.model_dump(exclude={"mediation"}) == china.model_dump(exclude={"mediation"})


def test_overrides_change_one_value_and_switch_policies():
    scenario = load_scenario(BASELINE, {"actors.pakistan.audience_cost": 0.9})
    assert scenario.actors["pakistan"].audience_cost == 0.9
    switched = load_scenario(BASELINE, {"actors.pakistan.retaliation.policy": "escalate"})
    assert switched.actors["pakistan"].retaliation.model_dump() == {
        "policy": "escalate",
        "delay": 2,
        "reaction_delay": 1,
        "step": 1,
    }
    event = load_scenario(BASELINE, {"events.1.rung": 5}).events[1]
    assert event.rung == 5  # type: ignore[attr-defined]
    # a block the file leaves to its defaults can still be set
    assert not load_scenario(BASELINE, {"mechanisms.beliefs": False}).mechanisms.beliefs
    resolve = load_scenario(BASELINE, {"actors.iran.resolve": {"uniform": [0.2, 0.4]}})
    assert resolve.actors["iran"].resolve.model_dump() == {"uniform": [0.2, 0.4]}


def test_scenario_is_immutable():
    scenario = load_scenario(BASELINE)
    with pytest.raises(Exception, match="frozen"):
        scenario.horizon = 3  # type: ignore[misc]


def test_unknown_key_with_suggestion(baseline_raw, write_yaml):
    baseline_raw["actors"]["iran"]["audiense_cost"] = baseline_raw["actors"]["iran"].pop(
        "audience_cost"
    )
    path = write_yaml(baseline_raw)
    assert problems(path) == [
        f"{path}: actors.iran.audiense_cost: unknown key 'audiense_cost'; did you mean "
        "'audience_cost'? (allowed here: name, nuclear, retaliation, resolve, cost, "
        "audience_cost, pledge, perception, attribution, mediation, crackdown_cost)",
    ]


def test_wrong_types(baseline_raw, write_yaml):
    baseline_raw["horizon"] = "sixty"
    baseline_raw["actors"]["iran"]["nuclear"] = "no"
    baseline_raw["actors"]["iran"]["perception"] = [0.1]
    path = write_yaml(baseline_raw)
    assert problems(path) == [
        f"{path}: horizon: expected a whole number, got text 'sixty'",
        f"{path}: actors.iran.nuclear: expected true or false, got text 'no'",
        f"{path}: actors.iran.perception: expected a mapping (indented key: value lines), got a list",
    ]


def test_probabilities_outside_0_1_and_negative_rates(baseline_raw, write_yaml):
    baseline_raw["actors"]["pakistan"]["pledge"] = 1.3
    baseline_raw["armed_groups"]["bla_blf"]["daily_rate"] = -0.5
    baseline_raw["horizon"] = -3
    path = write_yaml(baseline_raw)
    assert problems(path) == [
        f"{path}: horizon: expected a whole number from 1 to 3650, got -3",
        f"{path}: actors.pakistan.pledge: expected a number from 0 to 1, got 1.3",
        f"{path}: armed_groups.bla_blf.daily_rate: expected a number at least 0, got -0.5",
    ]


def test_distributions_are_checked(baseline_raw, write_yaml):
    baseline_raw["actors"]["iran"]["resolve"] = {"beta": [0, 2]}
    baseline_raw["actors"]["pakistan"]["resolve"] = {"gauss": [1, 2]}
    path = write_yaml(baseline_raw)
    assert problems(path) == [
        f"{path}: actors.iran.resolve: beta takes two numbers above 0, got [0, 2]",
        f"{path}: actors.pakistan.resolve: unknown distribution 'gauss'; expected a number, "
        "{beta: [a, b]}, {uniform: [low, high]} or {triangular: [low, mode, high]}",
    ]


def test_unknown_policy_and_event_names_list_the_valid_ones(baseline_raw, write_yaml):
    baseline_raw["actors"]["iran"]["retaliation"]["policy"] = "tit_for_tatt"
    baseline_raw["actors"]["iran"]["mediation"]["policy"] = "maybe"
    baseline_raw["events"][0]["type"] = "atack"
    path = write_yaml(baseline_raw)
    assert problems(path) == [
        f"{path}: actors.iran.retaliation: unknown retaliation policy 'tit_for_tatt'; did you "
        "mean 'tit_for_tat'? (valid: strategic, never, tit_for_tat, proportional, escalate, "
        "generous_tit_for_tat, graduated, threshold)",
        f"{path}: actors.iran.mediation: unknown mediation policy 'maybe' (valid: decide, "
        "accept, refuse)",
        f"{path}: events.0: unknown event type 'atack'; did you mean 'attack'? (valid: act, "
        "attack, pledge, conciliate, offer, ceasefire)",
    ]


def test_policy_parameters_are_checked_by_name(baseline_raw, write_yaml):
    baseline_raw["actors"]["pakistan"]["retaliation"]["forgiv"] = 0.2
    path = write_yaml(baseline_raw)
    assert problems(path) == [
        f"{path}: actors.pakistan.retaliation.forgiv: unknown key 'forgiv' (allowed here: "
        "policy, delay, reaction_delay)"
    ]


def test_references_to_actors_that_do_not_exist(baseline_raw, write_yaml):
    baseline_raw["armed_groups"]["bla_blf"]["host"] = "irn"
    baseline_raw["third_parties"]["china"]["mediation"]["parties"] = ["iran", "india"]
    baseline_raw["third_parties"]["china"]["leverage"]["pakistn"] = 0.1
    baseline_raw["events"][1]["rung"] = 9
    baseline_raw["events"].append({"day": 3, "type": "offer", "third_party": "chna"})
    path = write_yaml(baseline_raw)
    assert problems(path) == [
        f"{path}: armed_groups.bla_blf.host: 'irn' is not a state of this scenario; did you "
        "mean 'iran'? (states: iran, pakistan)",
        f"{path}: third_parties.china.leverage.pakistn: 'pakistn' is not a state of this "
        "scenario; did you mean 'pakistan'? (states: iran, pakistan)",
        f"{path}: third_parties.china.mediation.parties.1: 'india' is not a state of this "
        "scenario (states: iran, pakistan)",
        f"{path}: events.1.rung: rung 9 is off the ladder, whose top rung (war) is 7",
        f"{path}: events.2.third_party: 'chna' is not a third party of this scenario; did you "
        "mean 'china'? (third parties: china)",
    ]


def test_pairs_events_and_days_must_fit_the_crisis(baseline_raw, write_yaml):
    baseline_raw["relations"].append({"between": ["pakistan", "iran"]})
    baseline_raw["relations"][0]["baseline"] = 4
    baseline_raw["events"].append({"day": 70, "type": "pledge", "actor": "iran", "target": "iran"})
    baseline_raw["events"].append(
        {
            "day": 2,
            "type": "act",
            "actor": "iran",
            "target": "pakistan",
            "rung": 2,
            "announced": True,
            "answered": True,
            "operation": True,
        }
    )
    path = write_yaml(baseline_raw)
    assert problems(path) == [
        f"{path}: relations.0.baseline: a peacetime baseline is an act without force: expected "
        "a rung below the strike rung (4), got 4",
        f"{path}: relations.1.between: relations.0 already pairs pakistan and iran; list each "
        "pair once",
        f"{path}: events.2.day: day 70 is after the horizon (60 days)",
        f"{path}: events.2.target: 'iran' and 'iran' are not in crisis with each other (add "
        "them to relations)",
        f"{path}: events.3.answered: only an event before the run (day 0 or earlier) can be "
        "already answered",
        f"{path}: events.3.announced: only a strike (at or above the strike rung) is announced "
        "in advance",
        f"{path}: events.3.operation: only a strike (at or above the strike rung) opens an "
        "operation",
    ]


def test_type_and_reference_problems_are_reported_together(baseline_raw, write_yaml):
    baseline_raw["horizon"] = 0
    baseline_raw["armed_groups"]["jaish_al_adl"]["target"] = "iraq"
    path = write_yaml(baseline_raw)
    assert len(problems(path)) == 2


def test_problem_in_a_parent_names_the_parent(baseline_raw, write_yaml, tmp_path):
    baseline_raw["runs"] = 0
    parent = write_yaml(baseline_raw, "parent.yaml")
    child = write_yaml({"extends": "parent.yaml", "name": "child", "horizon": 0}, "child.yaml")
    assert problems(child) == [
        f"{child}: horizon: expected a whole number from 1 to 3650, got 0",
        f"{parent}: runs: expected a whole number from 1 to 10000000, got 0",
    ]


def test_extends_replaces_a_distribution_of_another_kind(write_yaml):
    child = write_yaml(
        {
            "extends": str(BASELINE),
            "name": "flat",
            "actors": {"iran": {"resolve": {"uniform": [0.2, 0.4]}}},
        },
        "flat.yaml",
    )
    assert load_scenario(child).actors["iran"].resolve.model_dump() == {"uniform": [0.2, 0.4]}


def test_extends_cycle(write_yaml):
    first = write_yaml({"extends": "b.yaml", "name": "a"}, "a.yaml")
    second = write_yaml({"extends": "a.yaml", "name": "b"}, "b.yaml")
    assert problems(first) == [
        f"{second}: extends: extends cycle: {first.resolve()} -> {second.resolve()} -> "
        f"{first.resolve()}"
    ]


def test_extends_a_missing_parent(write_yaml):
    path = write_yaml({"extends": "nowhere.yaml", "name": "a"})
    assert problems(path) == [
        f"{path}: extends: 'nowhere.yaml' not found (looked for {path.parent / 'nowhere.yaml'})"
    ]


def test_yaml_syntax_error_with_line_and_column(write_yaml):
    path = write_yaml("name: test\nhorizon: [60\nruns: 5\n")
    assert problems(path) == [
        f"{path}: YAML syntax error at line 3, column 5: expected ',' or ']', but got ':' "
        "(the line reads: 'runs: 5')"
    ]


def test_empty_file(write_yaml):
    path = write_yaml("")
    assert problems(path) == [
        f"{path}: the file is empty; expected a scenario (see docs/scenarios.md)"
    ]


def test_not_a_mapping(write_yaml):
    path = write_yaml("- just\n- a list\n")
    assert problems(path) == [f"{path}: expected a mapping of scenario keys, got a list"]


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    assert problems(path) == [f"{path}: no such file"]
    assert problems(tmp_path) == [f"{tmp_path}: is a folder, expected a scenario YAML file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(write_yaml):
    path = write_yaml("name: x\n")
    path.chmod(0)
    assert problems(path)[0].startswith(f"{path}: cannot be read")


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert problems(path)[0].startswith(f"{path}: cannot be read (")


def test_a_name_must_make_a_folder_name():
    assert problems(BASELINE, {"name": "my variant/2"}) == [
        "--set name: a name is also a folder name: letters, digits, _ . and -, starting with a "
        "letter or digit; got 'my variant/2'"
    ]


def test_bad_override_paths():
    assert problems(BASELINE, {"actors.pakistn.pledge": 0.3}) == [
        "--set actors.pakistn: no such key in actors; did you mean 'pakistan'?"
    ]
    assert problems(BASELINE, {"events.3.rung": 2}) == [
        "--set events.3: events is a list of 2 items; expected an item number from 0 to 1"
    ]
    assert problems(BASELINE, {"horizon.days": 2}) == [
        "--set horizon.days: horizon holds 60, not keys"
    ]
    assert problems(BASELINE, {"actors..x": 2}) == [
        "--set actors..x: expected a dotted key path such as actors.iran.pledge"
    ]
    assert problems(BASELINE, {"actors.iran.pledge": 2}) == [
        "--set actors.iran.pledge: expected a number from 0 to 1, got 2"
    ]


def _mutations(raw: dict) -> st.SearchStrategy:
    """Paths into the baseline and replacement values of every YAML kind."""
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*path, i))

    walk(raw, ())
    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-10, 100),
        st.floats(allow_nan=True),
        st.text(max_size=12),
        st.lists(st.integers(0, 9), max_size=3),
        st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
        st.sampled_from(
            ["iran", "pakistan", "china", "escalate", "accept", "strategic", "attack", "x", ""]
        ),
    )
    return st.lists(st.tuples(st.sampled_from(paths[1:]), values, st.booleans()), max_size=4)


BASELINE_RAW = yaml.safe_load(BASELINE.read_text())


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutations=_mutations(BASELINE_RAW))
def test_mutated_scenarios_load_or_raise_scenario_error(mutations, tmp_path):
    raw = copy.deepcopy(BASELINE_RAW)
    for path, value, delete in mutations:
        node = raw
        try:
            for key in path[:-1]:
                node = node[key]
            if delete:
                del node[path[-1]]
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    file = tmp_path / "mutated.yaml"
    file.write_text(yaml.safe_dump(raw))
    try:
        scenario = load_scenario(file, {"horizon": 10})
    except ScenarioError as error:
        assert error.problems and all(str(p) for p in error.problems)
        return
    # a scenario the loader accepts runs, and its postures stay on the ladder
    model = EscalationModel(scenario, [1, 2], record=True)
    model.run()
    postures = np.array(model.posture_history)
    assert postures.min() >= 0 and postures.max() <= scenario.ladder.war


# ---------------------------------------------------------------- anchors and base-60 numbers


def _shared_actor_file(tmp_path: Path, merge: bool) -> Path:
    """The baseline with Iran's block written once and used for Pakistan too, by an alias or
    by a ``<<:`` merge key; PyYAML gives both places one shared object."""
    text = BASELINE.read_text()
    data = yaml.safe_load(text)
    data["actors"]["pakistan"] = data["actors"]["iran"]  # one object: dumped as &id / *id
    written = yaml.safe_dump(data, sort_keys=False)
    assert "&id001" in written and "*id001" in written
    if merge:
        written = written.replace(
            "pakistan: *id001", "pakistan:\n    <<: *id001\n    name: Pakistan"
        )
    path = tmp_path / "shared.yaml"
    path.write_text(written)
    return path


@pytest.mark.parametrize("merge", [False, True], ids=["alias", "merge key"])
def test_a_value_shared_by_an_alias_is_changed_in_one_place_only(tmp_path, merge):
    path = _shared_actor_file(tmp_path, merge)
    before = load_scenario(path)
    changed = load_scenario(path, {"actors.iran.perception.error": 0.9})
    assert changed.actors["iran"].perception.error == 0.9
    assert changed.actors["pakistan"].perception.error == before.actors["pakistan"].perception.error
    assert before.actors["pakistan"].perception.error != 0.9


@pytest.mark.parametrize("written", ["1:30", "1:30:00", "-0:30"])
def test_base_60_numbers_are_text_not_minutes(tmp_path, written):
    path = tmp_path / "sexagesimal.yaml"
    path.write_text(f"extends: {BASELINE}\nname: sexagesimal\nhorizon: {written}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: horizon: ")
    assert written in str(caught.value)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "name: x\nactors:\n\tiran: {}\n",
            "line 3 is indented with a tab; YAML indents with spaces only: replace the tab with "
            "spaces, lining the key up with the others of its block (the line reads: 'iran: {}')",
        ),
        (
            "name: x\nactors:\n  iran:\n    cost: 3\n   pledge: 1\n",
            "YAML syntax error at line 5, column 4: the indentation does not fit; the keys of one "
            "block must start in the same column, a key inside a block further right than the "
            "block's name, and a value on the same line as its key needs a space after the colon "
            "(the line reads: 'pledge: 1')",
        ),
    ],
    ids=["tab", "indentation"],
)
def test_tabs_and_indentation_get_a_message_to_act_on(tmp_path, text, expected):
    path = tmp_path / "slip.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}: {expected}"


@pytest.mark.parametrize(
    "key, value, expected",
    [
        (
            "decision.rationality",
            {"profile": ["x"]},
            "a profile is named by text of at most 100 characters, got a list",
        ),
        (
            "decision.rationality",
            {"profile": "a" * 300},
            "a profile is named by text of at most 100 characters, got 300 characters",
        ),
        ("actors.iran.resolve", 5, "resolve is a share from 0 to 1, got 5"),
        ("actors.iran.resolve", -0.5, "resolve is a share from 0 to 1, got -0.5"),
        (
            "actors.iran.resolve",
            {"uniform": [-1, 0.5]},
            "{uniform: [-1, 0.5]} reaches -1 to 0.5, outside resolve's range 0 to 1",
        ),
    ],
    ids=[
        "profile list",
        "profile name too long",
        "resolve 5",
        "resolve below 0",
        "resolve uniform",
    ],
)
def test_uncertain_values_are_checked_when_read_never_a_traceback(key, value, expected):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(BASELINE, {key: value})
    assert str(caught.value) == f"--set {key}: {expected}"
