"""Parameter sweeps: how outcomes change as scenario parameters change.

A sweep lives in three rooms, and this module holds what is computed from a finished one
(:func:`analyze_sweep`):

* :mod:`sim.experiments.sweep_definition` — *what* a sweep is: parameters, design, runs, seed and outcomes
  from ``--param`` or a ``sweep:`` block, with its size limit checked before anything is built
  (the designs themselves are :mod:`sim.experiments.designs`).
* :mod:`sim.experiments.sweep_store` — *where* its results live: the append-only ``sweep.sqlite``, the
  folder lock, and ``sweep.csv`` exported from it.
* :mod:`sim.experiments.sweep_execution` — *how* it runs: each point evaluated on an executor
  (:mod:`sim.experiments.execution`: inline, a process pool or Dask) and stored as it finishes; Ctrl-C keeps
  every finished point.

Guarantees: point ``i`` of a definition is always the same override dict with the seed
``SeedSequence(seed, spawn_key=(i,))``, so results do not depend on execution order, executor or
interruptions; a rerun of the same definition resumes (finished points are skipped) and exports
byte for byte the ``sweep.csv`` of an uninterrupted sweep; a folder holding a different sweep is
refused and left untouched. Sensitivity indices of a Sobol or Morris sweep:
:func:`analyze_sweep`.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.experiments.axes import SweepError
from sim.experiments.sensitivity import morris_indices, sobol_indices
from sim.experiments.sweep_definition import SweepDefinition
from sim.inputs import arguments
from sim.inputs.arguments import whole

MAX_RESAMPLES = 100_000
"""The most bootstrap resamples ``analyze_sweep`` draws for its intervals (the default 1,000
is plenty; this keeps a mistyped number from running for hours)."""


def analyze_sweep(
    definition: SweepDefinition,
    results: pd.DataFrame,
    outcome: str,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
) -> pd.DataFrame:
    """Sensitivity indices of ``outcome`` for a sobol or morris sweep.

    Sobol: S1/ST with CIs (:func:`sim.experiments.sensitivity.sobol_indices`); Morris:
    mu_star (+CI)/sigma (:func:`sim.experiments.sensitivity.morris_indices`). Needs every
    design point finished without error.
    """
    if not isinstance(definition, SweepDefinition):
        raise TypeError(f"definition must be a SweepDefinition, got {type(definition).__name__}")
    if not isinstance(results, pd.DataFrame) or "point" not in results.columns:
        raise TypeError(
            f"results must be a sweep's table (sim.load_sweep), got {type(results).__name__}"
        )
    if not isinstance(outcome, str):
        raise TypeError(f"outcome must be an outcome's name, got {arguments.shown(outcome)}")
    if arguments.number("conf_level", conf_level, -math.inf) <= 0 or conf_level >= 1:
        raise ValueError(f"conf_level must be above 0 and below 1, got {conf_level!r}")
    whole("num_resamples", num_resamples, 1, MAX_RESAMPLES)
    if definition.design not in ("sobol", "morris"):
        raise SweepError(
            "sensitivity indices need a sobol or morris design, "
            f"this sweep is {definition.design!r}"
        )
    if outcome not in results.columns:
        raise SweepError(
            f"outcome {outcome!r} is not in the results (have: {', '.join(_outcomes_of(results))})"
        )
    n = definition.size()
    y = results.set_index("point")[outcome].reindex(range(n)).to_numpy(dtype=float)
    if definition.design == "sobol":
        return sobol_indices(
            definition.parameters,
            y,
            seed=definition.seed,
            second_order=definition.second_order,
            conf_level=conf_level,
            num_resamples=num_resamples,
        )
    X = definition.points().X
    assert X is not None
    return morris_indices(
        definition.parameters,
        X,
        y,
        seed=definition.seed,
        levels=definition.levels,
        conf_level=conf_level,
        num_resamples=num_resamples,
    )


def _outcomes_of(df: pd.DataFrame) -> list[str]:
    cols = set(df.columns)
    return [c for c in df.columns if f"{c}_low" in cols and f"{c}_high" in cols]
