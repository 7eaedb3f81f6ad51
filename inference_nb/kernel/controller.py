"""The kernel-side runtime: one asyncio loop on a daemon thread per process.

Why a thread of its own (docs/ARCHITECTURE.md, "The controller"): work on the kernel's own loop freezes
whenever a cell blocks, while a loop on its own thread keeps streaming status
changes (and setting widget traits) whatever the cells do. Everything that
touches the network runs here; listeners are called from this one thread.

A run is followed through its server's one events connection where the server
has one; otherwise by a stream of its own while a stream slot is free, and by
the shared poll scheduler (adaptive intervals, Retry-After for the whole
server) for the rest (`following/`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from ..client.core import Snapshot
from ..client.errors import BadResponse, NotFoundError, StatusError, TransportError
from .following.event_feed import EventFeed, EventFollowers
from .following.followed import Followed
from .following.polls import PollScheduler

log = logging.getLogger("inference_nb")
T = TypeVar("T")

MAX_REQUESTS = 16
"""Requests in flight at once (submits, polls, cancels)."""
MAX_STREAMS = 32
"""Runs followed by a stream of their own at once (on servers without an events stream); more are polled."""
MAX_POLLS = 8
"""Polls in flight at once, of all polled runs together (within `MAX_REQUESTS`, leaving room for submits)."""
CANCELLED_WITHIN = 5.0
"""Seconds `Controller.call` waits for a coroutine it cancelled to unwind."""


def _settle(future: concurrent.futures.Future[T], task: asyncio.Task[T]) -> None:
    """Hand `task`'s outcome to a future that other threads wait on."""
    if task.cancelled():
        future.cancel()
    elif (error := task.exception()) is not None:
        future.set_exception(error)
    else:
        future.set_result(task.result())


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
        self.polls = PollScheduler(self.request, in_flight=MAX_POLLS)
        """Every polled run, on one timer."""
        self.events = EventFollowers(self.polls)
        """The events connection of each server that has one."""

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
        """Run `coro` on the controller loop and block until it ends (not from the loop itself).

        When the wait ends first (`timeout`, or a KeyboardInterrupt), the coroutine is cancelled,
        and the caller waits up to `CANCELLED_WITHIN` seconds for it to unwind before the error
        goes on: nothing keeps running for a call its caller gave up on (docs/ARCHITECTURE.md,
        "Anything started can be found again").
        """
        if self.on_loop:
            coro.close()
            raise RuntimeError("Controller.call would block its own loop; await the coroutine instead")
        ended: concurrent.futures.Future[T] = concurrent.futures.Future()
        started: list[asyncio.Task[T]] = []

        def start() -> None:
            task = self.loop.create_task(coro)
            task.add_done_callback(lambda _: _settle(ended, task))
            started.append(task)

        def cancel() -> None:
            if started:  # else `start` was never queued: an interrupt came first
                started[0].cancel()

        try:
            self.loop.call_soon_threadsafe(start)
            return ended.result(timeout)
        except BaseException:
            if not ended.done():  # the wait was given up on, not the coroutine's own error
                self.loop.call_soon_threadsafe(cancel)  # after `start`: callbacks run in order
                with contextlib.suppress(concurrent.futures.CancelledError, TimeoutError):
                    ended.exception(CANCELLED_WITHIN)  # (`concurrent.futures.wait` misses a cancel)
            raise

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
        *,
        run_id: str = "",
        feed: EventFeed | None = None,
        snapshot: Snapshot | None = None,
    ) -> None:
        """Keep `apply`-ing snapshots of one run until it ends (called from any thread).

        Through the server's events connection when `feed` has one, else the run's own `stream`
        while a stream slot is free, else the poll scheduler. `give_up` hears of an error that
        stops the following (the key is refused; the run is gone, in conflict, or its answers
        break the protocol). `snapshot` is the view the run has now.
        """
        server = feed.server if feed is not None else None

        def start() -> None:
            followed = Followed(run_id, fetch, apply, give_up, server, snapshot)
            task = self.loop.create_task(self._follow(followed, stream, feed))
            self._watchers.add(task)
            task.add_done_callback(self._watchers.discard)

        self.loop.call_soon_threadsafe(start)

    async def prepare(self, feed: EventFeed | None) -> None:
        """Open `feed`'s events connection before a run is created or looked up, so that none of the
        run's events comes before the subscription (no-op when open, or when the server has none)."""
        if feed is not None and feed.open is not None:
            await self.events.of(feed).ready()

    async def _follow(self, followed: Followed, stream: Callable[[], Any] | None, feed: EventFeed | None) -> None:
        try:
            if feed is not None and feed.open is not None and await self.events.of(feed).follow(followed):
                return
            if stream is not None and not self.streams.locked():
                async with self.streams:
                    snapshots = stream()
                    if snapshots is not None and await self._stream(snapshots, followed):
                        return
            self.polls.add(followed)
        except Exception as error:  # the loop must go on for every other run
            log.debug("following a run stopped: %s", error)
            followed.stop(error)

    async def _stream(self, snapshots: AsyncIterator[Snapshot], followed: Followed) -> bool:
        """True when following is over (the run ended, or cannot be followed); False to poll instead."""
        try:
            async for snapshot in snapshots:
                followed.apply(snapshot)
                if followed.ended:
                    return True
        except NotFoundError:
            return False  # the server has no stream endpoint
        except BadResponse as error:
            followed.stop_for_answer(error)
            return True
        except (TransportError, StatusError) as error:
            log.debug("stream broke (%s); polling instead", error)
        return False
