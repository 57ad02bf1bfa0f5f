"""How reliably the library's coding rule is applied: Krippendorff's alpha, first coder against
second, for every observed item, the trajectory and timing, and the judgement-bearing fields of
the encoding.

The first coding is the library itself: each case's scenario (``scenarios/cases/`` or
``scenarios/blind/``) and observed record, except where a disagreement has been resolved since:
there the record's ``coding.resolved`` keeps the first coder's own code, and that is used. The second coding is
``docs/cases/coding/second/<case>.yaml``, made by a coder who saw only the fact file (without its
item-by-item section) and the rule. Alpha is Krippendorff's (``krippendorff`` package): nominal
for categories and yes/no, interval for rungs, leverage and days ("never" counted as day 61, the
first day past the horizon; "not applicable" left out).

    python tools/agreement.py            # the table for docs/cases/README.md
    python tools/agreement.py --disagreements   # every case and field where the two differ
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = (ROOT / "scenarios" / "cases", ROOT / "scenarios" / "blind")
SECOND = ROOT / "docs" / "cases" / "coding" / "second"
ITEMS = (
    "answer_7d",
    "forces_7d",
    "sustained",
    "war",
    "restrike",
    "mediation_accepted",
    "ceasefire_14d",
    "calm_14d",
    "calm_60d",
)
NEVER = 61
"""'never within 60 days' as a number of days, for the interval alpha of the timings."""


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _code(value: Any) -> Any:
    """An item's code as one comparable value: True, False, or the status text."""
    if isinstance(value, bool) or value is None:
        return value
    return str(value).strip().lower()


def _days(value: Any) -> float | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text == "never":
        return float(NEVER)
    if text in ("not applicable", "n/a", "disputed"):
        return None
    return float(value)


@dataclass
class Coding:
    """One coder's codes of one case, field by field (None: not coded or not applicable)."""

    case: str
    fields: dict[str, Any]


def first_coding(scenario_path: Path) -> Coding:
    """The library's own coding of a case: its scenario and observed record."""
    case = scenario_path.stem
    scenario = _yaml(scenario_path)
    record = _yaml(scenario_path.with_name(f"{case}.observed.yaml"))
    observed = record["items"]
    fields: dict[str, Any] = {f"item {name}": _code(observed[name]["observed"]) for name in ITEMS}
    trajectory, timing = record.get("trajectory"), record.get("timing")
    if trajectory is not None:
        fields["trajectory"] = _code(trajectory["observed"])
    if timing is not None:
        fields["days to answer"] = _days(timing.get("days_to_answer"))
        fields["days to calm"] = _days(timing.get("days_to_calm"))
    events = [e for e in scenario.get("events", []) if e.get("day", 1) <= 0]
    day0 = [e for e in events if e.get("day") == 0 and e.get("type") == "act"]
    mutual = (
        len(day0) == 2
        and all(e.get("answered") for e in day0)
        and {day0[0]["actor"], day0[0]["target"]} == {day0[1]["actor"], day0[1]["target"]}
    )
    fields["encoding mutual opening"] = mutual
    opening = day0[0] if day0 else None
    fields["encoding opening rung"] = None if opening is None else float(opening["rung"])
    fields["encoding announced"] = None if opening is None else bool(opening.get("announced"))
    fields["encoding denied"] = None if opening is None else bool(opening.get("denied"))
    fields["operations"] = {str(e["actor"]): _operation(e.get("operation")) for e in day0}
    relation = scenario["relations"][0]
    fields["encoding baseline"] = float(relation["baseline"])
    fields["encoding sanctions (ties 0)"] = relation.get("economic_ties", 0.1) == 0.0
    fields["encoding armed groups"] = float(len(scenario.get("armed_groups") or {}))
    fields["encoding history before day 0"] = any(e.get("day", 0) < 0 for e in events)
    parties = scenario.get("third_parties") or {}
    fields["parties"] = {
        name: {
            "leverage": dict(party.get("leverage") or {}),
            "mediation": "mediation" in party,
        }
        for name, party in parties.items()
    }
    # a disagreement resolved since: the first coder's own code, as the record keeps it
    for entry in (record.get("coding") or {}).get("resolved", []):
        field = entry["field"]
        if field.startswith(OPERATION):
            fields["operations"][field.removeprefix(OPERATION)] = _operation(entry["first"])
        else:
            fields[field] = _as_field(field, entry["first"])
    return Coding(case, fields)


