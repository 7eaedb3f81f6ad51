"""Wire models of the tasks API, shared by the server and the client.

Field names are exactly the spec's. Models that describe what a server sends
allow extra fields, so that a newer server does not break an older client.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

APP_ID_PATTERN = re.compile(
    r"^(?P<namespace>[a-z0-9][a-z0-9_.-]*)/(?P<name>[a-z0-9][a-z0-9_.-]*)(?:@(?P<version>[A-Za-z0-9_.+-]+))?$"
)
"""`namespace/name` or `namespace/name@version`, lower case."""

FUNCTION_NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
"""The name of an app's function (`run`, `init`, `increment`)."""

DEFAULT_FUNCTION = "run"
"""The function a task runs when none is named."""

SESSION_TIMEOUT_RANGE = (1, 3600)
"""Seconds a new session may stay idle: at least, at most."""


def check_webhook_url(value: str) -> None:
    """Refuse a webhook URL the server could not send to, parsed by the parser that will send it.

    httpx (the server's sender) parses it here: a URL it would refuse at delivery time must be
    refused now, at the request, where the caller can see why.

    Raises:
        ValueError: not an http(s) URL with a host, or httpx cannot parse it, or its port is not 1..65535.
    """
    if not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):  # a scheme is case-insensitive (RFC 3986)
        raise ValueError("must be an http:// or https:// URL")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"is not a URL that can be sent to: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an http:// or https:// URL with a host")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ValueError(f"has port {url.port}, outside 1..65535")


class RunTaskRequest(BaseModel):
    """Body of `POST /run` (and `POST /apps/run`); unknown fields are refused.

    Raises:
        pydantic.ValidationError: (on validation) an app id that is not `namespace/name[@version]`,
            a webhook that is not an http(s) URL, a `session_timeout` without `session="new"` or
            outside 1..3600, or a field that is missing, unknown or of the wrong type.
    """

    model_config = ConfigDict(extra="forbid")

    app: str = Field(description="App identifier, namespace/name@version (no version: the latest).")
    input: dict[str, Any] = Field(description="Input data matching the app's input schema.")
    setup: dict[str, Any] | None = Field(default=None, description="Setup parameters for the app.")
    infra: Literal["cloud", "private"] | None = None
    """Where it runs: the embedded server has only `private` infrastructure (itself); `cloud` is refused."""
    workers: list[str] | None = None
    """Ids of the workers it may run on (`GET /workers`); None or empty: any."""
    variant: str | None = Field(default=None, description="The app variant to run (default: its default).")
    webhook: str | None = Field(default=None, description="URL that receives a POST when the task ends.")
    session: str | None = Field(default=None, description='"new" to start a session, or an existing session id.')
    session_timeout: float | None = Field(
        default=None, description="Idle timeout of a new session in seconds (1..3600)."
    )

    @field_validator("app")
    @classmethod
    def _app_id(cls, value: str) -> str:
        if not APP_ID_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not an app id: expected namespace/name or namespace/name@version "
                "(lower-case letters, digits, '.', '_' or '-')"
            )
        return value

    @field_validator("webhook")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_webhook_url(value)
        return value

    @field_validator("session_timeout")
    @classmethod
    def _session_timeout(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None:
            low, high = SESSION_TIMEOUT_RANGE
            if info.data.get("session") != "new":
                raise ValueError('only allowed with session: "new"')
            if not low <= value <= high:
                raise ValueError(f"must be between {low} and {high} seconds")
        return value


class HostedRunTaskRequest(RunTaskRequest):
    """Body of `POST /apps/run`, the hosted dialect: the spec's fields, plus the function to run.

    The function is named by `function` or by the app reference (`namespace/name@version:function`);
    naming two different ones is refused. `app` keeps the reference without the function.

    Raises:
        pydantic.ValidationError: as `RunTaskRequest`, or a function name that is not lower-case
            letters, digits and `_`, or two different functions named.
    """

    function: str | None = Field(default=None, description='The app function to run (default "run").')

    @model_validator(mode="before")
    @classmethod
    def _function_from_app(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("app"), str) and ":" in data["app"]:
            app, _, named = data["app"].partition(":")
            given = data.get("function")
            if given not in (None, named):
                raise ValueError(f"the app reference names function {named!r} but function is {given!r}")
            data = {**data, "app": app, "function": named}
        return data

    @field_validator("function")
    @classmethod
    def _function_name(cls, value: str | None) -> str | None:
        if value is not None and not FUNCTION_NAME_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a function name (lower-case letters, digits and '_')")
        return value


class FileRef(BaseModel):
    """A file in an output: where to fetch it and what it is."""

    model_config = ConfigDict(extra="allow")

    uri: str
    """Where to fetch it."""
    content_type: str | None = None
    """Its media type."""
    size: int | None = None
    """Its size in bytes."""
    filename: str | None = None
    """Its file name."""


class TimelineEntry(TypedDict):
    """When a task reached one status (a TypedDict, not a model: every event of the events stream
    carries a whole timeline, and a model per entry was a third of reading one)."""

    status: int | str
    """The status's code in the server's numbering (or its name)."""
    name: str
    """The status's name."""
    at: str
    """When, as an ISO 8601 time."""


class TaskProgress(BaseModel):
    """Our extension of the task object: how far the app says it is (`ctx.progress`), while it runs."""

    model_config = ConfigDict(extra="allow")

    done: float = Field(ge=0)
    """Steps finished so far."""
    total: float | None = Field(default=None, gt=0)
    """How many steps there are; None when the app does not know."""
    message: str | None = None
    """The app's few words on the current step."""


class Task(BaseModel):
    """The task object: the answer of run, get, and the stream's lines."""

    model_config = ConfigDict(extra="allow")

    id: str
    """The task's id."""
    status: int | str
    """A code of the server's numbering, or a status name ("completed")."""
    app: str | None = None
    """The app id it runs."""
    input: dict[str, Any] | None = None
    """The input it was given."""
    output: dict[str, Any] | None = None
    """The app's output, once it completed (files in it as `FileRef` objects)."""
    error: str | None = None
    """Why it failed."""
    session_id: str | None = None
    """The session it ran in."""
    created_at: str
    """When it was received, as an ISO 8601 time."""
    updated_at: str | None = None
    """When it last changed."""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    """Each status it reached, in order."""
    progress: Any = None
    """Our extension (`TaskProgress`), read leniently: a server may send anything here, or nothing."""


class TaskStatusLight(BaseModel):
    """`GET /tasks/{id}/status`: the status alone, for cheap polling."""

    model_config = ConfigDict(extra="allow")

    id: str
    """The task's id."""
    status: int
    """The status's code in the server's numbering."""
    updated_at: str
    """When it last changed."""


class CancelResponse(BaseModel):
    """`POST /tasks/{id}/cancel`."""

    model_config = ConfigDict(extra="allow")

    id: str
    """The task's id."""
    status: int
    """Its status code after the cancel."""
    cancelled: bool
    """True: the cancel was taken (a task that already ended is a 409 instead)."""


class WebhookPayload(BaseModel):
    """What a webhook receives when a task ends (signed: see `wire.webhooks.verify`)."""

    model_config = ConfigDict(extra="allow")

    id: str
    """The task's id."""
    status: int
    """Its final status code (Completed, Failed or Cancelled)."""
    output: dict[str, Any] | None = None
    """The app's output, when it completed."""
    error: str = ""
    """Why it failed ("" otherwise)."""
    session_id: str | None = None
    """The session it ran in."""
    created_at: str
    """When it was received."""
    updated_at: str
    """When it ended."""
