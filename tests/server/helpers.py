"""Helpers of the server tests (their apps are in tests/apps.py)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from inference_nb.server.clock import Clock
from inference_nb.wire.statuses import SPEC


class FakeClock(Clock):
    """A server clock that moves only when the test says: expiry and retries without waiting.

    Starts at the real time (delivery due times are stored as wall time), then stands still.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._start_monotonic = time.monotonic()
        self._start_now = time.time()
        self._on_jump: list = []

    def monotonic(self) -> float:
        with self._lock:
            return self._start_monotonic + self._offset

    def now(self) -> float:
        with self._lock:
            return self._start_now + self._offset

    def on_jump(self, callback) -> None:
        with self._lock:
            self._on_jump.append(callback)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds
            callbacks = list(self._on_jump)
        for callback in callbacks:
            try:
                callback()
            except RuntimeError:  # a stopped server's loop is closed: nobody there to wake
                pass


def status_names(codes: list[int]) -> list[str]:
    return [SPEC.by_code(code).name for code in codes]


def read_stream(
    client: httpx.Client, task_id: str, *, sse: bool = False, subscribed: threading.Event | None = None
) -> list[dict[str, Any]]:
    """Every task snapshot the stream sends, until it ends.

    `subscribed` is set once the first snapshot arrived: the server sends it after it subscribed the
    stream to the task's changes, so every later change is on its way to this reader.
    """
    headers = {"Accept": "text/event-stream"} if sse else {}
    snapshots = []
    with client.stream("GET", f"/tasks/{task_id}/stream", headers=headers) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if sse and line.startswith("data: "):
                snapshots.append(json.loads(line[len("data: ") :]))
            elif not sse and line:
                snapshots.append(json.loads(line))
            if snapshots and subscribed is not None:
                subscribed.set()
    return snapshots


def wait_until(condition, message: str, timeout: float = 10) -> None:
    """Return once `condition()` is true; fail with `message` after `timeout` s (a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} within {timeout} s")
        time.sleep(0.01)


def wait_for_status(client: httpx.Client, task_id: str, name: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = client.get(f"/tasks/{task_id}").json()
        if SPEC.by_code(task["status"]).name == name:
            return task
        time.sleep(0.01)
    raise AssertionError(f"task {task_id} never reached {name}; last: {task}")
