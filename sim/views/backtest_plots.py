"""Figures of a backtest, drawn from its tables: the model's probabilities against what happened,
case by case and item by item, and a reliability diagram."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.views.plotting import OKABE_ITO, STYLE


def backtest_figure(items: pd.DataFrame, reliability: pd.DataFrame, scores: pd.DataFrame) -> Figure:
    """Left: each case's probability of each item (darker is likelier), marked with what
    happened; right: predicted against observed frequency."""
    cases = list(dict.fromkeys(items["case"]))
    names = list(dict.fromkeys(items["item"]))
    grid = items.pivot(index="case", columns="item", values="probability").loc[cases, names]
    seen = items.pivot(index="case", columns="item", values="observed").loc[cases, names]
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(16, 9))
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
        image = left.imshow(grid.to_numpy(), cmap="cividis_r", vmin=0, vmax=1, aspect="auto")
        for i in range(len(cases)):
            for j in range(len(names)):
                p = float(grid.to_numpy()[i, j])
                o = float(seen.to_numpy()[i, j])
                mark = "–" if np.isnan(o) else ("✔" if o == 1 else "✘")
                colour = "white" if p > 0.55 else "black"
                left.text(
                    j, i, f"{p:.0%}\n{mark}", ha="center", va="center", fontsize=11, color=colour
                )
        left.set_xticks(
            range(len(names)), [n.replace("_", " ") for n in names], rotation=35, ha="right"
        )
        left.set_yticks(range(len(cases)), cases)
        left.grid(False)
        left.set_title("Model's probability; ✔ happened, ✘ did not, – not scored", fontsize=14)
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
        right.set_title("Reliability (items per bin)", fontsize=14)
        right.legend(loc="upper left")
        overall = scores[scores["item"] == "all items"].iloc[0]
        fig.suptitle(
            f"How good is the model? Brier {overall['brier']:.3f} (coin 0.250, base rate "
            f"{overall['brier_base_rate']:.3f}) over {int(overall['cases'])} scored items",
            fontsize=17,
        )
        fig.tight_layout()
    return fig
