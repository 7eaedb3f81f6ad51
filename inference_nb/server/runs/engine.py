"""The run engine: pending → running (⇄ paused) → done | failed.

A run is `failed` only when it cannot run at all (no functions, the server
stopped, a cancel). A function that raises, a call that was not approved, or
an answer that does not satisfy the schema still ends `done`: with
`result: null` and a summary that says what happened.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from inference_nb.wire.runs import RUN_TERMINAL, CreateRunRequest, new_run_id

from ..disk import DiskFull, check_room
from ..errors import Conflict, NotFound
from ..event_log import EventLog
from ..store import Store, now_iso
from .chat import EndpointUnavailable
from .functions import Cluster, Clusters, Function, describe_arguments_error
from .planner import CallOutcome, Planner
from .schemas import schema_problem
from .shaping import jsonable
from .unsaved import UnsavedRuns

NO_TOOLS = (
    "No tools found, which means no services are available to execute this function. "
    "At least one service must be available."
)


@dataclass
class ActiveRun:
    cluster: str
    request: CreateRunRequest
    request_hash: str
    detail: dict[str, Any]
    done: asyncio.Event = field(default_factory=asyncio.Event)
    runner: asyncio.Task | None = None
    approvals: dict[str, asyncio.Future] = field(default_factory=dict)

    @property
    def run(self) -> dict[str, Any]:
        return self.detail["run"]


class RunEngine:
    def __init__(
        self,
        *,
        store: Store,
        clusters: Clusters,
        planner: Planner,
        run_sync: Callable[[Callable[[], Any]], Any],
        events: EventLog | None = None,
    ) -> None:
        self._store = store
        self.events = events or EventLog()
        """Every change of every run, for `GET /clusters/{c}/runs/events` (scoped by cluster)."""
        self._clusters = clusters
        self._planner = planner
        self._run_sync = run_sync
        self._active: dict[tuple[str, str], ActiveRun] = {}
        self._waiting_jobs: dict[tuple[str, str], ActiveRun] = {}
        self._watchers: dict[tuple[str, str], set[asyncio.Queue]] = {}
        self._unsaved = UnsavedRuns(store)
        """Runs that ended while the disk was full: right in memory, written once there is room."""
        self._writer: asyncio.Task | None = None

    # lifecycle

    def start(self) -> None:
        self.recover()
        self._writer = asyncio.get_running_loop().create_task(self._unsaved.write_forever())

    def stop(self) -> None:
        """Fail the runs in flight, and write what the disk had no room for (if it has now)."""
        self.fail_in_flight()
        if self._writer is not None:
            self._writer.cancel()
        self._unsaved.write()  # what still finds no room is marked failed by the next start's recovery

    def recover(self) -> None:
        """Runs in flight when the server last stopped cannot resume: say so."""
        for cluster, request_hash, detail in self._store.unfinished_runs():
            status = detail["run"]["status"]
            reason = (
                f"The server stopped while this run was {status}; it was marked failed when the server started again."
            )
            self._set_status(detail, "failed", failureReason=reason)
            self._store.save_run(cluster, detail["run"]["id"], "failed", request_hash, json.dumps(detail))

    def fail_in_flight(self) -> None:
        for active in list(self._active.values()):
            self._finish(
                active, "failed", failureReason=f"The server stopped while this run was {active.run['status']}."
            )
            if active.runner:
                active.runner.cancel()

    # creating

    def create(self, cluster_id: str, request: CreateRunRequest, request_hash: str) -> tuple[str, bool]:
        """The run's id, and whether it was created now (False: the same id was sent before)."""
        cluster = self.cluster(cluster_id)
        run_id = request.run_id or new_run_id()
        existing = self._store.get_run(cluster.id, run_id)
        if existing is not None:
            if existing[1] != request_hash:
                raise Conflict(
                    f"run {run_id} already exists with another message or schema; choose a new id", runId=run_id
                )
            return run_id, False
        check_room(self._store.data_dir)
        created = now_iso()
        detail = {
            "run": {
                "id": run_id,
                "name": request.name or self._planner.name(request.prompt or ""),
                "status": "pending",
                "summary": None,
                "result": None,
                "failureReason": None,
                "createdAt": created,
                "updatedAt": created,
                "clusterId": cluster.id,
                "message": request.prompt,
                "resultSchema": request.result_schema,
                "plannedBy": self._planner.label,
                "timeline": [{"status": "pending", "at": created}],
            },
            "jobs": [],
            "inputRequests": [],
        }
        active = ActiveRun(cluster.id, request, request_hash, detail)
        self._active[(cluster.id, run_id)] = active
        self._save(active)
        active.runner = asyncio.get_running_loop().create_task(self._execute(active))
        return run_id, True

    def cluster(self, cluster_id: str) -> Cluster:
        try:
            return self._clusters.get(cluster_id)
        except KeyError:
            known = ", ".join(self._clusters.ids())
            raise NotFound(f"no cluster {cluster_id!r}; clusters on this server: {known}") from None

    # running

    async def _execute(self, active: ActiveRun) -> None:
        try:
            self._set_status(active.detail, "running")
            self._save(active)
            attached = [(f.service, f.function) for f in active.request.attachedFunctions or []] or None
            try:
                functions = self._clusters.get(active.cluster).available(attached)
            except KeyError as missing:
                self._finish(
                    active, "failed", failureReason=f"Attached functions are not registered: {missing.args[0]}."
                )
                return
            if not functions:
                self._finish(active, "failed", failureReason=NO_TOOLS)
                return
            schema = active.request.result_schema
            conclusion = await self._planner.plan(
                active.request.prompt or "", functions, schema, lambda f, args: self._call(active, f, args)
            )
            result, summary = conclusion.result, conclusion.summary
            problem = schema_problem(result, schema) if result is not None and schema is not None else None
            if problem:
                result, summary = None, f"{summary} The answer does not satisfy the result schema: {problem}"
            usage = {"plannerUsage": conclusion.usage} if conclusion.usage is not None else {}
            self._finish(active, "done", result=result, summary=summary, **usage)
        except EndpointUnavailable as unavailable:  # the model cannot plan: said in plain words
            self._finish(active, "failed", failureReason=f"The run could not be planned: {unavailable}")
        except asyncio.CancelledError:
            self._finish(active, "failed", failureReason="Cancelled by request.")
        except Exception as exc:  # a planner bug: the run could not run
            self._finish(active, "failed", failureReason=f"The planner failed: {type(exc).__name__}: {exc}")
        finally:
            self._active.pop((active.cluster, active.run["id"]), None)

    async def _call(self, active: ActiveRun, function: Function, arguments: dict[str, Any]) -> CallOutcome:
        job = {
            "id": new_run_id(),
            "status": "pending",
            "targetFn": function.name,
            "service": function.service,
            "resultType": None,
            "createdAt": now_iso(),
            "approvalRequested": function.requires_approval,
            "approved": None,
            "arguments": jsonable(arguments),
        }
        active.detail["jobs"].append(job)
        try:
            validated = function.validate(arguments)
        except ValidationError as error:
            return self._job_ended(
                active, job, function, arguments, "failure", describe_arguments_error(function, error)
            )
        job["arguments"] = validated.model_dump(mode="json")
        # From here on the call is described with the arguments given, as the function takes them (qty=20,
        # not the message's text "20"); the defaults would bury them (name=null, limit=100…).
        arguments = validated.model_dump(mode="json", exclude_unset=True)
        self._save(active)
        if function.requires_approval and not await self._approval(active, job, function):
            return self._job_ended(active, job, function, arguments, "success", "the call was not approved")
        job["status"] = "running"
        self._save(active)
        try:
            value = jsonable(await function.call(validated, run_sync=self._run_sync))
        except Exception as exc:  # the function's failure is reported, not fatal
            return self._job_ended(active, job, function, arguments, "success", f"{type(exc).__name__}: {exc}")
        job["status"], job["resultType"] = "success", "resolution"
        self._save(active)
        return CallOutcome(function, arguments, ok=True, value=value)

    def _job_ended(
        self, active: ActiveRun, job: dict, function: Function, arguments: dict, status: str, error: str
    ) -> CallOutcome:
        job["status"], job["resultType"], job["error"] = status, "rejection", error
        self._save(active)
        return CallOutcome(function, arguments, ok=False, value=error)

    async def _approval(self, active: ActiveRun, job: dict, function: Function) -> bool:
        request = {
            "id": new_run_id(),
            "type": "approval",
            "jobId": job["id"],
            "description": f"Approve the call {function.service}.{function.name}({json.dumps(job['arguments'])})?",
            "createdAt": now_iso(),
            "resolvedAt": None,
            "outcome": None,
        }
        active.detail["inputRequests"].append(request)
        decision = asyncio.get_running_loop().create_future()
        active.approvals[job["id"]] = decision
        self._waiting_jobs[(active.cluster, job["id"])] = active
        self._set_status(active.detail, "paused")
        self._save(active)
        try:
            approved = await decision
        finally:
            self._waiting_jobs.pop((active.cluster, job["id"]), None)
            active.approvals.pop(job["id"], None)
        request["resolvedAt"], request["outcome"] = now_iso(), "approved" if approved else "rejected"
        job["approved"] = approved
        self._set_status(active.detail, "running")
        self._save(active)
        return approved

    # controlling and reading

    def approve(self, cluster_id: str, job_id: str, approved: bool) -> None:
        self.cluster(cluster_id)
        active = self._waiting_jobs.get((cluster_id, job_id))
        if active is None or active.approvals[job_id].done():
            raise NotFound(f"no job {job_id!r} is waiting for approval in cluster {cluster_id!r}")
        active.approvals[job_id].set_result(approved)

    def job_of_input_request(self, cluster_id: str, run_id: str, request_id: str) -> str:
        for request in self.get(cluster_id, run_id)["inputRequests"]:
            if request["id"] == request_id:
                if request["outcome"] is not None:
                    raise Conflict(f"input request {request_id} was already {request['outcome']}")
                return request["jobId"]
        raise NotFound(f"run {run_id} has no input request {request_id!r}")

    def cancel(self, cluster_id: str, run_id: str) -> dict[str, Any]:
        active = self._active.get((cluster_id, run_id))
        if active is None:
            detail = self.get(cluster_id, run_id)
            raise Conflict(f"run {run_id} already ended ({detail['run']['status']})", status=detail["run"]["status"])
        self._finish(active, "failed", failureReason="Cancelled by request.", cancelled=True)
        if active.runner:
            active.runner.cancel()
        return active.detail

    def get(self, cluster_id: str, run_id: str) -> dict[str, Any]:
        """A run, also of a cluster whose functions are not registered now (after a restart, say)."""
        active = self._active.get((cluster_id, run_id))
        if active:
            return active.detail
        unsaved = self._unsaved.get(cluster_id, run_id)
        if unsaved is not None:
            return unsaved
        found = self._store.get_run(cluster_id, run_id)
        if found is None:
            self.cluster(cluster_id)  # an unknown cluster says so, naming the known ones
            raise NotFound(f"no run {run_id!r} in cluster {cluster_id!r}")
        return found[0]

    def list(self, cluster_id: str, *, limit: int, before_seq: int | None) -> tuple[list[dict[str, Any]], int | None]:
        runs, next_seq = self._store.list_runs(cluster_id, limit=limit, before_seq=before_seq)
        if not runs and before_seq is None:
            self.cluster(cluster_id)
        return runs, next_seq

    async def watch(self, cluster_id: str, run_id: str, *, idle: float | None = None) -> AsyncIterator[str | None]:
        """The run's detail as JSON now and after each change; None after `idle` quiet seconds."""
        key = (cluster_id, run_id)
        detail = self.get(cluster_id, run_id)
        queue: asyncio.Queue = asyncio.Queue()
        self._watchers.setdefault(key, set()).add(queue)
        try:
            status, text = detail["run"]["status"], json.dumps(detail)
            yield text
            while status not in RUN_TERMINAL:
                try:
                    status, text = await asyncio.wait_for(queue.get(), idle)
                except TimeoutError:
                    yield None
                    continue
                yield text
        finally:
            watchers = self._watchers.get(key, set())
            watchers.discard(queue)
            if not watchers:
                self._watchers.pop(key, None)

    # state changes

    def _set_status(self, detail: dict[str, Any], status: str, **fields: Any) -> None:
        run = detail["run"]
        run.update(status=status, updatedAt=now_iso(), **fields)
        run["timeline"].append({"status": status, "at": run["updatedAt"]})

    def _finish(self, active: ActiveRun, status: str, **fields: Any) -> None:
        if active.done.is_set():
            return
        for job in active.detail["jobs"]:
            if job["status"] in ("pending", "running"):  # the run ended under it (cancel, server stop)
                job.update(
                    status="failure", resultType="rejection", error=f"the run ended: {fields.get('failureReason')}"
                )
        self._set_status(active.detail, status, **fields)
        active.done.set()
        self._save(active)

    def _save(self, active: ActiveRun) -> None:
        active.run["updatedAt"] = now_iso()
        cluster, run_id, status = active.cluster, active.run["id"], active.run["status"]
        try:
            self._store.save_run(cluster, run_id, status, active.request_hash, json.dumps(active.detail))
        except DiskFull as full:
            if status not in RUN_TERMINAL:
                raise  # the run fails for it, and that end is kept in memory
            self._unsaved.end(cluster, active.request_hash, active.detail, full)
            status = active.run["status"]
        text = json.dumps(active.detail)
        for queue in self._watchers.get((cluster, run_id), ()):
            queue.put_nowait((status, text))
        self.events.publish(run_id, text, scope=cluster)
