"""The tasks API: an I/O-free core, and thin sync and async clients."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from inference_nb.wire.statuses import Numbering, Phase
from inference_nb.wire.tasks import RunTaskRequest, Task

from .core import Snapshot, Status, astream_payloads, headers, json_body, segment, stream_payloads
from .errors import BadResponse, InvalidRequest
from .profile import Profile
from .transport import AsyncTransport, SyncTransport


def to_status(value: int | str, numbering: Numbering) -> Status:
    """A code or name in the server's numbering; an unknown one is shown, not guessed."""
    try:
        info = numbering.by_code(value) if isinstance(value, int) else numbering.by_name(value)
    except KeyError:
        return Status(Phase.RUNNING, f"unknown status {value!r}", value)
    return Status(info.phase, info.name, info.code)


class TasksCore:
    """Builds requests and reads answers; never sends anything."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    def _request(
        self, method: str, path: str, *, extra_headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Request:
        return httpx.Request(
            method, self.profile.base_url + path, headers={**headers(self.profile), **(extra_headers or {})}, **kw
        )

    def submit(
        self,
        app: str,
        input: dict[str, Any],
        *,
        setup: dict[str, Any] | None = None,
        session: str | None = None,
        session_timeout: float | None = None,
        webhook: str | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Request:
        """`POST /run?wait=false`, checked first: a bad field is an InvalidRequest, nothing is sent."""
        body = {"app": app, "input": input, "setup": setup, "session": session,
                "session_timeout": session_timeout, "webhook": webhook}  # fmt: skip
        body = {k: v for k, v in body.items() if v is not None}
        try:
            RunTaskRequest.model_validate(body)
            content = json.dumps(body, allow_nan=False)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            field = ".".join(str(p) for p in first["loc"]) or "request"
            raise InvalidRequest(f"{field}: {first['msg'].removeprefix('Value error, ')}", field=field) from None
        except (TypeError, ValueError) as error:
            raise InvalidRequest(
                f"input must be JSON data (objects, lists, text, numbers): {error}", field="input"
            ) from None
        extra = {"content-type": "application/json"}
        if idempotency_key is None and self.profile.idempotent_create:
            idempotency_key = str(uuid.uuid4())
        if idempotency_key is not None:
            extra["idempotency-key"] = idempotency_key
        return self._request(
            "POST", self.profile.run_path, params={"wait": "false"}, content=content, extra_headers=extra
        )

    def _task_path(self, task_id: str, tail: str = "") -> str:
        return f"/tasks/{segment(task_id, field='task_id')}{tail}"

    def get(self, task_id: str) -> httpx.Request:
        return self._request("GET", self._task_path(task_id))

    def cancel(self, task_id: str) -> httpx.Request:
        return self._request("POST", self._task_path(task_id, "/cancel"))

    def stream(self, task_id: str) -> httpx.Request:
        return self._request(
            "GET", self._task_path(task_id, "/stream"), extra_headers={"accept": "application/x-ndjson"}
        )

    def list(self, *, limit: int = 20, cursor: str | None = None) -> httpx.Request:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self._request("GET", "/tasks", params=params)

    def apps(self) -> httpx.Request:
        return self._request("GET", "/apps")

    def fetch(self, uri: str) -> httpx.Request:
        """A file of an output; the key goes only to the server's own origin."""
        own = urlsplit(uri)[:2] == urlsplit(self.profile.base_url)[:2]
        return httpx.Request("GET", uri, headers=headers(self.profile) if own else {})

    def snapshot(self, body: Any) -> Snapshot:
        try:
            task = Task.model_validate(body)
        except ValidationError as error:
            raise BadResponse(f"the server's task object does not fit the tasks API: {error}") from None
        status = to_status(task.status, self.profile.numbering)
        timeline = tuple((to_status(e.status, self.profile.numbering).name, e.at) for e in task.timeline)
        return Snapshot(
            "task", task.id, status, timeline, output=task.output, error=task.error or None,
            session_id=task.session_id, raw=body,
        )  # fmt: skip

    def page(self, body: Any) -> tuple[list[Snapshot], str | None]:
        if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
            raise BadResponse("the task list is not {tasks: [...], next_cursor}")
        return [self.snapshot(t) for t in body["tasks"]], body.get("next_cursor")

    def cancelled(self, body: Any) -> Status:
        if not isinstance(body, dict) or "status" not in body:
            raise BadResponse("the cancel answer has no status")
        return to_status(body["status"], self.profile.numbering)


