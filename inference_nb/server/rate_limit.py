"""`--rate-limit RATE`: a token bucket per key, so a notebook can be tried against a limited service.

Every request that carries a key takes a token from that key's bucket, which holds up to one
second's worth (`rate` tokens) and refills at `rate` per second; a request finding it empty is
answered 429 with a `Retry-After` of whole seconds (RFC 9110 allows no fraction), before any work.
See docs/ARCHITECTURE.md, "Rate limits and pacing".
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .clock import Clock
from .errors import TooManyRequests, render_error


@dataclass
class TokenBucket:
    """`rate` tokens a second, at most `rate` kept (at least one); I/O-free, timed by the caller."""

    rate: float
    tokens: float = field(init=False)
    at: float | None = None

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate)

    def take(self, now: float) -> float:
        """Take a token and return 0, or return the seconds until one is there (taking none)."""
        if self.at is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    """One `TokenBucket` per key, found by a hash of the key (the key itself is never kept).

    `admitted` and `refused` count the requests let through and answered 429, for whoever wants
    to see how a client paced itself (tests, benchmarks: `app.state.rate_limiter`).
    """

    def __init__(self, rate: float, clock: Clock) -> None:
        self.rate, self.clock = rate, clock
        self._buckets: dict[bytes, TokenBucket] = {}
        self.admitted = 0
        self.refused = 0

    def wait(self, key: str) -> float:
        """0 when a request with `key` may go (its token taken), else the seconds until it may."""
        digest = hashlib.sha256(key.encode()).digest()
        bucket = self._buckets.get(digest)
        if bucket is None:
            bucket = self._buckets[digest] = TokenBucket(self.rate)
        wait = bucket.take(self.clock.monotonic())
        if wait > 0:
            self.refused += 1
        else:
            self.admitted += 1
        return wait


class RateLimit:
    """The middleware: a request over its key's limit is answered 429 with `Retry-After`, before any work."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wait = self.limiter.wait(Headers(scope=scope).get("authorization", "")) if scope["type"] == "http" else 0
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        error = TooManyRequests(
            f"over the rate limit of {self.limiter.rate:g} requests a second for this key; retry after {seconds} s"
        )
        response = render_error(Request(scope), error)
        response.headers["Retry-After"] = str(seconds)
        await response(scope, receive, send)
