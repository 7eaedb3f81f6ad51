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
import contextlib
import logging
import math
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..client.errors import (
    AuthenticationError,
    BadResponse,
    DeadlineExceeded,
    InferenceError,
    InvalidRequest,
    NotFoundError,
    RateLimited,
    ServerError,
    StatusError,
    TransportError,
)
from ..kernel.run import CANCEL_TIMEOUT, Run
from ..wire.statuses import Phase
from .ended import Ended
from .ledger import ENDED, Entry, MapBook
from .progress import Progress
from .row_errors import Claimed, Refused, RowFailed
from .rows import QuestionRows, Row, TaskRows, attempt_key
from .tally import Tally

if TYPE_CHECKING:
    from ..kernel.controller import Controller
    from .options import MapOptions

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
OTHER_KERNEL_POLL = 0.25
"""Seconds between looks at the ledger while another kernel is sending a row this map also has."""
NOT_SENT = "not sent"
"""The status of a row left unsent because the map stopped."""


class Mapper:
    """The rows' work on the controller loop. The calling thread only reads `runs`, `errors`, `stored`,
    `attempts` and `stopped`. `rows` are distinct: identical input rows share one (map_rows joins them back).

    Only the `concurrency` rows in flight hold a coroutine and a Run: a row waits as an index, and an
    ended row keeps an `Ended` record (docs/ARCHITECTURE.md, "map's own cost")."""

    def __init__(
        self, work: TaskRows | QuestionRows, rows: list[Row], options: MapOptions, book: MapBook | None = None
    ) -> None:
        self.work, self.rows, self.retry_failed = work, rows, options.retry_failed
        self.runs: list[Run | Ended | None] = [None] * len(rows)
        """Each row's run while it is followed; its `Ended` record once it ended."""
        self.errors: list[str | None] = [None] * len(rows)
        """Why a row failed before it had a run, or why its run could not be followed."""
        self.stored: list[Entry | None] = [None] * len(rows)
        """Rows that ended before this call: their record in the ledger."""
        self.attempts: list[int] = [0] * len(rows)
        """Attempts made for each row, in this map and before."""
        self.stopped: str | None = None
        """Why no more rows are sent (a refused key, an unreachable server, an interrupt), if so."""
        self.book = book
        self._fresh = options.fresh
        self._nonce = f":fresh-{uuid.uuid4().hex[:12]}" if options.fresh else ""
        entries = book.entries() if book is not None else {}
        map_id = book.map_id if book is not None else None
        # What the ledger says of each row: the entries this map may use (`_entry`), and the others,
        # whose keys it must not reuse.
        self._entries = {d: e for d, e in entries.items() if options.cache or e.map_id == map_id}
        self._unusable = {d: e for d, e in entries.items() if d not in self._entries or self._fresh}
        self._found: dict[str, Run] = {}
        self._looked_up: set[str] = set()
        """Rows in doubt looked up on the server before sending (`_found` holds what was found)."""
        self._cancelling = False
        self._creating = 0
        """Creates on their way (a stop waits for their answers, to cancel what they made)."""
        self._creates_done: asyncio.Event | None = None
        self._failed_in_a_row = 0
        self._unreachable_after = 1
        self.tally = Tally(len(rows))
        for i, row in enumerate(rows):
            entry = self._entry(row.digest)
            if entry is not None and entry.state in ENDED and not self._retrying(entry):
                self.stored[i], self.attempts[i] = entry, entry.attempt + 1
                self.tally.settled.append(i)

    def _entry(self, digest: str) -> Entry | None:
        """The row's usable entry: none with `fresh`; with `cache=False`, only one this map wrote."""
        return None if self._fresh else self._entries.get(digest)

    def _retrying(self, entry: Entry) -> bool:
        return self.retry_failed and entry.state != "succeeded"

    async def _all(self, concurrency: int) -> None:
        # A server that no row reaches: as many rows in a row as are sent at once, gave up on.
        self._unreachable_after = max(3, min(concurrency, len(self.rows)))
        left = [i for i in range(len(self.rows)) if self.stored[i] is None]
        await self._find_in_doubt(left)
        # `concurrency` workers taking the rows in order, rather than a coroutine per row waiting its turn.
        turns = iter(left)
        await asyncio.gather(*(self._worker(turns) for _ in range(min(concurrency, len(left)))))

    async def _worker(self, turns: Iterator[int]) -> None:
        for i in turns:
            await self._row(i)

    async def _find_in_doubt(self, left: list[int]) -> None:
        """Rows whose create was in flight when an earlier map stopped (a kill, a crash) are looked up on the
        server once, together, before anything is sent: a found task is followed, not created twice."""
        wanted = {}
        for i in left:
            entry = self._entry(self.rows[i].digest)
            if entry is not None and entry.state == "submitting" and not entry.owned_by_another_live_process():
                token = attempt_key(entry.root, entry.attempt)
                wanted[self.rows[i].digest] = (self.rows[i], token, entry.recorded_at)
        if not wanted:
            return
        self._looked_up = set(wanted)
        known = {e.run_id for e in self._entries.values() if e.run_id} | {e.run_id for e in self._unusable.values()}
        try:
            self._found = await self.work.find_sent(wanted, known - {None})  # type: ignore[arg-type]
        except InferenceError as error:
            # Without the look, sending again could make a second task: those rows wait for a next run.
            for i in left:
                if self.rows[i].digest in wanted:
                    self.errors[i] = (
                        f"its create may have reached the server before an earlier map stopped, and the server's "
                        f"tasks could not be listed to find it ({error}); run the cell again to look again"
                    )

    async def _row(self, i: int) -> None:
        try:
            await self._row_work(i)
        finally:
            if self.runs[i] is not None:
                self.tally.running -= 1
            self.tally.settled.append(i)
            self.rows[i] = Row(None, self.rows[i].digest)  # its body is sent: only its key is read from now on

    async def _row_work(self, i: int) -> None:
        if self.stopped is not None or self.errors[i] is not None:
            return
        try:
            run = await self._run_of(i)
        except RowFailed as failed:
            self.errors[i] = str(failed)
            return
        if run is None:  # ended in another kernel meanwhile
            return
        self.runs[i] = run
        self.tally.running += 1
        if self._cancelling and not run.done:  # cancelled while this row's create was on its way
            await _cancel(run)
        try:
            await run.wait_async(math.inf, raise_on_failure=False)
        except InferenceError as error:  # the row keeps the last status seen
            self.errors[i] = f"could not follow {run.id}: {error}"
            return
        self.runs[i] = ended = Ended.of(run)
        self._record_end(i, ended)

    async def _run_of(self, i: int) -> Run | None:
        """The row's run: followed again, found on the server, or sent; None when it ended in another kernel."""
        digest = self.rows[i].digest
        entry = self._entry(digest)
        while True:
            if entry is not None and entry.state == "submitting" and entry.owned_by_another_live_process():
                entry = await self._await_other_kernel(digest, entry)
                continue
            if entry is not None and entry.state in ENDED and not self._retrying(entry):
                self.stored[i], self.attempts[i] = entry, entry.attempt + 1
                return None
            if entry is not None and entry.state == "submitted" and entry.run_id:
                try:
                    run = await self.work.attach(entry.run_id)
                except NotFoundError:  # gone from the server (deleted): sent again, as a new attempt
                    root, attempt = entry.root, entry.attempt + 1
                else:
                    if run.status.phase is not Phase.CANCELLED:
                        self.attempts[i] = entry.attempt + 1
                        return run
                    # Cancelled before its end was recorded (the map was interrupted): sent again.
                    root, attempt = entry.root, entry.attempt + 1
            elif entry is not None and entry.state == "submitting":
                run = self._found.pop(digest, None)
                if run is None and digest not in self._looked_up:  # left in doubt by a kernel that died since
                    run = await self._look_for(i, attempt_key(entry.root, entry.attempt))
                if run is not None:
                    self.attempts[i] = entry.attempt + 1
                    if self.book is not None:
                        self.book.submitted(digest, run.id)
                    return run
                root, attempt = entry.root, entry.attempt  # not on the server: the same key again
            elif entry is not None:  # interrupted, or ended and retried
                root, attempt = entry.root, entry.attempt + 1
            elif (old := self._unusable.get(digest)) is not None:  # `fresh`, or another map's under cache=False
                root, attempt = old.root + self._nonce, old.attempt + 1
            else:
                root, attempt = digest + self._nonce, 0
            try:
                return await self._send(i, root, attempt, entry)
            except Claimed as other:
                entry = other.entry

    async def _await_other_kernel(self, digest: str, entry: Entry) -> Entry | None:
        """Another live kernel is sending this row: its entry once that kernel got an answer (or died)."""
        assert self.book is not None
        while self.stopped is None:
            await asyncio.sleep(OTHER_KERNEL_POLL)
            now = self.book.entry(digest)
            if now != entry or not entry.owned_by_another_live_process():
                return now
        raise RowFailed(f"not sent: {self.stopped}")

    async def _send(self, i: int, root: str, attempt: int, seen: Entry | None) -> Run:
        """Claim the row in the ledger, then create its run; with `retry_failed`, older ended attempts the
        server finds again (a lost ledger) are passed over."""
        digest = self.rows[i].digest
        while True:
            if self.book is not None and (other := self.book.claim(digest, root, attempt, seen)) is not None:
                raise Claimed(other)
            self._creating += 1
            try:
                run, ended_before = await self._submit(i, attempt_key(root, attempt))
            except Refused:
                if self.book is not None:
                    self.book.release(digest)
                raise
            finally:
                self._creating -= 1
                if not self._creating and self._creates_done is not None:
                    self._creates_done.set()
            self.attempts[i] = attempt + 1
            if self.book is not None:
                self.book.submitted(digest, run.id)
            if not (self.retry_failed and ended_before and run.status.phase in RETRIED):
                return run
            attempt += 1
            seen = self.book.entry(digest) if self.book is not None else None

    def _record_end(self, i: int, ended: Ended) -> None:
        if self.book is None:
            return
        digest = self.rows[i].digest
        if self._cancelling and ended.phase is Phase.CANCELLED:
            self.book.interrupted(digest)  # cancelled by this map's interrupt or deadline: sent again next time
            return
        self.book.ended(digest, ended.phase.value, result=ended.output, error=ended.error, queued_s=ended.queued_s,
                        run_s=ended.run_s)  # fmt: skip

    async def _submit(self, i: int, token: str) -> tuple[Run, bool]:
        """The row's run for `token`; raises `RowFailed` when this row fails alone (`Refused` when the
        server certainly made nothing)."""
        row = self.rows[i]
        round_ = 1
        while True:
            try:
                started = await self.work.start(row, token)
            except RateLimited as error:
                # Refused before any work, and the client already paces itself to the limit (see
                # docs/ARCHITECTURE.md, "Rate limits and pacing"): waited out, never the row's failure.
                if self.stopped is not None:
                    raise Refused(str(error)) from None
                await asyncio.sleep(error.retry_after if error.retry_after is not None else ROUND_PAUSE)
                continue
            except AuthenticationError as error:
                self.stop(f"the server refused the key: {error}")
                raise Refused(str(error)) from None
            except PASSING as error:
                # The create may have reached the server: a server that drops Idempotency-Keys would make
                # a second task, so it is looked for first (docs/ARCHITECTURE.md, "The run ledger").
                found = await self._look_for(i, token)
                if found is not None:
                    self._failed_in_a_row = 0
                    return found, found.done
                if round_ < SUBMIT_ROUNDS and self.stopped is None:
                    await asyncio.sleep(ROUND_PAUSE * round_)
                    round_ += 1
                    continue
                self._failed_in_a_row += 1
                if self._failed_in_a_row >= self._unreachable_after:
                    self.stop(f"{self._failed_in_a_row} rows in a row could not be submitted (last: {error})")
                raise RowFailed(
                    f"not submitted after {round_} attempts (if one did reach the server, running the cell "
                    f"again finds it): {error}"
                ) from None
            except (StatusError, InvalidRequest) as error:  # refused (by the server, or before sending): for good
                raise Refused(str(error)) from None
            self._failed_in_a_row = 0
            return started

    async def _look_for(self, i: int, token: str) -> Run | None:
        row = self.rows[i]
        known = {e.run_id for e in self._entries.values() if e.run_id}
        try:
            found = await self.work.find_sent({row.digest: (row, token, time.time())}, known)  # type: ignore[arg-type]
        except InferenceError as error:
            raise RowFailed(
                f"its create may have reached the server, and the server's tasks could not be listed to find it "
                f"({error}); running the cell again looks again"
            ) from None
        return found.get(row.digest)

    def stop(self, reason: str) -> None:
        """Send no more rows; the runs already in flight go on (`_cancel_all` cancels them)."""
        if self.stopped is None:
            self.stopped = reason

    async def _cancel_all(self) -> None:
        self._cancelling = True
        if self._creating:  # their runs are cancelled too, once their creates are answered
            self._creates_done = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._creates_done.wait(), CANCEL_TIMEOUT / 2)
        await asyncio.gather(*(_cancel(run) for run in self.runs if isinstance(run, Run) and not run.done))

    def status(self, i: int) -> str:
        """Row i's state: queued, running, not sent, or the phase it ended in."""
        run = self.runs[i]
        if run is None:
            if self.stored[i] is not None:
                return self.stored[i].state  # type: ignore[union-attr]
            if self.errors[i] is not None:
                return Phase.FAILED.value
            return NOT_SENT if self.stopped is not None else "queued"
        if isinstance(run, Ended):
            return run.phase.value
        return run.status.phase.value if run.done else "running"

    def counts(self) -> Counter[str]:
        """Rows by state."""
        return self.tally.counts(self.status, NOT_SENT if self.stopped is not None else "queued")

    def follow(self, controller: Controller, concurrency: int, timeout: float | None, progress: Progress) -> None:
        """Block until every row ended, redrawing `progress`. On an interrupt, an error or the
        deadline, cancel on the server what is still in flight, then raise."""
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        try:
            future = controller.submit(self._all(concurrency))
            while not future.done() and time.monotonic() < deadline:
                concurrent.futures.wait([future], min(REFRESH, max(0.0, deadline - time.monotonic())))
                progress.show(self.counts())
                if self.book is not None:
                    self.book.flush()
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
            if self.book is not None:
                self.book.flush()
            progress.show(self.counts(), final=True, note=self.stopped)


async def _cancel(run: Run) -> None:
    try:
        await run.cancel_async()
    except Exception as error:  # it may have ended meanwhile; the other runs must still be cancelled
        log.debug("cancelling %s: %s", run.id, error)
