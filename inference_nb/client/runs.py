"""The runs API: an I/O-free core, and thin sync and async clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from inference_nb.wire.runs import RUN_ID_PATTERN, RunDetail, check_schema, new_run_id
from inference_nb.wire.statuses import Phase

from .core import Snapshot, Status, astream_payloads, headers, json_body, segment, stream_payloads
from .errors import BadResponse, InvalidRequest
from .events import StreamEvent, events_request, read_event
from .profile import Profile
from .transport import AsyncTransport, SyncTransport

PHASES = {
    "pending": Phase.PENDING,
    "running": Phase.RUNNING,
    "paused": Phase.RUNNING,
    "done": Phase.SUCCEEDED,
    "failed": Phase.FAILED,
}


def to_status(run: dict[str, Any]) -> Status:
    """The Status of a run object: its `status` name, and a failed run marked `cancelled` as CANCELLED.

    Args:
        run: the `run` object of a run's detail.
    """
    name = run.get("status") or "pending"
    if name == "failed" and run.get("cancelled"):
        return Status(Phase.CANCELLED, "cancelled", name)
    return Status(PHASES.get(name, Phase.RUNNING), name, name)


class RunsCore:
    """The runs API without I/O: builds requests and reads answers, never sends anything.

    Every id and cluster is quoted into one path segment here, so the sync and async clients
    share the paths. A `cluster` argument that is None or empty means the profile's cluster.

    Args:
        profile: the server the requests are for (its URL, key and cluster).
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        """The server the requests are for."""

    def _request(self, method: str, path: str, *, body: Any = None, **kw: Any) -> httpx.Request:
        extra = {} if body is None else {"content-type": "application/json"}
        content = None if body is None else json.dumps(body)
        return httpx.Request(
            method, self.profile.base_url + path, headers={**headers(self.profile), **extra}, content=content, **kw
        )

    def _cluster_path(self, cluster: str | None) -> str:
        """`/clusters/{cluster}`: the named cluster, else the profile's, quoted."""
        return f"/clusters/{segment(cluster or self.profile.cluster, field='cluster')}"

    def _run_path(self, run_id: str, cluster: str | None, tail: str = "") -> str:
        return f"{self._cluster_path(cluster)}/runs/{segment(run_id, field='run_id')}{tail}"

    def create(
        self,
        message: str,
        schema: dict[str, Any] | None,
        *,
        cluster: str | None = None,
        run_id: str | None = None,
        name: str | None = None,
    ) -> tuple[str, httpx.Request]:
        """`POST /clusters/{cluster}/runs`, checked first: nothing is sent for a bad message or schema.

        Args:
            message: the question or instruction.
            schema: the result's JSON Schema, or None for a run without a result schema.
            cluster: the cluster (default: the profile's).
            run_id: the run's own id; when None and the profile honours client ids, a new ULID
                (so a retried create cannot duplicate the run).
            name: a name for the run.

        Returns:
            The run's id ("" when the server is to choose it) and the request.

        Raises:
            InvalidRequest: `message` is empty or not text, `schema` is not a valid JSON Schema,
                `run_id` is not 6 to 128 letters, digits, '-' or '_', or the cluster is not text
                (`field` names it).
        """
        if not isinstance(message, str) or not message.strip():
            raise InvalidRequest("message: write a question or an instruction (it is empty)", field="message")
        body: dict[str, Any] = {"message": message}
        if schema is not None:
            if not isinstance(schema, dict):
                raise InvalidRequest("schema: expected a JSON Schema object or a pydantic model", field="schema")
            problem = check_schema(schema)
            if problem:
                raise InvalidRequest(f"schema: {problem}", field="schema")
            body["result"] = {"schema": schema}
        if run_id is not None and not (isinstance(run_id, str) and RUN_ID_PATTERN.fullmatch(run_id)):
            raise InvalidRequest(f"run_id: expected 6 to 128 letters, digits, '-' or '_', not {run_id!r}",
                                 field="run_id")  # fmt: skip
        run_id = run_id or (new_run_id() if self.profile.idempotent_create else None)
        if run_id:
            body["id"] = run_id
        if name:
            body["name"] = name
        return run_id or "", self._request("POST", f"{self._cluster_path(cluster)}/runs", body=body)

    def get(self, run_id: str, *, cluster: str | None = None) -> httpx.Request:
        """`GET /clusters/{cluster}/runs/{run_id}`.

        Args:
            run_id: the run's id.
            cluster: the run's cluster (default: the profile's).

        Raises:
            InvalidRequest: `run_id` is empty.
        """
        return self._request("GET", self._run_path(run_id, cluster))

    def stream(self, run_id: str, *, cluster: str | None = None) -> httpx.Request:
        """`GET /clusters/{cluster}/runs/{run_id}/stream`.

        Args:
            run_id: the run's id.
            cluster: the run's cluster (default: the profile's).

        Raises:
            InvalidRequest: `run_id` is empty.
        """
        return self._request("GET", self._run_path(run_id, cluster, "/stream"))

    def cancel(self, run_id: str, *, cluster: str | None = None) -> httpx.Request:
        """`POST /clusters/{cluster}/runs/{run_id}/cancel`.

        Args:
            run_id: the run's id.
            cluster: the run's cluster (default: the profile's).

        Raises:
            InvalidRequest: `run_id` is empty.
        """
        return self._request("POST", self._run_path(run_id, cluster, "/cancel"))

    def approve(self, job_id: str, approved: bool, *, cluster: str | None = None) -> httpx.Request:
        """`POST /clusters/{cluster}/jobs/{job_id}/approval`: answer a function call waiting for approval.

        Args:
            job_id: the job (function call) waiting, as the run's `inputRequests` name it.
            approved: whether the call may go ahead.
            cluster: the run's cluster (default: the profile's).

        Raises:
            InvalidRequest: `job_id` is empty.
        """
        path = f"{self._cluster_path(cluster)}/jobs/{segment(job_id, field='job_id')}/approval"
        return self._request("POST", path, body={"approved": approved})

    def list(self, *, cluster: str | None = None, limit: int = 50, cursor: str | None = None) -> httpx.Request:
        """`GET /clusters/{cluster}/runs`, newest first.

        Args:
            cluster: the cluster (default: the profile's).
            limit: how many runs at most.
            cursor: the `x-next-cursor` of the page before, for the page after it.
        """
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self._request("GET", f"{self._cluster_path(cluster)}/runs", params=params)

    def created_id(self, body: Any) -> str:
        """The run id of a create answer.

        Raises:
            BadResponse: `body` has no run id.
        """
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise BadResponse("the create answer has no run id")
        return body["id"]

    def created(self, run_id: str, message: str, schema: dict[str, Any] | None, *, name: str | None) -> Snapshot:
        """A run's first Snapshot, made from what its create sent: the create answers with the id only,
        and a GET for what it says anyway would double the cost of a submit (the server's own view
        arrives through the run's following)."""
        at = datetime.now(UTC).isoformat()
        run = {"id": run_id, "name": name, "status": "pending", "message": message, "createdAt": at}
        if schema is not None:
            run["resultSchema"] = schema
        return self.snapshot({"run": run, "jobs": [], "inputRequests": []})

    def snapshot(self, body: Any) -> Snapshot:
        """The Snapshot of a run's detail (`{run, jobs, inputRequests}`: a get, a cancel, a stream line).

        Raises:
            BadResponse: `body` is not a run detail of the runs API.
        """
        try:
            detail = RunDetail.model_validate(body)
        except ValidationError as error:
            raise BadResponse(f"the server's run does not fit the runs API: {error}") from None
        run = body["run"]
        timeline = tuple((e.get("status", "?"), e.get("at", "")) for e in run.get("timeline") or [])
        return Snapshot(
            "run",
            detail.run.id,
            to_status(run),
            timeline or ((run.get("status") or "pending", run.get("updatedAt") or detail.run.createdAt),),
            output=detail.run.result,
            error=detail.run.failureReason,
            summary=detail.run.summary,
            jobs=tuple(body.get("jobs") or ()),
            input_requests=tuple(body.get("inputRequests") or ()),
            raw=body,
        )

    def page(self, response: httpx.Response) -> tuple[list[dict[str, Any]], str | None]:
        """The runs of a list answer (plain run objects) and the next page's cursor (None on the last).

        Raises:
            BadResponse: the answer is not JSON or not a list.
        """
        body = json_body(response, what="list runs")
        if not isinstance(body, list):
            raise BadResponse("the run list is not a list")
        return body, response.headers.get("x-next-cursor")


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
        """Every change of a cluster's runs (`GET /clusters/{c}/runs/events`; see `client.events`), never
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
