"""The figures of a results folder, read back as a viewer would see them on a 16:9 slide.

Everything is drawn from small synthetic tables (paired runs of three scenarios, with the
columns of ``runs.csv``), so these tests take a few seconds and need no simulation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from sim.analysis import outcomes
from sim.analysis import statistics as analysis
from sim.files.results import Results
from sim.views import plotting
from sim.views import report as report_module
from sim.views.report import draw

HORIZON = 30
RUNGS = [
    "normal relations",
    "verbal protest",
    "diplomatic downgrade",
    "force posture",
    "limited strike on an armed group",
    "strike on state forces",
    "sustained exchange of fire",
    "war",
]
NAMES = ["jan2024_mediation_accepted", "jan2024_mediation_refused", "jan2024_no_mediator"]
LABELS = ["mediation accepted", "mediation refused", "no mediator"]
COMPARED = ["answer_7d", "strike_7d", "rung5_30d", "war", "accepted", "calm_14d", "days_to_calm"]


def _days(rng: np.random.Generator, n: int, p: float, scale: float) -> np.ndarray:
    """Days on which an event came (NaN: never), for a share ``p`` of runs."""
    days = np.floor(rng.exponential(scale, n))
    days[rng.random(n) >= p] = np.nan
    days[days > HORIZON] = np.nan
    return days


def synthetic_runs(n: int = 400) -> pd.DataFrame:
    """Paired runs (same seeds) of three scenarios: rung 7 never reached, rung 6 rarely."""
    frames = []
    for i, name in enumerate(NAMES):
        rng = np.random.default_rng(100 + i)
        first = {f"first_day_rung_{k}": np.zeros(n) for k in range(5)}
        first["first_day_rung_5"] = _days(rng, n, 0.03 + 0.01 * i, 8)
        first["first_day_rung_6"] = np.where(np.arange(n) == 3 + i if i else False, 20.0, np.nan)
        first["first_day_rung_7"] = np.full(n, np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "scenario": name,
                    "run": np.arange(n),
                    "seed": np.arange(n) + 1000,
                    **first,
                    "answer_day": _days(rng, n, 0.7 + 0.04 * i, 1.5),
                    "strike_day_iran": np.zeros(n),
                    "strike_day_pakistan": _days(rng, n, 0.75, 1.5),
                    "forces_day_iran": first["first_day_rung_5"],
                    "forces_day_pakistan": np.full(n, np.nan),
                    "war_day": np.full(n, np.nan),
                    "accepted_day": _days(rng, n, 0.85, 3) if i == 0 else np.full(n, np.nan),
                    "calm_day": _days(rng, n, 0.9 - 0.1 * i, 8 + 6 * i),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def scenario_mapping(name: str, description: str) -> dict[str, object]:
    return {
        "name": name,
        "description": description,
        "horizon": HORIZON,
        "start_date": "2024-01-16",
        "ladder": {"rungs": [{"name": r} for r in RUNGS], "strike_rung": 4},
        "actors": {"iran": {"name": "Iran"}, "pakistan": {"name": "Pakistan"}},
    }


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    return synthetic_runs()


@pytest.fixture(scope="module")
def curves(runs: pd.DataFrame) -> pd.DataFrame:
    return analysis.curves_table(runs, HORIZON)


@pytest.fixture(scope="module")
def comparison(runs: pd.DataFrame) -> pd.DataFrame:
    chosen = [outcomes.outcome(n, HORIZON, 7, ["iran", "pakistan"]) for n in COMPARED]
    return analysis.compare_runs(runs, chosen, HORIZON)


def occupancy_table(names: list[str]) -> pd.DataFrame:
    rows = []
    for name in names:
        for day in range(HORIZON + 1):
            shares = np.full(8, 0.01)
            shares[0] = 1 - 0.07 - 0.5 * np.exp(-day / 5)
            shares[4] = 0.5 * np.exp(-day / 5)
            rows += [(name, day, rung, share) for rung, share in enumerate(shares)]
    return pd.DataFrame(rows, columns=["scenario", "day", "rung", "share"])


def rendered(fig: Figure):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def assert_slide(fig: Figure) -> None:
    """16:9, and nothing drawn outside the figure."""
    width, height = fig.get_size_inches()
    assert (width, height) == (16, 9)
    renderer = rendered(fig)
    tight = fig.get_tightbbox(renderer)
    assert tight.x0 >= -0.01 and tight.y0 >= -0.01
    assert tight.x1 <= width + 0.01 and tight.y1 <= height + 0.01


def assert_legends_outside(fig: Figure) -> None:
    """Every legend lies outside every visible axes: it can cover no curve."""
    renderer = rendered(fig)
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_visible() and ax.axison:
                assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()


def is_steps(x: np.ndarray, y: np.ndarray) -> bool:
    """Every segment is horizontal or vertical, and each day after the first is a riser."""
    dx, dy = np.diff(x), np.diff(y)
    flat_or_upright = np.all((np.isclose(dx, 0)) | (np.isclose(dy, 0)))
    return bool(flat_or_upright and np.all(dx >= 0) and np.any(np.isclose(dx, 0)))


# --------------------------------------------------------------------------- #
# Labels and helpers
# --------------------------------------------------------------------------- #


def test_scenario_labels_drop_the_common_prefix_and_underscores():
    assert plotting.scenario_labels(NAMES) == dict(zip(NAMES, LABELS, strict=True))
    two = plotting.scenario_labels(NAMES[:2])
    assert two == {NAMES[0]: "mediation accepted", NAMES[1]: "mediation refused"}
    assert plotting.scenario_labels(["jan2024_baseline"]) == {
        "jan2024_baseline": "jan2024 baseline"
    }
    short = plotting.scenario_labels(NAMES[:2], {NAMES[0]: "Talks accepted.", NAMES[1]: "x" * 40})
    assert short == {NAMES[0]: "Talks accepted", NAMES[1]: "mediation refused"}
    same = plotting.scenario_labels(["a_b", "c_d"], {"a_b": "same", "c_d": "same"})
    assert same == {"a_b": "a b", "c_d": "c d"}


def test_steps_hold_each_value_until_the_next_day():
    x, y = plotting.steps([0, 1, 2], [0.1, 0.5, 0.7])
    assert x.tolist() == [0, 1, 1, 2, 2]
    assert y.tolist() == [0.1, 0.1, 0.5, 0.5, 0.7]


def test_day_columns_come_from_the_outcome_definition():
    columns = [
        "calm_day",
        "strike_days",
        "strike_day_iran",
        "strike_day_pakistan",
        "first_day_rung_5",
    ]
    calm = outcomes.outcome("calm_14d", 30, 7, ["iran", "pakistan"]).definition
    assert plotting.day_columns(calm, columns) == ["calm_day"]
    strike = outcomes.outcome("strike_7d", 30, 7, ["iran", "pakistan"]).definition
    assert plotting.day_columns(strike, columns) == ["strike_day_iran", "strike_day_pakistan"]
    sustained = outcomes.outcome("sustained", 30, 7, ["iran", "pakistan"]).definition
    assert plotting.day_columns(sustained, columns) == []


def test_most_different_leaves_out_outcomes_impossible_in_a_scenario(comparison):
    drawable = ["answer_7d", "strike_7d", "rung5_30d", "accepted", "calm_14d"]
    # 'accepted' differs most, but never happens without talks: the calm differs most after it
    probabilities = comparison[comparison["kind"] == "probability"]
    biggest = probabilities.set_index(["scenario", "outcome"])["difference"].abs().idxmax()
    assert biggest[1] == "accepted"
    assert plotting.most_different(comparison, drawable) == "calm_14d"
    assert plotting.most_different(comparison, ["accepted"]) == "accepted"
    assert plotting.most_different(comparison, []) is None


# --------------------------------------------------------------------------- #
# Escalation curves
# --------------------------------------------------------------------------- #


def test_escalation_curves_one_stepped_panel_per_rung_on_a_slide(curves):
    labels = plotting.scenario_labels(NAMES)
    fig = plotting.escalation_curves(curves, RUNGS, None, "2024-01-16", labels)
    assert_slide(fig)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == [
        "Rung 5: strike on state forces",
        "Rung 6: sustained exchange of fire",
        "Rung 7: war",
    ]
    assert fig.get_suptitle() == "How likely is the crisis to climb this far?"
    assert axes[0].get_ylabel() == "P(reached by that day)"
    assert {ax.get_xlabel() for ax in axes} == {"Day of the crisis (day 0 = 16 Jan 2024)"}
    for ax, rung in zip(axes, (5, 6, 7), strict=True):
        lines = ax.get_lines()
        assert len(lines) == len(NAMES)
        for line, name in zip(lines, NAMES, strict=True):
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            assert is_steps(x, y)
            rows = curves[(curves["scenario"] == name) & (curves["rung"] == rung)]
            assert y[::2].tolist() == rows["probability"].tolist()
        # the y-range fits the panel's data: above its highest CI bound, yet small rungs
        # are not squashed on the floor of a 0-100% axis
        high = curves.loc[curves["rung"] == rung, "ci_high"].max()
        bottom, top = ax.get_ylim()
        assert high < top <= max(1.2 * high, 0.006)
        assert bottom <= 0
    assert "Not reached in any run" in axes[2].texts[0].get_text()
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [f"{label} (400 runs)" for label in LABELS]
    assert_legends_outside(fig)


def test_escalation_curves_of_one_scenario_name_it_in_the_title(curves):
    one = curves[curves["scenario"] == NAMES[0]]
    fig = plotting.escalation_curves(one, RUNGS, [5, 6, 7, 4], None)
    assert_slide(fig)
    assert fig.get_suptitle() == (
        "jan2024 mediation accepted: how likely is the crisis to climb this far?"
    )
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4
    assert_legends_outside(fig)


def test_occupancy_on_a_slide_with_the_rungs_beside_it():
    table = occupancy_table(NAMES)
    fig = plotting.occupancy(table, RUNGS, "2024-01-16", plotting.scenario_labels(NAMES))
    assert_slide(fig)
    assert [ax.get_title() for ax in fig.axes] == LABELS
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()][0] == "7: war"
    assert_legends_outside(fig)
    # stacked as steps: each layer is a stepped polygon
    layer = fig.axes[0].collections[0].get_paths()[0].vertices
    assert is_steps(layer[1 : 2 * HORIZON + 2, 0], layer[1 : 2 * HORIZON + 2, 1])


# --------------------------------------------------------------------------- #
# Comparison
# --------------------------------------------------------------------------- #


def _forest_rows(ax) -> dict[tuple[str, float], tuple[float, float, float]]:
    """(scenario, row) -> (difference, CI low, CI high) as drawn."""
    found = {}
    for container in ax.containers:
        assert isinstance(container, ErrorbarContainer)
        scenario = container.get_label().split("|")[0]
        line, _, (bars,) = container.lines
        assert isinstance(bars, LineCollection)
        for x, y, segment in zip(
            line.get_xdata(), line.get_ydata(), bars.get_segments(), strict=True
        ):
            found[(scenario, round(float(y)))] = (float(x), segment[0][0], segment[1][0])
    return found


def test_comparison_shows_every_difference_with_its_ci_and_the_largest_over_days(runs, comparison):
    labels = plotting.scenario_labels(NAMES)
    curve = analysis.outcome_curve(runs, ["calm_day"], HORIZON)
    fig = plotting.comparison_figure(comparison, "calm_14d", curve, labels, "2024-01-16")
    assert_slide(fig)
    assert_legends_outside(fig)
    forest, days, over_days = fig.axes
    probabilities = comparison[comparison["kind"] == "probability"]
    order = list(dict.fromkeys(probabilities["outcome"]))
    shown = [t.get_text().replace("\n", " ") for t in forest.get_yticklabels()]
    expected = [
        plotting.short_outcome(probabilities.set_index("outcome").loc[o, "label"].iloc[0])
        for o in order
    ]
    assert shown == expected
    drawn = _forest_rows(forest)
    for row in probabilities.itertuples():
        x, low, high = drawn[(row.scenario, order.index(row.outcome))]
        assert (x, low, high) == pytest.approx((row.difference, row.ci_low, row.ci_high))
    days_rows = comparison[comparison["kind"] == "days"]
    drawn_days = _forest_rows(days)
    for row in days_rows.itertuples():
        assert drawn_days[(row.scenario, 0)] == pytest.approx(
            (row.difference, row.ci_low, row.ci_high)
        )
    # verdict: filled in the scenario's colour when the CI excludes 0, hollow grey when not
    for container in forest.containers:
        line = container.lines[0]
        if container.get_label().endswith("|none"):
            assert line.get_markerfacecolor() == "white" and line.get_color() == plotting.GREY
        else:
            assert line.get_markerfacecolor() == line.get_color() != plotting.GREY
    assert (
        "percentage points" in forest.get_xlabel() and "mediation accepted" in forest.get_xlabel()
    )
    assert days.get_xlabel() == "Difference from mediation accepted, in days (95% CI)"
    bold = [t.get_text() for t in forest.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["Back to baseline within 14 days"]
    title = over_days.get_title(loc="left")
    for row in comparison[comparison["outcome"] == "calm_14d"].itertuples():
        points = f"{row.difference * 100:+.1f} points ({row.ci_low * 100:+.1f} to {row.ci_high * 100:+.1f})"
        assert f"{labels[row.scenario]}: {points}" in title
    for line, name in zip(over_days.get_lines(), NAMES, strict=False):
        assert line.get_label() == labels[name]
        assert is_steps(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
    assert over_days.get_ylim()[1] > curve["ci_high"].max()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:3] == ["mediation accepted (reference)", "mediation refused", "no mediator"]


# --------------------------------------------------------------------------- #
def test_curves_show_what_a_class_asks_then_the_rungs_from_the_opening(runs, curves):
    chosen = outcomes.curve_outcomes(HORIZON, 7, ["iran", "pakistan"])
    by_day = analysis.outcome_curves(runs, chosen, HORIZON)
    labels = plotting.scenario_labels(NAMES)
    fig = plotting.escalation_curves(curves, RUNGS, None, "2024-01-16", labels, by_day)
    assert_slide(fig)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().replace("\n", " ") for ax in axes] == [
        "The state struck first answers with a strike",
        "Some state strikes another state's forces",
        "Back to baseline",
        "War",
        "Rung 4: limited strike on an armed group",
        "Rung 5: strike on state forces",
        "Rung 6: sustained exchange of fire",
    ]
    assert fig.get_suptitle() == "What happens by each day, and how far the crisis climbs"
    assert [ax.get_ylabel() for ax in axes] == ["P(by that day)"] * 4 + [
        "P(reached by that day)", "", ""
    ]  # fmt: skip
    # the answer's curve of each scenario: the share of its runs answered by each day
    for line, name in zip(axes[0].get_lines(), NAMES, strict=True):
        answered = runs.loc[runs["scenario"] == name, "answer_day"].to_numpy()
        expected = [np.mean(answered <= day) for day in range(HORIZON + 1)]
        assert np.asarray(line.get_ydata(), float)[::2] == pytest.approx(expected)
    assert "Not in any run" in axes[3].texts[0].get_text()  # no war in these runs
    # rungs 1 to 4 stood from day 0 in every run: the opening rung says so, with no line
    assert axes[4].get_lines() == []
    assert [t.get_text() for t in axes[4].texts] == [
        "Already reached on day 0\nby the opening act\n(so were rungs 1 to 3)"
    ]
    assert len(axes[5].get_lines()) == len(NAMES)
    assert_legends_outside(fig)


def test_a_rung_chosen_that_every_run_stood_on_from_day_0_says_so(curves):
    fig = plotting.escalation_curves(curves, RUNGS, [2, 5], None)
    first, second = (ax for ax in fig.axes if ax.get_visible())
    assert first.get_lines() == [] and second.get_lines() != []
    assert first.texts[0].get_text() == (
        "Already reached on day 0\nby the opening act\n(so was rung 1)"
    )
    assert plotting.reached_on_day_0(curves) == [1, 2, 3, 4]
    assert plotting.opening_rungs(curves) == [4, 5, 6]


# A results folder drawn
# --------------------------------------------------------------------------- #


def test_draw_writes_png_and_svg_with_readable_labels(
    tmp_path, monkeypatch, runs, curves, comparison
):
    real = report_module.write_figure
    monkeypatch.setattr(
        report_module, "write_figure", lambda figure, path, dpi=200: real(figure, path, dpi=30)
    )
    metadata = {
        "kind": "comparison",
        "ensembles": [
            {"scenario": scenario_mapping(name, f"A long description of {name}, for students.")}
            for name in NAMES
        ],
    }
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    results = Results(
        folder=tmp_path,
        runs=runs,
        curves=curves,
        occupancy=occupancy_table(NAMES),
        summary=pd.DataFrame(),
        metadata=metadata,
        comparison=comparison,
    )
    written = draw(results)
    assert sorted(p.name for p in written) == sorted(
        f"{name}{suffix}"
        for name in ("curves", "occupancy", "comparison")
        for suffix in (".png", ".svg")
    )
    for path in written:
        head = path.read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if path.suffix == ".png" else b"<svg" in head
        assert path.stat().st_size > 5_000
    svg = (tmp_path / "comparison.svg").read_text()
    assert "mediation refused" in svg and "jan2024_mediation_refused" not in svg
    assert "Back to baseline" in svg
    # curves.png answers what a class asks: the four outcomes by day above the rungs
    curves_svg = (tmp_path / "curves.svg").read_text()
    for words in ("The state struck first answers", "Back to baseline", "Already reached on day 0"):
        assert words in curves_svg


def test_names_are_plain_text_in_every_figure_never_tex(tmp_path):
    """A rung or a state named with dollar signs and backslashes (unbalanced TeX) is drawn as
    written: mathtext would fail on it, and it would take every figure down with it."""
    import yaml

    from sim.cli.main import main
    from tests.conftest import BASELINE

    data = yaml.safe_load(BASELINE.read_text())
    data["name"] = "dollars"
    data["ladder"]["rungs"][5]["name"] = r"$\sqrt{x$ strikes"
    data["actors"]["iran"]["name"] = "Iran $5"
    path = tmp_path / "dollars.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    assert main(["run", str(path), "--runs", "40", "--workers", "1", "--out", str(out), "-q"]) == 0
    assert (out / "curves.png").stat().st_size > 10_000
    assert r"$\sqrt{x$ strikes" in (out / "occupancy.svg").read_text()


def test_drawn_cuts_lines_and_texts_with_an_ellipsis():
    assert plotting.drawn("short") == "short"
    assert plotting.drawn("x" * 150) == "x" * 150
    assert plotting.drawn("x" * 151) == "x" * 149 + "…"
    assert plotting.drawn("\n".join(["ab"] * 25)) == "\n".join(["ab"] * 19 + ["ab…"])
    assert plotting.drawn_name("limited strike on an armed group") == (
        "limited strike on an armed group"  # a real rung name, 32 characters: whole
    )
    assert plotting.drawn_name("R" * 41) == "R" * 39 + "…"
    assert plotting.drawn_name("two\nlines  and   spaces") == "two lines and spaces"


def test_fit_text_cuts_every_text_of_a_figure_tick_labels_included():
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="L" * 500)
    ax.set_yticks([0, 1], ["Y" * 400, "ok"])
    ax.set_title("T" * 1000)
    ax.legend()
    fig.suptitle("\n".join(["S" * 10] * 100))
    plotting.fit_text(fig)
    FigureCanvasAgg(fig).draw()  # tick labels are set from their formatter when drawn
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert "T" * 149 + "…" in texts and "L" * 149 + "…" in texts and "Y" * 149 + "…" in texts
    assert max(len(line) for t in texts for line in t.split("\n")) == 150
    assert max(len(t.split("\n")) for t in texts) == 20


def test_a_huge_name_is_cut_in_every_figure_and_kept_whole_in_the_tables(tmp_path):
    """A 20,000-character rung, actor and scenario description: the figures stay slide-sized
    (their names cut at NAME_LENGTH with an ellipsis), metadata.json keeps every name whole."""
    import yaml

    from sim.cli.main import main
    from tests.conftest import BASELINE

    data = yaml.safe_load(BASELINE.read_text())
    data["ladder"]["rungs"][5]["name"] = "R" * 20_000
    data["actors"]["iran"]["name"] = "I" * 20_000
    paths = []
    for k, description in enumerate(["D" * 20_000, "short one"]):
        data["name"] = f"long_{k}_" + "n" * 90  # names are at most 100 characters
        data["description"] = description
        paths.append(tmp_path / f"long{k}.yaml")
        paths[-1].write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    args = ["--runs", "30", "--workers", "1", "--out", str(out), "-q"]
    assert main(["compare", *map(str, paths), *args]) == 0
    from PIL import Image

    pngs = sorted(out.glob("*.png"))
    assert {p.name for p in pngs} >= {"curves.png", "occupancy.png", "comparison.png"}
    for png in pngs:
        width, height = Image.open(png).size
        assert width <= 16 * 200 * 1.25 and height <= 9 * 200 * 1.25, (png.name, width, height)
    svg = (out / "curves.svg").read_text()
    assert "R" * 39 + "…" in svg and "R" * 41 not in svg
    meta = (out / "metadata.json").read_text()
    assert "R" * 20_000 in meta and "I" * 20_000 in meta and "D" * 20_000 in meta


def test_the_comparison_chart_leaves_out_differences_true_by_construction(runs, curves, comparison):
    """The scenarios differ in the states' answer to talks (and the third has no mediator):
    'talks accepted' is the setup, not a finding, so its row is not drawn (its -85 points
    would set the axis) and one line under the chart says so. A folder written before the
    by_construction column works it out from the scenarios in metadata.json."""
    answers = {NAMES[0]: "accept", NAMES[1]: "refuse", NAMES[2]: "accept"}
    china = {"china": {"name": "China", "mediation": {"parties": ["iran", "pakistan"]}}}
    ensembles = []
    for name in NAMES:
        mapping = scenario_mapping(name, "")
        mapping["actors"] = {
            state: {"name": state.title(), "mediation": {"policy": answers[name]}}
            for state in ("iran", "pakistan")
        }
        mapping["third_parties"] = {} if name == NAMES[2] else china
        ensembles.append({"scenario": mapping})
    assert "by_construction" not in comparison
    results = Results(
        folder=Path("."),
        runs=runs,
        curves=curves,
        occupancy=occupancy_table(NAMES),
        summary=pd.DataFrame(),
        metadata={"kind": "comparison", "ensembles": ensembles},
        comparison=comparison,
    )
    forest = report_module.figures(results)["comparison"].axes[0]
    ticks = [t.get_text().replace("\n", " ") for t in forest.get_yticklabels()]
    assert "Talks are accepted by all their parties" not in ticks
    assert "Back to baseline within 14 days" in ticks and len(ticks) == 5  # 6 probabilities - 1
    assert (
        forest.get_xlabel()
        .replace("\n", " ")
        .endswith(
            "Left out, true by construction: talks are accepted by all their parties (the "
            "scenarios differ in actors.iran.mediation.policy)"
        )
    )
