"""explain: what started the climb, by documented rules, on scripted runs and a real folder."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from sim import EscalationModel, load_scenario
from sim.analysis.explain import _calm_at, _talks_at, classify, default_rung
from sim.cli.main import main
from sim.model import uncertainty
from sim.model.record import Choice, Event
from tests.conftest import BASELINE, SCENARIOS, scenario, state

FORCES = 5


def choice(utility: list[float], rungs: list[int], chosen: int, commitment: float = 0.0) -> Choice:
    terms = tuple(
        {"resolve": u, "commitment": commitment if r < 4 else 0.0}
        for u, r in zip(utility, rungs, strict=True)
    )
    return Choice(
        "answer", tuple(f"o{r}" for r in rungs), terms, tuple(utility), (), chosen, tuple(rungs)
    )


def strike(day: int, actor: str, target: str, rung: int, made: Choice | None = None) -> Event:
    return Event(day, 0, "strike" if rung >= 4 else "act", actor, target, rung, "", made)


OPENING = strike(0, "a", "b", 4)
BEST_IN_KIND = choice([0.0, 0.5, 0.4], [0, 4, 5], chosen=2)  # best is 4: 5 by chance
BEST_ABOVE = choice([0.0, 0.2, 0.6], [0, 4, 5], chosen=2)


@pytest.mark.parametrize(
    "events, cause",
    [
        # b answers an attack it blamed on a, while talks between them were under way (as the
        # model recorded them at the blame): a spoiler
        (
            [
                OPENING,
                Event(2, 0, "accept", "m", None, None, ""),
                Event(3, 0, "attack", "g", "b", 4, ""),
                Event(3, 0, "blame", "b", "a", 4, "", details={"talks": True, "ceasefire": False}),
                strike(5, "b", "a", FORCES, BEST_ABOVE),
            ],
            "spoiler",
        ),
        (
            [
                OPENING,
                Event(3, 0, "blame", "b", "a", 4, "", details={"talks": False, "ceasefire": True}),
                strike(5, "b", "a", FORCES, BEST_ABOVE),
            ],
            "spoiler",
        ),
        (
            [
                OPENING,
                Event(3, 0, "blame", "b", "a", 4, ""),
                strike(5, "b", "a", FORCES, BEST_ABOVE),
            ],
            "blamed attack",
        ),
        (
            [
                OPENING,
                Event(0, 0, "misperceive", "b", "a", 5, ""),
                strike(2, "b", "a", FORCES, BEST_IN_KIND),
            ],
            "misread act",
        ),
        # without the pledge's audience cost, no answer (rung 0) would have been best
        (
            [
                OPENING,
                strike(
                    2, "b", "a", FORCES, choice([-1.0, -0.8, 0.1], [0, 4, 5], 2, commitment=-1.2)
                ),
            ],
            "commitment",
        ),
        # a persona's act: its rule, not terms it never weighed
        (
            [
                OPENING,
                strike(
                    2, "b", "a", FORCES, dataclasses.replace(BEST_IN_KIND, rule="escalate: ...")
                ),
            ],
            "scripted rule",
        ),
        ([OPENING, strike(2, "b", "a", FORCES, BEST_IN_KIND)], "chance"),
        # a first reaction (an envoy recalled) does not close the account: the blamed attack
        # before it is still what the strike answers
        (
            [
                OPENING,
                Event(1, 0, "blame", "b", "a", 4, ""),
                strike(1, "b", "a", 2, dataclasses.replace(BEST_IN_KIND, kind="reaction")),
                strike(3, "b", "a", FORCES, BEST_ABOVE),
            ],
            "blamed attack",
        ),
        (
            [
                OPENING,
                Event(2, 2, "refuse", "b", "m", None, ""),
                strike(4, "b", "a", FORCES, BEST_ABOVE),
            ],
            "refused talks",
        ),
        ([OPENING, strike(2, "b", "a", FORCES, BEST_ABOVE)], "deliberate escalation"),
        (
            [strike(0, "a", "b", 5), strike(2, "b", "a", FORCES, choice([0.0, 0.9], [0, 5], 1))],
            "answer in kind",
        ),
    ],
)
def test_each_rule_of_what_started_the_climb(events, cause):
    assert classify(events, len(events) - 1) == cause


class Watched(EscalationModel):
    """The model, noting at every recorded event whether talks or a ceasefire stood between the
    two states, read from the agents' own state (not from the event)."""

    def log(self, world, kind, actor, target, rung, text, choice=None, **details):
        if (
            target in self.states
            and actor in self.states
            and target in self.states[actor].adversaries
        ):
            talks = any(
                party.talks[world]
                for party in self.third_parties.values()
                if actor in party.parties and target in party.parties
            )
            self.seen.append(
                (world, len(self.events[world]), talks, self.pair(actor, target).ceasefire[world])
            )
        super().log(world, kind, actor, target, rung, text, choice, **details)


