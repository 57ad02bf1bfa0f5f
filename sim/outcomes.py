"""What a batch of runs leaves behind, whichever engine ran it.

Both engines (the Mesa agents and the vectorised one) return a ``Batch``; everything downstream
(result tables, curves, summaries) is computed from it, so the two engines cannot differ in how
their results are counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model import EscalationModel

NO_DAY = -1
"""Marks 'never' in day arrays (first strike, back to calm)."""


@dataclass(frozen=True)
class Batch:
    """Runs of one scenario, stacked: one row per run."""

    rungs: np.ndarray
    """(runs, horizon + 1, states) int8: each state's highest rung towards any adversary, by day."""
    first_strike_day: np.ndarray
    """(runs,) int: first day >= 1 on which a state climbed to the strike rung or above; -1 never."""
    mediation_offered: np.ndarray
    """(runs,) bool: some mediator offered mediation during the run."""
    mediation_accepted: np.ndarray
    """(runs,) bool: some offer was accepted by all its parties."""
    seeds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """(runs,) int: each run's seed, where the runner knows it (``runs.csv``'s ``seed``)."""

    @property
    def runs(self) -> int:
        return int(self.rungs.shape[0])

    @staticmethod
    def concatenate(batches: list[Batch]) -> Batch:
        return Batch(
            rungs=np.concatenate([b.rungs for b in batches]),
            first_strike_day=np.concatenate([b.first_strike_day for b in batches]),
            mediation_offered=np.concatenate([b.mediation_offered for b in batches]),
            mediation_accepted=np.concatenate([b.mediation_accepted for b in batches]),
            seeds=np.concatenate([b.seeds for b in batches]),
        )


def batch_of_models(models: list[EscalationModel]) -> Batch:
    """Stack finished Mesa runs into a ``Batch``."""
    strike_kinds = {"strike", "war"}
    first_strike = [
        next((e.day for e in m.events if e.day >= 1 and e.kind in strike_kinds), NO_DAY)
        for m in models
    ]
    return Batch(
        rungs=np.stack([m.rung_array() for m in models]).astype(np.int8),
        first_strike_day=np.array(first_strike, dtype=np.int64),
        mediation_offered=np.array(
            [any(md.offered for md in m.mediators.values()) for m in models]
        ),
        mediation_accepted=np.array(
            [any(md.accepted for md in m.mediators.values()) for m in models]
        ),
    )
