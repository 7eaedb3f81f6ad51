"""`client.map`: one task or run per input row, a bounded number at once, joined back into a DataFrame.

Three steps, a module each: `rows` checks every row before anything is sent and gives it its content
key (identical rows share one task or run); `scheduler` runs the distinct rows on the controller loop
while `progress` redraws one live line; `join` puts the results back beside the rows. `ledger`
records every map durably, so running the same cell again (in this kernel or a new one, after an
interrupt or a kill) returns the finished rows, follows those in flight and sends only the rest
(docs/ARCHITECTURE.md, "The run ledger"). With `retry_failed`, each row whose attempt had already
failed gets exactly one new attempt per call.

One row's trouble never costs the table: a row whose submit keeps failing, or whose run cannot
be followed, is a failed row with the reason. A refused key or an unreachable server stops the
map early; it still returns its rows, the unsent ones with status "not sent", and warns. An
interrupt or the deadline cancels what is in flight and raises with the rows so far attached
(`error.partial`).
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

from ..client.errors import DeadlineExceeded, InvalidRequest
from .join import joined
from .ledger import Ledger, MapRecord
from .options import MapOptions
from .progress import Progress
from .rows import QuestionRows, Row, TaskRows, table
from .scheduler import NOT_SENT, Mapper

__all__ = ["Ledger", "MapInterrupted", "MapOptions", "MapRecord", "MapStopped", "map_rows"]

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


def map_rows(client: BaseClient, app_or_question: str, inputs: Any, options: MapOptions) -> pd.DataFrame:
    """`Client.map`: check every row, run each distinct row once, and join the results back to the rows."""
    if not isinstance(app_or_question, str) or not app_or_question.strip():
        raise InvalidRequest("app_or_question: expected an app id or a question", field="app_or_question")
    kind = options.kind
    if kind is None:
        # A question has spaces; one word with a slash is meant as an app id, even a mistyped one.
        kind = "task" if "/" in app_or_question and not any(c.isspace() for c in app_or_question) else "run"
    if kind == "task":
        if options.schema is not None or options.cluster is not None:
            raise InvalidRequest("schema and cluster are for questions (runs); an app's output has its own schema",
                                 field="schema" if options.schema is not None else "cluster")  # fmt: skip
        extra = {"function": options.function, "variant": options.variant}
        work: TaskRows | QuestionRows = TaskRows(client, app_or_question, options.setup, options=extra)
    else:
        for name in ("setup", "function", "variant"):
            if getattr(options, name) is not None:
                raise InvalidRequest(f"{name} is for the tasks of an app, not for questions", field=name)
        work = QuestionRows(client, app_or_question, options.schema, options.cluster, look_first=options.retry_failed)

    frame, rows, shared = rows_of(work, inputs)
    # The ledger's connection closes when the map's last coroutine lets go of it (after an interrupt,
    # rows still unwinding on the controller loop may write to it).
    ledger, book = _ledger(options.ledger), None
    if ledger is not None and rows:
        profile = client.profile("tasks" if kind == "task" else "runs")
        where = profile.base_url if kind == "task" else f"{profile.base_url} cluster={options.cluster or ''}"
        book = ledger.book(server=where, key=profile.key, kind=kind, target=app_or_question,
                           contents=[row.digest for row in rows])  # fmt: skip
    mapper = Mapper(work, rows, options, book)
    return _run(client, mapper, frame, shared, work, options)


def rows_of(work: TaskRows | QuestionRows, inputs: Any) -> tuple[pd.DataFrame, list[Row], list[int | str]]:
    """The input frame, its distinct rows, and for each input row its distinct row (see `distinct`). The
    plain dicts the rows were checked from are let go here, not kept for the whole map."""
    frame, labels, records = table(inputs)
    return frame, *distinct([work.prepare(label, record) for label, record in zip(labels, records, strict=True)])


def distinct(prepared: list[Row]) -> tuple[list[Row], list[int | str]]:
    """The distinct rows to send (identical rows are one), and for each input row its distinct row's
    index, or why it cannot be sent."""
    rows: list[Row] = []
    index: dict[str, int] = {}
    shared: list[int | str] = []
    for row in prepared:
        if row.error is not None:
            shared.append(row.error)
            continue
        if row.digest not in index:
            index[row.digest] = len(rows)
            rows.append(row)
        shared.append(index[row.digest])
    return rows, shared


def _ledger(choice: Ledger | str | os.PathLike[str] | bool | None) -> Ledger | None:
    if choice is False:
        return None
    if isinstance(choice, Ledger):
        return choice
    return Ledger(None if choice is None or choice is True else choice)


def _run(
    client: BaseClient,
    mapper: Mapper,
    frame: pd.DataFrame,
    shared: list[int | str],
    work: TaskRows | QuestionRows,
    options: MapOptions,
) -> pd.DataFrame:
    def join() -> pd.DataFrame:
        return joined(frame, mapper, shared, typed=work.typed_results, typed_value=work.typed)

    if all(stored is not None for stored in mapper.stored):
        return join()  # every row ended before: nothing to send, nothing to show
    try:
        progress = Progress(len(mapper.rows), options.progress)
        mapper.follow(client.controller, options.concurrency, options.timeout, progress)
    except DeadlineExceeded as error:
        error.partial = join()
        raise
    except KeyboardInterrupt as interrupt:
        counts = mapper.counts()
        message = (
            f"client.map was interrupted: {counts['succeeded']} rows done, {counts[NOT_SENT]} not sent; what was "
            "running was cancelled. The rows so far are this error's .partial; running the cell again finds "
            "the finished rows and sends only the rest"
        )
        raise MapInterrupted(message, partial=join()) from interrupt
    result = join()
    if mapper.stopped is not None:
        warnings.warn(
            f"client.map stopped early: {mapper.stopped}. {mapper.counts()[NOT_SENT]} of {len(mapper.rows)} rows "
            f"were not sent (status {NOT_SENT!r}); the rows are returned as they are",
            MapStopped,
            stacklevel=4,
        )
    return result
