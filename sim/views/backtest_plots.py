"""Figures of a backtest, drawn from its tables: the model's probabilities against what happened,
case by case and item by item, and a reliability diagram; the observed trajectory class of each
case against the model's distribution over the classes."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.views.plotting import OKABE_ITO, SLIDE, STYLE, fit_text


def backtest_figure(items: pd.DataFrame, reliability: pd.DataFrame, scores: pd.DataFrame) -> Figure:
    """Left: each case's probability of each item (darker is likelier), marked with what
    happened; right: predicted against observed frequency."""
    cases = list(dict.fromkeys(items["case"]))
    names = list(dict.fromkeys(items["item"]))
    grid = items.pivot(index="case", columns="item", values="probability").loc[cases, names]
    seen = items.pivot(index="case", columns="item", values="observed").loc[cases, names]
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SLIDE)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
        image = left.imshow(grid.to_numpy(), cmap="cividis_r", vmin=0, vmax=1, aspect="auto")
        for i in range(len(cases)):
            for j in range(len(names)):
                p = float(grid.to_numpy()[i, j])
                o = float(seen.to_numpy()[i, j])
                mark = "–" if np.isnan(o) else ("✔" if o == 1 else "✘")
                colour = "white" if p > 0.55 else "black"
                # one line: forty cases leave a row about 14 points high on a slide
                left.text(
                    j, i, f"{p:.0%} {mark}", ha="center", va="center", fontsize=11, color=colour
                )
        dropped = (
            set(items.loc[~items["headline"].astype(bool), "item"])
            if "headline" in items
            else set()
        )
        left.set_xticks(
            range(len(names)),
            [n.replace("_", " ") + (" *" if n in dropped else "") for n in names],
            rotation=35,
            ha="right",
        )
        left.set_yticks(range(len(cases)), cases)
        left.grid(False)
        left.set_title(
            "Model's probability; ✔ happened, ✘ did not, – not scored"
            + ("; * not in the headline (a duplicate)" if dropped else ""),
            fontsize=14,
        )
        fig.colorbar(image, ax=left, fraction=0.03, pad=0.02, label="probability")
        right.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1.5, label="perfect")
        shown = reliability[reliability["items"] > 0]
        right.plot(
            shown["mean_predicted"],
            shown["observed_share"],
            marker="o",
            color=OKABE_ITO[0],
            linewidth=2.5,
            markersize=9,
            label="library",
        )
        for row in shown.itertuples():
            right.annotate(
                f"{row.items}",
                (row.mean_predicted, row.observed_share),
                textcoords="offset points",
                xytext=(6, -14),
                fontsize=11,
            )
        right.set_xlim(0, 1)
        right.set_ylim(0, 1)
        right.set_aspect("equal")
        right.set_xlabel("Predicted probability")
        right.set_ylabel("Share that happened")
        right.set_title("Reliability, headline items (items per bin)", fontsize=14)
        right.legend(loc="upper left")
        overall = scores[scores["item"] == "all items"].iloc[0]
        fig.suptitle(
            f"How good is the model? Brier {overall['score']:.3f} (coin 0.250, base rate "
            f"{overall['base_rate_score']:.3f}) over {int(overall['cases'])} scored headline items",
            fontsize=17,
        )
        fig.tight_layout()
    return fit_text(fig)


def trajectory_figure(trajectory: pd.DataFrame, scores: pd.DataFrame) -> Figure:
    """Left: each case's share of runs in each trajectory class (darker is likelier), the class
    that happened boxed; right: each case's RPS, the model's against the leave-one-out base
    rate's and the one-feature forecaster's."""
    classes = [c[2:] for c in trajectory.columns if c.startswith("p_")]
    cases = trajectory["case"].tolist()
    grid = trajectory[[f"p_{c}" for c in classes]].to_numpy(dtype=float)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SLIDE)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
        image = left.imshow(grid, cmap="cividis_r", vmin=0, vmax=1, aspect="auto")
        for i, seen in enumerate(trajectory["observed"].astype(str)):
            for j in range(len(classes)):
                colour = "white" if grid[i, j] > 0.55 else "black"
                left.text(
                    j, i, f"{grid[i, j]:.0%}", ha="center", va="center", fontsize=11, color=colour
                )
            if seen in classes:
                j = classes.index(seen)
                left.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=OKABE_ITO[1], linewidth=3.5
                    )
                )
        left.set_xticks(
            range(len(classes)), [c.replace("_", " ") for c in classes], rotation=25, ha="right"
        )
        left.set_yticks(range(len(cases)), cases)
        left.grid(False)
        left.set_title(
            "Model's share of runs in each class; the class that happened boxed", fontsize=14
        )
        fig.colorbar(image, ax=left, fraction=0.03, pad=0.02, label="share of runs")
        y = np.arange(len(cases))
        bars = [
            ("model", "rps", OKABE_ITO[0]),
            ("base rate (leave one out)", "rps_base_rate", OKABE_ITO[2]),
            ("one feature (opening rung ≥ 6)", "rps_one_feature", OKABE_ITO[4]),
        ]
        height = 0.8 / len(bars)
        for k, (label, column, colour) in enumerate(bars):
            right.barh(
                y - 0.4 + height * (k + 0.5),
                trajectory[column].to_numpy(dtype=float),
                height=height,
                color=colour,
                label=label,
            )
        right.set_yticks(y, [])
        right.set_ylim(len(cases) - 0.5, -0.5)
        right.set_xlabel("Ranked probability score (lower is better)")
        right.set_title("RPS by case", fontsize=14)
        right.legend(loc="lower right", fontsize=11)
        rps = scores[scores["item"] == "trajectory"].iloc[0]
        fig.suptitle(
            f"Trajectory class: mean RPS {rps['score']:.3f} over {int(rps['cases'])} cases "
            f"(coin {rps['coin_score']:.3f}, base rate {rps['base_rate_score']:.3f}, "
            f"one feature {rps['one_feature_score']:.3f})",
            fontsize=17,
        )
        fig.tight_layout()
    return fit_text(fig)
