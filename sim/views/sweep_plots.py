"""Figures for parameter sweeps, drawn only from the sweep DataFrame (never by rerunning).

Every function is pure: it takes the results table (the columns of ``sweep.csv``:
``point``, one column per parameter path, ``<outcome>``, ``<outcome>_low``,
``<outcome>_high`` per outcome, ``runs``, ``error``) or an indices table from
:func:`sim.experiments.sweep.analyze_sweep`, and returns a ``matplotlib.figure.Figure``
built without pyplot — no global figure state, works with the Agg backend on
machines with no display, needs no closing.

Style follows :mod:`sim.views.plotting`: 16:9 slides, legends outside the axes, Okabe–Ito colours
(safe for the common forms of colour blindness), lines that also differ in style and marker
(survive a black-and-white printer), projector-size fonts, cividis for heatmaps, probabilities
in per cent on an axis of their own (never on one axis with days).

Labels are for people: :func:`parameter_label` turns ``actors.pakistan.audience_cost`` into
"Pakistan: audience cost" (with the scenario's display names), and outcomes are named by the
catalogue of :mod:`sim.analysis.outcomes`. :func:`draw_sweep` reads both from the sweep folder's
``metadata.json``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from sim.experiments import sensitivity
from sim.files.folders import write_figure
from sim.views.plotting import (
    LINE_STYLES,
    MARKERS,
    OKABE_ITO,
    PERCENT,
    SLIDE,
    STYLE,
    fit_text,
    percent_axis,
    probability_top,
    short_outcome,
    wrapped,
)

_STYLE: dict[Any, Any] = dict(STYLE)

__all__ = [
    "draw_sweep",
    "heatmap",
    "morris_chart",
    "outcome_kinds",
    "outcome_labels",
    "parameter_label",
    "parameter_labels",
    "response_curve",
    "save_figure",
    "scatter_panels",
    "sobol_chart",
    "split_columns",
    "tornado_chart",
]

_META_COLUMNS = ("point", "runs", "error")
WARNING_COLOUR = "#A04000"
"""Text of a warning on a chart: a dark vermillion, readable on white."""


# --------------------------------------------------------------------------- #
# Columns, labels and kinds
# --------------------------------------------------------------------------- #


def split_columns(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(parameter columns, outcome names) of a sweep table, in column order.

    An outcome is a column ``X`` with ``X_low`` and ``X_high`` beside it.
    """
    cols = list(df.columns)
    outcomes = [c for c in cols if f"{c}_low" in cols and f"{c}_high" in cols]
    derived = {f"{o}{s}" for o in outcomes for s in ("", "_low", "_high")}
    params = [c for c in cols if c not in derived and c not in _META_COLUMNS]
    return params, outcomes


_RELATION_WORDS = {"leverage": "over", "alignment": "with"}


def _words(key: str) -> str:
    return key.replace("_", " ")


def parameter_label(path: str, scenario: Mapping[str, Any] | None = None) -> str:
    """A scenario key path in words: "Owner: what", with the scenario's display names.

    ``actors.pakistan.audience_cost`` -> "Pakistan: audience cost";
    ``third_parties.china.leverage.pakistan`` -> "China: leverage over Pakistan";
    ``decision.rationality`` -> "Decision: rationality". Without a scenario, ids are
    capitalised.
    """
    scenario = scenario or {}
    tokens = path.split(".")
    actors = scenario.get("actors") or {}
    states = {
        str(k): str(v.get("name") or k).strip()
        for k, v in (actors.items() if isinstance(actors, Mapping) else [])
        if isinstance(v, Mapping)
    }

    def name_of(key: str) -> str:
        return states.get(key) or key.replace("_", " ").title()

    owner: str
    rest: list[str]
    block = scenario.get(tokens[0])
    if (
        len(tokens) >= 2
        and isinstance(block, Mapping)
        and isinstance(block.get(tokens[1]), Mapping)
    ):
        owner = str(block[tokens[1]].get("name") or name_of(tokens[1]))
        rest = tokens[2:]
    elif (
        len(tokens) >= 2 and isinstance(block, list) and tokens[1].isascii() and tokens[1].isdigit()
    ):
        item = block[int(tokens[1])] if int(tokens[1]) < len(block) else {}
        between = item.get("between") if isinstance(item, Mapping) else None
        owner = (
            "–".join(name_of(str(s)) for s in between)
            if between
            else f"{_words(tokens[0]).capitalize()} {tokens[1]}"
        )
        rest = tokens[2:]
    elif len(tokens) >= 2 and tokens[0] in ("actors", "armed_groups", "third_parties", "mediators"):
        owner, rest = name_of(tokens[1]), tokens[2:]
    elif len(tokens) >= 2:
        owner, rest = _words(tokens[0]).capitalize(), tokens[1:]
    else:
        return _words(tokens[0]).capitalize()
    words: list[str] = []
    for i, token in enumerate(rest):
        after = rest[i - 1] if i else ""
        if token in states or after in _RELATION_WORDS:
            joint = _RELATION_WORDS.get(after)
            words.append(f"{joint} {name_of(token)}" if joint else f"({name_of(token)})")
        else:
            words.append(_words(token))
    return f"{owner}: {' '.join(words)}" if words else owner


