"""Calibration: fit the model's shared behavioural parameters to the case library.

The teaching defaults of ``decision:`` and of the library's per-state standard (``cost``,
``audience_cost``) were set by judgement. Here a small set of them (``PARAMETERS``) is fitted to
what happened in the crises of a case library (``sim.experiments.backtest``), by approximate Bayesian
computation with sequential Monte Carlo (ABC-SMC; Toni et al. 2009) on the simulator itself:

- a *particle* is one value of every calibrated parameter, applied to every case through loader
  overrides (``actors.*.cost`` sets the key for every state of the case);
- the simulator, for a particle, runs every case's ensemble (``runs`` runs each) and gives each
  scored item's predicted probability (items ``not applicable`` or ``disputed`` are not scored);
- the distance of a particle to the data is the mean Brier score of those probabilities against
  what happened, a proper scoring rule (Gneiting & Raftery 2007), as in scoring-rule
  likelihood-free inference (Pacchiardi & Dutta 2021);
- the first generation draws ``particles`` particles from the prior; each later generation proposes
  particles around the previous one (pyabc's multivariate normal kernel) and accepts those at
  most as far from the data as the previous generation's weighted median distance, until
  ``particles`` are accepted; the last generation, with its importance weights, is the posterior.

The posterior is therefore "the parameter values whose forecasts of the library score best",
spread as far as the last threshold allows: it narrows with more generations. It is a
generalized, score-based posterior (Bissiri, Holmes & Walker 2016), not a full likelihood one
(``docs/calibration.md`` says what this means for its use).

Reproducibility. Every particle's cases are run on *common random numbers*: case ``c`` always
uses the run seeds of ``SeedSequence([seed, hash(c)])``, whatever the particle, so particles
differ only by their parameters and the distance ranks parameters, not luck (Glasserman & Yao
1992). pyabc draws its proposals from numpy's global generator; proposal ``i`` of generation ``g``
(counting from 1) is made with that generator seeded from ``SeedSequence([seed, g, i])`` (and
its previous state restored after), and the proposals of a generation are taken in index order up
to the ``particles``-th accepted one. So a calibration depends only on its seed and settings:
not on the number of workers, on the executor (local processes or a Dask cluster), or on being
interrupted and resumed, since pyabc stores each finished generation in its database.

pyabc rather than sbi or ELFI: a particle costs about a second and gives a handful of
probabilities, so sbi's neural estimators (which pay off with many thousands of simulations) do
not fit the time budget; pyabc has ABC-SMC with adaptive thresholds, a database that resumes a
run, and samplers that can be replaced by one of ours (``ExecutorSampler``), which is what makes
the results independent of the executor.
"""

from __future__ import annotations

import datetime
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyabc
import yaml
from pyabc.weighted_statistics import effective_sample_size

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from sim.experiments import backtest
from sim.experiments.abc import ExecutorSampler, ResumableQuantileEpsilon
from sim.experiments.calibration_cases import (
    CaseData,
    Library,
    LibraryModel,
    brier_distance,
    case_data,
    expand,
    item_outcomes,
    model_version,
)
from sim.experiments.calibration_folder import (
    DB_NAME,
    KIND,
    CalibrationError,
    check_folder,
    new_store,
    pyabc_version,
    read_metadata,
    stored_generations_in,
    write_metadata,
)
from sim.inputs.errors import Problem
from sim.inputs.parameters import Parameter

DEFAULT_OUT = Path("results/calibration")
DEFAULT_CV_OUT = Path("results/calibration_cv")
PROFILE_NAME = "calibrated"

PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "decision.rationality",
        "real",
        8.0,
        1.0,
        24.0,
        source=(
            "teaching default range: from nearly random choice (1: an option worth 0.5 more is "
            "chosen 1.6 times as often) to nearly sure (24)"
        ),
        label="rationality",
    ),
    Parameter(
        "decision.deterrence",
        "real",
        4.0,
        0.0,
        12.0,
        source=("teaching default range: no value in answering, up to three times the default"),
        label="deterrence",
    ),
    Parameter(
        "actors.*.cost",
        "real",
        3.0,
        0.5,
        8.0,
        source=(
            "teaching default range around the library standard 3 (docs/cases/README.md, rule 3)"
        ),
        label="cost",
    ),
    Parameter(
        "decision.review_rate",
        "real",
        0.5,
        0.05,
        1.0,
        source=(
            "teaching default range: a quiet hostile posture revisited every 20 days to every day"
        ),
        label="review_rate",
    ),
    Parameter(
        "actors.*.audience_cost",
        "real",
        0.5,
        0.0,
        2.0,
        source=("teaching default range around the library standard 0.5 (rule 3)"),
        label="audience_cost",
    ),
    Parameter(
        "decision.operation_continuation",
        "real",
        0.85,
        0.5,
        0.97,
        source=(
            "model 3: an operation's daily chance to go on, from 2 days on average to 33 "
            "(the review's prototype used 0.7 and 0.85)"
        ),
        label="operation_continuation",
    ),
    Parameter(
        "decision.engagement_continuation",
        "real",
        0.6,
        0.2,
        0.95,
        source=("model 3: an engagement's daily chance to go on, from 1.25 days on average to 20"),
        label="engagement_continuation",
    ),
    Parameter(
        "decision.direct_agreement_rate",
        "real",
        0.016,
        0.0,
        0.1,
        source=(
            "model 3: the daily chance, before hurt, that two states that have hurt each other "
            "agree a truce alone, from never to one in ten a day"
        ),
        label="direct_agreement_rate",
    ),
)
"""The calibrated parameters, all with uniform priors (teaching defaults: the literature gives
the form of each term, not its size). ``docs/calibration.md`` says why these and not others."""


@dataclass(frozen=True)
class Settings:
    """What a calibration's result depends on, besides the library and the model."""

    populations: int
    particles: int
    runs: int
    seed: int
    parameters: tuple[Parameter, ...] = PARAMETERS

    def as_dict(self) -> dict[str, Any]:
        return {
            "populations": self.populations,
            "particles": self.particles,
            "runs": self.runs,
            "seed": self.seed,
            "parameters": {
                p.short: {"key": p.path, "low": p.low, "high": p.high} for p in self.parameters
            },
        }


DEFAULT_SETTINGS = Settings(populations=5, particles=40, runs=500, seed=1)
"""The default calibration: under 15 minutes on 2 cores (docs/calibration.md gives timings)."""
DEFAULT_CV_SETTINGS = Settings(populations=3, particles=30, runs=300, seed=1)
"""Each fold of the leave-one-case-out cross-validation: smaller, as there are ten of them."""
FEW_EFFECTIVE_PARTICLES = 20
"""Below this effective sample size a 90% interval's 5% tail holds less than one particle's
worth of weight, so its ends say little; ``calibrate`` says so."""
CHECK_RUNS = 2000
"""Runs per case when the posterior is scored against the library (as ``backtest``)."""


# --------------------------------------------------------------------------- #
# The calibration folder
# --------------------------------------------------------------------------- #


@dataclass
class Posterior:
    """A finished (or interrupted) calibration: its particles and how it got there."""

    parameters: tuple[Parameter, ...]
    particles: pd.DataFrame
    generations: pd.DataFrame
    metadata: dict[str, Any]

    @property
    def complete(self) -> bool:
        return bool(self.metadata.get("complete"))

    @property
    def weights(self) -> np.ndarray:
        return self.particles["weight"].to_numpy()

    @property
    def values(self) -> np.ndarray:
        return self.particles[[p.path for p in self.parameters]].to_numpy()


def folder_settings(
    library: Library, settings: Settings, left_out: str | None = None
) -> dict[str, Any]:
    """Everything a calibration's result depends on: a resume must match it exactly."""
    return {
        "library_hash": library.digest,
        "cases": [case.name for case in library.cases],
        "left_out": left_out,
        "model": model_version(library),
        **settings.as_dict(),
        "pyabc": pyabc_version(),
    }


# --------------------------------------------------------------------------- #
# Running a calibration
# --------------------------------------------------------------------------- #


