"""Results → DataFrame, files, images, and the notebook display of a run.

Pure functions: no network (the caller passes a `fetch` callable that already
carries auth) and no IPython import, so everything here works in a plain script.
Text that comes from a server (results, summaries, errors, column names) is data:
every piece of it is escaped before it goes into HTML.
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from PIL import Image
from pydantic import BaseModel

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FileRef", "InlineImage", "bundle", "find_files", "images", "safe_provenance", "to_dataframe"]

FILE_EXTENSIONS = tuple(".png .jpg .jpeg .gif .webp .svg .pdf .csv .json .txt .wav .mp3 .mp4".split())
SVG = "image/svg+xml"
# Formats every Jupyter front end shows from a mimebundle; others are converted to PNG for display.
NOTEBOOK_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
TEXT_LIMIT = 2000
JSON_HTML_LIMIT = 20_000
HTML_ROWS = 20
TEXT_ROWS = 10
# Provenance lands in the saved notebook; anything that might be a credential must not.
SECRET_NAME = re.compile(r"key|token|secret|passw|auth|cookie|credential|signature", re.IGNORECASE)


def _plain(value: Any) -> Any:
    """JSON-shaped data from whatever the user got back (pydantic models, possibly nested in lists/dicts)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _rows(value: Any) -> list[dict] | None:
    """The rows a plain value stands for when it is a table: a list of objects, or the only one inside an object."""
    if _is_table(value):
        return value
    if isinstance(value, dict):
        tables = [v for v in value.values() if _is_table(v)]
        if len(tables) == 1:
            return tables[0]
    return None


