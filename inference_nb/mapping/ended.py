"""What `map` keeps of a row whose run ended: the few facts its table needs, not the Run.

A Run holds the server's whole last object, its parsed timeline and a future with its lock, some
5 KB; kept for every row of a 100,000-row map, they were most of the kernel's memory
(docs/ARCHITECTURE.md, "map's own cost").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..wire.statuses import Phase
from .timings import queued_and_run

if TYPE_CHECKING:
    from ..kernel.run import Run


@dataclass(frozen=True, slots=True)
class Ended:
    """A row's ended run: its id, how it ended, its output (when it succeeded) and its timings."""

    id: str
    phase: Phase
    error: str | None
    output: Any
    """The output as the server sent it, when the run succeeded; else None."""
    queued_s: float | None
    run_s: float | None

    @classmethod
    def of(cls, run: Run) -> Ended:
        queued_s, run_s = queued_and_run(run.timeline)
        output = run.output if run.status.phase is Phase.SUCCEEDED else None
        return cls(run.id, run.status.phase, run.error, output, queued_s, run_s)
