"""The runs API: thin sync and async clients over the I/O-free `RunsCore` (runs_core.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterator
from typing import Any

import httpx

from .core import Snapshot, astream_payloads, json_body, stream_payloads
from .event_stream import StreamEvent, events_request, read_event
from .profile import Profile
from .runs_core import RunsCore
from .transport import AsyncTransport, SyncTransport


class RunsClient:
    """The runs API in blocking calls, for scripts; the notebook side uses `AsyncRunsClient`.

    Requests that are safe to repeat are retried on transport failures and on 429 / 502 / 503 /
    504, with backoff, honouring a Retry-After up to 30 s; a create carries a client-chosen run id
    when the profile allows it, which makes it safe to retry too. Every method takes `cluster=`
    (default: the profile's).

    Args:
        profile: the server (see `Profile`, `hosted_runs`).
        http: the httpx client to send with (default: a new one with this package's timeouts and
            pool limits); `close` closes it either way.

    Raises:
        TransportError: any method: no answer (`ConnectError`, `RequestTimeout`), after the retries.
        StatusError: any method: an error answer (`AuthenticationError` for the key, `NotFoundError`
            for an unknown cluster, run or job, `RateLimited`, `ServerError` for a 5xx…), after the
            retries.
    """

    def __init__(self, profile: Profile, *, http: httpx.Client | None = None) -> None:
        self.core = RunsCore(profile)
        """Builds the requests and reads the answers."""
        self._transport = SyncTransport(profile, http=http)

    def create(self, message: str, schema: dict[str, Any] | None = None, **options: Any) -> str:
        """Start a run; returns its id without waiting for it.

        Args:
            message: the question or instruction.
            schema: the result's JSON Schema (None: no result schema).
            **options: `cluster`, `run_id`, `name` (see `RunsCore.create`).

        Raises:
            InvalidRequest: a bad message or schema, found before anything is sent.
            StatusError: also a 422 for a run id the server does not accept.
            BadResponse: the answer has no run id.
        """
        run_id, request = self.core.create(message, schema, **options)
        response = self._transport.send(request, idempotent=bool(run_id), run_id=run_id or None)
        return self.core.created_id(json_body(response, what="create run"))

    def get(self, run_id: str, **options: Any) -> Snapshot:
        """The run now, with its jobs and input requests.

        Raises:
            InvalidRequest: `run_id` is empty.
            NotFoundError: the cluster has no such run (or there is no such cluster).
            BadResponse: the answer is not a run detail.
        """
        response = self._transport.send(self.core.get(run_id, **options), run_id=run_id)
        return self.core.snapshot(json_body(response, what="get run"))

    def stream(self, run_id: str, **options: Any) -> Iterator[Snapshot]:
        """A snapshot for each change of the run, until the server ends the stream.

        Lines that are not JSON are skipped. The request is sent on the first `next()`, and a
        stream is never retried: on an error, poll with `get` instead (the hosted runs API has no
        stream: `Profile.streams` says so).

        Raises:
            InvalidRequest: `run_id` is empty.
            NotFoundError: no such run, or the server has no stream.
            TransportError: also when the stream breaks off.
            BadResponse: a line is JSON but not a run detail.
        """
        with self._transport.stream(self.core.stream(run_id, **options), run_id=run_id) as response:
            for body in stream_payloads(response.iter_lines()):
                yield self.core.snapshot(body)

    def cancel(self, run_id: str, **options: Any) -> Snapshot:
        """Cancel a run; returns the run as the server answered.

        Raises:
            InvalidRequest: `run_id` is empty.
            NotFoundError: the cluster has no such run.
            ConflictError: the run already ended.
            BadResponse: the answer is not a run detail.
        """
        response = self._transport.send(self.core.cancel(run_id, **options), run_id=run_id)
        return self.core.snapshot(json_body(response, what="cancel run"))

    def approve(self, job_id: str, approved: bool, **options: Any) -> None:
        """Approve or reject a function call a paused run waits for.

        Args:
            job_id: the job waiting (an input request's `jobId`).
            approved: whether the call may go ahead.

        Raises:
            InvalidRequest: `job_id` is empty.
            NotFoundError: no job of that id waits for approval in the cluster.
        """
        self._transport.send(self.core.approve(job_id, approved, **options))

    def list(self, **options: Any) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a cluster's runs (plain run objects), newest first, and the next page's cursor.

        Args:
            **options: `cluster`, `limit` (default 50), `cursor` (see `RunsCore.list`).

        Raises:
            BadResponse: the answer is not a list.
        """
        return self.core.page(self._transport.send(self.core.list(**options)))

    def close(self) -> None:
        """Close the connections (the httpx client, also one that was passed in)."""
        self._transport.close()


class AsyncRunsClient:
    """The runs API in async calls: each method is `RunsClient`'s, awaited, with the same
    arguments, retries and errors (`stream` is an async iterator, `aclose` replaces `close`).

    Args:
        profile: the server (see `Profile`, `hosted_runs`).
        http: the httpx.AsyncClient to send with (default: a new one); `aclose` closes it either way.
    """

    def __init__(self, profile: Profile, *, http: httpx.AsyncClient | None = None) -> None:
        self.core = RunsCore(profile)
        """Builds the requests and reads the answers."""
        self._transport = AsyncTransport(profile, http=http)

    async def create(self, message: str, schema: dict[str, Any] | None = None, **options: Any) -> str:
        """`RunsClient.create`, awaited."""
        run_id, request = self.core.create(message, schema, **options)
        response = await self._transport.send(request, idempotent=bool(run_id), run_id=run_id or None)
        return self.core.created_id(json_body(response, what="create run"))

    async def get(self, run_id: str, **options: Any) -> Snapshot:
        """`RunsClient.get`, awaited."""
        response = await self._transport.send(self.core.get(run_id, **options), run_id=run_id)
        return self.core.snapshot(json_body(response, what="get run"))

    async def stream(self, run_id: str, **options: Any) -> AsyncIterator[Snapshot]:
        """`RunsClient.stream`, as an async iterator."""
        async with self._transport.stream(self.core.stream(run_id, **options), run_id=run_id) as response:
            async for body in astream_payloads(response.aiter_lines()):
                yield self.core.snapshot(body)

    async def cancel(self, run_id: str, **options: Any) -> Snapshot:
        """`RunsClient.cancel`, awaited."""
        response = await self._transport.send(self.core.cancel(run_id, **options), run_id=run_id)
        return self.core.snapshot(json_body(response, what="cancel run"))

    async def approve(self, job_id: str, approved: bool, **options: Any) -> None:
        """`RunsClient.approve`, awaited."""
        await self._transport.send(self.core.approve(job_id, approved, **options))

    async def events(
        self, *, after: int | None = None, cluster: str | None = None, ids: Collection[str] = ()
    ) -> AsyncIterator[StreamEvent]:
        """Every change of a cluster's runs (`GET /clusters/{c}/runs/events`; see `client.event_stream`), never
        retried.

        Raises:
            NotFoundError: the server has no event stream (or no such cluster).
            TransportError: no answer, or the stream broke off.
            BadResponse: a line is no event.
        """
        request = events_request(self.core.profile, after=after, cluster=cluster, ids=ids)
        async with self._transport.stream(request) as response:
            async for line in response.aiter_lines():
                if (event := read_event(line)) is not None:
                    yield event

    async def list(self, **options: Any) -> tuple[list[dict[str, Any]], str | None]:
        """`RunsClient.list`, awaited."""
        return self.core.page(await self._transport.send(self.core.list(**options)))

    async def aclose(self) -> None:
        """Close the connections (the httpx client, also one that was passed in)."""
        await self._transport.aclose()
