"""Figures for a classroom projector, drawn only from result tables (never by rerunning).

Figures are built as ``matplotlib.figure.Figure`` objects without pyplot's global state, so
they work on machines with no display and need no closing.

Every figure of a results folder fits a 16:9 slide (16 x 9 inches): panels in a grid, legends
in a strip of their own outside the panels (constrained layout reserves it), so a legend never
covers a curve. Probabilities by day are drawn as steps, as they are counted (a run either has
or has not reached the rung by the end of a day), with their 95% bands stepped alike; each panel
has its own y-range, so a probability of 0.3% is not drawn on the floor of a 0-100% axis.

Colours are the Okabe-Ito palette, distinguishable with the common forms of colour blindness;
lines also differ in style so the figures survive a black-and-white printer.
"""

from __future__ import annotations

import datetime
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

if TYPE_CHECKING:
    from sim.analysis.story import StoryTables
    from sim.model.model import EscalationModel

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
LINE_STYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
STYLE: dict[Any, Any] = {
    "font.size": 14,
    "axes.titlesize": 16,
    "axes.labelsize": 14,
    "legend.fontsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "text.parse_math": False,  # names are the user's text: "$x" is a dollar sign, not TeX
}
SLIDE = (16.0, 9.0)
"""Size in inches of every results figure: a 16:9 slide."""
GREY = "#7F7F7F"
"""What shows no detectable difference: grey, with hollow markers."""
SHORT_DESCRIPTION = 32
"""A scenario's description labels it when it has at most this many characters."""


def ladder_colours(rungs: int) -> list[tuple[float, float, float, float]]:
    """Ordered rungs in an ordered, colour-blind-safe scale: pale calm to dark war (cividis)."""
    scale = mpl.colormaps["cividis_r"]
    return [scale(0.05 + 0.9 * rung / max(rungs - 1, 1)) for rung in range(rungs)]


def default_rungs(curves: pd.DataFrame, most: int = 4) -> list[int]:
    """Rungs worth plotting: those not already reached by every run on day 0, highest first."""
    day0 = curves[curves["day"] == 0].groupby("rung")["probability"].min()
    open_rungs = [int(rung) for rung, p in zip(day0.index, day0, strict=True) if p < 1 and rung > 0]
    return open_rungs[-most:] if open_rungs else [int(curves["rung"].max())]


# --------------------------------------------------------------------------- #
# Labels
# --------------------------------------------------------------------------- #


