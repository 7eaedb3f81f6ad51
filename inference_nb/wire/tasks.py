"""Wire models of the tasks API, shared by the server and the client.

Field names are exactly the spec's. Models that describe what a server sends
allow extra fields, so that a newer server does not break an older client.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

APP_ID_PATTERN = re.compile(
    r"^(?P<namespace>[a-z0-9][a-z0-9_.-]*)/(?P<name>[a-z0-9][a-z0-9_.-]*)(?:@(?P<version>[A-Za-z0-9_.+-]+))?$"
)
"""`namespace/name` or `namespace/name@version`, lower case."""

SESSION_TIMEOUT_RANGE = (1, 3600)


class RunTaskRequest(BaseModel):
    """Body of `POST /run` (and `POST /apps/run`)."""

    model_config = ConfigDict(extra="forbid")

    app: str = Field(description="App identifier, namespace/name@version (no version: the latest).")
    input: dict[str, Any] = Field(description="Input data matching the app's input schema.")
    setup: dict[str, Any] | None = Field(default=None, description="Setup parameters for the app.")
    infra: Literal["cloud", "private"] | None = None
    workers: list[str] | None = None
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
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
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


class FileRef(BaseModel):
    """A file in an output: where to fetch it and what it is."""

    model_config = ConfigDict(extra="allow")

    uri: str
    content_type: str | None = None
    size: int | None = None
    filename: str | None = None


class TimelineEntry(BaseModel):
    """When a task reached one status."""

    model_config = ConfigDict(extra="allow")

    status: int | str
    name: str
    at: str


class Task(BaseModel):
    """The task object: the answer of run, get, and the stream's lines."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: int | str
    """A code of the server's numbering, or a status name ("completed")."""
    app: str | None = None
    input: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    session_id: str | None = None
    created_at: str
    updated_at: str | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)


class TaskStatusLight(BaseModel):
    """`GET /tasks/{id}/status`."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: int
    updated_at: str


class CancelResponse(BaseModel):
    """`POST /tasks/{id}/cancel`."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: int
    cancelled: bool


class WebhookPayload(BaseModel):
    """What a webhook receives when a task ends."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: int
    output: dict[str, Any] | None = None
    error: str = ""
    session_id: str | None = None
    created_at: str
    updated_at: str