def calibrate(
    library: Library,
    out: Path,
    settings: Settings,
    executor: Executor,
    slots: int = 1,
    left_out: str | None = None,
    force: bool = False,
    report: Callable[[str], None] | None = None,
    command: Sequence[str] = (),
) -> Posterior:
    """Fit ``settings.parameters`` to ``library`` by ABC-SMC; store it all in ``out``.

    Rerunning with the same library, model and settings resumes: finished generations are read
    from ``out/pyabc.db`` and the result is the one an uninterrupted run gives. On Ctrl-C the
    finished generations stay stored (``metadata.json`` says how many) and
    ``KeyboardInterrupt`` is raised again.
    """
    expected = folder_settings(library, settings, left_out)
    count = len(settings.parameters)
    if settings.particles < count + 2:
        raise CalibrationError(
            [
                Problem(
                    "--particles",
                    str(settings.particles),
                    f"expected at least {count + 2} for {count} parameters (the proposal "
                    "kernel needs a covariance)",
                )
            ]
        )
    if not library.cases:
        raise CalibrationError([Problem(str(library.folder), "", "no case left to calibrate on")])
    check_folder(out, expected, force)
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    meta: dict[str, Any] = {
        "kind": KIND,
        "settings": expected,
        "library": str(library.folder),
        "complete": False,
        "generations_done": 0,
        "started": started,
        "command": list(command),
    }
    finished = None
    stored, _ = read_metadata(out, KIND)  # checked by check_folder: None, or of the right types
    if stored is not None:
        meta["started"] = stored.get("started", started)
        meta["command"] = stored.get("command", meta["command"])  # the command that started it
        meta["wall_seconds_before"] = stored.get("wall_seconds", 0.0)
        finished = stored.get("finished") if stored.get("complete") else None
    clock = time.perf_counter()
    model = LibraryModel(case_data(library), settings.parameters, settings.runs, settings.seed)
    prior = pyabc.Distribution(
        **{
            p.short: pyabc.RV("uniform", p.bounds[0], p.bounds[1] - p.bounds[0])
            for p in settings.parameters
        }
    )
    sampler = ExecutorSampler(executor, settings.seed, slots, report, settings.populations)

    def smc() -> pyabc.ABCSMC:
        return pyabc.ABCSMC(
            model,
            prior,
            pyabc.distance.FunctionDistance(brier_distance),
            population_size=settings.particles,
            sampler=sampler,
            eps=ResumableQuantileEpsilon(initial_epsilon=np.inf, alpha=0.5),
            transitions=pyabc.MultivariateNormalTransition(),
        )

    db = out / DB_NAME
    done = stored_generations_in(db)
    meta["generations_done"] = done
    write_metadata(out, meta)
    _quiet_pyabc()
    try:
        if done == 0:  # nothing finished yet (or nothing begun): a new database, made whole
            db.unlink(missing_ok=True)
            new_store(out, lambda url: smc().new(url, model.observed()) and None)
        abc = smc()
        abc.load(f"sqlite:///{db.resolve()}", 1)
        if done < settings.populations:
            if report is not None and done:
                report(f"resuming after generation {done} of {settings.populations}")
            with warnings.catch_warnings():
                # pyabc compares the first threshold (infinite) with none before it: harmless
                warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
                abc.run(max_nr_populations=settings.populations - done)
    finally:
        meta["generations_done"] = stored_generations_in(db)
        meta["wall_seconds"] = round(
            meta.get("wall_seconds_before", 0.0) + time.perf_counter() - clock, 1
        )
        meta.pop("wall_seconds_before", None)
        write_metadata(out, meta)
    posterior = read_posterior(out, settings.parameters, meta)
    meta.update(
        complete=True,
        # when the posterior was finished: rerunning a finished calibration keeps it
        finished=finished or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        versions=versions(),
    )
    write_metadata(out, meta)
    posterior.metadata = meta
    return posterior


def _quiet_pyabc() -> None:
    import logging

    for name in ("ABC", "pyabc"):
        logging.getLogger(name).setLevel(logging.WARNING)


def versions() -> dict[str, str]:
    from sim.files.folders import versions

    return versions("pyabc")


def read_posterior(out: Path, parameters: Sequence[Parameter], meta: dict[str, Any]) -> Posterior:
    """The last generation of the calibration stored in ``out`` (and the path to it)."""
    history = pyabc.History(f"sqlite:///{(out / DB_NAME).resolve()}", _id=1)
    population = history.get_population(t=history.max_t)
    rows = []
    for index, particle in enumerate(population.particles):
        rows.append(
            {
                "particle": index,
                "weight": float(particle.weight),
                **{p.path: float(particle.parameter[p.short]) for p in parameters},
                "brier": float(particle.distance),
            }
        )
    particles = pd.DataFrame(rows)
    particles["weight"] = particles["weight"] / particles["weight"].sum()
    table = history.get_all_populations()
    table = table[table["t"] >= 0]
    generations = pd.DataFrame(
        {
            "generation": table["t"].astype(int) + 1,
            "epsilon": table["epsilon"].astype(float),
            "proposed": table["samples"].astype(int),
            "accepted": table["particles"].astype(int),
        }
    ).reset_index(drop=True)
    generations["acceptance_rate"] = generations["accepted"] / generations["proposed"]
    generations["effective_particles"] = [
        float(effective_sample_size(history.get_distribution(t=int(t))[1])) for t in table["t"]
    ]
    return Posterior(tuple(parameters), particles, generations, meta)


