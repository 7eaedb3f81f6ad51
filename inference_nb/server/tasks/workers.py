"""The server's workers: the slots tasks run on, each with an id (docs/ARCHITECTURE.md, "Workers and infra").

A task takes a free worker for its setup and run, and gives it back when it ends; a request's
`workers: [ids]` lets it take only one of those. `GET /workers` lists them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
from collections.abc import AsyncIterator, Collection
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..dialects import answer_dialect, respond
from ..errors import Invalid


class Workers:
    """`count` workers, `worker-1` … `worker-<count>`, each running one task at a time.

    A freed worker goes straight to the first task waiting that may use it: with thousands of
    tasks queued, waking them all to look for a worker cost the server more than running them.
    """

    def __init__(self, count: int) -> None:
        self.ids = [f"worker-{number}" for number in range(1, count + 1)]
        self._index = {wid: index for index, wid in enumerate(self.ids)}
        self._running: dict[str, str] = {}
        """worker id → the task it runs."""
        self._idle = list(range(count))
        """Indices into `ids` of the free workers, a heap: the lowest-numbered is taken first."""
        self._waiting: collections.deque[tuple[Collection[str] | None, asyncio.Future[str]]] = collections.deque()
        """Tasks waiting for a worker, first come first served, with the workers each may take."""

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
        worker = self._claim(allowed)
        if worker is None:
            waiting = (allowed, asyncio.get_running_loop().create_future())
            self._waiting.append(waiting)
            try:
                worker = await waiting[1]
            except asyncio.CancelledError:
                if waiting[1].done() and not waiting[1].cancelled():  # handed one just as it was cancelled
                    self._release(waiting[1].result())
                else:
                    self._waiting.remove(waiting)
                raise
        self._running[worker] = task_id
        try:
            yield worker
        finally:
            del self._running[worker]
            self._release(worker)

    def _claim(self, allowed: Collection[str] | None) -> str | None:
        if not allowed:
            return self.ids[heapq.heappop(self._idle)] if self._idle else None
        free = [index for index in self._idle if self.ids[index] in allowed]
        if not free:
            return None
        first = min(free)
        self._idle.remove(first)
        heapq.heapify(self._idle)
        return self.ids[first]

    def _release(self, worker: str) -> None:
        for waiting in self._waiting:
            allowed, future = waiting
            if not future.done() and (not allowed or worker in allowed):  # done: cancelled, leaving
                self._waiting.remove(waiting)
                future.set_result(worker)
                return
        heapq.heappush(self._idle, self._index[worker])

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"id": wid, "status": "busy" if wid in self._running else "idle", "task_id": self._running.get(wid)}
            for wid in self.ids
        ]


async def list_workers(request: Request) -> JSONResponse:
    dialect = answer_dialect(request)
    return respond({"workers": request.app.state.engine.workers.describe(), "infra": "private"}, dialect)


ROUTES = [Route("/workers", list_workers, methods=["GET"])]
