"""Files and images found in a result: where they are, and images held as bytes for the notebook.

Pure functions: the caller passes a `fetch` callable that already carries auth.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from PIL import Image

from .frames import to_plain

FILE_EXTENSIONS = tuple(".png .jpg .jpeg .gif .webp .svg .pdf .csv .json .txt .wav .mp3 .mp4".split())
SVG = "image/svg+xml"
# Formats every Jupyter front end shows from a mimebundle; others are converted to PNG for display.
NOTEBOOK_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")


@dataclass(frozen=True)
class FileRef:
    """A file found in an output; `field` is the dotted path to it (`image`, `more.0`; "" for the output itself)."""

    uri: str
    """Where to fetch it."""
    content_type: str | None
    """Its declared media type, else one guessed from its name, else None."""
    filename: str | None
    """Its declared name, else the last segment of its URL, else None."""
    size: int | None
    """Its declared size in bytes, or None."""
    field: str
    """The dotted path to it in the output."""


def _file_ref(obj: Any, field: str) -> FileRef | None:
    if isinstance(obj, dict) and isinstance(obj.get("uri"), str):
        uri, filename, content_type, size = obj["uri"], obj.get("filename"), obj.get("content_type"), obj.get("size")
    elif isinstance(obj, str) and urlsplit(obj).scheme in ("http", "https"):
        if not urlsplit(obj).path.lower().endswith(FILE_EXTENSIONS):
            return None  # an ordinary link in the output, not a produced file
        uri, filename, content_type, size = obj, None, None, None
    else:
        return None
    if not isinstance(filename, str) or not filename:
        filename = unquote(urlsplit(uri).path.rsplit("/", 1)[-1]) or None
    if not isinstance(content_type, str) or not content_type:
        content_type = mimetypes.guess_type(filename or uri)[0]
    if not isinstance(size, int) or isinstance(size, bool):
        size = None
    return FileRef(uri, content_type, filename, size, field)


def find_files(output: Any) -> list[FileRef]:
    """Every file in a task output, in document order.

    A file is an object with a string `uri`, or an http(s) URL string whose path ends in a known
    file extension (.png, .csv, .pdf…).

    Args:
        output: the output (JSON-shaped data or pydantic models).
    """
    found: list[FileRef] = []

    def walk(node: Any, field: str) -> None:
        ref = _file_ref(node, field)
        if ref is not None:
            found.append(ref)
            return
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            walk(child, f"{field}.{key}" if field else str(key))

    walk(to_plain(output), "")
    return found


def _size_text(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} kB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"


@dataclass(frozen=True, repr=False)
class InlineImage:
    """An image held as bytes, so a notebook embeds it (a link would break once the server is gone)."""

    data: bytes
    """The image's bytes."""
    content_type: str
    """Its media type, read from the bytes (an SVG's as declared)."""
    filename: str | None = None
    """Its file name, when known."""

    def __repr__(self) -> str:
        return f"<image {self.filename or self.content_type}, {_size_text(len(self.data))}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        if self.content_type == SVG:
            shown = {SVG: self.data.decode("utf-8", errors="replace")}
        elif self.content_type in NOTEBOOK_IMAGE_TYPES:
            shown = {self.content_type: base64.b64encode(self.data).decode("ascii")}
        else:
            buffer = BytesIO()
            self.to_pil().save(buffer, format="PNG")
            shown = {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii")}
        data = {**shown, "text/plain": repr(self)}
        return {k: v for k, v in data.items() if (include is None or k in include) and not (exclude and k in exclude)}

    def _repr_png_(self) -> bytes | None:
        return self.data if self.content_type == "image/png" else None

    def _repr_jpeg_(self) -> bytes | None:
        return self.data if self.content_type == "image/jpeg" else None

    def to_pil(self) -> Image.Image:
        """The image as a loaded Pillow image.

        Raises:
            ValueError: it is an SVG (Pillow cannot open one; `data` holds its XML).
            PIL.UnidentifiedImageError: Pillow cannot read the bytes.
        """
        if self.content_type == SVG:
            raise ValueError("an SVG image cannot be opened with Pillow; use .data for its XML")
        image = Image.open(BytesIO(self.data))
        image.load()
        return image

    def data_url(self) -> str:
        """The image as a `data:` URL (base64)."""
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def save(self, path: str | Path) -> Path:
        """Write the bytes to `path` (replacing a file there) and return it as a Path.

        Raises:
            OSError: the file could not be written.
        """
        path = Path(path)
        path.write_bytes(self.data)
        return path


def image_refs(output: Any) -> list[FileRef]:
    """The files of an output that are declared as images."""
    return [ref for ref in find_files(output) if (ref.content_type or "").startswith("image/")]


def inline_image(ref: FileRef, data: bytes) -> InlineImage:
    """The fetched bytes of an image file, checked to really be an image.

    Args:
        ref: the file, as `image_refs` found it.
        data: its bytes.

    Raises:
        ValueError: the bytes are not a readable image (or, declared SVG, not an SVG document).
    """
    # Query strings of signed URLs are credentials; name the file without them.
    where = f"field {ref.field!r} ({urlsplit(ref.uri)._replace(query='', fragment='').geturl()})"
    if ref.content_type == SVG:
        if b"<svg" not in data[:65536].lower():
            raise ValueError(f"{where} is declared {SVG} but is not an SVG document")
        return InlineImage(data, SVG, ref.filename)
    try:
        with Image.open(BytesIO(data)) as probe:
            probe.verify()
            fmt = probe.format
    except Exception as exc:  # Pillow raises many types for corrupt data; all mean "not an image"
        raise ValueError(f"{where} is declared {ref.content_type} but is not a readable image: {exc}") from exc
    # Trust the bytes over the declared type, so the notebook is told the real format.
    return InlineImage(data, Image.MIME.get(fmt or "", ref.content_type or "image/png"), ref.filename)


def images(output: Any, fetch: Callable[[str], bytes]) -> list[InlineImage]:
    """The image files of an output, fetched through `fetch(uri)` and checked to really be images.

    Args:
        output: the output (JSON-shaped data or pydantic models).
        fetch: returns the bytes at a URI (and carries the auth it needs).

    Raises:
        ValueError: a file declared as an image is not one.
        Exception: whatever `fetch` raises.
    """
    return [inline_image(ref, bytes(fetch(ref.uri))) for ref in image_refs(output)]
