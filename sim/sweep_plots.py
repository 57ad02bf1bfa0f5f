"""Figures for parameter sweeps, drawn only from the sweep DataFrame (never by rerunning).

Every function is pure: it takes the results table (the columns of ``sweep.csv``:
``point``, one column per parameter path, ``<outcome>``, ``<outcome>_low``,
``<outcome>_high`` per outcome, ``runs``, ``error``) or an indices table from
:func:`sim.sweep.analyze_sweep`, and returns a ``matplotlib.figure.Figure``
built without pyplot — no global figure state, works with the Agg backend on
machines with no display, needs no closing.

Style follows :mod:`sim.plotting`: Okabe–Ito colours (safe for the common forms
of colour blindness), lines that also differ in style and marker (survive a
black-and-white printer), projector-size fonts, cividis for heatmaps.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.plotting import LINE_STYLES, OKABE_ITO, STYLE
from sim.results import write_figure

# Typed as rc_context expects (sim.plotting.STYLE infers dict[str, float]).
_STYLE: dict[Any, Any] = dict(STYLE)

__all__ = [
    "draw_sweep",
    "heatmap",
    "morris_chart",
    "response_curve",
    "save_figure",
    "scatter_panels",
    "sobol_chart",
    "split_columns",
    "tornado_chart",
]

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
_META_COLUMNS = ("point", "runs", "error")


# --------------------------------------------------------------------------- #
# Helpers
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


def _label(name: str, labels: Mapping[str, str] | None, units: Mapping[str, str] | None) -> str:
    text = (labels or {}).get(name, name)
    unit = (units or {}).get(name)
    return f"{text} [{unit}]" if unit else text


def _is_probability(df: pd.DataFrame, outcomes: Sequence[str]) -> bool:
    vals = pd.concat([df[c] for o in outcomes for c in (o, f"{o}_low", f"{o}_high")])
    vals = pd.to_numeric(vals, errors="coerce").dropna()
    return bool(len(vals)) and bool(((vals >= 0) & (vals <= 1)).all())


def _value_axis(outcomes: Sequence[str], prob: bool, labels: Mapping[str, str] | None) -> str:
    if prob:
        return "Probability (0–1)"
    return _label(outcomes[0], labels, None) if len(outcomes) == 1 else "Outcome value"


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
    return str(v)


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 200) -> Path:
    """Save atomically; format from the suffix (PNG: 200 dpi)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_figure(fig, path, dpi=dpi)


