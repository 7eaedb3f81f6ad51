"""What the user typed is state: the front end's `typed` messages set the form traits (on the
controller thread), `widget.message` and `widget.input` read them, and bad values are refused."""

from __future__ import annotations

import threading

import pytest

from inference_nb.widget import InferenceWidget

from .test_widget import Browser


@pytest.fixture
def browser(client, monkeypatch):
    return Browser(InferenceWidget(client), monkeypatch)


def test_typed_text_sets_the_traits_the_kernel_reads(browser):
    widget = browser.widget
    setters: set[str] = set()
    widget.observe(lambda _: setters.add(threading.current_thread().name), names=["message", "input_values"])
    answer = browser.send(type="typed", message="How many hammers?", schema_text='{"type": "integer"}')
    assert answer["type"] == "accepted"
    assert widget.message == "How many hammers?" and widget.schema_text == '{"type": "integer"}'

    answer = browser.send(type="typed", mode="app", app="demo/picture@1.0.0", input={"prompt": "a lake", "seed": None},
                          setup_text='{"style": "soft"}', session="new")  # fmt: skip
    assert answer["type"] == "accepted"
    assert widget.mode == "app" and widget.app == "demo/picture@1.0.0" and widget.session == "new"
    assert widget.input == {"prompt": "a lake", "seed": None} and widget.setup_text == '{"style": "soft"}'
    assert widget.message == "How many hammers?"  # a field the message does not carry stays
    assert setters == {"inference_nb-controller"}  # one writer of traits


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"message": 3}, "message"),
        ({"mode": "other"}, "mode"),
        ({"session": "forever"}, "session"),
        ({"input": ["not", "an", "object"]}, "input"),
    ],
)
def test_typed_values_of_the_wrong_kind_are_refused_naming_them(browser, content, field):
    answer = browser.send(type="typed", **content)
    assert answer["type"] == "refused" and answer["field"] == field
    assert browser.widget.message == "" and browser.widget.mode == "ask"


def test_a_schema_from_a_pydantic_model_is_not_replaced_by_typing(client, monkeypatch):
    widget = InferenceWidget(client, schema=int)
    locked = widget.schema_text
    Browser(widget, monkeypatch).send(type="typed", schema_text="{}", message="How many?")
    assert widget.schema_text == locked and widget.message == "How many?"
