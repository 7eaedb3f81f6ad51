"""What both protocols share, without I/O: headers, path segments, error mapping, retry timing,
stream parsing, and the one normalized view of a run or task (`Snapshot`)."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from inference_nb.version import __version__
from inference_nb.wire.statuses import DIALECT_HEADER, Phase

from .answers import raise_for_response, retry_after, unwrap
from .errors import BadResponse, InvalidRequest
from .profile import Profile

__all__ = [
    "RETRYABLE_STATUS", "USER_AGENT", "Backoff", "PayloadReader", "Snapshot", "Status", "astream_payloads",
    "headers", "json_body", "not_sent", "raise_for_response", "retry_after", "retry_delay", "segment",
    "stream_payloads", "unwrap",
]  # fmt: skip

USER_AGENT = f"inference_nb/{__version__}"
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
"""A request waits at most this long for a server's Retry-After before giving up."""


def headers(profile: Profile) -> dict[str, str]:
    """The authorization and user-agent headers of every request to `profile`'s server, and for
    the tasks API the dialect the answers are read in."""
    if profile.protocol == "runs":
        return {"authorization": profile.key, "user-agent": USER_AGENT}  # the runs API takes the bare key
    return {"authorization": f"Bearer {profile.key}", "user-agent": USER_AGENT,
            DIALECT_HEADER.lower(): profile.dialect.value}  # fmt: skip


def segment(value: str, *, field: str) -> str:
    """`value` (an id, a cluster) as exactly one path segment, every reserved character escaped.

    An id holding "/", "?", "%" or "#" would otherwise reach another path or become a query or a
    fragment; a bare "." or ".." is escaped too, since httpx resolves those segments away.

    Raises:
        InvalidRequest: `value` is empty or not text (`field` names it).
    """
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{field}: expected a non-empty string, got {value!r}", field=field)
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


@dataclass(frozen=True)
class Status:
    """A status in words: the normalized phase, and the server's own code and name."""

    phase: Phase
    """What the status means, whatever the server calls it (pending … cancelled)."""
    name: str
    """The server's name for it ("Completed", "done"), or "unknown status …"."""
    code: int | str | None = None
    """The server's own code (a task's number in its numbering, a run's status word)."""

    @property
    def terminal(self) -> bool:
        """Whether the task or run has ended (succeeded, failed or cancelled)."""
        return self.phase.terminal

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Progress:
    """How far a task's app says it is (`ctx.progress` on the embedded server)."""

    done: float
    """Steps finished so far."""
    total: float | None = None
    """How many steps there are; None when the app does not know."""
    message: str | None = None
    """The app's few words on the current step."""

    @property
    def fraction(self) -> float | None:
        """`done / total` (0 to 1), or None when the total is unknown."""
        return None if self.total is None else min(1.0, self.done / self.total)

    def __str__(self) -> str:
        count = f"{self.done:g} / {self.total:g}" if self.total is not None else f"{self.done:g}"
        return f"{count} · {self.message}" if self.message else count


@dataclass(frozen=True)
class Snapshot:
    """One view of a task or run, whichever protocol it came from."""

    kind: Literal["task", "run"]
    """ "task" (the tasks API) or "run" (the runs API)."""
    id: str
    """The task's or run's id."""
    status: Status
    """The status of this view."""
    timeline: tuple[tuple[str, str], ...] = ()
    """(status name, ISO time) for each status reached."""
    output: Any = None
    """The task's output, or the run's result."""
    error: str | None = None
    """The task's error, or the run's failureReason."""
    summary: str | None = None
    """Runs only: what the run did."""
    jobs: tuple[dict[str, Any], ...] = ()
    """Runs only: each function call."""
    input_requests: tuple[dict[str, Any], ...] = ()
    """Runs only: what a paused run waits for (approvals)."""
    session_id: str | None = None
    """Tasks only: the session the task ran in."""
    progress: Progress | None = None
    """Tasks only: the app's last progress report while it runs, if it sends any."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    """The object the server sent, untouched."""


# answers


def json_body(response: httpx.Response, *, what: str) -> Any:
    """The JSON of a successful answer.

    Args:
        response: the answer.
        what: the call, for the message ("get task").

    Raises:
        BadResponse: the body is not JSON.
    """
    try:
        return response.json()
    except ValueError:
        raise BadResponse(
            f"{what}: the server answered with something that is not JSON ({response.text[:120]!r})"
        ) from None


# retrying


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts: `start * factor**n`, capped, with full jitter down to half.

    Polling uses it as well: start 0.25 s, factor 1.5, cap 5 s by default.
    """

    start: float = 0.25
    factor: float = 1.5
    cap: float = 5.0

    def delay(self, attempt: int, *, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        base = min(self.cap, self.start * self.factor**attempt)
        return random.uniform(base / 2, base)


def retry_delay(
    attempt: int,
    backoff: Backoff,
    *,
    idempotent: bool,
    response: httpx.Response | None = None,
    error: httpx.TransportError | None = None,
) -> float | None:
    """Seconds to wait before trying again, or None: do not retry.

    A request that may have done work on the server (a create without an
    idempotency key or client id) is retried only when it certainly did not:
    it was never sent, or the server said 429 / 503 (refused, not processed).
    """
    if error is not None:
        return backoff.delay(attempt) if idempotent or not_sent(error) else None
    if response is None or response.status_code not in RETRYABLE_STATUS:
        return None
    if not idempotent and response.status_code not in (429, 503):
        return None
    wait = retry_after(response)
    if wait is not None and wait > MAX_RETRY_AFTER:
        return None  # a long pause is the caller's decision: RateLimited says how long
    return backoff.delay(attempt, retry_after=wait)


def not_sent(error: httpx.TransportError) -> bool:
    """True when the request certainly never reached the server (safe to send again)."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


# streams


class PayloadReader:
    """JSON payloads from stream lines: a line each for NDJSON; for SSE, the `data:`
    lines of an event joined until the blank line that ends it. Comments, other SSE
    fields and lines that are not JSON are skipped (the next snapshot supersedes them)."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> list[Any]:
        line = line.rstrip("\r\n")
        if line.startswith("data:"):
            self._data.append(line[6:] if line.startswith("data: ") else line[5:])
            return []
        if not line.strip():
            return self.close()
        if line.startswith((":", "event:", "id:", "retry:")):
            return []
        return _json_or_nothing(line)

    def close(self) -> list[Any]:
        text, self._data = "\n".join(self._data), []
        return _json_or_nothing(text) if text else []


def _json_or_nothing(text: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except ValueError:
        return []


def stream_payloads(lines: Iterable[str]) -> Iterator[Any]:
    reader = PayloadReader()
    for line in lines:
        yield from reader.feed(line)
    yield from reader.close()


async def astream_payloads(lines: AsyncIterable[str]) -> AsyncIterator[Any]:
    reader = PayloadReader()
    async for line in lines:
        for payload in reader.feed(line):
            yield payload
    for payload in reader.close():
        yield payload
