"""Running `map`'s rows on the controller loop, a bounded number at once, while the caller's thread waits.

The calling thread blocks like `run.wait()` and redraws the progress display; on an interrupt,
an error or the deadline it cancels on the server what is still in flight before it raises.
One row's trouble stays that row's: a submit that keeps failing, or a run that cannot be
followed, fails that row and the map goes on. Only a refused key or a server that no row can
reach stops it early, and then the rows not yet sent are marked "not sent" with the reason.
Why the work is on the controller loop and not the kernel's: docs/ARCHITECTURE.md, "The controller".
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import time
from collections import Counter
from typing import TYPE_CHECKING

from ..client.errors import (
    AuthenticationError,
    BadResponse,
    DeadlineExceeded,
    InferenceError,
    InvalidRequest,
    RateLimited,
    ServerError,
    StatusError,
    TransportError,
)
from ..kernel.run import CANCEL_TIMEOUT, Run
from ..wire.statuses import Phase
from .progress import Progress
from .rows import QuestionRows, Row, TaskRows

if TYPE_CHECKING:
    from ..kernel.controller import Controller

log = logging.getLogger("inference_nb")

REFRESH = 0.25
"""Seconds between redraws of the progress display."""
RETRIED = (Phase.FAILED, Phase.CANCELLED)
PASSING = (TransportError, ServerError, BadResponse)
"""Submit failures that may pass: the row is submitted again, with the same key (so never twice)."""
SUBMIT_ROUNDS = 3
"""Submits of one row (each already retried by the client) before that row fails alone."""
ROUND_PAUSE = 0.5
"""Seconds before a row's next submit, times the rounds it has failed."""
NOT_SENT = "not sent"
"""The status of a row left unsent because the map stopped."""


class _RowFailed(Exception):
    """This row failed; the others go on."""


class Mapper:
    """The rows' work on the controller loop. The calling thread only reads `runs`, `errors` and `stopped`."""

    def __init__(self, work: TaskRows | QuestionRows, rows: list[Row], retry_failed: bool) -> None:
        self.work, self.rows, self.retry_failed = work, rows, retry_failed
        self.runs: list[Run | None] = [None] * len(rows)
        self.errors: list[str | None] = [None] * len(rows)
        """Why a row failed before it had a run, or why its run could not be followed."""
        self.stopped: str | None = None
        """Why no more rows are sent (a refused key, an unreachable server, an interrupt), if so."""
        self._cancelling = False
        self._failed_in_a_row = 0
        self._unreachable_after = 1

    async def _all(self, concurrency: int) -> None:
        slots = asyncio.Semaphore(concurrency)
        # A server that no row reaches: as many rows in a row as are sent at once, gave up on.
        self._unreachable_after = max(3, min(concurrency, len(self.rows)))
        await asyncio.gather(*(self._row(i, slots) for i in range(len(self.rows))))

    async def _row(self, i: int, slots: asyncio.Semaphore) -> None:
        async with slots:
            if self.stopped is not None:
                return
            attempt = 0
            try:
                run, ended_before = await self._submit(i, attempt)
                while self.retry_failed and ended_before and run.status.phase in RETRIED:
                    attempt += 1
                    run, ended_before = await self._submit(i, attempt)
            except _RowFailed as failed:
                self.errors[i] = str(failed)
                return
            self.runs[i] = run
            if self._cancelling and not run.done:  # cancelled while this row's create was on its way
                await _cancel(run)
            try:
                await run.wait_async(math.inf, raise_on_failure=False)
            except InferenceError as error:  # the row keeps the last status seen
                self.errors[i] = f"could not follow {run.id}: {error}"

    async def _submit(self, i: int, attempt: int) -> tuple[Run, bool]:
        """The row's run for `attempt`; raises `_RowFailed` when this row fails alone."""
        round_ = 1
        while True:
            try:
                started = await self.work.start(self.rows[i], attempt)
            except RateLimited as error:
                # Refused before any work, and the client already paces itself to the limit (see
                # docs/ARCHITECTURE.md, "Rate limits and pacing"): waited out, never the row's failure.
                if self.stopped is not None:
                    raise _RowFailed(str(error)) from None
                await asyncio.sleep(error.retry_after if error.retry_after is not None else ROUND_PAUSE)
                continue
            except AuthenticationError as error:
                self.stop(f"the server refused the key: {error}")
                raise _RowFailed(str(error)) from None
            except PASSING as error:
                if round_ < SUBMIT_ROUNDS and self.stopped is None:
                    await asyncio.sleep(ROUND_PAUSE * round_)
                    round_ += 1
                    continue
                self._failed_in_a_row += 1
                if self._failed_in_a_row >= self._unreachable_after:
                    self.stop(f"{self._failed_in_a_row} rows in a row could not be submitted (last: {error})")
                raise _RowFailed(
                    f"not submitted after {round_} attempts (if one did reach the server, running the cell "
                    f"again finds it): {error}"
                ) from None
            except (StatusError, InvalidRequest) as error:  # refused (by the server, or before sending): for good
                raise _RowFailed(str(error)) from None
            self._failed_in_a_row = 0
            return started

    def stop(self, reason: str) -> None:
        """Send no more rows; the runs already in flight go on (`_cancel_all` cancels them)."""
        if self.stopped is None:
            self.stopped = reason

    async def _cancel_all(self) -> None:
        self._cancelling = True
        await asyncio.gather(*(_cancel(run) for run in self.runs if run is not None and not run.done))

    def status(self, i: int) -> str:
        """Row i's state: queued, running, not sent, or the phase it ended in."""
        run = self.runs[i]
        if run is None:
            if self.errors[i] is not None:
                return Phase.FAILED.value
            return NOT_SENT if self.stopped is not None else "queued"
        return run.status.phase.value if run.done else "running"

    def counts(self) -> Counter[str]:
        """Rows by state."""
        return Counter(self.status(i) for i in range(len(self.rows)))

    def follow(self, controller: Controller, concurrency: int, timeout: float | None, progress: Progress) -> None:
        """Block until every row ended, redrawing `progress`. On an interrupt, an error or the
        deadline, cancel on the server what is still in flight, then raise."""
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        try:
            future = controller.submit(self._all(concurrency))
            while not future.done() and time.monotonic() < deadline:
                concurrent.futures.wait([future], min(REFRESH, max(0.0, deadline - time.monotonic())))
                progress.show(self.counts())
            if not future.done():
                counts = self.counts()
                left = counts["queued"] + counts["running"]
                self.stop(f"the deadline of {timeout:g} s passed")
                raise DeadlineExceeded(
                    f"client.map did not finish within {timeout:g} s: {left} of {len(self.rows)} rows were left; "
                    "those still running were cancelled on the server"
                )
            future.result()  # re-raises what stopped the map on the loop, if something did
        except BaseException as error:
            self.stop("interrupted" if isinstance(error, KeyboardInterrupt) else f"{type(error).__name__}: {error}")
            try:
                controller.call(self._cancel_all(), CANCEL_TIMEOUT)
            except Exception as failure:  # the interruption matters more
                log.warning("client.map could not cancel every run still in flight: %s", failure)
            raise
        finally:
            progress.show(self.counts(), final=True, note=self.stopped)


async def _cancel(run: Run) -> None:
    try:
        await run.cancel_async()
    except Exception as error:  # it may have ended meanwhile; the other runs must still be cancelled
        log.debug("cancelling %s: %s", run.id, error)
