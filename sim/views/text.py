"""Numbers in words: every summary, comparison and description the program prints.

One place to put a number into words (a probability, a difference, a number of days), so the
command line, the dashboard and the notebook say the same thing the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from sim.experiments.backtest import Evaluation
    from sim.experiments.ensemble import Ensemble
    from sim.model.scenario import Scenario


def describe(scenario: Scenario) -> str:
    """A one-screen summary of a scenario."""
    ladder = scenario.ladder
    start = f", from {scenario.start_date:%d %B %Y}" if scenario.start_date else ""
    mechanisms = scenario.mechanisms.model_dump()
    rounds = mechanisms.pop("rounds_per_day")
    off = [name for name, on in mechanisms.items() if not on]
    decision = ", ".join(f"{k} {v:g}" for k, v in scenario.decision.model_dump().items())
    lines = [
        f"{scenario.name}: {scenario.description.strip()}"
        if scenario.description
        else scenario.name,
        f"horizon {scenario.horizon} days{start}; {scenario.runs} runs, seed {scenario.seed}",
        f"ladder: {ladder.size} rungs, strikes from rung {ladder.strike_rung}, war at {ladder.war}",
        f"mechanisms: {'all on' if not off else 'off: ' + ', '.join(off)}; {rounds} rounds a day",
        f"decision: {decision}",
        "states:",
    ]
    for actor_id, state in scenario.actors.items():
        nuclear = ", nuclear-armed" if state.nuclear else ""
        lines.append(
            f"  {actor_id} ({state.name}{nuclear}): {_policy(state.retaliation)}; resolve "
            f"{_distribution(state.resolve.model_dump())}; cost {state.cost:g}; audience cost "
            f"{state.audience_cost:g}; pledge {state.pledge:g}; mediation {_policy(state.mediation)}"
        )
    lines.append("relations:")
    for relation in scenario.relations:
        a, b = relation.between
        lines.append(
            f"  {a}-{b}: baseline {relation.baseline} ({ladder.name(relation.baseline)}), "
            f"economic ties {relation.economic_ties:g}"
        )
    lines += ["armed groups:"] if scenario.armed_groups else []
    for group_id, group in scenario.armed_groups.items():
        sponsor = f", backed by {group.sponsor}" if group.sponsor else ""
        lines.append(
            f"  {group_id} ({group.name}): based in {group.host}, attacks "
            f"{group.target}{sponsor}, {group.daily_rate:g}/day"
        )
    lines += ["third parties:"] if scenario.third_parties else []
    for party_id, party in scenario.third_parties.items():
        leverage = ", ".join(f"{k} {v:g}" for k, v in party.leverage.items())
        talks = ""
        if party.mediation is not None:
            trigger = party.mediation.trigger_rung
            when = f"after acts at rung {trigger}" if trigger else "on set days"
            talks = f"; offers talks {when} to {', '.join(party.mediation.parties)}"
        lines.append(f"  {party_id} ({party.name}): leverage {leverage}{talks}")
    lines += ["events:"] if scenario.events else []
    for event in scenario.events:
        lines.append(f"  day {event.day}: {_event(event)}")
    uncertain = scenario.uncertainty
    if uncertain.active:
        lines.append(
            f"uncertain numbers ({uncertain.sets} parameter sets; each run takes one by its "
            "seed; the numbers above are medians):"
        )
        for key, distribution in uncertain.distributions.items():
            lines.append(f"  {key}: {_distribution(distribution.model_dump())}")
        for key, name in uncertain.from_profile.items():
            profile = uncertain.profiles[name]
            lines.append(
                f"  {key}: profile {name} ({len(profile.weights)} particles, {profile.source})"
            )
    return "\n".join(lines)


def _distribution(value: Any) -> str:
    if isinstance(value, dict):
        ((kind, params),) = value.items()
        return f"{kind}({', '.join(f'{p:g}' for p in params)})"
    return f"{value:g}"


def _event(event: Any) -> str:
    fields = event.model_dump(exclude={"day", "description", "type"}, exclude_defaults=True)
    detail = ", ".join(f"{k} {v}" for k, v in fields.items())
    return f"{event.type} ({detail})" + (f": {event.description}" if event.description else "")


def _policy(policy: Any) -> str:
    """'escalate (delay 2, step 1)': a policy's name and its parameters."""
    values = policy.model_dump(exclude={"policy"})
    params = ", ".join(f"{key} {value}" for key, value in values.items())
    return f"{policy.policy} ({params})" if params else policy.policy


