"""What a Run needs of its protocol, one class per API: the tasks API and the runs API.

A backend pairs an async HTTP client (`inference_nb.client`) with the controller, and
turns protocol calls into what `Run` asks for: get, stream, cancel, fetch, approve.
Every request goes through `Controller.request`, so the cap on requests in flight holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import TypeAdapter

from ..client.core import Snapshot
from ..client.errors import InvalidRequest
from ..client.files import Found, Upload, files_in, replaced
from ..client.profile import Profile
from ..client.tasks import AsyncTasksClient
from .following.event_feed import EventFeed
from .input_check import AppInputs

if TYPE_CHECKING:
    from ..client.runs import AsyncRunsClient
    from .controller import Controller


class Backend(Protocol):
    """What a Run needs of its protocol; the client's task and run backends implement it."""

    kind: str
    controller: Controller
    wait_timeout: float

    def provenance(self, run_id: str, label: str) -> dict[str, Any]: ...

    async def get(self, run_id: str) -> Snapshot: ...

    def stream(self, run_id: str) -> AsyncIterator[Snapshot] | None: ...

    async def cancel(self, run_id: str) -> None: ...

    async def fetch(self, uri: str) -> bytes: ...

    async def approve(self, job_id: str, approved: bool) -> None: ...

    def typed(self, result: Any) -> Any: ...


class TaskBackend:
    """Tasks of apps (the tasks API)."""

    kind = "task"

    def __init__(self, profile: Profile, controller: Controller, wait_timeout: float) -> None:
        self.profile, self.controller, self.wait_timeout = profile, controller, wait_timeout
        self.client = AsyncTasksClient(profile)
        self.inputs = AppInputs(lambda: controller.request(self.client.apps))
        """Checks inputs against the apps' input schemas before a task is sent."""
        self.feed = EventFeed(
            server=("tasks", profile),
            label=profile.label,
            open=(lambda after: self.client.events(after=after)) if profile.streams else None,
            id_of=lambda task: task.get("id"),
            snapshot=self.client.core.snapshot,
        )
        """The server's events stream, which the controller follows every task through (when it has one)."""

    def provenance(self, run_id: str, label: str) -> dict[str, Any]:
        return {"server": self.profile.label, "protocol": "tasks", "app": label, "run_id": run_id}

    async def get(self, run_id: str) -> Snapshot:
        return await self.client.get(run_id)

    def stream(self, run_id: str) -> AsyncIterator[Snapshot] | None:
        return self.client.stream(run_id) if self.profile.streams else None

    async def cancel(self, run_id: str) -> None:
        await self.controller.request(lambda: self.client.cancel(run_id))

    async def fetch(self, uri: str) -> bytes:
        return await self.controller.request(lambda: self.client.fetch(uri))

    async def approve(self, job_id: str, approved: bool) -> None:
        raise InvalidRequest("tasks have no approvals; only runs (client.ask) do")

    def typed(self, result: Any) -> Any:
        return result

    async def upload(self, upload: Upload) -> str:
        """Upload one file; returns the URI an input names it by."""
        file = await self.controller.request(lambda: self.client.upload(upload))
        return file["uri"]

    def files(self, input: Any) -> list[Found]:
        """The files in a task's input, read now (`files.files_in`; `data:` URIs in the hosted dialect).

        Raises:
            InvalidRequest: a path with no file behind it, or a malformed data URI (the field named).
        """
        return files_in(input, data_uris=self.profile.dialect == "hosted")

    async def with_uploads(self, input: Any, files: list[Found]) -> Any:
        """`input` with each of `files` uploaded and replaced by its URI (`input` itself when none)."""
        if not files:
            return input
        return replaced(input, {at: await self.upload(upload) for at, upload in files})


class RunBackend:
    """Runs of one cluster (the runs API), their results typed by `schema_type` when one was given."""

    kind = "run"

    def __init__(
        self, client: AsyncRunsClient, controller: Controller, wait_timeout: float, cluster: str, schema_type: Any
    ) -> None:
        self.client, self.profile = client, client.core.profile
        self.controller, self.wait_timeout = controller, wait_timeout
        self.cluster, self.schema_type = cluster, schema_type
        self._adapter = _adapter(schema_type) if schema_type is not None else None
        self.feed = EventFeed(
            server=("runs", self.profile, cluster),
            label=f"{self.profile.label} (cluster {cluster})",
            open=(lambda after: client.events(after=after, cluster=cluster)) if self.profile.streams else None,
            id_of=lambda detail: (detail.get("run") or {}).get("id"),
            snapshot=client.core.snapshot,
        )
        """The cluster's events stream, which the controller follows every run through (when it has one)."""

    def provenance(self, run_id: str, label: str) -> dict[str, Any]:
        return {"server": self.profile.label, "protocol": "runs", "cluster": self.cluster, "run_id": run_id}

    async def get(self, run_id: str) -> Snapshot:
        return await self.client.get(run_id, cluster=self.cluster)

    def stream(self, run_id: str) -> AsyncIterator[Snapshot] | None:
        return self.client.stream(run_id, cluster=self.cluster) if self.profile.streams else None

    async def cancel(self, run_id: str) -> None:
        await self.controller.request(lambda: self.client.cancel(run_id, cluster=self.cluster))

    async def fetch(self, uri: str) -> bytes:
        raise InvalidRequest("runs return data, not files")

    async def approve(self, job_id: str, approved: bool) -> None:
        await self.controller.request(lambda: self.client.approve(job_id, approved, cluster=self.cluster))

    def typed(self, result: Any) -> Any:
        return result if self._adapter is None else self._adapter.validate_python(result)


def resolve_schema(schema: Any) -> tuple[dict[str, Any] | None, Any]:
    """A result schema as (JSON Schema dict, Python type or None).

    Args:
        schema: None, a JSON Schema dict, or a Python type pydantic understands
            (a model, `list[Model]`, a `TypedDict`…).

    Raises:
        InvalidRequest: `schema` is neither (field "schema").
    """
    if schema is None or isinstance(schema, dict):
        return schema, None
    try:
        return _json_schema(schema), schema
    except Exception as error:
        raise InvalidRequest(
            f"schema: expected a JSON Schema dict or a pydantic model / type, not {schema!r} ({error})", field="schema"
        ) from None


def _adapter(schema_type: Any) -> TypeAdapter:
    """The TypeAdapter of a type, built once per type: building one costs more than a submit."""
    try:
        return _cached_adapter(schema_type)
    except TypeError:  # an unhashable type annotation: built each time
        return TypeAdapter(schema_type)


@lru_cache(maxsize=256)
def _cached_adapter(schema_type: Any) -> TypeAdapter:
    return TypeAdapter(schema_type)


def _json_schema(schema_type: Any) -> dict[str, Any]:
    """The JSON Schema of a type, made once per type. Callers must not change it: it is shared."""
    try:
        return _cached_json_schema(schema_type)
    except TypeError:
        return TypeAdapter(schema_type).json_schema()


@lru_cache(maxsize=256)
def _cached_json_schema(schema_type: Any) -> dict[str, Any]:
    return _adapter(schema_type).json_schema()
