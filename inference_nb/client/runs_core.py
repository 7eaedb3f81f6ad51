"""The runs API without I/O: builds requests and reads answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from inference_nb.wire.runs import RUN_ID_PATTERN, RunDetail, check_schema, new_run_id
from inference_nb.wire.statuses import Phase

from .core import Snapshot, Status, headers, json_body, segment
from .errors import BadResponse, InvalidRequest
from .profile import Profile

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
