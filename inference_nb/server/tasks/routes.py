"""The tasks API: run, get, status, cancel, stream, list, delete; apps, task files.

Each answer speaks a dialect (dialects.py): the spec's, or the hosted service's.
Sessions are in sessions_routes.py, uploads in uploads.py.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from inference_nb.wire.statuses import DIALECT_HEADER, Dialect
from inference_nb.wire.tasks import DEFAULT_FUNCTION, HostedRunTaskRequest, RunTaskRequest

from ..apps.base import app_functions
from ..apps.official.loader import UnknownVariant, with_variant
from ..apps.registry import UnknownApp, app_id
from ..dialects import answer_dialect, respond, route_dialect
from ..errors import BadRequest, Conflict, Invalid, NotFound
from ..requests import base_url, query_bool, query_cursor, query_int, read_model
from ..store import TaskRow
from ..streaming import json_stream, keep_alive
from ..webhooks import destination_refused
from .engine import TaskEngine
from .events_routes import ROUTES as EVENT_ROUTES
from .files import check_input_files, task_files_dir
from .hosted_routes import ROUTES as HOSTED_ROUTES
from .sessions_routes import ROUTES as SESSION_ROUTES
from .uploads import ROUTES as UPLOAD_ROUTES
from .views import TERMINAL, public_task, status_in
from .workers import ROUTES as WORKER_ROUTES

MAX_IDEMPOTENCY_KEY = 255


def _engine(request: Request) -> TaskEngine:
    return request.app.state.engine


async def run_task(request: Request) -> JSONResponse:
    # The route fixes the task's dialect and what the request means; the header only how it is answered.
    created_in = route_dialect(request.method, request.url.path)
    dialect = answer_dialect(request, created_in.value)
    wait = query_bool(request, "wait", created_in is Dialect.SPEC)  # the hosted service answers at once
    model = HostedRunTaskRequest if created_in is Dialect.HOSTED else RunTaskRequest
    task_request = await read_model(
        request, model, limit=request.app.state.config.max_body_bytes, what="with app and input"
    )
    function = getattr(task_request, "function", None) or DEFAULT_FUNCTION
    app_cls, setup, input_files = _validate_submission(request, task_request, function)
    engine = _engine(request)

    def submit() -> TaskRow:
        return engine.submit(
            task_request,
            app_cls,
            base_url=base_url(request),
            setup=setup,
            dialect=created_in,
            function=function,
            input_files=input_files,
        )

    key = request.headers.get("idempotency-key")
    row = submit() if key is None else _submit_once(request, key, task_request, submit)
    if wait:
        row = await engine.wait(row.id)
    return respond(public_task(row, base_url(request), dialect), dialect)


def _validate_submission(
    request: Request, task_request: RunTaskRequest, function: str
) -> tuple[Any, dict | None, list[tuple[str, str]]]:
    """The app the request names, its setup and the stored files its input names, once all fit."""
    try:
        app_cls = request.app.state.registry.resolve(task_request.app)
    except UnknownApp as exc:
        raise NotFound(str(exc)) from None
    try:
        app_cls = with_variant(app_cls, task_request.variant)
    except UnknownVariant as exc:
        raise Invalid(f"Invalid request: variant: {exc}", details=[{"field": "variant", "message": str(exc)}]) from None
    if task_request.infra == "cloud":
        why = 'the embedded server has only private infrastructure (its own workers): send "private" or leave it out'
        raise Invalid(f"Invalid request: infra: {why}", details=[{"field": "infra", "message": why}])
    _engine(request).workers.check(task_request.workers)
    if task_request.webhook is not None:
        refused = destination_refused(task_request.webhook, request.app.state.config.webhook_hosts)
        if refused is not None:
            raise Invalid(f"Invalid request: webhook: {refused}", details=[{"field": "webhook", "message": refused}])
    functions = app_functions(app_cls)
    if function not in functions:
        raise Invalid(
            f"app {app_id(app_cls)} has no function {function!r}; its functions: {', '.join(functions)}",
            details=[{"field": "function", "message": f"not a function of {app_id(app_cls)}"}],
        )
    what = f"input for {app_id(app_cls)}" + ("" if function == DEFAULT_FUNCTION else f":{function}")
    app_input = _check(functions[function].Input, task_request.input, prefix="input", what=what)
    setup = task_request.setup
    if app_cls.Setup is not None:
        _check(app_cls.Setup, setup or {}, prefix="setup", what=f"setup for {app_id(app_cls)}")
    input_files, problems = check_input_files(app_input, request.app.state.store)
    if problems:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise Invalid(f"Invalid {what}: {summary}", details=problems)
    return app_cls, setup, input_files


def _check(model: type[BaseModel], value: Any, *, prefix: str, what: str) -> BaseModel:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise Invalid.from_validation(exc, prefix=prefix, what=what) from None


def _submit_once(request: Request, key: str, task_request: RunTaskRequest, submit: Callable[[], TaskRow]) -> TaskRow:
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
        return _engine(request).get(task_id)
    row = submit()
    store.save_idempotency_key(key, body_hash, row.id)
    return row


def _task(request: Request) -> tuple[TaskRow, Dialect]:
    """The task of the path, and the dialect to show it in (its own unless the header says otherwise)."""
    answer_dialect(request)  # a 404 for an unknown task speaks the header's or the route's dialect
    row = _engine(request).get(request.path_params["task_id"])
    return row, answer_dialect(request, row.dialect)


async def get_task(request: Request) -> JSONResponse:
    row, dialect = _task(request)
    return respond(public_task(row, base_url(request), dialect), dialect)


async def get_task_status(request: Request) -> JSONResponse:
    row, dialect = _task(request)
    return respond({"id": row.id, "status": status_in(dialect, row.status), "updated_at": row.updated_at}, dialect)


async def cancel_task(request: Request) -> JSONResponse:
    row, dialect = _task(request)
    row = _engine(request).cancel(row.id, dialect)
    return respond({"id": row.id, "status": status_in(dialect, row.status), "cancelled": True}, dialect)


async def stream_task(request: Request) -> Response:
    """NDJSON lines (or SSE), each a bare task object in either dialect: the SDK reads them unwrapped.

    SSE events are unnamed, as the hosted service sends them: an EventSource's `onmessage` (the JS
    SDK's `streamTask`) fires only for those, never for a named event."""
    row, dialect = _task(request)

    async def texts():
        async for task in _engine(request).watch(
            row.id, base_url=base_url(request), dialect=dialect, idle=keep_alive(request)
        ):
            yield None if task is None else json.dumps(task)

    response = json_stream(request, texts(), event=None)
    response.headers[DIALECT_HEADER] = dialect.value
    return response


