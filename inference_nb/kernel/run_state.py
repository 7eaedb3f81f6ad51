"""What a Run says of itself: properties read from its last snapshot, from any thread.

The controller thread replaces the snapshot; nothing here touches the network. `Run` (run.py) adds
following, waiting, cancelling and the data it fetches.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..client.core import Progress, Snapshot, Status
from ..wire.statuses import Phase

if TYPE_CHECKING:
    from .backends import Backend


class RunState:
    """The read-only state of a Run (see `Run`)."""

    _backend: Backend
    _snapshot: Snapshot
    _typed: tuple[Snapshot, Any] | None

    @property
    def id(self) -> str:
        """The task's or run's id on its server (what `Client.get` takes)."""
        return self._snapshot.id

    @property
    def kind(self) -> str:
        """ "task" (an app task) or "run" (a question with a result schema)."""
        return self._snapshot.kind

    @property
    def status(self) -> Status:
        """The normalized phase, and the server's own status name and code."""
        return self._snapshot.status

    @property
    def done(self) -> bool:
        """Whether it has ended (succeeded, failed or cancelled)."""
        return self._snapshot.status.terminal

    @property
    def timeline(self) -> list[tuple[str, datetime]]:
        """Each status the run reached and when, as the server recorded it."""
        return [(name, _parse_time(at)) for name, at in self._snapshot.timeline if at]

    @property
    def elapsed(self) -> float | None:
        """Seconds from the first status in the timeline to the last (to now while it runs), or None."""
        times = [at for _, at in self.timeline]
        if not times:
            return None
        end = times[-1] if self.done else datetime.now(times[0].tzinfo)
        return (end - times[0]).total_seconds()

    @property
    def progress(self) -> Progress | None:
        """Tasks only: how far the app says it is (done, total, message) while it runs; None when it
        sends nothing, and once it has ended."""
        return self._snapshot.progress

    @property
    def output(self) -> Any:
        """The task's output, or the run's result, as the server sent it (None until it is there)."""
        return self._snapshot.output

    @property
    def result(self) -> Any:
        """The result: instances of the pydantic model when the schema was one; None until it succeeded.

        Raises:
            pydantic.ValidationError: the result does not fit the schema's type.
        """
        snapshot = self._snapshot
        if snapshot.status.phase is not Phase.SUCCEEDED or snapshot.output is None:
            return None
        if self._typed is None or self._typed[0] is not snapshot:  # validated once per snapshot
            self._typed = (snapshot, self._backend.typed(snapshot.output))
        return self._typed[1]

    @property
    def error(self) -> str | None:
        """Why the run failed (the server's words), or None."""
        return self._snapshot.error

    @property
    def summary(self) -> str | None:
        """Runs only: what the run did, also (and especially) when it ended without a result."""
        return self._snapshot.summary

    @property
    def planner(self) -> str | None:
        """Runs only: who planned it, the model's name or "deterministic" (None when the server does not say)."""
        run = self._snapshot.raw.get("run") if self._snapshot.kind == "run" else None
        return run.get("plannedBy") if isinstance(run, dict) else None

    @property
    def jobs(self) -> list[dict[str, Any]]:
        """Runs only: each function call, with its status and resultType."""
        return list(self._snapshot.jobs)

    @property
    def input_requests(self) -> list[dict[str, Any]]:
        """Runs only: what a paused run waits for (approvals)."""
        return list(self._snapshot.input_requests)

    @property
    def session_id(self) -> str | None:
        """Tasks only: the session the task ran in (`session="new"` starts one), or None."""
        return self._snapshot.session_id

    @property
    def raw(self) -> dict[str, Any]:
        """The last object the server sent, untouched."""
        return self._snapshot.raw


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
