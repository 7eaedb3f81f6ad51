"""The two dialects of the tasks API: fixed per task by its route, picked per answer by a header."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from inference_nb.server import start_server
from inference_nb.server.schema import SCHEMA

from .helpers import TEST_APPS, gate
from .receiver import WebhookReceiver

HOSTED = {"Inference-Dialect": "hosted"}
SPEC = {"Inference-Dialect": "spec"}
ECHO = {"app": "test/echo@1.0.0", "input": {"text": "hi"}}


def test_each_task_keeps_the_dialect_of_its_route_in_every_view(api):
    spec = api.post("/run", json=ECHO)
    hosted = api.post("/apps/run?wait=true", json=ECHO)
    assert (spec.headers["Inference-Dialect"], hosted.headers["Inference-Dialect"]) == ("spec", "hosted")
    spec_id, hosted_id = spec.json()["id"], hosted.json()["data"]["id"]
    assert api.get(f"/tasks/{spec_id}").json()["status"] == 9
    assert api.get(f"/tasks/{spec_id}/status").json()["status"] == 9
    assert api.get(f"/tasks/{hosted_id}").json()["data"]["status"] == 10
    assert api.get(f"/tasks/{hosted_id}/status").json()["data"]["status"] == 10
    assert [json.loads(line)["status"] for line in api.get(f"/tasks/{hosted_id}/stream").text.splitlines()] == [10]
    timeline = api.get(f"/tasks/{hosted_id}").json()["data"]["timeline"]
    assert [e["name"] for e in timeline][:4] == ["Received", "Queued", "Dispatched", "Preparing"]
    assert [e["status"] for e in timeline][-1] == 10


def test_the_header_wins_over_the_route_and_the_task(api):
    spec_id = api.post("/run", json=ECHO).json()["id"]
    hosted_id = api.post("/apps/run?wait=true", json=ECHO).json()["data"]["id"]
    as_hosted = api.get(f"/tasks/{spec_id}", headers=HOSTED)
    assert as_hosted.headers["Inference-Dialect"] == "hosted" and as_hosted.json()["data"]["status"] == 10
    assert api.get(f"/tasks/{hosted_id}", headers=SPEC).json()["status"] == 9
    created = api.post("/apps/run?wait=true", json=ECHO, headers=SPEC)
    assert created.json()["status"] == 9  # answered in spec; the task itself is hosted
    assert api.get(f"/tasks/{created.json()['id']}").json()["data"]["status"] == 10


def test_a_list_speaks_one_dialect(api):
    api.post("/run", json=ECHO)
    api.post("/apps/run?wait=true", json=ECHO)
    assert {t["status"] for t in api.get("/tasks").json()["tasks"]} == {9}
    assert {t["status"] for t in api.get("/tasks", headers=HOSTED).json()["data"]["tasks"]} == {10}


def test_apps_run_answers_at_once_and_waits_when_asked(api):
    task = api.post("/apps/run", json={"app": "test/gate", "input": {"gate": "dialect-no-wait"}}).json()["data"]
    assert task["status"] in (1, 2, 3, 4, 5, 6, 7) and task["function"] == "run"
    gate("dialect-no-wait").set()


def test_hosted_errors_are_problems_naming_each_field(api):
    answer = api.post("/apps/run", json={"app": "test/echo", "input": {"text": 3}, "bogus": 1})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert (problem["type"], problem["title"], problem["status"]) == (
        "/errors/invalid_request",
        "Unprocessable Entity",
        422,
    )
    assert problem["errors"] == [{"field": "bogus", "message": "Extra inputs are not permitted"}]
    assert problem["detail"].startswith("Invalid request")
    bad_input = api.post("/apps/run", json={"app": "test/echo", "input": {"text": 3}}).json()
    assert bad_input["errors"] == [{"field": "input.text", "message": "Input should be a valid string"}]


def test_spec_errors_keep_their_shape_and_a_header_can_ask_for_a_problem(api):
    spec = api.post("/run", json={"app": "test/echo", "input": {"text": 3}})
    assert set(spec.json()) == {"error"} and spec.json()["error"]["details"][0]["field"] == "input.text"
    unknown = api.get("/tasks/task_nope", headers=HOSTED)
    assert unknown.status_code == 404 and unknown.json()["detail"] == "no task 'task_nope'"
    assert api.get("/tasks/task_nope", headers=SPEC).json() == {
        "error": {"code": "not_found", "message": "no task 'task_nope'"}
    }
    # No header and no task: who asks is unknown, so the spec's body carries the message in `detail` too.
    assert api.get("/tasks/task_nope").json()["detail"] == "no task 'task_nope'"


def test_cancel_of_an_ended_task_says_its_status_in_the_tasks_dialect(api):
    hosted_id = api.post("/apps/run?wait=true", json=ECHO).json()["data"]["id"]
    refused = api.post(f"/tasks/{hosted_id}/cancel")
    assert refused.status_code == 409 and refused.json()["task_status"] == 10
    assert "already ended (Completed)" in refused.json()["detail"]


def test_a_dialect_header_that_names_none_is_a_400(api):
    answer = api.get("/apps", headers={"Inference-Dialect": "v3"})
    assert answer.status_code == 400 and "must be spec or hosted, not 'v3'" in answer.json()["error"]["message"]


def test_the_runs_api_never_asks_for_a_bearer_token(server):
    answer = httpx.get(f"{server.url}/clusters/demo/runs", headers={"authorization": "wrong"})
    assert answer.status_code == 401
    message = answer.json()["error"]["message"]
    assert "Bearer" not in message and "authorization: <token>" in message


def test_the_runs_api_keeps_its_one_error_format_whatever_the_header(server):
    headers = {"authorization": server.token, **HOSTED}
    answer = httpx.get(f"{server.url}/clusters/demo/runs/nope", headers=headers)
    assert answer.status_code == 404 and answer.json() == {
        "error": {"code": "not_found", "message": "no run 'nope' in cluster 'demo'"}
    }


def test_a_webhook_speaks_the_dialect_of_its_task(api):
    with WebhookReceiver() as receiver:
        api.post("/run", json={**ECHO, "webhook": receiver.url})
        api.post("/apps/run?wait=true", json={**ECHO, "webhook": receiver.url})
        statuses = sorted(json.loads(r.body)["status"] for r in receiver.wait_for(2))
    assert statuses == [9, 10]


def test_a_full_queue_rejects_and_the_spec_reads_it_as_failed(tmp_path):
    with start_server(data_dir=tmp_path / "data", apps=TEST_APPS, max_workers=1, max_queued=0) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            held = api.post("/run?wait=false", json={"app": "test/gate", "input": {"gate": "full-queue"}}).json()
            rejected = api.post("/run", json=ECHO).json()
            assert rejected["status"] == 10 and "the server's queue is full" in rejected["error"]
            assert [e["name"] for e in rejected["timeline"]] == ["Received", "Failed"]
            assert api.get(f"/tasks/{rejected['id']}", headers=HOSTED).json()["data"]["status"] == 13
            gate("full-queue").set()
            assert api.get(f"/tasks/{held['id']}").json()["status"] in range(1, 10)


def test_a_database_of_the_previous_schema_is_migrated(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    old = sqlite3.connect(data_dir / "inference_nb.sqlite3")
    old.executescript(SCHEMA)  # the tables as the previous server wrote them, user_version 0
    timeline = [
        {"status": code, "name": name, "at": "2026-01-01T00:00:00.000Z"}
        for code, name in [(1, "Received"), (3, "Scheduled"), (7, "Running"), (8, "Uploading"), (9, "Completed")]
    ]
    old.execute(
        "INSERT INTO tasks (id, app, status, input, base_url, created_at, updated_at, timeline) "
        "VALUES ('task_from_schema_0', 'test/echo@1.0.0', 9, '{}', 'http://old', 'x', 'x', ?)",
        (json.dumps(timeline),),
    )
    old.commit()
    old.close()
    with start_server(data_dir=data_dir, apps=TEST_APPS) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            spec = api.get("/tasks/task_from_schema_0").json()
            hosted = api.get("/tasks/task_from_schema_0", headers=HOSTED).json()["data"]
    assert spec["status"] == 9 and [e["status"] for e in spec["timeline"]] == [1, 3, 7, 8, 9]
    assert [e["name"] for e in spec["timeline"]] == [e["name"] for e in timeline]
    assert hosted["status"] == 10 and [e["name"] for e in hosted["timeline"]][1] == "Dispatched"
    assert hosted["function"] == "run"
    migrated = sqlite3.connect(data_dir / "inference_nb.sqlite3")
    assert migrated.execute("PRAGMA user_version").fetchone()[0] == 1
    migrated.close()


@pytest.mark.parametrize("path", ["/sessions", "/files", "/tasks/task_x/files"])
def test_routes_only_the_hosted_service_has_speak_hosted(api, path):
    answer = api.get(path) if path != "/files" else api.post(path, json={"files": []})
    assert answer.headers["Inference-Dialect"] == "hosted"
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
