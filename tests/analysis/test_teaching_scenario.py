"""The teaching scenario of model 3 (scenarios/jul2025_campaign.yaml): strikes on state forces
come for a reason the model names (an operation, an engagement), not from the noise of a choice,
and the README's story and numbers are what the commands print today."""

from __future__ import annotations

import re

import pytest

from sim import load_scenario, run_story
from sim.analysis.explain import classify
from sim.cli.main import main
from tests.conftest import ROOT, SCENARIOS

CAMPAIGN = SCENARIOS / "jul2025_campaign.yaml"
CASE = SCENARIOS / "cases" / "jul2025-thailand-cambodia.yaml"
SEED = 35
"""The run the README tells: the operation, Thailand's answer, the engagement, talks."""
README = (ROOT / "README.md").read_text()


def _story(capsys, *more: str) -> list[str]:
    assert main(["story", str(CAMPAIGN), "--seed", str(SEED), *more]) == 0
    return capsys.readouterr().out.splitlines()


def _days(lines: list[str]) -> dict[int, list[str]]:
    """The full story's lines under each day header, stripped."""
    days: dict[int, list[str]] = {}
    day = None
    for line in lines:
        header = re.match(r"^Day (\d+) \(", line)
        if header:
            day = int(header[1])
            days[day] = []
        elif day is not None and line.strip():
            days[day].append(line.strip())
    return days


def test_the_campaign_is_the_library_case_with_one_opening_act_changed():
    campaign, case = load_scenario(CAMPAIGN), load_scenario(CASE)
    for key in ("actors", "relations", "third_parties", "decision", "mechanisms", "ladder"):
        assert getattr(campaign, key) == getattr(case, key), key
    # The case's mutual opening (both at rung 5, both answered) becomes one act of Cambodia's
    # at the sustained rung, which Thailand owes an answer to.
    assert [(e.actor, e.rung, e.answered) for e in case.events] == [
        ("cambodia", 5, True),
        ("thailand", 5, True),
    ]
    (opening,) = campaign.events
    assert (opening.actor, opening.target, opening.day) == ("cambodia", "thailand", 0)
    assert opening.rung == campaign.ladder.sustained == 6 and not opening.answered
    # Forces in contact: the relation's baseline is a force posture, the rung below strikes.
    (relation,) = campaign.relations
    assert relation.baseline == campaign.ladder.strike_rung - 1 == 3


def test_seed_35_tells_the_operation_thailands_answer_and_the_engagement(capsys):
    days = _days(_story(capsys, "--full"))
    # Day 0: the act at the sustained rung opens an operation (docs/model.md, "Operations").
    assert days[0] == [
        "Near Ta Muen Thom, Cambodian artillery and BM-21 rockets open a sustained bombardment "
        "of Thai positions and border provinces.",
        "Cambodia opens an operation against Thailand: it will strike day after day until it "
        "stops, a ceasefire or war.",
    ]
    carry_on = "Cambodia carries on its operation against Thailand: 'sustained exchange of fire'."
    # Days 1 to 4: the operation strikes Thailand's forces each morning.
    for day in (1, 2, 3, 4):
        assert carry_on in days[day], day
    # Day 2: Thailand's answer comes after its delay (2 days, the library standard), a strike
    # on Cambodia's forces, chosen because restoring deterrence outweighs its cost.
    answer = "Thailand answers Cambodia: 'strike on state forces'."
    assert answer in days[2] and not any(answer in days[d] for d in (0, 1))
    why = days[2][days[2].index(answer) + 1]
    assert why.startswith("why: for: restoring deterrence (+1.95); against: the cost (-1.13)")
    # The same day both armies struck each other's forces, and they are in contact: an
    # engagement (docs/model.md, "Engagements"); on days only one side struck, none.
    engagement = (
        "The forces of Cambodia and Thailand, in contact, fall into an engagement: their "
        "exchanges of fire go on by their own dynamics."
    )
    assert days[2][-1] == engagement
    assert engagement not in days[1] and engagement not in days[3]
    assert "The engagement of Cambodia's and Thailand's forces dies out." in days[3]
    # Day 4: Thailand answers the operation again, a new engagement; day 5 it fires by itself
    # (no decision of either capital) while Cambodia's operation ends.
    assert answer in days[4] and days[4][-1] == engagement
    assert days[5][:3] == [
        "Cambodia ends its operation against Thailand.",
        "Cambodia's forces in contact with Thailand's fire again: 'strike on state forces'.",
        "Thailand's forces in contact with Cambodia's fire again: 'strike on state forces'.",
    ]
    # Malaysia's talks, offered under fire, weigh both sides' hurt, and begin on day 9.
    assert any(
        line.startswith(
            "why: talks were worth less than refusing (-1.03); for: both sides hurting (+0.57)"
        )
        for line in days[5]
    )
    assert "Talks led by Malaysia begin." in days[9]