# --------------------------------------------------------------------------- #
# 1-D response curves
# --------------------------------------------------------------------------- #


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
) -> None:
    colour = OKABE_ITO[i % len(OKABE_ITO)]
    if _is_numeric(x):
        order = np.argsort(x.to_numpy(dtype=float), kind="stable")
        xs = x.to_numpy(dtype=float)[order]
        ax.fill_between(
            xs,
            lo.to_numpy(float)[order],
            hi.to_numpy(float)[order],
            color=colour,
            alpha=0.2,
            linewidth=0,
        )
        ax.plot(
            xs,
            est.to_numpy(float)[order],
            color=colour,
            linestyle=LINE_STYLES[i % len(LINE_STYLES)],
            marker=MARKERS[i % len(MARKERS)],
            linewidth=2.5,
            markersize=7,
            label=label,
        )
    else:
        # Categorical levels: points with CI whiskers, dodged so outcomes do not overlap.
        levels = list(levels) or list(dict.fromkeys(x))
        width = min(0.6, 0.15 * n_series)
        shift = (i + 0.5) * width / n_series - width / 2 if n_series > 1 else 0.0
        pos = np.array([levels.index(v) for v in x], dtype=float) + shift
        e = est.to_numpy(float)
        yerr = np.vstack([e - lo.to_numpy(float), hi.to_numpy(float) - e])
        ax.errorbar(
            pos,
            e,
            yerr=yerr,
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


def response_curve(
    df: pd.DataFrame,
    parameter: str,
    outcomes: Sequence[str] | None = None,
    *,
    hue: str | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Outcome estimate vs one parameter, with its CI as a band (points + whiskers if categorical).

    Every other parameter must be constant in ``df`` (filter it first), except
    ``hue``: one curve per level of ``hue``, for a single outcome.
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
    prob = _is_probability(df, outcomes)
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(10, 6.5))
        ax = fig.add_subplot()
        numeric = _is_numeric(df[parameter])
        x_levels = [] if numeric else list(dict.fromkeys(df[parameter]))
        ci = "band: CI" if numeric else "whiskers: CI"
        if hue is None:
            for i, o in enumerate(outcomes):
                _curve(
                    ax,
                    df[parameter],
                    df[o],
                    df[f"{o}_low"],
                    df[f"{o}_high"],
                    i,
                    _label(o, labels, None),
                    levels=x_levels,
                    n_series=len(outcomes),
                )
            legend_title = f"Outcome ({ci})"
        else:
            o = outcomes[0]
            hue_levels = list(dict.fromkeys(df[hue]))
            for i, level in enumerate(hue_levels):
                part = df[df[hue] == level]
                _curve(
                    ax,
                    part[parameter],
                    part[o],
                    part[f"{o}_low"],
                    part[f"{o}_high"],
                    i,
                    _fmt_level(level),
                    levels=x_levels,
                    n_series=len(hue_levels),
                )
            legend_title = f"{_label(hue, labels, units)} ({ci})"
        ax.set_xlabel(_label(parameter, labels, units))
        ax.set_ylabel(_value_axis(outcomes, prob, labels))
        if prob:
            ax.set_ylim(0, 1)
        ax.legend(title=legend_title, loc="best")
        note = _runs_note(df)
        what = _label(outcomes[0], labels, None) if len(outcomes) == 1 else "Outcomes"
        ax.set_title(
            title
            or f"{what} vs {_label(parameter, labels, None)}" + (f"\n({note})" if note else "")
        )
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- #
# 2-D heatmap
# --------------------------------------------------------------------------- #


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
) -> Figure:
    """Outcome estimate over a grid of two parameters (cividis; cells annotated when few)."""
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
    xs = sorted(df[x].unique()) if _is_numeric(df[x]) else list(dict.fromkeys(df[x]))
    ys = sorted(df[y].unique()) if _is_numeric(df[y]) else list(dict.fromkeys(df[y]))
    grid = df.pivot(index=y, columns=x, values=outcome).reindex(index=ys, columns=xs)
    values = grid.to_numpy(dtype=float)
    prob = _is_probability(df, [outcome])
    if annotate is None:
        annotate = len(xs) <= 15 and len(ys) <= 15
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(max(8.0, 0.75 * len(xs) + 4), max(6.0, 0.55 * len(ys) + 3)))
        ax = fig.add_subplot()
        cmap = mpl.colormaps["cividis"].with_extremes(bad="#dddddd")
        im = ax.imshow(
            np.ma.masked_invalid(values),
            origin="lower",
            aspect="auto",
            cmap=cmap,
            vmin=0 if prob else None,
            vmax=1 if prob else None,
        )
        ax.set_xticks(
            range(len(xs)), [_fmt_level(v) for v in xs], rotation=45 if len(xs) > 8 else 0
        )
        ax.set_yticks(range(len(ys)), [_fmt_level(v) for v in ys])
        ax.grid(False)
        if annotate:
            vmin, vmax = (float(c) for c in im.get_clim())
            for (r, c), v in np.ndenumerate(values):
                if np.isfinite(v):
                    frac = (v - vmin) / (vmax - vmin) if vmax > vmin else 0.5
                    dark = frac < 0.55  # cividis is dark at the low end
                    ax.text(
                        c,
                        r,
                        f"{v:.2f}",
                        ha="center",
                        va="center",
                        fontsize=11,
                        color="white" if dark else "black",
                    )
                else:
                    ax.text(c, r, "failed", ha="center", va="center", fontsize=9, color="black")
        cbar = fig.colorbar(im, ax=ax)
        cbar.set_label("Probability (0–1)" if prob else _label(outcome, labels, None))
        ax.set_xlabel(_label(x, labels, units))
        ax.set_ylabel(_label(y, labels, units))
        note = _runs_note(df)
        ax.set_title(title or f"{_label(outcome, labels, None)}" + (f" ({note})" if note else ""))
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- #
# Sensitivity charts
# --------------------------------------------------------------------------- #