OPERATION = "encoding operation "
"""A resolved disagreement about rule 5b names the acting state after this prefix."""


def _operation(value: Any) -> str:
    """Rule 5b's code of one opening act: 'true', 'false' or 'unset' (the key left out)."""
    if value is None or value == "unset":
        return "unset"
    return str(bool(value)).lower()


def _as_field(field: str, value: Any) -> Any:
    """A recorded code in the form ``first_coding`` gives that field."""
    if field.startswith("item ") or field == "trajectory":
        return _code(value)
    if field.startswith("days "):
        return _days(value)
    if field in INTERVAL:
        return float(value)
    return bool(value)


def second_coding(path: Path) -> Coding:
    """The second coder's sheet of a case, in the same fields."""
    sheet = _yaml(path)
    encoding, items = sheet["encoding"], sheet["items"]
    fields: dict[str, Any] = {f"item {name}": _code(items[name]["observed"]) for name in ITEMS}
    fields["trajectory"] = _code(items["trajectory"]["observed"])
    fields["days to answer"] = _days(items["timing"].get("days_to_answer"))
    fields["days to calm"] = _days(items["timing"].get("days_to_calm"))
    fields["encoding mutual opening"] = bool(encoding.get("mutual"))
    rung = encoding.get("opening_rung")
    fields["encoding opening rung"] = None if rung is None else float(rung)
    fields["encoding announced"] = bool(encoding.get("announced"))
    fields["encoding denied"] = bool(encoding.get("denied"))
    fields["operations"] = {
        str(actor): _operation(code) for actor, code in (encoding.get("operation") or {}).items()
    }
    fields["encoding baseline"] = float(encoding["baseline"])
    fields["encoding sanctions (ties 0)"] = float(encoding.get("economic_ties", 0.1)) == 0.0
    fields["encoding armed groups"] = float(len(encoding.get("armed_groups") or {}))
    fields["encoding history before day 0"] = any(
        (h.get("day") or 0) < 0 for h in encoding.get("history") or []
    )
    fields["parties"] = {
        str(name): {
            "leverage": dict(party.get("leverage") or {}),
            "mediation": bool(party.get("mediation")),
        }
        for name, party in (encoding.get("third_parties") or {}).items()
    }
    return Coding(sheet["case"], fields)


def codings() -> list[tuple[Coding, Coding]]:
    """(first, second) for every case the second coder coded."""
    pairs = []
    for folder in FOLDERS:
        for path in sorted(folder.glob("*.yaml")):
            if path.name.endswith(".observed.yaml") or path.name.startswith("_"):
                continue
            second = SECOND / f"{path.stem}.yaml"
            if second.is_file():
                pairs.append((first_coding(path), second_coding(second)))
    return pairs


INTERVAL = {
    "encoding opening rung",
    "encoding baseline",
    "encoding armed groups",
    "days to answer",
    "days to calm",
}


def _alpha(pairs: list[tuple[Any, Any]], level: str) -> float:
    """Krippendorff's alpha of two coders over units (a value of None is missing)."""
    categories: dict[Any, float] = {}

    def number(value: Any) -> float:
        if value is None:
            return math.nan
        if level == "interval":
            return float(value)
        return categories.setdefault(value, float(len(categories)))

    data = np.array([[number(a) for a, _ in pairs], [number(b) for _, b in pairs]])
    both = ~np.isnan(data).any(axis=0)
    if both.sum() < 2 or len(set(data[:, both].ravel())) < 2:
        return math.nan
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def _units(pairs: Iterable[tuple[Coding, Coding]], field: str) -> list[tuple[Any, Any]]:
    return [(a.fields.get(field), b.fields.get(field)) for a, b in pairs]


