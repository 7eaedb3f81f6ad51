"""Which dialect of the tasks API an answer speaks, and the answer's shape in it.

See docs/ARCHITECTURE.md, "The two APIs". In short: a request's `Inference-Dialect`
header wins; else the task's own dialect (the route that created it); else the
route's (`POST /apps/run` and the routes only the hosted service has speak hosted,
everything else spec). Hosted answers wrap their value in `{"data": …}`.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from inference_nb.wire.statuses import DIALECT_HEADER, Dialect


class BadDialectHeader(ValueError):
    """The `Inference-Dialect` header names no dialect (the error handler answers it as a 400)."""


# (method or None for any, path pattern) of the routes that exist only in the hosted service's API.
_HOSTED_ROUTES = [
    ("POST", re.compile(r"/apps/run")),
    ("POST", re.compile(r"/apps/list")),
    (None, re.compile(r"/apps/[^/]+/.+")),  # an app by name, and the rest of the hosted apps API
    ("POST", re.compile(r"/tasks/list")),
    (None, re.compile(r"/files")),
    (None, re.compile(r"/uploads/[^/]+/[^/]+")),
    ("GET", re.compile(r"/sessions")),
    ("POST", re.compile(r"/sessions/[^/]+/keepalive")),
    (None, re.compile(r"/tasks/[^/]+/files")),
    ("DELETE", re.compile(r"/tasks/[^/]+")),
]


def route_dialect(method: str, path: str) -> Dialect:
    """The dialect a route speaks when nothing else decides."""
    for wanted, pattern in _HOSTED_ROUTES:
        if (wanted is None or wanted == method) and pattern.fullmatch(path):
            return Dialect.HOSTED
    return Dialect.SPEC


def requested_dialect(conn: HTTPConnection) -> Dialect | None:
    """The dialect the request's header asks for, or None.

    Raises:
        BadDialectHeader: the header names no dialect.
    """
    raw = conn.headers.get(DIALECT_HEADER)
    if raw is None:
        return None
    try:
        return Dialect(raw.strip().lower())
    except ValueError:
        raise BadDialectHeader(f"the {DIALECT_HEADER} header must be spec or hosted, not {raw[:40]!r}") from None


def answer_dialect(conn: HTTPConnection, stored: str | None = None) -> Dialect:
    """The dialect of this answer: the header's, else `stored` (a task's), else the route's.

    Remembered on the request, so that an error raised later speaks it too.
    """
    dialect = requested_dialect(conn) or (Dialect(stored) if stored else None)
    dialect = dialect or route_dialect(conn.scope["method"], conn.url.path)
    conn.state.dialect = dialect
    if stored:
        conn.state.stored_dialect = True  # the answer is about a task: its dialect is known
    return dialect


def error_dialect(conn: HTTPConnection) -> Dialect:
    """The dialect of an error answer; never raises (a bad header falls back to the route's)."""
    try:
        requested = requested_dialect(conn)
    except BadDialectHeader:
        requested = None
    return requested or getattr(conn.state, "dialect", None) or route_dialect(conn.scope["method"], conn.url.path)


_SHARED_ROUTES = re.compile(r"/tasks(/.*)?|/sessions/[^/]+|/apps|/files/.*")


def unknown_caller(conn: HTTPConnection) -> bool:
    """True when nothing tells which dialect the caller speaks: no header, no task found (yet), and a
    route that the spec and the hosted service share (`GET /tasks/{id}` of an unknown task, a 401),
    or no route at all outside the hosted service's paths (no such endpoint)."""
    if DIALECT_HEADER.lower() in (k.lower() for k in conn.headers.keys()):
        return False
    if getattr(conn.state, "stored_dialect", False):
        return False
    if getattr(conn.state, "no_route", False):  # no such endpoint: no route to say who asks
        return route_dialect(conn.scope["method"], conn.url.path) is Dialect.SPEC
    return bool(_SHARED_ROUTES.fullmatch(conn.url.path))


def respond(body: Any, dialect: Dialect, *, status_code: int = 200) -> JSONResponse:
    """`body` as this dialect answers it: as is (spec) or as `{"data": body}` (hosted)."""
    content = {"data": body} if dialect is Dialect.HOSTED else body
    return JSONResponse(content, status_code=status_code, headers={DIALECT_HEADER: dialect.value})
