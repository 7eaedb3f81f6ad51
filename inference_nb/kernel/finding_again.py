"""Finding tasks and runs again by id, or by listing them: what makes a kernel restart lose nothing."""

from __future__ import annotations

from typing import Any, Literal

from ..client.core import Snapshot
from ..client.errors import NotFoundError
from .backends import RunBackend, TaskBackend, resolve_schema
from .controller import Controller
from .run import Run, short_label


class FindingAgain:
    """`get`, `attach` and `runs` of a client (`BaseClient`, which provides the backends)."""

    controller: Controller

    def _tasks(self) -> TaskBackend:
        raise NotImplementedError

    def _runs(self, cluster: str | None = None, schema_type: Any = None) -> RunBackend:
        raise NotImplementedError

    def get(self, run_id: str, *, kind: Literal["task", "run"] | None = None, cluster: str | None = None) -> Run:
        """Reattach to a task or run by id (after a kernel restart, say).

        Args:
            run_id: the task's or run's id.
            kind: "task" or "run"; None looks for a task first, then a run.
            cluster: the run's cluster (default: the client's).

        Raises:
            InvalidRequest: `run_id` is empty.
            NotFoundError: the server has no such task or run (with `kind=None`: the runs API's answer).
            StatusError, TransportError, BadResponse: as `run`.
        """
        return self.controller.call(self.attach(run_id, kind=kind, cluster=cluster))

    async def attach(
        self,
        run_id: str,
        *,
        kind: Literal["task", "run"] | None = None,
        cluster: str | None = None,
        schema: Any = None,
        follow: bool = True,
    ) -> Run:
        """`get`, for code on the controller loop. `schema` types a run's result as `ask` would;
        `follow=False` gives a snapshot that is not kept current."""
        if kind in (None, "task"):
            backend = self._tasks()
            if follow:
                await self.controller.prepare(backend.feed)
            try:
                snapshot = await self.controller.request(lambda: backend.get(run_id))
                return Run(backend, snapshot, label=snapshot.raw.get("app") or "task", follow=follow)
            except NotFoundError:
                if kind == "task":
                    raise
        run_backend = self._runs(cluster, resolve_schema(schema)[1])
        if follow:
            await self.controller.prepare(run_backend.feed)
        snapshot = await self.controller.request(lambda: run_backend.get(run_id))
        label = short_label(snapshot.raw.get("run", {}).get("message") or run_id)
        return Run(run_backend, snapshot, label=label, follow=follow)

    async def list_tasks(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Snapshot], str | None]:
        """One page of the server's tasks, newest first, and the cursor of the next page (None at the end),
        for code on the controller loop (`map` finds the tasks of creates whose answer was lost)."""
        backend = self._tasks()
        return await self.controller.request(lambda: backend.client.list(limit=limit, cursor=cursor))

    def runs(self, *, limit: int = 20, kind: Literal["task", "run"] = "task", cluster: str | None = None) -> list[Run]:
        """Recent tasks (or runs of a cluster) on the server, newest first, as Runs.

        Args:
            limit: how many at most.
            kind: "task" or "run".
            cluster: the runs' cluster (default: the client's).

        Raises:
            StatusError, TransportError, BadResponse: as `run`.
        """
        if kind == "task":
            backend = self._tasks()
            snapshots, _ = self.controller.call(backend.client.list(limit=limit))
            return [Run(backend, s, label=s.raw.get("app") or "task") for s in snapshots]
        run_backend = self._runs(cluster)
        runs, _ = self.controller.call(run_backend.client.list(cluster=run_backend.cluster, limit=limit))
        return [self.get(r["id"], kind="run", cluster=run_backend.cluster) for r in runs]
