"""App input checked against the app's schema, and result schemas checked, before anything is
sent: in `client.run`, `client.map` and the widget, in plain words with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference_nb.client.errors import InvalidRequest
from inference_nb.widget.inference_widget import InferenceWidget

from ..widget.test_widget import Browser


def tasks_on(client) -> list[str]:
    return [run.id for run in client.runs(limit=50)]


def test_run_refuses_input_that_breaks_the_schema_before_any_task_is_sent(client):
    with pytest.raises(InvalidRequest) as refused:
        client.run("demo/counter", {"amount": "lots"})
    assert refused.value.field == "input.amount"
    assert str(refused.value) == "input.amount: must be a whole number, not text"
    with pytest.raises(InvalidRequest) as missing:
        client.run("demo/picture@1.0.0", {"width": 100})
    assert (missing.value.field, str(missing.value)) == ("input.prompt", "input.prompt: required")
    assert tasks_on(client) == []


def test_an_app_id_without_version_is_checked_against_its_latest_version(client):
    with pytest.raises(InvalidRequest) as refused:
        client.run("test/echo", {"text": 5})
    assert str(refused.value) == "input.text: must be text, not a number"
    assert tasks_on(client) == []
    assert client.run("test/echo", {"text": "fits"}).wait().output["text"] == "fits"


def test_a_map_row_that_breaks_the_schema_fails_alone_unsent(client):
    out = client.map("demo/counter", [{"amount": 1}, {"amount": "two"}], progress=False)
    assert out["status"].tolist() == ["succeeded", "failed"]
    assert out.loc[1, "error"] == "input.amount: must be a whole number, not text" and out.loc[1, "run_id"] is None
    assert len(tasks_on(client)) == 1


def test_a_file_field_takes_the_file_before_it_is_uploaded(client, tmp_path):
    csv = tmp_path / "cities.csv"
    csv.write_text("name,people\nOslo,700000\n")
    run = client.run("demo/sql", {"query": "SELECT name FROM uploaded", "csv_file": Path(csv)}).wait()
    assert run.output["rows"] == [{"name": "Oslo"}]


def test_ask_refuses_a_broken_schema_in_plain_words_once(client):
    with pytest.raises(InvalidRequest) as refused:
        client.ask("hi", schema={"type": "object", "required": "name"})
    assert refused.value.field == "schema"
    assert str(refused.value) == 'schema: required must be a list of field names, not "name"'
    with pytest.raises(InvalidRequest) as dangling:
        client.ask("hi", schema={"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}})
    assert str(dangling.value) == "schema: properties.a.$ref points to #/$defs/x, which does not exist"
    assert client.runs(kind="run") == []


@pytest.fixture
def browser(client, monkeypatch):
    return Browser(InferenceWidget(client), monkeypatch)


@pytest.mark.parametrize(
    ("schema_text", "message"),
    [
        ('{"type": "object", "required": "name"}', 'schema: required must be a list of field names, not "name"'),
        ('{"properties": {"age": {"minimum": "zero"}}}', 'schema: properties.age.minimum must be a number, not "zero"'),
        ('{"$ref": "#/$defs/x"}', "schema: $ref points to #/$defs/x, which does not exist"),
    ],
)
def test_the_widget_check_and_submit_refuse_a_schema_alike(browser, schema_text, message):
    checked = browser.send(type="check", what="schema", schema_text=schema_text)
    submitted = browser.send(type="submit", mode="ask", message="hi", schema_text=schema_text)
    for answer in (checked, submitted):
        assert (answer["type"], answer["field"], answer["message"]) == ("refused", "schema", message)
    assert browser.widget.runs == []


def test_the_widget_check_accepts_what_submit_accepts(browser):
    fine = '{"type": "object", "properties": {"name": {"type": "string"}}}'
    assert browser.send(type="check", what="schema", schema_text=fine)["type"] == "accepted"
    assert browser.send(type="check", what="schema", schema_text="")["type"] == "accepted"
    app = {"app": "demo/counter", "input": {"amount": 2}}
    assert browser.send(type="check", what="input", **app)["type"] == "accepted"
    assert browser.widget.runs == []


def test_the_widget_refuses_app_input_against_the_schema_naming_the_field(browser, client):
    content = {"app": "demo/counter", "input": {"amount": "lots"}}
    checked = browser.send(type="check", what="input", **content)
    submitted = browser.send(type="submit", mode="app", setup_text="", session="none", **content)
    for answer in (checked, submitted):
        assert answer["type"] == "refused" and answer["field"] == "input.amount"
        assert answer["message"] == "input.amount: must be a whole number, not text"
    assert tasks_on(client) == []


def test_the_widget_checks_input_before_uploading_its_files(browser, client, embedded):
    file = {"buffer": 0, "filename": "c.csv", "content_type": "text/csv", "size": 4}
    content = dict(type="submit", mode="app", app="demo/sql", input={"query": 5}, setup_text="", session="none",
                   files={"csv_file": file})  # fmt: skip
    answer = browser.send(buffers=[memoryview(b"a,b\n")], **content)
    assert answer["type"] == "refused" and answer["message"] == "input.query: must be text, not a number"
    assert tasks_on(client) == []
    check = browser.send(type="check", what="input", app="demo/sql", input={"query": "SELECT 1"}, files=["csv_file"])
    assert check["type"] == "accepted"


def test_a_check_of_an_unknown_kind_is_refused_naming_it(browser):
    answer = browser.send(type="check", what="colour")
    assert answer["type"] == "refused" and answer["field"] == "what"
