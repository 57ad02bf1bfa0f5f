"""The escalation ladder: ordered kinds of act, from normal relations up to war (Kahn 1965).

A ladder is data (it comes from the scenario YAML) so that a teacher can try a coarser or finer
ladder without touching code. A rung is both a kind of act and the posture that act leaves
behind: recalling an envoy leaves relations downgraded until a visible conciliatory act (the
envoy's return) lowers them again. Rungs below ``strike_rung`` are acts without force (protests,
downgrades, shows of force); rungs from ``strike_rung`` up are cross-border uses of force, each
against one kind of target; the top rung is war, which is absorbing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.model._config import Config, Sequence

TargetKind = Literal["none", "armed_group", "state_forces", "leadership", "civilians"]
"""What an act hits: nothing (an act without force), an armed group, a state's forces, its
leaders, or civilians."""
FORCE_TARGETS: tuple[TargetKind, ...] = ("armed_group", "state_forces", "leadership", "civilians")
STATE_TARGETS: tuple[TargetKind, ...] = ("state_forces", "leadership")
"""Targets that make a strike a strike *on the state* (for 'strikes on state forces' outcomes)."""

Casualties = Literal["none", "few", "many"]
"""Casualty band of an act: none, few (1 to 25 deaths), many (more than 25; MID fatality bands)."""


class Rung(Config):
    """One step of the ladder: a kind of act and the posture it leaves."""

    name: str = Field(min_length=1, description="Short name shown in stories and plots.")
    description: str = Field("", description="What a state does at this rung, for students.")
    target: TargetKind | None = Field(
        None,
        description="What an act at this rung hits: `none` below the strike rung; at and above "
        "it `armed_group`, `state_forces`, `leadership` or `civilians` (default: `none` below "
        "the strike rung, `state_forces` from it).",
    )
    casualties: Casualties | None = Field(
        None,
        description="Usual casualty band of an act at this rung (default: `none` below the "
        "strike rung, `few` below war, `many` at war); an announced strike is one band lower.",
    )


class Ladder(Config):
    """Ordered rungs; index 0 is normal relations and the last index is war (absorbing)."""

    rungs: Sequence[Rung] = Field(
        min_length=3, max_length=32, description="From normal relations (first) to war (last)."
    )
    strike_rung: int = Field(
        ge=1,
        description="First rung that is a cross-border use of force (a strike); rungs below it "
        "are acts without force.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Ladder:
        war = len(self.rungs) - 1
        if self.strike_rung >= war:
            raise ValueError(
                f"strike_rung must be below the war rung ({war}), got {self.strike_rung}"
            )
        for index, rung in enumerate(self.rungs):
            forceful = index >= self.strike_rung
            if rung.target is not None and (rung.target != "none") != forceful:
                where = "at or above" if forceful else "below"
                raise ValueError(
                    f"rung {index} ('{rung.name}') is {where} the strike rung "
                    f"({self.strike_rung}), so its target cannot be '{rung.target}'"
                )
        if self.target(war) == "armed_group":
            raise ValueError("the war rung cannot target an armed group: war is between states")
        return self

    @property
    def war(self) -> int:
        """Index of the top rung, war."""
        return len(self.rungs) - 1

    @property
    def size(self) -> int:
        return len(self.rungs)

    @property
    def sustained(self) -> int:
        """The rung just below war: a sustained exchange of fire, which an act at this rung
        opens as an operation (mechanism ``operations``)."""
        return self.war - 1

    @property
    def first_on_state(self) -> int:
        """The first rung whose act strikes a state's forces or leaders (war if none below)."""
        for rung in range(self.strike_rung, self.war):
            if self.target(rung) in STATE_TARGETS:
                return rung
        return self.war

    def name(self, rung: int) -> str:
        return self.rungs[rung].name

    def target(self, rung: int) -> TargetKind:
        """What an act at ``rung`` hits (the default if the ladder does not say)."""
        given = self.rungs[rung].target
        if given is not None:
            return given
        return "state_forces" if rung >= self.strike_rung else "none"

    def casualties(self, rung: int) -> Casualties:
        given = self.rungs[rung].casualties
        if given is not None:
            return given
        if rung < self.strike_rung:
            return "none"
        return "many" if rung == self.war else "few"