def parameter_labels(
    paths: Sequence[str], scenario: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """:func:`parameter_label` of each path."""
    return {path: parameter_label(path, scenario) for path in paths}


def _catalogue(name: str, scenario: Mapping[str, Any] | None) -> Any:
    from sim.analysis import outcomes as catalogue

    scenario = scenario or {}
    actors = scenario.get("actors") or {}
    states = [str(s) for s in actors] if isinstance(actors, Mapping) else []
    names = {str(s): str(a.get("name") or s) for s, a in actors.items()} if states else {}
    rungs = ((scenario.get("ladder") or {}).get("rungs")) or []
    horizon = int(scenario.get("horizon") or 10**6)
    war = len(rungs) - 1 if rungs else 10**6
    state = name.rsplit("_", 1)[-1]
    try:
        return catalogue.outcome(name, horizon, war, states or [state], names)
    except ValueError:
        return None


def outcome_labels(
    outcomes: Sequence[str], scenario: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Each outcome's label from the catalogue (:mod:`sim.analysis.outcomes`), else its name in words."""
    labels = {}
    for name in outcomes:
        found = _catalogue(name, scenario)
        labels[name] = found.label if found is not None else _words(name)
    return labels


def outcome_kinds(
    df: pd.DataFrame, outcomes: Sequence[str], scenario: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """'probability' or 'days' for each outcome: the catalogue's kind, else 'probability' when
    every estimate and bound lies in [0, 1] (and 'value' otherwise)."""
    kinds = {}
    for name in outcomes:
        found = _catalogue(name, scenario)
        if found is not None:
            kinds[name] = str(found.kind)
        else:
            kinds[name] = "probability" if _is_probability(df, [name]) else "value"
    return kinds


def _label(name: str, labels: Mapping[str, str] | None, units: Mapping[str, str] | None) -> str:
    text = (labels or {}).get(name)
    if text is None:
        text = parameter_label(name) if "." in name else outcome_labels([name])[name]
    unit = (units or {}).get(name)
    return f"{text} [{unit}]" if unit else text


def _is_probability(df: pd.DataFrame, outcomes: Sequence[str]) -> bool:
    vals = pd.concat([df[c] for o in outcomes for c in (o, f"{o}_low", f"{o}_high")])
    vals = pd.to_numeric(vals, errors="coerce").dropna()
    return bool(len(vals)) and bool(((vals >= 0) & (vals <= 1)).all())


def _kinds(
    df: pd.DataFrame, outcomes: Sequence[str], kinds: Mapping[str, str] | None
) -> dict[str, str]:
    found = outcome_kinds(df, [o for o in outcomes if o not in (kinds or {})])
    return {o: (kinds or {}).get(o) or found[o] for o in outcomes}


def _runs_note(df: pd.DataFrame) -> str:
    if "runs" not in df:
        return ""
    runs = pd.to_numeric(df["runs"], errors="coerce").dropna()
    if runs.empty:
        return ""
    lo, hi = int(runs.min()), int(runs.max())
    if lo == hi:
        return f"{lo:,} run per point" if lo == 1 else f"{lo:,} runs per point"
    return f"{lo:,}–{hi:,} runs per point"


def _is_numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s)) and not pd.api.types.is_bool_dtype(s)


def _varying(df: pd.DataFrame, params: Sequence[str], keep: Sequence[str]) -> list[str]:
    return [p for p in params if p not in keep and df[p].nunique(dropna=False) > 1]


def _fmt_level(v: object) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).replace("_", " ")


def _value(v: float, kind: str) -> str:
    if not math.isfinite(v):
        return "never" if v > 0 else "–"
    if kind == "probability":
        return f"{v * 100:.2g}%" if v < 0.0995 else f"{v * 100:.0f}%"
    return f"{v:.3g}"


