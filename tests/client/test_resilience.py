"""The client over real loopback HTTP when things go wrong: rate limits, lost answers, broken streams."""

from __future__ import annotations

import uuid

import httpx
import pytest

from inference_nb.api import Client
from inference_nb.client.errors import TransportError
from inference_nb.client.profile import Profile

from ..apps import gate
from .loopback import CuttingProxy, nothing_once_answered, scripted_server, the_first_line

CREATED = "2026-01-01T00:00:00Z"


def server_tasks(embedded) -> list[dict]:
    """The task list, read from the server itself (not through a proxy)."""
    response = httpx.get(f"{embedded.url}/tasks", headers={"authorization": f"Bearer {embedded.token}"})
    response.raise_for_status()
    return response.json()["tasks"]


def test_a_429_with_retry_after_is_honoured_while_following_a_run():
    polls = 0

    def answer(method: str, path: str):
        nonlocal polls
        task = {"id": "task_x", "status": 1, "input": {}, "created_at": CREATED, "timeline": []}
        if method == "POST" and path.startswith("/run"):
            return 200, {}, task
        if path == "/tasks/task_x/stream":
            return 404, {}, {"error": {"message": "no streams here"}}
        if path == "/tasks/task_x":
            polls += 1
            if polls == 1:
                return 429, {"Retry-After": "1"}, {"error": {"message": "slow down"}}
            return 200, {}, {**task, "status": 9, "output": {"ok": True}}
        return 404, {}, {"error": {"message": f"no route {path}"}}

    with scripted_server(answer) as (url, log):
        run = Client(base_url=url, key="k").run("demo/x", {}).wait(timeout=10)

    assert run.status.name == "Completed" and run.output == {"ok": True}
    polls_seen = [(at, status) for at, request, status in log if request == "GET /tasks/task_x"]
    (limited_at, limited), (next_at, ok) = polls_seen[:2]
    assert (limited, ok) == (429, 200)
    assert next_at - limited_at >= 0.95


def test_a_create_whose_answer_is_lost_is_retried_into_the_same_task(embedded):
    with CuttingProxy(embedded.url, b"POST /run", nothing_once_answered) as proxy:
        run = Client(base_url=proxy.url, key=embedded.token).run("demo/sleep", {"seconds": 0.1}).wait(timeout=10)
        assert proxy.cut.is_set()
    assert run.status.name == "Completed"
    assert [task["id"] for task in server_tasks(embedded)] == [run.id]


def test_without_idempotency_a_create_whose_answer_is_lost_is_not_retried(embedded):
    with CuttingProxy(embedded.url, b"POST /run", nothing_once_answered) as proxy:
        client = Client(tasks=Profile("tasks", proxy.url, embedded.token, idempotent_create=False))
        with pytest.raises(TransportError):
            client.run("demo/sleep", {"seconds": 0.1})
        assert proxy.cut.is_set()
    assert len(server_tasks(embedded)) == 1


def test_an_events_stream_broken_mid_run_resumes(embedded):
    name = f"resilience-{uuid.uuid4().hex}"
    with CuttingProxy(embedded.url, b"GET /tasks/events", the_first_line) as proxy:
        run = Client(base_url=proxy.url, key=embedded.token).run("test/gate", {"gate": name})
        try:
            assert proxy.cut.wait(10), "the stream was never cut"
            assert not run.done
        finally:
            gate(name).set()
        run.wait(timeout=10)
    assert run.status.name == "Completed"
    assert run.output == {"gate": name, "opened": True}
