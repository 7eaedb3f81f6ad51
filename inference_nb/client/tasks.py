"""The tasks API in thin sync and async clients over the I/O-free `TasksCore` (either dialect)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterator
from typing import Any

import httpx

from .core import Snapshot, Status, astream_payloads, stream_payloads
from .event_stream import StreamEvent, events_request, read_event
from .files import FilesCore, Upload
from .profile import Profile
from .task_options import TaskOptions
from .tasks_core import TasksCore, to_status
from .transport import AsyncTransport, SyncTransport

__all__ = ["AsyncTasksClient", "TaskOptions", "TasksClient", "TasksCore", "to_status"]


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
        self.files = FilesCore(profile)
        """Builds the requests of an upload."""
        self._transport = SyncTransport(profile, http=http)

    def submit(self, app: str, input: dict[str, Any], **options: Any) -> Snapshot:
        """Start a task; returns its first snapshot without waiting for it to run.

        Args:
            app: the app id.
            input: the app's input (JSON data).
            **options: the fields of `TaskOptions` (`setup`, `session`, `idempotency_key`…).

        Raises:
            InvalidRequest: an unknown option or a bad field, found before anything is sent.
            BadResponse: the answer is not a task object.
        """
        request = self.core.submit(app, input, TaskOptions.of(options, caller="submit"))
        idempotent = self.core.idempotent(request)
        return self.core.snapshot(self.core.read(self._transport.send(request, idempotent=idempotent), what="run"))

    def get(self, task_id: str) -> Snapshot:
        """The task now.

        Raises:
            InvalidRequest: `task_id` is empty.
            NotFoundError: the server has no such task.
            BadResponse: the answer is not a task object.
        """
        response = self._transport.send(self.core.get(task_id), run_id=task_id)
        return self.core.snapshot(self.core.read(response, what="get task"))

    def cancel(self, task_id: str) -> Status:
        """Cancel a task; returns the status the server reports.

        Raises:
            InvalidRequest: `task_id` is empty.
            NotFoundError: the server has no such task.
            ConflictError: the task already ended.
            BadResponse: the answer has no status.
        """
        response = self._transport.send(self.core.cancel(task_id), run_id=task_id)
        return self.core.cancelled(self.core.read(response, what="cancel"))

    def stream(self, task_id: str) -> Iterator[Snapshot]:
        """A snapshot for each change of the task, until the server ends the stream.

        Lines that are not JSON, heartbeats and delta events are skipped, and partial updates laid
        over the snapshot before (`TasksCore.stream_update`). The request is sent on the first
        `next()`, and a stream is never retried: on an error, poll with `get` instead.

        Raises:
            InvalidRequest: `task_id` is empty.
            NotFoundError: no such task, or the server has no stream.
            TransportError: also when the stream breaks off.
            BadResponse: a line is JSON but not a task object.
        """
        with self._transport.stream(self.core.stream(task_id), run_id=task_id) as response:
            self.core.check_dialect(response)
            last = None
            for body in stream_payloads(response.iter_lines()):
                if (snapshot := self.core.stream_update(body, last)) is not None:
                    last = snapshot
                    yield snapshot

    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Snapshot], str | None]:
        """One page of tasks, newest first, and the cursor of the next page (None on the last).

        Args:
            limit: how many tasks at most.
            cursor: the cursor a page before returned.

        Raises:
            BadResponse: the answer is not a task list.
        """
        response = self._transport.send(self.core.list(limit=limit, cursor=cursor))
        return self.core.page(self.core.read(response, what="list"))

    def apps(self) -> list[dict[str, Any]]:
        """The server's apps, each with its id, description and input, output and setup schemas.

        Raises:
            BadResponse: the answer is not JSON, or not a list of apps.
        """
        return self.core.app_list(self.core.read(self._transport.send(self.core.apps()), what="apps"))

    def fetch(self, uri: str) -> bytes:
        """The bytes of a file of an output (sent with the key only to the server's own origin).

        Args:
            uri: the file's absolute URL, as the output gives it.
        """
        return self._transport.send(self.core.fetch(uri)).content

    def upload(self, upload: Upload) -> dict[str, Any]:
        """Upload a file: `POST /files`, then PUT the bytes to its upload URL without the key.

        Args:
            upload: the file (see `files.to_upload`).

        Returns:
            The server's file object; its `uri` is what an input names.

        Raises:
            BadResponse: the server gave no file object with a `uri` and an `upload_url`.
        """
        created = self._transport.send(self.files.create(upload), idempotent=False)
        file = self.files.created(self.core.read(created, what="create file"))
        self._transport.send(self.files.put(file, upload))
        return file

    def session(self, session_id: str) -> dict[str, Any]:
        """A session's state (`{id, status, expires_at, call_count…}`).

        Raises:
            InvalidRequest: `session_id` is empty.
            NotFoundError: no such session.
            BadResponse: the answer is not a session object.
        """
        response = self._transport.send(self.core.session(session_id))
        return self.core.session_info(self.core.read(response, what="session"))

    def sessions(self) -> list[dict[str, Any]]:
        """The sessions the key can see.

        Raises:
            BadResponse: the answer is not a list of sessions.
        """
        return self.core.session_list(self.core.read(self._transport.send(self.core.sessions()), what="sessions"))

    def keepalive(self, session_id: str) -> dict[str, Any]:
        """Start a session's idle time again; returns its state.

        Raises:
            InvalidRequest: `session_id` is empty.
            NotFoundError: no such session.
            ConflictError: the session has ended or expired (410).
        """
        response = self._transport.send(self.core.keepalive(session_id))
        return self.core.session_info(self.core.read(response, what="keepalive"))

    def end_session(self, session_id: str) -> None:
        """End a session and free its app instance.

        Raises:
            InvalidRequest: `session_id` is empty.
            NotFoundError: no such session.
            ConflictError: it had already ended (410).
        """
        self.core.check_dialect(self._transport.send(self.core.end_session(session_id)))

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
        self.files = FilesCore(profile)
        """Builds the requests of an upload."""
        self._transport = AsyncTransport(profile, http=http)

    async def submit(self, app: str, input: dict[str, Any], **options: Any) -> Snapshot:
        """`TasksClient.submit`, awaited."""
        return await self.send_submit(self.core.submit(app, input, TaskOptions.of(options, caller="submit")))

    async def send_submit(self, request: httpx.Request) -> Snapshot:
        """Send a submit `core.submit` built (and so checked) beforehand, maybe on another thread; the
        same request may be sent again (its Idempotency-Key makes it the same task)."""
        response = await self._transport.send(request, idempotent=self.core.idempotent(request))
        return self.core.snapshot(self.core.read(response, what="run"))

    async def get(self, task_id: str) -> Snapshot:
        """`TasksClient.get`, awaited."""
        response = await self._transport.send(self.core.get(task_id), run_id=task_id)
        return self.core.snapshot(self.core.read(response, what="get task"))

    async def cancel(self, task_id: str) -> Status:
        """`TasksClient.cancel`, awaited."""
        response = await self._transport.send(self.core.cancel(task_id), run_id=task_id)
        return self.core.cancelled(self.core.read(response, what="cancel"))

    async def stream(self, task_id: str) -> AsyncIterator[Snapshot]:
        """`TasksClient.stream`, as an async iterator."""
        async with self._transport.stream(self.core.stream(task_id), run_id=task_id) as response:
            self.core.check_dialect(response)
            last = None
            async for body in astream_payloads(response.aiter_lines()):
                if (snapshot := self.core.stream_update(body, last)) is not None:
                    last = snapshot
                    yield snapshot

    async def events(self, *, after: int | None = None, ids: Collection[str] = ()) -> AsyncIterator[StreamEvent]:
        """Every change of every task (`GET /tasks/events`; see `client.event_stream`), never retried.

        Raises:
            NotFoundError: the server has no event stream.
            TransportError: no answer, or the stream broke off.
            BadResponse: a line is no event, or the answer is in the other dialect.
        """
        async with self._transport.stream(events_request(self.core.profile, after=after, ids=ids)) as response:
            self.core.check_dialect(response)
            async for line in response.aiter_lines():
                if (event := read_event(line)) is not None:
                    yield event

    async def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Snapshot], str | None]:
        """`TasksClient.list`, awaited."""
        response = await self._transport.send(self.core.list(limit=limit, cursor=cursor))
        return self.core.page(self.core.read(response, what="list"))

    async def apps(self) -> list[dict[str, Any]]:
        """`TasksClient.apps`, awaited."""
        return self.core.app_list(self.core.read(await self._transport.send(self.core.apps()), what="apps"))

    async def fetch(self, uri: str) -> bytes:
        """`TasksClient.fetch`, awaited."""
        return (await self._transport.send(self.core.fetch(uri))).content

    async def upload(self, upload: Upload) -> dict[str, Any]:
        """`TasksClient.upload`, awaited."""
        created = await self._transport.send(self.files.create(upload), idempotent=False)
        file = self.files.created(self.core.read(created, what="create file"))
        await self._transport.send(self.files.put(file, upload))
        return file

    async def session(self, session_id: str) -> dict[str, Any]:
        """`TasksClient.session`, awaited."""
        response = await self._transport.send(self.core.session(session_id))
        return self.core.session_info(self.core.read(response, what="session"))

    async def sessions(self) -> list[dict[str, Any]]:
        """`TasksClient.sessions`, awaited."""
        return self.core.session_list(self.core.read(await self._transport.send(self.core.sessions()), what="sessions"))

    async def keepalive(self, session_id: str) -> dict[str, Any]:
        """`TasksClient.keepalive`, awaited."""
        response = await self._transport.send(self.core.keepalive(session_id))
        return self.core.session_info(self.core.read(response, what="keepalive"))

    async def end_session(self, session_id: str) -> None:
        """`TasksClient.end_session`, awaited."""
        self.core.check_dialect(await self._transport.send(self.core.end_session(session_id)))

    async def aclose(self) -> None:
        """Close the connections (the httpx client, also one that was passed in)."""
        await self._transport.aclose()
