"""Shaping function outputs onto a result schema, without guessing.

Arrays are found where they are (the output itself, or its first list field);
object fields are matched by name, ignoring case and separators (`unit_price`,
`unitPrice` and `Unit Price` are one name); scalars are converted only where
nothing is lost ("5" → 5, 5 → "5", "yes" → true). What cannot be shaped is left
as it is, and the schema validation that follows says what does not fit.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from pydantic import BaseModel


def shape(values: list[Any], schema: dict[str, Any]) -> Any:
    """One output, or several combined: arrays concatenated, objects merged (first wins)."""
    shaped = [_shape(jsonable(v), schema, schema) for v in values]
    filled = [s for s in shaped if _fills(s)] or shaped[:1]
    if len(filled) == 1:
        return filled[0]
    shaped = filled
    if all(isinstance(s, list) for s in shaped):
        return [item for s in shaped for item in s]
    if all(isinstance(s, dict) for s in shaped):
        merged: dict[str, Any] = {}
        for s in shaped:
            for key, value in s.items():
                merged.setdefault(key, value)
        return merged
    return shaped[0]


def _fills(shaped: Any) -> bool:
    """Whether an output gave the schema something: not nothing, not only empty objects."""
    if isinstance(shaped, list):
        return any(item not in ({}, None) for item in shaped)
    return shaped not in ({}, None)


def jsonable(value: Any) -> Any:
    """Plain JSON data from what a Python function may return."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if type(value).__name__ == "DataFrame" and hasattr(value, "to_dict"):
        return jsonable(value.to_dict(orient="records"))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN (a missing value in pandas) and infinities are not JSON
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _shape(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    schema = _resolve(schema, root)
    kind = _kind(schema)
    if kind == "array":
        return [_shape(item, schema.get("items", {}), root) for item in _as_list(value)]
    if kind == "object":
        return _shape_object(value, schema, root)
    return _coerce(value, kind)


def _shape_object(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    properties: dict[str, Any] = schema.get("properties") or {}
    if not properties:
        return value
    if isinstance(value, list):
        list_fields = [name for name, spec in properties.items() if _kind(_resolve(spec, root)) == "array"]
        if len(list_fields) == 1:
            value = {list_fields[0]: value}
        elif len(value) == 1:
            value = value[0]
    if not isinstance(value, dict):
        if len(properties) == 1:
            ((name, spec),) = properties.items()
            return {name: _shape(value, spec, root)}
        return value
    by_folded = {_fold(key): key for key in value}
    shaped = {}
    for name, spec in properties.items():
        key = by_folded.get(_fold(name))
        if key is not None:
            shaped[name] = _shape(value[key], spec, root)
    return shaped


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        records = [v for v in lists if v and all(isinstance(i, dict) for i in v)]
        if records or lists:
            return (records or lists)[0]
    return [value]


def _coerce(value: Any, kind: str | None) -> Any:
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if kind in ("number", "integer") and isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return value
        return int(number) if kind == "integer" and number.is_integer() else number
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "boolean" and isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    return value


_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None:
        for option in schema.get("anyOf", []) + schema.get("oneOf", []):
            if isinstance(option, dict) and option.get("type") not in (None, "null"):
                return _kind(option)
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
    return kind


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (pydantic puts nested models under `$defs`)."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema, seen = target, seen + 1
        if seen > 32:  # a reference cycle
            break
    if isinstance(schema, dict) and "anyOf" in schema and "type" not in schema:
        options = [o for o in schema["anyOf"] if isinstance(o, dict) and o.get("type") != "null"]
        if len(options) == 1:
            return _resolve(options[0], root)
    return schema if isinstance(schema, dict) else {}


def _fold(name: str) -> str:
    return re.sub(r"[\s_-]", "", str(name)).lower()
