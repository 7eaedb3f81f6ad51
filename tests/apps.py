"""The apps tests and benchmarks register beside the built-in apps (benchmarks/ imports them too).

Gates and barriers live in this module: an app run in this process reads them, a test or the
benchmark sets them.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from pydantic import BaseModel

from inference_nb.server import App, File, RunContext

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


NOISE_SIDE = 830
"""Random RGB pixels of this side make a PNG just under the 2 MiB the widget shows."""


class ImagesApp(App):
    name = "test/images"
    description = "Returns a few large images of noise."

    class Input(BaseModel):
        count: int = 4

    class Output(BaseModel):
        images: list[File]

    def run(self, input: Input) -> Output:
        images = [File.from_bytes(noise_png(), filename=f"noise-{i}.png") for i in range(input.count)]
        return self.Output(images=images)


def noise_png() -> bytes:
    """A PNG of random pixels (PNG cannot shrink them)."""
    buffer = io.BytesIO()
    pixels = os.urandom(NOISE_SIDE * NOISE_SIDE * 3)
    Image.frombytes("RGB", (NOISE_SIDE, NOISE_SIDE), pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@dataclass
class _Group:
    running: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)
    release_at: float = 0.0


_GROUPS: dict[str, _Group] = {}
"""HoldApp's groups, by name (on the server's event loop)."""


class HoldApp(App):
    """Holds every run of a group until all `count` of them are running, so that they are in flight
    at once however fast they were created; then each ends `settle + place` seconds later."""

    name = "test/hold"
    description = "Waits until every run of its group is running, then a little longer."

    class Input(BaseModel):
        group: str
        count: int = 1
        settle: float = 0.5
        """Seconds after the last run of the group started (for its creator to hand it over)."""
        place: float = 0.0
        """Seconds after the others this run ends (runs that end one after another)."""

    class Output(BaseModel):
        ended: float
        """time.time() when the run returned: finer than the server's millisecond timeline."""

    async def run(self, input: Input, ctx: RunContext) -> Output:  # async: 10,000 of them need no thread
        group = _GROUPS.setdefault(input.group, _Group())
        group.running += 1
        if group.running == input.count:
            group.release_at = time.time() + input.settle
            group.released.set()
        await group.released.wait()
        await asyncio.sleep(max(0.0, group.release_at + input.place - time.time()))
        _GROUPS.pop(input.group, None)  # released: nobody looks it up again
        return self.Output(ended=time.time())


TEST_APPS: list[type[App]] = [GateApp, EchoV1, EchoV2, FilesApp, BadOutputApp]
PROGRESS_APPS: list[type[App]] = [*TEST_APPS, StepsApp]
"""With the app that reports progress (not in TEST_APPS: app lists elsewhere stay as they are)."""
