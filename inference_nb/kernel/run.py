"""The Run handle people hold: live status, wait / await / cancel, result as Python data.

`Client.run(...)` and `Client.ask(...)` return a Run at once; the controller
thread keeps it current. Every wait has a deadline: when it passes, or when
the kernel is interrupted, the run is cancelled on the server before the
error is raised, so no work is left running unseen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..client.core import Snapshot
from ..client.errors import DeadlineExceeded, InferenceError, RunCancelled, RunFailed
from ..wire.statuses import Phase
from .run_state import RunState

if TYPE_CHECKING:
    import pandas

    from ..results.files import InlineImage
    from .backends import Backend

log = logging.getLogger("inference_nb")

CANCEL_TIMEOUT = 10.0
"""How long an interrupted or overdue wait spends cancelling the run on the server."""


class Run(RunState):
    """A task or run on a server, kept current by the controller thread; read it from any thread.

    Made by `Client.run`, `Client.ask`, `Client.get` and `Client.runs`, not by hand. The properties
    read the last snapshot and never touch the network (except `images`, which fetches once).

    Args:
        backend: the protocol side (a task or run backend of the client).
        snapshot: the first view of it.
        label: what it runs, for people (an app id, the start of a question).
        follow: keep it current until it ends (False: a snapshot that stays as it is).
    """

    def __init__(self, backend: Backend, snapshot: Snapshot, *, label: str, follow: bool = True) -> None:
        self._backend = backend
        self._snapshot = snapshot
        self.label = label
        """What it runs: an app id, or the start of a question."""
        self._finished: concurrent.futures.Future[Snapshot] = concurrent.futures.Future()
        self._listeners: list[Callable[[Run], None]] = []
        self._images: list[InlineImage] | None = None
        self._typed: tuple[Snapshot, Any] | None = None
        if snapshot.status.terminal:
            self._finished.set_result(snapshot)
        elif follow:
            backend.controller.follow(
                lambda: backend.get(self.id), lambda: backend.stream(self.id), self._apply, self._give_up,
                run_id=self.id, feed=getattr(backend, "feed", None), snapshot=snapshot,
            )  # fmt: skip

    @property
    def df(self) -> pandas.DataFrame:
        """The result (or a task's output) as a DataFrame: arrays of objects become rows, nested
        objects dotted columns (see `results.frames.to_dataframe`).

        Raises:
            InferenceError: it has not ended yet.
            pydantic.ValidationError: the result does not fit the schema's type.
        """
        from ..results.frames import to_dataframe

        self._require_done("df")
        return to_dataframe(self.result if self.result is not None else self.output)

    @property
    def images(self) -> list[InlineImage]:
        """The output's images, fetched once (with the key to the server's own origin only) and held as bytes.

        Raises:
            InferenceError: it has not ended yet.
            ValueError: a file declared as an image is not one.
            InvalidRequest: a run's result names image URLs (runs return data, not files).
            StatusError, TransportError: an image could not be fetched.
        """
        from ..results.files import images

        self._require_done("images")
        if self._images is None:
            self._images = images(self.output, lambda uri: self._call(self.fetch_async(uri)))
        return self._images

    async def fetch_async(self, uri: str) -> bytes:
        """A file of the output (with the key only for the server's own origin), on the controller loop.

        Args:
            uri: the file's absolute URL, as the output gives it.

        Raises:
            InvalidRequest: this is a run (runs return data, not files).
            StatusError, TransportError: the file could not be fetched.
        """
        return await self._backend.fetch(uri)

    def _require_done(self, what: str) -> None:
        if not self.done:
            raise InferenceError(f"{self.label} is still {self.status.name}: call run.wait() before run.{what}",
                                 run_id=self.id)  # fmt: skip

    # following

    def on_change(self, listener: Callable[[Run], None]) -> None:
        """Call `listener(run)` after every change, from the controller thread.

        Args:
            listener: called with this Run; what it raises is logged, not passed on.
        """
        self._listeners.append(listener)

    def _apply(self, snapshot: Snapshot) -> None:
        if snapshot == self._snapshot and not snapshot.status.terminal:
            return
        self._snapshot = snapshot
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:
                log.exception("a listener of %s failed", self.id)
        if snapshot.status.terminal and not self._finished.done():
            self._finished.set_result(snapshot)

    def _give_up(self, error: Exception) -> None:
        if not self._finished.done():
            self._finished.set_exception(error)

    def refresh(self) -> Run:
        """Ask the server now, instead of waiting for the next update; returns this Run.

        Raises:
            NotFoundError: the server no longer has it.
            StatusError, TransportError, BadResponse: the request failed.
            RuntimeError: called on the controller loop.
        """

        async def fetch_and_apply() -> None:  # applied on the controller thread, like every update
            self._apply(await self._backend.get(self.id))

        self._call(fetch_and_apply())
        return self

    # waiting and controlling

    def wait(self, timeout: float | None = None, *, raise_on_failure: bool = True) -> Run:
        """Block until the run ends; returns this Run.

        When the deadline passes or the kernel is interrupted, the run is cancelled on the server
        before the error is raised.

        Args:
            timeout: seconds to wait (default: the client's `wait_timeout`).
            raise_on_failure: raise for a failed or cancelled run (False: return it as it is).

        Raises:
            DeadlineExceeded: `timeout` passed (the message says whether cancelling worked).
            RunFailed: it failed, with the server's reason (only with `raise_on_failure`).
            RunCancelled: it was cancelled (only with `raise_on_failure`).
            AuthenticationError, NotFoundError: following it stopped (the key was refused, the
                server no longer has it).
            KeyboardInterrupt: the kernel was interrupted (after cancelling the run).
        """
        limit = self._backend.wait_timeout if timeout is None else timeout
        try:
            concurrent.futures.wait([self._finished], limit)
        except KeyboardInterrupt:
            self._cancel_quietly()
            raise
        if not self._finished.done():
            self._cancel_for(f"did not finish within {limit:g} s")
        return self._checked(raise_on_failure)

    def __await__(self):
        """`await run` is `await run.wait_async()`."""
        return self.wait_async().__await__()

    async def wait_async(self, timeout: float | None = None, *, raise_on_failure: bool = True) -> Run:
        """`await run`: like `wait`, without blocking the kernel's event loop; returns this Run.

        Args:
            timeout: seconds to wait (default: the client's `wait_timeout`).
            raise_on_failure: raise for a failed or cancelled run.

        Raises:
            DeadlineExceeded, RunFailed, RunCancelled, AuthenticationError, NotFoundError: as `wait`.
            asyncio.CancelledError, KeyboardInterrupt: the await was cancelled or the kernel
                interrupted (after cancelling the run).
        """
        limit = self._backend.wait_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        try:
            # A short sleep, not an await on the future: a kernel interrupt lands between sleeps.
            while not self._finished.done():
                if time.monotonic() >= deadline:
                    self._cancel_for(f"did not finish within {limit:g} s")
                await asyncio.sleep(0.02)
        except (asyncio.CancelledError, KeyboardInterrupt):
            self._cancel_quietly()
            raise
        return self._checked(raise_on_failure)

    def _checked(self, raise_on_failure: bool) -> Run:
        self._finished.result()  # re-raises why following stopped, if it did
        phase = self.status.phase
        if raise_on_failure and phase is Phase.FAILED:
            ended = "was rejected" if self.status.name == "Rejected" else "failed"  # refused before it ran
            raise RunFailed(f"{self.title} {ended}: {self.error or 'the server gave no reason'}", run_id=self.id)
        if raise_on_failure and phase is Phase.CANCELLED:
            raise RunCancelled(f"{self.title} was cancelled", run_id=self.id)
        return self

    def _cancel_for(self, reason: str) -> None:
        cancelled = self._cancel_quietly()
        outcome = "it was cancelled on the server" if cancelled else "cancelling it on the server failed"
        raise DeadlineExceeded(f"{self.title} {reason}; {outcome}", run_id=self.id)

    def _cancel_quietly(self) -> bool:
        try:
            self.cancel(timeout=CANCEL_TIMEOUT)
            return True
        except Exception as error:  # the original interruption matters more
            log.warning("could not cancel %s: %s", self.id, error)
            return False

    def cancel(self, *, timeout: float = CANCEL_TIMEOUT) -> Run:
        """Cancel the run on the server and take its new state; returns this Run.

        Nothing is sent for a run already seen to end.

        Args:
            timeout: seconds to wait for the server (default 10).

        Raises:
            ConflictError: it ended on the server before this run saw it.
            NotFoundError: the server no longer has it.
            StatusError, TransportError, BadResponse: the request failed.
            TimeoutError: the server took longer than `timeout` (the request may still land).
            RuntimeError: called on the controller loop (use `cancel_async` there).
        """
        self._call(self.cancel_async(), timeout)
        return self

    async def cancel_async(self) -> None:
        """`cancel`, for code on the controller loop (raises as `cancel`, without the timeout)."""
        if not self.done:
            await self._backend.cancel(self.id)
            self._apply(await self._backend.get(self.id))

    def approve(self, approved: bool = True, *, job_id: str | None = None) -> Run:
        """Runs only: answer the approval a paused run waits for; returns this Run.

        Args:
            approved: whether the function call may go ahead.
            job_id: the job to answer (default: the first open input request's).

        Raises:
            InferenceError: no approval is open (and no `job_id` was given).
            InvalidRequest: this is a task (tasks have no approvals).
            NotFoundError: no such job waits for approval.
            StatusError, TransportError: the request failed.
            RuntimeError: called on the controller loop (use `approve_async` there).
        """
        self._call(self.approve_async(approved, job_id=job_id))
        return self

    async def approve_async(self, approved: bool = True, *, job_id: str | None = None) -> None:
        """`approve`, for code on the controller loop (raises as `approve`)."""
        if job_id is None:
            open_requests = [r for r in self.input_requests if r.get("outcome") is None and r.get("jobId")]
            if not open_requests:
                raise InferenceError(f"{self.title} waits for no approval", run_id=self.id)
            job_id = open_requests[0]["jobId"]
        await self._backend.approve(job_id, approved)

    @property
    def provenance(self) -> dict[str, Any]:
        """Where the run lives: server, protocol, app or cluster, and id (never a key)."""
        return self._backend.provenance(self.id, self.label)

    def _call(self, coro: Any, timeout: float | None = None) -> Any:
        return self._backend.controller.call(coro, timeout)

    # showing

    @property
    def title(self) -> str:
        """How it is named to people: its label, then its id ("demo/sleep@1.0.0 (task_3f…)"); the kind
        is said only when the id does not say it already (no "task task_3f…")."""
        named = self.id if self.id.startswith(f"{self.kind}_") else f"{self.kind} {self.id}"
        return f"{self.label} ({named})"

    def __repr__(self) -> str:
        return f"<Run {self.title}: {self.status.name}>"

    def _ipython_display_(self) -> None:
        """In a notebook, an output that follows the run until it ends (see `run_display.show`)."""
        from .run_display import show

        show(self, self._backend.controller.loop, stopped=self._finished.done)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        from .run_display import mimebundle

        return mimebundle(self)


def short_label(message: str, limit: int = 60) -> str:
    """A Run's label for a question: its words on one line, cut to `limit` characters."""
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"
