"""Uploads: `POST /files` declares files and hands out upload URLs; a PUT to one stores the bytes.

The hosted service's SDK PUTs the bytes to the URL without auth (it is a presigned URL in
the hosted service), so each URL carries its own signature: an HMAC-SHA256, keyed by a key
derived from the server's secret, over the method, path and expiry. After the PUT the
file's `uri` works as an input (see files.py) and is served like an output file.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import os
import secrets
import time
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..dialects import answer_dialect, respond
from ..disk import DiskFull, check_room, disk_full_message, is_disk_full
from ..errors import Conflict, Forbidden, NotFound, PayloadTooLarge
from ..requests import base_url, read_model
from .files import safe_name, task_files_dir

UPLOAD_URL_SECONDS = 3600
"""How long an upload URL stays valid."""
MAX_UPLOAD_BYTES = 200 * 2**20
"""The largest file one upload takes."""
MAX_FILES_PER_REQUEST = 100


def upload_key(secret: str) -> bytes:
    """The key upload URLs are signed with, derived so that it signs nothing else (not webhooks)."""
    return hmac.new(secret.encode(), b"inference_nb upload urls", hashlib.sha256).digest()


def sign_upload(key: bytes, path: str, expires: int) -> str:
    return hmac.new(key, f"PUT\n{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def is_signed_upload(method: str, path: str) -> bool:
    """Whether a request is the PUT of an upload URL (its signature is checked by `put_upload`)."""
    return method == "PUT" and path.startswith("/uploads/")


class FileDeclaration(BaseModel):
    """One file of `POST /files`. The SDK sends `uri: ""`, `path` and `public` too; they are ignored,
    and so are fields a newer SDK may add (this route exists for the hosted service's clients)."""

    model_config = ConfigDict(extra="ignore")

    filename: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=255)
    size: int | None = Field(default=None, ge=0, le=MAX_UPLOAD_BYTES)


class CreateFilesRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    files: list[FileDeclaration] = Field(min_length=1, max_length=MAX_FILES_PER_REQUEST)


def _file_object(request: Request, upload: dict[str, Any], *, with_upload_url: bool) -> dict[str, Any]:
    name = quote(upload["filename"])
    file = {
        "id": upload["id"],
        "uri": f"{base_url(request)}/files/{upload['id']}/{name}",
        "filename": upload["filename"],
        "content_type": upload["content_type"],
        "size": upload["declared_size"],
        "created_at": upload["created_at"],
    }
    if with_upload_url:
        path = f"/uploads/{upload['id']}/{name}"
        expires = int(time.time()) + UPLOAD_URL_SECONDS
        signature = sign_upload(request.app.state.upload_key, path, expires)
        file["upload_url"] = f"{base_url(request)}{path}?expires={expires}&signature={signature}"
    return file


async def create_files(request: Request) -> JSONResponse:
    dialect = answer_dialect(request)
    body = await read_model(
        request, CreateFilesRequest, limit=request.app.state.config.max_body_bytes, what='with "files": [...]'
    )
    store = request.app.state.store
    check_room(request.app.state.config.data_dir)
    created = []
    for declared in body.files:
        filename = safe_name(declared.filename or "upload.bin")
        content_type = declared.content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        upload_id = f"file_{secrets.token_hex(12)}"
        store.save_upload(upload_id, filename, content_type, declared.size)
        created.append(_file_object(request, store.get_upload(upload_id), with_upload_url=True))
    return respond(created, dialect)


async def put_upload(request: Request) -> JSONResponse:
    dialect = answer_dialect(request)
    upload_id, filename = request.path_params["file_id"], request.path_params["filename"]
    _check_signature(request)
    store = request.app.state.store
    upload = store.get_upload(upload_id)
    if upload is None or upload["filename"] != filename:
        raise NotFound(f"no upload {upload_id!r} named {filename!r}; declare it with POST /files first")
    if upload["uploaded"]:
        raise Conflict(f"upload {upload_id} already has its bytes; declare a new file to upload again")
    limit = upload["declared_size"] if upload["declared_size"] is not None else MAX_UPLOAD_BYTES
    check_room(request.app.state.config.data_dir)
    quota = request.app.state.quota
    folder = task_files_dir(request.app.state.config.data_dir, upload_id)
    partial = folder / f".{filename}.{secrets.token_hex(4)}"
    size = reserved = 0

    def reserve_up_to(total: int) -> None:  # counted against the quota before it is written
        nonlocal reserved
        if total > reserved:
            quota.reserve(total - reserved)
            reserved = total

    try:
        reserve_up_to(upload["declared_size"] or 0)  # a declared size past the quota is refused before the body
        folder.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"the upload is larger than the {limit} bytes declared for it")
                reserve_up_to(size)
                await run_in_threadpool(out.write, chunk)  # a disk write must not hold up the event loop
        if upload["declared_size"] is not None and size != upload["declared_size"]:
            raise Conflict(f"the upload has {size} bytes but {upload['declared_size']} were declared")
        os.replace(partial, folder / filename)
        store.complete_upload(upload_id, size)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFull(disk_full_message(request.app.state.config.data_dir)) from exc
        raise
    finally:
        quota.release(reserved)
        partial.unlink(missing_ok=True)
    return respond(_file_object(request, {**upload, "declared_size": size}, with_upload_url=False), dialect)


def _check_signature(request: Request) -> None:
    """A wrong, missing or expired signature is a 403 that never says what the right one is."""
    expires, signature = request.query_params.get("expires", ""), request.query_params.get("signature", "")
    if not expires.isdigit() or not signature:
        raise Forbidden("this upload URL has no signature: use the upload_url POST /files answered with")
    expected = sign_upload(request.app.state.upload_key, request.url.path, int(expires))
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Forbidden("this upload URL's signature does not match: use the upload_url POST /files answered with")
    if int(expires) < time.time():
        raise Forbidden("this upload URL has expired; declare the file again with POST /files")


ROUTES = [
    Route("/files", create_files, methods=["POST"]),
    Route("/uploads/{file_id}/{filename}", put_upload, methods=["PUT"]),
]