def scenario_labels(
    names: Sequence[str], descriptions: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What a figure calls each scenario: its description where short, else its name made
    readable (the words common to the start of every name dropped, keeping at least two words
    of each, underscores as spaces).

    ``jan2024_mediation_accepted`` and ``jan2024_no_mediator`` become "mediation accepted" and
    "no mediator". Labels that would coincide fall back to the whole names, as words.
    """
    names = list(dict.fromkeys(names))
    words = [[w for w in name.split("_") if w] or [name] for name in names]
    common = 0
    if len(names) > 1:
        for column in zip(*words, strict=False):
            if len(set(column)) > 1:
                break
            common += 1
        while common and any(len(w) - common < min(2, len(w)) for w in words):
            common -= 1
    labels = {}
    for name, parts in zip(names, words, strict=True):
        description = " ".join(str((descriptions or {}).get(name) or "").split()).rstrip(".")
        short = 0 < len(description) <= SHORT_DESCRIPTION
        labels[name] = description if short else " ".join(parts[common:])
    if len(set(labels.values())) < len(labels):
        labels = {name: " ".join(parts) for name, parts in zip(names, words, strict=True)}
    return {key: drawn_name(label) for key, label in labels.items()}


NAME_LENGTH = 40
"""The most characters of a name a figure draws (a rung, actor, case or scenario name, or a
description standing for a scenario): a longer one is cut there with an ellipsis. The tables
and text output keep every name whole."""
DRAWN_LENGTH = 150
"""The most characters of any one line a figure draws, and ``DRAWN_LINES`` the most lines of one
text: what the figure's own words never pass, so that no input can make a figure huge."""
DRAWN_LINES = 20


def drawn_name(text: str) -> str:
    """A name as a figure draws it: one line, cut at ``NAME_LENGTH`` with an ellipsis."""
    return drawn(" ".join(str(text).split()), NAME_LENGTH, 1)


def drawn(text: str, length: int = DRAWN_LENGTH, lines: int = DRAWN_LINES) -> str:
    """``text`` as a figure draws it: each line cut at ``length`` characters and the text at
    ``lines`` lines, each cut marked by an ellipsis, so that no name can make a figure huge."""
    rows = text.split("\n")
    cut = [row if len(row) <= length else row[: length - 1] + "…" for row in rows[:lines]]
    if len(rows) > lines:
        last = cut[-1]
        cut[-1] = (last if len(last) < length else last[: length - 1]) + "…"
    return "\n".join(cut)


def fit_text(fig: Figure) -> Figure:
    """Every text of ``fig`` (titles, labels, legends, notes, tick labels) cut by ``drawn``:
    the one place every figure passes before it is returned."""
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter

    for text in fig.findobj(Text):
        content = text.get_text()
        if isinstance(content, str) and content != drawn(content):
            text.set_text(drawn(content))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            # tick labels given as words are set from their formatter when drawn
            if isinstance(axis.get_major_formatter(), FixedFormatter | FuncFormatter):
                axis.set_major_formatter(_cut(axis.get_major_formatter()))
            if isinstance(axis.get_minor_formatter(), FixedFormatter | FuncFormatter):
                axis.set_minor_formatter(_cut(axis.get_minor_formatter()))
    return fig


def _cut(formatter: Any) -> FuncFormatter:
    return FuncFormatter(lambda x, pos: drawn(str(formatter(x, pos))))


WRAPPED_LINES = 4
"""The most lines a label wrapped to fit its place is given (the last ends in an ellipsis)."""


def _wrap(text: str, width: int) -> str:
    return "\n".join(wrapped(text, width)) or text


def wrapped(text: str, width: int) -> list[str]:
    """``text`` wrapped at ``width`` on at most ``WRAPPED_LINES`` lines, so that a long name
    inside a label cannot stretch a figure. A word is never split: names are cut before they
    are drawn (``drawn_name``), and a cut name stays whole with its ellipsis."""
    return textwrap.wrap(
        text, width, max_lines=WRAPPED_LINES, placeholder=" …", break_long_words=False
    ) or [text]


def short_outcome(label: str) -> str:
    """An outcome's label without its 'P(...)': 'P(war by the horizon)' -> 'War by the horizon'."""
    match = re.fullmatch(r"P\((.*)\)", label.strip())
    text = match.group(1) if match else label.strip()
    return text[:1].upper() + text[1:]


def _by_that_day(label: str) -> str:
    """An outcome's words without its deadline, for a curve over days."""
    text = re.sub(r" (within \d+ days?|by day \d+|by the horizon)", "", short_outcome(label))
    return text


# --------------------------------------------------------------------------- #
# Drawing helpers
# --------------------------------------------------------------------------- #


def steps(x: Sequence[float] | np.ndarray | pd.Series, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """The corners of a step curve that holds each value until the next day ('post' steps).

    ``steps([0, 1, 2], [a, b, c])`` is ``([0, 1, 1, 2, 2], [a, a, b, b, c])``: every segment
    is horizontal or vertical, so a jump from one day to the next is never drawn as a slope.
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xs) == 0:
        return xs, ys
    return np.repeat(xs, 2)[1:], np.repeat(ys, 2)[:-1]


def band(ax: Axes, rows: pd.DataFrame, index: int, label: str) -> Line2D:
    """A probability by day, as steps, with its stepped 95% band, in the ``index``-th colour
    and line style; returns the line (for a legend)."""
    colour = OKABE_ITO[index % len(OKABE_ITO)]
    xs, low = steps(rows["day"], rows["ci_low"])
    _, high = steps(rows["day"], rows["ci_high"])
    _, probability = steps(rows["day"], rows["probability"])
    ax.fill_between(xs, low, high, color=colour, alpha=0.2, linewidth=0)
    (line,) = ax.plot(
        xs,
        probability,
        color=colour,
        linestyle=LINE_STYLES[index % len(LINE_STYLES)],
        linewidth=2.5,
        label=label,
    )
    return line


def probability_top(high: float) -> float:
    """Top of a probability axis that shows its data: 15% above the highest CI bound, at least
    0.5% (so a band of a few runs in thousands is visible) and at most 105%."""
    if not np.isfinite(high) or high <= 0:
        return 0.005
    return float(min(1.05, max(high * 1.15, 0.005)))


def _percent(value: float, _position: object = None) -> str:
    return f"{value * 100:.3g}%"


PERCENT = FuncFormatter(_percent)
"""Ticks of a probability axis in per cent, with as many decimals as they need: 0.05%, 2%."""


def percent_axis(ax: Axes, top: float, axis: str = "y") -> None:
    """A probability axis up to ``top`` (and a sliver below 0, so what lies at 0 is not hidden
    by the axis line), its ticks in per cent."""
    if axis == "y":
        ax.set_ylim(-0.015 * top, top)
        ax.yaxis.set_major_formatter(PERCENT)
    else:
        ax.set_xlim(-0.015 * top, top)
        ax.xaxis.set_major_formatter(PERCENT)


def _style(index: int) -> Any:
    return LINE_STYLES[index % len(LINE_STYLES)]


def _signed(scale: float, unit: str = "") -> FuncFormatter:
    def form(value: float, _position: object) -> str:
        shown = value * scale
        return "0" if abs(shown) < 1e-9 else f"{shown:+.6g}{unit}"

    return FuncFormatter(form)


def _grid(panels: int) -> tuple[int, int]:
    """Rows and columns for this many panels on a 16:9 slide."""
    if panels <= 3:
        return 1, max(panels, 1)
    if panels == 4:
        return 2, 2
    if panels <= 6:
        return 2, 3
    return -(-panels // 4), 4


def _days_label(start_date: str | None) -> str:
    """'Day of the crisis (day 0 = 16 Jan 2024)': the x axis of every figure over days."""
    when = f" (day 0 = {datetime.date.fromisoformat(start_date):%d %b %Y})" if start_date else ""
    return f"Day of the crisis{when}"


def _label_outer(axes: Sequence[Axes], columns: int, xlabel: str, ylabel: str) -> None:
    """Axis labels on the bottom panel of each column and on the first panel of each row."""
    shown = [ax for ax in axes if ax.get_visible()]
    for k, ax in enumerate(shown):
        below = k + columns
        if below >= len(shown):
            ax.set_xlabel(xlabel)
        if k % columns == 0:
            ax.set_ylabel(ylabel)


def _runs_of(table: pd.DataFrame, scenario: str) -> int | None:
    if "runs" not in table:
        return None
    runs = table.loc[table["scenario"] == scenario, "runs"]
    return int(runs.iloc[0]) if len(runs) else None


# --------------------------------------------------------------------------- #
# Escalation curves and occupancy
# --------------------------------------------------------------------------- #


def reached_on_day_0(curves: pd.DataFrame) -> list[int]:
    """Rungs above 0 that every run had reached on day 0: the opening act's, and those below it.
    Their curves would be a flat 100% from day 0, so a figure says so in words instead."""
    day0 = curves[curves["day"] == 0].groupby("rung")["probability"].min()
    return [int(rung) for rung, p in zip(day0.index, day0, strict=True) if p >= 1 and rung > 0]


def opening_rungs(curves: pd.DataFrame, most: int = 4) -> list[int]:
    """The rungs drawn beside the outcome curves, from the opening: the highest rung every run
    had reached on day 0 (its panel says so), then the rungs in question below war (war has a
    curve of its own), lowest first; at most ``most``."""
    reached = reached_on_day_0(curves)
    war = int(curves["rung"].max())
    open_rungs = [r for r in sorted({int(r) for r in curves["rung"]}) if 0 < r < war]
    open_rungs = [r for r in open_rungs if r not in reached]
    return ([reached[-1]] if reached else []) + open_rungs[: most - (1 if reached else 0)]


def _already_reached(ax: Axes, rung: int, reached: Sequence[int]) -> None:
    """A rung every run had reached on day 0: a sentence in place of a flat 100% line."""
    below = [r for r in reached if r < rung]
    also = ""
    if len(below) == 1:
        also = f"\n(so was rung {below[0]})"
    elif below:
        also = f"\n(so were rungs {below[0]} to {below[-1]})"
    ax.text(
        0.5,
        0.5,
        f"{ALREADY_REACHED}{also}",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=14,
        color="0.25",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


ALREADY_REACHED = "Already reached on day 0\nby the opening act"
"""What a panel of a rung says when every run stood on it from day 0."""


def _not_reached(ax: Axes, high: float, what: str = "Not reached in any run") -> None:
    ax.text(
        0.5,
        0.7,
        f"{what}\n(95% CI: 0 to {high:.2%})",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=14,
        color="0.25",
    )


def _curve_panel(
    ax: Axes,
    table: pd.DataFrame,
    scenarios: Sequence[str],
    labels: Mapping[str, str],
    handles: list[Line2D],
    nothing: str,
) -> None:
    """Each scenario's curve in one panel, with its band; a panel of zeros says so."""
    for i, scenario in enumerate(scenarios):
        runs = _runs_of(table, scenario)
        label = labels[scenario] + (f" ({runs:,} runs)" if runs else "")
        line = band(ax, table[table["scenario"] == scenario], i, label)
        if len(handles) < len(scenarios):
            handles.append(line)
    high = float(table["ci_high"].max()) if len(table) else 0.0
    percent_axis(ax, probability_top(high))
    if len(table):
        ax.set_xlim(float(table["day"].min()), float(table["day"].max()))
    if len(table) and not (table["probability"] > 0).any():
        _not_reached(ax, high, nothing)


def escalation_curves(
    curves: pd.DataFrame,
    rung_names: Sequence[str],
    rungs: Sequence[int] | None = None,
    start_date: str | None = None,
    labels: Mapping[str, str] | None = None,
    outcome_curves: pd.DataFrame | None = None,
) -> Figure:
    """The curves of a result on one slide, each scenario as steps with stepped 95% bands and
    each panel with its own y-range.

    With ``outcome_curves`` (:func:`sim.analysis.statistics.outcome_curves`), the first row
    answers what a class asks, one panel per outcome (the struck state answers, a strike on
    state forces, back to baseline, war: P(by that day)), and the row below shows the rungs from
    the opening (:func:`opening_rungs`). Without, one panel per rung (:func:`default_rungs`).
    A rung every run had reached on day 0 says "already reached on day 0 by the opening act"
    instead of a flat 100% line; a rung or outcome no run reached says so, with the upper end
    of its 95% interval. ``labels`` names the scenarios (default: :func:`scenario_labels`).
    """
    shown = outcome_curves if outcome_curves is not None and len(outcome_curves) else None
    if rungs:
        rungs = list(rungs)
    else:
        rungs = opening_rungs(curves) if shown is not None else default_rungs(curves)
    reached = reached_on_day_0(curves)
    scenarios = list(dict.fromkeys(curves["scenario"]))
    labels = {**scenario_labels(scenarios), **(labels or {})}
    names = list(dict.fromkeys(shown["outcome"])) if shown is not None else []
    if names:
        columns = max(len(names), 4)
        rows = 1 + -(-len(rungs) // columns)
    else:
        rows, columns = _grid(len(rungs))
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SLIDE, layout="constrained")
        axes = list(fig.subplots(rows, columns, squeeze=False).ravel())
        handles: list[Line2D] = []
        used: list[Axes] = []
        for ax, name in zip(axes, names, strict=False):
            assert shown is not None
            table = shown[shown["outcome"] == name]
            _curve_panel(ax, table, scenarios, labels, handles, "Not in any run")
            words = short_outcome(str(table["label"].iloc[0])).removesuffix(" by that day")
            ax.set_title(_wrap(words, 34))
            used.append(ax)
        rung_axes = axes[columns:] if names else axes
        for ax in axes[len(names) : columns if names else 0]:
            ax.set_visible(False)
        for ax, rung in zip(rung_axes, rungs, strict=False):
            table = curves[curves["rung"] == rung]
            ax.set_title(_wrap(f"Rung {rung}: {drawn_name(rung_names[rung])}", 34))
            if rung in reached:
                _already_reached(ax, rung, reached)
            else:
                _curve_panel(ax, table, scenarios, labels, handles, "Not reached in any run")
            used.append(ax)
        for ax in rung_axes[len(rungs) :]:
            ax.set_visible(False)
        if names:
            for ax in axes[: len(names)]:
                ax.set_ylabel("P(by that day)")
            if rungs:
                rung_axes[0].set_ylabel("P(reached by that day)")
            when = (
                f" (0 = {datetime.date.fromisoformat(start_date):%d %b %Y})" if start_date else ""
            )
            for k, ax in enumerate(axes):
                below = k + columns
                if ax.get_visible() and (below >= len(axes) or not axes[below].get_visible()):
                    ax.set_xlabel(f"Day{when}")  # short: four panels a row
        else:
            _label_outer(axes, columns, _days_label(start_date), "P(reached by that day)")
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(max(len(handles), 1), 3),
            title="Scenario (shaded: 95% confidence band; each panel has its own scale)",
        )
        if names:
            subject = f"{labels[scenarios[0]]}: w" if len(scenarios) == 1 else "W"
            fig.suptitle(
                f"{subject}hat happens by each day, and how far the crisis climbs", fontsize=20
            )
        else:
            subject = f"{labels[scenarios[0]]}: h" if len(scenarios) == 1 else "H"
            fig.suptitle(f"{subject}ow likely is the crisis to climb this far?", fontsize=20)
    return fit_text(fig)


def occupancy(
    occupancy_table: pd.DataFrame,
    rung_names: Sequence[str],
    start_date: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Share of runs on each rung, day by day (stacked steps), one panel per scenario: where
    the crisis stands, not just how far it got."""
    scenarios = list(dict.fromkeys(occupancy_table["scenario"]))
    labels = {**scenario_labels(scenarios), **(labels or {})}
    colours = ladder_colours(len(rung_names))
    rows, columns = _grid(len(scenarios))
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SLIDE, layout=ConstrainedLayoutEngine(wspace=0.04))
        axes = list(fig.subplots(rows, columns, squeeze=False, sharey=True).ravel())
        for ax, scenario in zip(axes, scenarios, strict=False):
            wide = occupancy_table[occupancy_table["scenario"] == scenario].pivot(
                index="day", columns="rung", values="share"
            )
            days = wide.index.to_numpy(dtype=float)
            bottom = np.zeros(len(days))
            for rung in wide.columns:
                top = bottom + wide[rung].to_numpy(dtype=float)
                ax.fill_between(
                    days,
                    bottom,
                    top,
                    step="post",
                    color=colours[int(rung)],
                    linewidth=0,
                    label=f"{rung}: {drawn_name(rung_names[int(rung)])}",
                )
                bottom = top
            ax.set_title(labels[scenario])
            ax.set_xlim(days.min(), days.max())
            percent_axis(ax, 1.0)
            ax.grid(False)
        for ax in axes[len(scenarios) :]:
            ax.set_visible(False)
        _label_outer(axes, columns, "", "Share of runs on the rung")
        fig.supxlabel(_days_label(start_date), fontsize=14)
        shown = sorted({int(r) for r in occupancy_table["rung"]}, reverse=True)
        fig.legend(
            handles=[
                Patch(color=colours[r], label=f"{r}: {drawn_name(rung_names[r])}") for r in shown
            ],
            loc="outside right upper",
            title="Rung (top: war)",
        )
        fig.suptitle("Where the crisis stands, day by day", fontsize=20)
    return fit_text(fig)


# --------------------------------------------------------------------------- #
# Comparison: every outcome's difference, and the outcome that differs most over days
# --------------------------------------------------------------------------- #


def day_columns(definition: str, columns: Sequence[str]) -> list[str]:
    """The day columns of ``runs.csv`` an outcome's definition names (``calm_day <= 14`` ->
    ``['calm_day']``): the outcome has happened by day t when the first of them has come."""
    named = re.findall(r"[a-z][a-z0-9_]*", definition)
    return [c for c in dict.fromkeys(named) if c in columns and re.search(r"(^|_)day(_|$)", c)]


def most_different(comparison: pd.DataFrame, drawable: Sequence[str]) -> str | None:
    """The probability outcome, among ``drawable``, where the scenarios differ most: the
    largest absolute difference from the reference.

    An outcome that never happens in one of the scenarios (talks accepted, with no mediator)
    is left out while another remains: such a difference is usually there by construction,
    and the forest plot shows it anyway.
    """
    table = comparison[(comparison["kind"] == "probability") & comparison["outcome"].isin(drawable)]
    if table.empty:
        return None
    size = table.groupby("outcome", sort=False)["difference"].apply(lambda d: d.abs().max())
    occurs = (table["value"] > 0) & (table["reference_value"] > 0)
    happens = occurs.groupby(table["outcome"], sort=False).all()
    possible = size[happens.reindex(size.index).to_numpy(dtype=bool)]
    chosen = possible if len(possible) and possible.max() > 0 else size
    return str(chosen.idxmax())


def _deadline(outcome: str) -> int | None:
    match = re.search(r"_(\d+)d(?:_|$)", outcome)
    return int(match.group(1)) if match else None


def _forest(
    ax: Axes,
    table: pd.DataFrame,
    others: Sequence[str],
    colour_of: Mapping[str, int],
    highlight: str | None,
) -> None:
    """Each outcome's difference (one row per outcome, one marker per scenario) with its CI:
    in the scenario's colour when the CI excludes 0, hollow and grey when it does not."""
    order = list(dict.fromkeys(table["outcome"]))
    labels = dict(zip(table["outcome"], table["label"], strict=False))
    spread = 0.5 if len(others) > 1 else 0.0
    for j, scenario in enumerate(others):
        part = table[table["scenario"] == scenario].set_index("outcome").reindex(order)
        offset = spread * (j / (len(others) - 1) - 0.5) if len(others) > 1 else 0.0
        y = np.arange(len(order)) + offset
        index = colour_of[scenario]
        detectable = (part["verdict"] != "no detectable difference").to_numpy()
        for shown, colour, face in ((True, None, None), (False, GREY, "white")):
            mask = detectable == shown
            if not mask.any():
                continue
            c = colour or OKABE_ITO[index % len(OKABE_ITO)]
            difference = part["difference"].to_numpy(dtype=float)[mask]
            ax.errorbar(
                difference,
                y[mask],
                xerr=[
                    difference - part["ci_low"].to_numpy(dtype=float)[mask],
                    part["ci_high"].to_numpy(dtype=float)[mask] - difference,
                ],
                fmt=MARKERS[index % len(MARKERS)],
                color=c,
                markerfacecolor=face or c,
                markeredgecolor=c,
                markersize=8,
                elinewidth=2.2,
                capsize=3,
                label=f"{scenario}|{'detectable' if shown else 'none'}",
            )
    ax.axvline(0, color="black", linewidth=1.2)
    for row in range(0, len(order), 2):
        ax.axhspan(row - 0.5, row + 0.5, color="0.965", zorder=0)
    ax.set_yticks(range(len(order)), [_wrap(short_outcome(labels[o]), 60) for o in order])
    for tick, outcome in zip(ax.get_yticklabels(), order, strict=True):
        tick.set_fontsize(11)
        if outcome == highlight:
            tick.set_fontweight("bold")
            ax.axhspan(
                order.index(outcome) - 0.5, order.index(outcome) + 0.5, color="0.86", zorder=0
            )
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="x", labelsize=12)


