"""A task as the server keeps it: one row of the `tasks` table, and the engine's live copy."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TaskRow:
    id: str
    app: str
    status: int
    input: dict[str, Any]
    base_url: str
    created_at: str
    updated_at: str
    timeline: list[dict[str, Any]] = field(default_factory=list)
    setup: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    session_id: str | None = None
    webhook: str | None = None
    dialect: str = "spec"
    """The dialect of the route that created it (`wire.statuses.Dialect`): how it is shown."""
    function: str = "run"
    """The app function it runs."""
    progress: dict[str, Any] | None = None
    """The app's last `ctx.progress` report while it runs; kept in memory only (`_NOT_STORED`)."""

    def snapshot(self) -> TaskRow:
        """A copy that later changes of this row leave as it is (its timeline is a list of its own)."""
        copied = copy.copy(self)  # not dataclasses.replace, which took a tenth of the server's time per change
        copied.timeline = list(self.timeline)
        return copied