KEY_OUTCOMES = ("answer_7d", "forces_30d", "sustained", "war", "calm_14d", "accepted")
"""The key outcomes: what a brief summary, comparison or story shows without ``--full``.

Chosen for the lesson's question, how a crisis climbs or calms: does the struck state answer
(``answer_7d``); do strikes reach the other state's forces (``forces_30d``), go on
(``sustained``) or become war (``war``); is everything back to baseline within two weeks
(``calm_14d``); and were the talks a mediator offered accepted (``accepted``). Where the
horizon is shorter than a name's days, the same outcome at the scenario's own horizon
(``forces_7d``, ``answer_5d``) stands in; ``calm_14d`` needs 14 days. ``--outcomes NAME ...``
chooses others, ``--full`` shows them all; ``--json`` is always complete.
"""


def key_outcomes(names: Sequence[str]) -> list[str]:
    """The key outcomes among ``names`` (a summary's outcomes), in ``KEY_OUTCOMES`` order; for
    one missing, the last of ``names`` of its family (``forces_7d`` for ``forces_30d``), except
    ``calm_14d``, which a shorter calm would not stand for."""
    chosen = []
    for key in KEY_OUTCOMES:
        family = _family(key)
        same = [n for n in names if family is not None and _family(n) == family]
        if key in names:
            chosen.append(key)
        elif same and key != "calm_14d":
            chosen.append(same[-1])
    return list(dict.fromkeys(chosen))


def _family(name: str) -> str | None:
    """``forces_`` for ``forces_30d``; None for a per-state name or a name without days."""
    head, _, rest = name.partition("_")
    return f"{head}_" if rest[:-1].isdigit() and rest.endswith("d") else None


def chosen_outcomes(names: Sequence[str], asked: Sequence[str] | None, what: str) -> list[str]:
    """The outcomes to show: those ``asked`` (``--outcomes``), each checked against ``names``,
    or the key outcomes. ``what`` says whose outcomes ``names`` are, for the message."""
    if not asked:
        return key_outcomes(names)
    from sim.inputs.errors import did_you_mean

    for name in asked:
        if name not in names:
            raise ValueError(
                f"--outcomes {name}: not an outcome of {what}{did_you_mean(name, names) or '.'} "
                f"Choose from: {', '.join(names)}"
            )
    return list(dict.fromkeys(asked))


def brief_hint(shown: int, total: int, noun: str = "outcomes") -> str:
    """The line under a brief summary that says what else there is."""
    return (
        f"({shown} of {total} {noun}; --full shows every one, --outcomes NAME ... chooses, "
        "--json gives all)"
    )


def summary_text(
    ensemble: Ensemble,
    verbose: bool = False,
    shown: Sequence[str] | None = None,
) -> str:
    """An ensemble's outcomes with their 95% CIs: every one, or only those ``shown`` (then
    without the half-width line)."""
    meta = ensemble.metadata
    lines = [
        f"{ensemble.scenario.name}: {meta['runs']:,} runs (seed {meta['seed']}, "
        f"{meta['workers']} worker{'' if meta['workers'] == 1 else 's'}, {meta['wall_seconds']} s)"
    ]
    if verbose:
        versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        lines.append(f"  versions: {versions}")
        from sim.analysis.outcomes import for_scenario

        for found in for_scenario(ensemble.scenario):
            lines.append(f"  {found.name}: {found.definition}")
    rows = {str(row["outcome"]): row for row in ensemble.summary.to_dict("records")}
    for name in rows if shown is None else shown:
        row = rows[name]
        label = row["label"]
        if row["kind"] == "probability":
            lines.append(
                f"  {label:<66} {row['estimate']:6.1%}  (95% CI {row['ci_low']:.1%} to "
                f"{row['ci_high']:.1%})"
            )
        else:
            lines.append(
                f"  {label:<66} {days_text(row['estimate']):>6}  (95% CI {days_text(row['ci_low'])} "
                f"to {days_text(row['ci_high'])})"
            )
    if shown is None:
        lines.append(
            f"  Widest 95% CI half-width of these probabilities: +-{meta['halfwidth_reached']:.1%}"
        )
    return "\n".join(lines)