def test_seed_35_brief_story_and_what_started_its_climb(capsys):
    lines = _story(capsys)
    assert lines[:8] == [
        "jul2025_campaign — one run (seed 35), day 0 = 24 July 2025",
        "Turning points:",
        "  Day 0 (Thu 24 Jul): Near Ta Muen Thom, Cambodian artillery and BM-21 rockets open a "
        "sustained bombardment of Thai positions and border provinces.",
        "  Day 1 (Fri 25 Jul): Cambodia carries on its operation against Thailand: 'sustained "
        "exchange of fire'.",
        "  Day 2 (Sat 26 Jul): Cambodia carries on its operation against Thailand: 'sustained "
        "exchange of fire'.",
        "  Day 2 (Sat 26 Jul): Thailand answers Cambodia: 'strike on state forces'.",
        "  Day 3 (Sun 27 Jul): Cambodia carries on its operation against Thailand: 'sustained "
        "exchange of fire'.",
        "  Day 4 (Mon 28 Jul): Cambodia carries on its operation against Thailand: 'sustained "
        "exchange of fire'.",
    ]
    assert "  Some state strikes another state's forces within 30 days: yes (day 1)" in lines
    assert "  War by the horizon: no" in lines
    # explain's rule 0: the first strike on state forces after the opening was a day of the
    # operation, which no decision of that day made.
    story = run_story(load_scenario(CAMPAIGN), SEED)
    events = story.events[0]
    first = next(
        i
        for i, e in enumerate(events)
        if e.day >= 1 and e.kind in ("strike", "act") and (e.rung or 0) >= 5
    )
    assert (events[first].day, events[first].actor) == (1, "cambodia")
    assert classify(events, first) == "operation"


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+\.\d%", text)


def _section(marker: str) -> str:
    return README.split(f"<!-- {marker}:start -->", 1)[1].split(f"<!-- {marker}:end -->", 1)[0]


def test_readme_campaign_numbers_are_what_run_and_explain_print(tmp_path, capsys):
    out = tmp_path / "campaign"
    outcomes = ["answer_7d", "forces_30d", "sustained", "war"]
    assert (
        main(["run", str(CAMPAIGN), "--out", str(out), "--outcomes", *outcomes, "--workers", "1"])
        == 0
    )
    printed = capsys.readouterr().out
    assert main(["explain", str(out), "--out", str(tmp_path / "explain")]) == 0
    causes = capsys.readouterr().out
    quoted = _section("campaign-numbers")
    shares = dict(re.findall(r"^ +P\((.+?)\) +(\d+\.\d%)", printed, re.M))
    assert shares["war by the horizon"] == "0.0%"
    climbs = dict(re.findall(r"^ +([a-z ]+?) +(\d+\.\d%)", causes, re.M))
    assert float(climbs["operation"].rstrip("%")) > 90 and "deliberate escalation" not in climbs
    wanted = [
        shares["the state struck first answers with a strike within 7 days"],
        shares["some state strikes another state's forces within 30 days"],
        shares["both sides strike, on three or more days in all"],
        climbs["operation"],
        climbs["answer in kind"],
        climbs["chance"],
    ]
    assert _numbers(quoted) == wanted, (quoted, printed, causes)


