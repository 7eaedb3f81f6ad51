"""Schema problems and input problems in plain words, with their place (wire.schema_words)."""

from __future__ import annotations

import pytest

from inference_nb.wire.schema_words import schema_problem, value_problem

DRAFT_7 = "http://json-schema.org/draft-07/schema#"
SCHEMA = "a schema (a JSON object, or true/false)"
TYPES = "one of the JSON Schema types (string, number, integer, boolean, object, array, null) or a list of them"


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"type": "object", "required": "name"}, 'required must be a list of field names, not "name"'),
        ({"required": ["a", 1]}, "required must be a list of field names"),
        ({"required": ["a", "a"]}, "required must be a list of field names, each named once"),
        ({"minimum": "zero"}, 'minimum must be a number, not "zero"'),
        ({"properties": {"age": {"minimum": "zero"}}}, 'properties.age.minimum must be a number, not "zero"'),
        ({"properties": {"minimum": {"maximum": "ten"}}}, 'properties.minimum.maximum must be a number, not "ten"'),
        ({"type": "strin"}, f'type must be {TYPES}, not "strin"'),
        ({"type": ["string", 3]}, f"type must be {TYPES}"),
        ({"properties": {"a": 5}}, "properties.a must be a schema (a JSON object, or true/false), not 5"),
        ({"properties": 5}, "properties must be an object of name → schema, not 5"),
        ({"items": 5}, f"items must be {SCHEMA}, not 5"),
        ({"additionalProperties": "no"}, f'additionalProperties must be {SCHEMA}, not "no"'),
        ({"anyOf": []}, "anyOf must be a non-empty list of schemas"),
        ({"oneOf": [{"type": "integer"}, 5]}, "oneOf[1] must be a schema (a JSON object, or true/false), not 5"),
        ({"enum": 5}, "enum must be a list of the allowed values, not 5"),
        ({"maxLength": -1}, "maxLength must be a whole number, 0 or more, not -1"),
        ({"minLength": 1.5}, "minLength must be a whole number, 0 or more, not 1.5"),
        ({"pattern": "("}, "pattern is not a valid regular expression"),
        ({"format": 3}, "format must be text naming a format, such as date-time or email, not 3"),
        ({"$ref": "#/$defs/x"}, "$ref points to #/$defs/x, which does not exist"),
        ({"properties": {"a": {"$ref": "#/$defs/x"}}}, "properties.a.$ref points to #/$defs/x, which does not exist"),
        (  # "#" inside a resource with its own $id is that resource's root, not the outer schema's
            {"$defs": {"z": {}, "a": {"$id": "https://example.com/a", "items": {"$ref": "#/$defs/z"}}}},
            "$defs.a.items.$ref points to #/$defs/z, which does not exist",
        ),
        (["a"], "the schema must be a JSON object"),
        ({"$schema": 5}, "$schema must be a URI"),
    ],
)
def test_a_broken_schema_is_described_in_plain_words_with_its_place(schema, words):
    assert schema_problem(schema) == words


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        {"$defs": {"x": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/x"}}},
        {"properties": {"$ref": {"type": "string"}, "type": {"enum": [1]}}},  # fields named like keywords
        {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        {"$schema": DRAFT_7, "definitions": {"a": {}}, "items": {"$ref": "#/definitions/a"}},
        {"$defs": {"a": {"$id": "https://example.com/a", "$defs": {"z": {}}, "items": {"$ref": "#/$defs/z"}}}},
        True,
    ],
)
def test_a_sound_schema_has_no_problem(schema):
    assert schema_problem(schema) is None


def test_no_message_carries_the_libraries_words():
    for schema in [{"required": "name"}, {"$ref": "#/$defs/x"}, {"type": "nope"}, {"items": 5}]:
        words = schema_problem(schema)
        for jargon in ("is not of type", "PointerToNowhere", "Unresolvable", "is not valid under", "simpleTypes"):
            assert jargon not in words


INPUT = {
    "type": "object",
    "properties": {
        "amount": {"type": "integer", "minimum": 1},
        "kind": {"enum": ["a", "b"]},
        "seed": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "name": {"type": "string", "maxLength": 3},
    },
    "required": ["amount"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"amount": "lots"}, ("input.amount", "must be a whole number, not text")),
        ({}, ("input.amount", "required")),
        ({"amount": 0}, ("input.amount", "must be ≥ 1")),
        ({"amount": 1, "kind": "c"}, ("input.kind", "must be one of: a, b")),
        ({"amount": 1, "seed": "s"}, ("input.seed", "must be a whole number or empty (null), not text")),
        ({"amount": 1, "name": "long"}, ("input.name", "must have at most 3 characters")),
        ({"amount": 1, "x": 2}, ("input.x", "is not a field here; the fields are amount, kind, seed, name")),
        ("text", ("input", "must be a JSON object, not text")),
    ],
)
def test_a_value_that_breaks_its_schema_names_the_field(value, problem):
    assert value_problem(INPUT, value, at="input") == problem


def test_a_value_that_fits_has_no_problem():
    assert value_problem(INPUT, {"amount": 2, "seed": None, "kind": "a"}, at="input") is None
