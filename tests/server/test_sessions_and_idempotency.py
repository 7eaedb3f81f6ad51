from __future__ import annotations

import httpx
import pytest

from inference_nb.server import start_server

from .helpers import TEST_APPS, FakeClock, status_names, wait_for_status, wait_until


def _counter(api, session: str, action: str, **extra):
    body = {"app": "demo/counter", "input": {"action": action}, "session": session, **extra}
    return api.post("/run", json=body)


def test_a_session_keeps_one_instance_and_its_state(api):
    first = _counter(api, "new", "init").json()
    session_id = first["session_id"]
    assert session_id and first["status"] == 9
    second = _counter(api, session_id, "increment").json()
    third = _counter(api, session_id, "process").json()
    assert (second["session_id"], third["session_id"]) == (session_id, session_id)
    assert third["output"]["count"] == second["output"]["count"] + 1
    assert third["output"]["calls"] == 3
    assert "Serving" not in status_names([e["status"] for e in third["timeline"]])
    other = _counter(api, "new", "increment").json()
    assert other["session_id"] != session_id and other["output"]["calls"] == 1


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api_on_clock(tmp_path, clock):
    """A server whose idle timeouts are measured on `clock`, which moves only when the test moves it."""
    with start_server(data_dir=tmp_path / "data", apps=TEST_APPS, clock=clock) as srv:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api:
            yield api


def _call_and_settle(api, session_id: str, action: str, **extra) -> dict:
    """A call on the session, returned once the server's record shows the session idle again.

    The answer comes when the task is Completed; the session's idle time starts a moment later, when
    the server records its last use (`last_used_at`). Moving the clock before then would be lost.
    """
    before = api.get(f"/sessions/{session_id}").json()["last_used_at"] if session_id != "new" else None
    response = _counter(api, session_id, action, **extra)
    assert response.status_code == 200, response.text
    task = response.json()
    assert task["status"] == 9, task
    wait_until(
        lambda: (
            (s := api.get(f"/sessions/{task['session_id']}").json())["last_used_at"] >= task["updated_at"]
            and s["last_used_at"] != before
        ),
        "the session never recorded its last use",
    )
    return task


def test_a_session_expires_after_its_idle_timeout(api_on_clock, clock):
    api = api_on_clock
    session_id = _call_and_settle(api, "new", "init", session_timeout=1)["session_id"]
    clock.advance(0.9)  # idle, but not for long enough
    _call_and_settle(api, session_id, "increment")
    clock.advance(0.9)  # the call above restarted the idle time
    _call_and_settle(api, session_id, "increment")
    clock.advance(1.1)
    response = _counter(api, session_id, "increment")
    assert response.status_code == 410
    assert "expired after 1 s" in response.json()["error"]["message"]
    assert api.get(f"/sessions/{session_id}").json()["status"] == "ended"


def test_a_session_does_not_expire_while_a_call_runs(api):
    session_id = _counter(api, "new", "init", session_timeout=1).json()["session_id"]
    slow = api.post("/run?wait=false", json={"app": "demo/counter", "input": {"action": "get"}, "session": session_id})
    assert slow.status_code == 200
    assert api.get(f"/sessions/{session_id}").json()["status"] == "active"


def test_an_unknown_session_is_a_404(api):
    response = _counter(api, "sess_nope", "increment")
    assert response.status_code == 404 and "sess_nope" in response.json()["error"]["message"]


def test_a_session_belongs_to_one_app(api):
    session_id = _counter(api, "new", "init").json()["session_id"]
    response = api.post("/run", json={"app": "test/echo", "input": {"text": "x"}, "session": session_id})
    assert response.status_code == 409 and "demo/counter" in response.json()["error"]["message"]


def test_ending_a_session_by_request(api):
    session_id = _counter(api, "new", "init").json()["session_id"]
    ended = api.delete(f"/sessions/{session_id}").json()
    assert ended["status"] == "ended" and ended["end_reason"] == "ended by request"
    assert _counter(api, session_id, "increment").status_code == 410
    assert api.delete(f"/sessions/{session_id}").status_code == 410


def test_same_idempotency_key_and_body_give_the_same_task(api):
    body = {"app": "test/gate", "input": {"gate": "idem"}}
    headers = {"Idempotency-Key": "k-1"}
    first = api.post("/run?wait=false", json=body, headers=headers).json()
    again = api.post("/run?wait=false", json=body, headers=headers).json()
    assert again["id"] == first["id"]
    assert len(api.get("/tasks", params={"app": "test/gate"}).json()["tasks"]) == 1
    api.post(f"/tasks/{first['id']}/cancel")
    wait_for_status(api, first["id"], "Cancelled")
    replayed = api.post("/run", json=body, headers=headers).json()
    assert replayed["id"] == first["id"] and replayed["status"] == 11


def test_same_idempotency_key_with_another_body_is_a_409(api):
    headers = {"Idempotency-Key": "k-2"}
    first = api.post("/run", json={"app": "test/echo", "input": {"text": "a"}}, headers=headers).json()
    response = api.post("/run", json={"app": "test/echo", "input": {"text": "b"}}, headers=headers)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["task_id"] == first["id"] and "different body" in error["message"]


def test_key_order_in_the_body_does_not_matter(api):
    headers = {"Idempotency-Key": "k-3"}
    first = api.post("/run", content=b'{"app": "test/echo", "input": {"text": "o"}}', headers=headers).json()
    again = api.post("/run", content=b'{"input": {"text": "o"}, "app": "test/echo"}', headers=headers).json()
    assert again["id"] == first["id"]


def test_a_new_session_starts_fresh_after_one_off_runs(api):
    # One-off runs may share a warm instance, as on a warm worker: the count goes on between them.
    one_off = [_counter(api, None, "increment").json()["output"] for _ in range(3)]
    assert [o["count"] for o in one_off] == [1, 2, 3]
    fresh = _counter(api, "new", "increment").json()
    assert (fresh["output"]["count"], fresh["output"]["calls"]) == (1, 1)
    assert "Serving" in status_names([e["status"] for e in fresh["timeline"]])  # set up for this session
    # Ending the session unloads its instance; the pool's warm instance was never the session's.
    api.delete(f"/sessions/{fresh['session_id']}")
    assert _counter(api, None, "increment").json()["output"]["count"] == 4


def test_a_session_speaks_the_dialect_of_the_task_that_started_it(api):
    hosted = api.post("/apps/run?wait=true", json={"app": "demo/counter", "input": {}, "session": "new"})
    hosted_id = hosted.json()["data"]["session_id"]
    spec_id = _counter(api, "new", "init").json()["session_id"]
    got = api.get(f"/sessions/{hosted_id}")
    assert got.headers["Inference-Dialect"] == "hosted"
    view = got.json()["data"]
    assert (view["id"], view["app_id"], view["idle_timeout"], view["call_count"]) == (
        hosted_id,
        "demo/counter@1.0.0",
        300,
        1,
    )
    assert view["expires_at"] > view["last_call_at"]
    assert "data" not in api.get(f"/sessions/{spec_id}").json()
    assert "app_id" in api.get(f"/sessions/{spec_id}", headers={"Inference-Dialect": "hosted"}).json()["data"]
    ended = api.delete(f"/sessions/{hosted_id}").json()["data"]
    assert (ended["status"], ended["expires_at"]) == ("ended", ended["ended_at"])
    gone = api.delete(f"/sessions/{hosted_id}")
    assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"
    assert set(api.delete(f"/sessions/{spec_id}").json()) >= {"id", "status", "ended_at"}
