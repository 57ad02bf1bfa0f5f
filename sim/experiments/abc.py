"""pyabc made to run as the rest of the program does: its proposals drawn on our executors
(local processes or Dask) so that a calibration is the same on any of them, and a population
threshold that resumes exactly from a stored database.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pyabc
from pyabc.sampler import Sampler

# --------------------------------------------------------------------------- #
# Sampling: the same particles on any executor
# --------------------------------------------------------------------------- #

_GLOBAL_RNG = threading.Lock()
"""pyabc draws from numpy's global generator: one proposal at a time per process."""


def _propose(payload: bytes, seed: int, t: int, index: int) -> Any:
    """Proposal ``index`` of pyabc's generation ``t`` (from 0): its draws come from its own
    seed alone."""
    simulate_one = cloudpickle.loads(payload)
    with _GLOBAL_RNG:
        saved = np.random.get_state()
        np.random.seed(np.random.SeedSequence([seed, t + 1, index]).generate_state(4))
        try:
            return simulate_one()
        finally:
            np.random.set_state(saved)


class ExecutorSampler(Sampler):
    """A pyabc sampler that gives the same sample on any ``concurrent.futures.Executor``.

    pyabc's own samplers take particles in the order they finish and reseed each worker from
    the operating system, so their results depend on timing. This one submits proposals by
    index, each with its own seed (``_propose``), and accepts them in index order up to the
    ``n``-th acceptance; proposals computed beyond it are dropped. How many are submitted at a
    time changes only the work wasted, never the sample.
    """

    def __init__(
        self,
        executor: Executor,
        seed: int,
        slots: int,
        report: Callable[[str], None] | None = None,
        generations: int = 0,
    ) -> None:
        super().__init__()
        self.executor = executor
        self.seed = seed
        self.slots = max(1, slots)
        self.report = report
        self.generations = generations

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Any],
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        clock = time.perf_counter()
        payload = cloudpickle.dumps(simulate_one)
        sample = self._create_empty_sample()
        accepted = proposed = 0
        rate = 1.0
        while accepted < n and proposed < max_eval:
            size = max(self.slots, min(4 * n, math.ceil((n - accepted) / max(rate, 0.05))))
            futures = [
                self.executor.submit(_propose, payload, self.seed, t, index)
                for index in range(proposed, proposed + size)
            ]
            try:
                particles = [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            gained = 0
            for particle in particles:
                proposed += 1
                sample.append(particle)
                if particle.accepted:
                    accepted += 1
                    gained += 1
                    if accepted == n:
                        break
            rate = max(gained, 1) / len(particles)
        self.nr_evaluations_ = proposed
        if accepted < n:
            sample.ok = False
        if self.report is not None:
            self.report(
                f"generation {t + 1} of {self.generations}: {accepted} particles accepted of "
                f"{proposed} proposed ({time.perf_counter() - clock:.0f} s)"
            )
        return sample


class ResumableQuantileEpsilon(pyabc.epsilon.QuantileEpsilon):
    """pyabc's weighted-quantile threshold, resumable: a run resumed at generation ``t > 0``
    takes its threshold from the last stored generation, as an uninterrupted run does (pyabc
    0.13 restarts a numeric initial threshold instead)."""

    def initialize(
        self,
        t: int,
        get_weighted_distances: Callable[[], pd.DataFrame],
        get_all_records: Callable[[], list[dict[str, Any]]],
        max_nr_populations: int,
        acceptor_config: dict[str, Any],
    ) -> None:
        if t > 0:
            self._update(t, get_weighted_distances())
