"""Quantities known only as a distribution, such as a state's private resolve.

In YAML a distributed quantity is written as a number (known exactly) or as a one-key mapping:
``{beta: [a, b]}`` (on 0 to 1), ``{uniform: [low, high]}`` or ``{triangular: [low, mode, high]}``.
Each run draws its own value from its own random stream by the inverse distribution function, so
a run's draw does not depend on the other runs of its batch.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import model_serializer, model_validator

from sim.model._config import Config

KINDS = {"beta": 2, "uniform": 2, "triangular": 3}
"""Each distribution's name and its number of parameters."""

MAX_SPAN = 1e150
"""The widest uniform or triangular: the triangular's draws multiply two spans, which must not
overflow (no key's meaningful range comes anywhere near it)."""

FORMS = "a number, {beta: [a, b]}, {uniform: [low, high]} or {triangular: [low, mode, high]}"


class Distribution(Config):
    """A number or a named distribution with its parameters (see the module docstring)."""

    kind: Literal["fixed", "beta", "uniform", "triangular"]
    params: tuple[float, ...]

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: Any) -> Any:
        if isinstance(value, Distribution):
            return value
        if isinstance(value, bool):
            raise ValueError(f"expected {FORMS}, got {str(value).lower()}")
        if isinstance(value, int | float):
            return {"kind": "fixed", "params": (float(value),)}
        if isinstance(value, dict) and set(value) == {"kind", "params"}:
            return value
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(f"expected {FORMS}")
        ((kind, params),) = value.items()
        if kind not in KINDS:
            raise ValueError(f"unknown distribution '{kind}'; expected {FORMS}")
        if not isinstance(params, list | tuple) or len(params) != KINDS[kind]:
            raise ValueError(f"{kind} takes a list of {KINDS[kind]} numbers, got {_short(params)}")
        if not all(isinstance(p, int | float) and not isinstance(p, bool) for p in params):
            raise ValueError(f"{kind} takes numbers, got {_short(params)}")
        try:
            numbers = tuple(float(p) for p in params)
        except OverflowError:  # a whole number too large for a float
            numbers = (np.inf,)
        if not all(np.isfinite(numbers)):
            raise ValueError(f"{kind} takes finite numbers, got {_short(params)}")
        if kind == "beta" and min(numbers) <= 0:
            raise ValueError(f"beta takes two numbers above 0, got {_short(params)}")
        if kind == "uniform" and numbers[0] > numbers[1]:
            raise ValueError(f"uniform takes [low, high] with low <= high, got {_short(params)}")
        if kind == "triangular" and not numbers[0] <= numbers[1] <= numbers[2]:
            raise ValueError(
                f"triangular takes [low, mode, high] with low <= mode <= high, got {_short(params)}"
            )
        if kind != "beta" and not numbers[-1] - numbers[0] <= MAX_SPAN:
            raise ValueError(
                f"{kind} takes numbers at most {MAX_SPAN:g} apart (its draws would overflow), "
                f"got {_short(params)}"
            )
        return {"kind": kind, "params": numbers}

    @model_serializer
    def _to_yaml(self) -> float | dict[str, list[float]]:
        if self.kind == "fixed":
            return self.params[0]
        return {self.kind: list(self.params)}

    @property
    def low(self) -> float:
        return {"fixed": self.params[0], "beta": 0.0}.get(self.kind, self.params[0])

    @property
    def high(self) -> float:
        return {"fixed": self.params[0], "beta": 1.0}.get(self.kind, self.params[-1])

    @property
    def mean(self) -> float:
        p = self.params
        match self.kind:
            case "beta":
                return p[0] / (p[0] + p[1])
            case "uniform":
                return (p[0] + p[1]) / 2
            case "triangular":
                return sum(p) / 3
        return p[0]

    def quantile(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """The inverse distribution function at ``u`` (vectorised)."""
        p = self.params
        match self.kind:
            case "beta":
                from scipy.special import betaincinv

                return np.asarray(betaincinv(p[0], p[1], u), dtype=np.float64)
            case "uniform":
                return p[0] + u * (p[1] - p[0])
            case "triangular":
                low, mode, high = p
                if high == low:
                    return np.full_like(u, low)
                cut = (mode - low) / (high - low)
                left = low + np.sqrt(u * (high - low) * (mode - low))
                right = high - np.sqrt((1 - u) * (high - low) * (high - mode))
                return np.where(u < cut, left, right)
        return np.full_like(u, p[0])

    def grid(self, points: int) -> NDArray[np.float64]:
        """``points`` equally likely values: the quantiles at the middles of equal slices.

        This is how an observer discretises its prior over another state's resolve.
        """
        return self.quantile((np.arange(points) + 0.5) / points)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def distribution(value: Any) -> Distribution:
    """A ``Distribution`` from its YAML form (a number or a one-key mapping)."""
    return Distribution.model_validate(value)
