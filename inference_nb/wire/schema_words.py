"""JSON Schema problems in plain words, with the place they are at.

Two checks, one wording for the client, the widget and the servers (docs/ARCHITECTURE.md,
"One validator"):
- `schema_problem`: what is wrong with a JSON Schema itself ("required must be a list of
  field names", "$ref points to #/$defs/x, which does not exist");
- `value_problem`: where and how a value breaks a schema (`input.amount`: "must be a
  whole number, not text").

Not jsonschema's exception text: it names Python types and the meta-schema's internals.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

TYPE_NAMES = ("string", "number", "integer", "boolean", "object", "array", "null")

# Where sub-schemas sit, so that a property called "type" or "$ref" is read as a name.
SCHEMA_KEYWORDS = frozenset(
    {"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else",
     "unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema"}
)  # fmt: skip
SCHEMA_LIST_KEYWORDS = frozenset({"anyOf", "allOf", "oneOf", "prefixItems"})
SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})

A_SCHEMA = "a schema (a JSON object, or true/false)"
KEYWORD_WORDS = {
    "type": f"one of the JSON Schema types ({', '.join(TYPE_NAMES)}) or a list of them",
    "required": "a list of field names",
    "enum": "a list of the allowed values",
    "minimum": "a number", "maximum": "a number", "exclusiveMinimum": "a number", "exclusiveMaximum": "a number",
    "multipleOf": "a number above 0",
    "minLength": "a whole number, 0 or more", "maxLength": "a whole number, 0 or more",
    "minItems": "a whole number, 0 or more", "maxItems": "a whole number, 0 or more",
    "minProperties": "a whole number, 0 or more", "maxProperties": "a whole number, 0 or more",
    "minContains": "a whole number, 0 or more", "maxContains": "a whole number, 0 or more",
    "pattern": "a regular expression", "format": "text naming a format, such as date-time or email",
    "$ref": "text pointing at a schema, such as #/$defs/Item",
    "title": "text", "description": "text", "$schema": "a URI", "$id": "a URI", "examples": "a list",
    "uniqueItems": "true or false", "readOnly": "true or false", "writeOnly": "true or false",
    "deprecated": "true or false", "dependentRequired": "an object of field name → list of field names",
}  # fmt: skip


def place(path: Sequence[str | int]) -> str:
    """`properties.age.minimum`, `anyOf[1]`: a path as people read it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def load_jsonschema() -> ModuleType:
    """jsonschema, imported on first use and without the one format checker that costs a second.

    On import jsonschema loads its optional format checkers; with rfc3987-syntax installed (every
    Jupyter environment has it) the "iri" checks build a grammar that takes over a second. No check
    here uses them (values are validated without a format checker; the meta-schemas have no iri
    field), so when this process has imported neither yet, jsonschema is imported as if
    rfc3987-syntax were absent (docs/ARCHITECTURE.md, "Cold start and hot paths").
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import jsonschema

        return jsonschema
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes its import fail, as if absent
    try:
        import jsonschema
    finally:
        del sys.modules["rfc3987_syntax"]
    return jsonschema


def validator_of(schema: dict[str, Any]) -> Any:
    """A jsonschema validator of values against `schema` (its `$schema` picks the draft, default 2020-12).

    Building one walks the schema; callers that check many values keep it (`value_problem(validator=)`).
    """
    jsonschema = load_jsonschema()
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema)


def schema_problem(schema: Any) -> str | None:
    """What is wrong with `schema` as a JSON Schema, in plain words with its place, or None.

    Checks the schema's own rules (its `$schema` picks the draft, default 2020-12) and that
    every `$ref` in it resolves.
    """
    jsonschema = load_jsonschema()

    if not isinstance(schema, dict | bool):
        return "the schema must be a JSON object"
    if isinstance(schema, dict) and "$schema" in schema and not isinstance(schema["$schema"], str):
        return "$schema must be a URI"
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    meta = cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
    try:
        error = jsonschema.exceptions.best_match(meta.iter_errors(schema))
    except RecursionError:
        return "the schema is nested too deeply"
    if error is None:
        return _dangling_ref(schema)
    path = list(error.absolute_path)
    words = _meta_words(path, error.validator, error.validator_value)
    # The wrong value itself, when it is short and is the whole value of the place named.
    index, at_schema = _keyword_of(path)
    named_whole = at_schema or index == len(path) - 1
    if named_whole and " must be " in words and isinstance(error.instance, str | int | float | bool):
        words += f", not {_shown_json(error.instance)}"
    return words


def _shown_json(value: Any) -> str:
    import json

    text = json.dumps(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _meta_words(path: list[str | int], rule: Any, rule_value: Any) -> str:
    """The meta-schema refused the value at `path` (its `rule`, e.g. "type"): say what belongs there."""
    if not path:
        return "the schema must be a JSON object"
    index, at_schema = _keyword_of(path)
    if at_schema:
        return f"{place(path)} must be {A_SCHEMA}"
    keyword, where = path[index], place(path[: index + 1])
    if keyword in SCHEMA_LIST_KEYWORDS:
        return f"{where} must be a non-empty list of schemas"
    if keyword in SCHEMA_MAP_KEYWORDS:
        return f"{where} must be an object of name → schema"
    if keyword == "pattern" and rule == "format":
        return f"{where} is not a valid regular expression"
    if keyword == "required" and rule == "uniqueItems":
        return f"{where} must be a list of field names, each named once"
    if keyword in KEYWORD_WORDS:
        return f"{where} must be {KEYWORD_WORDS[keyword]}"
    if rule == "type":
        kinds = rule_value if isinstance(rule_value, list) else [rule_value]
        return f"{where} must be {' or '.join(_KIND_WORDS.get(k, k) for k in kinds)}"
    return f"{where} has a value JSON Schema does not accept here"


def _keyword_of(path: list[str | int]) -> tuple[int, bool]:
    """Where on `path` its last keyword is, and whether `path` ends where a schema belongs."""
    expect, keyword = "schema", 0
    for i, part in enumerate(path):
        if expect == "schema":
            keyword = i
            expect = ("schema" if part in SCHEMA_KEYWORDS else "index" if part in SCHEMA_LIST_KEYWORDS
                      else "name" if part in SCHEMA_MAP_KEYWORDS else "value")  # fmt: skip
        elif expect in ("index", "name"):
            expect = "schema"
        else:
            break
    return keyword, expect == "schema"


def _subschemas(schema: dict[str, Any], path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """The schemas directly inside `schema`, with their paths."""
    for key, value in schema.items():
        if key in SCHEMA_KEYWORDS:
            yield (*path, key), value
        elif key in SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            yield from (((*path, key, i), item) for i, item in enumerate(value))
        elif key in SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            yield from (((*path, key, name), item) for name, item in value.items())


def _dangling_ref(schema: Any) -> str | None:
    """The first `$ref` in `schema` that points at nothing, in words, or None."""
    import referencing
    import referencing.jsonschema

    # Resolved as validation resolves them: against the schema itself (its `$schema` picks the
    # draft), from the base URI of the `$id` around each reference.
    dialect = schema.get("$schema", "") if isinstance(schema, dict) else ""
    specification = referencing.jsonschema.specification_with(dialect, default=referencing.jsonschema.DRAFT202012)
    resolver = referencing.Registry().resolver_with_root(specification.create_resource(schema))
    return _dangling_ref_in(schema, (), resolver, specification)


def _dangling_ref_in(schema: Any, path: tuple[str | int, ...], resolver: Any, specification: Any) -> str | None:
    import referencing.exceptions

    if not isinstance(schema, dict):
        return None
    if path and isinstance(schema.get("$id"), str):
        resolver = resolver.in_subresource(specification.create_resource(schema))
    ref = schema.get("$ref")
    if isinstance(ref, str):
        try:
            resolver.lookup(ref)
        except referencing.exceptions.Unresolvable:
            where = f"{place((*path, '$ref'))} points to {ref}"
            if ref.startswith("#"):
                return f"{where}, which does not exist"
            return f"{where}, which cannot be found: point inside the schema instead, like #/$defs/Item"
    for sub_path, sub in _subschemas(schema, path):
        problem = _dangling_ref_in(sub, sub_path, resolver, specification)
        if problem:
            return problem
    return None


_KIND_WORDS = {
    "string": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
    "object": "a JSON object", "array": "a list", "null": "empty (null)",
}  # fmt: skip


def kind_of(value: Any) -> str:
    """What a JSON value is, in the words `value_problem` uses ("text", "a list")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    return "a JSON object" if isinstance(value, dict) else type(value).__name__


