"""How the dashboard looks: one light theme for the page and its charts, and a layout that keeps
the Step button, "Today, and why" and the curves on one screen of a 1024x768 projector.

The page's main area is two columns at any width from 1024 px: on the left the run's buttons
and today's reasons, on the right the ensemble's buttons and its curves; the ladder, the
earlier days and the outcomes in words follow below. The sidebar (330 px, narrower than
Solara's 400) holds the controls and scrolls on its own, so the page itself need not.
"""

from __future__ import annotations

from typing import Any

from sim.views import plotting

CHART_FONT_PT = 11
"""Smallest text in the charts, in points. The ladder chart is ``CHART_WIDTH_IN`` wide and fills
the main area (about 660 px at 1024x768: 11 * 660 / (72 * 6.4) = 15.8 px); the curves chart is
``CURVES_WIDTH_IN`` wide in its column (about 325 px at 1024x768: 11 * 325 / (72 * 4) = 12.4 px;
at most 560 px, 21 px)."""
CHART_WIDTH_IN = 6.4
CURVES_WIDTH_IN = 4.0
CURVES_HEIGHT_IN = 3.3
LIGHT = "white"
CHART_STYLE: dict[Any, Any] = {
    **plotting.STYLE,
    "font.size": CHART_FONT_PT,
    "axes.titlesize": 12,
    "axes.labelsize": CHART_FONT_PT,
    "xtick.labelsize": CHART_FONT_PT,
    "ytick.labelsize": CHART_FONT_PT,
    "legend.fontsize": CHART_FONT_PT,
    "legend.title_fontsize": CHART_FONT_PT,
    "figure.facecolor": LIGHT,
    "savefig.facecolor": LIGHT,
    "axes.facecolor": LIGHT,
}
"""The project's figure style, on the page's own white."""

CSS = """
.v-navigation-drawer { min-width: 330px !important; max-width: 330px !important; }
.v-application, .v-application .v-main, .v-application .v-sheet { background: #ffffff; }
.v-main .container, .v-main .container--fluid { padding-top: 8px; }
.dashboard-section { margin: 0 0 20px; }
.dashboard-section h2 { font-size: 1.35rem; font-weight: 500; margin: 4px 0 8px; }
.dashboard-section h3, .teach-grid h3 { font-size: 1.1rem; font-weight: 500; margin: 8px 0 4px; }
.teach-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
  gap: 8px 20px; align-items: start; margin-bottom: 16px; }
@media (max-width: 900px) { .teach-grid { grid-template-columns: minmax(0, 1fr); } }
.question { margin: 0 0 4px; font-size: 0.95rem; line-height: 1.35; }
.today { max-height: calc(100vh - 360px); min-height: 120px; overflow-y: auto;
  padding-right: 4px; }
.control-section { font-size: 1.05rem; font-weight: 500; margin: 18px 0 0; }
.control .v-messages__message { line-height: 1.3; font-size: 13px; }
.control { margin-bottom: 6px; }
.scenario-picker .v-select__selection { font-size: 14px; }
.picker-note { font-size: 13px; line-height: 1.3; margin: 2px 0 8px; color: rgba(0, 0, 0, 0.7); }
.dashboard-figure img { width: 100%; max-width: 900px; height: auto; }
.curves-column .dashboard-figure img { max-width: 560px; }
.run-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr));
  gap: 12px 24px; align-items: start; }
.postures table, .outcomes table { border-collapse: collapse; margin: 4px 0 8px; }
.postures th, .postures td { padding: 4px 14px 4px 0; text-align: left;
  border-bottom: 1px solid rgba(127, 127, 127, 0.35); }
.postures td.rung { text-align: right; font-weight: bold; }
.decision { margin: 0 0 12px; }
.decision .act { font-weight: 500; }
.decision .why { margin: 2px 0 4px; }
.terms { display: grid; grid-template-columns: minmax(0, 1fr) minmax(64px, 32%) 3.6em;
  gap: 2px 8px; align-items: center; max-width: 560px; }
.terms .option { grid-column: 1 / -1; font-style: italic; margin-top: 2px; }
.term-bar { display: flex; height: 12px; }
.term-bar span { display: block; height: 100%; }
.term-bar .against { margin-left: auto; background: #D55E00; }
.term-bar .for { background: #0072B2; }
.term-bar .half { display: flex; width: 50%; }
.term-bar .half:first-child { border-right: 1px solid rgba(127, 127, 127, 0.8); }
.term-value { text-align: right; font-variant-numeric: tabular-nums; }
.story-day { margin: 6px 0 2px; font-weight: 500; }
.story ul { margin: 0 0 4px; }
.replay .word, .ensemble-command .word { white-space: nowrap; }
.replay code, .ensemble-command code { overflow-wrap: anywhere;
  background: rgba(127, 127, 127, 0.15); color: inherit; padding: 2px 4px; }
.scenario-error { white-space: pre-wrap; }
.outcomes li { margin-bottom: 4px; }
.ensemble-row { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; }
.ensemble-row .v-input { flex: 0 0 130px; }
.ensemble-row .v-input.seed-input { flex: 0 0 110px; }
.teach-grid .v-alert { margin-bottom: 6px; padding: 8px 12px; }
"""
"""The sidebar narrower than Solara's 400 px, so the main area keeps about 660 px at 1024x768;
today's reasons scroll inside their own box, so the page need not."""
