"""How a task looks in an answer: its stored row shown in one dialect (docs/ARCHITECTURE.md, "The two APIs")."""

from __future__ import annotations

import functools
import json
from typing import Any

from inference_nb.wire.statuses import RENUMBERED_2026, Dialect

from ..store import TaskRow
from .files import rebase_file_uris

TERMINAL = tuple(info.code for info in RENUMBERED_2026.statuses if info.terminal)
"""The stored (2026) codes a task ends with."""


@functools.cache
def status_in(dialect: Dialect, status: int) -> int:
    """A stored status (2026 numbering) as `dialect` numbers it (worked out once: every event
    shows a whole timeline)."""
    return dialect.code(status, RENUMBERED_2026)


@functools.cache
def _status_name(dialect: Dialect, code: int) -> str:
    return dialect.numbering.by_code(code).name


def public_task(row: TaskRow, base_url: str | None = None, dialect: Dialect | None = None) -> dict[str, Any]:
    """The task object as the API shows it (file URIs on `base_url`) in `dialect` (default: the task's own).

    The spec's fields, then ours; the hosted dialect adds the function it ran.
    """
    dialect = dialect or Dialect(row.dialect)
    task = {
        "id": row.id,
        "status": status_in(dialect, row.status),
        "input": row.input,
        "output": row.output,
        "error": row.error,
        "session_id": row.session_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "app": row.app,
        "timeline": [  # a new list: a snapshot must not change later
            {
                **entry,
                "status": (code := status_in(dialect, entry["status"])),
                "name": _status_name(dialect, code),
            }
            for entry in row.timeline
        ],
    }
    if row.progress is not None:  # our extension, which both dialects' clients may ignore
        task["progress"] = dict(row.progress)
    if dialect is Dialect.HOSTED:
        task["function"] = row.function
    return rebase_file_uris(task, row.base_url, base_url or row.base_url)


def webhook_body(row: TaskRow) -> str:
    """The webhook's payload, in the task's own dialect (a webhook has no request to ask for another)."""
    task = public_task(row)
    payload = {k: task[k] for k in ("id", "status", "output", "session_id", "created_at", "updated_at")}
    return json.dumps({**payload, "error": row.error or ""})
