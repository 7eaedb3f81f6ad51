"""The server's workers: the slots tasks run on, each with an id (docs/ARCHITECTURE.md, "Workers and infra").

A task takes a free worker for its setup and run, and gives it back when it ends; a request's
`workers: [ids]` lets it take only one of those. `GET /workers` lists them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..dialects import answer_dialect, respond
from ..errors import Invalid


class Workers:
    """`count` workers, `worker-1` … `worker-<count>`, each running one task at a time."""

    def __init__(self, count: int) -> None:
        self.ids = [f"worker-{number}" for number in range(1, count + 1)]
        self._running: dict[str, str] = {}
        """worker id → the task it runs."""
        self._freed = asyncio.Condition()

    def check(self, wanted: list[str] | None) -> None:
        """Refuse a request's `workers` that names a worker this server does not have.

        Raises:
            Invalid: one of them is unknown (named, with the ids there are).
        """
        unknown = [(index, wid) for index, wid in enumerate(wanted or []) if wid not in self.ids]
        if unknown:
            names = ", ".join(repr(wid) for _, wid in unknown)
            raise Invalid(
                f"Invalid request: workers: no worker {names} on this server; its workers: {', '.join(self.ids)}",
                details=[{"field": f"workers[{index}]", "message": f"no worker {wid!r}"} for index, wid in unknown],
            )

    @contextlib.asynccontextmanager
    async def take(self, task_id: str, allowed: Collection[str] | None) -> AsyncIterator[str]:
        """Wait for a free worker (one of `allowed`, when given), hold it for the block, give its id."""
        async with self._freed:
            await self._freed.wait_for(lambda: self._free(allowed) is not None)
            worker = self._free(allowed)
            assert worker is not None
            self._running[worker] = task_id
        try:
            yield worker
        finally:
            async with self._freed:
                del self._running[worker]
                self._freed.notify_all()

    def _free(self, allowed: Collection[str] | None) -> str | None:
        return next((w for w in self.ids if w not in self._running and (not allowed or w in allowed)), None)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"id": wid, "status": "busy" if wid in self._running else "idle", "task_id": self._running.get(wid)}
            for wid in self.ids
        ]


async def list_workers(request: Request) -> JSONResponse:
    dialect = answer_dialect(request)
    return respond({"workers": request.app.state.engine.workers.describe(), "infra": "private"}, dialect)


ROUTES = [Route("/workers", list_workers, methods=["GET"])]
