from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import BaseModel

from inference_nb.server.runs.shaping import shape

ROWS = {
    "type": "array",
    "items": {"type": "object", "properties": {"name": {"type": "string"}, "qty": {"type": "number"}}},
}


def test_rows_keep_the_schema_fields_matched_without_case_or_separators():
    output = [{"Name": "Towel", "QTY": 5, "shelf": "B"}, {"name": "Sonic Screwdriver", "q_t_y": 10}]
    assert shape([output], ROWS) == [{"name": "Towel", "qty": 5}, {"name": "Sonic Screwdriver", "qty": 10}]


def test_an_array_is_found_inside_an_object():
    output = {"count": 1, "items": [{"name": "Towel", "qty": "5"}]}
    assert shape([output], ROWS) == [{"name": "Towel", "qty": 5.0}]


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("integer", "42", 42),
        ("integer", 42.0, 42),
        ("integer", "4.5", 4.5),  # not whole: left for the schema check to refuse
        ("number", "1,234.5", 1234.5),
        ("string", 7, "7"),
        ("boolean", "Yes", True),
        ("boolean", "maybe", "maybe"),
        ("number", "lots", "lots"),
    ],
)
def test_scalars_are_converted_only_where_nothing_is_lost(kind, value, expected):
    assert shape([value], {"type": kind}) == expected


def test_several_outputs_concatenate_for_an_array_and_merge_for_an_object():
    assert shape([[{"name": "a"}], [{"name": "b"}]], ROWS) == [{"name": "a"}, {"name": "b"}]
    obj = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
    assert shape([{"a": 1}, {"a": 9, "b": 2}], obj) == {"a": 1, "b": 2}


def test_an_output_that_gives_the_schema_nothing_is_left_out_of_a_combination():
    assert shape([[{"name": "Towel", "qty": 5}], {"total": 99}], ROWS) == [{"name": "Towel", "qty": 5}]


def test_pydantic_models_dataclasses_and_nested_refs():
    class Item(BaseModel):
        name: str
        qty: int

    class Inventory(BaseModel):
        items: list[Item]

    @dataclass
    class Row:
        Name: str
        Qty: str

    schema = Inventory.model_json_schema()  # items → {"$ref": "#/$defs/Item"}
    assert shape([[Row("Towel", "5"), Item(name="Hat", qty=2)]], schema) == {
        "items": [{"name": "Towel", "qty": 5}, {"name": "Hat", "qty": 2}]
    }


def test_a_single_value_fills_a_one_field_object():
    schema = {"type": "object", "properties": {"total": {"type": "number"}}}
    assert shape(["12.5"], schema) == {"total": 12.5}


def test_a_reference_cycle_does_not_hang():
    schema = {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}
    assert shape([{"x": 1}], schema) == {"x": 1}
