"""The task engine: takes a submitted task through its statuses.

    Received → Queued → Dispatched → Preparing → [Serving] → Setting Up
             → Running → [Uploading] → Completed | Failed | Cancelled
    Received → Rejected   (admission refused: the queue is full)

Statuses are kept in the 2026 numbering (`HostedStatus`, a superset of the spec's
names); each view translates them into the dialect it answers in (`public_task`).
Serving happens when an app instance has to be set up (a cold start; a warm instance skips it);
Uploading when the output holds files. Every transition is stored before it is published, so what
a client sees is always on disk. Whoever decides a terminal status sets it first (cancel, server
stop, the runner itself); cleanup follows and never changes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import shutil
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from inference_nb.wire.statuses import RENUMBERED_2026, Dialect, HostedStatus
from inference_nb.wire.tasks import DEFAULT_FUNCTION, RunTaskRequest

from ..apps.base import App, RunContext, app_functions
from ..apps.calling import call_app_method
from ..apps.registry import app_id
from ..disk import DiskFull, check_room
from ..errors import Conflict, Gone, NotFound
from ..event_log import EventLog
from ..quota import StorageQuota
from ..store import Store, TaskRow, now_iso
from ..webhooks import WebhookSender
from .files import files_in, resolve_input_files, store_files
from .instances import Instance, InstancePool, Session, SessionEnded, SessionManager
from .progress import ProgressRelay
from .running import ActiveTask, append_status, describe_failure, record_status, validate_output
from .unsaved import UnsavedEnds
from .views import TERMINAL, status_in, webhook_body
from .watchers import TaskWatchers
from .workers import Workers

log = logging.getLogger("inference_nb.server")

DEFAULT_MAX_QUEUED = 1000
"""Tasks that may wait for a worker before new ones are rejected."""


class TaskEngine:
    def __init__(
        self,
        *,
        store: Store,
        data_dir: Path,
        webhooks: WebhookSender,
        max_workers: int = 8,
        max_queued: int = DEFAULT_MAX_QUEUED,
        events: EventLog | None = None,
        quota: StorageQuota | None = None,
    ) -> None:
        self._store = store
        self._quota = quota or StorageQuota(store, None)
        self.events = events or EventLog()
        """Every change of every task, for `GET /tasks/events`."""
        self._max_workers, self._max_queued = max_workers, max_queued
        self._capacity = max_workers + max_queued
        self._data_dir = data_dir
        self._webhooks = webhooks
        self.workers = Workers(max_workers)
        """The slots tasks run on, by id (`GET /workers`)."""
        self._threads = ThreadPoolExecutor(max_workers + 4, thread_name_prefix="inference_nb-app")
        self._active: dict[str, ActiveTask] = {}
        self._unfinished = 0  # tasks of `_active` not ended yet: kept, not recounted on every submit
        self._watchers = TaskWatchers()
        self._background: list[asyncio.Task] = []
        self._unsaved = UnsavedEnds(store, webhooks)
        """Tasks that ended while the disk was full: right in memory, written once there is room."""
        self.pool = InstancePool(self._run_sync)
        self.sessions = SessionManager(store, self.pool)

    # lifecycle

    async def start(self) -> None:
        self._recover()
        loop = asyncio.get_running_loop()
        self._background = [
            loop.create_task(self._webhooks.run_forever()),
            loop.create_task(self.sessions.reap_forever()),
            loop.create_task(self._unsaved.write_forever()),
        ]

    def fail_in_flight(self) -> None:
        """The server is stopping: every task still in progress ends Failed, saying so."""
        for task in list(self._active.values()):
            if task.done.is_set():
                continue
            status = RENUMBERED_2026.by_code(task.row.status).name
            self._finish(task, HostedStatus.FAILED, error=f"The server stopped while this task was {status}.")
            task.ctx.cancel()
            if task.runner:
                task.runner.cancel()

    async def stop(self) -> None:
        self.fail_in_flight()
        runners = [t.runner for t in self._active.values() if t.runner]
        if runners:
            await asyncio.wait(runners, timeout=2)
        for background in self._background:
            background.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._unsaved.write()  # what still finds no room is marked failed by the next start's recovery
        await self.sessions.close("the server stopped")
        await self.pool.close()
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _recover(self) -> None:
        """Tasks in flight when the server last stopped cannot resume: say so."""
        restarted = now_iso()
        for row in self._store.unfinished_tasks(TERMINAL):
            status = RENUMBERED_2026.by_code(row.status).name
            row.error = (
                f"The server stopped while this task was {status}; "
                f"it was marked failed when the server started again at {restarted}."
            )
            append_status(row, HostedStatus.FAILED)
            self._store.save_task(row)
            if row.webhook:
                self._webhooks.enqueue(row.id, row.webhook, webhook_body(row))
        self._store.end_open_sessions("the server restarted (a session's app instance lives in memory)")

    # submitting

    def submit(
        self,
        request: RunTaskRequest,
        app_cls: type[App],
        *,
        base_url: str,
        setup: dict[str, Any] | None,
        dialect: Dialect = Dialect.SPEC,
        function: str = DEFAULT_FUNCTION,
        input_files: list[tuple[str, str]] = (),
    ) -> TaskRow:
        """Create the task and start it; returns its row (shown with `public_task`).

        A task beyond the queue's capacity is created already Rejected, and never runs.

        Raises:
            DiskFull: the data dir's disk has no room; nothing was created.
        """
        check_room(self._data_dir)
        full = self._unfinished >= self._capacity
        session = None if full else self._resolve_session(request, app_cls, setup)
        if session is not None:  # a session keeps the class it started with, even if re-registered since
            app_cls = type(session.instance.app)
        created = now_iso()
        row = TaskRow(
            id=f"task_{secrets.token_hex(12)}",
            app=app_id(app_cls),
            status=HostedStatus.RECEIVED,
            input=request.input,
            setup=setup,
            session_id=session.id if session else None,
            webhook=request.webhook,
            base_url=base_url,
            created_at=created,
            updated_at=created,
            dialect=dialect.value,
            function=function,
        )
        work_dir = self._data_dir / "work" / row.id
        progress = ProgressRelay(row, self._publish, asyncio.get_running_loop())
        ctx = RunContext(task_id=row.id, session_id=row.session_id, work_dir=work_dir, on_progress=progress.report)
        task = ActiveTask(row, app_cls, ctx, session, progress=progress, workers=request.workers)
        self._advance(task, HostedStatus.RECEIVED)
        self._store.save_task_inputs(row.id, list(input_files))
        if full:
            self._finish(
                task,
                HostedStatus.REJECTED,
                error=f"the server's queue is full: {self._unfinished} tasks are running or waiting, "
                f"the most it takes ({self._max_workers} workers + {self._max_queued} queued); "
                "try again when some have finished",
            )
            return row
        if session:
            session.busy += 1
        self._active[row.id] = task
        self._unfinished += 1
        task.runner = asyncio.get_running_loop().create_task(self._execute(task))
        return row

    def _resolve_session(
        self, request: RunTaskRequest, app_cls: type[App], setup: dict[str, Any] | None
    ) -> Session | None:
        if request.session is None:
            return None
        if request.session == "new":
            return self.sessions.create(app_cls, setup, request.session_timeout)
        try:
            session = self.sessions.get(request.session)
        except KeyError:
            raise NotFound(f'no session {request.session!r}; start one with session: "new"') from None
        except SessionEnded as ended:
            raise Gone(str(ended)) from None
        if session.app_id != app_id(app_cls):
            raise Conflict(f"session {session.id} belongs to app {session.app_id}, not {app_id(app_cls)}")
        if setup is not None and setup != session.setup:
            raise Conflict(f"session {session.id} was set up with other setup parameters; omit setup to continue it")
        return session

    # running

    async def _execute(self, task: ActiveTask) -> None:
        try:
            self._advance(task, HostedStatus.QUEUED)
            session = task.session
            instance = session.instance if session else await self.pool.checkout(task.app_cls, task.row.setup)
            # Calls on one session run one at a time, on its one instance.
            lock = session.lock if session else contextlib.nullcontext()
            async with lock, self.workers.take(task.row.id, task.workers) as worker_id:
                task.ctx.worker_id = worker_id
                try:
                    await self._serve_in_time(task, instance)
                finally:
                    await self._thread_settled(task)
                    if not session:
                        await self.pool.give_back(instance)
                    if task.ctx.work_dir_made:
                        await self._run_sync(lambda: shutil.rmtree(task.ctx.work_dir, ignore_errors=True))
        except asyncio.CancelledError:
            self._finish(task, HostedStatus.CANCELLED)
        except Exception as exc:  # the app's failure is the task's failure, not the server's
            self._finish(task, HostedStatus.FAILED, error=describe_failure(exc, self._data_dir))
        finally:
            if task.session:
                task.session.busy -= 1
                self.sessions.touch(task.session)
            self._active.pop(task.row.id, None)

    async def _serve_in_time(self, task: ActiveTask, instance: Instance) -> None:
        """`_serve` under the app's `run_timeout` (an instance may set its own in `setup`: it is read
        again once set up). Past it the task ends Failed at once, saying so; a sync app's thread is
        told to stop (`ctx.cancelled`) and settles afterwards, without holding the task's end."""
        started = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(None) as deadline:

                def apply_limit() -> None:
                    limit = instance.app.run_timeout
                    deadline.reschedule(None if limit is None else started + limit)

                apply_limit()
                await self._serve(task, instance, on_set_up=apply_limit)
        except TimeoutError:
            if not deadline.expired():
                raise  # the app's own TimeoutError: its failure, told as it is
            app = instance.app
            hint = f"; {app.run_timeout_hint}" if app.run_timeout_hint else ""
            message = (
                f"the task ran past its time limit ({task.row.app}'s run timeout of {app.run_timeout:g} s{hint}) "
                "and was stopped"
            )
            task.ctx.cancel()  # a sync app's thread outlives the asyncio cancel: tell it to stop
            self._finish(task, HostedStatus.FAILED, error=message)  # now, not once that thread returns
            raise TimeoutError(message) from None

    async def _serve(self, task: ActiveTask, instance: Instance, *, on_set_up: Callable[[], None]) -> None:
        app_cls, ctx = task.app_cls, task.ctx
        self._advance(task, HostedStatus.DISPATCHED)
        self._advance(task, HostedStatus.PREPARING)
        setup = app_cls.Setup.model_validate(task.row.setup or {}) if app_cls.Setup else (task.row.setup or {})
        if not instance.ready:
            self._advance(task, HostedStatus.SERVING)
            await self.pool.set_up(instance, setup, ctx, run_sync=self._run_sync_for(task))
            on_set_up()
        self._advance(task, HostedStatus.SETTING_UP)
        spec = app_functions(app_cls)[task.row.function]
        app_input = spec.Input.model_validate(task.row.input)
        resolve_input_files(app_input, self._store, self._data_dir)
        self._advance(task, HostedStatus.RUNNING)
        method = getattr(instance.app, spec.method)
        result = await call_app_method(method, app_input, ctx, run_sync=self._run_sync_for(task))
        output = validate_output(spec, result)
        files = files_in(output)
        if files:
            self._advance(task, HostedStatus.UPLOADING)
            nbytes = sum(len(file.pending_data or b"") for file in files)
            self._quota.reserve(nbytes)
            try:
                await self._run_sync(lambda: store_files(self._store, self._data_dir, task.row, files))
            finally:
                self._quota.release(nbytes)
        # Through JSON text: pydantic writes NaN and infinities as null there, which JSON requires.
        self._finish(task, HostedStatus.COMPLETED, output=json.loads(output.model_dump_json()))

    async def _run_sync(self, fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn)

    def _run_sync_for(self, task: ActiveTask) -> Callable[[Callable[[], Any]], Any]:
        async def run_sync(fn: Callable[[], Any]) -> Any:
            task.thread_job = self._threads.submit(fn)
            return await asyncio.wrap_future(task.thread_job)

        return run_sync

    async def _thread_settled(self, task: ActiveTask) -> None:
        """A cancelled sync app keeps its thread until it returns; its instance waits too."""
        if task.thread_job is not None and not task.thread_job.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(asyncio.wrap_future(task.thread_job))

    # statuses

    def _advance(self, task: ActiveTask, status: int) -> None:
        if task.done.is_set():
            return
        record_status(self._store, task.row, status)
        self._publish(task.row)

    def _finish(self, task: ActiveTask, status: int, *, output: Any = None, error: str | None = None) -> None:
        if task.done.is_set():
            return
        if task.progress is not None:
            task.progress.close()
        task.row.output = output
        task.row.error = error
        try:
            self._advance(task, status)
        except DiskFull as full:  # it ends all the same, in memory, and is written once there is room
            self._publish(self._unsaved.end(task.row, status, full))
        task.done.set()
        if task.row.id in self._active:
            self._unfinished -= 1
        if task.row.webhook and task.row.id not in self._unsaved:
            self._webhooks.enqueue(task.row.id, task.row.webhook, webhook_body(task.row))

    def _publish(self, row: TaskRow) -> None:
        # A copy: the row changes on, and each watcher shows it in the dialect it answers in.
        snapshot = row.snapshot()
        self._watchers.publish(snapshot)
        self.events.publish(row.id, snapshot)

    # reading and controlling

    def get(self, task_id: str) -> TaskRow:
        active = self._active.get(task_id)
        if active:
            return active.row
        unsaved = self._unsaved.get(task_id)
        if unsaved is not None:
            return unsaved
        row = self._store.get_task(task_id)
        if row is None:
            raise NotFound(f"no task {task_id!r}")
        return row

    async def wait(self, task_id: str) -> TaskRow:
        active = self._active.get(task_id)
        if active:
            await active.done.wait()
            return active.row
        return self.get(task_id)

    def cancel(self, task_id: str, dialect: Dialect) -> TaskRow:
        """Cancel a task in progress.

        Raises:
            NotFound: no such task.
            Conflict: it already ended (its status, numbered as `dialect` does, in the error).
        """
        active = self._active.get(task_id)
        if active is None or active.done.is_set():
            row = self.get(task_id)
            code = status_in(dialect, row.status)
            name = dialect.numbering.by_code(code).name
            raise Conflict(
                f"task {task_id} already ended ({name}); only a task in progress can be cancelled", status=code
            )
        active.ctx.cancel()
        self._finish(active, HostedStatus.CANCELLED)
        if active.runner:
            active.runner.cancel()
        return active.row

    def watch(
        self, task_id: str, *, base_url: str, dialect: Dialect, idle: float | None = None
    ) -> AsyncIterator[dict[str, Any] | None]:
        """The task now, then each change, ending with its terminal state, as `dialect` shows it.

        With `idle`, a None comes after that many seconds without a change, so
        a stream can send a keep-alive through proxies.
        """
        return self._watchers.follow(self.get(task_id), base_url=base_url, dialect=dialect, idle=idle)
