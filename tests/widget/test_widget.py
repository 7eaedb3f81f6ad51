"""The widget's message handling and trait updates, without a browser, against a real server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from pydantic import BaseModel

from inference_nb.widget import InferenceWidget
from inference_nb.widget.run_model import RunModel
from inference_nb.widget.submit import MAX_FILE_BYTES

from ..apps import gate


class Item(BaseModel):
    name: str
    qty: int


class Browser:
    """Stands in for the front end: sends custom messages, records the answers."""

    def __init__(self, widget: InferenceWidget, monkeypatch) -> None:
        self.widget = widget
        self.answers: list[dict] = []
        self.threads: set[str] = set()
        monkeypatch.setattr(widget, "send", self.answers.append)
        widget.observe(lambda change: self.threads.add(threading.current_thread().name), names=["runs", "current"])
        self._count = 0

    def send(self, buffers: list | None = None, **content) -> dict:
        self._count += 1
        content["id"] = f"m{self._count}"
        self.widget._on_message(self.widget, content, buffers or [])
        return until(lambda: next((a for a in self.answers if a["id"] == content["id"]), None))

    def view(self, run_id: str, done: Callable[[dict], bool] = lambda v: True) -> dict:
        return self.model(run_id, lambda m: done(m.view)).view

    def model(self, run_id: str, done: Callable[[RunModel], bool] = lambda m: True) -> RunModel:
        return until(lambda: next((m for m in self.widget.runs if m.view["id"] == run_id and done(m)), None))


def until(find: Callable, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError("timed out")


@pytest.fixture
def browser(client, monkeypatch):
    return Browser(InferenceWidget(client), monkeypatch)


def terminal(view: dict) -> bool:
    return view["phase"] in ("succeeded", "failed", "cancelled")


def test_traits_are_prefilled_and_hold_no_secret(client, embedded):
    widget = InferenceWidget(
        client, mode="app", app="demo/picture", input={"prompt": "A sunset"}, setup={"style": "soft"}
    )
    state = json.dumps(widget.get_state(), default=str)
    assert embedded.token not in state
    assert widget.mode == "app" and widget.app == "demo/picture@1.0.0" and widget.input_values == {"prompt": "A sunset"}
    assert json.loads(widget.setup_text) == {"style": "soft"}
    assert "demo/sql@1.0.0" in [a["id"] for a in widget.apps]
    assert "test/echo@1.0.0" not in [a["id"] for a in widget.apps]  # only the latest version of each app
    assert widget.server == client.profile("tasks").label


def test_a_pydantic_schema_is_shown_locked_and_types_the_result(client, monkeypatch):
    widget = InferenceWidget(client, message="What does our inventory look like?", schema=list[Item])
    assert widget.schema_locked and json.loads(widget.schema_text)["type"] == "array"
    browser = Browser(widget, monkeypatch)
    answer = browser.send(type="submit", mode="ask", message=widget.message, schema_text="ignored: locked")
    view = browser.view(answer["run_id"], terminal)
    assert view["preview"]["columns"] == ["name", "qty"] and view["preview"]["total"] == 40
    assert widget.result[0] == Item(name="Claw Hammer", qty=83)
    assert len(widget.df) == 40


def test_an_ask_submission_runs_and_its_view_follows_every_status(browser):
    schema = {"type": "object", "properties": {"value": {"type": "number"}}}
    answer = browser.send(
        type="submit", mode="ask", message="What is the value of our inventory?", schema_text=json.dumps(schema)
    )
    assert answer["type"] == "accepted"
    view = browser.view(answer["run_id"], terminal)
    assert browser.widget.current == answer["run_id"]
    assert view["kind"] == "run" and view["status"] == "done" and view["phase"] == "succeeded"
    assert [step["name"] for step in view["steps"]][:2] == ["pending", "running"]
    assert [t["name"] for t in view["timeline"]][-1] == "done"
    assert view["jobs"][0]["targetFn"] == "inventoryValue" and view["jobs"][0]["resultType"] == "resolution"
    assert json.loads(view["text"]) == {"value": 257785.6}
    assert browser.threads == {"inference_nb-controller"}  # one writer of traits


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"mode": "ask", "message": "hi", "schema_text": "{not json"}, "schema"),
        ({"mode": "ask", "message": "hi", "schema_text": '{"type": "nope"}'}, "schema"),
        ({"mode": "ask", "message": "  ", "schema_text": ""}, "message"),
        ({"mode": "app", "app": "Not An App", "input": {}, "setup_text": "", "session": "none"}, "app"),
        ({"mode": "app", "app": "demo/picture", "input": [], "setup_text": "", "session": "none"}, "input"),
        (
            {"mode": "app", "app": "demo/picture", "input": {"prompt": "p"}, "setup_text": "[1]", "session": "none"},
            "setup",
        ),
        ({"mode": "app", "app": "demo/counter", "input": {}, "setup_text": "", "session": "last"}, "session"),
    ],
)
def test_bad_submissions_are_refused_naming_the_field(browser, content, field):
    answer = browser.send(type="submit", **content)
    assert answer["type"] == "refused" and answer["field"] == field and answer["message"]
    assert browser.widget.runs == []


def test_the_server_refusing_input_is_a_refusal_too(browser):
    answer = browser.send(type="submit", mode="app", app="demo/picture", input={"prompt": "p", "width": 5000},
                          setup_text="", session="none")  # fmt: skip
    assert answer["type"] == "refused" and "input.width" in answer["message"]


def test_an_app_run_shows_its_steps_table_and_images(browser):
    answer = browser.send(type="submit", mode="app", app="demo/picture", input={"prompt": "A sunset", "width": 96,
                          "height": 64}, setup_text="", session="none")  # fmt: skip
    model = browser.model(answer["run_id"], lambda m: terminal(m.view) and m.images)
    view = model.view
    assert [s["name"] for s in view["steps"]] == [
        "Received", "Queued", "Scheduled", "Preparing", "Serving", "Setting Up", "Running", "Uploading",
        "Completed", "Failed", "Cancelled",
    ]  # fmt: skip
    [image] = model.images  # bytes, sent as a binary buffer: never base64 text in a trait
    assert image["type"] == "image/png" and image["data"].startswith(b"\x89PNG\r\n\x1a\n")
    assert view["text"] is None  # the images show the output; no JSON of it besides
    sql = browser.send(type="submit", mode="app", app="demo/sql", input={"query": "SELECT name, qty FROM inventory"},
                       setup_text="", session="none")  # fmt: skip
    table = browser.view(sql["run_id"], terminal)["preview"]
    assert table["columns"] == ["name", "qty"] and len(table["rows"]) == 20 and table["total"] == 40


def test_sessions_new_then_last(browser):
    first = browser.send(type="submit", mode="app", app="demo/counter", input={"action": "init"}, setup_text="",
                         session="new")  # fmt: skip
    browser.view(first["run_id"], terminal)
    session_id = browser.widget.last_session_id
    assert session_id and session_id.startswith("sess_")
    second = browser.send(type="submit", mode="app", app="demo/counter", input={"action": "increment"},
                          setup_text="", session="last")  # fmt: skip
    browser.view(second["run_id"], terminal)
    assert browser.widget.run.output["calls"] == 2 and browser.widget.run.session_id == session_id


def test_cancel_a_running_app(browser):
    answer = browser.send(type="submit", mode="app", app="test/gate", input={"gate": "widget-cancel"}, setup_text="",
                          session="none")  # fmt: skip
    browser.view(answer["run_id"], lambda v: v["status"] == "Running")
    assert browser.send(type="cancel", run_id=answer["run_id"])["type"] == "accepted"
    view = browser.view(answer["run_id"], terminal)
    assert view["phase"] == "cancelled" and view["status"] == "Cancelled"
    gate("widget-cancel").set()


def test_a_failed_run_shows_the_servers_reason(browser):
    answer = browser.send(type="submit", mode="app", app="demo/fail", input={"message": "the disk is on fire"},
                          setup_text="", session="none")  # fmt: skip
    view = browser.view(answer["run_id"], terminal)
    assert view["phase"] == "failed" and "the disk is on fire" in view["error"]
    assert view["preview"] is None and view["text"] is None


def test_approve_a_paused_run_and_select_an_older_one(browser):
    first = browser.send(type="submit", mode="ask", message="What is the value of our inventory?", schema_text="")
    paused = browser.send(type="submit", mode="ask", message='restock name="Claw Hammer" qty=3', schema_text="")
    view = browser.view(paused["run_id"], lambda v: v["status"] == "paused")
    request = view["input_requests"][0]
    assert request["type"] == "approval" and "restock" in request["description"]
    approve = browser.send(type="approve", run_id=paused["run_id"], job_id=request["jobId"], approved=True)
    assert approve["type"] == "accepted"
    assert json.loads(browser.view(paused["run_id"], terminal)["text"])["ordered"] == 3
    assert browser.send(type="select", run_id=first["run_id"])["type"] == "accepted"
    until(lambda: browser.widget.current == first["run_id"])
    assert browser.widget.run.id == first["run_id"]


@pytest.mark.parametrize("content", [{"type": "dance"}, {"type": "cancel", "run_id": "nope"}])
def test_unknown_messages_are_refused_with_their_id(browser, content):
    answer = browser.send(**content)
    assert answer["type"] == "refused" and answer["message"]


CITIES = b"city,people\nOslo,709000\nBergen,291000\nTromso,78000\n"


def sql_with_file(query: str, size: int, buffer: int = 0) -> dict:
    return dict(type="submit", mode="app", app="demo/sql", input={"query": query}, setup_text="", session="none",
                files={"csv_file": {"buffer": buffer, "filename": "cities.csv", "content_type": "text/csv",
                                    "size": size}})  # fmt: skip


def test_a_file_sent_with_a_submit_is_uploaded_and_its_uri_is_the_input(browser, embedded):
    # As the comm hands them over: views of the message's frames, not bytes.
    content = sql_with_file("SELECT city, people FROM uploaded WHERE people > 100000 ORDER BY city", len(CITIES))
    answer = browser.send(buffers=[memoryview(CITIES)], **content)
    assert answer["type"] == "accepted", answer
    view = browser.view(answer["run_id"], terminal)
    assert view["phase"] == "succeeded", view["error"]
    assert view["preview"]["columns"] == ["city", "people"]
    assert view["preview"]["rows"] == [["Bergen", 291000], ["Oslo", 709000]]
    uri = browser.widget.run.raw["input"]["csv_file"]
    uri = uri["uri"] if isinstance(uri, dict) else uri
    assert uri.startswith(embedded.url) and uri.endswith("/cities.csv")
    read_back = httpx.get(uri, headers={"Authorization": f"Bearer {embedded.token}"})
    assert read_back.status_code == 200 and read_back.content == CITIES
    assert browser.threads == {"inference_nb-controller"}


def test_a_file_in_a_nested_field_lands_at_its_path():
    # demo/* has no nested file field: the placing is checked on its own, without the server.
    from inference_nb.widget.submit import _put

    value: dict = {"query": "q"}
    _put(value, ["options", "image"], "https://x/files/1/a.png", "input.options.image")
    assert value == {"query": "q", "options": {"image": "https://x/files/1/a.png"}}


@pytest.mark.parametrize(
    ("buffers", "content", "says"),
    [
        ([], sql_with_file("SELECT 1", len(CITIES)), "did not arrive"),
        ([CITIES], sql_with_file("SELECT 1", len(CITIES), buffer=1), "did not arrive"),
        ([b"x" * (MAX_FILE_BYTES + 1)], sql_with_file("SELECT 1", MAX_FILE_BYTES + 1), "up to 8 MiB"),
    ],
)
def test_a_file_that_cannot_be_taken_is_refused_naming_its_field(browser, buffers, content, says):
    answer = browser.send(buffers=buffers, **content)
    assert answer["type"] == "refused" and answer["field"] == "input.csv_file" and says in answer["message"]
    assert answer["id"] == f"m{browser._count}"
    assert browser.widget.runs == []
