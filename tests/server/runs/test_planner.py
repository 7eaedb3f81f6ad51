from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from inference_nb.server.runs.functions import make_function
from inference_nb.server.runs.planner import CallOutcome, DeterministicPlanner, choose, extract_arguments


def searchInventory(name: str | None = None, limit: int = 10) -> list[dict]:
    """Search the inventory by item name; rows with name and qty."""
    return []


def inventoryValue(category: str | None = None) -> dict:
    """Total value of the inventory."""
    return {}


def send_email(to: str, subject: str, body: str = "") -> None:
    """Send an email message."""


FUNCTIONS = [make_function(f, service="example") for f in (searchInventory, inventoryValue, send_email)]
ROWS = {"type": "array", "items": {"type": "object", "properties": {"name": {}, "qty": {}}}}


def test_the_spec_question_chooses_the_search_by_name_and_schema():
    chosen = choose("What does our inventory look like?", FUNCTIONS, ROWS)
    assert [f.name for f in chosen] == ["searchInventory"]


def test_an_object_schema_about_value_chooses_the_value_function():
    schema = {"type": "object", "properties": {"value": {"type": "number"}}}
    assert [f.name for f in choose("What is our inventory worth in value?", FUNCTIONS, schema)] == ["inventoryValue"]


def test_no_word_in_common_means_no_call():
    assert choose("Tell me a joke", FUNCTIONS) == []


def test_camel_and_snake_case_names_are_split_and_plurals_folded():
    assert [f.name for f in choose("send emails", FUNCTIONS)] == ["send_email"]


def test_arguments_from_pairs_inline_json_and_quotes():
    email = FUNCTIONS[2]
    assert extract_arguments('send_email to="ann@example.org" subject=Hello', email) == {
        "to": "ann@example.org",
        "subject": "Hello",
    }
    assert extract_arguments('email {"to": "bo@example.org", "Subject": "Hi"} please', email) == {
        "to": "bo@example.org",
        "subject": "Hi",
    }
    assert extract_arguments('email "cy@example.org" about "Lunch"', email) == {
        "to": "cy@example.org",
        "subject": "Lunch",
    }


def test_pairs_for_unknown_parameters_are_ignored_and_names_fold():
    search = FUNCTIONS[0]
    assert extract_arguments("search LIMIT=3 colour=red", search) == {"limit": "3"}


class Query(BaseModel):
    city: str
    days: int = 3


def forecast(query: Query) -> dict:
    return {"city": query.city, "days": query.days}


def test_a_pydantic_model_parameter_gives_the_arguments_schema():
    function = make_function(forecast, service="weather")
    assert function.parameter_names == ["city", "days"]
    arguments = function.validate(extract_arguments("forecast city=Oslo", function))

    async def run_sync(fn):
        return fn()

    assert asyncio.run(function.call(arguments, run_sync=run_sync)) == {"city": "Oslo", "days": 3}


def test_type_hints_that_cannot_be_resolved_are_a_clear_error():
    class Local(BaseModel):
        x: int

    def uses_local(value: Local) -> None: ...

    with pytest.raises(TypeError, match="define the types they name at module level"):
        make_function(uses_local, service="s")


def test_the_planner_calls_the_chosen_function_and_shapes_its_output():
    calls = []

    async def call(function, arguments):
        calls.append((function.name, arguments))
        return CallOutcome(function, arguments, ok=True, value=[{"Name": "Towel", "Qty": "5"}])

    conclusion = asyncio.run(DeterministicPlanner().plan("inventory name=Towel", FUNCTIONS, ROWS, call))
    assert calls == [("searchInventory", {"name": "Towel"})]
    assert conclusion.result == [{"name": "Towel", "qty": "5"}]
    assert "searchInventory" in conclusion.summary


def test_a_failed_call_gives_no_result_and_says_why():
    async def call(function, arguments):
        return CallOutcome(function, arguments, ok=False, value="ValueError: disk on fire")

    conclusion = asyncio.run(DeterministicPlanner().plan("inventory", FUNCTIONS, ROWS, call))
    assert conclusion.result is None and "disk on fire" in conclusion.summary


def test_the_summary_shows_arguments_as_the_function_takes_them_and_never_says_no_result():
    async def call(function, arguments):
        return CallOutcome(function, arguments, ok=False, value="ValueError: out of stock")

    message = "inventory name=Towel limit=5"
    conclusion = asyncio.run(DeterministicPlanner().plan(message, FUNCTIONS, ROWS, call))
    assert conclusion.summary == 'example.searchInventory(name="Towel", limit=5) failed: ValueError: out of stock.'


def test_the_name_is_the_start_of_the_message():
    assert DeterministicPlanner().name("what does our inventory look like?") == "What does our inventory look like"


def test_a_bare_value_stops_at_the_end_of_the_sentence():
    search = FUNCTIONS[0]
    assert extract_arguments("search inventory name=Towel limit=3?", search) == {"name": "Towel", "limit": "3"}