def results_text(
    ensembles: Sequence[Ensemble],
    comparison: Any,
    asked: Sequence[str] | None = None,
    full: bool = False,
    verbose: bool = False,
) -> str:
    """What ``run`` and ``compare`` print: brief (the key outcomes, or those ``asked``; a
    comparison without p-values) unless ``full``. A comparison leaves out the differences true
    by construction (its ``by_construction`` column), saying so."""

    names = [str(n) for n in ensembles[0].summary["outcome"]]
    shown = list(asked) if asked else (None if full else key_outcomes(names))
    lines = []
    if full or comparison is None:
        lines += [summary_text(e, verbose, shown) for e in ensembles]
    else:
        meta = [e.metadata for e in ensembles]
        runs = sorted({int(m["runs"]) for m in meta})
        lines.append(
            f"{len(ensembles)} scenarios, {' to '.join(f'{r:,}' for r in runs)} runs each "
            f"(seed {meta[0]['seed']}, {sum(float(m['wall_seconds']) for m in meta):.3g} s)"
        )
    if comparison is not None:
        lines.append(comparison_text(comparison, shown, p_values=full))
    if shown is not None and not asked:
        lines.append(brief_hint(len(shown), len(names)))
    return "\n".join(lines)


STORY_TURNS = ("strike", "accept", "agreement", "ceasefire", "war")
"""The events a brief story tells (strikes, talks begun, ceasefires agreed in talks, scripted or
agreed alone, war): its turning points."""

STORY_TURNS_SHOWN = 7
"""At most this many turning points in a brief story (a war always among them, last);
``--full`` tells every event."""


def story_brief(model: Any, seed: int, asked: Sequence[str] | None = None) -> str:
    """One run in a few lines: its turning points (``STORY_TURNS``, without the reasons) and
    its key outcomes (or those ``asked``), each with the day it happened."""
    import re

    from sim.analysis.outcomes import for_scenario
    from sim.analysis.statistics import runs_table
    from sim.analysis.story import day_label

    scenario = model.config
    start = f", day 0 = {scenario.start_date:%d %B %Y}" if scenario.start_date else ""
    lines = [f"{scenario.name} — one run (seed {seed}){start}", "Turning points:"]
    turns = [e for e in model.events[0] if e.kind in STORY_TURNS and e.day >= 0]
    first = turns[:STORY_TURNS_SHOWN]
    war = next((e for e in turns if e.kind == "war"), None)
    last = war if war is not None and war not in first else None  # a war is always told
    if last is not None:
        first = turns[: STORY_TURNS_SHOWN - 1]
    for event in first:
        lines.append(f"  {day_label(scenario, event.day)}: {event.text}.")
    hidden = len(turns) - len(first) - (last is not None)
    if hidden:
        lines.append(f"  ... and {hidden} more" + (", then:" if last is not None else ""))
    if last is not None:
        lines.append(f"  {day_label(scenario, last.day)}: {last.text}.")
    if not turns:
        lines.append("  none: no strike, no talks, no war")
    runs = runs_table(model.batch(), scenario)
    catalogue = {o.name: o for o in for_scenario(scenario)}
    lines.append("Key outcomes of this run:" if not asked else "Outcomes of this run:")
    for name in chosen_outcomes(list(catalogue), asked, scenario.name):
        found = catalogue[name]
        value = found.per_run(runs)[0]
        if found.kind == "days":
            said = days_within(float(value), scenario.horizon) if value == value else "never"
            said += "" if value != value or value > scenario.horizon else " days"
        else:
            named = re.findall(r"[a-z][a-z0-9_]*", found.definition)
            days = [runs[c].iloc[0] for c in named if c in runs and "day" in c.split("_")]
            days = [d for d in days if d == d]
            when = f" (day {int(min(days))})" if value and days else ""
            said = ("yes" if value else "no") + when
        lines.append(f"  {outcome_words(found.label)}: {said}")
    highest = int(runs["highest_rung"].iloc[0])
    lines.append(f"Highest rung reached: {highest} ({scenario.ladder.name(highest)}).")
    lines.append("(--full tells every day with the reasons of each decision)")
    return "\n".join(lines)