def summary(posterior: Posterior) -> pd.DataFrame:
    """Per parameter: prior, teaching default, posterior mean, sd, median and 90% interval."""
    from pyabc.weighted_statistics import weighted_quantile

    weights = posterior.weights
    rows = []
    for parameter in posterior.parameters:
        values = posterior.particles[parameter.path].to_numpy()
        mean = float(np.sum(weights * values))
        rows.append(
            {
                "parameter": parameter.path,
                "prior": f"uniform({parameter.low:g}, {parameter.high:g})",
                "prior_source": parameter.source,
                "teaching_default": parameter.value,
                "mean": mean,
                "sd": float(np.sqrt(np.sum(weights * (values - mean) ** 2))),
                "q05": float(weighted_quantile(values, weights, alpha=0.05)),
                "median": float(weighted_quantile(values, weights, alpha=0.5)),
                "q95": float(weighted_quantile(values, weights, alpha=0.95)),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- #
# Forecasts with the posterior, and scores
# --------------------------------------------------------------------------- #


def _case_forecast(
    case: CaseData,
    scenario_seed: int,
    runs: int,
    parameters: tuple[Parameter, ...],
    values: np.ndarray | None,
    weights: np.ndarray | None,
) -> dict[str, float]:
    """Each item's probability over ``runs`` runs of a case: as written, or with the calibrated
    keys drawn from the posterior exactly as a scenario using its profile draws them (the
    particles as ``uncertainty.profiles``, each key ``{profile: ...}``: parameter sets from the
    case's seed, each run's set from its own seed; ``sim.model.uncertainty``)."""
    from sim.model.streams import run_seeds

    seeds = run_seeds(scenario_seed, 0, runs)
    overrides: dict[str, Any] = {}
    if values is not None and weights is not None:
        profile = {
            "weights": [float(w) for w in weights],
            "values": {p.path: [float(v) for v in values[:, i]] for i, p in enumerate(parameters)},
        }
        mapping = {**case.mapping, "uncertainty": {"profiles": {PROFILE_NAME: profile}}}
        case = replace(case, mapping=mapping)
        for p in parameters:
            overrides.update(expand(mapping, p.path, {"profile": PROFILE_NAME}))
    found = item_outcomes(case, overrides, seeds)
    return {item: float(found[item].mean()) for item in case.items}


def forecasts(
    library: Library,
    runs: int,
    executor: Executor,
    posterior: Posterior | None = None,
) -> pd.DataFrame:
    """Each case's probability of each item, in the table format of ``backtest.forecasts``.

    With a posterior, the calibrated keys are drawn from it as a scenario using the calibrated
    profile draws them (``_case_forecast``); without, the cases run as written. Run ``i`` of a case has the seed it has in ``backtest``, so the two forecasts
    are paired run by run.
    """
    data = {c.name: c for c in case_data(library)}
    values = None if posterior is None else posterior.values
    weights = None if posterior is None else posterior.weights
    parameters = PARAMETERS if posterior is None else posterior.parameters
    futures = {
        case.name: executor.submit(
            _case_forecast,
            data[case.name],
            case.scenario.seed,
            runs,
            parameters,
            values,
            weights,
        )
        for case in library.cases
    }
    rows = []
    for case in library.cases:
        probabilities = futures[case.name].result()
        for item, (_, label) in backtest.ITEMS.items():
            seen = case.observed[item]
            rows.append(
                {
                    "case": case.name,
                    "item": item,
                    "label": label,
                    "probability": probabilities.get(item, np.nan),
                    "runs": runs,
                    "observed": np.nan if seen.value is None else float(seen.value),
                    "status": seen.status,
                    "date": seen.date.isoformat() if seen.date else "",
                }
            )
    return pd.DataFrame(rows)


def compare_scores(calibrated: pd.DataFrame, defaults: pd.DataFrame) -> pd.DataFrame:
    """``backtest.summary`` of the calibrated forecasts, with the teaching defaults' Brier
    score and the calibrated model's skill against them, item by item."""
    scores = backtest.summary(calibrated)
    reference = backtest.summary(defaults).set_index("item")
    scores["brier_defaults"] = scores["item"].map(reference["brier"])
    reference_brier = scores["brier_defaults"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        skill = 1 - scores["brier"].to_numpy() / reference_brier
    # a Brier score of 0 cannot be beaten: no skill is defined against it (as in backtest)
    scores["skill_vs_defaults"] = np.where(reference_brier > 0, skill, np.nan)
    return scores


# --------------------------------------------------------------------------- #
# The calibrated profile
# --------------------------------------------------------------------------- #


def profile(posterior: Posterior) -> dict[str, Any]:
    """The posterior as a profile a scenario can use (``{profile: calibrated}``).

    ``parameters`` maps each calibrated key to the particles' values and weights, in particle
    order: a run draws one particle index by weight and takes every key's value at that index.
    """
    settings = posterior.metadata.get("settings", {})
    weights = [float(w) for w in posterior.weights]
    return {
        "profile": PROFILE_NAME,
        "description": "Posterior of the shared behavioural parameters fitted to the case "
        "library by ABC-SMC (docs/calibration.md). Each run draws one particle by weight; "
        "all keys take that particle's values.",
        "parameters": {
            p.path: {
                "samples": [float(v) for v in posterior.particles[p.path]],
                "weights": list(weights),  # a list of its own: no YAML aliases in the file
            }
            for p in posterior.parameters
        },
        "provenance": {
            "library": posterior.metadata.get("library"),
            "library_hash": settings.get("library_hash"),
            "cases": settings.get("cases"),
            "model": settings.get("model"),
            "seed": settings.get("seed"),
            "populations": settings.get("populations"),
            "particles": settings.get("particles"),
            "runs": settings.get("runs"),
            "priors": {p.path: f"uniform({p.low:g}, {p.high:g})" for p in posterior.parameters},
            "final_epsilon": float(posterior.generations["epsilon"].iloc[-1]),
            "created": posterior.metadata.get("finished"),
            "command": " ".join(posterior.metadata.get("command") or []),
        },
    }


def profile_yaml(posterior: Posterior) -> str:
    header = (
        "# The calibrated profile: written by `python run.py calibrate` (docs/calibration.md).\n"
        "# A scenario uses it with {profile: calibrated}; do not edit by hand.\n"
    )
    return header + yaml.safe_dump(
        profile(posterior), sort_keys=False, width=100, default_flow_style=None
    )


def rows_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain data, NaN as null."""
    return [
        {str(k): (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def scored(
    library: Library, runs: int, executor: Executor, posterior: Posterior | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Items scored with the posterior (or out-of-sample table) beside the cases as written."""
    calibrated = backtest.score(forecasts(library, runs, executor, posterior))
    defaults = backtest.score(forecasts(library, runs, executor))
    return calibrated, defaults


def write_calibration(
    out: Path,
    library: Library,
    posterior: Posterior,
    executor: Executor,
    check_runs: int,
    figures: Callable[[Posterior, pd.DataFrame], Mapping[str, Figure]],
) -> dict[str, Any]:
    """Write a finished calibration's tables, profile and ``figures`` (of the posterior and its
    summary table; drawn by the caller's view), after scoring its posterior against the library
    it was fitted to (in-library, with ``check_runs`` fresh runs a case)."""
    from sim.files import folders

    table = summary(posterior)
    calibrated, defaults = scored(library, check_runs, executor, posterior)
    scores = compare_scores(calibrated, defaults)
    calibrated["probability_defaults"] = defaults["probability"].to_numpy()
    folders.write_table(posterior.particles, out / "posterior.csv")
    folders.write_table(posterior.generations, out / "generations.csv")
    folders.write_table(table, out / "summary.csv")
    folders.write_table(calibrated, out / "items.csv")
    folders.write_table(scores, out / "scores.csv")
    folders.write_text(profile_yaml(posterior), out / f"{PROFILE_NAME}.yaml")
    for name, figure in figures(posterior, table).items():
        for suffix in (".png", ".svg"):
            folders.write_figure(figure, out / f"{name}{suffix}")
    data = {
        "meta": {**posterior.metadata, "check_runs": check_runs},
        "summary": rows_of(table),
        "generations": rows_of(posterior.generations),
        "scores": rows_of(scores),
        "items": rows_of(calibrated),
    }
    folders.write_json(data, out / "calibration.json")
    return data


def echo(quiet: bool) -> Callable[[str], None] | None:
    """A progress reporter to stderr, or none."""
    if quiet:
        return None

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    return say
