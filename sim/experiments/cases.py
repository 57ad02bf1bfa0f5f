"""A case library read and checked: each real crisis's scenario and what happened.

A case library is a folder of scenarios (``<case>.yaml``) with a record of what happened beside
each (``<case>.observed.yaml``): each item of ``ITEMS`` (true, false, or not scored), and
optionally the crisis's trajectory class and its timing. ``docs/cases/README.md`` gives the
rule by which a crisis becomes a scenario and the format; ``sim.experiments.backtest`` scores the
model against the library.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis import outcomes as catalogue
from sim.inputs.loader import Problem, ScenarioError, load_scenario, read_yaml
from sim.model.scenario import Scenario

ITEMS: dict[str, tuple[str, str]] = {
    "answer_7d": ("answer_7d", "The state struck first answers with a strike within 7 days"),
    "forces_7d": ("forces_7d", "Either side strikes the other's state forces within 7 days"),
    "sustained": ("sustained", "Both sides strike, on three or more days in all"),
    "war": ("war", "War"),
    "restrike": ("restrike", "The opener strikes again after the answer"),
    "mediation_accepted": ("accepted", "Third-party mediation accepted"),
    "ceasefire_14d": ("ceasefire_14d", "A ceasefire within 14 days"),
    "calm_14d": ("calm_14d", "Back to the baseline within 14 days"),
    "calm_60d": ("calm_60d", "Back to the baseline within 60 days"),
}
"""Each observed item: the outcome of ``sim.analysis.outcomes`` behind it, and a label."""
ESCALATION = ("answer_7d", "forces_7d", "sustained", "war", "restrike")
"""The items that say whether the crisis escalates (the model review's grouping, §2.1)."""

NOT_SCORED = ("not applicable", "disputed")
HORIZON = 60
"""Days a case must run: the furthest item (calm_60d) looks that far."""
OBSERVED_SUFFIX = ".observed.yaml"
CLASSES = catalogue.TRAJECTORY_CLASSES
"""The trajectory classes, mildest first."""
TIMING = ("days_to_answer", "days_to_calm")
"""The timing measures, each days after day 0 (``never``: not within the horizon)."""
NEVER = HORIZON + 1
"""The day that stands for "never within the 60 days" when timing is scored."""


@dataclass(frozen=True)
class Observation:
    """What happened for one item: True, False, or None when not scored (with the status)."""

    value: bool | None
    status: str
    date: datetime.date | None
    evidence: str


@dataclass(frozen=True)
class Case:
    """A crisis of the library: its scenario and what happened."""

    name: str
    scenario: Scenario
    observed: dict[str, Observation]
    trajectory: Observation | None = None
    """The observed trajectory class (``value`` None; ``status`` the class or why it is not
    scored), or None when the observed file has no ``trajectory``."""
    timing: dict[str, int | None] | None = None
    """Each timing measure: days after day 0, ``NEVER`` for never, None when not applicable;
    None when the observed file has no ``timing``."""


class LibraryError(ScenarioError):
    """A case folder that cannot be backtested, with every problem found in it."""


def load_library(folder: Path) -> list[Case]:
    """Read every case of a folder; raise ``LibraryError`` listing every problem at once."""
    if not folder.is_dir():
        raise LibraryError([Problem(str(folder), "", "is not a folder of cases")])
    problems: list[Problem] = []
    cases = []
    scenarios = sorted(
        p
        for p in folder.glob("*.yaml")
        if not p.name.endswith(OBSERVED_SUFFIX) and not p.name.startswith("_")
    )
    observed_files = {
        p.name[: -len(OBSERVED_SUFFIX)]: p for p in folder.glob(f"*{OBSERVED_SUFFIX}")
    }
    for name in sorted(set(observed_files) - {p.stem for p in scenarios}):
        problems.append(
            Problem(str(observed_files[name]), "", f"no scenario {name}.yaml beside it")
        )
    for path in scenarios:
        observed_path = observed_files.get(path.stem)
        if observed_path is None:
            problems.append(
                Problem(
                    str(path),
                    "",
                    f"no record of what happened: expected {path.stem}{OBSERVED_SUFFIX} beside it",
                )
            )
            continue
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            problems += error.problems
            problems.append(
                Problem(
                    str(observed_path),
                    "",
                    f"its scenario {path.name} does not validate (see above)",
                )
            )
            continue
        if scenario.horizon < HORIZON:
            problems.append(
                Problem(
                    str(path),
                    "horizon",
                    f"a case runs at least {HORIZON} days (the items look that far), got {scenario.horizon}",
                )
            )
            continue
        found, trouble = _read_observed(observed_path, path.stem, scenario)
        problems += trouble
        if not trouble:
            raw = read_yaml(observed_path, "a record of what happened")
            trajectory, timing, more = _read_extras(observed_path, raw)
            problems += more
            if not more:
                cases.append(Case(path.stem, scenario, found, trajectory, timing))
    if not scenarios and not problems:
        problems.append(Problem(str(folder), "", "holds no case (no <case>.yaml files)"))
    if problems:
        raise LibraryError(problems)
    return cases


CODING_KEYS = ("field", "first", "second", "resolved", "why")
"""What each resolved disagreement between the two coders records."""


def _coding_problems(source: str, coding: Any) -> list[Problem]:
    """The ``coding:`` block: where the second coding is, and each disagreement resolved."""
    if coding is None:
        return []
    expected = (
        "expected {second_coder: a file of docs/cases/coding/second/, resolved: [a list of "
        "{" + ", ".join(CODING_KEYS) + "}]}"
    )
    if not isinstance(coding, dict) or set(coding) - {"second_coder", "resolved"}:
        return [Problem(source, "coding", expected)]
    problems = []
    if not isinstance(coding.get("second_coder"), str):
        problems.append(Problem(source, "coding.second_coder", "expected the second coder's file"))
    resolved = coding.get("resolved", [])
    if not isinstance(resolved, list):
        return [*problems, Problem(source, "coding.resolved", expected)]
    for index, entry in enumerate(resolved):
        if not isinstance(entry, dict) or set(entry) != set(CODING_KEYS):
            problems.append(
                Problem(
                    source,
                    f"coding.resolved.{index}",
                    "expected the keys " + ", ".join(CODING_KEYS),
                )
            )
        elif not isinstance(entry["why"], str) or not entry["why"].strip():
            problems.append(
                Problem(source, f"coding.resolved.{index}.why", "expected a sentence saying why")
            )
    return problems


def _read_observed(
    path: Path, case: str, scenario: Scenario
) -> tuple[dict[str, Observation], list[Problem]]:
    source = str(path)
    problems: list[Problem] = []
    try:
        raw = read_yaml(path, "a record of what happened")
    except ScenarioError as error:
        return {}, list(error.problems)
    unknown = sorted(set(raw) - {"case", "coding", "items", "trajectory", "timing"})
    for key in unknown:
        problems.append(
            Problem(
                source, key, "unknown key (allowed here: case, coding, items, trajectory, timing)"
            )
        )
    problems += _coding_problems(source, raw.get("coding"))
    if raw.get("case") != case:
        problems.append(
            Problem(
                source,
                "case",
                f"expected '{case}', the name of the scenario beside it, got {raw.get('case')!r}",
            )
        )
    items = raw.get("items")
    if not isinstance(items, dict):
        problems.append(
            Problem(source, "items", "expected a mapping of item: {observed, date, evidence}")
        )
        return {}, problems
    found = {}
    for item in items:
        if item not in ITEMS:
            problems.append(
                Problem(source, f"items.{item}", f"unknown item (items: {', '.join(ITEMS)})")
            )
    for item in ITEMS:
        where = f"items.{item}"
        entry = items.get(item)
        if entry is None:
            problems.append(Problem(source, where, "missing: every item needs an entry"))
            continue
        if not isinstance(entry, dict):
            problems.append(
                Problem(source, where, "expected a mapping with observed, date, evidence")
            )
            continue
        for key in sorted(set(entry) - {"observed", "date", "evidence"}):
            problems.append(
                Problem(
                    source, f"{where}.{key}", "unknown key (allowed here: observed, date, evidence)"
                )
            )
        value = entry.get("observed")
        if isinstance(value, bool):
            status = "true" if value else "false"
        elif value in NOT_SCORED:
            status = str(value)
        else:
            problems.append(
                Problem(
                    source,
                    f"{where}.observed",
                    f"expected true, false, 'not applicable' or 'disputed', got {value!r}",
                )
            )
            continue
        date = entry.get("date")
        if date is not None:
            try:
                date = datetime.date.fromisoformat(str(date))
            except ValueError:
                problems.append(
                    Problem(
                        source,
                        f"{where}.date",
                        f"expected a date like 2024-01-18, got {str(date)[:40]!r}",
                    )
                )
                date = None
            if date is not None and scenario.start_date is not None:
                day = (date - scenario.start_date).days
                if not 0 <= day <= scenario.horizon:
                    problems.append(
                        Problem(
                            source,
                            f"{where}.date",
                            f"{date} is day {day} of the scenario, outside its days 0 to {scenario.horizon}",
                        )
                    )
        evidence = entry.get("evidence")
        if not isinstance(evidence, str) or not evidence.strip():
            problems.append(
                Problem(source, f"{where}.evidence", "expected a sentence saying what shows it")
            )
            evidence = ""
        found[item] = Observation(
            value if isinstance(value, bool) else None, status, date, evidence
        )
    return found, problems


def _read_extras(
    path: Path, raw: dict[str, Any]
) -> tuple[Observation | None, dict[str, int | None] | None, list[Problem]]:
    """The optional ``trajectory`` and ``timing`` entries of an observed file."""
    source = str(path)
    problems: list[Problem] = []
    trajectory = None
    entry = raw.get("trajectory")
    if entry is not None:
        if not isinstance(entry, dict):
            problems.append(
                Problem(
                    source,
                    "trajectory",
                    "expected a mapping with observed (a class or 'not applicable' or "
                    f"'disputed') and evidence; the classes are {', '.join(CLASSES)}",
                )
            )
        else:
            for key in sorted(set(entry) - {"observed", "evidence"}):
                problems.append(
                    Problem(
                        source,
                        f"trajectory.{key}",
                        "unknown key (allowed here: observed, evidence)",
                    )
                )
            value = entry.get("observed")
            if value not in CLASSES and value not in NOT_SCORED:
                problems.append(
                    Problem(
                        source,
                        "trajectory.observed",
                        f"expected one of the classes {', '.join(CLASSES)} (mildest first), or "
                        f"'not applicable' or 'disputed', got {value!r}",
                    )
                )
            evidence = entry.get("evidence")
            if not isinstance(evidence, str) or not evidence.strip():
                problems.append(
                    Problem(
                        source,
                        "trajectory.evidence",
                        "expected a sentence saying what shows it (cite the fact file's sources)",
                    )
                )
                evidence = ""
            if not problems:
                trajectory = Observation(None, str(value), None, evidence)
    timing = None
    entry = raw.get("timing")
    if entry is not None:
        if not isinstance(entry, dict):
            problems.append(
                Problem(
                    source,
                    "timing",
                    "expected a mapping with days_to_answer (a day, 'never' or 'not applicable'), "
                    "days_to_calm (a day or 'never') and evidence",
                )
            )
            return trajectory, None, problems
        for key in sorted(set(entry) - {*TIMING, "evidence"}):
            problems.append(
                Problem(
                    source,
                    f"timing.{key}",
                    f"unknown key (allowed here: {', '.join(TIMING)}, evidence)",
                )
            )
        found: dict[str, int | None] = {}
        for key in TIMING:
            value = entry.get(key)
            allowed = "'never' or 'not applicable'" if key == "days_to_answer" else "'never'"
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= HORIZON:
                found[key] = value
            elif value == "never":
                found[key] = NEVER
            elif value == "not applicable" and key == "days_to_answer":
                found[key] = None
            else:
                problems.append(
                    Problem(
                        source,
                        f"timing.{key}",
                        f"expected a whole number of days after day 0 from 0 to {HORIZON}, or "
                        f"{allowed} (a day after {HORIZON} is 'never'), got {value!r}",
                    )
                )
        evidence = entry.get("evidence")
        if "evidence" in entry and (not isinstance(evidence, str) or not evidence.strip()):
            problems.append(
                Problem(source, "timing.evidence", "expected a sentence saying what shows it")
            )
        if not problems:
            timing = found
    return trajectory, timing, problems