def days_text(value: float) -> str:
    if value != value:  # NaN: too few runs for an interval
        return "n/a"
    return "never" if value == float("inf") else f"{value:g} d"


def p_text(p: float) -> str:
    """'p < 0.001' for very small p-values, else 'p = 0.021'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def comparison_text(table: Any, shown: Sequence[str] | None = None, p_values: bool = True) -> str:
    """Each outcome of each scenario against the first: values, difference, CI, verdict.

    A row whose ``by_construction`` names a scenario key (``outcomes.construction_keys``) is
    left out, and one line per scenario says which and why. ``shown``: only these outcomes,
    in this order. ``p_values``: also each difference's p-value (``--full``).
    """
    by = table["by_construction"] if "by_construction" in table else [None] * len(table)
    table = table.assign(_by=[k if isinstance(k, str) and k else None for k in by])
    lines = []
    for name, rows in table.groupby("scenario", sort=False):
        dropped = rows[rows["_by"].notna()]
        rows = rows[rows["_by"].isna()]
        if shown is not None:
            order = {outcome: i for i, outcome in enumerate(shown)}
            dropped = dropped[dropped["outcome"].isin(order)]
            rows = rows[rows["outcome"].isin(order)]
            rows = rows.iloc[sorted(range(len(rows)), key=lambda i: order[rows["outcome"].iloc[i]])]
        reference = rows["reference"].iloc[0]
        how = (
            "same seeds: compared run for run (paired)"
            if rows["paired"].all()
            else "different seeds: compared as independent samples"
        )
        lines.append(f"{name} against {reference} ({how}):")
        if rows.empty:
            lines.append("  (no outcome left to show)")
        for row in rows.to_dict("records"):
            if row["kind"] == "probability":
                values = f"{row['value']:6.1%} vs {row['reference_value']:6.1%}"
                diff = (
                    f"{row['difference'] * 100:+.1f} points ({row['ci_low'] * 100:+.1f} to "
                    f"{row['ci_high'] * 100:+.1f})"
                )
            else:
                values = f"{days_text(row['value']):>6} vs {days_text(row['reference_value']):>6}"
                diff = f"{row['difference']:+g} d ({row['ci_low']:+g} to {row['ci_high']:+g})"
            verdict = row["verdict"]
            if verdict != "no detectable difference":
                verdict = f"{verdict} in {name}"
            else:
                verdict = "no detectable difference at this number of runs"
            p_value = f", {p_text(row['p_value'])}" if p_values else ""
            lines.append(f"  {row['label']:<66} {values}  {diff}{p_value}: {verdict}")
        if not dropped.empty:
            lines.append(f"  {left_out_text(dropped['label'], dropped['_by'])}")
    return "\n".join(lines)


def left_out_text(labels: Iterable[Any], keys: Iterable[Any]) -> str:
    """The one line that says which differences were left out as true by construction."""
    said = "; ".join(
        f"{outcome_words(str(label)).lower()[:1]}{outcome_words(str(label))[1:]} (the "
        f"scenarios differ in {key})"
        for label, key in zip(labels, keys, strict=True)
    )
    return f"Left out, true by construction: {said}"


def skill_text(value: float) -> str:
    return "n/a" if value != value else f"{value:+.2f}"


def outcome_words(label: str) -> str:
    """'P(back to baseline within 14 days)' as 'Back to baseline within 14 days'."""
    if label.startswith("P(") and label.endswith(")"):
        label = label[2:-1]
    return label[:1].upper() + label[1:]


def percent(p: float) -> str:
    """Whole percentages, with a decimal near 0% and 100%, where a point is a lot."""
    return f"{p:.1%}" if 0 < p < 0.1 or 0.9 < p < 1 else f"{p:.0%}"


def name_struck(words: str, struck: str | None) -> str:
    """An outcome's words with the state struck first named: 'The state struck first
    (Pakistan) answers with a strike'."""
    if struck is None:
        return words
    for first in ("the state struck first", "The state struck first"):
        words = words.replace(first, f"{first} ({struck})")
    return words


