"""One events connection per server that has one: every followed run of it, through one stream.

Why (docs/ARCHITECTURE.md, "The controller" and "Event streams"): a request or a stream per run
made the kernel's CPU the limit at a few thousand runs. Here one connection per server carries
every change; events of runs nobody follows yet are kept briefly, because a run's first events
can overtake the answer that created it. The connection resumes after the last event id it saw
(`Last-Event-ID`), with backoff; when the server says events were lost (a gap), every followed
run is looked at once. It closes `LINGER` seconds after the last followed run ends.

Submits call `ready()` first, so a new run's events are published after the subscription and
none is missed. A run whose last known change is not later than the stream's start (the server's
time in its `ready` or `gap` event) may have changed unseen in between: it is looked at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from ...client.core import Backoff, Snapshot
from ...client.errors import AuthenticationError, BadResponse, RateLimited, StatusError, TransportError
from ...client.event_stream import StreamEvent
from .followed import Followed, updated_at
from .polls import PollScheduler

log = logging.getLogger("inference_nb")

RECONNECT = Backoff(start=0.25, factor=2.0, cap=10.0)
LINGER = 5.0
"""Seconds an events connection stays open after its last followed run ended."""
UNCLAIMED_RUNS = 10_000
"""Runs whose events are kept until someone follows them (the oldest go first)."""
UNCLAIMED_EVENTS = 8
"""Events kept per unclaimed run (beyond that, only the newest replaces the last)."""


@dataclass(frozen=True)
class EventFeed:
    """How to read one server's event stream (`backends.py` makes one per protocol and cluster)."""

    server: Hashable
    """Which server (and cluster): one connection each."""
    label: str
    """The server for people, in log lines (never its key)."""
    open: Callable[[int | None], AsyncIterator[StreamEvent]] | None
    """Opens the stream after an event id (None: from now on); None when the server has no stream."""
    id_of: Callable[[Any], Any]
    """The task's or run's id in an event's data."""
    snapshot: Callable[[Any], Snapshot]
    """The Snapshot of an event's data (raises BadResponse for a malformed one)."""


