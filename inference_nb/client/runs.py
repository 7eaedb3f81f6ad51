"""The runs API: an I/O-free core, and thin sync and async clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from pydantic import ValidationError

from inference_nb.wire.runs import RunDetail, check_schema, new_run_id
from inference_nb.wire.statuses import Phase

from .core import Snapshot, Status, astream_payloads, headers, json_body, segment, stream_payloads
from .errors import BadResponse, InvalidRequest
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
    name = run.get("status") or "pending"
    if name == "failed" and run.get("cancelled"):
        return Status(Phase.CANCELLED, "cancelled", name)
    return Status(PHASES.get(name, Phase.RUNNING), name, name)


class RunsCore:
    """Builds requests and reads answers; never sends anything."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

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
        """The run's id (chosen here, so a retried create cannot duplicate it) and the request."""
        if not isinstance(message, str) or not message.strip():
            raise InvalidRequest("message: write a question or an instruction (it is empty)", field="message")
        body: dict[str, Any] = {"message": message}
        if schema is not None:
            if not isinstance(schema, dict):
                raise InvalidRequest("schema: expected a JSON Schema object or a pydantic model", field="schema")
            problem = check_schema(schema)
            if problem:
                raise InvalidRequest(f"schema is not a valid JSON Schema: {problem}", field="schema")
            body["result"] = {"schema": schema}
        run_id = run_id or (new_run_id() if self.profile.idempotent_create else None)
        if run_id:
            body["id"] = run_id
        if name:
            body["name"] = name
        return run_id or "", self._request("POST", f"{self._cluster_path(cluster)}/runs", body=body)

    def get(self, run_id: str, *, cluster: str | None = None) -> httpx.Request:
        return self._request("GET", self._run_path(run_id, cluster))

    def stream(self, run_id: str, *, cluster: str | None = None) -> httpx.Request:
        return self._request("GET", self._run_path(run_id, cluster, "/stream"))

    def cancel(self, run_id: str, *, cluster: str | None = None) -> httpx.Request:
        return self._request("POST", self._run_path(run_id, cluster, "/cancel"))

    def approve(self, job_id: str, approved: bool, *, cluster: str | None = None) -> httpx.Request:
        path = f"{self._cluster_path(cluster)}/jobs/{segment(job_id, field='job_id')}/approval"
        return self._request("POST", path, body={"approved": approved})

    def list(self, *, cluster: str | None = None, limit: int = 50, cursor: str | None = None) -> httpx.Request:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self._request("GET", f"{self._cluster_path(cluster)}/runs", params=params)

    def created_id(self, body: Any) -> str:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise BadResponse("the create answer has no run id")
        return body["id"]

    def snapshot(self, body: Any) -> Snapshot:
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
        body = json_body(response, what="list runs")
        if not isinstance(body, list):
            raise BadResponse("the run list is not a list")
        return body, response.headers.get("x-next-cursor")


class RunsClient:
    def __init__(self, profile: Profile, *, http: httpx.Client | None = None) -> None:
        self.core = RunsCore(profile)
        self._transport = SyncTransport(profile, http=http)

    def create(self, message: str, schema: dict[str, Any] | None = None, **options: Any) -> str:
        run_id, request = self.core.create(message, schema, **options)
        response = self._transport.send(request, idempotent=bool(run_id), run_id=run_id or None)
        return self.core.created_id(json_body(response, what="create run"))

    def get(self, run_id: str, **options: Any) -> Snapshot:
        response = self._transport.send(self.core.get(run_id, **options), run_id=run_id)
        return self.core.snapshot(json_body(response, what="get run"))

    def stream(self, run_id: str, **options: Any) -> Iterator[Snapshot]:
        with self._transport.stream(self.core.stream(run_id, **options), run_id=run_id) as response:
            for body in stream_payloads(response.iter_lines()):
                yield self.core.snapshot(body)

    def cancel(self, run_id: str, **options: Any) -> Snapshot:
        response = self._transport.send(self.core.cancel(run_id, **options), run_id=run_id)
        return self.core.snapshot(json_body(response, what="cancel run"))

    def approve(self, job_id: str, approved: bool, **options: Any) -> None:
        self._transport.send(self.core.approve(job_id, approved, **options))

    def list(self, **options: Any) -> tuple[list[dict[str, Any]], str | None]:
        return self.core.page(self._transport.send(self.core.list(**options)))

    def close(self) -> None:
        self._transport.close()


class AsyncRunsClient:
    def __init__(self, profile: Profile, *, http: httpx.AsyncClient | None = None) -> None:
        self.core = RunsCore(profile)
        self._transport = AsyncTransport(profile, http=http)

    async def create(self, message: str, schema: dict[str, Any] | None = None, **options: Any) -> str:
        run_id, request = self.core.create(message, schema, **options)
        response = await self._transport.send(request, idempotent=bool(run_id), run_id=run_id or None)
        return self.core.created_id(json_body(response, what="create run"))

    async def get(self, run_id: str, **options: Any) -> Snapshot:
        response = await self._transport.send(self.core.get(run_id, **options), run_id=run_id)
        return self.core.snapshot(json_body(response, what="get run"))

    async def stream(self, run_id: str, **options: Any) -> AsyncIterator[Snapshot]:
        async with self._transport.stream(self.core.stream(run_id, **options), run_id=run_id) as response:
            async for body in astream_payloads(response.aiter_lines()):
                yield self.core.snapshot(body)

    async def cancel(self, run_id: str, **options: Any) -> Snapshot:
        response = await self._transport.send(self.core.cancel(run_id, **options), run_id=run_id)
        return self.core.snapshot(json_body(response, what="cancel run"))

    async def approve(self, job_id: str, approved: bool, **options: Any) -> None:
        await self._transport.send(self.core.approve(job_id, approved, **options))

    async def list(self, **options: Any) -> tuple[list[dict[str, Any]], str | None]:
        return self.core.page(await self._transport.send(self.core.list(**options)))

    async def aclose(self) -> None:
        await self._transport.aclose()