def value_problem(schema: dict[str, Any], value: Any, *, at: str, validator: Any = None) -> tuple[str, str] | None:
    """Where `value` breaks `schema` and how, as (field, plain problem), or None when it fits.

    Args:
        schema: a JSON Schema `schema_problem` accepts.
        value: JSON data.
        at: the name of the value itself ("input"); fields are named below it ("input.amount").
        validator: `validator_of(schema)`, when the caller keeps one.
    """
    validator = validator or validator_of(schema)
    error = load_jsonschema().exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    path = [at, *error.absolute_path]
    rule, rule_value, instance = error.validator, error.validator_value, error.instance
    if rule == "required":
        missing = next((name for name in rule_value if name not in instance), "")
        return place([*path, missing]), "required"
    if rule in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        allowed = schema_names(error.schema)
        extra = next((name for name in instance if name not in allowed), "")
        known = f"; the fields are {', '.join(allowed)}" if allowed else ""
        return place([*path, extra]), f"is not a field here{known}"
    return place(path), _value_words(rule, rule_value, instance)


def schema_names(schema: Any) -> list[str]:
    """The property names a schema declares."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return list(properties) if isinstance(properties, dict) else []


def _value_words(rule: str, rule_value: Any, instance: Any) -> str:
    if rule == "type":
        kinds = rule_value if isinstance(rule_value, list) else [rule_value]
        return f"must be {' or '.join(_KIND_WORDS.get(k, str(k)) for k in kinds)}, not {kind_of(instance)}"
    bounds = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if rule in bounds:
        return f"must be {bounds[rule]} {rule_value}"
    counted = {"minLength": ("at least", "characters"), "maxLength": ("at most", "characters"),
               "minItems": ("at least", "items"), "maxItems": ("at most", "items"),
               "minProperties": ("at least", "fields"), "maxProperties": ("at most", "fields")}  # fmt: skip
    if rule in counted:
        how, what = counted[rule]
        return f"must have {how} {rule_value} {what}"
    if rule == "enum":
        return f"must be one of: {', '.join(_shown(v) for v in rule_value)}"
    if rule == "const":
        return f"must be {_shown(rule_value)}"
    if rule == "pattern":
        return f"must match {rule_value}"
    if rule == "multipleOf":
        return f"must be a multiple of {rule_value}"
    if rule == "uniqueItems":
        return "must not repeat an item"
    if rule in ("anyOf", "oneOf"):
        kinds = [branch.get("type") for branch in rule_value if isinstance(branch, dict)]
        if kinds and all(isinstance(kind, str) for kind in kinds) and len(kinds) == len(rule_value):
            return _value_words("type", kinds, instance)
        return "does not fit any of the forms this field allows"
    return "does not fit this field's schema"


def _shown(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)