def percent_tick(value: float, _position: object = None) -> str:
    """A tick of a probability axis in the words of :func:`percent` ('0%', '2.5%', '40%')."""
    return percent(max(value, 0.0))


def rungs_text(rungs: list[int], names: list[str]) -> str:
    """'Rung 4 (limited strike on an armed group)' or 'Rungs 1 to 4 (verbal protest to limited
    strike on an armed group)': consecutive rungs as a span, by number and name."""
    if len(rungs) == 1:
        return f"Rung {rungs[0]} ({names[rungs[0]]})"
    return f"Rungs {rungs[0]} to {rungs[-1]} ({names[rungs[0]]} to {names[rungs[-1]]})"


def reached_on_day_0_text(rungs: list[int], names: list[str]) -> str:
    """What replaces the flat 100% curves of the rungs every run had reached on day 0."""
    if not rungs:
        return ""
    verb = "was" if len(rungs) == 1 else "were"
    return f"{rungs_text(rungs, names)} {verb} already reached on day 0 by the opening act."


def _pairs(text: str) -> set[tuple[str, str]]:
    """Two words in a row within one phrase (commas, colons and brackets end a phrase),
    lower case, articles aside."""
    drop = {"a", "an", "the", "p"}
    pairs: set[tuple[str, str]] = set()
    for phrase in re.split(r"[,;:()]", text.lower()):
        words = [w for w in re.findall(r"[a-z0-9]+", phrase) if w not in drop]
        pairs |= set(zip(words, words[1:], strict=False))
    return pairs


def reads_alike(first: str, second: str) -> bool:
    """Whether two names read alike: they share two words in a row within a phrase ('a
    sustained exchange of strikes' and 'sustained exchange of fire'), articles aside. An outcome
    and a rung that differ must not (``sustained`` is worded apart from rung 6 for this)."""
    return bool(_pairs(first) & _pairs(second))


def days_within(value: float, horizon: int) -> str:
    """Days as a number, or 'not within' the horizon."""
    return f"not within {horizon}" if value > horizon else f"{value:g}"


def value_text(kind: str, value: float, horizon: int) -> str:
    """A probability as a percentage, days as a number (or 'not within' the horizon)."""
    return percent(value) if kind == "probability" else days_within(value, horizon)


def outcome_name(kind: str, label: str) -> str:
    return outcome_words(label) if kind == "probability" else f"{label} (median)"


def interval_text(value: float, low: float, high: float, signed: bool = True) -> str:
    """A skill (signed) or an AUC with its 95% interval, ``+0.12 [-0.30, +0.41]``; ``n/a`` if
    there is no value, ``[n/a]`` if no interval."""
    if value != value:
        return "n/a"
    form = "+.2f" if signed else ".2f"
    if low != low or high != high:
        return f"{value:{form}} [n/a]"
    return f"{value:{form}} [{low:{form}}, {high:{form}}]"


_REFERENCE_HEADS = {
    "coin": "vs coin",
    "base_rate": "vs base rate (LOO)",
    "external": "vs external rate",
    "one_feature": "vs one feature",
}


