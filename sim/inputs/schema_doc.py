"""The reference of scenario keys, generated from the typed scenario so it cannot drift.

``docs/scenarios.md`` holds this text between two markers; a test checks it is up to date, and
``python run.py schema`` prints it.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union, cast, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sim.model.distributions import FORMS, Distribution
from sim.model.policies import MEDIATION_POLICIES, RETALIATION_POLICIES
from sim.model.scenario import EVENT_TYPES, Scenario, StateConfig

POLICY_FIELDS: dict[str, dict[str, type[BaseModel]]] = {
    "retaliation": dict(RETALIATION_POLICIES),
    "mediation": dict(MEDIATION_POLICIES),
}


def _describe_type(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _describe_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        parts = [a for a in get_args(annotation) if a is not type(None)]
        text = " or ".join(_describe_type(a) for a in parts)
        return text + (" or null" if len(parts) < len(get_args(annotation)) else "")
    if origin is Literal:
        return " / ".join(f"`{a}`" for a in get_args(annotation))
    if origin is dict:
        value = get_args(annotation)[1]
        if _inner_model(value) is None:
            return f"mapping of state id to {_describe_type(value)}"
        return "mapping of id to block"
    if origin is tuple:
        return f"list of {_describe_type(get_args(annotation)[0])}"
    if annotation is Distribution:
        return "number or distribution"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "block"
    names = {int: "whole number", float: "number", str: "text", bool: "true/false"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _range(field: FieldInfo) -> str:
    limits = {}
    for meta in field.metadata:
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            if getattr(meta, name, None) is not None:
                limits[name] = getattr(meta, name)
    symbols = {
        "ge": ">= ",
        "gt": "> ",
        "le": "<= ",
        "lt": "< ",
        "min_length": "at least ",
        "max_length": "at most ",
    }
    text = field.annotation is str
    unit = " characters" if text else " items"
    return ", ".join(
        "non-empty"
        if k == "min_length" and text and v == 1
        else f"{symbols[k]}{v}" + (unit if k in ("min_length", "max_length") else "")
        for k, v in limits.items()
    )


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "empty"
    if field.default is PydanticUndefined:
        return "required"
    if field.default is None:
        return "null"
    if field.default in ("", ()):
        return "empty"
    return f"`{field.default}`"


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    while get_origin(annotation) in (typing.Annotated, dict, tuple, Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        annotation = args[1] if get_origin(annotation) is dict else args[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None if annotation is Distribution else annotation
    return None


def _key_suffix(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _key_suffix(get_args(annotation)[0])
    return ".<id>" if origin is dict else "[]" if origin is tuple else ""


def _rows(model: type[BaseModel], prefix: str, skip: set[str]) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        path = f"{prefix}{name}"
        policy = name in POLICY_FIELDS and model is StateConfig
        if policy or name == "events":
            kind = "see below"
        else:
            kind = _describe_type(field.annotation)
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{path}` | {kind} | {_range(field)} | {_default(field)} | {description} |")
        inner = _inner_model(field.annotation)
        if inner is not None and not policy and name != "events":
            rows += _rows(inner, f"{path}{_key_suffix(field.annotation)}.", set())
    return rows


HEADER = "| key | type | range | default | meaning |\n|---|---|---|---|---|"


def scenario_reference() -> str:
    """Markdown tables of every scenario key, event type and policy's parameters."""
    parts = ["### Scenario keys", "", HEADER, *_rows(Scenario, "", set()), ""]
    parts += [
        "### Distributions",
        "",
        f"A key of type *number or distribution* takes {FORMS}. Each run draws its own "
        "value from its own random stream.",
        "",
        "### Events",
        "",
        "Each item of `events` has a `type`, one of these, and that type's keys.",
        "",
    ]
    for event_type, event_class in EVENT_TYPES.items():
        summary = (event_class.__doc__ or "").strip().splitlines()[0]
        parts += [f"#### `{event_type}`", "", summary, ""]
        parts += [HEADER, *_rows(cast(type[BaseModel], event_class), "events[].", {"type"}), ""]
    for block, registry in POLICY_FIELDS.items():
        parts += [
            f"### `{block}` policies",
            "",
            f"`actors.<id>.{block}.policy` names one of these; the other keys of the "
            f"`{block}` block are that policy's parameters.",
            "",
        ]
        for policy_name, policy in registry.items():
            summary = (policy.__doc__ or "").strip().splitlines()[0]
            parts += [f"#### `{policy_name}`", "", summary, ""]
            rows = _rows(policy, f"{block}.", {"policy"})
            parts += [HEADER, *rows, ""] if rows else ["No parameters.", ""]
    return "\n".join(parts).rstrip() + "\n"
