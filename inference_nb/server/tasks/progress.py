"""An app's progress reports on their way to a task's watchers (docs/ARCHITECTURE.md, "App progress")."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from ..store import TaskRow

PROGRESS_INTERVAL = 0.1
"""Seconds between two progress updates sent to watchers: an app may report far more often."""


class ProgressRelay:
    """Keeps a task's last report on its row and publishes it, a few times a second at most.

    Args:
        row: the task's row (its `progress` is set here).
        publish: shows the row to the task's watchers; called on `loop`.
        loop: the server's loop.
    """

    def __init__(self, row: TaskRow, publish: Callable[[TaskRow], None], loop: asyncio.AbstractEventLoop) -> None:
        self._row = row
        self._publish = publish
        self._loop = loop
        self._sent = float("-inf")
        self._due: asyncio.TimerHandle | None = None
        self._closed = False

    def report(self, report: dict[str, Any]) -> None:
        """Take a checked report; from any thread (a sync app's worker), even after the loop closed."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._take, report)

    def close(self) -> None:
        """The task ended: its progress is dropped and later reports are ignored. On the loop."""
        self._closed = True
        self._row.progress = None
        if self._due is not None:
            self._due.cancel()

    def _take(self, report: dict[str, Any]) -> None:
        if self._closed:
            return
        self._row.progress = report
        if self._due is not None:
            return  # the publish already scheduled will carry this report
        wait = self._sent + PROGRESS_INTERVAL - self._loop.time()
        if wait > 0:
            self._due = self._loop.call_later(wait, self._send)
        else:
            self._send()

    def _send(self) -> None:
        self._due = None
        if not self._closed:
            self._sent = self._loop.time()
            self._publish(self._row)
