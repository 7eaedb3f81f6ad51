"""What the engine keeps of a task in progress, and how an app's failure is told."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from inference_nb.wire.statuses import RENUMBERED_2026, HostedStatus

from ..apps.base import App, FunctionSpec, RunContext
from ..apps.official.process import TaskFailure
from ..disk import disk_full_message, is_disk_full
from ..store import Store, TaskRow, now_iso
from .instances import Session
from .progress import ProgressRelay


@dataclass
class ActiveTask:
    row: TaskRow
    app_cls: type[App]
    ctx: RunContext
    session: Session | None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    runner: asyncio.Task | None = None
    thread_job: Future | None = None
    """The worker-thread call in progress, if the app is sync."""
    progress: ProgressRelay | None = None
    """Passes the app's `ctx.progress` reports on."""
    workers: list[str] | None = None
    """The workers the request allows it to run on (None: any)."""


def append_status(row: TaskRow, status: int) -> None:
    row.status = int(status)
    row.updated_at = now_iso()
    row.timeline.append({"status": int(status), "name": RENUMBERED_2026.by_code(status).name, "at": row.updated_at})


def record_status(store: Store, row: TaskRow, status: int) -> None:
    """Add `status` to the row and write it: the whole row when it is new, else only what changes."""
    append_status(row, status)
    if status == HostedStatus.RECEIVED:
        store.save_task(row)
    else:
        store.update_task(row)


def validate_output(spec: FunctionSpec, result: Any) -> BaseModel:
    try:
        return spec.Output.model_validate(result)
    except Exception as exc:
        raise TypeError(f"the app returned an output that does not fit its output schema: {exc}") from exc


def describe_failure(exc: BaseException, data_dir: Path) -> str:
    if is_disk_full(exc):  # e.g. an output file that found no room: say where, not just the errno
        return f"DiskFull: {disk_full_message(data_dir)}"
    message = str(exc).strip()
    if isinstance(exc, TaskFailure):  # an app's worker process said what happened, in full
        return message
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
