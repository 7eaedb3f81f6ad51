"""Runs that ended while the disk was full (docs/ARCHITECTURE.md, "Storage"), as `tasks/unsaved.py`
does for tasks.

Their end is right in memory (every GET, watcher and events stream sees it) and is written once
there is room again. If the server stops first, the next start's recovery marks them failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from ..disk import DiskFull
from ..store import Store

log = logging.getLogger("inference_nb.server")

RETRY_SECONDS = 1.0
"""How often their details are written again."""


class UnsavedRuns:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._details: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        """(cluster, run id) → (request hash, detail)."""

    def end(self, cluster: str, request_hash: str, detail: dict[str, Any], full: DiskFull) -> None:
        """Keep the ended run `detail` in memory (its write found the disk full).

        A run that ended done ends failed: a result that cannot be kept is no result."""
        run = detail["run"]
        if run["status"] == "done":
            run.update(status="failed", result=None, failureReason=f"Its result could not be stored: {full}")
            run["timeline"][-1]["status"] = "failed"
        log.warning("run %s ended %s but could not be stored: %s", run["id"], run["status"], full)
        self._details[(cluster, run["id"])] = (request_hash, detail)

    def get(self, cluster: str, run_id: str) -> dict[str, Any] | None:
        kept = self._details.get((cluster, run_id))
        return kept[1] if kept else None

    async def write_forever(self) -> None:
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            self.write()

    def write(self) -> None:
        for (cluster, run_id), (request_hash, detail) in list(self._details.items()):
            try:
                self._store.save_run(cluster, run_id, detail["run"]["status"], request_hash, json.dumps(detail))
            except DiskFull:
                return  # still no room: the next round tries again
            del self._details[(cluster, run_id)]
