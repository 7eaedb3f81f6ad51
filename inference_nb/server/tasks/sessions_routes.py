"""The tasks API's sessions: get, end, and (hosted dialect) list and keepalive.

A session speaks the dialect of the task that started it, as a task speaks its creating route's
(docs/ARCHITECTURE.md, "The two APIs"): a session started through `POST /apps/run` is shown in the
hosted format by GET and DELETE too, unless a header asks for another.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from inference_nb.wire.statuses import Dialect

from ..dialects import answer_dialect, respond
from ..errors import Gone, NotFound
from .instances import Session, SessionEnded, SessionManager

MAX_LISTED = 100


def _sessions(request: Request) -> SessionManager:
    return request.app.state.engine.sessions


def _live(request: Request, session_id: str) -> Session:
    try:
        return _sessions(request).get(session_id)
    except KeyError:
        raise NotFound(f"no session {session_id!r}") from None
    except SessionEnded as ended:
        raise Gone(str(ended)) from None


def _view(request: Request, described: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """A session as `dialect` shows it: ours, plus the hosted service's names for the same facts."""
    if dialect is Dialect.SPEC:
        return described
    expired = described["status"] == "ended" and (described.get("end_reason") or "").startswith("expired")
    last = datetime.fromisoformat(described["last_used_at"].replace("Z", "+00:00"))
    expires = (last + timedelta(seconds=described["timeout"])).isoformat(timespec="milliseconds")
    return {
        **described,
        "app_id": described["app"],
        "status": "expired" if expired else described["status"],
        "idle_timeout": int(described["timeout"]),
        "expires_at": described["ended_at"] or expires.replace("+00:00", "Z"),
        "updated_at": described["last_used_at"],
        "last_call_at": described["last_used_at"],
        "call_count": request.app.state.store.count_session_calls(described["id"]),
    }


def _session_dialect(request: Request, session_id: str) -> Dialect:
    return answer_dialect(request, request.app.state.store.session_dialect(session_id))


async def get_session(request: Request) -> JSONResponse:
    session_id = request.path_params["session_id"]
    dialect = _session_dialect(request, session_id)
    try:
        described = _sessions(request).describe(session_id)
    except KeyError:
        raise NotFound(f"no session {session_id!r}") from None
    return respond(_view(request, described, dialect), dialect)


async def end_session(request: Request) -> JSONResponse:
    session_id = request.path_params["session_id"]
    dialect = _session_dialect(request, session_id)
    await _sessions(request).end(_live(request, session_id), "ended by request")
    return respond(_view(request, _sessions(request).describe(session_id), dialect), dialect)


async def keepalive_session(request: Request) -> JSONResponse:
    """Counts as a call for the idle timeout, without running anything."""
    dialect = answer_dialect(request)
    session_id = request.path_params["session_id"]
    _sessions(request).touch(_live(request, session_id))
    return respond(_view(request, _sessions(request).describe(session_id), dialect), dialect)


async def list_sessions(request: Request) -> JSONResponse:
    dialect = answer_dialect(request)
    sessions = _sessions(request)
    listed = [
        _view(request, sessions.describe(row["id"]), dialect)
        for row in request.app.state.store.list_sessions(limit=MAX_LISTED)
    ]
    return respond(listed, dialect)


ROUTES = [
    Route("/sessions", list_sessions, methods=["GET"]),
    Route("/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/sessions/{session_id}", end_session, methods=["DELETE"]),
    Route("/sessions/{session_id}/keepalive", keepalive_session, methods=["POST"]),
]