def backtest_text(
    result: Evaluation, full: bool = False, asked: Sequence[str] | None = None
) -> str:
    """The backtest on one screen: scores per item and overall, then skill against the four
    references, each with its 95% case-bootstrap interval. Brief (not ``full``): the skill of
    the headline only; ``full`` adds each item's and the confident forecasts. ``asked``: only these items (checked: ValueError naming the items)."""
    from sim.experiments.backtest import ITEMS, REFERENCES

    scores: list[dict[str, Any]] = [
        {str(k): v for k, v in row.items()} for row in result.scores.to_dict("records")
    ]
    if asked:
        wanted = chosen_outcomes([str(r["item"]) for r in scores], asked, "the backtest's items")
        scores = [row for row in scores if row["item"] in wanted]
    dropped = result.redundant
    lines = []
    if dropped:
        by_kept: dict[str, list[str]] = {}
        for item, (kept, compared) in dropped.items():
            by_kept.setdefault(f"{kept}, {compared} cases", []).append(item)
        said = "; ".join(f"{' and '.join(items)} (= {kept})" for kept, items in by_kept.items())
        lines.append(
            f"'all items' is the headline over {len(ITEMS) - len(dropped)} of the {len(ITEMS)} "
            f"items (* left out: observed exactly as another item on every case both score): "
            f"{said}."
        )

    def name(row: dict[str, Any]) -> str:
        label = str(row["item"]) + ("*" if row["item"] in dropped else "")
        return {"trajectory": "trajectory (RPS)", "timing": f"{label} (CRPS)"}.get(
            row["kind"], label
        )

    lines.append(
        f"  {'score (Brier; RPS; CRPS in days)':<34} {'cases':>5} {'yes':>3} {'score [95%]':<21} "
        f"{'log':>5}  {'AUC [95%]':<19} {'REL':>5} {'RES':>5} {'UNC':>5}"
    )
    for row in scores:
        if row["item"] == "all nine items" and not (full or asked):
            continue  # the headline's rival over every item: with --full
        happened = "" if row["happened"] != row["happened"] else f"{int(row['happened'])}"
        score = row["score"]
        digits = 3 if score != score or score < 10 else 1
        score_text = (
            "n/a"
            if score != score
            else f"{score:.{digits}f} "
            + (
                "[n/a]"
                if row["score_low"] != row["score_low"]
                else f"[{row['score_low']:.{digits}f}, {row['score_high']:.{digits}f}]"
            )
        )
        log = row["log_score"]
        murphy = [row[k] for k in ("reliability", "resolution", "uncertainty")]
        auc = (
            interval_text(row["auc"], row["auc_low"], row["auc_high"], signed=False)
            if row["measure"] == "brier"
            else ""
        )
        lines.append(
            f"  {name(row):<34} {row['cases']:>5} {happened:>3} {score_text:<21} "
            f"{'' if log != log else f'{log:.2f}':>5}  "
            f"{auc:<19} " + " ".join(" " * 5 if v != v else f"{v:5.3f}" for v in murphy)
        )
    lines.append(
        f"  {'skill (1 - score / reference)':<34} "
        + " ".join(f"{_REFERENCE_HEADS[r]:<20}" for r in REFERENCES)
    )
    for row in scores if full or asked else [r for r in scores if r["item"] == "all items"]:
        cells = []
        for r in REFERENCES:
            cells.append(
                f"{interval_text(row[f'skill_vs_{r}'], row[f'skill_vs_{r}_low'], row[f'skill_vs_{r}_high']):<20}"
            )
        lines.append(f"  {name(row):<34} " + " ".join(cells).rstrip())
    if full or asked:
        lines.append(
            "  n/a: no such reference for the item (no external rate; a base rate needs other "
            "cases), or the reference scored 0 (it cannot be beaten)"
        )
    if full:
        lines.append(confident_text(result.confident))
    return "\n".join(line.rstrip() for line in lines)


