"""The kernel-side runtime: one asyncio loop on a daemon thread per process.

Why a thread of its own (docs/ARCHITECTURE.md, "The controller"): work on the kernel's own loop freezes
whenever a cell blocks, while a loop on its own thread keeps streaming status
changes (and setting widget traits) whatever the cells do. Everything that
touches the network runs here; listeners are called from this one thread.

A run is followed by a stream where the server offers one; otherwise, or when
a stream breaks, by polling with backoff and jitter (start 0.25 s, factor 1.5,
cap 5 s), honouring Retry-After.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from .client.core import Backoff, Snapshot
from .client.errors import BadResponse, NotFoundError, RateLimited, StatusError, TransportError

log = logging.getLogger("inference_nb")
T = TypeVar("T")

MAX_REQUESTS = 16
"""Requests in flight at once (submits, polls, cancels)."""
MAX_STREAMS = 32
"""Runs followed by a stream at once; more are polled."""
POLL = Backoff(start=0.25, factor=1.5, cap=5.0)
POLL_RETRY_AFTER_CAP = 60.0
"""A server asking to wait longer still gets a look a minute later: a run must not go unseen."""


class Controller:
    _instance: Controller | None = None
    _instance_lock = threading.Lock()

    @classmethod
    def get(cls) -> Controller:
        """The process's controller, started on first use."""
        with cls._instance_lock:
            if cls._instance is None or not cls._instance._thread.is_alive():
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="inference_nb-controller", daemon=True)
        self._thread.start()
        ready.wait()
        self.requests = asyncio.Semaphore(MAX_REQUESTS)
        self.streams = asyncio.Semaphore(MAX_STREAMS)
        self._watchers: set[asyncio.Task] = set()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    @property
    def on_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `coro` on the controller loop; the future can be waited on from any thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the controller loop and block until it ends (not from the loop itself)."""
        if self.on_loop:
            coro.close()
            raise RuntimeError("Controller.call would block its own loop; await the coroutine instead")
        return self.submit(coro).result(timeout)

    async def request(self, make: Callable[[], Awaitable[T]]) -> T:
        """One request, counted against the cap on requests in flight."""
        async with self.requests:
            return await make()

    def follow(
        self,
        fetch: Callable[[], Awaitable[Snapshot]],
        stream: Callable[[], AsyncIterator[Snapshot] | None] | None,
        apply: Callable[[Snapshot], None],
        give_up: Callable[[Exception], None],
    ) -> None:
        """Keep `apply`-ing snapshots of one run until it ends (called from any thread).

        `give_up` hears of an error that stops the following (the run is gone, the key is refused).
        """

        def start() -> None:
            task = self.loop.create_task(self._follow(fetch, stream, apply, give_up))
            self._watchers.add(task)
            task.add_done_callback(self._watchers.discard)

        self.loop.call_soon_threadsafe(start)

    async def _follow(
        self,
        fetch: Callable[[], Awaitable[Snapshot]],
        stream: Callable[[], Any] | None,
        apply: Callable[[Snapshot], None],
        give_up: Callable[[Exception], None],
    ) -> None:
        try:
            if stream is not None and not self.streams.locked():
                async with self.streams:
                    snapshots = stream()
                    if snapshots is not None and await self._stream(snapshots, apply):
                        return
            await self._poll(fetch, apply)
        except Exception as error:  # the loop must go on for every other run
            log.debug("following a run stopped: %s", error)
            give_up(error)

    async def _stream(self, snapshots: AsyncIterator[Snapshot], apply: Callable[[Snapshot], None]) -> bool:
        """True when the stream saw the run end; False to fall back to polling."""
        try:
            async for snapshot in snapshots:
                apply(snapshot)
                if snapshot.status.terminal:
                    return True
        except NotFoundError:
            return False  # the server has no stream endpoint
        except (TransportError, StatusError, BadResponse) as error:
            log.debug("stream broke (%s); polling instead", error)
        return False

    async def _poll(self, fetch: Callable[[], Awaitable[Snapshot]], apply: Callable[[Snapshot], None]) -> None:
        attempt, last = 0, None
        while True:
            retry_after = None
            try:
                snapshot = await self.request(fetch)
            except RateLimited as limited:
                retry_after = limited.retry_after
            except (TransportError, StatusError, BadResponse) as error:
                if isinstance(error, StatusError) and error.status_code in (401, 403, 404):
                    raise
                log.debug("poll failed (%s); trying again", error)
            else:
                apply(snapshot)
                if snapshot.status.terminal:
                    return
                if snapshot.status != last:  # something moves: look again soon
                    attempt, last = 0, snapshot.status
            if retry_after is not None:
                retry_after = min(retry_after, POLL_RETRY_AFTER_CAP)
            await asyncio.sleep(POLL.delay(attempt, retry_after=retry_after))
            attempt += 1
