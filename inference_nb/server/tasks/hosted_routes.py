"""Routes only the hosted service has, which its JS SDK calls: `POST /tasks/list`, `POST /apps/list`
and `GET /apps/{namespace}/{name}` (docs/ARCHITECTURE.md, "The two APIs").

Lists take the service's cursor list request (`{cursor?, page?, limit?, …}`; its filters, sorts and
the rest are not ours to honour and are ignored) and answer its cursor list response
`{items, next_cursor, prev_cursor, has_next, has_previous, items_per_page, total_items}`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from inference_nb.wire.statuses import Dialect

from ..apps.registry import UnknownApp
from ..dialects import answer_dialect, respond
from ..errors import NotFound
from ..requests import base_url, read_cursor, read_model
from .views import public_task

MAX_LIMIT = 100


class ListRequest(BaseModel):
    """The part of the hosted service's `CursorListRequest` this server reads."""

    model_config = ConfigDict(extra="allow")

    cursor: str | None = Field(default=None, description="next_cursor of the page before.")
    page: int | None = Field(default=None, ge=1, description="1 is the first page (when no cursor is given).")
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT, description="Items per page.")


async def _list_request(request: Request) -> ListRequest:
    return await read_model(
        request,
        ListRequest,
        limit=request.app.state.config.max_body_bytes,
        what="{cursor?, page?, limit?}",
        optional=True,  # the SDK sends no body when called without parameters
    )


def _cursor(raw: str | None) -> int | None:
    return read_cursor(raw, "use next_cursor from a page")


def _page(items: list[Any], *, next_cursor: str | None, listed: ListRequest, total: int) -> dict[str, Any]:
    return {
        "items": items,
        "next_cursor": next_cursor or "",
        "prev_cursor": "",
        "has_next": next_cursor is not None,
        "has_previous": bool(listed.cursor) or (listed.page or 1) > 1,
        "items_per_page": listed.limit,
        "total_items": total,
    }


async def list_tasks(request: Request) -> JSONResponse:
    """Newest first, each task in the answer's dialect (hosted unless a header asks for the spec)."""
    dialect = answer_dialect(request)
    listed = await _list_request(request)
    before = _cursor(listed.cursor)
    offset = 0 if before is not None else ((listed.page or 1) - 1) * listed.limit
    store = request.app.state.store
    rows, next_seq = store.list_tasks(limit=listed.limit, before_seq=before, app=None, offset=offset)
    items = [public_task(row, base_url(request), dialect) for row in rows]
    next_cursor = str(next_seq) if next_seq is not None else None
    return respond(_page(items, next_cursor=next_cursor, listed=listed, total=store.count_tasks()), dialect)


async def list_apps(request: Request) -> JSONResponse:
    """Each app once, at its newest version, as the service lists apps."""
    dialect = answer_dialect(request)
    listed = await _list_request(request)
    apps = [entry for entry in request.app.state.registry.describe() if entry["latest"]]
    start = _cursor(listed.cursor)
    start = start if start is not None else ((listed.page or 1) - 1) * listed.limit
    end = start + listed.limit
    items = [_app_view(entry, dialect) for entry in apps[start:end]]
    return respond(
        _page(items, next_cursor=str(end) if end < len(apps) else None, listed=listed, total=len(apps)), dialect
    )


async def get_app(request: Request) -> JSONResponse:
    """`GET /apps/{namespace}/{name}` (`name@version` for a version other than the newest)."""
    dialect = answer_dialect(request)
    wanted = f"{request.path_params['namespace']}/{request.path_params['name']}"
    registry = request.app.state.registry
    try:
        app_cls = registry.resolve(wanted)
    except UnknownApp as exc:
        raise NotFound(str(exc)) from None
    entry = next(e for e in registry.describe() if e["id"] == f"{app_cls.name}@{app_cls.version}")
    return respond(_app_view(entry, dialect), dialect)


def _app_view(entry: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """An app as `dialect` shows it: `GET /apps`'s entry (spec), or the service's app object, its
    `version` holding the schemas and functions (hosted)."""
    if dialect is Dialect.SPEC:
        return entry
    namespace, name = entry["name"].split("/", 1)
    return {
        "id": entry["name"],
        "namespace": namespace,
        "name": name,
        "title": name,
        "description": entry["description"],
        "version_id": entry["id"],
        "version": {
            "id": entry["id"],
            "metadata": {"version": entry["version"]},
            "setup_schema": entry["setup_schema"],
            "input_schema": entry["input_schema"],
            "output_schema": entry["output_schema"],
            "functions": {function["name"]: function for function in entry["functions"]},
            "default_function": "run",
        },
    }


ROUTES = [
    Route("/tasks/list", list_tasks, methods=["POST"]),
    Route("/apps/list", list_apps, methods=["POST"]),
    Route("/apps/{namespace}/{name}", get_app, methods=["GET"]),
]