def _party_units(
    pairs: Iterable[tuple[Coding, Coding]], value: Callable[[dict[str, Any] | None], Any]
) -> list[tuple[Any, Any]]:
    units = []
    for a, b in pairs:
        first, second = a.fields["parties"], b.fields["parties"]
        for name in sorted(set(first) | set(second)):
            units.append((value(first.get(name)), value(second.get(name))))
    return units


def _operation_units(pairs: Iterable[tuple[Coding, Coding]]) -> list[tuple[Any, Any]]:
    """Rule 5b, one unit per opening act both coders coded."""
    return [
        (a.fields["operations"][actor], b.fields["operations"][actor])
        for a, b in pairs
        for actor in sorted(set(a.fields["operations"]) & set(b.fields["operations"]))
    ]


def _leverage_units(pairs: Iterable[tuple[Coding, Coding]]) -> list[tuple[Any, Any]]:
    units = []
    for a, b in pairs:
        first, second = a.fields["parties"], b.fields["parties"]
        for name in sorted(set(first) & set(second)):
            for state in sorted(set(first[name]["leverage"]) | set(second[name]["leverage"])):
                units.append(
                    (
                        float(first[name]["leverage"].get(state, 0.0)),
                        float(second[name]["leverage"].get(state, 0.0)),
                    )
                )
    return units


def table(pairs: list[tuple[Coding, Coding]]) -> list[tuple[str, int, float, float]]:
    """(field, units coded by both, share agreeing, alpha) for every field."""
    rows = []
    names = [f"item {n}" for n in ITEMS] + [
        "trajectory",
        "days to answer",
        "days to calm",
        "encoding mutual opening",
        "encoding opening rung",
        "encoding announced",
        "encoding denied",
        "encoding baseline",
        "encoding sanctions (ties 0)",
        "encoding armed groups",
        "encoding history before day 0",
    ]
    measured = {name: _units(pairs, name) for name in names}
    measured["encoding operation (rule 5b)"] = _operation_units(pairs)
    measured["third party listed"] = _party_units(pairs, lambda p: p is not None)
    measured["third party may mediate"] = _party_units(
        pairs, lambda p: None if p is None else p["mediation"]
    )
    measured["third party leverage"] = _leverage_units(pairs)
    for name, units in measured.items():
        both = [(a, b) for a, b in units if a is not None and b is not None]
        level = "interval" if name in INTERVAL or name == "third party leverage" else "nominal"
        agree = sum(a == b for a, b in both) / len(both) if both else math.nan
        rows.append((name, len(both), agree, _alpha(both, level)))
    return rows


def markdown(rows: list[tuple[str, int, float, float]], cases: int) -> str:
    lines = [
        f"Two coders, {cases} cases (Krippendorff's alpha; `python tools/agreement.py`):",
        "",
        "| field | units coded by both | agree | alpha |",
        "|---|---:|---:|---:|",
    ]
    for name, units, agree, alpha in rows:
        shown = "n/a" if math.isnan(alpha) else f"{alpha:.2f}"
        lines.append(f"| {name} | {units} | {agree:.0%} | {shown} |")
    return "\n".join(lines) + "\n"


def disagreements(pairs: list[tuple[Coding, Coding]]) -> list[str]:
    found = []
    for a, b in pairs:
        for field, value in a.fields.items():
            if field == "parties":
                continue
            if field == "operations":
                for actor, code in value.items():
                    theirs = b.fields["operations"].get(actor)
                    if theirs is not None and code != theirs:
                        found.append(
                            f"{a.case}: {OPERATION}{actor}: first {code!r}, second {theirs!r}"
                        )
                continue
            other = b.fields.get(field)
            if value is not None and other is not None and value != other:
                found.append(f"{a.case}: {field}: first {value!r}, second {other!r}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disagreements", action="store_true")
    args = parser.parse_args()
    pairs = codings()
    if args.disagreements:
        print("\n".join(disagreements(pairs)))
    else:
        print(markdown(table(pairs), len(pairs)), end="")


if __name__ == "__main__":
    main()