@pytest.mark.slow
def test_readme_baseline_causes_are_what_explain_prints(tmp_path, capsys):
    out = tmp_path / "baseline"
    baseline = SCENARIOS / "jan2024_baseline.yaml"
    assert (
        main(["run", str(baseline), "--runs", "20000", "--out", str(out), "-q", "--workers", "1"])
        == 0
    )
    capsys.readouterr()
    assert main(["explain", str(out), "--out", str(tmp_path / "explain")]) == 0
    causes = capsys.readouterr().out
    total = re.search(r"([\d,]+) of 20,000 runs acted at rung 5", causes)
    assert total is not None, causes
    climbs = dict(re.findall(r"^ +([a-z ]+?) +(\d+\.\d%)", causes, re.M))
    assert "deliberate escalation" not in climbs, causes
    quoted = _section("baseline-causes")
    assert f"{total[1]} of 20,000 runs" in quoted, (quoted, causes)
    wanted = [climbs[name] for name in ("chance", "blamed attack", "spoiler", "misread act")]
    assert _numbers(quoted) == wanted, (quoted, causes)


def test_readme_war_in_the_campaign_comes_only_by_accident(tmp_path, capsys):
    out = tmp_path / "cheap"
    cheap = ["--set", "actors.thailand.cost=0.5", "--set", "actors.cambodia.cost=0.5"]
    assert main(["run", str(CAMPAIGN), *cheap, "--out", str(out), "-q", "--workers", "1"]) == 0
    assert main(["explain", str(out), "--rung", "7", "--out", str(tmp_path / "why")]) == 0
    causes = capsys.readouterr().out
    wars = re.search(r"([\d,]+) of 2,000 runs acted at rung 7", causes)
    assert wars is not None, causes
    climbs = dict(re.findall(r"^ +([a-z ]+?) +(\d+\.\d%)", causes, re.M))
    assert set(climbs) <= {"chance", "misread act"}, causes
    assert f"war comes in {wars[1]} of 2,000 runs" in _section("campaign-war")


DOMINANCE = SCENARIOS / "jul2025_dominance.yaml"
"""The second "what if" (issue 22, point 9): war for a reason, from the balance of power."""


def test_dominance_is_the_campaign_with_what_war_costs_each_side_changed():
    dominance, campaign = load_scenario(DOMINANCE), load_scenario(CAMPAIGN)
    assert (dominance.actors["thailand"].cost, dominance.actors["cambodia"].cost) == (0.5, 6.0)
    assert campaign.actors["thailand"].cost == campaign.actors["cambodia"].cost == 3.0
    same = {
        actor: config.model_copy(update={"cost": campaign.actors[actor].cost})
        for actor, config in dominance.actors.items()
    }
    assert same == campaign.actors
    for key in ("relations", "third_parties", "decision", "mechanisms", "ladder", "events"):
        assert getattr(dominance, key) == getattr(campaign, key), key


def test_seed_35_under_dominance_ends_in_war_as_thailands_best_answer(capsys):
    assert main(["story", str(DOMINANCE), "--seed", str(SEED), "--full"]) == 0
    days = _days(capsys.readouterr().out.splitlines())
    # The campaign's opening, the refused talks, Thailand's answer in kind and the engagement.
    assert days[0][-1] == (
        "Cambodia opens an operation against Thailand: it will strike day after day until it "
        "stops, a ceasefire or war."
    )
    assert "Thailand refuses Malaysia's talks." in days[1]
    assert "Thailand answers Cambodia: 'sustained exchange of fire'." in days[2]
    assert days[2][-1].startswith("The forces of Cambodia and Thailand, in contact, fall into")
    # Day 4: war, its best option by 0.05 over carrying on the exchange of fire.
    war = days[4].index("Thailand answers Cambodia: 'war'.")
    assert days[4][war + 1] == (
        "why: for: restoring deterrence (+2.73); against: the cost (-0.60), United States's "
        "pressure (-0.32), China's pressure (-0.20), third parties' protection of Cambodia "
        "(-0.15) and Malaysia's pressure (-0.12) (in all +1.34, chance 52%); next best, "
        "'sustained exchange of fire' (+1.29): restoring deterrence (+2.34), the cost (-0.38) "
        "and United States's pressure (-0.27)."
    )
    assert days[4][war + 2] == "War between Thailand and Cambodia."
    # explain's rules: a best option above the rung received, after talks were refused.
    events = run_story(load_scenario(DOMINANCE), SEED).events[0]
    first = next(i for i, e in enumerate(events) if (e.rung or 0) >= 7)
    assert (events[first].day, events[first].actor) == (4, "thailand")
    assert classify(events, first) == "refused talks"