def comparison_figure(
    comparison: pd.DataFrame,
    shown: str | None,
    curve: pd.DataFrame | None,
    labels: Mapping[str, str] | None = None,
    start_date: str | None = None,
    left_out: str | None = None,
) -> Figure:
    """What differs between the scenarios, for a slide.

    Left: a forest plot of every outcome of ``comparison.csv``: each scenario's difference from
    the reference with its 95% CI, probabilities (in percentage points) and days on separate
    axes, in the scenario's colour when the CI excludes 0 and hollow grey when it does not.
    ``left_out``: the line naming the differences left out as true by construction, shown
    under the forest plot (the rows themselves are not in ``comparison``).
    Right: the outcome ``shown`` (see :func:`most_different`) over days, from ``curve``
    (:func:`sim.analysis.statistics.outcome_curve`), as steps with 95% bands, its paired differences in
    the title.
    """
    reference = str(comparison["reference"].iloc[0])
    others = list(dict.fromkeys(comparison["scenario"]))
    scenarios = [reference, *others]
    labels = {**scenario_labels(scenarios), **(labels or {})}
    colour_of = {scenario: i for i, scenario in enumerate(scenarios)}
    probabilities = comparison[comparison["kind"] == "probability"]
    days = comparison[comparison["kind"] == "days"]
    paired = bool(comparison["paired"].all())
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SLIDE, layout="constrained")
        right = curve is not None and shown is not None
        rows = [max(len(probabilities) // len(others), 1)] + ([1.6] if len(days) else [])
        grid = fig.add_gridspec(
            len(rows), 2 if right else 1, height_ratios=rows, width_ratios=[1.25, 1][: 1 + right]
        )
        forest = fig.add_subplot(grid[0, 0])
        _forest(forest, probabilities, others, colour_of, shown)
        forest.xaxis.set_major_formatter(_signed(100))
        forest.set_xlabel(
            f"Difference from {labels[reference]}, in percentage points (95% CI)"
            + (f"\n{_wrap(left_out, 70)}" if left_out is not None else "")  # setup, not findings
        )
        forest.set_title(
            "Every outcome: the difference and its 95% CI"
            + ("\n(bold: drawn over days on the right)" if right else ""),
            fontsize=15,
        )
        if len(days):
            ax_days = fig.add_subplot(grid[1, 0])
            _forest(ax_days, days, others, colour_of, None)
            ax_days.xaxis.set_major_formatter(_signed(1))
            ax_days.set_xlabel(f"Difference from {labels[reference]}, in days (95% CI)")
        if right:
            assert curve is not None and shown is not None
            ax = fig.add_subplot(grid[:, 1])
            for scenario in scenarios:
                rows = curve[curve["scenario"] == scenario]
                band(ax, rows, colour_of[scenario], labels[scenario])
            percent_axis(ax, probability_top(float(curve["ci_high"].max())))
            ax.set_xlim(float(curve["day"].min()), float(curve["day"].max()))
            ax.set_xlabel(_days_label(start_date))
            ax.set_ylabel("P(it has happened by that day)")
            row = comparison[comparison["outcome"] == shown]
            deadline = _deadline(shown)
            if deadline is not None:
                ax.axvline(deadline, color="0.3", linestyle=":", linewidth=1.8)
                ax.annotate(
                    f" day {deadline}",
                    (deadline, 0.98),
                    xycoords=("data", "axes fraction"),
                    va="top",
                    fontsize=12,
                    color="0.3",
                )
            lines = [
                f"{labels[s]}: {d * 100:+.1f} points ({lo * 100:+.1f} to {hi * 100:+.1f})"
                for s, d, lo, hi in zip(
                    row["scenario"], row["difference"], row["ci_low"], row["ci_high"], strict=True
                )
            ]
            by = f"by day {deadline}" if deadline is not None else "overall"
            ax.set_title(
                _wrap(
                    f"{_by_that_day(str(row['label'].iloc[0]))}: the largest difference "
                    "among outcomes found in every scenario",
                    50,
                )
                + "\n"
                + _wrap(f"{by.capitalize()}, against {labels[reference]} (95% CI):", 50)
                + "\n"
                + "\n".join(lines),
                fontsize=13,
                loc="left",
            )
        handles: list[Any] = [
            Line2D(
                [],
                [],
                color=OKABE_ITO[colour_of[s] % len(OKABE_ITO)],
                linestyle=_style(colour_of[s]),
                marker=MARKERS[colour_of[s] % len(MARKERS)] if s != reference else None,
                linewidth=2.5,
                markersize=8,
                label=labels[s] + (" (reference)" if s == reference else ""),
            )
            for s in scenarios
        ]
        handles.append(
            Line2D(
                [],
                [],
                color=GREY,
                marker="o",
                markerfacecolor="white",
                linewidth=2.2,
                markersize=8,
                label="grey, hollow: no detectable difference (the 95% CI includes 0)",
            )
        )
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(len(handles), 4),
            title="Scenario (shaded: 95% confidence band)" if right else "Scenario",
        )
        how = "run for run (paired, same seeds)" if paired else "as independent samples"
        fig.suptitle(f"What changes between the scenarios? Compared {how}", fontsize=20)
    return fit_text(fig)


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
            [
                "armed groups",
                *(f"{r}: {drawn_name(rung)}" for r, rung in enumerate(rung_names)),
                "mediation",
            ],
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
        fig.suptitle(f"{drawn_name(story.scenario)}: one run{seed}, day by day", fontsize=18)
        fig.tight_layout()
        _label_events(ax, events)
    return fit_text(fig)


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


def story_figure(model: EscalationModel, seed: int | None = None) -> Figure:
    """One run as a timeline for a slide: ``story_timeline`` of ``sim.analysis.story.story_tables``.

    The story module is imported here, not with this one, so that redrawing saved tables never
    loads the model.
    """
    from sim.analysis.story import story_tables

    return story_timeline(story_tables(model, seed))


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
    return fit_text(fig)


def uncertainty_figure(per_set: pd.DataFrame, split: pd.DataFrame, scenario: str) -> Figure:
    """Chance and parameter uncertainty apart: each parameter set's estimate of each outcome
    (dots, with their 95% CIs, sorted) beside the ensemble's, and the share of the spread
    between runs that the parameters explain (``analysis.uncertainty_split``)."""
    outcomes = list(dict.fromkeys(split["outcome"]))
    rows, columns = _grid(len(outcomes))
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SLIDE)
        axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
        for ax, name in zip(axes, outcomes, strict=False):
            sets = per_set[per_set["outcome"] == name].sort_values("estimate")
            row = split[split["outcome"] == name].iloc[0]
            x = np.arange(len(sets))
            ax.errorbar(
                x,
                sets["estimate"],
                yerr=[sets["estimate"] - sets["low"], sets["high"] - sets["estimate"]],
                fmt="o",
                color=OKABE_ITO[0],
                ecolor=GREY,
                markersize=5,
                label="one parameter set (95% CI)",
            )
            ax.axhline(row["estimate"], color=OKABE_ITO[1], label="all runs")
            percent_axis(ax, probability_top(float(sets["high"].max())))
            ax.set_xticks([])
            ax.set_xlabel("parameter sets, by their estimate")
            ax.set_title(
                f"{_wrap(short_outcome(str(row['label'])), 38)}\n"
                f"parameters explain {row['parameter_share']:.0%} of the spread",
                fontsize=13,
            )
        for ax in axes[len(outcomes) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)
        fig.suptitle(f"{scenario}: chance and parameter uncertainty", fontsize=18)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fit_text(fig)
