"""What an app is: a class with pydantic models and setup / run / unload.

    class Greeter(App):
        name = "me/greeter"
        version = "1.0.0"
        description = "Says hello."

        class Input(BaseModel):
            who: str

        class Output(BaseModel):
            greeting: str

        def run(self, input: Input, ctx: RunContext) -> Output:
            return self.Output(greeting=f"Hello, {input.who}!")

`setup`, `run` and `unload` may each be sync or async. Sync methods run on a
worker thread and should look at `ctx.cancelled` in long loops; async methods
are cancelled at their next `await`. A field typed `File` in the output model
carries a file: return `File.from_bytes(...)` or `File.from_path(...)`, and
the server stores it and fills in its `uri` and `size`.
"""

from __future__ import annotations

import inspect
import mimetypes
import threading
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr


class File(BaseModel):
    """A file in an app's output, seen by clients as {uri, content_type, size, filename}."""

    model_config = ConfigDict(extra="allow")

    uri: str = ""
    content_type: str | None = None
    size: int | None = None
    filename: str | None = None

    _data: bytes | None = PrivateAttr(default=None)

    @classmethod
    def from_bytes(cls, data: bytes, *, filename: str, content_type: str | None = None) -> File:
        guessed = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        file = cls(filename=filename, content_type=guessed, size=len(data))
        file._data = bytes(data)
        return file

    @classmethod
    def from_path(cls, path: str | Path, *, content_type: str | None = None) -> File:
        path = Path(path)
        return cls.from_bytes(path.read_bytes(), filename=path.name, content_type=content_type)

    @property
    def pending_data(self) -> bytes | None:
        """Bytes not yet stored by the server (None once stored)."""
        return self._data

    def mark_stored(self, uri: str) -> None:
        self.uri = uri
        self._data = None


class TaskCancelled(Exception):
    """Raised by `RunContext.raise_if_cancelled` when the task was cancelled."""


class RunContext:
    """What an app's `setup` and `run` may ask of the server while they work."""

    def __init__(self, *, task_id: str, session_id: str | None, work_dir: Path) -> None:
        self.task_id = task_id
        self.session_id = session_id
        self.work_dir = work_dir
        """A scratch folder for this task, removed when the task ends."""
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once someone asked to cancel this task; sync apps should stop then."""
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise TaskCancelled(f"task {self.task_id} was cancelled")

    def wait_cancelled(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early on cancel; returns whether cancelled."""
        return self._cancel.wait(seconds)

    def cancel(self) -> None:
        self._cancel.set()


class App:
    """Base class of every app. Subclasses set the class attributes and `run`."""

    name: ClassVar[str]
    """`namespace/name`, lower case."""
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = ""
    Input: ClassVar[type[BaseModel]]
    Output: ClassVar[type[BaseModel]]
    Setup: ClassVar[type[BaseModel] | None] = None
    """Model of the setup parameters; None means any JSON object is accepted."""

    def setup(self, setup: Any, ctx: RunContext) -> Any:
        """Load what the app needs once per instance (a model, a dataset)."""

    def run(self, input: Any, ctx: RunContext) -> Any:
        raise NotImplementedError

    def unload(self) -> Any:
        """Release what `setup` loaded; called when the instance is dropped."""


async def call_app_method(method: Any, *args: Any, run_sync: Any) -> Any:
    """Call a sync or async app method with as many of `args` as it takes.

    `run_sync(fn)` runs a plain function off the event loop (a worker thread).
    """
    params = [
        p
        for p in inspect.signature(method).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    args = args[: len(params)]
    if inspect.iscoroutinefunction(method):
        return await method(*args)
    return await run_sync(lambda: method(*args))
