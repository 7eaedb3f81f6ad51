"""Apps and helpers the server tests register beside the built-in apps."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
from pydantic import BaseModel

from inference_nb.server import App, File, RunContext
from inference_nb.server.clock import Clock
from inference_nb.wire.statuses import SPEC

GATES: dict[str, threading.Event] = {}
"""Named gates a test opens to let a GateApp run finish."""
STARTED: dict[str, threading.Event] = {}
"""Set when a GateApp run's code starts, by gate name. (Status Running comes a moment before.)"""
STOPPED: dict[str, float] = {}
"""When each GateApp run returned (time.monotonic), by gate name."""


def started(name: str) -> threading.Event:
    return STARTED.setdefault(name, threading.Event())


def gate(name: str) -> threading.Event:
    return GATES.setdefault(name, threading.Event())


class GateApp(App):
    """A sync app that runs until its gate opens or it is cancelled."""

    name = "test/gate"
    description = "Waits for a gate the test opens."

    class Input(BaseModel):
        gate: str

    class Output(BaseModel):
        gate: str
        opened: bool

    def run(self, input: Input, ctx: RunContext) -> Output:
        event = gate(input.gate)
        started(input.gate).set()
        try:
            while not event.wait(0.01):
                if ctx.cancelled:
                    return self.Output(gate=input.gate, opened=False)
            return self.Output(gate=input.gate, opened=True)
        finally:
            STOPPED[input.gate] = time.monotonic()


class EchoV1(App):
    name = "test/echo"
    version = "1.0.0"
    description = "Echoes its input, setup and session."

    class Input(BaseModel):
        text: str

    class Output(BaseModel):
        text: str
        version: str
        setup: dict[str, Any]
        session_id: str | None
        scratch_file: str

    def setup(self, setup: dict[str, Any]) -> None:
        self.received_setup = setup

    def run(self, input: Input, ctx: RunContext) -> Output:
        scratch = ctx.work_dir / "scratch.txt"
        scratch.write_text(input.text)
        return self.Output(
            text=input.text,
            version=self.version,
            setup=self.received_setup,
            session_id=ctx.session_id,
            scratch_file=str(scratch),
        )


class EchoV2(EchoV1):
    version = "2.0.0"


class FilesApp(App):
    """Returns files in nested places, two of them with the same name."""

    name = "test/files"
    description = "Returns several files."

    class Input(BaseModel):
        text: str = "hello"

    class Output(BaseModel):
        main: File
        more: list[File]

    async def run(self, input: Input) -> Output:
        return self.Output(
            main=File.from_bytes(input.text.encode(), filename="note.txt"),
            more=[
                File.from_bytes(b"one", filename="note.txt"),
                File.from_bytes(b"\x00\x01", filename="../../etc/passwd", content_type="application/octet-stream"),
            ],
        )


class BadOutputApp(App):
    name = "test/bad-output"
    description = "Returns something that does not fit its output schema."

    class Input(BaseModel):
        pass

    class Output(BaseModel):
        count: int

    def run(self, input: Input) -> dict[str, Any]:
        return {"count": "many"}


class StepsApp(App):
    """Reports `reports` progress steps of `total` (the last one "halfway"), waits for its gate,
    then reports the end and returns."""

    name = "test/steps"
    description = "Reports progress, then waits for a gate."

    class Input(BaseModel):
        gate: str
        total: int = 4
        reports: int = 2
        message: str = "halfway"

    class Output(BaseModel):
        gate: str

    def run(self, input: Input, ctx: RunContext) -> Output:
        for done in range(1, input.reports + 1):
            ctx.progress(done, input.total, input.message if done == input.reports else f"step {done}")
        started(input.gate).set()
        while not gate(input.gate).wait(0.01):
            ctx.raise_if_cancelled()
        ctx.progress(input.total, input.total, "all done")
        return self.Output(gate=input.gate)


TEST_APPS: list[type[App]] = [GateApp, EchoV1, EchoV2, FilesApp, BadOutputApp]
PROGRESS_APPS: list[type[App]] = [*TEST_APPS, StepsApp]
"""With the app that reports progress (not in TEST_APPS: app lists elsewhere stay as they are)."""


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