@pytest.mark.parametrize("name", ["jan2024_baseline.yaml", "jan2024_spoilers.yaml"])
def test_the_flags_explain_reads_are_the_models_state_at_each_event(name):
    sc = load_scenario(SCENARIOS / name)
    if sc.uncertainty.active:
        sc = uncertainty.for_seed(sc, 1)
    Watched.seen = []
    model = Watched(sc, list(range(40)), record=True)
    model.run()
    assert len(Watched.seen) > 100
    states = {(talks, ceasefire) for _, _, talks, ceasefire in Watched.seen}
    assert (True, False) in states  # talks happen in these runs: the test sees them
    for world, index, talks, ceasefire in Watched.seen:
        event = model.events[world][index]
        assert _talks_at(event) == talks
        assert _calm_at(event) == (talks or ceasefire)


def test_a_ceasefire_between_two_other_states_does_not_make_a_spoiler():
    """A and C agree a ceasefire; then a group on A's soil attacks B, B blames A and answers:
    no talks or ceasefire stood between A and B, so the attack was no spoiler."""
    sc = scenario(
        horizon=6,
        actors={"c": state("C")},
        relations=[{"between": ["a", "b"]}, {"between": ["a", "c"]}],
        armed_groups={
            "raiders": {
                "name": "Raiders",
                "host": "a",
                "target": "b",
                "daily_rate": 0.0,
                "attack_rung": 4,
            }
        },
        events=[
            {"day": 0, "type": "act", "actor": "a", "target": "c", "rung": 5},
            {"day": 1, "type": "ceasefire", "between": ["a", "c"]},
            {"day": 2, "type": "attack", "group": "raiders", "claimed": True},
        ],
        mechanisms={"armed_groups": True},
    )
    model = EscalationModel(sc, 1, record=True)
    model.run()
    events = model.events[0]
    agreed = next(e for e in events if e.kind == "ceasefire")
    assert (agreed.actor, agreed.target, agreed.details["ceasefire"]) == ("a", "c", True)
    blame = next(e for e in events if e.kind == "blame")
    assert blame.details == {"talks": False, "ceasefire": False}
    answer = next(i for i, e in enumerate(events) if e.actor == "b" and e.kind == "strike")
    assert classify(events, answer) == "blamed attack"


def test_the_default_rung_is_the_first_strike_on_state_forces():
    assert default_rung(scenario()) == 5


def test_explain_replays_the_runs_that_climbed(capsys, tmp_path):
    folder = tmp_path / "hawks"
    assert (
        main(
            [
                "run",
                str(SCENARIOS / "jan2024_hawkish.yaml"),
                "--runs",
                "600",
                "--quiet",
                "--out",
                str(folder),
            ]
        )
        == 0
    )
    capsys.readouterr()
    out_dir = tmp_path / "why"
    assert main(["explain", str(folder), "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    runs = pd.read_csv(folder / "runs.csv")
    climbs = pd.read_csv(out_dir / "climbs.csv")
    causes = pd.read_csv(out_dir / "causes.csv")
    # exactly the runs whose states struck forces (the default rung) are explained
    forces = runs[(runs["forces_day_iran"].notna()) | (runs["forces_day_pakistan"].notna())]
    assert sorted(climbs["run"]) == sorted(forces["run"])
    assert causes["runs"].sum() == len(climbs)
    assert out.startswith(f"jan2024_hawkish: {len(climbs):,} of 600 runs acted at rung 5")
    assert out.count("python run.py story --from") == 3
    assert {"causes.png", "causes.svg"} <= {p.name for p in out_dir.iterdir()}


def test_explain_a_rung_never_reached_is_a_clear_message(capsys, tmp_path):
    folder = tmp_path / "quiet"
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--runs",
                "20",
                "--quiet",
                "--set",
                "mechanisms.armed_groups=false",
                "--set",
                "horizon=5",
                "--out",
                str(folder),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["explain", str(folder), "--rung", "7", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no run of jan2024_baseline__")
    assert err.endswith("acted at rung 7 ('war') or higher; choose a lower --rung\n")
    assert main(["explain", str(tmp_path / "nothing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_day_of_an_operation_or_an_engagement_is_its_own_cause():
    """Fighting that goes on is read as such, before any rule about decisions: the climb to
    the sustained rung on day 1 of an operation, and a day of an engagement's fire."""
    opened = scenario(
        horizon=3,
        mechanisms={"operations": True},
        decision={"operation_continuation": 1.0, "engagement_continuation": 1.0},
        actors={"b": state("B", "never")},
        relations=[{"between": ["a", "b"], "baseline": 3}],
        events=[
            {"day": 0, "type": "act", "actor": "a", "target": "b", "rung": 6, "answered": True},
            {"day": 0, "type": "act", "actor": "b", "target": "a", "rung": 5, "answered": True},
        ],
    )
    model = EscalationModel(opened, 1, record=True)
    model.run()
    events = model.events[0]
    day_1 = [i for i, e in enumerate(events) if e.day == 1 and e.kind == "strike"]
    causes = {(events[i].actor, events[i].rung): classify(events, i) for i in day_1}
    assert causes == {("a", 6): "operation", ("a", 5): "engagement", ("b", 5): "engagement"}
