"""`Client`: what a notebook user calls. It returns Runs at once; the controller follows them.

client = inference_nb.Client()                 # the embedded server, no key
run = client.run("demo/picture", {"prompt": "A sunset"})
run.wait().images[0]
rows = client.ask("What does our inventory look like?", schema=list[Item]).wait().result
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import TypeAdapter

from .client.core import Snapshot
from .client.errors import ConfigurationError, InvalidRequest, NotFoundError
from .client.profile import Profile, embedded, from_environment, hosted_runs, hosted_tasks
from .client.runs import AsyncRunsClient
from .client.tasks import AsyncTasksClient
from .controller import Controller
from .runs import Run

if TYPE_CHECKING:
    import pandas

log = logging.getLogger("inference_nb")

DEFAULT_WAIT = 600.0
"""Seconds a wait lasts unless told otherwise: long enough for real work, never forever."""
START_TIMEOUT = 120.0
"""Seconds `run` / `ask` may take to have the server accept the work (retries included)."""

_embedded_lock = threading.Lock()
_embedded_server: Any = None


def embedded_server() -> Any:
    """The embedded server of this process, started on first use (a daemon thread)."""
    global _embedded_server
    with _embedded_lock:
        if _embedded_server is None or not _embedded_server.running:
            from .server import DataDirInUse, default_data_dir, start_server

            try:
                _embedded_server = start_server()
            except DataDirInUse:
                # Another kernel holds the shared data dir: keep this kernel's runs beside it.
                import os

                data_dir = default_data_dir() / "kernels" / str(os.getpid())
                # Info, not a warning: a line on stderr in every cell's output would be noise.
                log.info("another inference_nb server uses %s; this kernel keeps its runs in %s",
                            default_data_dir(), data_dir)  # fmt: skip
                _embedded_server = start_server(data_dir=data_dir)
        return _embedded_server


class _TaskBackend:
    kind = "task"

    def __init__(self, profile: Profile, controller: Controller, wait_timeout: float) -> None:
        self.profile, self.controller, self.wait_timeout = profile, controller, wait_timeout
        self.client = AsyncTasksClient(profile)

    def provenance(self, run: Run) -> dict[str, Any]:
        return {"server": self.profile.label, "protocol": "tasks", "app": run.label, "run_id": run.id}

    async def get(self, run_id: str) -> Snapshot:
        return await self.client.get(run_id)

    def stream(self, run_id: str) -> AsyncIterator[Snapshot] | None:
        return self.client.stream(run_id) if self.profile.streams else None

    async def cancel(self, run_id: str) -> None:
        await self.controller.request(lambda: self.client.cancel(run_id))

    async def fetch(self, uri: str) -> bytes:
        return await self.controller.request(lambda: self.client.fetch(uri))

    async def approve(self, job_id: str, approved: bool) -> None:
        raise InvalidRequest("tasks have no approvals; only runs (client.ask) do")

    def typed(self, result: Any) -> Any:
        return result


class _RunBackend:
    kind = "run"

    def __init__(
        self, client: AsyncRunsClient, controller: Controller, wait_timeout: float, cluster: str, schema_type: Any
    ) -> None:
        self.client, self.profile = client, client.core.profile
        self.controller, self.wait_timeout = controller, wait_timeout
        self.cluster, self.schema_type = cluster, schema_type
        self._adapter = TypeAdapter(schema_type) if schema_type is not None else None  # built once: it is costly

    def provenance(self, run: Run) -> dict[str, Any]:
        return {"server": self.profile.label, "protocol": "runs", "cluster": self.cluster, "run_id": run.id}

    async def get(self, run_id: str) -> Snapshot:
        return await self.client.get(run_id, cluster=self.cluster)

    def stream(self, run_id: str) -> AsyncIterator[Snapshot] | None:
        return self.client.stream(run_id, cluster=self.cluster) if self.profile.streams else None

    async def cancel(self, run_id: str) -> None:
        await self.controller.request(lambda: self.client.cancel(run_id, cluster=self.cluster))

    async def fetch(self, uri: str) -> bytes:
        raise InvalidRequest("runs return data, not files")

    async def approve(self, job_id: str, approved: bool) -> None:
        await self.controller.request(lambda: self.client.approve(job_id, approved, cluster=self.cluster))

    def typed(self, result: Any) -> Any:
        return result if self._adapter is None else self._adapter.validate_python(result)


def resolve_schema(schema: Any) -> tuple[dict[str, Any] | None, Any]:
    """A JSON Schema dict, or a Python type (a pydantic model, `list[Model]`…) and its schema."""
    if schema is None or isinstance(schema, dict):
        return schema, None
    try:
        return TypeAdapter(schema).json_schema(), schema
    except Exception as error:
        raise InvalidRequest(
            f"schema: expected a JSON Schema dict or a pydantic model / type, not {schema!r} ({error})", field="schema"
        ) from None


class Client:
    """Starts runs and tasks and hands back Runs. Keyword-only options:

    - `tasks=` / `runs=`: a Profile each; `key=` and `base_url=` make both from one server
      speaking the documents' formats; otherwise the environment (INFERENCE_API_KEY,
      INFERABLE_API_SECRET), otherwise the embedded server, started on first use.
    - `cluster=`: where `ask` sends runs (default: the profile's, "demo" on the embedded server).
    - `wait_timeout=`: the deadline of a wait that names none (default 600 s).
    """

    def __init__(
        self,
        *,
        tasks: Profile | None = None,
        runs: Profile | None = None,
        base_url: str | None = None,
        key: str | None = None,
        cluster: str | None = None,
        wait_timeout: float = DEFAULT_WAIT,
    ) -> None:
        if (base_url is None) != (key is None):
            raise ConfigurationError("give base_url and key together (or neither)")
        if base_url is not None and key is not None:
            tasks = tasks or Profile("tasks", base_url, key)
            runs = runs or Profile("runs", base_url, key)
        self._tasks_profile, self._runs_profile = tasks, runs
        self._cluster = cluster
        self.wait_timeout = wait_timeout
        self.controller = Controller.get()
        self._task_backend: _TaskBackend | None = None
        self._runs_client: AsyncRunsClient | None = None

    # profiles

    def profile(self, protocol: Literal["tasks", "runs"]) -> Profile:
        """Where this client sends tasks or runs (choosing, and maybe starting the embedded server, on first use)."""
        given = self._tasks_profile if protocol == "tasks" else self._runs_profile
        profile = given or from_environment(protocol)
        if profile is None:
            server = embedded_server()
            profile = embedded(protocol, server.url, server.token)
        if protocol == "tasks":
            self._tasks_profile = profile
        else:
            self._runs_profile = profile
        return profile

    def _tasks(self) -> _TaskBackend:
        if self._task_backend is None:
            self._task_backend = _TaskBackend(self.profile("tasks"), self.controller, self.wait_timeout)
        return self._task_backend

    def _runs(self, cluster: str | None = None, schema_type: Any = None) -> _RunBackend:
        """A backend per schema type (it types the result), all on one connection pool."""
        if self._runs_client is None:
            self._runs_client = AsyncRunsClient(self.profile("runs"))
        cluster = cluster or self._cluster or self._runs_client.core.profile.cluster
        return _RunBackend(self._runs_client, self.controller, self.wait_timeout, cluster, schema_type)

    # starting

    def run(
        self,
        app: str,
        input: dict[str, Any] | None = None,
        *,
        setup: dict[str, Any] | None = None,
        session: str | None = None,
        session_timeout: float | None = None,
        webhook: str | None = None,
        idempotency_key: str | None = None,
    ) -> Run:
        """Start a task of `app` and return its Run at once (checked before anything is sent)."""
        options = {"setup": setup, "session": session, "session_timeout": session_timeout,
                   "webhook": webhook, "idempotency_key": idempotency_key}  # fmt: skip
        self._tasks().client.core.submit(app, input or {}, **options)  # refuses bad input here, in the caller's thread
        return self.controller.call(self.start_task(app, input, **options), START_TIMEOUT)

    async def start_task(self, app: str, input: dict[str, Any] | None = None, **options: Any) -> Run:
        """`run`, for code on the controller loop (the widget's handlers)."""
        backend = self._tasks()
        submit = backend.client.submit
        snapshot = await self.controller.request(lambda: submit(app, input or {}, **options))
        return Run(backend, snapshot, label=snapshot.raw.get("app") or app)

    def ask(
        self,
        message: str,
        schema: Any = None,
        *,
        cluster: str | None = None,
        run_id: str | None = None,
        name: str | None = None,
    ) -> Run:
        """Ask a question; `schema` is a JSON Schema dict or a pydantic model (the result then
        comes back as instances of it). Returns the Run at once."""
        json_schema, _ = resolve_schema(schema)
        backend = self._runs(cluster)
        backend.client.core.create(message, json_schema, cluster=backend.cluster, run_id=run_id, name=name)
        return self.controller.call(self.start_question(message, schema, cluster=cluster, run_id=run_id, name=name),
                                    START_TIMEOUT)  # fmt: skip

    async def start_question(
        self, message: str, schema: Any = None, *, cluster: str | None = None, run_id: str | None = None,
        name: str | None = None,
    ) -> Run:  # fmt: skip
        """`ask`, for code on the controller loop (the widget's handlers)."""
        json_schema, schema_type = resolve_schema(schema)
        backend = self._runs(cluster, schema_type)
        run_id, _ = backend.client.core.create(message, json_schema, cluster=backend.cluster, run_id=run_id, name=name)
        create = backend.client.create
        created = await self.controller.request(
            lambda: create(message, json_schema, cluster=backend.cluster, run_id=run_id, name=name)
        )
        snapshot = await self.controller.request(lambda: backend.get(created))
        return Run(backend, snapshot, label=short_label(message))

    def map(
        self,
        app_or_question: str,
        inputs: Any,
        *,
        schema: Any = None,
        cluster: str | None = None,
        setup: dict[str, Any] | None = None,
        concurrency: int = 8,
        retry_failed: bool = False,
        timeout: float | None = None,
        progress: bool = True,
        kind: Literal["task", "run"] | None = None,
    ) -> pandas.DataFrame:
        """One task per row (`app_or_question` an app id; the row is the input) or one run per row (a
        question with `{column}` placeholders, and `schema`), `concurrency` at a time, with one live
        progress display. `inputs`: a list of dicts or a DataFrame. Returns the rows (index and
        columns kept) with `status`, `error`, `run_id` and the results joined on. Rows that already
        ran are found again, not resubmitted; `retry_failed=True` gives each failed row one new attempt.
        `timeout` bounds the whole map (what still runs is then cancelled). See `inference_nb.mapping`."""
        from .mapping import map_rows

        return map_rows(self, app_or_question, inputs, schema=schema, cluster=cluster, setup=setup,
                        concurrency=concurrency, retry_failed=retry_failed, timeout=timeout, progress=progress,
                        kind=kind)  # fmt: skip

    def widget(self, **prefill: Any) -> Any:
        """The widget, sending its runs through this client; any form field can be pre-filled
        (`message=`, `schema=`, `mode="app"`, `app=`, `input=`, `setup=`, `session=`, `cluster=`)."""
        from .widget import InferenceWidget

        return InferenceWidget(self, **prefill)

    def session(self, app: str, *, setup: dict[str, Any] | None = None, timeout: float | None = None) -> AppSession:
        """A session of `app`: one app instance, set up once, keeping its state across calls."""
        return AppSession(self, app, setup=setup, timeout=timeout)

    # finding again

    def get(self, run_id: str, *, kind: Literal["task", "run"] | None = None, cluster: str | None = None) -> Run:
        """Reattach to a task or run by id (after a kernel restart, say)."""
        if kind in (None, "task"):
            backend = self._tasks()
            try:
                snapshot = self.controller.call(backend.get(run_id))
                return Run(backend, snapshot, label=snapshot.raw.get("app") or "task")
            except NotFoundError:
                if kind == "task":
                    raise
        run_backend = self._runs(cluster)
        snapshot = self.controller.call(run_backend.get(run_id))
        return Run(run_backend, snapshot, label=short_label(snapshot.raw.get("run", {}).get("message") or run_id))

    def runs(self, *, limit: int = 20, kind: Literal["task", "run"] = "task", cluster: str | None = None) -> list[Run]:
        """Recent tasks (or runs of a cluster) on the server, newest first, as Runs."""
        if kind == "task":
            backend = self._tasks()
            snapshots, _ = self.controller.call(backend.client.list(limit=limit))
            return [Run(backend, s, label=s.raw.get("app") or "task") for s in snapshots]
        run_backend = self._runs(cluster)
        runs, _ = self.controller.call(run_backend.client.list(cluster=run_backend.cluster, limit=limit))
        return [self.get(r["id"], kind="run", cluster=run_backend.cluster) for r in runs]

    def apps(self) -> list[dict[str, Any]]:
        """The apps of the task server, with their input and output schemas."""
        return self.controller.call(self._tasks().client.apps())

    def __repr__(self) -> str:
        tasks = self._tasks_profile.label if self._tasks_profile else "not yet chosen"
        runs = self._runs_profile.label if self._runs_profile else "not yet chosen"
        return f"<inference_nb.Client tasks: {tasks}; runs: {runs}>"


class AppSession:
    """Calls on one session of an app; the first call starts it."""

    def __init__(self, client: Client, app: str, *, setup: dict[str, Any] | None, timeout: float | None) -> None:
        self._client, self.app, self._setup, self._timeout = client, app, setup, timeout
        self.id: str | None = None

    def run(self, input: dict[str, Any] | None = None) -> Run:
        if self.id is None:
            run = self._client.run(self.app, input, setup=self._setup, session="new", session_timeout=self._timeout)
            self.id = run.session_id
            return run
        return self._client.run(self.app, input, session=self.id)

    def __call__(self, input: dict[str, Any] | None = None, *, timeout: float | None = None) -> Run:
        """Run one call and wait for it."""
        return self.run(input).wait(timeout)

    def __repr__(self) -> str:
        return f"<AppSession {self.app} {self.id or '(not started)'}>"


def short_label(message: str, limit: int = 60) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


__all__ = ["AppSession", "Client", "embedded_server", "hosted_runs", "hosted_tasks"]
