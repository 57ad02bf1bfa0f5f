"""The one dotted-path override module, used by ``--set`` (the loader) and by sweep points."""

from __future__ import annotations

from typing import Any

import pytest

from sim import load_scenario
from sim.inputs import overrides
from sim.inputs.errors import ScenarioError
from sim.inputs.loader import scenario_from_mapping
from sim.inputs.overrides import OverrideError, set_value
from tests.conftest import BASELINE, crisis


def data() -> dict[str, Any]:
    return {
        "actors": {"pakistan": {"audience_cost": 0.3, "policy": "tit_for_tat"}},
        "events": [{"day": 0}, {"day": 3}],
        "horizon": 60,
    }


def test_set_value_follows_keys_and_list_items_and_returns_the_location() -> None:
    d = data()
    assert set_value(d, "actors.pakistan.audience_cost", 0.9) == (
        "actors",
        "pakistan",
        "audience_cost",
    )
    assert set_value(d, "events.1.day", 5) == ("events", 1, "day")
    assert set_value(d, "actors.pakistan.new_key", "x") == ("actors", "pakistan", "new_key")
    assert d["actors"]["pakistan"] == {
        "audience_cost": 0.9,
        "policy": "tit_for_tat",
        "new_key": "x",
    }
    assert d["events"] == [{"day": 0}, {"day": 5}]


@pytest.mark.parametrize(
    "path, where, message",
    [
        (
            "actors.pakistn.cost",
            "actors.pakistn",
            "no such key in actors; did you mean 'pakistan'?",
        ),
        (
            "events.2.day",
            "events.2",
            "events is a list of 2 items; expected an item number from 0 to 1",
        ),
        (
            "events.x",
            "events.x",
            "events is a list of 2 items; expected an item number from 0 to 1",
        ),
        ("horizon.days", "horizon.days", "horizon holds 60, not keys"),
        ("actors..x", "actors..x", "expected a dotted key path such as actors.iran.pledge"),
    ],
)
def test_a_path_that_leaves_the_data_says_where(path: str, where: str, message: str) -> None:
    d = data()
    with pytest.raises(OverrideError) as caught:
        set_value(d, path, 1)
    assert (caught.value.path, caught.value.message) == (where, message)
    assert d == data()  # nothing was changed on the way


def test_hooks_create_blocks_and_see_the_value_before_it_lands() -> None:
    d = data()
    seen: list[tuple[Any, ...]] = []
    location = set_value(
        d,
        "mechanisms.beliefs",
        False,
        is_block=lambda loc: loc == ("mechanisms",),
        before_set=lambda holder, loc, value: seen.append((dict(holder), loc, value)),
    )
    assert location == ("mechanisms", "beliefs") and d["mechanisms"] == {"beliefs": False}
    assert seen == [({}, ("mechanisms", "beliefs"), False)]


def test_set_and_sweep_points_go_through_the_same_module(monkeypatch) -> None:
    """--set (load_scenario) and a sweep point (scenario_from_mapping, as in every worker)
    reach the scenario through sim.inputs.overrides.set_value, with the same message on a bad path."""
    calls: list[str] = []
    real = overrides.set_value

    def spy(data: Any, key_path: str, value: Any, **hooks: Any) -> Any:
        calls.append(key_path)
        return real(data, key_path, value, **hooks)

    monkeypatch.setattr("sim.inputs.loader.set_value", spy)
    assert load_scenario(BASELINE, {"horizon": 20}).horizon == 20
    assert scenario_from_mapping(crisis(), {"actors.a.cost": 3.0}).actors["a"].cost == 3.0
    assert calls == ["horizon", "actors.a.cost"]
    with pytest.raises(ScenarioError) as caught:
        scenario_from_mapping(crisis(), {"actors.c.cost": 1.0})
    assert str(caught.value) == "--set actors.c: no such key in actors"