class ServerEvents:
    """The events connection of one server and the runs it follows (all on the controller loop)."""

    def __init__(self, feed: EventFeed, polls: PollScheduler) -> None:
        self.feed = feed
        self._polls = polls
        self._followed: dict[str, list[Followed]] = {}
        """By run id: every Run following it (two Runs of one task, say a map's rows and `client.get`, each hear it)."""
        self._unclaimed: OrderedDict[str, list[Any]] = OrderedDict()
        self._dropped = False
        """Whether unclaimed events were dropped (then a newly followed run is looked at once)."""
        self._last: int | None = None
        self._since: str | None = None
        """The server's time from which every change is in the stream (this subscription's start, or its last gap)."""
        self._available: bool | None = None
        """Whether the server has an events stream (None: not asked yet, or the last try failed)."""
        self._opened: asyncio.Future[bool] | None = None
        self._reader: asyncio.Task | None = None
        self._linger: asyncio.TimerHandle | None = None

    async def ready(self) -> bool:
        """Open the connection unless it is open; True when the server streams events."""
        if self._available is False or self.feed.open is None:
            return False
        if self._reader is None:
            self._opened = asyncio.get_running_loop().create_future()
            self._reader = asyncio.get_running_loop().create_task(self._read())
        assert self._opened is not None
        return await asyncio.shield(self._opened)

    async def follow(self, followed: Followed) -> bool:
        """Follow `followed` through the events; False when the server has none (poll it instead)."""
        if not await self.ready():
            return False
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        self._followed.setdefault(followed.run_id, []).append(followed)
        followed.on_end = lambda: self._ended(followed)
        buffered = self._unclaimed.pop(followed.run_id, None)
        for data in buffered or ():
            self._deliver(followed, data)
        known = followed.last
        if self._dropped or self._since is None or known is None or updated_at(known) <= self._since:
            self._polls.add(followed, once=True)  # it may have changed before the stream's start: look once
        return True

    async def _read(self) -> None:
        attempt = 0
        try:
            while True:
                try:
                    resuming = self._last is not None
                    async for event in self.feed.open(self._last):  # type: ignore[misc]
                        attempt = 0
                        if event.kind in ("ready", "gap"):
                            self._connected()
                            if event.kind == "gap" or not resuming:  # else: lossless since the last start
                                self._since = event.data.get("at") if isinstance(event.data, dict) else None
                            if event.kind == "gap":
                                self._resync(event)
                        else:
                            self._dispatch(event.data)
                        self._last = event.id
                except (StatusError, BadResponse) as error:
                    if not self._opened_ok():
                        # 404 (or any refusal, or a 200 that is no event stream) on the first try: no events here.
                        permanent = isinstance(error, BadResponse) or (
                            error.status_code < 500 and not isinstance(error, AuthenticationError | RateLimited)
                        )
                        self._not_connected(available=False if permanent else None)
                        return
                    if isinstance(error, AuthenticationError):
                        self._stop_all(error)
                        return
                    log.debug("the events stream of %s broke (%s); reconnecting", self.feed.label, error)
                except TransportError as error:
                    if not self._opened_ok():
                        self._not_connected(available=None)
                        return
                    log.debug("the events stream of %s broke (%s); reconnecting", self.feed.label, error)
                if not self._followed:  # nobody to reconnect for: the next `ready()` opens a new one
                    self._close()
                    return
                await asyncio.sleep(RECONNECT.delay(attempt))
                attempt += 1
        finally:
            if asyncio.current_task() is self._reader:
                self._reader = None

    def _opened_ok(self) -> bool:
        return self._opened is not None and self._opened.done() and self._opened.result()

    def _connected(self) -> None:
        self._available = True
        if self._opened is not None and not self._opened.done():
            self._opened.set_result(True)
        if not self._followed and self._linger is None:  # opened for a run that may never come
            self._linger = asyncio.get_running_loop().call_later(LINGER, self._close_if_idle)

    def _not_connected(self, *, available: bool | None) -> None:
        """The first try failed: polling takes over for now (for good when `available` is False)."""
        self._available = available
        if self._opened is not None and not self._opened.done():
            self._opened.set_result(False)
        self._opened = None
        handed_over, self._followed = self._all(), {}
        for followed in handed_over:
            followed.on_end = None
            self._polls.add(followed)

    def _resync(self, gap: StreamEvent) -> None:
        log.debug("events of %s were lost (%s); looking at each followed run once", self.feed.label, gap.data)
        self._unclaimed.clear()
        self._dropped = True
        for followed in self._all():
            self._polls.add(followed, once=True)

    def _dispatch(self, data: Any) -> None:
        run_id = self.feed.id_of(data) if isinstance(data, dict) else None
        followers = self._followed.get(run_id)  # type: ignore[arg-type]
        if followers:
            for followed in list(followers):
                self._deliver(followed, data)
            return
        if not isinstance(run_id, str):
            return
        buffered = self._unclaimed.get(run_id)
        if buffered is None:
            buffered = self._unclaimed[run_id] = []
            if len(self._unclaimed) > UNCLAIMED_RUNS:
                self._unclaimed.popitem(last=False)
                self._dropped = True
        if len(buffered) < UNCLAIMED_EVENTS:
            buffered.append(data)
        else:
            buffered[-1] = data

    def _deliver(self, followed: Followed, data: Any) -> None:
        try:
            followed.apply(self.feed.snapshot(data))
        except BadResponse as error:
            followed.stop_for_answer(error)

    def _ended(self, followed: Followed) -> None:
        followers = self._followed.get(followed.run_id, [])
        if followed in followers:
            followers.remove(followed)
            if not followers:
                del self._followed[followed.run_id]
        if not self._followed and self._linger is None and self._reader is not None:
            self._linger = asyncio.get_running_loop().call_later(LINGER, self._close_if_idle)

    def _close_if_idle(self) -> None:
        self._linger = None
        if not self._followed and self._reader is not None:
            self._reader.cancel()
            self._close()

    def _close(self) -> None:
        self._reader, self._opened, self._last, self._since = None, None, None, None
        self._unclaimed.clear()
        self._dropped = False

    def _stop_all(self, error: Exception) -> None:
        for followed in self._all():
            followed.stop(error)

    def _all(self) -> list[Followed]:
        return [followed for followers in self._followed.values() for followed in followers]


class EventFollowers:
    """The events connection of each server the controller follows runs of."""

    def __init__(self, polls: PollScheduler) -> None:
        self._polls = polls
        self._servers: dict[Hashable, ServerEvents] = {}

    def of(self, feed: EventFeed) -> ServerEvents:
        server = self._servers.get(feed.server)
        if server is None:
            server = self._servers[feed.server] = ServerEvents(feed, self._polls)
        return server
