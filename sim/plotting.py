"""Figures for a classroom projector, drawn only from result tables (never by rerunning).

Figures are built as ``matplotlib.figure.Figure`` objects without pyplot's global state, so
they work on machines with no display and need no closing.

Colours are the Okabe-Ito palette, distinguishable with the common forms of colour blindness;
lines also differ in style so the figures survive a black-and-white printer.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

if TYPE_CHECKING:
    from sim.story import StoryTables

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
LINE_STYLES = ["-", "--", "-.", ":"]
STYLE: dict[Any, Any] = {
    "font.size": 14,
    "axes.titlesize": 16,
    "axes.labelsize": 14,
    "legend.fontsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def ladder_colours(rungs: int) -> list[tuple[float, float, float, float]]:
    """Ordered rungs in an ordered, colour-blind-safe scale: pale calm to dark war (cividis)."""
    scale = mpl.colormaps["cividis_r"]
    return [scale(0.05 + 0.9 * rung / max(rungs - 1, 1)) for rung in range(rungs)]


def default_rungs(curves: pd.DataFrame, most: int = 4) -> list[int]:
    """Rungs worth plotting: those not already reached by every run on day 0, highest first."""
    day0 = curves[curves["day"] == 0].groupby("rung")["probability"].min()
    open_rungs = [int(rung) for rung, p in zip(day0.index, day0, strict=True) if p < 1 and rung > 0]
    return open_rungs[-most:] if open_rungs else [int(curves["rung"].max())]


def band(ax: Axes, rows: pd.DataFrame, index: int, label: str) -> None:
    """A probability curve by day with its 95% band, in the ``index``-th colour and line style."""
    colour = OKABE_ITO[index % len(OKABE_ITO)]
    ax.fill_between(
        rows["day"], rows["ci_low"], rows["ci_high"], color=colour, alpha=0.2, linewidth=0
    )
    ax.plot(
        rows["day"],
        rows["probability"],
        color=colour,
        linestyle=LINE_STYLES[index % len(LINE_STYLES)],
        linewidth=2.5,
        label=label,
    )


def _days_label(start_date: str | None) -> str:
    """'Day of the crisis (day 0 = 16 Jan 2024)': the x axis of every figure over days."""
    when = f" (day 0 = {datetime.date.fromisoformat(start_date):%d %b %Y})" if start_date else ""
    return f"Day of the crisis{when}"


def _day_axis(ax: Axes, start_date: str | None) -> None:
    ax.set_xlabel(_days_label(start_date))
    ax.set_ylabel("Probability")
    ax.set_ylim(0, 1)


def escalation_curves(
    curves: pd.DataFrame,
    rung_names: Sequence[str],
    rungs: Sequence[int] | None = None,
    start_date: str | None = None,
) -> Figure:
    """One panel per scenario: P(crisis reaches rung k or higher by day t), with 95% bands."""
    rungs = list(rungs) if rungs else default_rungs(curves)
    scenarios = list(dict.fromkeys(curves["scenario"]))
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(7.5 * len(scenarios), 5.5))
        axes = fig.subplots(1, len(scenarios), squeeze=False, sharey=True)
        for ax, scenario in zip(axes[0], scenarios, strict=True):
            for i, rung in enumerate(rungs):
                rows = curves[(curves["scenario"] == scenario) & (curves["rung"] == rung)]
                band(ax, rows, i, f"rung {rung}: {rung_names[rung]}")
            runs = int(curves[curves["scenario"] == scenario]["runs"].iloc[0])
            ax.set_title(f"{scenario} ({runs:,} runs)")
            _day_axis(ax, start_date)
            ax.legend(loc="upper left", title="Reached by that day (95% band)")
        fig.suptitle("How likely is the crisis to climb this far?", fontsize=18)
        fig.tight_layout()
    return fig


def comparison_curves(
    curves: pd.DataFrame,
    strikes: pd.DataFrame,
    rung_names: Sequence[str],
    rungs: Sequence[int] | None = None,
    start_date: str | None = None,
) -> Figure:
    """The scenarios side by side: a panel for a strike after day 0, then one per rung."""
    rungs = list(rungs) if rungs else default_rungs(curves, most=3)
    scenarios = list(dict.fromkeys(curves["scenario"]))
    panels: list[tuple[str, pd.DataFrame]] = [("A cross-border strike after day 0", strikes)] + [
        (f"Reaching rung {rung}: {rung_names[rung]}", curves[curves["rung"] == rung])
        for rung in rungs
    ]
    columns = 2 if len(panels) == 4 else len(panels)
    rows = -(-len(panels) // columns)
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(7.5 * columns, 5.5 * rows))
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for ax, (title, table) in zip(axes, panels, strict=False):
            for i, scenario in enumerate(scenarios):
                band(ax, table[table["scenario"] == scenario], i, scenario)
            ax.set_title(title, fontsize=15)
            _day_axis(ax, start_date)
            top = float(table["ci_high"].max())
            ax.set_ylim(0, min(1.0, max(0.05, top * 1.15)))
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        axes[0].legend(loc="lower right", title="Scenario (95% band)")
        fig.suptitle("Scenarios compared: P(it has happened by that day)", fontsize=18)
        fig.tight_layout()
    return fig


def occupancy(
    occupancy_table: pd.DataFrame, rung_names: Sequence[str], start_date: str | None = None
) -> Figure:
    """Share of runs on each rung, day by day: where the crisis stands, not just how far it got."""
    scenarios = list(dict.fromkeys(occupancy_table["scenario"]))
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(7.5 * len(scenarios), 5.5))
        axes = fig.subplots(1, len(scenarios), squeeze=False, sharey=True)
        for ax, scenario in zip(axes[0], scenarios, strict=True):
            wide = occupancy_table[occupancy_table["scenario"] == scenario].pivot(
                index="day", columns="rung", values="share"
            )
            ax.stackplot(
                wide.index,
                wide.T.to_numpy(),
                labels=[f"{r}: {rung_names[r]}" for r in wide.columns],
                colors=[ladder_colours(len(rung_names))[r] for r in wide.columns],
            )
            ax.set_title(scenario)
            _day_axis(ax, start_date)
            ax.set_ylabel("Share of runs on the rung")
            ax.grid(False)
        axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="Rung")
        fig.suptitle("Where the crisis stands, day by day", fontsize=18)
        fig.tight_layout()
    return fig


LANE_MARKERS = {
    "act": ("^", "act without force"),
    "strike": ("X", "strike"),
    "conciliate": ("v", "step down"),
    "war": ("*", "war"),
    "attack": ("d", "armed-group attack"),
    "offer": ("o", "talks offered"),
    "accept": ("P", "talks begin"),
    "refuse": ("D", "talks refused"),
    "agreement": ("h", "ceasefire agreed"),
}
"""Marker and legend text of each marked event kind, so a black-and-white copy still reads."""
NEUTRAL = "#555555"


def story_timeline(story: StoryTables) -> Figure:
    """One run as a timeline: each state's rung by day, events marked and labelled.

    States' lines are nudged apart by a tenth of a rung so two states on the same rung stay
    visible. Attacks sit in a lane below the ladder and mediation in a lane above it; events of
    one day in one lane stand side by side and share a label (``_label_events`` places them).
    """
    rung_names = story.rung_names
    war = len(rung_names) - 1
    lane_y = {"armed groups": -1.0, "mediation": war + 1.0}
    states = list(dict.fromkeys(story.rungs["actor"]))
    nudge = {actor: 0.1 * (i - (len(states) - 1) / 2) for i, actor in enumerate(states)}
    colour = {actor: OKABE_ITO[i % len(OKABE_ITO)] for i, actor in enumerate(states)}
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(14, 7.5))
        ax = fig.subplots()
        handles: list[Any] = []
        for i, actor in enumerate(states):
            rows = story.rungs[story.rungs["actor"] == actor]
            handles += ax.step(
                rows["day"],
                rows["rung"] + nudge[actor],
                where="post",
                color=colour[actor],
                linestyle=LINE_STYLES[i % len(LINE_STYLES)],
                linewidth=3,
                label=str(rows["state"].iloc[0]),
            )
        events = story.events.copy()
        events["y"] = [
            lane_y[lane] if lane in lane_y else float(rung) + nudge[actor]
            for lane, rung, actor in zip(
                events["lane"], events["rung"], events["actor"], strict=True
            )
        ]
        place = events.groupby(["day", "lane"], sort=False).cumcount()
        crowd = events.groupby(["day", "lane"], sort=False)["kind"].transform("size")
        events["x"] = events["day"] + 0.4 * (place - (crowd - 1) / 2)
        for kind, (marker, meaning) in LANE_MARKERS.items():
            rows = events[events["kind"] == kind]
            if rows.empty:
                continue
            ax.scatter(
                rows["x"],
                rows["y"],
                marker=marker,
                s=140,
                c=[colour.get(actor, NEUTRAL) for actor in rows["actor"]],
                edgecolors="black",
                linewidths=0.8,
                zorder=3,
            )
            handles.append(
                Line2D(
                    [], [], marker=marker, linestyle="", markersize=11, color=NEUTRAL, label=meaning
                )
            )
        first_day, last_day = min([0, *events["day"]]), int(story.rungs["day"].max())
        ax.set_yticks(
            [lane_y["armed groups"], *range(war + 1), lane_y["mediation"]],
            ["armed groups", *(f"{r}: {name}" for r, name in enumerate(rung_names)), "mediation"],
        )
        ax.set_ylim(lane_y["armed groups"] - 1.6, lane_y["mediation"] + 1.6)
        ax.set_xlim(first_day - 0.8, last_day + 0.8)
        ax.set_xlabel(_days_label(story.start_date))
        ax.set_ylabel("Rung of the escalation ladder")
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            title="States and events",
        )
        seed = f" (seed {story.seed})" if story.seed is not None else ""
        fig.suptitle(f"{story.scenario}: one run{seed}, day by day", fontsize=18)
        fig.tight_layout()
        _label_events(ax, events)
    return fig


LABEL_OFFSETS = {
    "states": (12, -12, 34, -34, 56, -56),
    "mediation": (12, 34, 56),
    "armed groups": (-12, -34, -56),
}
"""Where a label may go, in points above (+) or below (-) its marker, nearest first."""
LABEL_PRIORITY = (
    "war",
    "strike",
    "agreement",
    "accept",
    "act",
    "attack",
    "conciliate",
    "refuse",
    "offer",
)
"""Which labels are placed first when not all fit: the climb to war first, offers last."""


def _label_events(ax: Axes, events: pd.DataFrame) -> None:
    """Label each day's events of a lane where the label fits, without covering another label.

    A label whose every place would leave the axes or cover another is left out: its marker
    stays, and the story in words has every event.
    """
    renderer = FigureCanvasAgg(ax.get_figure(root=True)).get_renderer()
    frame = ax.get_window_extent(renderer)
    rank = {kind: i for i, kind in enumerate(LABEL_PRIORITY)}
    labelled = (
        events.assign(rank=events["kind"].map(rank))
        .groupby(["lane", "day"], sort=False)
        .agg(
            y=("y", "max"),
            rank=("rank", "min"),
            label=("label", lambda labels: "\n".join(dict.fromkeys(labels))),
        )
        .reset_index()
        .sort_values(["rank", "day"], kind="stable")
    )
    taken: list[Bbox] = []
    for row in labelled.to_dict("records"):
        places = [
            (offset, align)
            for offset in LABEL_OFFSETS[str(row["lane"])]
            for align in ("center", "left", "right")
        ]
        for offset, align in places:
            note = ax.annotate(
                str(row["label"]),
                (float(row["day"]), float(row["y"])),
                xytext=(0, offset),
                textcoords="offset points",
                ha=align,
                va="bottom" if offset > 0 else "top",
                fontsize=10,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
                arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.8},
            )
            note.set_in_layout(False)
            box = note.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1
            inside = inside and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken):
                taken.append(box)
                break
            note.remove()


def explain_figure(causes: pd.DataFrame, scenario: str, rung_name: str, total: int) -> Figure:
    """What started the climb: each cause's share of the runs that climbed, with 95% CIs."""
    shown = causes[causes["runs"] > 0].iloc[::-1]
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(12, 6.75))
        ax = fig.subplots()
        positions = np.arange(len(shown))
        ax.barh(positions, shown["share"], color=OKABE_ITO[1], height=0.6)
        ax.errorbar(
            shown["share"],
            positions,
            xerr=[shown["share"] - shown["ci_low"], shown["ci_high"] - shown["share"]],
            fmt="none",
            ecolor="black",
            capsize=5,
            linewidth=1.5,
        )
        for y, (share, runs) in enumerate(zip(shown["share"], shown["runs"], strict=True)):
            ax.text(share + 0.01, y + 0.25, f"{share:.0%} ({runs:,} runs)", va="bottom")
        ax.set_yticks(positions, shown["cause"])
        ax.set_xlim(0, 1)
        ax.set_xlabel("Share of the runs that climbed (95% CI)")
        climbed = int(causes["runs"].sum())
        ax.set_title(
            f"{scenario}: {climbed:,} of {total:,} runs reached '{rung_name}'",
            fontsize=14,
        )
        fig.suptitle("What started the climb?", fontsize=18)
        fig.tight_layout()
    return fig
