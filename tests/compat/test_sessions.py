"""A session through the official SDK: calls to several functions of one app instance, keepalive, list, end."""

from __future__ import annotations

import pytest
from inferencesh import APIError, TaskStatus, parse_status


def test_a_session_keeps_state_across_calls_to_its_functions(sdk):
    session = sdk(lambda c: c.session("demo/counter"))  # its first call: run, which adds 1
    call = lambda function, input=None: sdk(lambda c: session.call(function, input))  # noqa: E731
    assert call("init", {"note": "start"})["output"] == {
        "count": 0,
        "calls": 2,
        "notes": ["start"],
        "action": "init",
        "session_id": session.session_id,
    }
    assert call("increment", {"amount": 5})["output"]["count"] == 5
    assert call("increment")["output"]["count"] == 6
    got = call("get")
    assert parse_status(got["status"]) is TaskStatus.COMPLETED and got["output"]["count"] == 6
    assert call("run", {"action": "increment", "amount": 10})["output"]["count"] == 16  # the action input still works
    assert call("reset")["output"] == {**got["output"], "count": 0, "calls": 7, "notes": [], "action": "reset"}
    sdk(lambda c: session.end())


def test_keepalive_list_and_end(sdk):
    session = sdk(lambda c: c.session("demo/counter"))
    kept = sdk(lambda c: session.keepalive())
    assert (kept["id"], kept["status"], kept["app_id"], kept["idle_timeout"]) == (
        session.session_id,
        "active",
        "demo/counter@1.0.0",
        300,
    )
    assert kept["call_count"] == 1 and kept["expires_at"] > kept["last_call_at"]
    listed = {s["id"]: s for s in sdk(lambda c: c.sessions.list())}
    assert listed[session.session_id]["status"] == "active"
    sdk(lambda c: session.end())
    assert sdk(lambda c: c.sessions.get(session.session_id))["status"] == "ended"
    assert {s["id"]: s for s in sdk(lambda c: c.sessions.list())}[session.session_id]["status"] == "ended"
    with pytest.raises(APIError) as ended:
        sdk(lambda c: c.run({"app": "demo/counter", "function": "get", "input": {}, "session": session.session_id}))
    assert ended.value.status_code == 410 and "ended by request" in ended.value.message
    with pytest.raises(APIError) as again:
        sdk(lambda c: c.sessions.keepalive(session.session_id))
    assert again.value.status_code == 410


def test_the_function_may_be_named_in_the_app_reference(sdk):
    session = sdk(lambda c: c.session("demo/counter", function="init", input={"note": "a"}))
    task = sdk(
        lambda c: c.run({"app": "demo/counter@1.0.0:increment", "input": {"amount": 3}, "session": session.session_id})
    )
    assert task["output"]["count"] == 3 and task["output"]["notes"] == ["a"]
    sdk(lambda c: session.end())
