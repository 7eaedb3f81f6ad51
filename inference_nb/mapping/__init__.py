"""`client.map`: one task or run per input row, a bounded number at once, joined back into a DataFrame.

Three steps, a module each: `rows` checks every row before anything is sent and gives it the key
that finds it again; `scheduler` runs the rows on the controller loop while `progress` redraws one
live line; `join` puts the results back beside the rows. Running the same cell again finds the
tasks and runs of the first time and submits nothing new for them. With `retry_failed`, each row
whose attempt had already failed gets exactly one new attempt per call.

One row's trouble never costs the table: a row whose submit keeps failing, or whose run cannot
be followed, is a failed row with the reason. A refused key or an unreachable server stops the
map early; it still returns its rows, the unsent ones with status "not sent", and warns. An
interrupt or the deadline cancels what is in flight and raises with the rows so far attached
(`error.partial`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ..client.errors import DeadlineExceeded, InvalidRequest
from .join import joined
from .progress import Progress
from .rows import QuestionRows, TaskRows, table
from .scheduler import NOT_SENT, Mapper

if TYPE_CHECKING:
    import pandas as pd

    from ..kernel.base_client import BaseClient


class MapInterrupted(KeyboardInterrupt):
    """`client.map` was interrupted: what was in flight was cancelled; `partial` holds the rows so far."""

    def __init__(self, message: str, *, partial: pd.DataFrame) -> None:
        super().__init__(message)
        self.partial = partial


class MapStopped(UserWarning):
    """`client.map` stopped early (a refused key, an unreachable server): some rows were not sent."""


def map_rows(
    client: BaseClient,
    app_or_question: str,
    inputs: Any,
    *,
    schema: Any = None,
    cluster: str | None = None,
    setup: dict[str, Any] | None = None,
    function: str | None = None,
    variant: str | None = None,
    concurrency: int = 8,
    retry_failed: bool = False,
    timeout: float | None = None,
    progress: bool = True,
    kind: str | None = None,
) -> pd.DataFrame:
    """`Client.map`: check every row, run them all, and join the results back to the rows."""
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise InvalidRequest(f"concurrency: expected a whole number of runs >= 1, not {concurrency!r}",
                             field="concurrency")  # fmt: skip
    if timeout is not None and not timeout > 0:
        raise InvalidRequest(f"timeout: expected seconds > 0 or None, not {timeout!r}", field="timeout")
    if not isinstance(app_or_question, str) or not app_or_question.strip():
        raise InvalidRequest("app_or_question: expected an app id or a question", field="app_or_question")
    if kind is None:
        # A question has spaces; one word with a slash is meant as an app id, even a mistyped one.
        kind = "task" if "/" in app_or_question and not any(c.isspace() for c in app_or_question) else "run"
    if kind == "task":
        if schema is not None or cluster is not None:
            raise InvalidRequest("schema and cluster are for questions (runs); an app's output has its own schema",
                                 field="schema" if schema is not None else "cluster")  # fmt: skip
        options = {"function": function, "variant": variant}
        work: TaskRows | QuestionRows = TaskRows(client, app_or_question, setup, options=options)
    elif kind == "run":
        for name, value in (("setup", setup), ("function", function), ("variant", variant)):
            if value is not None:
                raise InvalidRequest(f"{name} is for the tasks of an app, not for questions", field=name)
        work = QuestionRows(client, app_or_question, schema, cluster, look_first=retry_failed)
    else:
        raise InvalidRequest(f"kind: expected 'task', 'run' or None, not {kind!r}", field="kind")

    frame, labels, records = table(inputs)
    rows = [work.prepare(label, record) for label, record in zip(labels, records, strict=True)]
    mapper = Mapper(work, rows, retry_failed)
    if not rows:
        return joined(frame, mapper, typed=work.typed)
    try:
        mapper.follow(client.controller, concurrency, timeout, Progress(len(rows), progress))
    except DeadlineExceeded as error:
        error.partial = joined(frame, mapper, typed=work.typed)
        raise
    except KeyboardInterrupt as interrupt:
        counts = mapper.counts()
        message = (
            f"client.map was interrupted: {counts['succeeded']} rows done, {counts[NOT_SENT]} not sent; what was "
            "running was cancelled. The rows so far are this error's .partial; running the cell again finds "
            "the finished rows and sends only the rest"
        )
        raise MapInterrupted(message, partial=joined(frame, mapper, typed=work.typed)) from interrupt
    result = joined(frame, mapper, typed=work.typed)
    if mapper.stopped is not None:
        warnings.warn(
            f"client.map stopped early: {mapper.stopped}. {mapper.counts()[NOT_SENT]} of {len(rows)} rows were "
            f"not sent (status {NOT_SENT!r}); the rows are returned as they are",
            MapStopped,
            stacklevel=3,
        )
    return result
