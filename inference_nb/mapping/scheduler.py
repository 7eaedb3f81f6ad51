"""Running `map`'s rows on the controller loop, a bounded number at once, while the caller's thread waits.

The calling thread blocks like `run.wait()` and redraws the progress display; on an interrupt,
an error or the deadline it cancels on the server what is still in flight before it raises.
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

from ..client.errors import DeadlineExceeded, InvalidRequest, StatusError
from ..handle import CANCEL_TIMEOUT, Run
from ..wire.statuses import Phase
from .progress import Progress
from .rows import QuestionRows, Row, TaskRows

if TYPE_CHECKING:
    from ..controller import Controller

log = logging.getLogger("inference_nb")

REFRESH = 0.25
"""Seconds between redraws of the progress display."""
REFUSED = (400, 422)
"""Answers that refuse one row's request: that row fails, the other rows go on."""
RETRIED = (Phase.FAILED, Phase.CANCELLED)


class Mapper:
    """The rows' work on the controller loop. The calling thread only reads `runs` and `refused`."""

    def __init__(self, work: TaskRows | QuestionRows, rows: list[Row], retry_failed: bool) -> None:
        self.work, self.rows, self.retry_failed = work, rows, retry_failed
        self.runs: list[Run | None] = [None] * len(rows)
        self.refused: list[str | None] = [None] * len(rows)
        self.stopping = False

    async def _all(self, concurrency: int) -> None:
        slots = asyncio.Semaphore(concurrency)
        await asyncio.gather(*(self._row(i, slots) for i in range(len(self.rows))))

    async def _row(self, i: int, slots: asyncio.Semaphore) -> None:
        async with slots:
            if self.stopping:
                return
            row, attempt = self.rows[i], 0
            try:
                run, ended_before = await self.work.start(row, attempt)
                while self.retry_failed and ended_before and run.status.phase in RETRIED:
                    attempt += 1
                    run, ended_before = await self.work.start(row, attempt)
            except StatusError as error:
                if error.status_code not in REFUSED:
                    raise
                self.refused[i] = str(error)
                return
            except InvalidRequest as error:  # the app's input schema refused the row before sending it
                self.refused[i] = str(error)
                return
            self.runs[i] = run
            if self.stopping:  # stopped while this row's create was on its way
                await _cancel(run)
            await run.wait_async(math.inf, raise_on_failure=False)

    async def _cancel_all(self) -> None:
        self.stopping = True
        await asyncio.gather(*(_cancel(run) for run in self.runs if run is not None))

    def counts(self) -> Counter[str]:
        """Rows by state: queued, running, and the phase each ended in."""
        counts: Counter[str] = Counter()
        for run, refused in zip(self.runs, self.refused, strict=True):
            if refused is not None:
                counts["failed"] += 1
            elif run is None:
                counts["queued"] += 1
            else:
                counts[run.status.phase.value if run.done else "running"] += 1
        return counts

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
                raise DeadlineExceeded(
                    f"client.map did not finish within {timeout:g} s: {left} of {len(self.rows)} rows were left; "
                    "those still running were cancelled on the server"
                )
            future.result()  # re-raises what stopped the map on the loop, if something did
        except BaseException:
            try:
                controller.call(self._cancel_all(), CANCEL_TIMEOUT)
            except Exception as error:  # the interruption matters more
                log.warning("client.map could not cancel every run still in flight: %s", error)
            raise
        finally:
            progress.show(self.counts(), final=True)


async def _cancel(run: Run) -> None:
    try:
        await run.cancel_async()
    except Exception as error:  # it may have ended meanwhile; the other runs must still be cancelled
        log.debug("cancelling %s: %s", run.id, error)