def sobol_chart(
    indices: pd.DataFrame,
    outcome: str,
    *,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """First-order (S1) and total (ST) Sobol' indices with CI error bars, most influential on top.

    ``indices``: the table of :func:`sim.designs.sobol_indices` (index =
    parameter; columns S1, S1_conf, ST, ST_conf).
    """
    need = {"S1", "S1_conf", "ST", "ST_conf"}
    if not need <= set(indices.columns):
        raise ValueError(f"not a Sobol indices table: needs columns {sorted(need)}")
    t = indices.sort_values("ST", ascending=True)
    n = len(t)
    pos = np.arange(n)
    h = 0.38
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(10, max(4.5, 0.8 * n + 2.5)))
        ax = fig.add_subplot()
        ax.barh(
            pos + h / 2,
            t["ST"],
            h,
            xerr=t["ST_conf"],
            color=OKABE_ITO[1],
            hatch="//",
            edgecolor="black",
            linewidth=0.8,
            capsize=5,
            label="ST: total (incl. interactions)",
        )
        ax.barh(
            pos - h / 2,
            t["S1"],
            h,
            xerr=t["S1_conf"],
            color=OKABE_ITO[0],
            edgecolor="black",
            linewidth=0.8,
            capsize=5,
            label="S1: first order (alone)",
        )
        ax.set_yticks(pos, [_label(str(p), labels, None) for p in t.index])
        ax.axvline(0, color="black", linewidth=1)
        lo = min(
            0.0, float((t[["S1", "ST"]].to_numpy() - t[["S1_conf", "ST_conf"]].to_numpy()).min())
        )
        hi = max(
            1.0, float((t[["S1", "ST"]].to_numpy() + t[["S1_conf", "ST_conf"]].to_numpy()).max())
        )
        ax.set_xlim(lo - 0.02, hi + 0.02)
        ax.set_xlabel("Sobol index (share of outcome variance, 0–1; bars: CI)")
        ax.grid(axis="y", visible=False)
        handles, texts = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], texts[::-1], loc="lower right")
        ax.set_title(title or f"What drives {_label(outcome, labels, None)}? Sobol indices")
        fig.tight_layout()
    return fig


