"""Files sent as task input, without network I/O: what to upload, the two requests that upload
it, and the input with each file replaced by the URI the server gave it.

An upload is `POST /files {"files": [{uri: "", filename, content_type, path, size, public}]}`,
answered with file objects that carry an `upload_url`; the bytes are then PUT to that URL
without the key (it is presigned, and may be on another origin), and the object's `uri` is
what an input names.

In a task's input, `pathlib.Path` objects and PIL images are uploaded first (hosted dialect:
also `data:` URIs, as the hosted service's SDK does). A plain string is never read as a path:
a prompt that happens to name a local file must not send that file anywhere.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .core import headers, unwrap
from .errors import BadResponse, InvalidRequest
from .profile import Profile

OCTET_STREAM = "application/octet-stream"
DATA_URI = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,")

InputPath = tuple[str | int, ...]
"""Where a value sits in an input: its keys and list indices from the top."""


@dataclass(frozen=True)
class Upload:
    """The bytes of one file to upload, with its name and media type."""

    content: bytes = field(repr=False)
    filename: str | None
    content_type: str


Found = tuple[InputPath, Upload]
"""A file found in an input, and where."""


def is_image(value: Any) -> bool:
    """Whether `value` is a PIL image (told without importing PIL)."""
    return type(value).__module__.startswith("PIL.") and callable(getattr(value, "save", None))


def to_upload(
    data: Any, *, filename: str | None = None, content_type: str | None = None, field: str = "data"
) -> Upload:
    """The file `data` stands for, read now.

    Args:
        data: a local path (`str` or `pathlib.Path`), a `data:` URI, bytes, a PIL image (saved as
            PNG), or an `Upload` (returned as it is).
        filename: the name the server keeps (default: the path's name, "image.png" for an image).
        content_type: its media type (default: guessed from the name, else application/octet-stream).
        field: what `data` is called in messages ("input.image").

    Raises:
        InvalidRequest: no file at the path, a malformed data URI, an image PNG cannot hold, or
            `data` is none of these.
    """
    if isinstance(data, Upload):
        return data
    if isinstance(data, str) and data.startswith("data:"):
        content, given = _data_uri(data, field)
        return Upload(content, filename, content_type or given or OCTET_STREAM)
    if isinstance(data, str | Path):
        path = Path(data).expanduser()
        if not path.is_file():
            raise InvalidRequest(f"{field}: no file at {str(path)!r}", field=field)
        try:
            content = path.read_bytes()
        except OSError as error:
            raise InvalidRequest(f"{field}: could not read {str(path)!r}: {error.strerror}", field=field) from None
        name = filename or path.name
        return Upload(content, name, content_type or mimetypes.guess_type(name)[0] or OCTET_STREAM)
    if isinstance(data, bytes | bytearray | memoryview):
        guessed = mimetypes.guess_type(filename)[0] if filename else None
        return Upload(bytes(data), filename, content_type or guessed or OCTET_STREAM)
    if is_image(data):
        buffer = io.BytesIO()
        try:
            data.save(buffer, format="PNG")
        except (OSError, ValueError) as error:  # a mode PNG cannot hold (CMYK…)
            raise InvalidRequest(f"{field}: the image cannot be saved as PNG ({error}); convert it first",
                                 field=field) from None  # fmt: skip
        return Upload(buffer.getvalue(), filename or "image.png", content_type or "image/png")
    raise InvalidRequest(
        f"{field}: expected a file path, a data: URI, bytes or a PIL image, not {type(data).__name__}", field=field
    )


def _data_uri(uri: str, field: str) -> tuple[bytes, str | None]:
    match = DATA_URI.match(uri)
    if match is None:
        raise InvalidRequest(f"{field}: a data: URI must look like data:<type>;base64,<data>", field=field)
    payload = uri[match.end() :]
    try:
        content = base64.b64decode(payload, validate=True) if match["b64"] else payload.encode()
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"{field}: the data: URI's base64 does not decode", field=field) from None
    return content, match["type"]


def files_in(value: Any, *, data_uris: bool, at: InputPath = ("input",)) -> list[Found]:
    """Every file in an input, read now, with where it sits; nested objects and lists are searched.

    Args:
        value: the input.
        data_uris: also take `data:` URI strings for files (the hosted dialect does).
        at: where `value` sits (its field names start with it).

    Raises:
        InvalidRequest: a path with no file behind it, or a malformed data URI (the field named).
    """
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in files_in(item, data_uris=data_uris, at=(*at, key))]
    if isinstance(value, list | tuple):
        return [found for i, item in enumerate(value) for found in files_in(item, data_uris=data_uris, at=(*at, i))]
    data_uri = data_uris and isinstance(value, str) and value.startswith("data:")
    if isinstance(value, Path) or is_image(value) or data_uri:
        return [(at, to_upload(value, field=field_name(at)))]
    return []


def field_name(at: InputPath) -> str:
    """`("input", "images", 0)` as "input.images.0", the way the server names fields."""
    return ".".join(str(part) for part in at)


def replaced(value: Any, values: dict[InputPath, Any], at: InputPath = ("input",)) -> Any:
    """A copy of an input with the value at each path of `values` replaced (the rest shared)."""
    if at in values:
        return values[at]
    if isinstance(value, dict):
        return {key: replaced(item, values, (*at, key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [replaced(item, values, (*at, i)) for i, item in enumerate(value)]
    return value


class FilesCore:
    """The two requests of an upload, and reading their answers; sends nothing.

    Args:
        profile: the tasks server (its URL, key and dialect).
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    def create(self, upload: Upload, *, public: bool | None = None) -> httpx.Request:
        """`POST /files`, announcing one file (with the key and the dialect, as every tasks request).

        Args:
            upload: the file (its name, media type and size are announced, not its bytes).
            public: whether the file may be read without the key (None: the server's default).
        """
        entry = {"uri": "", "filename": upload.filename, "content_type": upload.content_type, "path": None,
                 "size": len(upload.content), "public": public}  # fmt: skip
        return httpx.Request(
            "POST", self.profile.base_url + "/files", content=json.dumps({"files": [entry]}),
            headers={**headers(self.profile), "content-type": "application/json"},
        )  # fmt: skip

    def created(self, body: Any) -> dict[str, Any]:
        """The file object of a `POST /files` answer (a list of them, or `{"files": [...]}`).

        Raises:
            BadResponse: no file object with a `uri` and an `upload_url`.
        """
        body = unwrap(body)
        files = body.get("files") if isinstance(body, dict) else body
        first = files[0] if isinstance(files, list) and files else None
        if not isinstance(first, dict) or not first.get("uri") or not isinstance(first.get("upload_url"), str):
            raise BadResponse("the files answer has no file object with a uri and an upload_url")
        return first

    def put(self, file: dict[str, Any], upload: Upload) -> httpx.Request:
        """`PUT` the bytes to the file's `upload_url`, with no key (a presigned URL, maybe elsewhere).

        Raises:
            BadResponse: the upload URL is not an http(s) URL.
        """
        url = httpx.URL(self.profile.base_url + "/").join(file["upload_url"])
        if url.scheme not in ("http", "https"):
            raise BadResponse(f"the upload URL is not an http(s) URL (scheme {url.scheme!r})")
        return httpx.Request("PUT", url, content=upload.content, headers={"content-type": upload.content_type})
