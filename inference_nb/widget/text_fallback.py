"""The widget as text and HTML, for where no front end runs (a plain console, nbviewer, a saved
notebook opened without widget state): the shown run's status, label and a few preview rows.

Everything here comes from a run view (run_view.py): nothing secret, and text from results is escaped.
"""

from __future__ import annotations

import html
import json
from typing import Any

SHOWN_ROWS = 5
CELL_CHARS = 40
LINE_CHARS = 200


def summary_text(view: dict[str, Any] | None, *, server: str) -> str:
    """A few lines: the run's label and status, its summary or error, the first preview rows."""
    if view is None:
        return f"InferenceWidget: no run yet (runs go to {server or 'the default server'})"
    lines = [f"InferenceWidget: {_cut(view['label'], LINE_CHARS)} — {view['status']}"]
    if note := _note(view):
        lines.append(note)
    if preview := view.get("preview"):
        lines.append(" | ".join(_cut(str(c), CELL_CHARS) for c in preview["columns"]))
        lines += [" | ".join(_cell(v) for v in row) for row in preview["rows"][:SHOWN_ROWS]]
        lines.append(_rows_shown(preview))
    elif view.get("text"):
        lines.append(_cut(" ".join(view["text"].split()), LINE_CHARS))
    return "\n".join(lines)


def summary_html(view: dict[str, Any] | None, *, server: str) -> str:
    """The same summary as escaped HTML: a heading line, the note, a small table."""
    if view is None:
        return f"<p>{html.escape(summary_text(None, server=server))}</p>"
    parts = [
        f"<p><strong>{html.escape(_cut(view['label'], LINE_CHARS))}</strong> — {html.escape(str(view['status']))}</p>"
    ]
    if note := _note(view):
        parts.append(f"<p>{html.escape(note)}</p>")
    if preview := view.get("preview"):
        head = "".join(f"<th>{html.escape(_cut(str(c), CELL_CHARS))}</th>" for c in preview["columns"])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
            for row in preview["rows"][:SHOWN_ROWS]
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        parts.append(f"<p>{html.escape(_rows_shown(preview))}</p>")
    elif view.get("text"):
        parts.append(f"<pre>{html.escape(_cut(view['text'], LINE_CHARS))}</pre>")
    return f'<div class="inference-nb-summary">{"".join(parts)}</div>'


def _note(view: dict[str, Any]) -> str | None:
    if view["phase"] == "failed":
        return f"Failed: {_cut(view.get('error') or view.get('summary') or 'the server gave no reason', LINE_CHARS)}"
    summary = view.get("summary")
    return _cut(summary, LINE_CHARS) if summary else None


def _rows_shown(preview: dict[str, Any]) -> str:
    shown = min(len(preview["rows"]), SHOWN_ROWS)
    return f"showing {shown} of {preview['total']} {'row' if preview['total'] == 1 else 'rows'}"


def _cell(value: Any) -> str:
    return _cut(value if isinstance(value, str) else json.dumps(value), CELL_CHARS)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
