"""What an app's `ctx.progress(done, total, message)` may say (docs/ARCHITECTURE.md, "App progress")."""

from __future__ import annotations

import math
from typing import Any

PROGRESS_MESSAGE_CHARS = 200
"""How much of a progress message clients see."""


def progress_report(done: Any, total: Any, message: Any) -> dict[str, Any]:
    """A checked `ctx.progress` report, as the task's `progress` field shows it."""
    for name, value in (("done", done), ("total", total)):
        if value is None and name == "total":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise TypeError(f"ctx.progress: {name} must be a finite number, not {value!r}")
    if done < 0:
        raise ValueError(f"ctx.progress: done must be at least 0, not {done!r}")
    if total is not None and total <= 0:
        raise ValueError(f"ctx.progress: total must be more than 0 (or None when unknown), not {total!r}")
    if total is not None and done > total:
        raise ValueError(f"ctx.progress: done ({done!r}) is more than total ({total!r})")
    if message is not None and not isinstance(message, str):
        raise TypeError(f"ctx.progress: message must be a string, not {type(message).__name__}")
    if message is not None and len(message) > PROGRESS_MESSAGE_CHARS:
        message = message[: PROGRESS_MESSAGE_CHARS - 1] + "…"
    return {"done": done, "total": total, "message": message or None}