class TasksClient:
    """Blocking calls, for scripts; the notebook side uses the async one on the controller loop."""

    def __init__(self, profile: Profile, *, http: httpx.Client | None = None) -> None:
        self.core = TasksCore(profile)
        self._transport = SyncTransport(profile, http=http)

    def submit(self, app: str, input: dict[str, Any], **options: Any) -> Snapshot:
        request = self.core.submit(app, input, **options)
        idempotent = "idempotency-key" in request.headers
        return self.core.snapshot(json_body(self._transport.send(request, idempotent=idempotent), what="run"))

    def get(self, task_id: str) -> Snapshot:
        response = self._transport.send(self.core.get(task_id), run_id=task_id)
        return self.core.snapshot(json_body(response, what="get task"))

    def cancel(self, task_id: str) -> Status:
        response = self._transport.send(self.core.cancel(task_id), run_id=task_id)
        return self.core.cancelled(json_body(response, what="cancel"))

    def stream(self, task_id: str) -> Iterator[Snapshot]:
        with self._transport.stream(self.core.stream(task_id), run_id=task_id) as response:
            for body in stream_payloads(response.iter_lines()):
                yield self.core.snapshot(body)

    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Snapshot], str | None]:
        return self.core.page(json_body(self._transport.send(self.core.list(limit=limit, cursor=cursor)), what="list"))

    def apps(self) -> list[dict[str, Any]]:
        return json_body(self._transport.send(self.core.apps()), what="apps").get("apps", [])

    def fetch(self, uri: str) -> bytes:
        return self._transport.send(self.core.fetch(uri)).content

    def close(self) -> None:
        self._transport.close()


class AsyncTasksClient:
    def __init__(self, profile: Profile, *, http: httpx.AsyncClient | None = None) -> None:
        self.core = TasksCore(profile)
        self._transport = AsyncTransport(profile, http=http)

    async def submit(self, app: str, input: dict[str, Any], **options: Any) -> Snapshot:
        request = self.core.submit(app, input, **options)
        idempotent = "idempotency-key" in request.headers
        response = await self._transport.send(request, idempotent=idempotent)
        return self.core.snapshot(json_body(response, what="run"))

    async def get(self, task_id: str) -> Snapshot:
        response = await self._transport.send(self.core.get(task_id), run_id=task_id)
        return self.core.snapshot(json_body(response, what="get task"))

    async def cancel(self, task_id: str) -> Status:
        response = await self._transport.send(self.core.cancel(task_id), run_id=task_id)
        return self.core.cancelled(json_body(response, what="cancel"))

    async def stream(self, task_id: str) -> AsyncIterator[Snapshot]:
        async with self._transport.stream(self.core.stream(task_id), run_id=task_id) as response:
            async for body in astream_payloads(response.aiter_lines()):
                yield self.core.snapshot(body)

    async def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Snapshot], str | None]:
        response = await self._transport.send(self.core.list(limit=limit, cursor=cursor))
        return self.core.page(json_body(response, what="list"))

    async def apps(self) -> list[dict[str, Any]]:
        return json_body(await self._transport.send(self.core.apps()), what="apps").get("apps", [])

    async def fetch(self, uri: str) -> bytes:
        return (await self._transport.send(self.core.fetch(uri))).content

    async def aclose(self) -> None:
        await self._transport.aclose()