def test_readme_dominance_numbers_are_what_run_and_explain_print(tmp_path, capsys):
    out = tmp_path / "dominance"
    assert (
        main(["run", str(DOMINANCE), "--out", str(out), "--outcomes", "war", "--workers", "1"]) == 0
    )
    printed = capsys.readouterr().out
    assert main(["explain", str(out), "--rung", "7", "--out", str(tmp_path / "why")]) == 0
    causes = capsys.readouterr().out
    war = re.search(r"^ +P\(war by the horizon\) +(\d+\.\d%)", printed, re.M)
    assert war is not None, printed
    climbs = dict(re.findall(r"^ +([a-z ]+?) +(\d+\.\d%)", causes, re.M))
    assert set(climbs) == {"refused talks", "deliberate escalation", "chance", "misread act"}
    # War for a reason: Thailand's best answer in more of the wars than the noise of a choice.
    best = sum(float(climbs[c].rstrip("%")) for c in ("refused talks", "deliberate escalation"))
    assert best > float(climbs["chance"].rstrip("%")), causes
    wanted = [war[1], *(climbs[c] for c in ("refused talks", "deliberate escalation", "chance"))]
    assert _numbers(_section("dominance-numbers")) == [*wanted, climbs["misread act"]]


def test_the_brief_story_always_tells_the_war(capsys):
    """Seed 35 under dominance has twelve turning points; the brief story tells the first six,
    says how many it leaves out, and ends with the war, wherever it falls."""
    assert main(["story", str(DOMINANCE), "--seed", str(SEED)]) == 0
    lines = capsys.readouterr().out.splitlines()
    turns = lines[lines.index("Turning points:") + 1 : lines.index("Key outcomes of this run:")]
    assert len(turns) == 8
    assert turns[-2:] == [
        "  ... and 5 more, then:",
        "  Day 4 (Mon 28 Jul): War between Thailand and Cambodia.",
    ]
    assert "  War by the horizon: yes (day 4)" in lines


@pytest.mark.slow
def test_readme_uncertainty_split_is_what_the_calibrated_run_gives(tmp_path):
    """The README's shares of the spread the parameters explain, in the words of ``percent``:
    three days of strikes, re-strikes, the answer within a week, calm within 14 days."""
    from sim.analysis import outcomes
    from sim.analysis.statistics import uncertainty_split
    from sim.files import results
    from sim.views.text import percent

    out = tmp_path / "calibrated"
    scenario = SCENARIOS / "jan2024_calibrated.yaml"
    assert main(["run", str(scenario), "--out", str(out), "-q", "--workers", "1"]) == 0
    saved = results.load(out)
    names = ["sustained", "restrike", "answer_7d", "calm_14d"]
    chosen = [outcomes.outcome(n, saved.horizon, saved.war, ["iran", "pakistan"]) for n in names]
    split = uncertainty_split(saved.runs, chosen)
    assert split["sets"].tolist() == [32] * 4
    wanted = [percent(share) for share in split["parameter_share"]]
    assert re.findall(r"\d+(?:\.\d)?%", _section("uncertainty-split")) == wanted