async def list_tasks(request: Request) -> JSONResponse:
    """One dialect for the whole page (the header's, else spec), whichever route made each task."""
    dialect = answer_dialect(request)
    limit = query_int(request, "limit", 20, low=1, high=100)
    cursor = query_cursor(request, "use next_cursor from a page")
    rows, next_seq = request.app.state.store.list_tasks(
        limit=limit, before_seq=cursor, app=request.query_params.get("app")
    )
    page = {
        "tasks": [public_task(r, base_url(request), dialect) for r in rows],
        "next_cursor": str(next_seq) if next_seq is not None else None,
    }
    return respond(page, dialect)


async def delete_task(request: Request) -> Response:
    """A finished task goes; with ?files=true its output files and the uploads it read go too."""
    row, dialect = _task(request)
    if row.status not in TERMINAL:
        raise Conflict(f"task {row.id} is still in progress; cancel it first, then delete it")
    files = query_bool(request, "files", False)
    if files:
        _delete_files(request, row, role=None)
    request.app.state.store.delete_task(row.id)
    return Response(status_code=204, headers={DIALECT_HEADER: dialect.value})


async def task_files(request: Request) -> JSONResponse:
    row, dialect = _task(request)
    return respond(_files_of(request, row, _role(request)), dialect)


async def delete_task_files(request: Request) -> JSONResponse:
    row, dialect = _task(request)
    if row.status not in TERMINAL:
        raise Conflict(f"task {row.id} is still in progress; its files are deleted once it has ended")
    deleted = _delete_files(request, row, role=_role(request))
    return respond({"deleted": deleted, "skipped": []}, dialect)


