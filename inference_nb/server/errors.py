"""Every error the server answers with, and the one handler that shapes them.

In the spec dialect an error is `{"error": {"code", "message", "details"?}}`; in the
hosted one an RFC 9457 problem (application/problem+json): `{type, title, status,
detail, errors?: [{field, message}]}`, `type` ending in `/errors/<code>`.
Which one: `dialects.error_dialect` (docs/ARCHITECTURE.md, "The two APIs").

    ApiError
    ├── BadRequest        400     malformed JSON, a bad query parameter or header
    ├── Unauthorized      401     missing or wrong token
    ├── Forbidden         403     an upload URL whose signature is wrong or expired
    ├── NotFound          404     unknown task, app, session, file or route
    ├── Conflict          409     cancel of a finished task, idempotency key reuse
    ├── Gone              410     an ended or expired session
    ├── PayloadTooLarge   413
    ├── Invalid           422     a body that does not fit the schema (details per field)
    └── InsufficientStorage 507   the data dir's disk is full, or the storage quota is used up

Anything else is a bug of ours: a 500 with a generic message and the
traceback in the server log, never in the body.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import JSONResponse

from inference_nb.wire.statuses import DIALECT_HEADER, Dialect

from .dialects import BadDialectHeader, error_dialect, unknown_caller
from .disk import DiskFull

log = logging.getLogger("inference_nb.server")


class ApiError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.extra = extra

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, **self.extra}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 problem the hosted dialect answers with."""
        problem: dict[str, Any] = {
            "type": f"/errors/{self.code}",
            "title": HTTPStatus(self.status_code).phrase,
            "status": self.status_code,
            "detail": self.message,
        }
        # Extras keep their meaning under names the problem's own members do not use.
        problem.update({("task_status" if k == "status" else k): v for k, v in self.extra.items()})
        if self.details:
            problem["errors"] = self.details
        return problem


class BadRequest(ApiError):
    status_code, code = 400, "bad_request"


class Unauthorized(ApiError):
    status_code, code = 401, "unauthorized"


class NotFound(ApiError):
    status_code, code = 404, "not_found"


class Forbidden(ApiError):
    status_code, code = 403, "forbidden"


class Conflict(ApiError):
    status_code, code = 409, "conflict"


class Gone(ApiError):
    status_code, code = 410, "gone"


class PayloadTooLarge(ApiError):
    status_code, code = 413, "payload_too_large"


class InsufficientStorage(ApiError):
    status_code, code = 507, "insufficient_storage"


class Invalid(ApiError):
    status_code, code = 422, "invalid_request"

    @classmethod
    def from_validation(cls, error: ValidationError, *, prefix: str = "", what: str = "request") -> Invalid:
        """One line per field: `input.width: Input should be less than or equal to 1024`."""
        details = []
        for item in error.errors(include_url=False, include_input=False):
            field = ".".join(str(part) for part in (prefix, *item["loc"]) if part != "")
            details.append({"field": field or "(body)", "message": item["msg"]})
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        more = f" (and {len(details) - 5} more)" if len(details) > 5 else ""
        return cls(f"Invalid {what}: {summary}{more}", details=details)


_HTTP_CODES = {404: NotFound, 405: BadRequest, 401: Unauthorized, 413: PayloadTooLarge}


def error_response(error: ApiError, dialect: Dialect | None = None, *, with_detail: bool = False) -> JSONResponse:
    """The error's answer: in `dialect` (the tasks API), or None for the runs API, which has one format."""
    headers = {DIALECT_HEADER: dialect.value} if dialect else {}
    if error.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if dialect is Dialect.HOSTED:
        return JSONResponse(
            error.problem(), status_code=error.status_code, headers=headers, media_type="application/problem+json"
        )
    body = {**error.body(), "detail": error.message} if with_detail else error.body()
    return JSONResponse(body, status_code=error.status_code, headers=headers)


def render_error(conn: HTTPConnection, error: ApiError) -> JSONResponse:
    """The one place an error becomes an answer, in the dialect the request speaks.

    When nothing says which dialect the caller speaks (no header, no task found, a route both
    share), the spec's body gets `detail` too: where the hosted service's clients read a message.
    """
    if conn.url.path.startswith("/clusters/"):  # the runs API: its document's format, whatever the header
        return error_response(error)
    dialect = error_dialect(conn)
    return error_response(error, dialect, with_detail=dialect is Dialect.SPEC and unknown_caller(conn))


async def handle_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return render_error(request, exc)


async def handle_bad_dialect(request: Request, exc: Exception) -> JSONResponse:
    return render_error(request, BadRequest(str(exc)))


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        request.state.no_route = True
    if exc.status_code == 404:
        return render_error(request, NotFound(f"no such endpoint: {request.method} {request.url.path}"))
    if exc.status_code == 405:
        error = BadRequest(f"{request.method} is not allowed on {request.url.path}")
        error.status_code, error.code = 405, "method_not_allowed"
        return render_error(request, error)
    kind = _HTTP_CODES.get(exc.status_code, ApiError)
    error = kind(str(exc.detail))
    error.status_code = exc.status_code
    return render_error(request, error)


async def handle_client_disconnect(request: Request, exc: Exception) -> JSONResponse:
    # The client left (or broke its framing) while we read its body: its loss, not our bug. One
    # debug line; the answer is never sent (uvicorn drops writes to a closed connection).
    log.debug("%s %s: the client went away before sending its whole body", request.method, request.url.path)
    return render_error(request, BadRequest("the request body ended early: the client disconnected"))


async def handle_disk_full(request: Request, exc: Exception) -> JSONResponse:
    return render_error(request, InsufficientStorage(str(exc)))


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    error = ApiError("The server hit an internal error; see its log.")
    error.status_code, error.code = 500, "internal_error"
    return render_error(request, error)


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    BadDialectHeader: handle_bad_dialect,
    HTTPException: handle_http_exception,
    ClientDisconnect: handle_client_disconnect,
    DiskFull: handle_disk_full,
    Exception: handle_unexpected,
}
