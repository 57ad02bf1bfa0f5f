"""Figures of a calibration, drawn from its tables: what the library says about each parameter
(marginals), how the parameters trade off against each other (pairs), and how the calibrated
model forecasts crises it was not fitted to (cross-validation)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.experiments.calibrate import Posterior
from sim.inputs.parameters import Parameter
from sim.views.plotting import GREY, OKABE_ITO, SLIDE, STYLE, fit_text


def _weighted_hist(ax: Axes, values: np.ndarray, weights: np.ndarray, parameter: Parameter) -> None:
    low, high = parameter.bounds
    bins = np.linspace(low, high, 21).tolist()
    ax.hist(values, bins=bins, weights=weights, density=True, color=OKABE_ITO[0], alpha=0.75)
    ax.hlines(1 / (high - low), low, high, colors=GREY, linewidth=2)
    ax.axvline(float(parameter.value), color=OKABE_ITO[1], linestyle="--", linewidth=2)
    ax.set_xlim(low, high)


def marginals_figure(
    particles: pd.DataFrame, summary: pd.DataFrame, parameters: Sequence[Parameter]
) -> Figure:
    """One panel per parameter: the posterior (weighted histogram) against the flat prior, with
    its 90% interval and the teaching default."""
    weights = particles["weight"].to_numpy()
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SLIDE)
        axes = fig.subplots(1, len(parameters), squeeze=False)[0]
        for ax, parameter in zip(axes, parameters, strict=True):
            row = summary.set_index("parameter").loc[parameter.path]
            ax.axvspan(row["q05"], row["q95"], color=OKABE_ITO[0], alpha=0.12)
            _weighted_hist(ax, particles[parameter.path].to_numpy(), weights, parameter)
            ax.set_title(parameter.path, fontsize=13)
            ax.set_xlabel(
                f"mean {row['mean']:.3g}, 90% {row['q05']:.3g}–{row['q95']:.3g}", fontsize=12
            )
            ax.set_yticks([])
        axes[0].set_ylabel("density")
        fig.legend(
            handles=[
                Patch(color=OKABE_ITO[0], alpha=0.75, label="posterior"),
                Patch(color=OKABE_ITO[0], alpha=0.12, label="90% interval"),
                Line2D([], [], color=GREY, linewidth=2, label="prior (uniform)"),
                Line2D(
                    [],
                    [],
                    color=OKABE_ITO[1],
                    linestyle="--",
                    linewidth=2,
                    label="teaching default",
                ),
            ],
            loc="lower center",
            ncol=4,
            frameon=False,
        )
        fig.suptitle("What the case library says about each parameter", fontsize=18)
        fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    return fit_text(fig)


def pairwise_figure(particles: pd.DataFrame, parameters: Sequence[Parameter]) -> Figure:
    """Every pair of parameters: the particles (area by weight) below the diagonal, each
    posterior on it; a ridge shows parameters the library can only tell apart together."""
    weights = particles["weight"].to_numpy()
    size = 600 * weights / weights.max() if len(weights) else weights
    count = len(parameters)
    with mpl.rc_context({**STYLE, "font.size": 11, "axes.labelsize": 11}):
        fig = Figure(figsize=SLIDE)
        axes = fig.subplots(count, count, squeeze=False)
        for i, py in enumerate(parameters):
            for j, px in enumerate(parameters):
                ax = axes[i][j]
                if j > i:
                    ax.set_visible(False)
                    continue
                if i == j:
                    _weighted_hist(ax, particles[px.path].to_numpy(), weights, px)
                    ax.set_yticks([])
                else:
                    ax.scatter(
                        particles[px.path],
                        particles[py.path],
                        s=size,
                        color=OKABE_ITO[0],
                        alpha=0.5,
                        linewidths=0,
                    )
                    ax.plot(px.value, py.value, marker="X", color=OKABE_ITO[1], markersize=10)
                    ax.set_xlim(px.low, px.high)
                    ax.set_ylim(py.low, py.high)
                if i == count - 1:
                    ax.set_xlabel(px.name)
                else:
                    ax.set_xticklabels([])
                if j == 0 and i > 0:
                    ax.set_ylabel(py.name)
                elif i != j:
                    ax.set_yticklabels([])
        fig.suptitle(
            "Posterior particles, two parameters at a time (area: weight; ✕: teaching defaults)",
            fontsize=16,
        )
        fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fit_text(fig)


def cross_validation_figure(scores: pd.DataFrame) -> Figure:
    """Brier score item by item (lower is better): the calibrated model on crises it was not
    fitted to, the teaching defaults, and the leave-one-out base rate; the coin is 0.25."""
    items = scores[scores["item"] != "all items"]
    overall = scores[scores["item"] == "all items"].iloc[0]
    labels = [str(item).replace("_", " ") for item in items["item"]]
    x = np.arange(len(items))
    bars = (
        ("calibrated, left-out case", "brier", OKABE_ITO[0]),
        ("teaching defaults", "brier_defaults", OKABE_ITO[1]),
        ("leave-one-out base rate", "brier_base_rate", OKABE_ITO[2]),
    )
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SLIDE)
        ax = fig.subplots()
        width = 0.8 / len(bars)
        for k, (label, column, colour) in enumerate(bars):
            ax.bar(x + (k - 1) * width, items[column], width, label=label, color=colour)
        ax.axhline(0.25, color=GREY, linestyle="--", linewidth=1.5, label="coin (0.25)")
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_ylabel("Brier score (lower is better)")
        ax.legend(loc="upper left", ncol=2)
        ax.set_title(
            f"Leave-one-case-out: Brier {overall['brier']:.3f} out of sample (teaching defaults "
            f"{overall['brier_defaults']:.3f}, base rate {overall['brier_base_rate']:.3f}, coin "
            f"0.250) over {int(overall['cases'])} scored items",
            fontsize=15,
        )
        fig.tight_layout()
    return fit_text(fig)


def figures(posterior: Posterior, summary: pd.DataFrame) -> dict[str, Figure]:
    """The figures of a finished calibration, by file stem."""
    return {
        "marginals": marginals_figure(posterior.particles, summary, posterior.parameters),
        "pairwise": pairwise_figure(posterior.particles, posterior.parameters),
    }