def _role(request: Request) -> str | None:
    role = request.query_params.get("role") or None
    if role not in (None, "input", "output"):
        raise Invalid(f"query parameter role must be input or output, not {role!r}")
    return role


def _files_of(request: Request, row: TaskRow, role: str | None) -> list[dict[str, Any]]:
    """The task's files as the hosted service lists them: {id, role, uri, filename, content_type, size}."""
    store, base = request.app.state.store, base_url(request)
    owned = [("input", owner, name) for owner, name in store.task_inputs(row.id)]
    owned += [("output", row.id, f["filename"]) for f in store.files_of(row.id)]
    listed = []
    for file_role, owner, name in owned:
        known = store.get_file(owner, name)
        if known is None or role not in (None, file_role):
            continue
        listed.append(
            {
                "id": f"{owner}/{name}",
                "role": file_role,
                "uri": f"{base}/files/{owner}/{name}",
                "filename": name,
                "content_type": known["content_type"],
                "size": known["size"],
                "created_at": row.created_at,
            }
        )
    return listed


def _delete_files(request: Request, row: TaskRow, role: str | None) -> list[str]:
    """Delete the task's files (even when another task also used them, as the hosted service does)."""
    store, data_dir = request.app.state.store, request.app.state.config.data_dir
    deleted = []
    for file in _files_of(request, row, role):
        owner = file["id"].split("/", 1)[0]
        if owner.startswith("file_"):
            store.delete_upload(owner)
        else:
            store.delete_files(owner)
        shutil.rmtree(task_files_dir(data_dir, owner), ignore_errors=True)
        deleted.append(file["id"])
    return deleted


async def list_apps(request: Request) -> JSONResponse:
    dialect = answer_dialect(request)
    return respond({"apps": request.app.state.registry.describe()}, dialect)


async def get_file(request: Request) -> FileResponse:
    dialect = answer_dialect(request)
    task_id, filename = request.path_params["task_id"], request.path_params["filename"]
    found = request.app.state.store.get_file(task_id, filename)
    if found is None:
        raise NotFound(f"no file {filename!r} under {task_id!r}")
    path = task_files_dir(request.app.state.config.data_dir, task_id) / filename
    return FileResponse(
        path,
        media_type=found["content_type"],
        content_disposition_type="inline",
        filename=filename,
        headers={DIALECT_HEADER: dialect.value},
    )


ROUTES = [
    Route("/run", run_task, methods=["POST"]),
    Route("/apps/run", run_task, methods=["POST"]),
    Route("/apps", list_apps, methods=["GET"]),
    Route("/tasks", list_tasks, methods=["GET"]),
    *HOSTED_ROUTES,
    *EVENT_ROUTES,
    Route("/tasks/{task_id}", get_task, methods=["GET"]),
    Route("/tasks/{task_id}", delete_task, methods=["DELETE"]),
    Route("/tasks/{task_id}/status", get_task_status, methods=["GET"]),
    Route("/tasks/{task_id}/cancel", cancel_task, methods=["POST"]),
    Route("/tasks/{task_id}/stream", stream_task, methods=["GET"]),
    Route("/tasks/{task_id}/files", task_files, methods=["GET"]),
    Route("/tasks/{task_id}/files", delete_task_files, methods=["DELETE"]),
    Route("/files/{task_id}/{filename}", get_file, methods=["GET"]),
    *SESSION_ROUTES,
    *UPLOAD_ROUTES,
    *WORKER_ROUTES,
]
