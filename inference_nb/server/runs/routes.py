"""The runs API: create, get, list, stream, cancel; approvals; services."""

from __future__ import annotations

import hashlib
import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from inference_nb.wire.runs import ApprovalRequest, CreateRunRequest, check_schema

from ..errors import Invalid
from ..requests import query_cursor, query_int, read_model
from ..streaming import json_stream, keep_alive
from .engine import RunEngine
from .events_routes import ROUTES as EVENT_ROUTES


def _engine(request: Request) -> RunEngine:
    return request.app.state.runs


def _cluster_id(request: Request) -> str:
    return request.path_params["cluster_id"]


async def create_run(request: Request) -> JSONResponse:
    run_request = await read_model(
        request, CreateRunRequest, limit=request.app.state.config.max_body_bytes, what="with message and result.schema"
    )
    schema = run_request.result_schema
    if schema is not None:
        problem = check_schema(schema)
        if problem:
            field = "resultSchema" if run_request.resultSchema is not None else "result.schema"
            raise Invalid(
                f"{field} is not a valid JSON Schema: {problem}", details=[{"field": field, "message": problem}]
            )
    run_id, created = _engine(request).create(_cluster_id(request), run_request, _request_hash(run_request))
    return JSONResponse({"id": run_id}, status_code=201 if created else 200)


def _request_hash(run_request: CreateRunRequest) -> str:
    """What makes two creates with one id the same request."""
    essence = {
        "message": run_request.prompt,
        "schema": run_request.result_schema,
        "functions": [f.model_dump() for f in run_request.attachedFunctions or []],
    }
    return hashlib.sha256(json.dumps(essence, sort_keys=True).encode()).hexdigest()


async def get_run(request: Request) -> JSONResponse:
    return JSONResponse(_engine(request).get(_cluster_id(request), request.path_params["run_id"]))


async def list_runs(request: Request) -> JSONResponse:
    """Newest first, as a list (like the hosted service); the next page's cursor is a header."""
    limit = query_int(request, "limit", 50, low=1, high=100)
    cursor = query_cursor(request, "use the X-Next-Cursor header")
    details, next_seq = _engine(request).list(_cluster_id(request), limit=limit, before_seq=cursor)
    headers = {"X-Next-Cursor": str(next_seq)} if next_seq is not None else {}
    return JSONResponse([detail["run"] for detail in details], headers=headers)


async def stream_run(request: Request) -> StreamingResponse:
    engine = _engine(request)
    cluster_id, run_id = _cluster_id(request), request.path_params["run_id"]
    engine.get(cluster_id, run_id)  # a 404 now, before the stream starts
    return json_stream(request, engine.watch(cluster_id, run_id, idle=keep_alive(request)), event="run")


async def cancel_run(request: Request) -> JSONResponse:
    return JSONResponse(_engine(request).cancel(_cluster_id(request), request.path_params["run_id"]))


async def _approval(request: Request) -> bool:
    return (await read_model(request, ApprovalRequest, limit=4096, what='{"approved": true} or false')).approved


async def approve_job(request: Request) -> Response:
    approved = await _approval(request)
    _engine(request).approve(_cluster_id(request), request.path_params["job_id"], approved)
    return Response(status_code=204)


async def answer_input_request(request: Request) -> Response:
    approved = await _approval(request)
    engine, cluster_id = _engine(request), _cluster_id(request)
    job_id = engine.job_of_input_request(cluster_id, request.path_params["run_id"], request.path_params["request_id"])
    engine.approve(cluster_id, job_id, approved)
    return Response(status_code=204)


async def list_services(request: Request) -> JSONResponse:
    return JSONResponse(_engine(request).cluster(_cluster_id(request)).services())


async def list_clusters(request: Request) -> JSONResponse:
    return JSONResponse([{"id": cluster_id, "name": cluster_id} for cluster_id in request.app.state.clusters.ids()])


ROUTES = [
    Route("/clusters", list_clusters, methods=["GET"]),
    Route("/clusters/{cluster_id}/services", list_services, methods=["GET"]),
    Route("/clusters/{cluster_id}/runs", create_run, methods=["POST"]),
    Route("/clusters/{cluster_id}/runs", list_runs, methods=["GET"]),
    *EVENT_ROUTES,
    Route("/clusters/{cluster_id}/runs/{run_id}", get_run, methods=["GET"]),
    Route("/clusters/{cluster_id}/runs/{run_id}/stream", stream_run, methods=["GET"]),
    Route("/clusters/{cluster_id}/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
    Route("/clusters/{cluster_id}/runs/{run_id}/input-requests/{request_id}", answer_input_request, methods=["POST"]),
    Route("/clusters/{cluster_id}/jobs/{job_id}/approval", approve_job, methods=["POST"]),
]
