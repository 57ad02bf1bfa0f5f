"""The base every scenario block shares: strict types, no unknown keys, immutable once loaded."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict


class Config(BaseModel):
    """Strict so that YAML's ``yes`` or ``"0.5"`` is an error rather than a silent conversion."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def _list_to_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


T = TypeVar("T")
Sequence = Annotated[tuple[T, ...], BeforeValidator(_list_to_tuple)]
"""A YAML list, held as a tuple so the loaded scenario stays immutable."""
