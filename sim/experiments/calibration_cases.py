"""The case library as calibration sees it: each case's merged scenario and scored items, the
overrides a particle makes of the calibrated keys (``*`` for every state), and the simulator
pyabc calls, which gives a particle's probability of every scored item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    pass

from sim.analysis import outcomes as catalogue
from sim.experiments import backtest
from sim.inputs.parameters import Parameter

# --------------------------------------------------------------------------- #
# The library and the simulator
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Library:
    """A validated case library: its cases, their merged scenario files, and its fingerprint."""

    folder: Path
    cases: tuple[backtest.Case, ...]
    mappings: Mapping[str, dict[str, Any]]
    digest: str

    def without(self, name: str) -> Library:
        """The library less one case (its fingerprint stays the whole library's)."""
        return replace(self, cases=tuple(c for c in self.cases if c.name != name))


def load(folder: Path) -> Library:
    """Read and check a case library (``LibraryError`` lists every problem)."""
    from sim.inputs.loader import merged_mapping

    cases = tuple(backtest.load_library(folder))
    mappings = {case.name: merged_mapping(folder / f"{case.name}.yaml") for case in cases}
    return Library(folder, cases, mappings, library_digest(folder))


def library_digest(folder: Path) -> str:
    """sha256 of the names and contents of every YAML file of a library folder."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


FINGERPRINT_RUNS = 50
"""Runs of each case behind the model's fingerprint."""


def model_version(library: Library) -> dict[str, str]:
    """The package version and a fingerprint of the model's behaviour on this library: sha256
    of the runs tables of ``FINGERPRINT_RUNS`` runs of each case as written. A calibration is
    resumed only with a model that computes the same numbers; an edit that changes none (the
    wording of a story, say) leaves the fingerprint as it was."""
    from sim.analysis.statistics import runs_table
    from sim.experiments.ensemble import simulate
    from sim.model.streams import run_seeds

    digest = hashlib.sha256()
    for case in library.cases:
        seeds = run_seeds(case.scenario.seed, 0, FINGERPRINT_RUNS)
        table = runs_table(simulate(case.scenario, seeds), case.scenario)
        digest.update(table.to_csv(index=False, lineterminator="\n").encode())
    try:
        version = metadata.version("escalation-sim")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"version": version, "fingerprint": digest.hexdigest()[:16]}


def expand(mapping: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Loader overrides for one calibrated key: ``*`` becomes every id found there."""
    parts = key.split(".")
    if "*" not in parts:
        return {key: value}
    star = parts.index("*")
    node: Any = mapping
    for part in parts[:star]:
        node = node.get(part) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        return {}
    overrides: dict[str, Any] = {}
    for name in node:
        overrides.update(
            expand(mapping, ".".join([*parts[:star], str(name), *parts[star + 1 :]]), value)
        )
    return overrides


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def case_seed(seed: int, case: str) -> int:
    """The seed of a case's runs in a calibration: the same for every particle."""
    state = np.random.SeedSequence([seed, _name_key(case)]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


@dataclass(frozen=True)
class CaseData:
    """What a worker needs to forecast one case: its merged scenario and its scored items."""

    name: str
    mapping: dict[str, Any]
    items: tuple[str, ...]
    observed: tuple[float, ...]


def case_data(library: Library) -> tuple[CaseData, ...]:
    """Each case as workers need it (scored items only, in ``backtest.ITEMS`` order)."""
    return tuple(
        CaseData(
            case.name,
            dict(library.mappings[case.name]),
            tuple(i for i in backtest.ITEMS if case.observed[i].value is not None),
            tuple(
                float(bool(case.observed[i].value))
                for i in backtest.ITEMS
                if case.observed[i].value is not None
            ),
        )
        for case in library.cases
    )


def overrides_for(
    mapping: Mapping[str, Any], parameters: Sequence[Parameter], values: Sequence[float]
) -> dict[str, Any]:
    """Loader overrides setting each calibrated parameter to its value in one case."""
    found: dict[str, Any] = {}
    for parameter, value in zip(parameters, values, strict=True):
        found.update(expand(mapping, parameter.path, float(value)))
    return found


def item_outcomes(
    case: CaseData, overrides: Mapping[str, Any], seeds: np.ndarray
) -> dict[str, np.ndarray]:
    """Each item's outcome (True/False) in each of the runs with ``seeds``, under ``overrides``."""
    from sim.analysis.statistics import runs_table
    from sim.experiments.ensemble import simulate
    from sim.inputs.loader import scenario_from_mapping

    scenario = scenario_from_mapping(case.mapping, overrides, source=case.name)
    table = runs_table(simulate(scenario, seeds), scenario)
    states = list(scenario.actors)
    return {
        item: np.asarray(
            catalogue.outcome(
                backtest.ITEMS[item][0], scenario.horizon, scenario.ladder.war, states
            ).per_run(table),
            dtype=bool,
        )
        for item in case.items
    }


@dataclass(frozen=True)
class LibraryModel:
    """The simulator pyabc calls: a particle's predicted probability of every scored item.

    It carries the merged scenarios, so workers on another machine need no files.
    """

    cases: tuple[CaseData, ...]
    parameters: tuple[Parameter, ...]
    runs: int
    seed: int

    def __call__(self, particle: Mapping[str, float]) -> dict[str, np.ndarray]:
        from sim.model.streams import run_seeds

        values = [particle[p.short] for p in self.parameters]
        probabilities: list[float] = []
        for case in self.cases:
            seeds = run_seeds(case_seed(self.seed, case.name), 0, self.runs)
            found = item_outcomes(case, overrides_for(case.mapping, self.parameters, values), seeds)
            probabilities += [float(found[item].mean()) for item in case.items]
        return {"p": np.asarray(probabilities)}

    def observed(self) -> dict[str, np.ndarray]:
        return {"p": np.asarray([o for case in self.cases for o in case.observed])}


def brier_distance(x: Mapping[str, np.ndarray], x_0: Mapping[str, np.ndarray]) -> float:
    """Mean Brier score of a particle's probabilities against what happened (0 or 1)."""
    return float(np.mean((x["p"] - x_0["p"]) ** 2))
