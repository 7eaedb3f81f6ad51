"""Reading requests safely: size limits, strict JSON, query parameters."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from .errors import BadRequest, Invalid, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)


async def read_json(request: Request, *, limit: int, empty: Any = None) -> Any:
    """The body as JSON, refusing what JSON does not allow (NaN, lone surrogates); `empty` (when
    not None) stands for an empty body, else an empty body is refused."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {int(declared)} bytes; the limit is {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
    if not body.strip():
        if empty is not None:
            return empty
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except UnicodeError:
        raise BadRequest("the body is not valid UTF-8 JSON (bad bytes or a lone surrogate in a string)") from None
    except RecursionError:
        raise BadRequest("the body is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    return value


async def read_model(request: Request, model: type[M], *, limit: int, what: str, optional: bool = False) -> M:
    """The body as `model`; anything else is a 4xx naming the field and what was expected.
    With `optional`, an empty body is `{}` (the model's defaults)."""
    body = await read_json(request, limit=limit, empty={} if optional else None)
    if not isinstance(body, dict):
        raise Invalid(f"the body must be a JSON object ({what}), not {type(body).__name__}")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise Invalid.from_validation(exc, what=f"request: expected a JSON object {what}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def query_bool(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise Invalid(f"query parameter {name} must be true or false, not {raw!r}")


def query_cursor(request: Request, hint: str) -> int | None:
    """A list cursor this server gave out (a row number), or None."""
    return read_cursor(request.query_params.get("cursor"), hint)


def read_cursor(raw: str | None, hint: str) -> int | None:
    """`raw` as a list cursor this server gave out (a row number); None when empty.

    Raises:
        BadRequest: anything else (`hint` says where cursors come from).
    """
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[0-9]{1,18}", raw):
        raise BadRequest(f"cursor {raw[:40]!r} is not one this server gave out ({hint})")
    return int(raw)


def query_int(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"query parameter {name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise Invalid(f"query parameter {name} must be between {low} and {high}, not {value}")
    return value


def base_url(request: Request) -> str:
    """The server's own URL, for the URLs it builds (file URIs, upload URLs): the public URL the
    host check put in place of the request's Host (see hosts.py), without a trailing slash."""
    return str(request.base_url).rstrip("/")
