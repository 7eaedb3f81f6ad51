"""The tasks API: run, get, status, cancel, stream, list; apps, sessions, files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.routing import Route

from inference_nb.wire.tasks import RunTaskRequest

from .. import streaming
from ..apps.registry import UnknownApp, app_id
from ..errors import BadRequest, Conflict, Gone, Invalid, NotFound
from ..requests import query_bool, query_cursor, query_int, read_model
from ..streaming import json_stream
from .engine import TaskEngine, public_task
from .files import task_files_dir
from .instances import SessionEnded

MAX_IDEMPOTENCY_KEY = 255


def _engine(request: Request) -> TaskEngine:
    return request.app.state.engine


async def run_task(request: Request) -> JSONResponse:
    wait = query_bool(request, "wait", True)
    task_request = await read_model(
        request, RunTaskRequest, limit=request.app.state.config.max_body_bytes, what="with app and input"
    )
    app_cls, setup = _validate_submission(request, task_request)
    engine = _engine(request)

    def submit() -> dict[str, Any]:
        return engine.submit(task_request, app_cls, base_url=_base_url(request), setup=setup)

    key = request.headers.get("idempotency-key")
    task = submit() if key is None else _submit_once(request, key, task_request, submit)
    if wait:
        return JSONResponse(public_task(await engine.wait(task["id"]), _base_url(request)))
    return JSONResponse(task)


def _validate_submission(request: Request, task_request: RunTaskRequest) -> tuple[Any, dict | None]:
    """The app the request names and its setup, once the app's own models accept them."""
    try:
        app_cls = request.app.state.registry.resolve(task_request.app)
    except UnknownApp as exc:
        raise NotFound(str(exc)) from None
    _check(app_cls.Input, task_request.input, prefix="input", what=f"input for {app_id(app_cls)}")
    setup = task_request.setup
    if app_cls.Setup is not None:
        _check(app_cls.Setup, setup or {}, prefix="setup", what=f"setup for {app_id(app_cls)}")
    return app_cls, setup


def _check(model: type[BaseModel], value: Any, *, prefix: str, what: str) -> None:
    try:
        model.model_validate(value)
    except ValidationError as exc:
        raise Invalid.from_validation(exc, prefix=prefix, what=what) from None


def _submit_once(
    request: Request, key: str, task_request: RunTaskRequest, submit: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The same Idempotency-Key and request give the same task, whatever happened to the first answer."""
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise BadRequest(f"the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    store = request.app.state.store
    canonical = json.dumps(task_request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    body_hash = hashlib.sha256(canonical.encode()).hexdigest()
    found = store.find_idempotency_key(key)
    if found is not None:
        known_hash, task_id = found
        if known_hash != body_hash:
            raise Conflict(
                f"the Idempotency-Key {key!r} was already used for task {task_id} with a different body; "
                "use a new key for a new request",
                task_id=task_id,
            )
        return public_task(_engine(request).get(task_id), _base_url(request))
    task = submit()
    store.save_idempotency_key(key, body_hash, task["id"])
    return task


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def get_task(request: Request) -> JSONResponse:
    return JSONResponse(public_task(_engine(request).get(request.path_params["task_id"]), _base_url(request)))


async def get_task_status(request: Request) -> JSONResponse:
    row = _engine(request).get(request.path_params["task_id"])
    return JSONResponse({"id": row.id, "status": row.status, "updated_at": row.updated_at})


async def cancel_task(request: Request) -> JSONResponse:
    row = _engine(request).cancel(request.path_params["task_id"])
    return JSONResponse({"id": row.id, "status": row.status, "cancelled": True})


async def stream_task(request: Request) -> StreamingResponse:
    engine = _engine(request)
    task_id = request.path_params["task_id"]
    engine.get(task_id)  # a 404 now, before the stream starts

    async def texts():
        async for task in engine.watch(task_id, base_url=_base_url(request), idle=streaming.KEEP_ALIVE_SECONDS):
            yield None if task is None else json.dumps(task)

    return json_stream(request, texts(), event="task")


async def list_tasks(request: Request) -> JSONResponse:
    limit = query_int(request, "limit", 20, low=1, high=100)
    cursor = query_cursor(request, "use next_cursor from a page")
    rows, next_seq = request.app.state.store.list_tasks(
        limit=limit, before_seq=cursor, app=request.query_params.get("app")
    )
    return JSONResponse(
        {
            "tasks": [public_task(r, _base_url(request)) for r in rows],
            "next_cursor": str(next_seq) if next_seq is not None else None,
        }
    )


async def list_apps(request: Request) -> JSONResponse:
    return JSONResponse({"apps": request.app.state.registry.describe()})


async def get_session(request: Request) -> JSONResponse:
    session_id = request.path_params["session_id"]
    try:
        return JSONResponse(_engine(request).sessions.describe(session_id))
    except KeyError:
        raise NotFound(f"no session {session_id!r}") from None


async def end_session(request: Request) -> JSONResponse:
    sessions = _engine(request).sessions
    session_id = request.path_params["session_id"]
    try:
        session = sessions.get(session_id)
    except KeyError:
        raise NotFound(f"no session {session_id!r}") from None
    except SessionEnded as ended:
        raise Gone(str(ended)) from None
    await sessions.end(session, "ended by request")
    return JSONResponse(sessions.describe(session_id))


async def get_file(request: Request) -> FileResponse:
    task_id, filename = request.path_params["task_id"], request.path_params["filename"]
    found = request.app.state.store.get_file(task_id, filename)
    if found is None:
        raise NotFound(f"task {task_id!r} has no file {filename!r}")
    path = task_files_dir(request.app.state.config.data_dir, task_id) / filename
    return FileResponse(path, media_type=found["content_type"], content_disposition_type="inline", filename=filename)


ROUTES = [
    Route("/run", run_task, methods=["POST"]),
    Route("/apps/run", run_task, methods=["POST"]),
    Route("/apps", list_apps, methods=["GET"]),
    Route("/tasks", list_tasks, methods=["GET"]),
    Route("/tasks/{task_id}", get_task, methods=["GET"]),
    Route("/tasks/{task_id}/status", get_task_status, methods=["GET"]),
    Route("/tasks/{task_id}/cancel", cancel_task, methods=["POST"]),
    Route("/tasks/{task_id}/stream", stream_task, methods=["GET"]),
    Route("/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/sessions/{session_id}", end_session, methods=["DELETE"]),
    Route("/files/{task_id}/{filename}", get_file, methods=["GET"]),
]
