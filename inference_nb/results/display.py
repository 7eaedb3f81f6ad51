"""A run's notebook display: the text/plain and text/html of its `_repr_mimebundle_`.

Text that comes from a server (results, summaries, errors, column names) is data: every piece
of it is escaped before it goes into HTML. Provenance lands in the saved notebook, so anything
that might be a credential is dropped from it.
"""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any

from .files import InlineImage
from .frames import rows_of, to_dataframe, to_plain

TEXT_LIMIT = 2000
JSON_HTML_LIMIT = 20_000
HTML_ROWS = 20
TEXT_ROWS = 10
# Provenance lands in the saved notebook; anything that might be a credential must not.
SECRET_NAME = re.compile(r"key|token|secret|passw|auth|cookie|credential|signature", re.IGNORECASE)


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
    if rows_of(plain) is None:
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
    if rows_of(plain) is None:
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
        title: the heading (label, then id).
        status_name: the server's status name.
        phase: the Phase's value ("succeeded", "failed"…).
        elapsed: seconds it took, or None.
        result: the result (or output) to show: a table shows as one, anything else as JSON.
        summary: a run's summary, or None.
        error: the failure reason, or None.
        images: images to show first.
        provenance: where the run lives (credentials are dropped).
    """
    esc, phase, plain = html.escape, str(phase), to_plain(result)
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