def confident_text(found: dict[str, float]) -> str:
    """One line on the headline's confident forecasts (below 5% or above 95%)."""
    from sim.analysis.scores import CONFIDENT

    edge = f"below {CONFIDENT:.0%} or above {1 - CONFIDENT:.0%}"
    if not found["confident"]:
        return f"No forecast of the headline's {found['forecasts']:,} was confident ({edge})."
    return (
        f"Confident forecasts ({edge}): {found['confident']:,} of the headline's "
        f"{found['forecasts']:,}; {found['wrong']:,} of them wrong, carrying "
        f"{found['wrong_loss_share']:.1%} of the Brier loss."
    )


README_ROWS = {
    "answer_7d": "the struck state answers with a strike within 7 days",
    "forces_7d": "either side strikes the other's forces within 7 days",
    "sustained": "both sides strike, on three or more days in all",
    "war": "war",
    "restrike": "the opener strikes again after the answer",
    "mediation_accepted": "mediation accepted",
    "ceasefire_14d": "a ceasefire within 14 days",
    "calm_14d": "back to the baseline within 14 days",
    "calm_60d": "back to the baseline within 60 days",
    "all items": "**all items (headline)**",
    "escalation items": "escalation items (the first five)",
    "trajectory": "trajectory class (RPS)",
    "days_to_answer": "days to the answer (CRPS, days)",
    "days_to_calm": "days to calm (CRPS, days)",
}
"""The backtest's rows as the README names them, in its order."""


