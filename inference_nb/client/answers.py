"""Reading answers, without I/O: an error answer to the exception of the tree, and the hosted
dialect's envelope to what it wraps.

Error bodies come in three shapes, all read here:

    {"error": {"code", "message", "details"?: [{"field", "message"}]}}     the documents' format
    {"type", "title", "status", "detail", "errors"?: [{"field", "message"}]}  RFC 9457 problem+json
    {"errors": [{"type", "key", "message", "action"?}]}  with 412           unmet requirements
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from .errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimited,
    RequirementsNotMet,
    ServerError,
    StatusError,
)

log = logging.getLogger("inference_nb.client")


def unwrap(body: Any) -> Any:
    """What a hosted `{"data": …, "messages": [...]}` envelope wraps; any other body as it is.

    A task object (it has an `id` or a `status`) is never taken for an envelope, whatever its
    fields. The envelope's messages are logged (logger "inference_nb.client", level info).
    """
    if not isinstance(body, dict) or "data" not in body or "id" in body or "status" in body:
        return body
    for message in body.get("messages") or ():
        log.info("the server says: %s", message.get("message", message) if isinstance(message, dict) else message)
    return body["data"]


@dataclass(frozen=True)
class Problem:
    """What an error body says, whichever of its shapes it came in."""

    message: str
    code: str | None = None
    field_errors: dict[str, str] = field(default_factory=dict)
    requirements: tuple[dict[str, Any], ...] = ()


def read_problem(response: httpx.Response) -> Problem:
    """The message, code, field errors and unmet requirements of an error answer."""
    try:
        body = response.json()
    except ValueError:
        return Problem(response.text.strip()[:300] or response.reason_phrase)
    if not isinstance(body, dict):
        return Problem(json.dumps(body)[:300])
    error = body.get("error")
    if isinstance(error, dict):  # the documents' format
        code = error.get("code")
        return Problem(str(error.get("message") or error), code if isinstance(code, str) else None,
                       _field_errors(error.get("details")))  # fmt: skip
    if isinstance(error, str):
        return Problem(error)
    fields = _field_errors(body.get("errors"))
    listed = body.get("errors") if isinstance(body.get("errors"), list) else []
    requirements = tuple(e for e in listed if isinstance(e, dict) and "field" not in e)
    texts = [body.get(k) for k in ("detail", "title", "message")]
    message = next((t for t in texts if isinstance(t, str) and t.strip()), None)
    if message is None and requirements:
        message = "; ".join(str(r.get("message") or r.get("key") or r) for r in requirements)
    return Problem(message or json.dumps(body)[:300], _problem_code(body), fields, requirements)


def _field_errors(items: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(item.get("field"), str):
            message = str(item.get("message") or "invalid")
            found[item["field"]] = f"{found[item['field']]}; {message}" if item["field"] in found else message
    return found


def _problem_code(body: dict[str, Any]) -> str | None:
    """The error code of a problem: the last segment of its `type` URI (".../errors/not_found")."""
    kind = body.get("type")
    if isinstance(kind, str) and kind and kind != "about:blank":
        return kind.rstrip("/").rsplit("/", 1)[-1] or None
    code = body.get("code")
    return code if isinstance(code, str) else None


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a `Retry-After` header (a number or an HTTP date); None when unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def raise_for_response(response: httpx.Response, *, run_id: str | None = None) -> None:
    """Raise the exception of the tree that an error answer stands for, with the server's own message.

    The message names each field the server refused (`field_errors` has them by field), and
    never the request's query (where a presigned URL keeps its signature) or the key.

    Args:
        response: the answer (a success returns None).
        run_id: the task or run the request was about, carried by the error.

    Raises:
        AuthenticationError: 401 / 403.
        NotFoundError: 404.
        ConflictError: 409 / 410.
        RequirementsNotMet: 412 listing unmet requirements (secrets, credentials, scopes).
        RateLimited: 429 (with the Retry-After seconds, when readable).
        ServerError: 5xx.
        StatusError: any other error status.
    """
    if response.is_success:
        return
    problem = read_problem(response)
    path = response.request.url.raw_path.decode("ascii").partition("?")[0]  # as sent, ids escaped
    text = f"{response.request.method} {path} answered {response.status_code}: {problem.message}"
    unnamed = [f"{name}: {message}" for name, message in problem.field_errors.items() if name not in problem.message]
    if unnamed:
        text += f" ({'; '.join(unnamed)})"
    status = response.status_code
    kw: dict[str, Any] = {"status_code": status, "code": problem.code, "field_errors": problem.field_errors}
    if status in (401, 403):  # without a key sent (a presigned upload URL), the URL's signature was refused
        hint = " (check the key for this server)" if "authorization" in response.request.headers else ""
        raise AuthenticationError(text + hint, **kw)
    if status == 404:
        raise NotFoundError(text, run_id=run_id, **kw)
    if status in (409, 410):
        raise ConflictError(text, run_id=run_id, **kw)
    if status == 412 and problem.requirements:
        raise RequirementsNotMet(text, run_id=run_id, requirements=list(problem.requirements), **kw)
    if status == 429:
        raise RateLimited(text, run_id=run_id, retry_after=retry_after(response), **kw)
    if status >= 500:
        raise ServerError(text, run_id=run_id, **kw)
    raise StatusError(text, run_id=run_id, **kw)
