"""What the scenario picker says of a file: its name, and for the seed crisis, which of its two
versions it is and why they differ, in one line each.

The January 2024 Iran-Pakistan crisis is in the picker twice: as the teaching scenario and as
the case library encodes it. They give different answers (docs/dashboard.md has the numbers),
and docs/model.md ("The seed case's own record does not agree with the teaching baseline") says
why at length.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Version:
    """One version of a crisis offered twice: what it is, and why it differs from the other."""

    what: str
    why: str


SEED_CRISIS: dict[str, Version] = {
    "scenarios/jan2024_baseline.yaml": Version(
        "teaching scenario",
        "Teaching defaults for class; China has a mandate to offer talks, so mediation shows.",
    ),
    "scenarios/cases/jan2024-iran-pakistan.yaml": Version(
        "case library version",
        "Only what was known on day 0, by the library's rule for the backtest: no one offers "
        "talks.",
    ),
}
"""The two versions of the seed crisis, by the picker's name of their file."""


def picker_label(name: str) -> str:
    """'jan2024_baseline: teaching scenario', 'cases/jun2019-us-iran': the name without
    folder and suffix, and what it is when the crisis is offered twice."""
    label = name.removeprefix("scenarios/").removesuffix(".yaml")
    version = SEED_CRISIS.get(name)
    return f"{label}: {version.what}" if version else label


def picker_note(name: str) -> str:
    """The one line under the picker for a version of the seed crisis (else nothing)."""
    version = SEED_CRISIS.get(name)
    return version.why if version else ""