def _is_constant(values: pd.Series) -> bool:
    """One value at every point that has one ("never", stored as infinity, included)."""
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return len(numbers) > 0 and numbers.nunique() == 1


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 200) -> Path:
    """Save atomically; format from the suffix (PNG: 200 dpi)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_figure(fig, path, dpi=dpi)


def _legend(fig: Figure, handles: Sequence[Any], title: str) -> None:
    if handles:
        fig.legend(
            handles=list(handles),
            loc="outside lower center",
            ncols=min(len(handles), 3),
            title=title,
        )


def _note_lines(warnings: Sequence[str], width: int = 130) -> list[str]:
    import textwrap

    lines: list[str] = []
    for warning in warnings:
        lines += textwrap.wrap("Warning: " + warning.replace("+-", "±"), width)
    return lines


def _note_height(warnings: Sequence[str]) -> float:
    """Height of the warnings' row, as a share of the chart's."""
    return 0.02 + 0.035 * len(_note_lines(warnings))


def _note_axes(fig: Figure, where: Any, warnings: Sequence[str]) -> Axes:
    """An axes without frame for warnings under a chart, in a row the layout reserves."""
    ax = fig.add_subplot(where)
    ax.set_axis_off()
    ax.text(
        0,
        1,
        "\n".join(_note_lines(warnings)),
        va="top",
        ha="left",
        fontsize=12,
        color=WARNING_COLOUR,
        transform=ax.transAxes,
    )
    return ax


# --------------------------------------------------------------------------- #
# 1-D response curves
# --------------------------------------------------------------------------- #


def _finite(a: pd.Series) -> np.ndarray:
    values = pd.to_numeric(a, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def _curve(
    ax: Axes,
    x: pd.Series,
    est: pd.Series,
    lo: pd.Series,
    hi: pd.Series,
    i: int,
    label: str,
    *,
    levels: Sequence[object] = (),
    n_series: int = 1,
) -> Any:
    colour = OKABE_ITO[i % len(OKABE_ITO)]
    e, low, high = _finite(est), _finite(lo), _finite(hi)
    if _is_numeric(x):
        order = np.argsort(x.to_numpy(dtype=float), kind="stable")
        xs = x.to_numpy(dtype=float)[order]
        ax.fill_between(xs, low[order], high[order], color=colour, alpha=0.2, linewidth=0)
        (line,) = ax.plot(
            xs,
            e[order],
            color=colour,
            linestyle=LINE_STYLES[i % len(LINE_STYLES)],
            marker=MARKERS[i % len(MARKERS)],
            linewidth=2.5,
            markersize=7,
            label=label,
        )
        return line
    # Categorical levels: points with CI whiskers, dodged so series do not overlap.
    levels = list(levels) or list(dict.fromkeys(x))
    width = min(0.6, 0.15 * n_series)
    shift = (i + 0.5) * width / n_series - width / 2 if n_series > 1 else 0.0
    pos = np.array([levels.index(v) for v in x], dtype=float) + shift
    container = ax.errorbar(
        pos,
        e,
        yerr=np.vstack([e - low, high - e]),
        color=colour,
        marker=MARKERS[i % len(MARKERS)],
        markersize=9,
        linestyle="none",
        capsize=6,
        elinewidth=2.5,
        label=label,
    )
    ax.set_xticks(range(len(levels)), [_fmt_level(v) for v in levels])
    ax.set_xlim(-0.5, len(levels) - 0.5)
    ax.grid(axis="x", visible=False)
    return container


def _value_axis(ax: Axes, df: pd.DataFrame, outcomes: Sequence[str], kind: str, label: str) -> None:
    highs = pd.concat([pd.Series(_finite(df[f"{o}_high"])) for o in outcomes]).dropna()
    top = float(highs.max()) if len(highs) else 0.0
    if kind == "probability":
        percent_axis(ax, probability_top(top))
    else:
        top = max(top * 1.12, 1.0)
        ax.set_ylim(-0.015 * top, top)
    ax.set_ylabel(label)


def _beyond(ax: Axes, x: float, colour: str, text: str) -> None:
    """Mark an estimate past the end of the scale (a median day that never came)."""
    ax.annotate(
        text,
        (x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(0, -70),
        textcoords="offset points",
        ha="center",
        va="top",
        fontsize=12,
        color=colour,
        arrowprops={"arrowstyle": "-|>", "color": colour},
    )


def response_curve(
    df: pd.DataFrame,
    parameter: str,
    outcomes: Sequence[str] | None = None,
    *,
    hue: str | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    title: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Figure:
    """Outcome estimate vs one parameter, with its CI as a band (points + whiskers if categorical).

    One panel per outcome, each with its own y-range: probabilities in per cent, days in days,
    never on one axis (``kinds``, else the catalogue's kinds). Every other parameter must be
    constant in ``df`` (filter it first), except ``hue``: one curve per level of ``hue``, for a
    single outcome. A median day past the horizon (``inf``) is marked at the top of its panel.
    """
    params, all_outcomes = split_columns(df)
    if parameter not in params:
        raise ValueError(f"{parameter!r} is not a parameter column (have: {', '.join(params)})")
    outcomes = list(outcomes or all_outcomes)
    missing = [o for o in outcomes if o not in all_outcomes]
    if missing or not outcomes:
        raise ValueError(
            f"unknown outcome {missing[:1] or outcomes}; have: {', '.join(all_outcomes)}"
        )
    keep = [parameter] + ([hue] if hue else [])
    others = _varying(df, params, keep)
    if others:
        raise ValueError(
            f"parameters {', '.join(others)} also vary; filter the table to one level of each, "
            "or pass hue= for one of them"
        )
    if hue is not None:
        if hue not in params:
            raise ValueError(f"hue {hue!r} is not a parameter column")
        if len(outcomes) != 1:
            raise ValueError("hue= draws one curve per level of one outcome; pass a single outcome")
    kind_of = _kinds(df, outcomes, kinds)
    numeric = _is_numeric(df[parameter])
    x_levels = [] if numeric else list(dict.fromkeys(df[parameter]))
    ci = "shaded: 95% CI" if numeric else "whiskers: 95% CI"
    rows, columns = (1, len(outcomes)) if len(outcomes) <= 3 else (-(-len(outcomes) // 3), 3)
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=SLIDE, layout="constrained")
        axes = list(fig.subplots(rows, columns, squeeze=False).ravel())
        handles: list[Any] = []
        for k, (ax, o) in enumerate(zip(axes, outcomes, strict=False)):
            kind = kind_of[o]
            series = (
                [(df, _label(o, labels, None))]
                if hue is None
                else [(df[df[hue] == level], _fmt_level(level)) for level in dict.fromkeys(df[hue])]
            )
            for i, (part, name) in enumerate(series):
                index = k if hue is None else i
                handle = _curve(
                    ax,
                    part[parameter],
                    part[o],
                    part[f"{o}_low"],
                    part[f"{o}_high"],
                    index,
                    name,
                    levels=x_levels,
                    n_series=len(series),
                )
                if hue is not None:
                    handles.append(handle)
                values = pd.to_numeric(part[o], errors="coerce").to_numpy(dtype=float)
                xs = part[parameter].tolist()
                for x, v in zip(xs, values, strict=True):
                    if np.isinf(v) and v > 0:
                        where = float(x) if numeric else float(x_levels.index(x))
                        colour = OKABE_ITO[index % len(OKABE_ITO)]
                        _beyond(ax, where, colour, "median past\nthe horizon")
            unit = "Probability" if kind == "probability" else "Median" if kind == "days" else ""
            _value_axis(ax, df, [o], kind, unit or _label(o, labels, None))
            if kind == "days":
                ax.set_ylabel("Days (median)")
            ax.set_xlabel(_label(parameter, labels, units))
            if len(outcomes) > 1:
                ax.set_title("\n".join(_wrap_words(short_outcome(_label(o, labels, None)), 40)))
        for ax in axes[len(outcomes) :]:
            ax.set_visible(False)
        if hue is not None:
            _legend(fig, handles, f"{_label(hue, labels, units)} ({ci})")
        note = _runs_note(df)
        what = _label(outcomes[0], labels, None) if len(outcomes) == 1 else "Outcomes"
        subtitle = "; ".join(part for part in (note, ci if hue is None else "") if part)
        fig.suptitle(
            title
            or f"{what} vs {_label(parameter, labels, None)}"
            + (f"\n({subtitle})" if subtitle else ""),
            fontsize=18,
        )
    return fit_text(fig)


def _wrap_words(text: str, width: int) -> list[str]:
    return wrapped(text, width)


# --------------------------------------------------------------------------- #
# 2-D heatmap
# --------------------------------------------------------------------------- #


def _fits(texts: Sequence[Text], renderer: Any, width: float, height: float) -> bool:
    for text in texts:
        box = text.get_window_extent(renderer)
        if box.width > 0.94 * width or box.height > 0.9 * height:
            return False
    return True


def heatmap(
    df: pd.DataFrame,
    x: str,
    y: str,
    outcome: str,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    annotate: bool | None = None,
    title: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Figure:
    """Outcome estimate over a grid of two parameters (cividis), each cell annotated with its
    estimate and, where it fits, its 95% CI.

    An outcome that is the same at every point is drawn in grey without a colour scale, each
    cell showing its CI, and the title says so: the parameters do not move it.
    """
    params, outcomes = split_columns(df)
    for p in (x, y):
        if p not in params:
            raise ValueError(f"{p!r} is not a parameter column (have: {', '.join(params)})")
    if outcome not in outcomes:
        raise ValueError(f"unknown outcome {outcome!r}; have: {', '.join(outcomes)}")
    others = _varying(df, params, [x, y])
    if others:
        raise ValueError(
            f"parameters {', '.join(others)} also vary; filter the table to one level of each"
        )
    if df.duplicated([x, y]).any():
        raise ValueError(f"several rows share a ({x}, {y}) cell; a heatmap needs a grid design")
    kind = _kinds(df, [outcome], kinds)[outcome]
    xs = sorted(df[x].unique()) if _is_numeric(df[x]) else list(dict.fromkeys(df[x]))
    ys = sorted(df[y].unique()) if _is_numeric(df[y]) else list(dict.fromkeys(df[y]))

    def grid(column: str) -> np.ndarray:
        table = df.pivot(index=y, columns=x, values=column).reindex(index=ys, columns=xs)
        return table.to_numpy(dtype=float)

    values, lows, highs = grid(outcome), grid(f"{outcome}_low"), grid(f"{outcome}_high")
    constant = _is_constant(df[outcome])
    if annotate is None:
        annotate = len(xs) <= 15 and len(ys) <= 15
    name = _label(outcome, labels, None)
    median = " (median)" if kind == "days" else ""
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=SLIDE, layout="constrained")
        ax = fig.add_subplot()
        finite = np.ma.masked_invalid(values)
        if constant:
            cmap = ListedColormap(["#e6e6e6"]).with_extremes(bad="#ffffff")
            im = ax.imshow(finite, origin="lower", aspect="auto", cmap=cmap)
        else:
            cmap = mpl.colormaps["cividis"].with_extremes(bad="#ffffff")
            im = ax.imshow(finite, origin="lower", aspect="auto", cmap=cmap)
        ax.set_xticks(
            range(len(xs)), [_fmt_level(v) for v in xs], rotation=45 if len(xs) > 8 else 0
        )
        ax.set_yticks(range(len(ys)), [_fmt_level(v) for v in ys])
        ax.grid(False)
        estimates: list[Text] = []
        intervals: list[Text] = []
        if annotate:
            vmin, vmax = (float(c) for c in im.get_clim())
            for (r, c), v in np.ndenumerate(values):
                if np.isnan(v):  # a point that failed ("never" is infinity, shown as such)
                    ax.text(c, r, "failed", ha="center", va="center", fontsize=11, color="black")
                    continue
                frac = (v - vmin) / (vmax - vmin) if vmax > vmin else 1.0
                colour = "white" if frac < 0.55 and not constant else "black"
                estimate = ax.text(
                    c, r, _value(v, kind), ha="center", va="bottom", fontsize=14, color=colour
                )
                interval = ax.text(
                    c,
                    r,
                    ""
                    if np.isinf(lows[r, c]) and np.isinf(highs[r, c])  # never, for sure
                    else f"\n{_value(float(lows[r, c]), kind)}–{_value(float(highs[r, c]), kind)}",
                    ha="center",
                    va="center",
                    fontsize=11,
                    color=colour,
                    linespacing=1.6,
                )
                estimates.append(estimate)
                intervals.append(interval)
            for text in estimates + intervals:
                text.set_in_layout(False)
        if not constant:
            cbar = fig.colorbar(im, ax=ax)
            cbar.set_label("Probability" if kind == "probability" else name + median)
            if kind == "probability":
                cbar.ax.yaxis.set_major_formatter(PERCENT)
        ax.set_xlabel(_label(x, labels, units))
        ax.set_ylabel(_label(y, labels, units))
        note = _runs_note(df)
        shown = "estimate"
        if annotate and estimates:
            renderer = FigureCanvasAgg(fig).get_renderer()
            fig.draw_without_rendering()
            box = ax.get_window_extent(renderer)
            cell_w, cell_h = box.width / len(xs), box.height / len(ys)
            if any(text.get_text() for text in intervals) and _fits(
                intervals, renderer, cell_w, cell_h
            ):
                shown = "estimate and 95% CI"
                for text in estimates:
                    text.set_verticalalignment("bottom")
            else:
                for text in intervals:
                    text.remove()
                for text in estimates:
                    text.set_verticalalignment("center")
                if not _fits(estimates, renderer, cell_w, cell_h):
                    for text in estimates:
                        text.remove()
                    shown = ""
        if constant:
            value = float(pd.to_numeric(df[outcome], errors="coerce").dropna().iloc[0])
            heading = (
                f"{name}{median}: {_value(value, kind)} at every point; these parameters do not "
                "move it"
            )
        else:
            heading = name + median
        cells = f"cells: {shown}" if shown else ""
        if cells and constant and "CI" in shown:
            cells += ", how far it could be from that"
        extra = "; ".join(part for part in (note, cells) if part)
        ax.set_title(
            title or "\n".join(_wrap_words(heading, 80)) + (f"\n({extra})" if extra else "")
        )
    return fit_text(fig)


# --------------------------------------------------------------------------- #
# Sensitivity charts
# --------------------------------------------------------------------------- #


def sobol_chart(
    indices: pd.DataFrame,
    outcome: str,
    *,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    warnings: Sequence[str] | None = None,
) -> Figure:
    """First-order (S1) and total (ST) Sobol' indices with CI error bars, most influential on top.

    ``indices``: the table of :func:`sim.experiments.sensitivity.sobol_indices` (index =
    parameter; columns S1, S1_conf, ST, ST_conf). ``warnings`` (default: those of
    :func:`sim.experiments.sensitivity.sobol_warnings`, without a remedy) are printed under the chart.
    """
    need = {"S1", "S1_conf", "ST", "ST_conf"}
    if not need <= set(indices.columns):
        raise ValueError(f"not a Sobol indices table: needs columns {sorted(need)}")
    if warnings is None:
        named = indices.rename(index=lambda path: _label(str(path), labels, None))
        warnings = sensitivity.sobol_warnings(named, outcome=_label(outcome, labels, None))
    t = indices.sort_values("ST", ascending=True)
    n = len(t)
    pos = np.arange(n)
    h = 0.38
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=SLIDE, layout="constrained")
        rows = [1.0, _note_height(warnings)] if warnings else [1.0]
        spec = fig.add_gridspec(len(rows), 1, height_ratios=rows)
        ax = fig.add_subplot(spec[0])
        values = t[["S1", "ST", "S1_conf", "ST_conf"]].fillna(0.0)
        ax.barh(
            pos + h / 2,
            values["ST"],
            h,
            xerr=values["ST_conf"],
            color=OKABE_ITO[1],
            hatch="//",
            edgecolor="black",
            linewidth=0.8,
            capsize=5,
            label="ST: total (alone and with others)",
        )
        ax.barh(
            pos - h / 2,
            values["S1"],
            h,
            xerr=values["S1_conf"],
            color=OKABE_ITO[0],
            edgecolor="black",
            linewidth=0.8,
            capsize=5,
            label="S1: first order (alone)",
        )
        ax.set_yticks(pos, [_label(str(p), labels, None) for p in t.index])
        ax.axvline(0, color="black", linewidth=1)
        ends = values[["S1", "ST"]].to_numpy()
        conf = values[["S1_conf", "ST_conf"]].to_numpy()
        lo = min(0.0, float((ends - conf).min()))
        hi = max(1.0, float((ends + conf).max()))
        ax.set_xlim(lo - 0.02, hi + 0.02)
        ax.axvline(1, color="0.4", linewidth=1, linestyle=":")
        ax.set_xlabel("Sobol index: share of the outcome's variance (0 to 1; bars: 95% CI)")
        ax.grid(axis="y", visible=False)
        handles, texts = ax.get_legend_handles_labels()
        fig.legend(handles[::-1], texts[::-1], loc="outside lower center", ncols=2)
        if warnings:
            _note_axes(fig, spec[1], warnings)
        fig.suptitle(
            title or f"What drives {_label(outcome, labels, None)}? Sobol indices",
            fontsize=18,
        )
    return fit_text(fig)


def morris_chart(
    indices: pd.DataFrame,
    outcome: str,
    *,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    warnings: Sequence[str] | None = None,
) -> Figure:
    """Morris screening: μ* ranking with CIs (left) and the μ*–σ plane (right).

    ``indices``: the table of :func:`sim.experiments.sensitivity.morris_indices`. Effects are
    in outcome units per full range of each parameter, so they compare
    across parameters. Points far right matter; points high above the σ = μ* line act
    non-linearly or through interactions. ``warnings`` as in :func:`sobol_chart`.
    """
    need = {"mu_star", "mu_star_conf", "sigma"}
    if not need <= set(indices.columns):
        raise ValueError(f"not a Morris indices table: needs columns {sorted(need)}")
    if warnings is None:
        named = indices.rename(index=lambda path: _label(str(path), labels, None))
        warnings = sensitivity.morris_warnings(named, outcome=_label(outcome, labels, None))
    t = indices.sort_values("mu_star", ascending=True)
    names = [_label(str(p), labels, None) for p in t.index]
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=SLIDE, layout="constrained")
        rows = [1.0, _note_height(warnings)] if warnings else [1.0]
        spec = fig.add_gridspec(len(rows), 2, height_ratios=rows, width_ratios=[1, 1.2])
        ax1, ax2 = fig.add_subplot(spec[0, 0]), fig.add_subplot(spec[0, 1])
        ax1.barh(
            range(len(t)),
            t["mu_star"],
            xerr=t["mu_star_conf"],
            color=OKABE_ITO[0],
            edgecolor="black",
            linewidth=0.8,
            capsize=5,
        )
        ax1.set_yticks(range(len(t)), names)
        ax1.set_xlabel("μ*: mean |effect| (bars: 95% CI)")
        ax1.set_title("Influence ranking")
        ax1.grid(axis="y", visible=False)
        handles: list[Any] = []
        stats = t[["mu_star", "sigma", "mu_star_conf"]].to_numpy(dtype=float)
        for i, (name, (mu_star, sigma, conf)) in enumerate(zip(names, stats, strict=True)):
            ax2.errorbar(
                mu_star,
                sigma,
                xerr=conf,
                marker=MARKERS[i % len(MARKERS)],
                color=OKABE_ITO[i % len(OKABE_ITO)],
                markersize=10,
                capsize=5,
                linestyle="none",
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=MARKERS[i % len(MARKERS)],
                    color=OKABE_ITO[i % len(OKABE_ITO)],
                    linestyle="none",
                    markersize=10,
                    label=name,
                )
            )
        top = (
            float(max(t["mu_star"].max() + t["mu_star_conf"].max(), t["sigma"].max(), 1e-12)) * 1.15
        )
        (diagonal,) = ax2.plot(
            [0, top], [0, top], color="black", linestyle="--", linewidth=1.2, label="σ = μ*"
        )
        ax2.set_xlim(-0.03 * top, top)
        ax2.set_ylim(-0.03 * top, top)
        ax2.set_xlabel("μ*: mean |effect|")
        ax2.set_ylabel("σ: spread of effects")
        ax2.set_title("Above the line: non-linear or interacting")
        fig.legend(
            handles=[*handles[::-1], diagonal],
            loc="outside lower center",
            ncols=min(len(handles) + 1, 4),
            title="Parameter",
        )
        if warnings:
            _note_axes(fig, spec[1, :], warnings)
        fig.suptitle(
            title
            or f"Morris screening of {_label(outcome, labels, None)}\n"
            "(effect: change in the outcome when one parameter moves across its whole range)",
            fontsize=18,
        )
    return fit_text(fig)


def tornado_chart(
    df: pd.DataFrame,
    outcome: str,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    bins: int = 5,
    title: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Figure:
    """Swing of the outcome's mean across each parameter's levels, widest on top.

    For each parameter the sweep rows are grouped by its level (numeric
    parameters with more than 12 distinct values are cut into ``bins``
    quantile bins) and the lowest and highest group mean are drawn as a bar
    around the overall mean. Averages over the other parameters: a screening
    view, not a causal one.
    """
    params, outcomes = split_columns(df)
    if outcome not in outcomes:
        raise ValueError(f"unknown outcome {outcome!r}; have: {', '.join(outcomes)}")
    kind = _kinds(df, [outcome], kinds)[outcome]
    ok = df[df[outcome].notna()]
    base = float(ok[outcome].mean())
    rows = []
    for p in params:
        key = ok[p]
        if _is_numeric(key) and key.nunique() > 12:
            key = pd.qcut(key, q=bins, duplicates="drop")
        means = ok.groupby(key, observed=True, sort=False)[outcome].mean()
        if len(means) < 2:
            continue
        rows.append((p, means.idxmin(), float(means.min()), means.idxmax(), float(means.max())))
    if not rows:
        raise ValueError("no parameter varies in the table")
    rows.sort(key=lambda r: r[4] - r[2])
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=SLIDE, layout="constrained")
        ax = fig.add_subplot()
        for i, (_p, lo_level, lo, hi_level, hi) in enumerate(rows):
            ax.barh(i, base - lo, left=lo, color=OKABE_ITO[0], edgecolor="black", linewidth=0.8)
            ax.barh(
                i,
                hi - base,
                left=base,
                color=OKABE_ITO[1],
                edgecolor="black",
                linewidth=0.8,
                hatch="//",
            )
            for level, at, offset, align in (
                (lo_level, lo, -6, "right"),
                (hi_level, hi, 6, "left"),
            ):
                ax.annotate(
                    _fmt_level(level),
                    (at, i),
                    xytext=(offset, 0),
                    textcoords="offset points",
                    ha=align,
                    va="center",
                    fontsize=12,
                )
        ax.axvline(base, color="black", linewidth=1.5)
        ax.set_yticks(range(len(rows)), [_label(r[0], labels, units) for r in rows])
        ax.grid(axis="y", visible=False)
        span = max(r[4] for r in rows) - min(r[2] for r in rows) or 1e-9
        ax.set_xlim(min(r[2] for r in rows) - 0.25 * span, max(r[4] for r in rows) + 0.25 * span)
        if kind == "probability":
            ax.xaxis.set_major_formatter(PERCENT)
        ax.set_xlabel(
            f"Mean {_label(outcome, labels, None)}\n(line: mean over all points, "
            f"{_value(base, kind)}; labels: the parameter's level)"
        )
        ax.set_title(title or f"Which parameters swing {_label(outcome, labels, None)} most?")
    return fit_text(fig)


def scatter_panels(
    df: pd.DataFrame,
    outcome: str,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    title: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Figure:
    """Outcome vs each parameter, one panel per parameter, with CI whiskers.

    The 1-D view for sampled designs (LHS, Sobol, Morris), where the other
    parameters vary too and a response *curve* would be misleading.
    """
    params, outcomes = split_columns(df)
    if outcome not in outcomes:
        raise ValueError(f"unknown outcome {outcome!r}; have: {', '.join(outcomes)}")
    kind = _kinds(df, [outcome], kinds)[outcome]
    params = [p for p in params if df[p].nunique() > 1] or params
    n = len(params)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=SLIDE, layout="constrained")
        axes = fig.subplots(nrow, ncol, squeeze=False, sharey=True)
        e, low, high = (
            _finite(df[outcome]),
            _finite(df[f"{outcome}_low"]),
            _finite(df[f"{outcome}_high"]),
        )
        for k, ax in enumerate(axes.flat):
            if k >= n:
                ax.set_visible(False)
                continue
            p = params[k]
            if _is_numeric(df[p]):
                x = df[p].to_numpy(float)
            else:
                levels = list(dict.fromkeys(df[p]))
                x = np.array([levels.index(v) for v in df[p]], dtype=float)
                ax.set_xticks(range(len(levels)), [_fmt_level(v) for v in levels])
            ax.errorbar(
                x,
                e,
                yerr=np.vstack([e - low, high - e]),
                marker="o",
                markersize=4,
                linestyle="none",
                color=OKABE_ITO[0],
                ecolor=OKABE_ITO[5],
                alpha=0.8,
                elinewidth=1,
            )
            ax.set_xlabel(_label(p, labels, units))
            if k % ncol == 0:
                ax.set_ylabel(
                    "Probability" if kind == "probability" else _label(outcome, labels, None)
                )
        _value_axis(axes.flat[0], df, [outcome], kind, axes.flat[0].get_ylabel())
        note = _runs_note(df)
        fig.suptitle(
            title
            or f"{_label(outcome, labels, None)} at each sampled point"
            + (f"\n({note}; whiskers: 95% CI)" if note else ""),
            fontsize=18,
        )
    return fit_text(fig)


# --------------------------------------------------------------------------- #
# Everything for a sweep folder
# --------------------------------------------------------------------------- #


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _read_definition(out: Path) -> dict[str, Any]:
    try:
        meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    definition = meta.get("definition") if isinstance(meta, dict) else None
    return definition if isinstance(definition, dict) else {}


def _index_warnings(
    design: str,
    table: pd.DataFrame,
    df: pd.DataFrame,
    outcome: str,
    labels: Mapping[str, str],
    definition: Mapping[str, Any],
) -> list[str]:
    """The warnings of a Sobol or Morris table, in the chart's words (labels, not paths)."""
    label = _label(outcome, labels, None)
    d = len(table)
    table = table.rename(index=lambda path: _label(str(path), labels, None))
    samples = definition.get("samples")
    runs = definition.get("runs")
    if runs is None and "runs" in df and len(df):
        runs = int(pd.to_numeric(df["runs"], errors="coerce").max())
    noise = sensitivity.noise_share(
        df[outcome].to_numpy(dtype=float),
        df[f"{outcome}_low"].to_numpy(dtype=float),
        df[f"{outcome}_high"].to_numpy(dtype=float),
    )
    if design == "sobol":
        per = 2 * d + 2 if definition.get("second_order") else d + 2
        if samples is None and len(df) % per == 0:
            samples = len(df) // per
        return sensitivity.sobol_warnings(
            table, outcome=label, samples=samples, points_per_sample=per, runs=runs, noise=noise
        )
    if samples is None and len(df) % (d + 1) == 0:
        samples = len(df) // (d + 1)
    return sensitivity.morris_warnings(
        table,
        outcome=label,
        trajectories=samples,
        points_per_trajectory=d + 1,
        runs=runs,
        noise=noise,
    )


def draw_sweep(
    df: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    indices: Mapping[str, pd.DataFrame] | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    dpi: int = 200,
    scenario: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write the figures that fit this sweep to ``out_dir``, each as PNG and SVG; return paths.

    One varying parameter: a response curve of all outcomes. Two, on a grid:
    a heatmap per outcome and a response curve per outcome (one line per level
    of the second). More, on a grid: a tornado chart per outcome. Sampled
    designs (rows not forming a grid): scatter panels per outcome. Plus a
    Sobol or Morris chart for each ``indices[outcome]`` table given, with the warnings of
    :func:`sim.experiments.sensitivity.sobol_warnings` / :func:`sim.experiments.sensitivity.morris_warnings` under it.

    Labels default to the scenario's words (:func:`parameter_label`, the outcome catalogue);
    ``scenario`` defaults to the one stored in ``out_dir/metadata.json`` by the sweep.
    """
    out = Path(out_dir)
    definition = _read_definition(out)
    if scenario is None:
        context = definition.get("context")
        stored = context.get("scenario") if isinstance(context, Mapping) else None
        scenario = stored if isinstance(stored, Mapping) else None
    params, outcomes = split_columns(df)
    labels = {
        **parameter_labels(params, scenario),
        **outcome_labels(outcomes, scenario),
        **(labels or {}),
    }
    kinds = outcome_kinds(df, outcomes, scenario)
    varying = [p for p in params if df[p].nunique(dropna=False) > 1]
    is_grid = (
        bool(varying)
        and not df.duplicated(varying).any()
        and (int(np.prod([df[p].nunique() for p in varying])) == len(df))
    )
    written: list[Path] = []

    def save(fig: Figure, name: str) -> None:
        for suffix in (".png", ".svg"):
            written.append(save_figure(fig, out / f"{name}{suffix}", dpi=dpi))

    if len(varying) == 1 and is_grid:
        save(
            response_curve(df, varying[0], outcomes, labels=labels, units=units, kinds=kinds),
            f"response_{_slug(varying[0])}",
        )
    elif len(varying) == 2 and is_grid:
        x, y = varying
        if not _is_numeric(df[x]) and _is_numeric(df[y]):
            x, y = y, x  # a numeric x reads better as a curve
        for o in outcomes:
            save(
                heatmap(df, x, y, o, labels=labels, units=units, kinds=kinds),
                f"heatmap_{_slug(o)}",
            )
            save(
                response_curve(df, x, [o], hue=y, labels=labels, units=units, kinds=kinds),
                f"response_{_slug(o)}_{_slug(x)}",
            )
    elif len(varying) > 2 and is_grid:
        for o in outcomes:
            save(
                tornado_chart(df, o, labels=labels, units=units, kinds=kinds), f"tornado_{_slug(o)}"
            )
    elif varying:
        for o in outcomes:
            save(
                scatter_panels(df, o, labels=labels, units=units, kinds=kinds),
                f"scatter_{_slug(o)}",
            )
    for o, table in (indices or {}).items():
        design = (
            "sobol" if "ST" in table.columns else "morris" if "mu_star" in table.columns else ""
        )
        if not design:
            continue
        warnings = (
            _index_warnings(design, table, df, o, labels, definition) if o in outcomes else None
        )
        chart = sobol_chart if design == "sobol" else morris_chart
        save(chart(table, o, labels=labels, warnings=warnings), f"{design}_{_slug(o)}")
    return written
