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
are cancelled at their next `await`. `ctx.progress(done, total, message)` tells
clients how far the work is. A field typed `File` in the output model
carries a file: return `File.from_bytes(...)` or `File.from_path(...)`, and
the server stores it and fills in its `uri` and `size`. A field typed `File` in
an input model takes the URI of a file on this server (uploaded with
`POST /files`, or another task's output); `file.read_bytes()` reads it.

Besides `run`, an app may offer named functions, each with its own models, run
as `app:function` or by a session's `call(function, input)`:

        @function
        def shout(self, input: ShoutInput, ctx: RunContext) -> Output: ...
"""

from __future__ import annotations

import inspect
import mimetypes
import sys
import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from inference_nb.wire.tasks import DEFAULT_FUNCTION, FUNCTION_NAME_PATTERN

from .progress_reports import progress_report


class File(BaseModel):
    """A file in an app's input or output, seen by clients as {uri, content_type, size, filename}.

    In an input, a bare URI string is accepted too (that is what clients send).
    """

    # "format": "file" marks a file field in an app's input schema, so that a form can offer a file
    # picker for it rather than JSON (the widget's App form, js/forms/fields.ts).
    model_config = ConfigDict(extra="allow", json_schema_extra={"format": "file"})

    @model_validator(mode="before")
    @classmethod
    def _from_uri(cls, value: Any) -> Any:
        return {"uri": value} if isinstance(value, str) else value

    uri: str = ""
    """Where clients fetch it; the server fills it in when it stores the file."""
    content_type: str | None = None
    """Its media type."""
    size: int | None = None
    """Its size in bytes."""
    filename: str | None = None
    """Its file name (also the last segment of its `uri`)."""

    _data: bytes | None = PrivateAttr(default=None)
    _local: Path | None = PrivateAttr(default=None)

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

    def attach_local(self, path: Path) -> None:
        """The server found this input file's bytes at `path`. Apps do not call it."""
        self._local = path

    @property
    def local_path(self) -> Path | None:
        """Where an input file's bytes are on this server (None for a file not resolved)."""
        return self._local

    def read_bytes(self) -> bytes:
        """The file's content: an input file's, or the bytes an output file was made from.

        Raises:
            FileNotFoundError: the file is not on this server (or was deleted meanwhile).
        """
        if self._data is not None:
            return self._data
        if self._local is None:
            raise FileNotFoundError(f"the file {self.uri!r} is not on this server")
        return self._local.read_bytes()

    def read_text(self, encoding: str = "utf-8") -> str:
        """The file's content as text.

        Raises:
            FileNotFoundError: as `read_bytes`.
            UnicodeDecodeError: the bytes are not text in `encoding`.
        """
        return self.read_bytes().decode(encoding)


class TaskCancelled(Exception):
    """Raised by `RunContext.raise_if_cancelled` when the task was cancelled."""


class RunContext:
    """What an app's `setup` and `run` may ask of the server while they work.

    Args:
        task_id: the task's id.
        session_id: its session, or None.
        work_dir: its scratch folder (made the first time the app asks for it).
        on_progress: called with each checked `progress` report (a dict), from the app's thread;
            None drops the reports.
    """

    def __init__(
        self,
        *,
        task_id: str,
        session_id: str | None,
        work_dir: Path,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.task_id = task_id
        """The task's id."""
        self.session_id = session_id
        """The session the task runs in, or None."""
        self._work_dir = work_dir
        self.work_dir_made = False
        """Whether the app asked for `work_dir` (only then is there a folder to remove)."""
        self.worker_id: str | None = None
        """The server's worker the task runs on (`GET /workers`), once it has one."""
        self._cancel = threading.Event()
        self._on_progress = on_progress

    @property
    def work_dir(self) -> Path:
        """A scratch folder for this task, removed when the task ends."""
        # Made on first use: most tasks never ask, and 1,000 tasks ending at once would otherwise
        # each make and remove a folder (docs/ARCHITECTURE.md, "Many tasks ending at once").
        if not self.work_dir_made:
            self._work_dir.mkdir(parents=True, exist_ok=True)
            self.work_dir_made = True
        return self._work_dir

    def progress(self, done: float, total: float | None = None, message: str | None = None) -> None:
        """Tell clients how far the work is: `done` of `total` steps, and what happens now.

        Clients see it on the task as `progress` while it is in progress (docs/ARCHITECTURE.md,
        "App progress"). Cheap to call often: the server passes on a few reports a second.

        Args:
            done: steps (or any unit) finished so far, at least 0.
            total: how many there are, more than 0; None when unknown.
            message: a few words on the current step (cut to 200 characters).

        Raises:
            TypeError: `done` or `total` is not a number, or `message` not a string.
            ValueError: `done` is negative, `total` not positive, or `done` beyond `total`.
        """
        report = progress_report(done, total, message)
        if self._on_progress is not None:
            self._on_progress(report)

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
    run_timeout: float | None = None
    """Seconds a task may take once it has a worker (setup, run, storing files; `setup` may set its own),
    else it ends Failed at once and the app is cancelled (`ctx.cancelled`). None: no limit."""
    run_timeout_hint: ClassVar[str] = ""  # what that error adds, e.g. how a caller changes the limit

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
            ctx: the task's context: `ctx.cancelled`, `ctx.progress(...)`, `ctx.work_dir`, `ctx.task_id`.

        Returns:
            An `Output` instance, or data that validates as one; its `File` fields are stored.

        Raises:
            Exception: anything raised fails the task (its error is the exception's type and
                message); so does an output that does not fit `Output`.
        """
        raise NotImplementedError

    @property
    def reusable(self) -> bool:
        """Whether this set-up instance may take another task (False drops it: its state broke)."""
        return True

    def unload(self) -> Any:
        """Release what `setup` loaded; called when the instance is dropped (by default nothing).

        What it raises is logged by the server, not passed on.
        """


@dataclass(frozen=True)
class FunctionSpec:
    """One function of an app: its name, the method that does it, and its models."""

    name: str
    """What clients call it (`run`, `init`)."""
    method: str
    """The attribute of the app instance that runs it."""
    description: str
    Input: type[BaseModel]
    Output: type[BaseModel]


_MARK = "__inference_nb_function__"


def function(
    method: Callable | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    input: type[BaseModel] | None = None,
    output: type[BaseModel] | None = None,
) -> Any:
    """Offer an app method as a named function, beside `run`.

    The models come from the method's annotations (`def f(self, input: In, ctx) -> Out`) unless
    `input` / `output` name them; the name is the method's unless `name` says otherwise; the
    description is the docstring's first line. Used bare (`@function`) or with arguments.
    """

    def mark(fn: Callable) -> Callable:
        setattr(fn, _MARK, {"name": name or fn.__name__, "description": description, "input": input, "output": output})
        return fn

    return mark(method) if method is not None else mark


def app_functions(app: type[App]) -> dict[str, FunctionSpec]:
    """Every function of an app class, `run` first.

    Raises:
        TypeError: a function's models are missing or not pydantic models, its name is not
            lower case, or two functions share a name.
    """
    cached = app.__dict__.get("_functions")
    if cached is not None:
        return cached
    functions = {DEFAULT_FUNCTION: FunctionSpec(DEFAULT_FUNCTION, "run", app.description, app.Input, app.Output)}
    for attr in dir(app):
        marked = getattr(getattr(app, attr, None), _MARK, None)
        if marked is None:
            continue
        fn = getattr(app, attr)
        hints = _hints(app, fn)
        params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
        model_in = marked["input"] or (hints.get(params[0].name) if params else None)
        model_out = marked["output"] or hints.get("return")
        fname = marked["name"]
        if not FUNCTION_NAME_PATTERN.match(fname):
            raise TypeError(f"{app.__name__}.{attr}: {fname!r} is not a function name (lower case, digits, '_')")
        if fname in functions:
            raise TypeError(f"{app.__name__} has two functions named {fname!r}")
        for what, model in (("input", model_in), ("output", model_out)):
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise TypeError(
                    f"{app.__name__}.{attr}: the {what} must be a pydantic model (annotate it, "
                    f"or pass {what}= to @function), not {model!r}"
                )
        doc = (marked["description"] or inspect.getdoc(fn) or "").strip().split("\n")[0]
        functions[fname] = FunctionSpec(fname, attr, doc, model_in, model_out)
    app._functions = functions  # one class's own cache: a subclass computes its own
    return functions


def _hints(app: type, fn: Callable) -> dict[str, Any]:
    # Annotations such as `Input` name classes nested in the app, so the class bodies are searched too.
    local: dict[str, Any] = {}
    for klass in reversed(app.__mro__):
        local.update(vars(klass))
    try:
        return typing.get_type_hints(fn, globalns=vars(sys.modules[fn.__module__]), localns=local)
    except Exception:
        return {}
