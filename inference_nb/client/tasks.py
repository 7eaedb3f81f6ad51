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
    """A task status from its code or name in the server's numbering; an unknown one is shown, not guessed.

    Args:
        value: a status code (an int) or a status name, any case.
        numbering: the server's numbering (`Profile.numbering`).

    Returns:
        The Status; for a value the numbering lacks, phase RUNNING (not terminal) and the name
        "unknown status …".
    """
    try:
        info = numbering.by_code(value) if isinstance(value, int) else numbering.by_name(value)
    except KeyError:
        return Status(Phase.RUNNING, f"unknown status {value!r}", value)
    return Status(info.phase, info.name, info.code)


class TasksCore:
    """The tasks API without I/O: builds requests and reads answers, never sends anything.

    Every id is quoted into one path segment here, so the sync and async clients share the paths.

    Args:
        profile: the server the requests are for (its URL, key and numbering).
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        """The server the requests are for."""

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
        """`POST /run?wait=false` (the profile's `run_path`), checked first: nothing is sent for a bad field.

        Args:
            app: the app id, `namespace/name` or `namespace/name@version`.
            input: the app's input (JSON data).
            setup: the app's setup parameters.
            session: "new" to start a session, or the id of one to continue.
            session_timeout: seconds a new session may stay idle (1..3600, only with `session="new"`).
            webhook: an http(s) URL the server posts the task to when it ends.
            idempotency_key: the Idempotency-Key header; when None and the profile honours keys,
                a new random one (so the request is safe to retry).

        Raises:
            InvalidRequest: a field does not fit the tasks API or the input is not JSON data
                (`field` names it).
        """
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
        """`GET /tasks/{task_id}`.

        Raises:
            InvalidRequest: `task_id` is empty.
        """
        return self._request("GET", self._task_path(task_id))

    def cancel(self, task_id: str) -> httpx.Request:
        """`POST /tasks/{task_id}/cancel`.

        Raises:
            InvalidRequest: `task_id` is empty.
        """
        return self._request("POST", self._task_path(task_id, "/cancel"))

    def stream(self, task_id: str) -> httpx.Request:
        """`GET /tasks/{task_id}/stream`, asking for NDJSON.

        Raises:
            InvalidRequest: `task_id` is empty.
        """
        return self._request(
            "GET", self._task_path(task_id, "/stream"), extra_headers={"accept": "application/x-ndjson"}
        )

    def list(self, *, limit: int = 20, cursor: str | None = None) -> httpx.Request:
        """`GET /tasks`, newest first.

        Args:
            limit: how many tasks at most.
            cursor: the `next_cursor` of the page before, for the page after it.
        """
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self._request("GET", "/tasks", params=params)

    def apps(self) -> httpx.Request:
        """`GET /apps`."""
        return self._request("GET", "/apps")

    def app_list(self, body: Any) -> list[dict[str, Any]]:
        """The apps of an apps answer (`{"apps": [...]}`).

        Raises:
            BadResponse: `body` is not an object with a list of app objects.
        """
        apps = body.get("apps", []) if isinstance(body, dict) else None
        if not isinstance(apps, list) or not all(isinstance(app, dict) for app in apps):
            raise BadResponse('the apps answer is not {"apps": [...]}')
        return apps

    def fetch(self, uri: str) -> httpx.Request:
        """`GET uri`, a file of an output; the key goes only to the server's own origin.

        Args:
            uri: the file's absolute URL, as the output gives it.
        """
        own = urlsplit(uri)[:2] == urlsplit(self.profile.base_url)[:2]
        return httpx.Request("GET", uri, headers=headers(self.profile) if own else {})

    def snapshot(self, body: Any) -> Snapshot:
        """The Snapshot of a task object (the answer of submit and get, a line of the stream).

        Raises:
            BadResponse: `body` is not a task object of the tasks API.
        """
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
        """The tasks of a list answer, and the cursor of the next page (None on the last).

        Raises:
            BadResponse: `body` is not `{tasks: [...], next_cursor}` or a task does not fit.
        """
        if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
            raise BadResponse("the task list is not {tasks: [...], next_cursor}")
        return [self.snapshot(t) for t in body["tasks"]], body.get("next_cursor")

    def cancelled(self, body: Any) -> Status:
        """The status a cancel answer reports.

        Raises:
            BadResponse: `body` has no status.
        """
        if not isinstance(body, dict) or "status" not in body:
            raise BadResponse("the cancel answer has no status")
        return to_status(body["status"], self.profile.numbering)


class TasksClient:
    """The tasks API in blocking calls, for scripts; the notebook side uses `AsyncTasksClient`.

    Requests that are safe to repeat are retried on transport failures and on 429 / 502 / 503 /
    504, with backoff, honouring a Retry-After up to 30 s; a submit without an idempotency key
    only when it certainly never arrived or the server refused it (429 / 503).

    Args:
        profile: the server (see `Profile`, `hosted_tasks`).
        http: the httpx client to send with (default: a new one with this package's timeouts and
            pool limits); `close` closes it either way.

    Raises:
        TransportError: any method: no answer (`ConnectError`, `RequestTimeout`), after the retries.
        StatusError: any method: an error answer (`AuthenticationError` for the key, `NotFoundError`,
            `RateLimited`, `ServerError` for a 5xx…), after the retries.
    """

    def __init__(self, profile: Profile, *, http: httpx.Client | None = None) -> None:
        self.core = TasksCore(profile)
        """Builds the requests and reads the answers."""
        self._transport = SyncTransport(profile, http=http)

    def submit(self, app: str, input: dict[str, Any], **options: Any) -> Snapshot:
        """Start a task; returns its first snapshot without waiting for it to run.

        Args:
            app: the app id.
            input: the app's input (JSON data).
            **options: `setup`, `session`, `session_timeout`, `webhook`, `idempotency_key`
                (see `TasksCore.submit`).

        Raises:
            InvalidRequest: a bad field, found before anything is sent.
            BadResponse: the answer is not a task object.
        """
        request = self.core.submit(app, input, **options)
        idempotent = "idempotency-key" in request.headers
        return self.core.snapshot(json_body(self._transport.send(request, idempotent=idempotent), what="run"))

    def get(self, task_id: str) -> Snapshot:
        """The task now.

        Raises:
            InvalidRequest: `task_id` is empty.
            NotFoundError: the server has no such task.
            BadResponse: the answer is not a task object.
        """
        response = self._transport.send(self.core.get(task_id), run_id=task_id)
        return self.core.snapshot(json_body(response, what="get task"))

    def cancel(self, task_id: str) -> Status:
        """Cancel a task; returns the status the server reports.

        Raises:
            InvalidRequest: `task_id` is empty.
            NotFoundError: the server has no such task.
            ConflictError: the task already ended.
            BadResponse: the answer has no status.
        """
        response = self._transport.send(self.core.cancel(task_id), run_id=task_id)
        return self.core.cancelled(json_body(response, what="cancel"))

    def stream(self, task_id: str) -> Iterator[Snapshot]:
        """A snapshot for each change of the task, until the server ends the stream.

        Lines that are not JSON are skipped. The request is sent on the first `next()`, and a
        stream is never retried: on an error, poll with `get` instead.

        Raises:
            InvalidRequest: `task_id` is empty.
            NotFoundError: no such task, or the server has no stream.
            TransportError: also when the stream breaks off.
            BadResponse: a line is JSON but not a task object.
        """
        with self._transport.stream(self.core.stream(task_id), run_id=task_id) as response:
            for body in stream_payloads(response.iter_lines()):
                yield self.core.snapshot(body)

    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Snapshot], str | None]:
        """One page of tasks, newest first, and the cursor of the next page (None on the last).

        Args:
            limit: how many tasks at most.
            cursor: the cursor a page before returned.

        Raises:
            BadResponse: the answer is not a task list.
        """
        return self.core.page(json_body(self._transport.send(self.core.list(limit=limit, cursor=cursor)), what="list"))

    def apps(self) -> list[dict[str, Any]]:
        """The server's apps, each with its id, description and input, output and setup schemas.

        Raises:
            BadResponse: the answer is not JSON, or not a list of apps.
        """
        return self.core.app_list(json_body(self._transport.send(self.core.apps()), what="apps"))

    def fetch(self, uri: str) -> bytes:
        """The bytes of a file of an output (sent with the key only to the server's own origin).

        Args:
            uri: the file's absolute URL, as the output gives it.
        """
        return self._transport.send(self.core.fetch(uri)).content

    def close(self) -> None:
        """Close the connections (the httpx client, also one that was passed in)."""
        self._transport.close()


class AsyncTasksClient:
    """The tasks API in async calls: each method is `TasksClient`'s, awaited, with the same
    arguments, retries and errors (`stream` is an async iterator, `aclose` replaces `close`).

    Args:
        profile: the server (see `Profile`, `hosted_tasks`).
        http: the httpx.AsyncClient to send with (default: a new one); `aclose` closes it either way.
    """

    def __init__(self, profile: Profile, *, http: httpx.AsyncClient | None = None) -> None:
        self.core = TasksCore(profile)
        """Builds the requests and reads the answers."""
        self._transport = AsyncTransport(profile, http=http)

    async def submit(self, app: str, input: dict[str, Any], **options: Any) -> Snapshot:
        """`TasksClient.submit`, awaited."""
        request = self.core.submit(app, input, **options)
        idempotent = "idempotency-key" in request.headers
        response = await self._transport.send(request, idempotent=idempotent)
        return self.core.snapshot(json_body(response, what="run"))

    async def get(self, task_id: str) -> Snapshot:
        """`TasksClient.get`, awaited."""
        response = await self._transport.send(self.core.get(task_id), run_id=task_id)
        return self.core.snapshot(json_body(response, what="get task"))

    async def cancel(self, task_id: str) -> Status:
        """`TasksClient.cancel`, awaited."""
        response = await self._transport.send(self.core.cancel(task_id), run_id=task_id)
        return self.core.cancelled(json_body(response, what="cancel"))

    async def stream(self, task_id: str) -> AsyncIterator[Snapshot]:
        """`TasksClient.stream`, as an async iterator."""
        async with self._transport.stream(self.core.stream(task_id), run_id=task_id) as response:
            async for body in astream_payloads(response.aiter_lines()):
                yield self.core.snapshot(body)

    async def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Snapshot], str | None]:
        """`TasksClient.list`, awaited."""
        response = await self._transport.send(self.core.list(limit=limit, cursor=cursor))
        return self.core.page(json_body(response, what="list"))

    async def apps(self) -> list[dict[str, Any]]:
        """`TasksClient.apps`, awaited."""
        return self.core.app_list(json_body(await self._transport.send(self.core.apps()), what="apps"))

    async def fetch(self, uri: str) -> bytes:
        """`TasksClient.fetch`, awaited."""
        return (await self._transport.send(self.core.fetch(uri))).content

    async def aclose(self) -> None:
        """Close the connections (the httpx client, also one that was passed in)."""
        await self._transport.aclose()
