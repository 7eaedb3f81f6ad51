"""The streams and waiters following each task: a queue each, which every change of it is put on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from inference_nb.wire.statuses import Dialect

from ..store import TaskRow
from .views import TERMINAL, public_task


class TaskWatchers:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue]] = {}

    def publish(self, snapshot: TaskRow) -> None:
        for queue in self._queues.get(snapshot.id, ()):
            queue.put_nowait(snapshot)

    async def follow(
        self, row: TaskRow, *, base_url: str, dialect: Dialect, idle: float | None
    ) -> AsyncIterator[dict[str, Any] | None]:
        """`row` now, then each change of it until a terminal one (a None after `idle` quiet seconds).

        Subscribed before the first is yielded: whoever has read it misses no later change.
        """
        task_id = row.id
        queue: asyncio.Queue = asyncio.Queue()
        self._queues.setdefault(task_id, set()).add(queue)
        try:
            snapshot = row
            yield public_task(snapshot, base_url, dialect)
            while snapshot.status not in TERMINAL:
                try:
                    snapshot = await asyncio.wait_for(queue.get(), idle)
                except TimeoutError:
                    yield None
                    continue
                yield public_task(snapshot, base_url, dialect)
        finally:
            queues = self._queues.get(task_id, set())
            queues.discard(queue)
            if not queues:
                self._queues.pop(task_id, None)
