"""`client.map`'s options: one keyword-only dataclass, the one place they are listed and described."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from ..client.errors import InvalidRequest

if TYPE_CHECKING:
    from .ledger import Ledger


@dataclass(frozen=True, kw_only=True)
class MapOptions:
    """What `client.map(app_or_question, inputs, **options)` takes besides its two arguments."""

    schema: Any = None
    """The runs' result schema (questions only): a JSON Schema dict or a pydantic model / type."""
    cluster: str | None = None
    """The runs' cluster (questions only)."""
    setup: dict[str, Any] | None = None
    """The tasks' setup parameters (apps only)."""
    function: str | None = None
    """The app's function each task runs (apps only, hosted dialect; default "run")."""
    variant: str | None = None
    """The app's variant each task runs (apps only; default: its default)."""
    concurrency: int = 8
    """Rows in flight at once."""
    retry_failed: bool = False
    """Give each row that failed before one new attempt."""
    timeout: float | None = None
    """Seconds for the whole map; what still runs then is cancelled."""
    progress: bool = True
    """Show the live progress line."""
    kind: Literal["task", "run"] | None = None
    """ "task" or "run"; None guesses from `app_or_question` (one word with a slash is an app)."""
    cache: bool = True
    """Reuse a finished result that another map recorded for the same row, server and key."""
    fresh: bool = False
    """Run every row anew: no result from the ledger, no task or run of an earlier map."""
    ledger: Ledger | str | os.PathLike[str] | bool | None = None
    """The run ledger: None for the default file (`$INFERENCE_NB_LEDGER`, else the data dir's), a path,
    a `Ledger`, or False to record nothing (then a killed map is not resumed)."""

    def __post_init__(self) -> None:
        concurrency = self.concurrency
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
            raise InvalidRequest(f"concurrency: expected a whole number of runs >= 1, not {concurrency!r}",
                                 field="concurrency")  # fmt: skip
        if self.timeout is not None and not self.timeout > 0:
            raise InvalidRequest(f"timeout: expected seconds > 0 or None, not {self.timeout!r}", field="timeout")
        if self.kind not in ("task", "run", None):
            raise InvalidRequest(f"kind: expected 'task', 'run' or None, not {self.kind!r}", field="kind")

    @classmethod
    def of(cls, options: dict[str, Any]) -> MapOptions:
        """The options from `client.map`'s keywords.

        Raises:
            InvalidRequest: an unknown option (the known ones are listed) or a bad value.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise InvalidRequest(
                f"client.map has no option {unknown[0]!r}; its options are {', '.join(sorted(known))}",
                field=unknown[0],
            )
        return cls(**options)
