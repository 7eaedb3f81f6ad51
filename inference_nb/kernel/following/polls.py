"""One poll scheduler for every polled run: a single timer, adaptive intervals, a cap on requests.

Why one scheduler (docs/ARCHITECTURE.md, "The controller"): a sleeping task per run costs a timer
and a wake-up per run, and thousands of runs made the kernel's CPU the limit. Here one heap orders
every polled run by when it is due, one task waits for the earliest, and at most `in_flight` polls
run at once. A run is looked at again `FAST` seconds after a change, then ever more slowly (×1.5
per quiet look, up to `SLOW`), with jitter so that runs started together spread out. A 429 pauses
every run of that server for its Retry-After (capped at `RETRY_AFTER_CAP`).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Hashable

from ...client.core import Snapshot
from ...client.errors import BadResponse, RateLimited, StatusError, TransportError
from .followed import ENDING_STATUS, Followed

log = logging.getLogger("inference_nb")

FAST = 0.25
"""Seconds to the next look after a change (and the first)."""
SLOW = 5.0
"""The longest wait between looks at a run that does not change."""
GROWTH = 1.5
RETRY_AFTER_CAP = 60.0
"""A server asking to wait longer still gets a look a minute later: a run must not go unseen."""


class PollScheduler:
    """Polls followed runs until they end, sharing one timer and at most `in_flight` requests.

    Args:
        request: sends one request under the controller's cap (`Controller.request`).
        in_flight: polls sent at once, at most.
    """

    def __init__(self, request: Callable[[Callable[[], Awaitable[Snapshot]]], Awaitable[Snapshot]], *, in_flight: int):
        self._request = request
        self._max = in_flight
        self._heap: list[tuple[float, int, Followed, bool]] = []
        self._order = itertools.count()
        self._paused: dict[Hashable, float] = {}
        self._in_flight = 0
        self._polls: set[asyncio.Task] = set()
        self._wake: asyncio.Event | None = None
        self._timer: asyncio.Task | None = None

    def add(self, followed: Followed, *, once: bool = False) -> None:
        """Poll `followed` until it ends (`once`: look once, successfully, then leave it to its events).

        Called on the controller loop.
        """
        if not once:
            followed.interval = FAST
        self._push(asyncio.get_running_loop().time(), followed, once)

    def _push(self, due: float, followed: Followed, once: bool) -> None:
        heapq.heappush(self._heap, (due, next(self._order), followed, once))
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop, wake = asyncio.get_running_loop(), self._wake
        assert wake is not None
        try:
            while self._heap or self._in_flight:
                now = loop.time()
                while self._heap and self._in_flight < self._max and self._heap[0][0] <= now:
                    _, _, followed, once = heapq.heappop(self._heap)
                    if followed.ended:
                        continue
                    resume = self._paused.get(followed.server, 0.0)
                    if resume > now:  # the server asked everyone to wait
                        heapq.heappush(self._heap, (resume, next(self._order), followed, once))
                        continue
                    self._in_flight += 1
                    poll = loop.create_task(self._poll(followed, once))
                    self._polls.add(poll)
                    poll.add_done_callback(self._polls.discard)
                wake.clear()
                room = self._in_flight < self._max
                timeout = max(0.0, self._heap[0][0] - now) if self._heap and room else None
                try:
                    await asyncio.wait_for(wake.wait(), timeout)  # the one timer: the earliest due run
                except TimeoutError:
                    pass
        finally:
            self._timer = None

    async def _poll(self, followed: Followed, once: bool) -> None:
        loop = asyncio.get_running_loop()
        wait: float | None = None
        try:
            snapshot = await self._request(followed.fetch)
        except RateLimited as limited:
            wait = min(limited.retry_after if limited.retry_after is not None else SLOW, RETRY_AFTER_CAP)
            self._paused[followed.server] = max(self._paused.get(followed.server, 0.0), loop.time() + wait)
        except (StatusError, BadResponse) as error:
            if isinstance(error, BadResponse) or error.status_code in ENDING_STATUS:
                followed.stop_for_answer(error)
            else:
                wait = self._slower(followed)
                log.debug("poll of %s failed (%s); trying again", followed.run_id, error)
        except TransportError as error:
            wait = self._slower(followed)
            log.debug("poll of %s failed (%s); trying again", followed.run_id, error)
        except Exception as error:  # the scheduler must go on for every other run
            log.debug("following %s stopped: %s", followed.run_id, error)
            followed.stop(error)
        else:
            changed = followed.apply(snapshot)
            if not once:
                followed.interval = FAST if changed else min(SLOW, followed.interval * GROWTH)
                wait = _jittered(followed.interval)
        finally:
            self._in_flight -= 1
            if wait is not None and not followed.ended:
                self._push(loop.time() + wait, followed, once)
            elif self._wake is not None:
                self._wake.set()

    @staticmethod
    def _slower(followed: Followed) -> float:
        followed.interval = min(SLOW, max(followed.interval, FAST) * GROWTH)
        return _jittered(followed.interval)


def _jittered(interval: float) -> float:
    return random.uniform(interval / 2, interval)
