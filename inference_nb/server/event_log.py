"""One stream of every change per API: a bounded replay log that subscribers read through cursors.

Why cursors (docs/ARCHITECTURE.md, "Event streams"): the log is the only queue. Each subscriber
remembers the last event id it sent and reads on from there, so publishing costs the engine one
append and a wake-up per subscriber, never a wait, and holds no thread per subscriber. A
subscriber that falls further behind than the log holds (a slow reader, or a reconnect with an
old `Last-Event-ID`) gets a `gap` and goes on from the newest event: it resyncs with one list call.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from typing import Any

from .store import now_iso

DEFAULT_REPLAY = 10_000
"""Events a server keeps for resuming streams (`ServerConfig.event_replay`)."""
BATCH = 256
"""Events a stream sends in one write, at most."""


@dataclass(frozen=True)
class Event:
    """One change of a task or run."""

    id: int
    """Its place in the stream; ids grow by one per event and past a restart (see `EventLog`)."""
    item: str
    """The task's or run's id."""
    scope: str
    """The run's cluster ("" for tasks): a runs stream carries one cluster's runs."""
    payload: Any
    """What changed: a copy of the task's row, or the run's detail as JSON text."""


@dataclass(frozen=True)
class Ready:
    """The first item of a stream that resumes without a gap: it goes on after `id`."""

    id: int
    at: str
    """The server's time when the stream subscribed: every change after it is in the stream."""


@dataclass(frozen=True)
class Gap:
    """Events the subscriber will never see: it asked to resume from `after`, or fell behind."""

    id: int
    """The stream goes on after this id (the newest event when the gap was found)."""
    after: int | None
    """The id the subscriber had reached."""
    oldest: int | None
    """The oldest id the log still holds (None when it holds none)."""
    reason: str
    """Why, in words."""
    at: str
    """The server's time when the gap was found: every change after it is in the stream."""


class EventLog:
    """The last `replay` events of one API, and the subscribers reading them.

    Ids start from the clock in microseconds, so that a restarted server's ids lie beyond any
    its earlier life gave out (unless that life published more than a million events per second
    of downtime): a client resuming with an id from before the restart gets a gap, never events
    of another life under ids it thinks it has seen.

    Args:
        replay: how many events are kept for resuming (at least 1).
    """

    def __init__(self, *, replay: int = DEFAULT_REPLAY) -> None:
        if replay < 1:
            raise ValueError(f"event_replay must be at least 1, not {replay}")
        self._events: deque[Event] = deque(maxlen=replay)
        self._last = time.time_ns() // 1000
        self._floor = self._last
        """Every event with an id above this is still in the log."""
        self._wakes: set[asyncio.Event] = set()
        self._closed = False

    @property
    def last(self) -> int:
        """The newest event's id (or where ids start, before any)."""
        return self._last

    @property
    def _oldest(self) -> int | None:
        return self._events[0].id if self._events else None

    def publish(self, item: str, payload: Any, *, scope: str = "") -> None:
        """Append a change and wake every subscriber; never waits."""
        if len(self._events) == self._events.maxlen:
            self._floor = self._events[0].id
        self._last += 1
        self._events.append(Event(self._last, item, scope, payload))
        for wake in self._wakes:
            wake.set()

    def close(self) -> None:
        """The server stops: each subscriber sends what it has not sent yet, then its stream ends."""
        self._closed = True
        for wake in self._wakes:
            wake.set()

    def subscribe(
        self, *, after: int | None, scope: str = "", ids: Collection[str] = (), idle: float | None = None
    ) -> AsyncIterator[list[Ready | Event | Gap] | None]:
        """In batches of what there is to send: `Ready`, then the events after `after` (None: from
        now on) of `scope`, only those of `ids` when given.

        Starts with a `Gap` instead of `Ready` when `after` is older than the log holds or is no id
        of this server's; a None after `idle` quiet seconds (for a keep-alive). Subscribed at once, before the first
        `anext`, so nothing published after this call is missed. Batches (up to `BATCH` items) let a
        stream send what piled up while it waited in one write, not one write per event.
        """
        wanted = frozenset(ids)
        wake = asyncio.Event()
        self._wakes.add(wake)
        start = self._last if after is None else after
        subscribed_at = now_iso()
        gap = None
        if after is not None and not self._floor <= after <= self._last:
            reason = (
                f"no event of this server has id {after} (its newest is {self._last})"
                if after > self._last
                else f"the events after id {after} are no longer kept (the server keeps the last "
                f"{self._events.maxlen}, and forgets them all when it restarts)"
            )
            gap, start = Gap(self._last, after, self._oldest, reason, subscribed_at), self._last

        def matches(event: Event) -> bool:
            return event.scope == scope and (not wanted or event.item in wanted)

        return self._read(start, gap, subscribed_at, matches, wake, idle)

    async def _read(
        self,
        cursor: int,
        gap: Gap | None,
        subscribed_at: str,
        matches: Callable[[Event], bool],
        wake: asyncio.Event,
        idle: float | None,
    ) -> AsyncIterator[list[Ready | Event | Gap] | None]:
        try:
            yield [gap if gap is not None else Ready(cursor, subscribed_at)]
            while True:
                wake.clear()
                batch: list[Ready | Event | Gap] = []
                while cursor < self._last:
                    if cursor < self._floor:  # fell behind further than the log holds
                        reason = f"this stream fell more than {self._events.maxlen} events behind"
                        batch = [Gap(self._last, cursor, self._oldest, reason, now_iso())]
                        cursor = self._last
                        break
                    event = self._events[cursor + 1 - self._events[0].id]  # ids in the log are contiguous
                    cursor = event.id
                    if matches(event):
                        batch.append(event)
                        if len(batch) == BATCH:
                            yield batch
                            batch = []
                if batch:
                    yield batch
                    continue  # more may have come while that was sent
                if self._closed:
                    return
                if not wake.is_set():
                    try:
                        await asyncio.wait_for(wake.wait(), idle)
                    except TimeoutError:
                        yield None
        finally:
            self._wakes.discard(wake)
