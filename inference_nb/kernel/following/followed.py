"""One run the controller follows: how to look at it, and where its snapshots go."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from ...client.core import Snapshot
from ...client.errors import BadResponse, StatusError

ENDING_STATUS = frozenset({401, 403, 404, 409, 410})
"""Answers after which looking again cannot help: the key is refused, or the run is gone or in conflict."""


def updated_at(snapshot: Snapshot) -> str:
    """The server's time of the snapshot's last change (ISO 8601, so comparable as text), or ""."""
    raw = snapshot.raw
    updated = raw.get("updated_at") if snapshot.kind == "task" else (raw.get("run") or {}).get("updatedAt")
    return updated if isinstance(updated, str) else ""


def _progress(snapshot: Snapshot) -> tuple[int, str]:
    """How far a run has come: statuses reached, then the server's last update time."""
    return len(snapshot.timeline), updated_at(snapshot)


class Followed:
    """A run being followed, through whichever path (events, stream, polls) brings its snapshots.

    Args:
        run_id: the task's or run's id.
        fetch: one GET of it.
        apply: where each new snapshot goes (the Run's, called on the controller thread).
        give_up: told why following stopped, when it stops without the run ending.
        server: whose `Retry-After` holds for it (a Retry-After pauses every run of that server).
        snapshot: the view the run already has (later ones must be newer).
    """

    __slots__ = ("_apply", "_give_up", "ended", "fetch", "interval", "last", "on_end", "run_id", "server")

    def __init__(
        self,
        run_id: str,
        fetch: Callable[[], Awaitable[Snapshot]],
        apply: Callable[[Snapshot], None],
        give_up: Callable[[Exception], None],
        server: Hashable = None,
        snapshot: Snapshot | None = None,
    ) -> None:
        self.run_id, self.fetch, self.server = run_id, fetch, server
        self._apply, self._give_up = apply, give_up
        self.last = snapshot
        self.ended = False
        self.interval = 0.0
        """Seconds between polls, while it is polled (set by the scheduler)."""
        self.on_end: Callable[[], None] | None = None
        """Called once when following ends, whichever path ended it (the events connection counts its runs)."""

    def apply(self, snapshot: Snapshot) -> bool:
        """Pass `snapshot` on unless it repeats or predates the last one; True when it was passed on.

        A reconnect's replay, a resync after a gap and a poll may each bring a view already seen,
        or one older than an event that overtook it.
        """
        if self.ended or (
            self.last is not None and (snapshot == self.last or _progress(snapshot) < _progress(self.last))
        ):
            return False
        self.last = snapshot
        self._apply(snapshot)
        if snapshot.status.terminal:
            self._end()
        return True

    def _end(self) -> None:
        self.ended = True
        if self.on_end is not None:
            self.on_end()

    def stop(self, error: Exception) -> None:
        """Stop following, telling the run why (once)."""
        if not self.ended:
            self._end()
            self._give_up(error)

    def stop_for_answer(self, error: StatusError | BadResponse) -> None:
        """Stop after an answer that looking again cannot change: a refused key, a run gone
        (404, 410), a conflict (409), or an answer that breaks the protocol."""
        self.stop(ending_error(self.run_id, error))


def ending_error(run_id: str, error: Any) -> Exception:
    """`error`, said as the reason following `run_id` stopped (same class, so `except` still finds it)."""
    if isinstance(error, BadResponse):
        return BadResponse(
            f"stopped following {run_id}: the server's answer breaks the protocol: {error}", run_id=run_id
        )
    if isinstance(error, StatusError) and error.status_code in (409, 410):
        what = "gone" if error.status_code == 410 else "in conflict"
        return type(error)(
            f"stopped following {run_id}: the server says it is {what} ({error.status_code}: {error})",
            status_code=error.status_code,
            code=error.code,
            run_id=run_id,
        )
    return error
