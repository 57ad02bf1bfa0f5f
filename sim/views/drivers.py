"""The numbers the dashboard offers as controls: those a documented sensitivity ranking names.

The ranking comes from a Morris screening of the teaching baseline
(``python run.py sweep scenarios/sweeps/drivers.yaml``; docs/dashboard.md says how it was run and
keeps its tables in ``docs/data/drivers/``). Every number of the sweep moves from half to twice
the baseline's value, and mu* is how far an outcome moves across that range, on average over
the paths: 0.25 is 25 points of probability. A parameter's score is its largest mu* over the
outcomes a class asks about (``OUTCOMES``); a state's number (``actors.*.cost``) scores the
larger of its two states' (the ranking holds for any state, so every state gets the control).
Those scoring at least ``THRESHOLD`` are the drivers, and the dashboard offers them, in this
order. ``RANKING`` is written out here (the dashboard never runs a sweep), and a test checks that
it is ``rank`` of the documented tables and that docs/dashboard.md quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

OUTCOMES = ("answer_7d", "calm_14d", "forces_30d")
"""What the ranking scores a parameter on: the struck state answers within a week, back to
baseline within two weeks, a strike on state forces within a month."""
THRESHOLD = 0.10
"""A driver moves one of ``OUTCOMES`` by 10 points or more, on average, across its range."""
SWEEP = "scenarios/sweeps/drivers.yaml"
COMMAND = f"python run.py sweep {SWEEP} --workers 2 --out results/drivers"


@dataclass(frozen=True)
class Ranked:
    """A parameter (``decision.deterrence``, ``actors.*.pledge``), its score and where."""

    key: str
    mu_star: float
    outcome: str


RANKING: tuple[Ranked, ...] = (
    Ranked("decision.cost_convexity", 0.592, "answer_7d"),
    Ranked("actors.*.cost", 0.34, "answer_7d"),
    Ranked("decision.deterrence", 0.272, "answer_7d"),
    Ranked("decision.rationality", 0.179, "forces_30d"),
    Ranked("decision.review_rate", 0.153, "calm_14d"),
    Ranked("actors.*.pledge", 0.152, "answer_7d"),
    Ranked("actors.*.audience_cost", 0.116, "answer_7d"),
    Ranked("decision.ripeness", 0.096, "calm_14d"),
    Ranked("third_parties.*.mediation.agreement_rate", 0.08, "calm_14d"),
    Ranked("decision.measure_review_rate", 0.078, "calm_14d"),
    Ranked("decision.reprisal_value", 0.066, "forces_30d"),
    Ranked("third_parties.*.leverage", 0.055, "forces_30d"),
    Ranked("decision.reciprocity", 0.045, "calm_14d"),
    Ranked("decision.standing_cost", 0.038, "calm_14d"),
    Ranked("armed_groups.*.daily_rate", 0.036, "forces_30d"),
    Ranked("decision.coercion", 0.031, "forces_30d"),
    Ranked("decision.risk", 0.028, "forces_30d"),
    Ranked("decision.talks", 0.026, "forces_30d"),
    Ranked("actors.*.perception.error", 0.025, "forces_30d"),
    Ranked("decision.hurting_stalemate", 0.023, "calm_14d"),
    Ranked("decision.protection", 0.019, "forces_30d"),
    Ranked("decision.direct_agreement_rate", 0.015, "calm_14d"),
)
"""``rank`` of the Morris tables in docs/data/drivers/, highest first, to three decimals."""


def generic(path: str) -> str:
    """A sweep's key path for any state, group or third party: 'actors.iran.cost' is
    'actors.*.cost', 'third_parties.china.leverage.iran' is 'third_parties.*.leverage'."""
    key = re.sub(r"^(actors|armed_groups|third_parties)\.[^.]+\.", r"\1.*.", path)
    return re.sub(r"^third_parties\.\*\.leverage\.[^.]+$", "third_parties.*.leverage", key)


def rank(tables: Mapping[str, pd.DataFrame]) -> tuple[Ranked, ...]:
    """The ranking of Morris tables (``morris_<outcome>.csv``: parameter, mu_star, ...) by the
    rule above: each generic key's largest mu* over the outcomes, highest first."""
    best: dict[str, Ranked] = {}
    for outcome in OUTCOMES:
        for row in tables[outcome].to_dict("records"):
            key, mu_star = generic(str(row["parameter"])), round(float(row["mu_star"]), 3)
            if key not in best or mu_star > best[key].mu_star:
                best[key] = Ranked(key, mu_star, outcome)
    return tuple(sorted(best.values(), key=lambda r: (-r.mu_star, r.key)))


def drivers(ranking: tuple[Ranked, ...] = RANKING) -> tuple[str, ...]:
    """The keys the dashboard offers controls for, highest first."""
    return tuple(r.key for r in ranking if r.mu_star >= THRESHOLD)


@dataclass(frozen=True)
class Lever:
    """How a driver is shown: its label, and its choices: fixed ``values``, or else
    ``MULTIPLES`` of the scenario's own value (of the schema's default when that is 0)."""

    label: str
    values: tuple[float, ...] = ()


MULTIPLES = (0.5, 0.75, 1.0, 1.5, 2.0)
"""Half to twice the scenario's value: the range the ranking measured."""
SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)

LEVERS: dict[str, Lever] = {
    "decision.rationality": Lever("Rationality: how surely the best option is chosen"),
    "decision.deterrence": Lever("Deterrence: value of answering in kind"),
    "decision.coercion": Lever("Coercion: value of going one rung higher", SHARES),
    "decision.cost_convexity": Lever("How steeply force costs more, rung by rung"),
    "decision.risk": Lever("Weight of the risk of the answer"),
    "decision.standing_cost": Lever("Cost of a standing hostile posture"),
    "decision.reciprocity": Lever("Pull to answer conciliation in kind"),
    "decision.review_rate": Lever("Daily chance to revisit a hostile posture", SHARES),
    "decision.ripeness": Lever("Ripeness: pull of a hurting stalemate to talks"),
    "decision.talks": Lever("Weight of talks under way"),
    "decision.protection": Lever("Weight of a third party's protection"),
    "decision.reprisal_value": Lever("Value left in answering a reprisal", SHARES),
    "decision.measure_review_rate": Lever("Daily chance to lift measures"),
    "decision.hurting_stalemate": Lever("Hurt's pull towards a ceasefire"),
    "decision.direct_agreement_rate": Lever("Daily chance of a truce without a mediator"),
    "actors.*.cost": Lever("Cost of using force"),
    "actors.*.audience_cost": Lever("Audience cost", (0.0, 0.25, 0.5, 1.0, 2.0)),
    "actors.*.pledge": Lever("Chance of a public pledge to answer", SHARES),
    "actors.*.perception.error": Lever("Chance of misreading an act", (0.0, 0.05, 0.1, 0.2, 0.3)),
    "third_parties.*.leverage": Lever("Leverage"),
    "third_parties.*.mediation.agreement_rate": Lever("Daily chance talks agree"),
    "armed_groups.*.daily_rate": Lever("Attacks"),
}
"""Every parameter the sweep screens, so that whatever it ranks has words on the page."""
