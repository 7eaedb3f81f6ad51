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
    """Where clients fetch it; the server fills it in when it stores the file."""
    content_type: str | None = None
    """Its media type."""
    size: int | None = None
    """Its size in bytes."""
    filename: str | None = None
    """Its file name (also the last segment of its `uri`)."""

    _data: bytes | None = PrivateAttr(default=None)

    @classmethod
    def from_bytes(cls, data: bytes, *, filename: str, content_type: str | None = None) -> File:
        """A file to return in an output, from its bytes (copied).

        Args:
            data: the file's content.
            filename: its name.
            content_type: its media type (default: guessed from `filename`, else
                application/octet-stream).
        """
        guessed = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        file = cls(filename=filename, content_type=guessed, size=len(data))
        file._data = bytes(data)
        return file

    @classmethod
    def from_path(cls, path: str | Path, *, content_type: str | None = None) -> File:
        """A file to return in an output, read now from `path` (named after it).

        Args:
            path: the file to read.
            content_type: its media type (default: guessed from the name).

        Raises:
            OSError: the file could not be read.
        """
        path = Path(path)
        return cls.from_bytes(path.read_bytes(), filename=path.name, content_type=content_type)

    @property
    def pending_data(self) -> bytes | None:
        """Bytes not yet stored by the server (None once stored)."""
        return self._data

    def mark_stored(self, uri: str) -> None:
        """The server stored the bytes at `uri`; they are dropped from memory. Apps do not call it."""
        self.uri = uri
        self._data = None


class TaskCancelled(Exception):
    """Raised by `RunContext.raise_if_cancelled` when the task was cancelled."""


class RunContext:
    """What an app's `setup` and `run` may ask of the server while they work."""

    def __init__(self, *, task_id: str, session_id: str | None, work_dir: Path) -> None:
        self.task_id = task_id
        """The task's id."""
        self.session_id = session_id
        """The session the task runs in, or None."""
        self.work_dir = work_dir
        """A scratch folder for this task, removed when the task ends."""
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once someone asked to cancel this task; sync apps should stop then."""
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        """Stop a sync app's work when the task was cancelled; let the exception propagate.

        Raises:
            TaskCancelled: the task was cancelled (it has already ended Cancelled).
        """
        if self._cancel.is_set():
            raise TaskCancelled(f"task {self.task_id} was cancelled")

    def wait_cancelled(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early on cancel; returns whether cancelled."""
        return self._cancel.wait(seconds)

    def cancel(self) -> None:
        """Mark the task cancelled (the server calls it when a client cancels; apps do not)."""
        self._cancel.set()


class App:
    """Base class of every app. Subclasses set the class attributes and `run`.

    The server makes instances per app and setup parameters (one per task running at once, or
    one per session), calls `setup` once on each, then `run` for one task at a time, and `unload`
    when it drops the instance. Each method may be sync (run on
    a worker thread) or async, and may leave out trailing parameters (`run(self, input)`).
    Registering a class checks it: see `AppRegistry.register`.
    """

    name: ClassVar[str]
    """`namespace/name`, lower case."""
    version: ClassVar[str] = "1.0.0"
    """The version; an app id without `@version` means the newest one registered."""
    description: ClassVar[str] = ""
    """What it does, shown by `GET /apps`."""
    Input: ClassVar[type[BaseModel]]
    """Model of a task's input; the server validates the input against it (422 when it does not fit)."""
    Output: ClassVar[type[BaseModel]]
    """Model of the output; what `run` returns is validated against it."""
    Setup: ClassVar[type[BaseModel] | None] = None
    """Model of the setup parameters (checked at submit, 422 when they do not fit); None means any
    JSON object is accepted."""

    def setup(self, setup: Any, ctx: RunContext) -> Any:
        """Load what the app needs once per instance (a model, a dataset); by default nothing.

        Args:
            setup: the setup parameters, a `Setup` instance (a dict when `Setup` is None).
            ctx: the first task's context.

        Raises:
            Exception: anything raised fails that task (its error is the exception's type and
                message) and the instance is not kept.
        """

    def run(self, input: Any, ctx: RunContext) -> Any:
        """Do one task. Every app defines it.

        Args:
            input: the task's input, an `Input` instance.
            ctx: the task's context: `ctx.cancelled`, `ctx.work_dir`, `ctx.task_id`.

        Returns:
            An `Output` instance, or data that validates as one; its `File` fields are stored.

        Raises:
            Exception: anything raised fails the task (its error is the exception's type and
                message); so does an output that does not fit `Output`.
        """
        raise NotImplementedError

    def unload(self) -> Any:
        """Release what `setup` loaded; called when the instance is dropped (by default nothing).

        What it raises is logged by the server, not passed on.
        """


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
