"""Tasks that ended while the disk was full (docs/ARCHITECTURE.md, "Storage").

Their end is right in memory (the engine shows it to every waiter, stream and GET) and is
written, then its webhook queued, once there is room again. If the server stops first, the
next start's recovery marks them Failed.
"""

from __future__ import annotations

import asyncio
import logging

from inference_nb.wire.statuses import RENUMBERED_2026, HostedStatus

from ..disk import DiskFull
from ..store import Store, TaskRow
from ..webhooks import WebhookSender
from .running import append_status
from .views import webhook_body

log = logging.getLogger("inference_nb.server")

RETRY_SECONDS = 1.0
"""How often their rows are written again."""


class UnsavedEnds:
    def __init__(self, store: Store, webhooks: WebhookSender) -> None:
        self._store, self._webhooks = store, webhooks
        self._rows: dict[str, TaskRow] = {}

    def end(self, row: TaskRow, status: int, full: DiskFull) -> TaskRow:
        """End `row` with `status` in memory (its write found the disk full); returns it to publish.

        A Completed task ends Failed: a result that cannot be kept is no result."""
        row.timeline.pop()  # the status that was not stored
        if status == HostedStatus.COMPLETED:
            row.output, row.error, status = None, f"its result could not be stored: {full}", HostedStatus.FAILED
        append_status(row, status)
        log.warning("task %s ended %s but could not be stored: %s", row.id, RENUMBERED_2026.by_code(status).name, full)
        self._rows[row.id] = row
        return row

    def get(self, task_id: str) -> TaskRow | None:
        return self._rows.get(task_id)

    def __contains__(self, task_id: str) -> bool:
        return task_id in self._rows

    async def write_forever(self) -> None:
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            self.write()

    def write(self) -> None:
        for task_id, row in list(self._rows.items()):
            try:
                self._store.save_task(row)
                if row.webhook:
                    self._webhooks.enqueue(row.id, row.webhook, webhook_body(row))
            except DiskFull:
                return  # still no room: the next round tries again
            del self._rows[task_id]
