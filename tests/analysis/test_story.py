"""The story of one run: its tables match the model exactly, its figure and files are right."""

from __future__ import annotations

import pandas as pd
import pytest
from PIL import Image

from sim import Event, load_scenario, run_story, story_figure, story_tables
from sim.analysis.story import FIGURE_HISTORY_DAYS, LANES, names_of, reason, tell
from sim.cli.main import main
from tests.conftest import BASELINE


@pytest.fixture(scope="module")
def baseline_run():
    return run_story(load_scenario(BASELINE), 7)


def test_rung_table_is_the_model_history_day_by_day(baseline_run):
    tables = story_tables(baseline_run, 7)
    history = baseline_run.rung_history()
    assert len(tables.rungs) == len(history) * 2 == (60 + 1) * 2
    for row in tables.rungs.itertuples():
        assert history[row.day][row.actor] == row.rung
    assert tables.rungs[tables.rungs["day"] == 0][["state", "rung"]].values.tolist() == [
        ["Iran", 4],
        ["Pakistan", 0],
    ]


def test_event_table_keeps_exactly_the_marked_events_in_order(baseline_run):
    tables = story_tables(baseline_run, 7)
    marked = [
        e for e in baseline_run.events[0] if e.kind in LANES and e.day >= -FIGURE_HISTORY_DAYS
    ]
    assert len(marked) < len(baseline_run.events[0])  # blame, holds etc. stay in the words
    assert list(tables.events["day"]) == [e.day for e in marked]
    assert list(tables.events["kind"]) == [e.kind for e in marked]
    assert list(tables.events["text"]) == [e.text for e in marked]
    assert list(tables.events["lane"]) == [LANES[e.kind] for e in marked]
    first = tables.events.iloc[0]
    assert (first["day"], first["kind"], first["name"], first["rung"], first["label"]) == (
        0,
        "strike",
        "Iran",
        4,
        "Iran strikes (4)",
    )
    assert (tables.scenario, tables.seed, tables.start_date) == (
        "jan2024_baseline",
        7,
        "2024-01-16",
    )
    assert tables.rung_names[4] == "limited strike on an armed group"


@pytest.mark.parametrize(
    ("kind", "actor", "target", "rung", "label"),
    [
        ("attack", "jaish_al_adl", "iran", 4, "Jaish al-Adl attack"),
        ("offer", "china", None, None, "China offers talks"),
        ("accept", "china", None, None, "talks by China begin"),
        ("refuse", "pakistan", "china", None, "Pakistan refuses talks"),
        ("agreement", "china", None, None, "ceasefire (China)"),
        ("strike", "pakistan", "iran", 5, "Pakistan strikes (5)"),
        ("act", "iran", "pakistan", 2, "Iran to 2"),
        ("conciliate", "iran", "pakistan", 1, "Iran steps down to 1"),
        ("war", "iran", "pakistan", 7, "war: Iran–Pakistan"),
    ],
)
def test_each_marked_kind_gets_its_short_label(baseline_run, kind, actor, target, rung, label):
    baseline_run.events[0].append(Event(9, 0, kind, actor, target, rung, "a sentence"))
    try:
        events = story_tables(baseline_run).events
    finally:
        baseline_run.events[0].pop()
    assert events.iloc[-1]["label"] == label
    assert events.iloc[-1]["lane"] == LANES[kind]


def test_the_story_gives_the_reasons_of_each_decision_from_its_terms(baseline_run):
    text = tell(baseline_run, 7)
    names = names_of(baseline_run)
    decisions = [e for e in baseline_run.events[0] if e.choice is not None]
    told = [line.strip() for line in text.splitlines()]
    for event in decisions:
        if event.kind == "hold":
            continue
        assert f"why: {reason(event, names)}." in told
    answer = next(e for e in decisions if e.kind == "strike" and e.actor == "pakistan")
    chosen = answer.choice.chosen
    terms = answer.choice.terms[chosen]
    why = reason(answer, names)
    assert why.startswith(f"for: restoring deterrence ({terms['resolve']:+.2f})")
    assert f"the risk of Iran's answer ({terms['risk']:+.2f})" in why
    assert f"China's pressure ({terms['pressure:China']:+.2f})" in why
    assert (
        f"(in all {answer.choice.utility[chosen]:+.2f}, chance {answer.choice.probability[chosen]:.0%})"
        in why
    )