def _dumped(value: Any) -> Any:
    """One level of `_plain`: a model becomes its JSON-shaped dict, a tuple a list; nothing below is walked."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return list(value) if isinstance(value, tuple) else value


def _table_of(value: Any) -> list[dict] | None:
    """`value` as a list of row dicts when it is one (rows that are models dumped), without copying plain rows."""
    value = _dumped(value)
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, dict) for v in value):
        return value
    if all(isinstance(v, dict | BaseModel) for v in value):
        return [_dumped(v) for v in value]
    return None


def _table_rows(value: Any) -> list[dict] | None:
    """Like `_rows(_plain(value))`, walking only the levels a table can be found at."""
    value = _dumped(value)
    rows = _table_of(value)
    if rows is None and isinstance(value, dict):
        tables = [t for t in map(_table_of, value.values()) if t is not None]
        rows = tables[0] if len(tables) == 1 else None
    return rows


def _model_below(cells: Any, kinds: set[type]) -> bool:
    """Whether a model or a tuple lies anywhere inside `cells` (whose types are `kinds`), a level at a time."""
    while True:
        if any(issubclass(kind, BaseModel | tuple) for kind in kinds):
            return True
        if not any(issubclass(kind, list | dict) for kind in kinds):
            return False
        if kinds == {list}:  # the usual case (a column of lists) without a test per cell
            cells = list(chain.from_iterable(cells))
        else:
            containers = (c.values() if isinstance(c, dict) else c for c in cells if isinstance(c, (list, dict)))
            cells = list(chain.from_iterable(containers))
        kinds = set(map(type, cells))


def _object_cells(frame: pd.DataFrame) -> tuple[bool, bool]:
    """(some cell is a dict, some cell holds a model or tuple), looking only at columns of Python objects."""
    dicts = models = False
    for name, dtype in frame.dtypes.items():
        if dtype != object:  # noqa: E721 (pandas dtypes compare equal to the type, never identical)
            continue
        cells = frame[name].to_numpy()
        kinds = set(map(type, cells))
        dicts = dicts or any(issubclass(kind, dict) for kind in kinds)
        models = models or _model_below(cells, kinds)
    return dicts, models


def _rows_frame(rows: list[dict]) -> pd.DataFrame:
    """The frame `pd.json_normalize(_plain(rows), sep=".")` gives, built the cheapest way that gives the same
    (docs/ARCHITECTURE.md, "Cold start and hot paths").

    Flat rows go straight to `pd.DataFrame` (what json_normalize ends with for them); rows holding
    objects go to json_normalize as they are. Only columns of Python objects are looked at again,
    for models or tuples below the rows (rare: then the rows are made plain first).
    """
    import pandas as pd

    frame = None
    if not any(isinstance(v, dict | BaseModel) for v in rows[0].values()):
        frame = pd.DataFrame(rows)
    dicts, models = _object_cells(frame) if frame is not None else (True, False)
    if dicts:
        frame = pd.json_normalize(rows, sep=".")
        models = models or _object_cells(frame)[1]
    return pd.json_normalize(_plain(rows), sep=".") if models else frame


def to_dataframe(value: Any) -> pd.DataFrame:
    """A DataFrame of a result: arrays of objects are rows, nested objects become dotted columns.

    Args:
        value: JSON-shaped data or pydantic models. A list of objects (or an object holding
            exactly one such list) gives a row per object; another object gives one row; a list
            of scalars a `value` column; None an empty frame.
    """
    import pandas as pd  # only here: it takes seconds to import, and showing a Run must not wait for it

    rows = _table_rows(value)
    if rows is not None:
        return _rows_frame(rows)
    value = _plain(value)
    if value is None:
        return pd.DataFrame()
    if isinstance(value, dict):
        return pd.json_normalize(value, sep=".")
    if isinstance(value, list):
        # Scalars get a `value` column; a mixed list keeps its objects as rows beside them.
        return pd.json_normalize([v if isinstance(v, dict) else {"value": v} for v in value], sep=".")
    return pd.DataFrame({"value": [value]})


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

    walk(_plain(output), "")
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


def table_rows(value: Any) -> list[dict] | None:
    """The rows a result stands for when it is a table, else None."""
    return _rows(_plain(value))


def safe_provenance(provenance: dict) -> dict:
    """Provenance without anything that looks like a credential (by key name, or a Bearer/Basic value).

    Args:
        provenance: a dict, nested dicts cleaned too; the dict given is not changed.
    """
    clean = {}
    for key, value in provenance.items():
        if SECRET_NAME.search(str(key)):
            continue
        if isinstance(value, str) and value.lower().startswith(("bearer ", "basic ")):
            continue
        clean[key] = safe_provenance(value) if isinstance(value, dict) else value
    return clean


def _notice(phase: str, result: Any, summary: str | None, error: str | None) -> tuple[str, str] | None:
    """(label, text) of the message box: a failed run and a done run without a result must not look alike."""
    if phase == "failed":
        return "Failed", error or summary or "no reason given"
    if error:
        return phase.capitalize(), error
    if phase == "succeeded" and result is None and summary:
        return "No result", summary
    return None


_MUTED = "color:var(--jp-ui-font-color2, #666)"
_PILL = "color:#fff;border-radius:9px;padding:1px 8px;font-size:0.85em;margin-left:6px;background:"
_PILL_COLOURS = {
    "succeeded": "var(--jp-success-color1, #388e3c)",
    "failed": "var(--jp-error-color1, #d32f2f)",
    "cancelled": "var(--jp-ui-font-color2, #757575)",
}
_BOX = "margin:6px 0;padding:6px 10px;color:var(--jp-ui-font-color1, #222);border-left:4px solid "
_FAILED_BOX = _BOX + "var(--jp-error-color1, #d32f2f);background:var(--jp-error-color3, #fdecea)"
_NOTICE_BOX = _BOX + "var(--jp-border-color1, #9e9e9e);background:var(--jp-layout-color2, #f2f2f2)"


def _json(value: Any, limit: int) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text_body(plain: Any) -> list[str]:
    if _rows(plain) is None:
        return [] if plain is None else [_json(plain, TEXT_LIMIT)]
    frame = to_dataframe(plain)
    more = [f"({TEXT_ROWS} of {len(frame)} rows)"] if len(frame) > TEXT_ROWS else []
    return [frame.head(TEXT_ROWS).to_string(max_cols=12, max_colwidth=40), *more]


def _html_body(plain: Any, shown: list[InlineImage]) -> list[str]:
    json_block = f"<pre style='max-height:30em;overflow:auto'>{html.escape(_json(plain, JSON_HTML_LIMIT))}</pre>"
    if shown:
        parts = [
            f'<img src="data:{html.escape(image.content_type)};base64,{base64.b64encode(image.data).decode("ascii")}"'
            f' alt="{html.escape(image.filename or "image")}" style="max-width:100%">'
            for image in shown
        ]
        # The images lead; the rest of the output stays one click away.
        return parts + ([f"<details><summary>output</summary>{json_block}</details>"] if plain is not None else [])
    if _rows(plain) is None:
        return [] if plain is None else [json_block]
    frame = to_dataframe(plain)
    more = [f"<div style='{_MUTED}'>showing {HTML_ROWS} of {len(frame)} rows</div>"] if len(frame) > HTML_ROWS else []
    return [frame.head(HTML_ROWS).to_html(escape=True, max_cols=30, border=0), *more]


def bundle(
    *,
    title: str,
    status_name: str,
    phase: str,
    elapsed: float | None,
    result: Any,
    summary: str | None,
    error: str | None,
    images: list[InlineImage],
    provenance: dict,
) -> tuple[dict, dict]:
    """The (data, metadata) pair for a run's `_repr_mimebundle_`: text/plain, text/html and provenance metadata.

    Every piece of server text is HTML-escaped; the metadata is `{"inference_nb": safe_provenance(provenance)}`.

    Args:
        title: the heading (kind, id, label).
        status_name: the server's status name.
        phase: the Phase's value ("succeeded", "failed"…).
        elapsed: seconds it took, or None.
        result: the result (or output) to show: a table shows as one, anything else as JSON.
        summary: a run's summary, or None.
        error: the failure reason, or None.
        images: images to show first.
        provenance: where the run lives (credentials are dropped).
    """
    esc, phase, plain = html.escape, str(phase), _plain(result)
    notice = _notice(phase, plain, summary, error)
    # The summary appears once: inside the notice when it is the reason, else on its own line.
    summary = summary if summary and not (notice and notice[1] == summary) else None
    timing = f"{elapsed:.1f} s" if elapsed is not None else None

    lines = [f"{title} — {status_name}" + (f" ({timing})" if timing else "")]
    lines += [f"{notice[0]}: {notice[1]}"] if notice else []
    lines += [summary] if summary else []
    text = "\n".join(lines + _text_body(plain))

    pill = (
        f"<span style='{_PILL}{_PILL_COLOURS.get(phase, 'var(--jp-brand-color1, #1976d2)')}'>{esc(status_name)}</span>"
    )
    page = [
        "<div class='inference-nb-run' style='font-family:var(--jp-ui-font-family, sans-serif)'>",
        f"<div><b style='color:var(--jp-ui-font-color1, #222)'>{esc(title)}</b>{pill}"
        + (f" <span style='{_MUTED}'>{timing}</span>" if timing else "")
        + "</div>",
    ]
    if notice:
        css_class, style = ("inb-failed", _FAILED_BOX) if phase == "failed" else ("inb-notice", _NOTICE_BOX)
        page.append(f"<div class='{css_class}' style='{style}'><b>{esc(notice[0])}:</b> {esc(notice[1])}</div>")
    page += [f"<p style='margin:6px 0'>{esc(summary)}</p>"] if summary else []
    page += [*_html_body(plain, images), "</div>"]

    data = {
        "text/plain": text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…",
        "text/html": "\n".join(page),
    }
    return data, {"inference_nb": safe_provenance(provenance)}
