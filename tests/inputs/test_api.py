"""The Python API: its exports, how light ``import sim`` is, the parameter space, and the guide.

``docs/python.md`` is run block by block (sizes shrunk) so that every example in it stays true.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.cli.main import main
from sim.inputs.loader import merged_mapping, scenario_from_mapping
from sim.inputs.parameters import NOT_PARAMETERS, Parameter, parameter_space
from tests.conftest import BASELINE, ROOT

GUIDE = ROOT / "docs" / "python.md"
EMA_SECTION = "## EMA Workbench: exploratory modelling and scenario discovery"
SMALLER = {
    "runs=2000": "runs=200",
    "--runs 2000": "--runs 200 --workers 1 --quiet",
    "runs=1000": "runs=100",
    "runs=500": "runs=100",
    "sample(problem, 64,": "sample(problem, 2,",
    "scenarios=200": "scenarios=24",
    "scenarios=8": "scenarios=4",
}
"""The sizes a real analysis needs, as the guide writes them, and those the tests run."""
HEAVY = ("matplotlib", "pandas", "scipy", "mesa")


def guide_blocks(section: str) -> list[tuple[str, str]]:
    """(language, code) of the guide's blocks, sizes shrunk: the first block (which loads the
    scenario) and then those before the EMA section (``"api"``) or in it (``"ema"``)."""
    text = GUIDE.read_text()
    for big in SMALLER:
        assert big in text, f"docs/python.md no longer holds {big!r}: update SMALLER"
    for big, small in SMALLER.items():
        text = text.replace(big, small)
    before, ema = text.split(EMA_SECTION)
    blocks = re.findall(r"```(python|bash)\n(.*?)```", before, re.S)
    return (
        blocks
        if section == "api"
        else [blocks[0], *re.findall(r"```(python)\n(.*?)```", ema, re.S)]
    )


def run_guide(blocks: list[tuple[str, str]], folder: Path) -> dict[str, Any]:
    """Run the blocks in order in ``folder`` (beside the project's scenarios), as a reader
    would from the project folder; ``python run.py`` lines run the command line in-process."""
    (folder / "scenarios").symlink_to(ROOT / "scenarios")
    namespace: dict[str, Any] = {"__name__": "guide"}
    for language, code in blocks:
        if language == "bash":
            for line in code.splitlines():
                words = shlex.split(line)
                assert words[:2] == ["python", "run.py"], line
                assert main(words[2:]) == 0, line
        else:
            exec(compile(code, str(GUIDE), "exec"), namespace)  # noqa: S102 - the guide's own code
    return namespace


def test_every_exported_name_imports():
    assert sim.__all__ == sorted(sim._EXPORTS)
    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
    assert set(sim.__all__) <= set(dir(sim))


def test_exports_name_the_results_and_sweep_functions_by_their_roles():
    where = {
        name: (getattr(sim, name).__module__, getattr(sim, name).__name__)
        for name in ("load_results", "load_sweep", "run_sweep", "standard_outcomes")
    }
    assert where["load_results"] == ("sim.files.results", "load")
    assert (
        where["load_sweep"][0].startswith("sim.experiments.sweep")
        and where["load_sweep"][1] == "load_results"
    )
    assert (
        where["run_sweep"][0].startswith("sim.experiments.sweep")
        and where["run_sweep"][1] == "run_sweep"
    )
    assert where["standard_outcomes"] == ("sim.analysis.outcomes", "for_scenario")


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'sim' has no attribute 'run_ensembles'"):
        sim.run_ensembles  # noqa: B018


def _loaded_after(code: str) -> list[str]:
    """Which heavy libraries a fresh interpreter has imported after ``code``."""
    probe = (
        f"import json, sys\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout)


def test_import_sim_loads_no_heavy_library():
    assert _loaded_after("import sim") == []


def test_a_parameter_space_needs_no_heavy_library():
    code = f"import sim\nsim.parameter_space(sim.load_scenario({str(BASELINE)!r}))"
    assert _loaded_after(code) == []


# ---------------------------------------------------------------- the parameter space


@pytest.fixture(scope="module")
def baseline() -> sim.Scenario:
    return sim.load_scenario(BASELINE)


@pytest.fixture(scope="module")
def space(baseline):
    return parameter_space(baseline)


def _leaves(value: object, path: tuple[str, ...] = ()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, str(index)))
    else:
        yield path, value


def _at(data: object, path: str) -> object:
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]  # type: ignore[index]
    return data


def test_the_baseline_space_holds_every_numeric_key_and_each_policy(baseline, space):
    # derived from the scenario as written out, not from the schema walk under test: every
    # number (a distribution's parameters too) and every policy, outside the blocks left out
    expected = {
        ".".join(path)
        for path, value in _leaves(baseline.model_dump(mode="json"))
        if path[0] not in NOT_PARAMETERS
        and (
            (isinstance(value, int | float) and not isinstance(value, bool)) or path[-1] == "policy"
        )
    }
    assert set(space.paths) == expected
    assert len(space) == len(expected)
    for parameter in space:
        assert parameter.value == _at(baseline.model_dump(mode="json"), parameter.path)
    assert [p.kind for p in space].count("categorical") == 4
    assert [p.kind for p in space].count("integer") == 12


@pytest.mark.parametrize(
    "expected",
    [
        # both bounds from the schema
        Parameter("actors.pakistan.pledge", "real", 0.5, 0.0, 1.0),
        Parameter("third_parties.china.alignment.pakistan", "real", 0.3, -1.0, 1.0),
        Parameter("decision.cost_convexity", "real", 3.0, 1.0, 8.0),
        Parameter("decision.belief_types", "integer", 5, 2, 15),
        Parameter("mechanisms.rounds_per_day", "integer", 3, 1, 16),
        # a lower bound only: from it to twice the value, or to the bound + 1
        Parameter("actors.pakistan.cost", "real", 3.0, 0.0, 6.0, source="default"),
        Parameter("decision.rationality", "real", 8.0, 0.0, 16.0, source="default"),
        Parameter("third_parties.china.leverage.iran", "real", 0.3, 0.0, 0.6, source="default"),
        Parameter("armed_groups.bla_blf.daily_rate", "real", 0.015, 0.0, 0.03, source="default"),
        Parameter("actors.pakistan.retaliation.delay", "integer", 2, 0, 4, source="default"),
        Parameter("actors.iran.retaliation.reaction_delay", "integer", 0, 0, 1, source="default"),
        Parameter("third_parties.china.mediation.cooldown", "integer", 3, 0, 6, source="default"),
        # an exclusive lower bound: the range starts halfway to the value
        Parameter("actors.iran.resolve.beta.0", "real", 3.0, 1.5, 6.0, source="default"),
        # rungs, from the ladder (war is rung 7, the strike rung 4)
        Parameter("relations.0.baseline", "integer", 0, 0, 3, source="ladder"),
        Parameter("armed_groups.jaish_al_adl.attack_rung", "integer", 4, 1, 6, source="ladder"),
        Parameter(
            "third_parties.china.mediation.trigger_rung", "integer", 4, 1, 7, source="ladder"
        ),
        Parameter("decision.nuclear_from_rung", "integer", 6, 1, 7, source="ladder"),
        # policies, as choices among the registered ones
        Parameter(
            "actors.pakistan.retaliation.policy",
            "categorical",
            "strategic",
            categories=(
                "strategic",
                "never",
                "tit_for_tat",
                "proportional",
                "escalate",
                "generous_tit_for_tat",
                "graduated",
                "threshold",
            ),
        ),
        Parameter(
            "actors.iran.mediation.policy",
            "categorical",
            "decide",
            categories=("decide", "accept", "refuse"),
        ),
    ],
    ids=lambda p: p.path,
)
def test_baseline_entries(space, expected):
    assert space[expected.path] == expected


def test_run_settings_the_ladder_and_events_are_left_out(space):
    heads = {path.split(".")[0] for path in space.paths}
    assert heads == {
        "mechanisms",
        "decision",
        "actors",
        "relations",
        "armed_groups",
        "third_parties",
    }


def _at(data: Any, path: str) -> Any:
    for key in path.split("."):
        data = data[int(key)] if isinstance(data, list | tuple) else data[key]
    return data


def test_both_ends_of_every_range_and_every_policy_load_where_the_path_says(space):
    raw = merged_mapping(BASELINE)
    for p in space:
        for value in p.categories if p.kind == "categorical" else (p.low, p.high):
            changed = scenario_from_mapping(raw, space.overrides({p.path: value}))
            assert _at(changed.model_dump(), p.path) == value, p.path


def test_salib_problem_of_chosen_keys_in_the_order_given(baseline):
    chosen = parameter_space(
        baseline,
        keys=["decision.rationality", "actors.pakistan.retaliation"],
        bounds={"decision.rationality": (2, 12)},
    )
    assert chosen.paths == [
        "decision.rationality",
        "actors.pakistan.retaliation.policy",
        "actors.pakistan.retaliation.delay",
        "actors.pakistan.retaliation.reaction_delay",
    ]
    assert chosen["decision.rationality"].source == "caller"
    assert chosen.salib_problem() == {
        "num_vars": 3,
        "names": [
            "decision.rationality",
            "actors.pakistan.retaliation.delay",
            "actors.pakistan.retaliation.reaction_delay",
        ],
        "bounds": [[2.0, 12.0], [0, 4], [0, 2]],
    }


def test_overrides_are_plain_numbers_and_whole_ones_for_integer_keys(baseline):
    chosen = parameter_space(
        baseline, keys=["actors.pakistan.cost", "actors.pakistan.retaliation.delay"]
    )
    overrides = chosen.overrides(
        {
            "actors__pakistan__cost": np.float64(2.5),
            "actors.pakistan.retaliation.delay": np.int64(3),
        }
    )
    assert overrides == {"actors.pakistan.cost": 2.5, "actors.pakistan.retaliation.delay": 3}
    assert [type(v) for v in overrides.values()] == [float, int]
    delay = chosen["actors.pakistan.retaliation.delay"]  # 0 to 4: five whole numbers, 0.8 each
    assert [delay.convert(x) for x in (0.0, 0.79, 0.81, 1.99, 2.5, 3.21, 4.0)] == [
        0,
        0,
        1,
        2,
        3,
        4,
        4,
    ]


@pytest.mark.parametrize(
    ("keys", "bounds", "message"),
    [
        (
            ["actors.pakistan.cots"],
            None,
            "'actors.pakistan.cots' is not a key of the parameter space; did you mean 'actors.pakistan.cost'?",
        ),
        (
            ["horizon"],
            None,
            "'horizon' is not a key of the parameter space: horizon is left out of the parameter space (see sim.inputs.parameters)",
        ),
        (
            ["events.1.rung"],
            None,
            "'events.1.rung' is not a key of the parameter space: events is left out of the parameter space (see sim.inputs.parameters)",
        ),
        (
            ["actors.pakistan.cost"],
            {"actors.iran.cost": (1, 2)},
            "bounds for 'actors.iran.cost', which is not in the chosen keys; did you mean 'actors.pakistan.cost'?",
        ),
        (
            None,
            {"actors.pakistan.pledge": (0.2, 1.5)},
            "bounds for actors.pakistan.pledge: expected high <= 1 (the schema's limit), got 1.5",
        ),
        (
            None,
            {"actors.pakistan.cost": (-1, 2)},
            "bounds for actors.pakistan.cost: expected low >= 0 (the schema's limit), got -1",
        ),
        (
            None,
            {"actors.iran.resolve.beta.0": (0, 2)},
            "bounds for actors.iran.resolve.beta.0: expected low > 0.0 (the schema's limit), got 0",
        ),
        (
            None,
            {"relations.0.baseline": (0, 4)},
            "bounds for relations.0.baseline: expected high <= 3 (the ladder's limit), got 4",
        ),
        (
            None,
            {"third_parties.china.mediation.cooldown": (0, 4000)},
            "bounds for third_parties.china.mediation.cooldown: expected high <= 3650 (the schema's limit), got 4000",
        ),
        (
            None,
            {"actors.pakistan.retaliation.delay": (0, 2.5)},
            "bounds for actors.pakistan.retaliation.delay: expected whole numbers, got (0, 2.5)",
        ),
        (
            None,
            {"actors.pakistan.cost": (2, 2)},
            "bounds for actors.pakistan.cost: expected low < high, got (2, 2)",
        ),
        (
            None,
            {"actors.pakistan.cost": (2,)},
            "bounds for actors.pakistan.cost: expected (low, high), got (2,)",
        ),
        (
            None,
            {"actors.iran.mediation.policy": ("accept", "agree")},
            "bounds for actors.iran.mediation.policy: expected two or more of decide, accept, refuse, got ('accept', 'agree')",
        ),
    ],
)
def test_bad_keys_and_bounds_are_refused_with_a_message(baseline, keys, bounds, message):
    with pytest.raises(ValueError) as error:
        parameter_space(baseline, keys=keys, bounds=bounds)
    assert str(error.value) == message


def test_policy_choices_can_be_narrowed(baseline):
    chosen = parameter_space(
        baseline,
        keys=["actors.iran.mediation.policy"],
        bounds={"actors.iran.mediation.policy": ("accept", "refuse")},
    )
    assert chosen["actors.iran.mediation.policy"].categories == ("accept", "refuse")
    assert chosen.salib_problem() == {"num_vars": 0, "names": [], "bounds": []}
    with pytest.raises(
        ValueError,
        match=r"^actors.iran.mediation.policy: expected one of accept, refuse, got 'decide'$",
    ):
        chosen.overrides({"actors.iran.mediation.policy": "decide"})


def test_an_infinite_value_needs_bounds_from_the_caller(baseline):
    certain = sim.load_scenario(BASELINE, overrides={"decision.rationality": float("inf")})
    with pytest.raises(ValueError) as error:
        parameter_space(certain, keys=["decision"])
    assert str(error.value) == (
        "decision.rationality is inf, so no range can be derived from it; pass one, such as "
        "bounds={'decision.rationality': (low, high)}"
    )
    given = parameter_space(
        certain, keys=["decision.rationality"], bounds={"decision.rationality": (0, 50)}
    )
    assert (given["decision.rationality"].low, given["decision.rationality"].high) == (0.0, 50.0)


def test_a_fixed_resolve_is_a_share(baseline):
    fixed = sim.load_scenario(BASELINE, overrides={"actors.iran.resolve": 0.7})
    assert parameter_space(fixed, keys=["actors.iran.resolve"]).parameters == (
        Parameter("actors.iran.resolve", "real", 0.7, 0.0, 1.0),
    )


def test_an_unknown_name_in_the_space_says_what_was_meant(space):
    with pytest.raises(
        KeyError,
        match="'actors.pakistan.cots' is not in this parameter space; did you mean 'actors.pakistan.cost'",
    ):
        space["actors.pakistan.cots"]


def test_the_space_as_a_table(baseline):
    table = parameter_space(
        baseline, keys=["actors.pakistan.cost", "actors.iran.mediation.policy"]
    ).to_frame()
    assert table.astype(object).where(table.notna(), None).to_dict("records") == [
        {
            "path": "actors.pakistan.cost",
            "kind": "real",
            "value": 3.0,
            "low": 0.0,
            "high": 6.0,
            "categories": "",
            "source": "default",
        },
        {
            "path": "actors.iran.mediation.policy",
            "kind": "categorical",
            "value": "decide",
            "low": None,
            "high": None,
            "categories": "decide, accept, refuse",
            "source": "schema",
        },
    ]


# ---------------------------------------------------------------- the guide


@pytest.mark.slow
def test_every_block_of_the_python_guide_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    done = run_guide(guide_blocks("api"), tmp_path)
    printed = capsys.readouterr().out
    assert printed.startswith(
        "0.5 1.5\nactors.pakistan.audience_cost - expected a number at least 0, got -1\n"
    )
    assert (tmp_path / "story.png").stat().st_size > 10_000
    assert len(done["ensemble"].runs) == 200
    assert set(done["comparison"]["scenario"]) == {"jan2024_mediation_refused"}
    assert done["saved"].metadata["kind"] == "ensemble" and len(done["saved"].runs) == 200
    assert done["summary"].complete and list(done["table"]["actors.pakistan.audience_cost"]) == [
        0.0,
        0.5,
        1.0,
        1.5,
    ]
    assert len(done["y"]) == len(done["X"]) == 2 * (3 + 2)
    assert all(0 <= value <= 1 for value in done["y"])


def test_paths_as_str_or_path_and_clear_errors_otherwise(tmp_path):
    by_path = sim.run_ensemble(BASELINE, runs=20, outcomes=["answer_7d"])
    by_text = sim.run_ensemble(str(BASELINE), runs=20, outcomes=["answer_7d"])
    by_scenario = sim.run_ensemble(sim.load_scenario(BASELINE), runs=20, outcomes=["answer_7d"])
    assert by_path.estimates == by_text.estimates == by_scenario.estimates
    with pytest.raises(TypeError, match="run_ensemble takes a Scenario .* not dict"):
        sim.run_ensemble({"name": "x"}, runs=5)  # type: ignore[arg-type]
    assert main(["run", str(BASELINE), "--runs", "30", "--out", str(tmp_path / "r"), "-q"]) == 0
    assert sim.load_results(str(tmp_path / "r")).runs.equals(sim.load_results(tmp_path / "r").runs)
    with pytest.raises(
        TypeError, match=r"^folder must be a path \(str or pathlib.Path\), got int$"
    ):
        sim.load_results(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"runs": float("inf")}, TypeError, "runs must be a whole number, got inf"),
        ({"runs": 2.5}, TypeError, "runs must be a whole number, got 2.5"),
        ({"runs": True}, TypeError, "runs must be a whole number, got True"),
        ({"runs": 0}, ValueError, "runs must be from 1 to 10,000,000, got 0"),
        ({"seed": "1"}, TypeError, "seed must be a whole number, got '1'"),
        ({"seed": 2**63}, ValueError, "seed must be from 0 to 9,223,372,036,854,775,807"),
        ({"target_halfwidth": 0}, ValueError, "target_halfwidth must be above 0 and at most 0.5"),
        ({"target_halfwidth": -0.1}, ValueError, "target_halfwidth must be above 0"),
        ({"target_halfwidth": 0.01, "max_runs": -1}, ValueError, "max_runs must be at least 1"),
        ({"pool": "x"}, TypeError, "pool must be an executor (with submit), got str"),
        ({"outcomes": "answer_7d"}, TypeError, "outcomes must be a list of outcome names"),
    ],
)
def test_run_ensemble_refuses_bad_arguments_with_a_clear_exception(arguments, error, message):
    with pytest.raises(error) as caught:
        sim.run_ensemble(BASELINE, **arguments)
    assert str(caught.value).startswith(message)


def test_run_story_and_wilson_refuse_what_is_not_a_number():
    scenario = sim.load_scenario(BASELINE)
    with pytest.raises(ValueError, match="seed must be from 0 to 9,223,372,036,854,775,807, got "):
        sim.run_story(scenario, seed=2**63)
    with pytest.raises(TypeError, match="seed must be a whole number, got '1'"):
        sim.run_story(scenario, seed="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="wilson_interval needs 1 <= n"):
        sim.wilson_interval(5, 0)
