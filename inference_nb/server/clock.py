"""The server's clock: what session expiry and the webhook retry schedule read.

Production uses `SYSTEM_CLOCK` (time.monotonic and time.time). A test passes its own
`Clock` to `start_server(clock=...)` and moves it forward, so an hour-long timeout can
be tested without waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """`monotonic()` for durations in this process, `now()` for times stored in the data dir."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> float:
        return time.time()

    def on_jump(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from any thread) whenever the clock moves other than by time passing.

        Whoever sleeps until a time on this clock must be woken then. The system clock never jumps.
        """


SYSTEM_CLOCK = Clock()