def backtest_markdown(scores: list[dict[str, Any]]) -> str:
    """The README's table of a backtest (``backtest.json``'s ``scores``): each item's score with
    its 95% case-bootstrap interval, and its skill against the four references."""
    by_item = {str(row["item"]): row for row in scores}

    def cell(row: dict[str, Any], key: str, form: str) -> str:
        value, low, high = row.get(key), row.get(f"{key}_low"), row.get(f"{key}_high")
        if value is None or value != value:
            return "n/a"
        if low is None or high is None or low != low or high != high:
            return f"{value:{form}}"
        return f"{value:{form}} [{low:{form}}, {high:{form}}]"

    lines = [
        "| item (cases scored, happened) | score [95%] | vs coin | vs base rate (LOO) "
        "| vs external | vs one feature |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for item, words in README_ROWS.items():
        row = by_item.get(item)
        if row is None:
            continue
        happened = row.get("happened")
        counted = (
            f"{row['cases']}"
            if happened is None or happened != happened
            else f"{row['cases']}, {int(happened)}"
        )
        form = ".1f" if row.get("measure") == "crps" else ".3f"
        lines.append(
            f"| {words} ({counted}) | {cell(row, 'score', form)} | "
            + " | ".join(
                cell(row, f"skill_vs_{r}", "+.2f")
                for r in ("coin", "base_rate", "external", "one_feature")
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def large_table_text(size: int) -> str:
    """The warning before a runs table over a gigabyte is written."""
    return (
        f"runs.csv will take about {size / 1e9:.1f} GB on disk (one row per run). To keep it "
        "smaller: --format parquet (pip install -e '.[parquet]') stores the same table "
        "compressed, fewer --runs, or --target-halfwidth to stop once the intervals are narrow "
        "enough."
    )


def _skill(value: Any) -> str:
    return "n/a" if value is None or value != value else f"{value:+.2f}"


def _effective_particles(last: Mapping[str, Any], particles: int) -> str:
    """What the last generation's weights are worth, and a warning when too little."""
    from sim.experiments.calibrate import FEW_EFFECTIVE_PARTICLES

    worth = last["effective_particles"]
    line = (
        f"  The last generation is worth {worth:.1f} of its {particles} particles "
        "(effective sample size)"
    )
    if worth >= FEW_EFFECTIVE_PARTICLES:
        return line + "."
    return (
        f"{line}: fewer than {FEW_EFFECTIVE_PARTICLES}, so each end of a 90% interval rests on "
        "less than one particle; read the intervals from a finer fit (--particles 100 or more)."
    )


def calibration_text(data: Mapping[str, Any], out: Path) -> str:
    """The one-screen summary ``calibrate`` prints: the posterior, or the cross-validation's
    out-of-sample scores (and their skill with case-bootstrap intervals)."""
    meta = data["meta"]
    settings = meta["settings"]
    lines = []
    if "summary" in data:
        lines.append(
            f"Calibration of {len(settings['parameters'])} parameters on {len(settings['cases'])} "
            f"cases of {meta['library']}/: {settings['populations']} generations of "
            f"{settings['particles']} particles, {settings['runs']} runs of each case per "
            f"particle ({meta.get('wall_seconds', 0):.0f} s)."
        )
        lines.append(_effective_particles(data["generations"][-1], settings["particles"]))
        lines.append(f"  {'parameter':<24} {'default':>8} {'mean':>8} {'90% interval':>17}")
        for row in data["summary"]:
            lines.append(
                f"  {row['parameter']:<24} {row['teaching_default']:>8.3g} {row['mean']:>8.3g} "
                f"{row['q05']:>8.3g} – {row['q95']:<6.3g}"
            )
        heading = (
            f"In-library scores of the posterior ({meta['check_runs']:,} fresh runs of each case; "
            "Brier: lower is better; skill above 0 beats the reference):"
        )
        files = "posterior.csv, generations.csv, summary.csv, items.csv, scores.csv, calibrated.yaml, calibration.json, marginals.png/.svg, pairwise.png/.svg, pyabc.db"
    else:
        lines.append(
            f"Leave-one-case-out cross-validation on {len(settings['cases'])} cases of "
            f"{meta['library']}/: each calibrated on the others ({settings['populations']} "
            f"generations of {settings['particles']} particles, {settings['runs']} runs) "
            f"({meta.get('wall_seconds', 0):.0f} s)."
        )
        heading = (
            f"Out-of-sample scores ({settings['check_runs']:,} runs of each left-out case; "
            "Brier: lower is better; skill above 0 beats the reference):"
        )
        files = "cv_items.csv, cv_scores.csv, cv_skill.csv, cv.json, cv.png/.svg, folds/<case>/"
    lines.append(heading)
    lines.append(
        f"  {'item':<20} {'cases':>5} {'happened':>8} {'Brier':>7} {'log':>6} {'defaults':>9} "
        f"{'vs coin':>8} {'vs base rate':>13} {'vs defaults':>12}"
    )
    for row in data["scores"]:
        lines.append(
            f"  {row['item']:<20} {row['cases']:>5} {row['happened']:>8} {row['brier']:7.3f} "
            f"{row['log_score']:6.2f} {row['brier_defaults']:9.3f} {_skill(row['skill_vs_coin']):>8} "
            f"{_skill(row['skill_vs_base_rate']):>13} {_skill(row['skill_vs_defaults']):>12}"
        )
    if "skill" in data:
        lines.append(
            "With 95% intervals from resampling whole cases (cv_skill.csv; skill above 0 beats "
            "the reference):"
        )
        for row in (r for r in data["skill"] if r["item"] in ("all items", "escalation items")):
            cells = ", ".join(
                f"vs {name} {_skill_interval(row, f'skill_vs_{key}')}"
                for key, name in (
                    ("base_rate", "base rate (LOO)"),
                    ("one_feature", "one feature"),
                    ("coin", "coin"),
                )
            )
            lines.append(
                f"  {row['item']}: Brier {row['score']:.3f} [{row['score_low']:.3f}, "
                f"{row['score_high']:.3f}]; {cells}"
            )
    lines.append(f"Results in {out}/: {files}")
    return "\n".join(lines)


def _skill_interval(row: Mapping[str, Any], key: str) -> str:
    """``interval_text`` of a skill in a row of plain data (null as NaN)."""
    value, low, high = (
        float("nan") if row.get(name) is None else float(row[name])
        for name in (key, f"{key}_low", f"{key}_high")
    )
    return interval_text(value, low, high)
