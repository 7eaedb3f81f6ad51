"""The poll scheduler, for servers without an events stream: thousands of runs on one timer with a
bounded number of requests in flight, Retry-After for the whole server, and answers that end the
following. The server here is an httpx transport (a server that streams nothing, counting requests)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest

from inference_nb.client.errors import BadResponse, ConflictError
from inference_nb.client.profile import Profile
from inference_nb.client.tasks import AsyncTasksClient
from inference_nb.kernel.backends import TaskBackend
from inference_nb.kernel.controller import MAX_POLLS, Controller
from inference_nb.kernel.run import Run

STEPS = [(1, "Received"), (2, "Queued"), (7, "Running"), (9, "Completed")]


class PolledServer(httpx.AsyncBaseTransport):
    """`GET /tasks/{id}`: each look moves the task one status on (Received → … → Completed).

    `answers` overrides what a task id gets: (status code, body text, headers), once or always.
    """

    def __init__(self) -> None:
        self.looks: dict[str, int] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.started: list[float] = []
        self.answers: dict[str, tuple[int, str, dict[str, str]]] = {}
        self.once: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        task_id = request.url.path.rsplit("/", 1)[-1]
        self.started.append(time.monotonic())
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)  # an answer takes a moment: requests overlap
            if task_id in self.answers:
                status, text, headers = self.answers[task_id]
                if task_id in self.once:
                    del self.answers[task_id]
                return httpx.Response(status, text=text, headers=headers)
            step = self.looks[task_id] = min(self.looks.get(task_id, 0) + 1, len(STEPS) - 1)
            return httpx.Response(200, json=task(task_id, step))
        finally:
            self.in_flight -= 1


def task(task_id: str, step: int) -> dict[str, Any]:
    timeline = [{"status": code, "name": name, "at": f"2026-01-01T00:00:0{i}.000Z"}
                for i, (code, name) in enumerate(STEPS[: step + 1])]  # fmt: skip
    return {"id": task_id, "status": STEPS[step][0], "input": {}, "output": None, "error": None,
            "session_id": None, "created_at": timeline[0]["at"], "updated_at": timeline[-1]["at"],
            "timeline": timeline}  # fmt: skip


def polled_runs(server: PolledServer, count: int, prefix: str) -> tuple[list[Run], dict[str, list[str]]]:
    """`count` runs followed by polling alone (the profile streams nothing), and the statuses each listener saw."""
    profile = Profile("tasks", "http://polled.test", "key", streams=False)
    backend = TaskBackend(profile, Controller.get(), wait_timeout=60)
    backend.client = AsyncTasksClient(profile, http=httpx.AsyncClient(transport=server))
    seen: dict[str, list[str]] = {}
    lock = threading.Lock()

    def listener(run: Run) -> None:
        with lock:
            seen[run.id].append(run.status.name)

    runs = []
    for i in range(count):
        run_id = f"{prefix}{i}"
        seen[run_id] = ["Received"]
        run = Run(backend, backend.client.core.snapshot(task(run_id, 0)), label="polled", follow=False)
        run.on_change(listener)
        backend.controller.follow(lambda r=run: backend.get(r.id), None, run._apply, run._give_up, run_id=run_id)
        runs.append(run)
    return runs, seen


def test_two_thousand_polled_runs_share_a_bounded_number_of_requests_and_each_listener_sees_its_changes_in_order():
    server = PolledServer()
    runs, seen = polled_runs(server, 2000, "many")
    for run in runs:
        run._finished.result(120)

    assert all(run.status.name == "Completed" for run in runs)
    assert 1 < server.most_in_flight <= MAX_POLLS
    names = [name for _, name in STEPS]
    for run in runs:
        assert seen[run.id] == names  # each look moved it on: every status, once, in order
    assert sum(server.looks.values()) == len(server.started)  # no look was lost or sent twice


def test_a_retry_after_pauses_every_poll_of_that_server():
    server = PolledServer()
    server.answers["slow0"] = (429, "", {"Retry-After": "1"})
    server.once.add("slow0")
    runs, _ = polled_runs(server, 20, "slow")
    for run in runs:
        run._finished.result(30)

    limited_at = server.started[0]  # slow0 is looked at first
    later = [at for at in server.started[1:] if at > limited_at + 0.05]  # sent after the 429 was read
    assert later and min(later) >= limited_at + 0.95
    assert all(run.status.name == "Completed" for run in runs)


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        ((410, json.dumps({"error": {"code": "gone", "message": "deleted"}}), {}), ConflictError, "it is gone (410"),
        ((409, json.dumps({"error": {"code": "conflict", "message": "no"}}), {}), ConflictError, "in conflict (409"),
        ((200, "<html>not json</html>", {}), BadResponse, "breaks the protocol"),
        ((200, json.dumps({"id": "x"}), {}), BadResponse, "breaks the protocol"),
    ],
    ids=["410", "409", "not-json", "not-a-task"],
)
def test_an_answer_that_looking_again_cannot_change_ends_the_following_with_a_clear_error(answer, error, words):
    server = PolledServer()
    server.answers["end0"] = answer
    (run,), _ = polled_runs(server, 1, "end")
    with pytest.raises(error) as raised:
        run.wait(30)
    assert f"stopped following {run.id}" in str(raised.value) and words in str(raised.value)
    assert server.looks == {} and len(server.started) == 1  # asked once, not forever
