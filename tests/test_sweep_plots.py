"""Sweep figures are written as PNGs from sweep tables, without a display."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.sweep import SweepDefinition, analyze_sweep, load_results, parse_params, run_sweep
from sim.sweep_plots import (
    draw_sweep,
    heatmap,
    morris_chart,
    response_curve,
    save_figure,
    scatter_panels,
    sobol_chart,
    split_columns,
    tornado_chart,
)
from tests.test_sweep import grid_definition, linear_evaluate, toy_evaluate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path, min_size: int = 10_000) -> bool:
    return path.exists() and path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > min_size


@pytest.fixture(scope="module")
def grid_df(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("grid")
    run_sweep(grid_definition(runs=400), toy_evaluate, out)
    return load_results(out)


def test_split_columns(grid_df: pd.DataFrame) -> None:
    params, outcomes = split_columns(grid_df)
    assert params == [
        "actors.pakistan.audience_cost",
        "mediators.china.effectiveness",
        "actors.india.policy",
    ]
    assert outcomes == ["p_strike_7d", "p_rung5_30d"]


def test_response_curve_numeric_and_categorical(grid_df: pd.DataFrame, tmp_path: Path) -> None:
    one = grid_df[
        (grid_df["mediators.china.effectiveness"] == 0.2)
        & (grid_df["actors.india.policy"] == "escalate")
    ]
    fig = response_curve(
        one,
        "actors.pakistan.audience_cost",
        labels={"p_strike_7d": "P(strike within 7 days)"},
        units={"actors.pakistan.audience_cost": "0–1 scale"},
    )
    assert fig.axes[0].get_xlabel() == "actors.pakistan.audience_cost [0–1 scale]"
    assert _is_png(save_figure(fig, tmp_path / "curve.png"))
    cat = grid_df[
        (grid_df["mediators.china.effectiveness"] == 0.8)
        & (grid_df["actors.pakistan.audience_cost"] == 1.0)
    ]
    assert _is_png(save_figure(response_curve(cat, "actors.india.policy"), tmp_path / "cat.png"))
    with pytest.raises(ValueError, match="also vary"):
        response_curve(grid_df, "actors.pakistan.audience_cost")


def test_heatmap_and_hue_curves(grid_df: pd.DataFrame, tmp_path: Path) -> None:
    two = grid_df[grid_df["actors.india.policy"] == "tit_for_tat"]
    fig = heatmap(
        two, "actors.pakistan.audience_cost", "mediators.china.effectiveness", "p_strike_7d"
    )
    assert _is_png(save_figure(fig, tmp_path / "heat.png"))
    fig = response_curve(
        two, "actors.pakistan.audience_cost", ["p_strike_7d"], hue="mediators.china.effectiveness"
    )
    assert _is_png(save_figure(fig, tmp_path / "hue.png"))
    with pytest.raises(ValueError, match="also vary"):
        heatmap(
            grid_df, "actors.pakistan.audience_cost", "mediators.china.effectiveness", "p_strike_7d"
        )


def test_tornado_and_draw_sweep(grid_df: pd.DataFrame, tmp_path: Path) -> None:
    assert _is_png(save_figure(tornado_chart(grid_df, "p_rung5_30d"), tmp_path / "t.png"))
    written = draw_sweep(grid_df, tmp_path / "all", dpi=50)
    assert sorted(p.name for p in written) == ["tornado_p_rung5_30d.png", "tornado_p_strike_7d.png"]
    assert all(_is_png(p, 2_000) for p in written)
    two = grid_df[grid_df["actors.india.policy"] == "escalate"]
    names = sorted(p.name for p in draw_sweep(two, tmp_path / "two", dpi=50))
    assert names == [
        "heatmap_p_rung5_30d.png",
        "heatmap_p_strike_7d.png",
        "response_p_rung5_30d_actors.pakistan.audience_cost.png",
        "response_p_strike_7d_actors.pakistan.audience_cost.png",
    ]


def test_failed_points_do_not_break_figures(grid_df: pd.DataFrame, tmp_path: Path) -> None:
    two = grid_df[grid_df["actors.india.policy"] == "escalate"].copy()
    two.loc[two.index[3], ["p_strike_7d", "p_strike_7d_low", "p_strike_7d_high"]] = np.nan
    fig = heatmap(
        two, "actors.pakistan.audience_cost", "mediators.china.effectiveness", "p_strike_7d"
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
    assert names == ["scatter_y.png", "sobol_y.png"]
    with pytest.raises(ValueError, match="not a Sobol indices table"):
        sobol_chart(midx, "y")
