"""The input a run view carries for the widget's history: capped, JSON data, no secret, no file bytes;
and it says when something was left out. Runs go through the real client to the embedded server."""

from __future__ import annotations

import json

from inference_nb.widget.history_input import INPUT_CHARS, VALUE_CHARS, input_view
from inference_nb.widget.run_view import RUN_STEPS, run_view

SCHEMA = {"type": "object", "properties": {"value": {"type": "number"}}}


def test_an_app_runs_input_is_its_app_and_values(client):
    run = client.run("test/echo", {"text": "hello"}).wait()
    assert run_view(run, steps=RUN_STEPS)["input"] == {
        "kind": "app",
        "app": "test/echo@2.0.0",
        "values": {"text": "hello"},
        "complete": True,
    }


def test_a_questions_input_is_its_message_and_schema(client):
    run = client.ask("How many hammers are in stock?", schema=SCHEMA).wait()
    assert input_view(run) == {
        "kind": "ask",
        "message": "How many hammers are in stock?",
        "schema": SCHEMA,
        "complete": True,
        "key_order": {"/schema": ["type", "properties"]},  # saving the notebook sorts keys: the order travels beside
    }


def test_a_question_answered_with_a_list_keeps_its_input_view(client):
    run = client.ask("What does our inventory look like?").wait()  # the demo answers with rows
    assert isinstance(run.result, list)
    assert input_view(run) == {
        "kind": "ask",
        "message": "What does our inventory look like?",
        "schema": None,
        "complete": True,
    }


def test_secret_looking_fields_and_inline_file_bytes_are_left_out_and_it_says_so(client):
    given = {"text": "hi", "api_key": "sk-do-not-keep", "picture": "data:image/png;base64,AAAA"}
    run = client.run("test/echo", given).wait()
    view = input_view(run)
    assert view["values"] == {"text": "hi"} and view["complete"] is False
    assert "sk-do-not-keep" not in json.dumps(run_view(run, steps=RUN_STEPS))


def test_long_values_are_cut_and_a_huge_input_keeps_only_its_app(client):
    long_text = client.run("test/echo", {"text": "x" * (VALUE_CHARS + 50)}).wait()
    view = input_view(long_text)
    assert len(view["values"]["text"]) == VALUE_CHARS and view["complete"] is False

    many = {"text": "t", **{f"field{i}": "y" * 500 for i in range(INPUT_CHARS // 400)}}
    huge = input_view(client.run("test/echo", many).wait())
    assert huge["values"] == {} and huge["app"].startswith("test/echo") and huge["complete"] is False
    assert len(json.dumps(huge)) <= INPUT_CHARS
