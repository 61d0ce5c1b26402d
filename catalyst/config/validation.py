"""A parsed config file checked against its model, each problem worded for a person.

Pydantic's error codes become one short phrase each ("must be a whole number", "must be at most
5"), an unknown key suggests the closest allowed one, and the offending value is shown short.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from catalyst.config.problems import TOP_LEVEL, dotted, show
from catalyst.domain.errors import ConfigError

__all__ = ["validate"]

_M = TypeVar("_M", bound=BaseModel)


def validate(
    model: type[_M], data: Mapping[str, Any], file: str
) -> tuple[_M | None, list[ConfigError]]:
    """Validate parsed YAML against `model`: the model, or None and every problem found.

    Validation runs in pydantic's strict JSON mode: the YAML already gave numbers, booleans and
    text their types, so strict mode refuses "5" for an int or "yes" for a bool, while still
    reading text as times and paths. Going through JSON costs float digits beyond ~15 significant
    figures, far below anything a limit in dollars needs.
    """
    # A section left with every key commented out reads as null: treat it as "all defaults".
    sections = {
        key: {} if value is None and key in model.model_fields else value
        for key, value in data.items()
    }
    try:
        text = json.dumps(sections, allow_nan=False)
    except ValueError:  # only an explicit !!float .inf / .nan gets here
        return None, [ConfigError(file, TOP_LEVEL, "numbers must be finite (no .inf or .nan)")]
    try:
        return model.model_validate_json(text, strict=True), []
    except ValidationError as exc:
        return None, [
            ConfigError(file, dotted(error["loc"]), _describe_validation_error(model, error))
            for error in exc.errors(include_url=False)
        ]


_TYPE_PROBLEMS: Mapping[str, str] = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "dict_type": "must be a mapping of keys to values",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "time_type": 'must be a time of day written "HH:MM", e.g. "09:30"',
    "time_parsing": 'must be a time of day written "HH:MM", e.g. "09:30"',
    "missing": "is required",
}
_BOUND_PROBLEMS: Mapping[str, tuple[str, str]] = {
    "greater_than": ("gt", "must be greater than"),
    "greater_than_equal": ("ge", "must be at least"),
    "less_than": ("lt", "must be less than"),
    "less_than_equal": ("le", "must be at most"),
}


def _describe_validation_error(model: type[BaseModel], error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error["input"]
    if kind == "extra_forbidden":
        # The value is not shown: an unknown key may be a misplaced credential.
        return _unknown_key_problem(model, error["loc"])
    if kind == "value_error":
        problem = str(ctx.get("error", error["msg"]))
        # Cross-field rules get the whole section as input: naming it would add nothing.
        return problem if isinstance(value, dict | list) else f"{problem} (got {show(value)})"
    if kind in _BOUND_PROBLEMS:
        bound_key, phrase = _BOUND_PROBLEMS[kind]
        problem = f"{phrase} {_show_number(ctx[bound_key])}"
    elif kind in ("literal_error", "enum"):
        problem = f"must be one of {ctx['expected']}"
    elif kind in _TYPE_PROBLEMS:
        problem = _TYPE_PROBLEMS[kind]
    else:
        message = error["msg"]
        problem = message[:1].lower() + message[1:]
    return problem if kind == "missing" else f"{problem} (got {show(value)})"


def _unknown_key_problem(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    parent = _model_at(model, loc[:-1])
    if parent is None:
        return "unknown key"
    allowed = list(parent.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown key{hint} (allowed here: {', '.join(allowed)})"


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    current: type[BaseModel] = model
    for part in loc:
        field = current.model_fields.get(str(part))
        annotation = None if field is None else field.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        current = annotation
    return current


def _show_number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
