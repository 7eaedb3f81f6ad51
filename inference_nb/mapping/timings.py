"""A row's `queued_s` and `run_s`, read from its run's timeline (the server's times, not the client's)."""

from __future__ import annotations

from datetime import datetime

from ..wire.statuses import Dialect, Phase

RUN_WORDS = {"pending": Phase.PENDING, "running": Phase.RUNNING, "paused": Phase.RUNNING, "done": Phase.SUCCEEDED,
             "failed": Phase.FAILED}  # fmt: skip
"""The runs API's status words."""


def phase_named(name: str) -> Phase | None:
    """What a status name in a timeline means, in either tasks numbering or the runs API's words."""
    for dialect in Dialect:
        try:
            return dialect.numbering.by_name(name).phase
        except KeyError:
            continue
    return RUN_WORDS.get(name.lower())


def queued_and_run(timeline: list[tuple[str, datetime]]) -> tuple[float | None, float | None]:
    """Seconds from the first status to the first running one, and from there to the end (None where
    the timeline does not say)."""
    if not timeline:
        return None, None
    phases = [(phase_named(name), at) for name, at in timeline]
    started = next((at for phase, at in phases if phase is Phase.RUNNING), None)
    ended = next((at for phase, at in phases if phase is not None and phase.terminal), None)
    queued = (started or ended or timeline[0][1]) - timeline[0][1]
    run = None if started is None or ended is None else (ended - started).total_seconds()
    return max(0.0, queued.total_seconds()), run
