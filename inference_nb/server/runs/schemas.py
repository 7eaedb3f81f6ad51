"""JSON Schema helpers of the run engine and the model planner."""

from __future__ import annotations

import copy
from typing import Any

from inference_nb.wire.schema_words import load_jsonschema

MAX_INLINE_DEPTH = 8
"""How deep references are inlined; deeper (a recursive model) becomes "any value"."""


def schema_problem(result: Any, schema: dict[str, Any]) -> str | None:
    import referencing.exceptions

    jsonschema = load_jsonschema()  # on first use: its import is costly (see wire.schema_words)

    try:
        validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(result))
    except (RecursionError, referencing.exceptions.Unresolvable) as problem:
        return f"the schema could not be applied ({type(problem).__name__})"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{error.message}" + (f" (at {where})" if where else "")


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its local `#/$defs/...` references replaced by what they name, and no `$defs`.

    A function's arguments schema (pydantic's, with `$defs` for nested models) is placed inside the
    model planner's choice schema, where its root-relative references would point nowhere.
    """
    definitions = schema.get("$defs") or {}

    def resolve(node: Any, depth: int) -> Any:
        if isinstance(node, list):
            return [resolve(item, depth) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            target = definitions.get(reference.removeprefix("#/$defs/"))
            if target is None or depth >= MAX_INLINE_DEPTH:
                return {}
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**resolve(copy.deepcopy(target), depth + 1), **resolve(rest, depth)}
        return {k: resolve(v, depth) for k, v in node.items() if k != "$defs"}

    return resolve(schema, 0)
