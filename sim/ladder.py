"""The escalation ladder: ordered rungs from normal relations up to war.

A ladder is data (it comes from the scenario YAML) so that a teacher can try a coarser or finer
ladder without touching code. Two rungs have a special meaning for the model and its summaries:
the first *strike* rung (a cross-border use of force; strikes on armed groups hurt them) and the
top rung, *war*, which is absorbing.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from sim._config import Config, Sequence


class Rung(Config):
    """One step of the ladder."""

    name: str = Field(min_length=1, description="Short name shown in stories and plots.")
    description: str = Field("", description="What a state does at this rung, for students.")


class Ladder(Config):
    """Ordered rungs; index 0 is normal relations and the last index is war (absorbing)."""

    rungs: Sequence[Rung] = Field(
        min_length=3, description="From normal relations (first) to war (last)."
    )
    strike_rung: int = Field(
        ge=1,
        description="First rung that is a cross-border use of force; acts at or above it strike "
        "the armed groups based in the adversary's territory.",
    )

    @model_validator(mode="after")
    def _strike_rung_inside(self) -> Ladder:
        if self.strike_rung >= len(self.rungs) - 1:
            raise ValueError(
                f"strike_rung must be below the war rung ({len(self.rungs) - 1}), "
                f"got {self.strike_rung}"
            )
        return self

    @property
    def war(self) -> int:
        """Index of the top rung, war."""
        return len(self.rungs) - 1

    @property
    def size(self) -> int:
        return len(self.rungs)

    def name(self, rung: int) -> str:
        return self.rungs[rung].name
