"""Models whose shape is a JSON Schema an app's worker process reported.

The server never imports an app in the service's format (it runs in its own process), so it knows
the app's `AppInput` and `AppOutput` only as the JSON Schemas the worker derived from them. These
models stand in for them where the server wants a pydantic model: they check a value against the
schema (the errors name the field, as pydantic's do), list the schema in `GET /apps`, and hold the
value's fields as extras, with each file field as a `File`, so the server's file handling applies.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from inference_nb.wire.schema_words import validator_of, value_problem

from ..base import File


class SchemaModel(BaseModel):
    """Base of the models made by `schema_model`; its fields are whatever the schema allows."""

    model_config = ConfigDict(extra="allow")
    json_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    _validator: ClassVar[Any] = None

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return copy.deepcopy(cls.json_schema)

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> SchemaModel:  # type: ignore[override]
        """`obj` checked against the schema, its file fields made `File`s.

        Raises:
            pydantic.ValidationError: it does not fit (one error, located at the field).
        """
        if isinstance(obj, cls):
            return obj
        if cls._validator is None:
            cls._validator = validator_of(cls.json_schema)
        problem = value_problem(cls.json_schema, obj, at="", validator=cls._validator)
        if problem is None and not isinstance(obj, dict):
            problem = ("", "must be a JSON object")
        if problem is not None:
            field, message = problem
            error = PydanticCustomError("schema", "{problem}", {"problem": message})
            raise ValidationError.from_exception_data(cls.__name__, [{"type": error, "loc": (field,), "input": obj}])
        return cls.of(map_files(cls.json_schema, obj, File.model_validate))

    @classmethod
    def of(cls, values: dict[str, Any]) -> SchemaModel:
        """An instance holding `values` as they are (already checked, e.g. by the app itself)."""
        return cls.model_construct(**values)


def schema_model(name: str, schema: dict[str, Any]) -> type[SchemaModel]:
    """A model class named `name` for values of `schema` (a JSON object schema)."""
    return type(name, (SchemaModel,), {"json_schema": schema, "__module__": __name__})


def map_files(schema: Any, value: Any, convert: Callable[[Any], Any], root: dict[str, Any] | None = None) -> Any:
    """`value` with `convert` applied to each value the schema types as a file (`"format": "file"`).

    Follows `$ref`, `anyOf` / `oneOf` / `allOf`, `properties`, `additionalProperties`, `items` and
    `prefixItems`; an empty value (None, "") is no file and stays as it is.
    """
    root = root if root is not None else schema
    schema = _resolved(schema, root)
    if not isinstance(schema, dict) or value is None or value == "":
        return value
    if schema.get("format") == "file":
        return convert(value)
    for combined in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(combined, ()):
            mapped = map_files(branch, value, convert, root)
            if mapped != value:
                return mapped
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        return {
            key: map_files(properties.get(key, extra if isinstance(extra, dict) else None), item, convert, root)
            for key, item in value.items()
        }
    if isinstance(value, list):
        prefix, items = schema.get("prefixItems") or [], schema.get("items")
        return [
            map_files(prefix[index] if index < len(prefix) else items, item, convert, root)
            for index, item in enumerate(value)
        ]
    return value


def _resolved(schema: Any, root: dict[str, Any]) -> Any:
    """The schema a local `$ref` (`#/$defs/Name`, `#/definitions/Name`) points at; others as they are."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if target is None:
            return schema
        schema, seen = target, seen + 1
    return schema