def morris_chart(
    indices: pd.DataFrame,
    outcome: str,
    *,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Morris screening: μ* ranking with CIs (left) and the μ*–σ plane (right).

    ``indices``: the table of :func:`sim.designs.morris_indices`. Effects are
    in outcome units per full range of each parameter, so they compare
    across parameters. Points far right matter; points high above the σ = μ* line act non-linearly or
    through interactions.
    """
    need = {"mu_star", "mu_star_conf", "sigma"}
    if not need <= set(indices.columns):
        raise ValueError(f"not a Morris indices table: needs columns {sorted(need)}")
    t = indices.sort_values("mu_star", ascending=True)
    names = [_label(str(p), labels, None) for p in t.index]
    # SALib scales each elementary effect to the parameter's full range (scaled=False).
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(16, max(6.0, 0.6 * len(t) + 3)))
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
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
        ax1.set_xlabel("μ*: mean |effect| (bars: CI)")
        ax1.set_title("Influence ranking")
        ax1.grid(axis="y", visible=False)
        for i, (name, row) in enumerate(zip(names, t.itertuples(), strict=True)):
            ax2.errorbar(
                row.mu_star,
                row.sigma,
                xerr=row.mu_star_conf,
                marker=MARKERS[i % len(MARKERS)],
                color=OKABE_ITO[i % len(OKABE_ITO)],
                markersize=10,
                capsize=5,
                linestyle="none",
            )
            ax2.annotate(
                name,
                (row.mu_star, row.sigma),
                textcoords="offset points",
                xytext=(8, 6),
                fontsize=12,
            )
        top = (
            float(max(t["mu_star"].max() + t["mu_star_conf"].max(), t["sigma"].max(), 1e-12)) * 1.15
        )
        ax2.plot([0, top], [0, top], color="black", linestyle="--", linewidth=1.2, label="σ = μ*")
        ax2.set_xlim(-0.03 * top, top)
        ax2.set_ylim(-0.03 * top, top)
        ax2.set_xlabel("μ*: mean |effect|")
        ax2.set_ylabel("σ: spread of effects")
        ax2.set_title("Above the line: non-linear or interacting")
        ax2.legend(loc="upper left")
        fig.suptitle(
            title
            or f"Morris screening of {_label(outcome, labels, None)}\n"
            "(effect: change in the outcome when one parameter moves across its whole range)",
            fontsize=18,
        )
        fig.tight_layout()
    return fig


def tornado_chart(
    df: pd.DataFrame,
    outcome: str,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    bins: int = 5,
    title: str | None = None,
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
    prob = _is_probability(df, [outcome])
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(11, max(4.5, 0.8 * len(rows) + 2.5)))
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
            ax.annotate(
                _fmt_level(lo_level),
                (lo, i),
                xytext=(-6, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=11,
            )
            ax.annotate(
                _fmt_level(hi_level),
                (hi, i),
                xytext=(6, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=11,
            )
        ax.axvline(base, color="black", linewidth=1.5)
        ax.set_yticks(range(len(rows)), [_label(r[0], labels, units) for r in rows])
        ax.grid(axis="y", visible=False)
        span = max(r[4] for r in rows) - min(r[2] for r in rows)
        ax.set_xlim(min(r[2] for r in rows) - 0.25 * span, max(r[4] for r in rows) + 0.25 * span)
        what = "probability (0–1)" if prob else "value"
        ax.set_xlabel(
            f"Mean {_label(outcome, labels, None)} {what}; line: mean over all points "
            f"({base:.3g}); labels: parameter level"
        )
        ax.set_title(title or f"Which parameters swing {_label(outcome, labels, None)} most?")
        fig.tight_layout()
    return fig


def scatter_panels(
    df: pd.DataFrame,
    outcome: str,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Outcome vs each parameter, one panel per parameter, with CI whiskers.

    The 1-D view for sampled designs (LHS, Sobol, Morris), where the other
    parameters vary too and a response *curve* would be misleading.
    """
    params, outcomes = split_columns(df)
    if outcome not in outcomes:
        raise ValueError(f"unknown outcome {outcome!r}; have: {', '.join(outcomes)}")
    params = [p for p in params if df[p].nunique() > 1] or params
    n = len(params)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    prob = _is_probability(df, [outcome])
    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(6.5 * ncol, 5 * nrow))
        axes = fig.subplots(nrow, ncol, squeeze=False, sharey=True)
        for k, ax in enumerate(axes.flat):
            if k >= n:
                ax.set_visible(False)
                continue
            p = params[k]
            e = df[outcome].to_numpy(float)
            yerr = np.vstack(
                [
                    e - df[f"{outcome}_low"].to_numpy(float),
                    df[f"{outcome}_high"].to_numpy(float) - e,
                ]
            )
            if _is_numeric(df[p]):
                x = df[p].to_numpy(float)
            else:
                levels = list(dict.fromkeys(df[p]))
                x = np.array([levels.index(v) for v in df[p]], dtype=float)
                ax.set_xticks(range(len(levels)), [_fmt_level(v) for v in levels])
            ax.errorbar(
                x,
                e,
                yerr=yerr,
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
                ax.set_ylabel("Probability (0–1)" if prob else _label(outcome, labels, None))
            if prob:
                ax.set_ylim(0, 1)
        note = _runs_note(df)
        fig.suptitle(
            title
            or f"{_label(outcome, labels, None)} at each sampled point"
            + (f" ({note}; whiskers: CI)" if note else ""),
            fontsize=18,
        )
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- #
# Everything for a sweep folder
# --------------------------------------------------------------------------- #


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def draw_sweep(
    df: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    indices: Mapping[str, pd.DataFrame] | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    dpi: int = 200,
) -> list[Path]:
    """Write the figures that fit this sweep to ``out_dir`` as PNGs; return their paths.

    One varying parameter: a response curve of all outcomes. Two, on a grid:
    a heatmap per outcome and a response curve per outcome (one line per level
    of the second). More, on a grid: a tornado chart per outcome. Sampled
    designs (rows not forming a grid): scatter panels per outcome. Plus a
    Sobol or Morris chart for each ``indices[outcome]`` table given.
    """
    out = Path(out_dir)
    params, outcomes = split_columns(df)
    varying = [p for p in params if df[p].nunique(dropna=False) > 1]
    is_grid = (
        bool(varying)
        and not df.duplicated(varying).any()
        and (int(np.prod([df[p].nunique() for p in varying])) == len(df))
    )
    written: list[Path] = []

    def save(fig: Figure, name: str) -> None:
        written.append(save_figure(fig, out / f"{name}.png", dpi=dpi))

    if len(varying) == 1 and is_grid:
        save(
            response_curve(df, varying[0], outcomes, labels=labels, units=units),
            f"response_{_slug(varying[0])}",
        )
    elif len(varying) == 2 and is_grid:
        x, y = varying
        if not _is_numeric(df[x]) and _is_numeric(df[y]):
            x, y = y, x  # a numeric x reads better as a curve
        for o in outcomes:
            save(heatmap(df, x, y, o, labels=labels, units=units), f"heatmap_{_slug(o)}")
            save(
                response_curve(df, x, [o], hue=y, labels=labels, units=units),
                f"response_{_slug(o)}_{_slug(x)}",
            )
    elif len(varying) > 2 and is_grid:
        for o in outcomes:
            save(tornado_chart(df, o, labels=labels, units=units), f"tornado_{_slug(o)}")
    elif varying:
        for o in outcomes:
            save(scatter_panels(df, o, labels=labels, units=units), f"scatter_{_slug(o)}")
    for o, table in (indices or {}).items():
        if "ST" in table.columns:
            save(sobol_chart(table, o, labels=labels), f"sobol_{_slug(o)}")
        elif "mu_star" in table.columns:
            save(morris_chart(table, o, labels=labels), f"morris_{_slug(o)}")
    return written
