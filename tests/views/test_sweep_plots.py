"""Sweep figures are written as PNG and SVG from sweep tables, without a display, for a slide."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.experiments.sweep import analyze_sweep
from sim.experiments.sweep_definition import SweepDefinition, parse_params
from sim.experiments.sweep_execution import run_sweep
from sim.experiments.sweep_store import load_results
from sim.views.sweep_plots import (
    draw_sweep,
    heatmap,
    morris_chart,
    outcome_labels,
    parameter_label,
    parameter_labels,
    response_curve,
    save_figure,
    scatter_panels,
    sobol_chart,
    split_columns,
    tornado_chart,
)
from tests.experiments.test_sweep import grid_definition, linear_evaluate, toy_evaluate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path, min_size: int = 10_000) -> bool:
    return path.exists() and path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > min_size


def _is_svg(path: Path) -> bool:
    return path.exists() and b"<svg" in path.read_bytes()[:400]


@pytest.fixture(scope="module")
def grid_df(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("grid")
    run_sweep(grid_definition(runs=400), toy_evaluate, out)
    return load_results(out)


def test_split_columns(grid_df: pd.DataFrame) -> None:
    params, outcomes = split_columns(grid_df)
    assert params == [
        "actors.pakistan.audience_cost",
        "third_parties.china.leverage.pakistan",
        "actors.pakistan.retaliation.policy",
    ]
    assert outcomes == ["answer_7d", "forces_30d"]


def test_response_curve_numeric_and_categorical(grid_df: pd.DataFrame, tmp_path: Path) -> None:
    one = grid_df[
        (grid_df["third_parties.china.leverage.pakistan"] == 0.2)
        & (grid_df["actors.pakistan.retaliation.policy"] == "escalate")
    ]
    fig = response_curve(
        one,
        "actors.pakistan.audience_cost",
        labels={"answer_7d": "P(strike within 7 days)"},
        units={"actors.pakistan.audience_cost": "0–1 scale"},
    )
    assert fig.axes[0].get_xlabel() == "Pakistan: audience cost [0–1 scale]"
    assert _is_png(save_figure(fig, tmp_path / "curve.png"))
    cat = grid_df[
        (grid_df["third_parties.china.leverage.pakistan"] == 0.8)
        & (grid_df["actors.pakistan.audience_cost"] == 1.0)
    ]
    assert _is_png(
        save_figure(response_curve(cat, "actors.pakistan.retaliation.policy"), tmp_path / "cat.png")
    )
    with pytest.raises(ValueError, match="also vary"):
        response_curve(grid_df, "actors.pakistan.audience_cost")


def test_heatmap_and_hue_curves(grid_df: pd.DataFrame, tmp_path: Path) -> None:
    two = grid_df[grid_df["actors.pakistan.retaliation.policy"] == "tit_for_tat"]
    fig = heatmap(
        two, "actors.pakistan.audience_cost", "third_parties.china.leverage.pakistan", "answer_7d"
    )
    assert _is_png(save_figure(fig, tmp_path / "heat.png"))
    fig = response_curve(
        two,
        "actors.pakistan.audience_cost",
        ["answer_7d"],
        hue="third_parties.china.leverage.pakistan",
    )
    assert _is_png(save_figure(fig, tmp_path / "hue.png"))
    with pytest.raises(ValueError, match="also vary"):
        heatmap(
            grid_df,
            "actors.pakistan.audience_cost",
            "third_parties.china.leverage.pakistan",
            "answer_7d",
        )


def test_tornado_and_draw_sweep(grid_df: pd.DataFrame, tmp_path: Path) -> None:
    assert _is_png(save_figure(tornado_chart(grid_df, "forces_30d"), tmp_path / "t.png"))
    written = draw_sweep(grid_df, tmp_path / "all", dpi=50)
    assert sorted(p.name for p in written) == [
        f"tornado_{o}.{suffix}" for o in ("answer_7d", "forces_30d") for suffix in ("png", "svg")
    ]
    assert all(_is_png(p, 2_000) for p in written if p.suffix == ".png")
    assert all(_is_svg(p) for p in written if p.suffix == ".svg")
    two = grid_df[grid_df["actors.pakistan.retaliation.policy"] == "escalate"]
    names = sorted(p.name for p in draw_sweep(two, tmp_path / "two", dpi=50))
    assert names == [
        f"{name}.{suffix}"
        for name in (
            "heatmap_answer_7d",
            "heatmap_forces_30d",
            "response_answer_7d_actors.pakistan.audience_cost",
            "response_forces_30d_actors.pakistan.audience_cost",
        )
        for suffix in ("png", "svg")
    ]


def test_failed_points_do_not_break_figures(grid_df: pd.DataFrame, tmp_path: Path) -> None:
    two = grid_df[grid_df["actors.pakistan.retaliation.policy"] == "escalate"].copy()
    two.loc[two.index[3], ["answer_7d", "answer_7d_low", "answer_7d_high"]] = np.nan
    fig = heatmap(
        two, "actors.pakistan.audience_cost", "third_parties.china.leverage.pakistan", "answer_7d"
    )
    assert _is_png(save_figure(fig, tmp_path / "heat.png"))


def test_sobol_and_morris_charts(tmp_path: Path) -> None:
    params = parse_params(["p.x0=0:1", "p.x1=0:1", "p.x2=0:1"])
    sob = SweepDefinition(parameters=params, design="sobol", samples=64, runs=1)
    run_sweep(sob, linear_evaluate, tmp_path / "s")
    df = load_results(tmp_path / "s")
    idx = analyze_sweep(sob, df, "y", num_resamples=200)
    assert _is_png(save_figure(sobol_chart(idx, "y"), tmp_path / "sobol.png"))
    assert _is_png(save_figure(scatter_panels(df, "y"), tmp_path / "scatter.png"))
    mor = dataclasses.replace(sob, design="morris", samples=8)
    run_sweep(mor, linear_evaluate, tmp_path / "m")
    midx = analyze_sweep(mor, load_results(tmp_path / "m"), "y", num_resamples=200)
    assert _is_png(save_figure(morris_chart(midx, "y"), tmp_path / "morris.png"))
    names = sorted(p.name for p in draw_sweep(df, tmp_path / "d", indices={"y": idx}, dpi=50))
    assert names == ["scatter_y.png", "scatter_y.svg", "sobol_y.png", "sobol_y.svg"]
    with pytest.raises(ValueError, match="not a Sobol indices table"):
        sobol_chart(midx, "y")


# --------------------------------------------------------------------------- #
# Figures for a slide: labels, kinds, CIs in cells, constant outcomes, warnings
# --------------------------------------------------------------------------- #

SCENARIO = {
    "horizon": 60,
    "ladder": {"rungs": [{"name": f"r{k}"} for k in range(8)]},
    "actors": {"iran": {"name": "Iran"}, "pakistan": {"name": "Pakistan"}},
    "third_parties": {"china": {"name": "China", "leverage": {"pakistan": 0.5}}},
    "relations": [{"between": ["iran", "pakistan"]}],
}


def _rendered(fig: Figure):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _legends_outside(fig: Figure) -> bool:
    renderer = _rendered(fig)
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return all(
        not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
        for legend in legends
        for ax in fig.axes
        if ax.get_visible() and ax.axison
    )


def _table(params: dict[str, list[object]], rows: list[dict[str, float]]) -> pd.DataFrame:
    """A sweep table: the grid of ``params`` (first slowest), one row of outcomes per point."""
    grid = pd.MultiIndex.from_product(list(params.values()), names=list(params)).to_frame(
        index=False
    )
    table = pd.concat([grid, pd.DataFrame(rows)], axis=1)
    table.insert(0, "point", range(len(table)))
    table["runs"] = 400
    table["error"] = None
    return table


def _outcomes(answer: float, days: float, war: float = 0.0) -> dict[str, float]:
    return {
        "answer_7d": answer,
        "answer_7d_low": answer - 0.04,
        "answer_7d_high": answer + 0.04,
        "days_to_calm": days,
        "days_to_calm_low": days - 2,
        "days_to_calm_high": days + 3,
        "war": war,
        "war_low": 0.0,
        "war_high": war + 0.0095,
    }


@pytest.fixture(scope="module")
def policies() -> pd.DataFrame:
    """A categorical sweep whose days outcome runs past the horizon for one policy."""
    return _table(
        {"actors.pakistan.retaliation.policy": ["strategic", "tit_for_tat", "escalate"]},
        [_outcomes(0.74, 16), _outcomes(1.0, 15), _outcomes(1.0, float("inf"), 0.05)],
    )


@pytest.fixture(scope="module")
def grid3() -> pd.DataFrame:
    """A 4 x 3 grid on which war never happens."""
    return _table(
        {
            "actors.pakistan.audience_cost": [0.0, 0.5, 1.0, 1.5],
            "third_parties.china.leverage.pakistan": [0.0, 0.5, 1.0],
        },
        [_outcomes(0.5 + 0.05 * i, 15 + i) for i in range(12)],
    )


def test_parameter_labels_are_words_from_the_scenario():
    assert parameter_label("actors.pakistan.audience_cost", SCENARIO) == "Pakistan: audience cost"
    assert (
        parameter_label("third_parties.china.leverage.pakistan", SCENARIO)
        == "China: leverage over Pakistan"
    )
    assert parameter_label("decision.rationality", SCENARIO) == "Decision: rationality"
    assert (
        parameter_label("actors.pakistan.retaliation.policy", SCENARIO)
        == "Pakistan: retaliation policy"
    )
    assert parameter_label("relations.0.economic_ties", SCENARIO) == "Iran–Pakistan: economic ties"
    assert parameter_label("horizon") == "Horizon"
    assert parameter_label("actors.india.perception.error") == "India: perception error"
    labels = outcome_labels(["answer_7d", "days_to_calm", "strike_30d_pakistan"], SCENARIO)
    assert labels == {
        "answer_7d": "P(the state struck first answers with a strike within 7 days)",
        "days_to_calm": "Days until back to baseline",
        "strike_30d_pakistan": "P(Pakistan strikes across the border within 30 days)",
    }


def test_categorical_sweep_never_puts_probabilities_and_days_on_one_axis(policies):
    fig = response_curve(policies, "actors.pakistan.retaliation.policy")
    assert fig.get_size_inches().tolist() == [16, 9]
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == [
        "The state struck first answers with a\nstrike within 7 days",
        "Days until back to baseline",
        "War by the horizon",
    ]
    assert [ax.get_ylabel() for ax in axes] == ["Probability", "Days (median)", "Probability"]
    for ax in axes:
        assert len(ax.containers) == 1  # one outcome per axes
        assert [t.get_text() for t in ax.get_xticklabels()] == [
            "strategic",
            "tit for tat",
            "escalate",
        ]
        assert ax.get_xlabel() == "Pakistan: retaliation policy"
    # each panel's own range: war's 5% is not squashed under a 0-100% axis
    assert 0.0595 < axes[2].get_ylim()[1] < 0.1
    assert axes[1].get_ylim()[1] >= 18 * 1.1
    assert axes[0].yaxis.get_major_formatter()(0.5, 0) == "50%"
    # the median that never came within the horizon is marked, not dropped silently
    assert [t.get_text() for t in axes[1].texts] == ["median past\nthe horizon"]


def test_heatmap_cells_show_estimates_with_cis_where_they_fit(grid3, tmp_path):
    labels = parameter_labels(list(grid3.columns[1:3]), SCENARIO)
    fig = heatmap(
        grid3,
        "actors.pakistan.audience_cost",
        "third_parties.china.leverage.pakistan",
        "answer_7d",
        labels=labels,
    )
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "50%" in texts and "\n46%–54%" in texts
    assert len(texts) == 2 * 12
    assert ax.get_xlabel() == "Pakistan: audience cost"
    assert ax.get_ylabel() == "China: leverage over Pakistan"
    assert ax.get_title() == (
        "P(the state struck first answers with a strike within 7 days)\n"
        "(400 runs per point; cells: estimate and 95% CI)"
    )
    assert fig.axes[1].get_ylabel() == "Probability"  # the colour bar
    big = _table(
        {"a.x": list(range(15)), "a.y": list(range(15))},
        [_outcomes(0.001 * i, 10) for i in range(225)],
    )
    crowded = heatmap(big, "a.x", "a.y", "answer_7d")
    shown = [t.get_text() for t in crowded.axes[0].texts]
    assert shown and not any("–" in t for t in shown)  # no room for CIs: estimates only
    assert "cells: estimate)" in crowded.axes[0].get_title()


def test_heatmap_of_a_constant_outcome_says_so(grid3):
    fig = heatmap(
        grid3, "actors.pakistan.audience_cost", "third_parties.china.leverage.pakistan", "war"
    )
    ax = fig.axes[0]
    assert len(fig.axes) == 1  # no colour scale for a single value
    assert "0% at every point; these parameters do not move it" in ax.get_title()
    texts = [t.get_text() for t in ax.texts]
    assert "\n0%–0.95%" in texts
    assert not any(t in ("0.00", "0") for t in texts)


def test_draw_sweep_labels_from_the_stored_scenario_and_writes_svg(grid3, tmp_path):
    (tmp_path / "metadata.json").write_text(
        json.dumps({"definition": {"context": {"scenario": SCENARIO}}})
    )
    written = draw_sweep(grid3, tmp_path, dpi=30)
    assert {p.suffix for p in written} == {".png", ".svg"}
    assert len(written) == 2 * 2 * 3
    svg = (tmp_path / "heatmap_answer_7d.svg").read_text()
    assert "China: leverage over Pakistan" in svg
    assert "third_parties.china" not in svg
    assert "P(the state struck first answers with a strike within 7 days)" in svg


def test_sobol_chart_prints_its_warnings_and_keeps_the_legend_outside():
    bad = pd.DataFrame(
        {"S1": [1.1, 0.3], "S1_conf": [0.3, 0.3], "ST": [0.8, 0.35], "ST_conf": [0.1, 0.3]},
        index=pd.Index(["actors.pakistan.pledge", "decision.risk"], name="parameter"),
    )
    fig = sobol_chart(bad, "answer_7d", labels={"actors.pakistan.pledge": "Pakistan: pledge"})
    notes = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert len(notes) == 1
    assert notes[0].startswith("Warning: P(the state struck first answers with a strike within")
    assert "an index above 1" in notes[0] and "Pakistan: pledge" in notes[0].replace("\n", " ")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "Decision: risk",
        "Pakistan: pledge",
    ]
    assert _legends_outside(fig)
    good = pd.DataFrame(
        {"S1": [0.6, 0.3], "S1_conf": [0.03, 0.03], "ST": [0.65, 0.33], "ST_conf": [0.03, 0.02]},
        index=pd.Index(["a.x", "a.y"], name="parameter"),
    )
    assert not [t for ax in sobol_chart(good, "y").axes for t in ax.texts]


def test_heatmap_of_days_never_reached_says_never_not_failed(grid3, recwarn):
    """Days to calm after the horizon at every point are stored as infinity: one value, drawn
    as such ("never" in each cell), with no warning; only a point with no result says failed."""
    never = grid3.assign(days_to_calm=np.inf, days_to_calm_low=np.inf, days_to_calm_high=np.inf)
    fig = heatmap(
        never,
        "actors.pakistan.audience_cost",
        "third_parties.china.leverage.pakistan",
        "days_to_calm",
    )
    ax = fig.axes[0]
    title = " ".join(ax.get_title().split())
    assert "never at every point; these parameters do not move it" in title
    assert "cells: estimate)" in title  # no interval to show
    texts = [t.get_text() for t in ax.texts]
    assert "never" in texts and "failed" not in texts and "\nnever–never" not in texts
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    one_failed = never.copy()
    one_failed.loc[0, ["days_to_calm", "days_to_calm_low", "days_to_calm_high"]] = np.nan
    texts = [
        t.get_text()
        for t in heatmap(
            one_failed,
            "actors.pakistan.audience_cost",
            "third_parties.china.leverage.pakistan",
            "days_to_calm",
        )
        .axes[0]
        .texts
    ]
    assert texts.count("failed") == 1
