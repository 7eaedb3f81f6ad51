"""The event stream of a server, without I/O: one connection for every change of every task or run
(`GET /tasks/events`, `GET /clusters/{c}/runs/events`; docs/ARCHITECTURE.md, "Event streams").

Each NDJSON line is `{"id", "event", "data"}`: "ready" first (the stream goes on after `id`), then
"task" or "run" events whose data is the object a GET gives, and "gap" when events were lost
(list again). A server without the stream answers 404.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import httpx

from .core import headers, segment
from .errors import BadResponse
from .profile import Profile

KINDS = frozenset({"ready", "gap", "task", "run"})


@dataclass(frozen=True)
class StreamEvent:
    """One line of an event stream."""

    id: int
    """Its id: resume after it with `after=` (sent as `Last-Event-ID`)."""
    kind: str
    """ "ready", "gap", "task" or "run"."""
    data: Any
    """A task object or a run's detail; for a gap `{after, oldest, message}`."""


def events_request(
    profile: Profile, *, after: int | None = None, cluster: str | None = None, ids: Collection[str] = ()
) -> httpx.Request:
    """`GET /tasks/events` (tasks) or `GET /clusters/{cluster}/runs/events` (runs), as NDJSON.

    Args:
        profile: the server.
        after: the last event id seen; the stream resumes after it (None: from now on).
        cluster: runs only: the cluster (default: the profile's).
        ids: only these tasks' or runs' events (empty: all).
    """
    if profile.protocol == "tasks":
        path = "/tasks/events"
    else:
        path = f"/clusters/{segment(cluster or profile.cluster, field='cluster')}/runs/events"
    extra = {"accept": "application/x-ndjson"}
    if after is not None:
        extra["last-event-id"] = str(after)
    params = {"ids": ",".join(ids)} if ids else None
    return httpx.Request("GET", profile.base_url + path, headers={**headers(profile), **extra}, params=params)


def read_event(line: str) -> StreamEvent | None:
    """The event of one NDJSON line; None for a blank (keep-alive) line.

    Raises:
        BadResponse: the line is not an event of the stream (the server breaks the protocol).
    """
    if not line.strip():
        return None
    try:
        body = json.loads(line)
    except ValueError:
        raise BadResponse(f"the event stream sent a line that is not JSON: {line[:120]!r}") from None
    if not (isinstance(body, dict) and isinstance(body.get("id"), int) and body.get("event") in KINDS):
        raise BadResponse(f'the event stream sent a line that is no {{"id", "event", "data"}} event: {line[:120]!r}')
    return StreamEvent(body["id"], body["event"], body.get("data"))
