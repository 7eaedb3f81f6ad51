"""Small, JSON-safe views of runs for the widget's front end (`RunView` in js/types.ts).

Full results stay in the kernel; the browser gets the first rows and short texts (a run's images
travel apart, as binary buffers: run_model.py). Nothing here is secret: a view is saved into the notebook.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..kernel.run import Run
from ..results.frames import table_rows, to_dataframe
from ..wire.statuses import Numbering, Phase
from .history_input import input_view

PREVIEW_ROWS = 20
CELL_CHARS = 500
TEXT_CHARS = 20_000
IMAGE_BYTES = 2 * 2**20
MAX_IMAGES = 4

RUN_STEPS = [
    {"name": "pending", "code": "pending", "terminal": False},
    {"name": "running", "code": "running", "terminal": False},
    {"name": "paused", "code": "paused", "terminal": False},
    {"name": "done", "code": "done", "terminal": True},
    {"name": "failed", "code": "failed", "terminal": True},
    {"name": "cancelled", "code": "failed", "terminal": True},
]


def task_steps(numbering: Numbering) -> list[dict[str, Any]]:
    """The statuses a task can pass, in order (transitional codes of a numbering left out)."""
    return [
        {"name": s.name, "code": s.code, "terminal": s.terminal}
        for s in numbering.statuses
        if s.name not in ("Unknown", "Cancelling")
    ]


def run_view(run: Run, *, steps: list[dict[str, Any]], has_images: bool = False) -> dict[str, Any]:
    """The run's view for the front end; `has_images`: its images are shown, so no JSON text of the output."""
    status = run.status
    timeline = [{"name": name, "at": at.isoformat()} for name, at in run.timeline]
    if status.phase is Phase.CANCELLED and timeline:  # the runs API ends a cancel as "failed"
        timeline[-1]["name"] = status.name
    view: dict[str, Any] = {
        "id": run.id,
        "kind": run.kind,
        "label": run.label,
        "phase": status.phase.value,
        "status": status.name,
        "code": status.code,
        "steps": steps,
        "timeline": timeline,
        "jobs": [_job(job) for job in run.jobs],
        "input_requests": [_input_request(r) for r in run.input_requests],
        "summary": run.summary,
        "planner": run.planner,
        "error": run.error,
        "preview": None,
        "text": None,
        "progress": _progress(run),
        "input": input_view(run),
    }
    if status.phase is Phase.SUCCEEDED:
        shown = run.result if run.result is not None else (run.output if run.kind == "task" else None)
        view["preview"] = preview(shown)
        if view["preview"] is None and shown is not None and not has_images:
            # A free-text answer (no schema) is shown as the text it is, not as a JSON string.
            text = shown if isinstance(shown, str) else json.dumps(_json_safe(shown), indent=2, default=str)
            view["text"] = _capped(text, TEXT_CHARS)
    return view


def preview(result: Any) -> dict[str, Any] | None:
    """The first rows of a tabular result, with its columns and total row count."""
    if table_rows(result) is None:
        return None
    frame = to_dataframe(result)
    head = frame.head(PREVIEW_ROWS)
    rows = [[_cell(value) for value in row] for row in head.itertuples(index=False, name=None)]
    return {"columns": [str(c) for c in frame.columns], "rows": rows, "total": len(frame)}


def _cell(value: Any) -> Any:
    value = _json_safe(value)
    if isinstance(value, str):
        return _capped(value, CELL_CHARS)
    if isinstance(value, dict | list):
        return _capped(json.dumps(value, default=str), CELL_CHARS)
    return value


def _json_safe(value: Any) -> Any:
    """JSON data a browser can take: NaN and infinities become null, numpy scalars plain numbers."""
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, list | dict | str):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "model_dump"):
        return _json_safe(value.model_dump(mode="json"))
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _capped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _progress(run: Run) -> dict[str, Any] | None:
    progress = run.progress
    if progress is None or run.done:
        return None
    return {"done": progress.done, "total": progress.total, "message": progress.message}


def _job(job: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "service", "targetFn", "status", "resultType", "approvalRequested", "approved")
    view = {key: job.get(key) for key in keys}
    view["approvalRequested"] = bool(view["approvalRequested"])
    if job.get("error"):
        view["error"] = _capped(str(job["error"]), CELL_CHARS)
    return view


def _input_request(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": request.get("id"),
        "type": request.get("type", "approval"),
        "jobId": request.get("jobId"),
        "description": _capped(str(request.get("description") or ""), CELL_CHARS),
        "outcome": request.get("outcome"),
    }
