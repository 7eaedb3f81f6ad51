"""Pacing the requests to one server and key: no pace until a 429, then an AIMD send rate.

I/O-free: the transport asks `delay` before each send and reports each answer. Until a server
first answers 429 nothing is held back. After it, requests leave at most `rate` a second: a 429
lowers the rate to a little under what the server let through since the last decrease (at both
moments its allowance was used up, so what it let through in between is its limit; a first 429
counts the last second, and paces nothing when fewer than `MIN_ANSWERS` came back in it), at
most once a second, since requests already on their way were sent at the old rate. Each answer
raises the rate, by `GROWTH` of itself a second while answers flow. A minute without a 429 and
the pacing is dropped. The Retry-After itself is the transport's to honour (it holds every
request).
Why in the client and not in `map` alone: the limit is per key, over every request of it.
See docs/ARCHITECTURE.md, "Rate limits and pacing".
"""

from __future__ import annotations

import math
from collections import deque

DECREASE = 0.9
"""On a 429 the rate becomes this share of what the server let through (see above)."""
GROWTH = 0.05
"""While answers flow, the rate grows by this share of itself each second."""
WINDOW = 1.0
"""Seconds over which the answers before a 429 are counted; also the least time between two decreases."""
MIN_RATE = 0.2
"""Requests a second the rate never goes below."""
FORGET = 60.0
"""Seconds without a 429 after which requests are not paced any more."""
MIN_ANSWERS = 3
"""Answers in the `WINDOW` before a first 429 that pacing needs to tell the server's rate from: with
fewer, the 429 is a pause (its Retry-After holds every request), not a measure of the limit."""


class Pacer:
    """The send rate of one server and key (`rate`: requests a second; None while unpaced)."""

    def __init__(self) -> None:
        self.rate: float | None = None
        self.refusals = 0
        """429s answered so far."""
        self._next = 0.0
        """The time of the next free slot to send in."""
        self._answers: deque[float] = deque()
        """The times of the answers (not 429) of the last `WINDOW`."""
        self._answered = 0
        """Answers (not 429) so far."""
        self._decreased = -math.inf
        self._answered_then = 0
        """`_answered` at the last decrease."""
        self._refused = -math.inf

    def delay(self, now: float) -> float:
        """Take the next slot to send in; the seconds to wait for it (0: send now)."""
        if self.rate is None:
            return 0.0
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.rate
        return slot - now

    def answered(self, now: float) -> None:
        """A request was answered, with anything but a 429."""
        self._answered += 1
        answers = self._answers
        answers.append(now)
        while answers[0] < now - WINDOW:
            answers.popleft()
        if self.rate is not None:
            if now - self._refused > FORGET:
                self.rate = None
            else:
                self.rate += GROWTH  # one answer in `rate` a second: GROWTH × rate a second

    def refused(self, now: float) -> None:
        """A request was answered 429."""
        self.refusals += 1
        self._refused = now
        if now - self._decreased < WINDOW:  # sent at the old rate, before the last decrease was known
            return
        if self.rate is None:
            recent = sum(1 for at in self._answers if at >= now - WINDOW)
            if recent < MIN_ANSWERS:
                return
            taken = recent / WINDOW
        else:
            taken = (self._answered - self._answered_then) / (now - self._decreased)
        self._decreased, self._answered_then = now, self._answered
        self.rate = max(MIN_RATE, DECREASE * taken)