def test_a_posture_held_day_after_day_is_told_once(baseline_run):
    """A hold is told only when the same state's previous event towards the same adversary
    was not a hold too."""
    expected, previous = 0, {}
    for event in baseline_run.events[0]:
        key = (event.actor, event.target)
        if event.kind == "hold" and previous.get(key) != "hold":
            expected += 1
        previous[key] = event.kind
    text = tell(baseline_run, 7)
    assert text.count("holds its posture") == expected >= 1


def test_history_days_say_they_come_before_the_run(baseline_run):
    text = tell(baseline_run, 7)
    assert "Day -32 (Fri 15 Dec)  [before the run]" in text
    assert "Day 0 (Tue 16 Jan)  [postures: Iran 4, Pakistan 0]" in text


def test_figure_draws_each_state_lanes_and_a_legend(baseline_run):
    figure = story_figure(baseline_run, 7)
    ax = figure.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == "armed groups" and ticks[-1] == "mediation"
    assert ticks[1:-1] == [
        f"{r}: {name}" for r, name in enumerate(story_tables(baseline_run).rung_names)
    ]
    lines = {
        line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")
    }
    assert {"Iran", "Pakistan"} <= set(lines)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    kinds = set(story_tables(baseline_run).events["kind"])
    assert legend[:2] == ["Iran", "Pakistan"]
    assert ("armed-group attack" in legend) == ("attack" in kinds)
    assert ("talks refused" in legend) == ("refuse" in kinds)
    labels = {text.get_text() for text in ax.texts}
    assert "Iran strikes (4)" in labels
    assert figure._suptitle.get_text() == "jan2024_baseline: one run (seed 7), day by day"


def test_story_plot_writes_png_at_300_dpi_and_svg(tmp_path, capsys):
    target = tmp_path / "story.png"
    assert main(["story", str(BASELINE), "--seed", "7", "--plot", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        f"Story figure: {target} (300 dpi) and {target.with_suffix('.svg')}"
    )
    with Image.open(target) as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.1)
        assert image.size[0] > 3000
    assert target.with_suffix(".svg").read_text().lstrip().startswith("<?xml")


def test_story_plot_refuses_a_format_it_does_not_write(capsys):
    assert main(["story", str(BASELINE), "--plot", "story.pdf"]) == 2
    assert capsys.readouterr().err == (
        "error: --plot story.pdf: expected a file name ending in .png or .svg, such as "
        "results/story.png (both formats are written)\n"
    )


def test_story_plot_into_an_unwritable_place_is_a_usage_error(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "story.png"
    assert main(["story", str(BASELINE), "--plot", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"error: --plot {missing}: the folder {missing.parent} does not exist; create it first "
        "or choose another place\n"
    )
    assert not missing.parent.exists()  # no folder is made on the user's behalf


def test_tables_are_tidy_for_pandas(baseline_run):
    tables = story_tables(baseline_run)
    assert tables.seed is None
    assert list(tables.rungs.columns) == ["day", "actor", "state", "rung"]
    assert pd.api.types.is_integer_dtype(tables.events["rung"])


def test_labels_of_a_busy_run_stay_inside_and_never_cover_each_other():
    model = run_story(load_scenario(BASELINE), 123)  # reaches rung 6, talks, attacks, refusals
    figure = story_figure(model, 123)
    ax = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    boxes = [text.get_window_extent(renderer) for text in ax.texts]
    assert len(boxes) >= 8
    for i, box in enumerate(boxes):
        assert (
            frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 <= box.y1 <= frame.y1
        )
        assert not any(box.overlaps(other) for other in boxes[i + 1 :])
    assert "talks by China begin" in "\n".join(text.get_text() for text in ax.texts)


def test_a_scripted_persona_is_told_by_its_rule_not_by_terms_it_did_not_weigh():
    model = run_story(
        load_scenario(BASELINE, {"actors.pakistan.retaliation.policy": "tit_for_tat"}), 3
    )
    names = names_of(model)
    answers = [e for e in model.events[0] if e.actor == "pakistan" and e.kind == "strike"]
    assert answers and all(
        reason(e, names)
        == "by the rule of its persona, tit_for_tat: answers at the rung received and steps down "
        "as the adversary does (Axelrod 1984)"
        for e in answers
    )
    iran = [e for e in model.events[0] if e.actor == "iran" and e.choice is not None]
    assert iran and not any(e.choice.rule for e in iran)  # Iran stays strategic
