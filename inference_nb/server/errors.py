"""Every error the server answers with, and the one handler that shapes them.

    ApiError                      {"error": {"code", "message", "details"?}}
    ├── BadRequest        400     malformed JSON, a bad query parameter
    ├── Unauthorized      401     missing or wrong token
    ├── NotFound          404     unknown task, app, session, file or route
    ├── Conflict          409     cancel of a finished task, idempotency key reuse
    ├── Gone              410     an ended or expired session
    ├── PayloadTooLarge   413
    └── Invalid           422     a body that does not fit the schema (details per field)

Anything else is a bug of ours: a 500 with a generic message and the
traceback in the server log, never in the body.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

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


class BadRequest(ApiError):
    status_code, code = 400, "bad_request"


class Unauthorized(ApiError):
    status_code, code = 401, "unauthorized"


class NotFound(ApiError):
    status_code, code = 404, "not_found"


class Conflict(ApiError):
    status_code, code = 409, "conflict"


class Gone(ApiError):
    status_code, code = 410, "gone"


class PayloadTooLarge(ApiError):
    status_code, code = 413, "payload_too_large"


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


def error_response(error: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


async def handle_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(NotFound(f"no such endpoint: {request.method} {request.url.path}"))
    if exc.status_code == 405:
        error = BadRequest(f"{request.method} is not allowed on {request.url.path}")
        error.status_code, error.code = 405, "method_not_allowed"
        return error_response(error)
    kind = _HTTP_CODES.get(exc.status_code, ApiError)
    error = kind(str(exc.detail))
    error.status_code = exc.status_code
    return error_response(error)


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    body = {"error": {"code": "internal_error", "message": "The server hit an internal error; see its log."}}
    return JSONResponse(body, status_code=500)


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
