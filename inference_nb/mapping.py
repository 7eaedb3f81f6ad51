"""`client.map`: one task or run per input row, a bounded number at once, joined back into a DataFrame.

Every row is checked before anything is sent. A row's idempotency key (tasks) or run id (runs) is a
hash of what the row asks for, so running the same cell again finds the tasks and runs of the first
time and submits nothing new for them. With `retry_failed`, a row whose attempt had already failed
gets one new attempt under a key derived from the same hash (`:retry-1`, `:retry-2`…): each retry
of a cell makes exactly one new attempt per failed row. Without it, a row shows its first attempt.

The work runs on the controller loop (DESIGN.md §4). The calling thread blocks like `run.wait()`,
redraws one progress display, and on an interrupt, an error or the deadline cancels on the server
what is still in flight before it raises.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import html
import json
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from .api import resolve_schema, short_label
from .client.errors import DeadlineExceeded, InvalidRequest, NotFoundError, ServerError
from .runs import CANCEL_TIMEOUT, Run
from .wire.runs import ulid_shaped
from .wire.statuses import Phase
from .wire.tasks import APP_ID_PATTERN

if TYPE_CHECKING:
    from .api import Client

log = logging.getLogger("inference_nb")

REFRESH = 0.25
"""Seconds between redraws of the progress display."""
REFUSED = (400, 422)
"""Answers that refuse one row's request: that row fails, the other rows go on."""
RETRIED = (Phase.FAILED, Phase.CANCELLED)
BOOKKEEPING = ("status", "error", "run_id")


@dataclass(frozen=True)
class _Row:
    body: Any  # the task's input, or the run's message
    digest: str  # hash of what the row asks for: the root of its idempotency key or run id


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _attempt(digest: str, attempt: int) -> str:
    return digest if attempt == 0 else f"{digest}:retry-{attempt}"


def _ulid(text: str) -> str:
    """26 Crockford base32 characters (the shape of a ULID, which the hosted service wants) derived from `text`."""
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:16])
    return ulid_shaped(value)


class _Tasks:
    """One task of `app` per row, with the row as its input."""

    typed = False

    def __init__(self, client: Client, app: str, setup: dict[str, Any] | None) -> None:
        if not APP_ID_PATTERN.match(app):
            raise InvalidRequest(
                f"{app!r} is not an app id (namespace/name or namespace/name@version, lower case); "
                "to send it as a question, pass kind='run'",
                field="app",
            )
        self.client, self.app, self.setup = client, app, setup
        self.core = client._tasks().client.core

    def prepare(self, label: str, row: dict[str, Any]) -> _Row:
        for field, value in row.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                raise InvalidRequest(
                    f"row {label}, field {field!r}: a {type(value).__name__} is not JSON data "
                    "(text, numbers, booleans, lists, objects, None); convert it first",
                    field=str(field),
                ) from None
        try:
            self.core.submit(self.app, row, setup=self.setup)  # checks the request; sends nothing
        except InvalidRequest as error:
            raise InvalidRequest(f"row {label}: {error}", field=error.field) from None
        return _Row(row, _digest("task", self.app, row, self.setup))

    async def start(self, row: _Row, attempt: int) -> tuple[Run, bool]:
        """The attempt's task (the existing one, if its key was used before), and whether it had already ended."""
        key = "map-" + _attempt(row.digest, attempt)
        run = await self.client.start_task(self.app, row.body, setup=self.setup, idempotency_key=key)
        return run, run.done  # a new task is never over in its submit answer: an ended one is older


class _Runs:
    """One run per row, asking the template filled in with the row."""

    def __init__(self, client: Client, template: str, schema: Any, cluster: str | None, *, look_first: bool) -> None:
        self.json_schema, schema_type = resolve_schema(schema)
        self.typed = schema_type is not None
        self.client, self.template, self.schema, self.look_first = client, template, schema, look_first
        self.backend = client._runs(cluster, schema_type)
        self.backend.client.core.create(template, self.json_schema)  # checks the schema; sends nothing

    def prepare(self, label: str, row: dict[str, Any]) -> _Row:
        try:
            message = self.template.format_map(row)
        except KeyError as missing:
            name = missing.args[0]
            raise InvalidRequest(
                f"row {label}: the question names {{{name}}}, but the row has no column {name!r} "
                f"(it has: {', '.join(map(str, row)) or 'none'})",
                field=str(name),
            ) from None
        except (ValueError, IndexError, AttributeError, TypeError) as error:
            raise InvalidRequest(
                f"question template: {error} (placeholders are {{column}}; write {{{{ and }}}} for braces)",
                field="template",
            ) from None
        if not message.strip():
            raise InvalidRequest(f"row {label}: the question is empty", field="message")
        return _Row(message, _digest("run", self.template, message, self.json_schema))

    async def start(self, row: _Row, attempt: int) -> tuple[Run, bool]:
        """The attempt's run (the existing one, if its id was used before), and whether it had already ended."""
        run_id = _ulid(_attempt(row.digest, attempt))
        if self.look_first:
            # Looked up before creating: a new run may end before the first look at it, so what
            # create returns cannot tell an old ended run from a new one.
            try:
                snapshot = await self.client.controller.request(lambda: self.backend.get(run_id))
            except NotFoundError:
                pass
            else:
                if snapshot.status.terminal:
                    return Run(self.backend, snapshot, label=short_label(row.body)), True
        run = await self.client.start_question(row.body, self.schema, cluster=self.backend.cluster, run_id=run_id)
        return run, False


class _Mapper:
    """The rows' work on the controller loop. The calling thread only reads `runs` and `refused`."""

    def __init__(self, work: _Tasks | _Runs, rows: list[_Row], retry_failed: bool) -> None:
        self.work, self.rows, self.retry_failed = work, rows, retry_failed
        self.runs: list[Run | None] = [None] * len(rows)
        self.refused: list[str | None] = [None] * len(rows)
        self.stopping = False

    async def _all(self, concurrency: int) -> None:
        slots = asyncio.Semaphore(concurrency)
        await asyncio.gather(*(self._row(i, slots) for i in range(len(self.rows))))

    async def _row(self, i: int, slots: asyncio.Semaphore) -> None:
        async with slots:
            if self.stopping:
                return
            row, attempt = self.rows[i], 0
            try:
                run, ended_before = await self.work.start(row, attempt)
                while self.retry_failed and ended_before and run.status.phase in RETRIED:
                    attempt += 1
                    run, ended_before = await self.work.start(row, attempt)
            except ServerError as error:
                if error.status_code not in REFUSED:
                    raise
                self.refused[i] = str(error)
                return
            self.runs[i] = run
            if self.stopping:  # stopped while this row's create was on its way
                await _cancel(run)
            await run.wait_async(math.inf, raise_on_failure=False)

    async def _cancel_all(self) -> None:
        self.stopping = True
        await asyncio.gather(*(_cancel(run) for run in self.runs if run is not None))

    def counts(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for run, refused in zip(self.runs, self.refused, strict=True):
            if refused is not None:
                counts["failed"] += 1
            elif run is None:
                counts["queued"] += 1
            else:
                counts[run.status.phase.value if run.done else "running"] += 1
        return counts

    def follow(self, client: Client, concurrency: int, timeout: float | None, progress: _Progress) -> None:
        """Block until every row ended, redrawing `progress`. On an interrupt, an error or the
        deadline, cancel on the server what is still in flight, then raise."""
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        try:
            future = client.controller.submit(self._all(concurrency))
            while not future.done() and time.monotonic() < deadline:
                concurrent.futures.wait([future], min(REFRESH, max(0.0, deadline - time.monotonic())))
                progress.show(self.counts())
            if not future.done():
                counts = self.counts()
                left = counts["queued"] + counts["running"]
                raise DeadlineExceeded(
                    f"client.map did not finish within {timeout:g} s: {left} of {len(self.rows)} rows were left; "
                    "those still running were cancelled on the server"
                )
            future.result()  # re-raises what stopped the map on the loop, if something did
        except BaseException:
            try:
                client.controller.call(self._cancel_all(), CANCEL_TIMEOUT)
            except Exception as error:  # the interruption matters more
                log.warning("client.map could not cancel every run still in flight: %s", error)
            raise
        finally:
            progress.show(self.counts(), final=True)


async def _cancel(run: Run) -> None:
    try:
        await run.cancel_async()
    except Exception as error:  # it may have ended meanwhile; the other runs must still be cancelled
        log.debug("cancelling %s: %s", run.id, error)


class _Progress:
    """One live line of counts: in IPython one display updated in place, elsewhere a `\\r` line on stderr."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.started = total, time.monotonic()
        self._handle: Any = None
        self._stream: Any = None
        self._width = 0
        if not enabled:
            return
        ipython = sys.modules.get("IPython")  # a shell has imported it already; a script need not pay for it
        if ipython is not None and ipython.get_ipython() is not None:
            from IPython.display import display

            self._handle = display(self._bundle(Counter(queued=total)), raw=True, display_id=True)
        else:
            self._stream = sys.stderr

    def show(self, counts: Counter[str], *, final: bool = False) -> None:
        if self._handle is not None:
            self._handle.update(self._bundle(counts), raw=True)
        elif self._stream is not None:
            line = self._line(counts)
            self._stream.write("\r" + line.ljust(self._width) + ("\n" if final else ""))
            self._stream.flush()
            self._width = len(line)

    def _line(self, counts: Counter[str]) -> str:
        ended = counts["succeeded"] + counts["failed"] + counts["cancelled"]
        elapsed = time.monotonic() - self.started
        rate = ended / elapsed if elapsed > 0 else 0.0
        parts = [f"{ended}/{self.total} rows", f"{counts['succeeded']} done", f"{counts['failed']} failed"]
        parts += [f"{counts['cancelled']} cancelled"] if counts["cancelled"] else []
        parts += [f"{counts['running']} running", f"{counts['queued']} queued", f"{rate:.1f} runs/s"]
        if ended == self.total:
            parts.append(f"took {elapsed:.1f} s")
        else:
            parts.append(f"ETA {(self.total - ended) / rate:.0f} s" if rate else "ETA ?")
        return "map: " + " | ".join(parts)

    def _bundle(self, counts: Counter[str]) -> dict[str, str]:
        def bar(n: int, colour: str) -> str:
            return f"<div style='width:{100 * n / self.total:.2f}%;background:{colour}'></div>"

        line = self._line(counts)
        page = (
            "<div class='inference-nb-map' style='font-family:var(--jp-ui-font-family, sans-serif)'>"
            "<div style='display:flex;width:24em;max-width:100%;height:8px;margin:4px 0;border-radius:4px;"
            "overflow:hidden;background:var(--jp-layout-color3, #ddd)'>"
            + bar(counts["succeeded"], "var(--jp-success-color1, #388e3c)")
            + bar(counts["failed"] + counts["cancelled"], "var(--jp-error-color1, #d32f2f)")
            + bar(counts["running"], "var(--jp-brand-color3, #90caf9)")
            + f"</div><div style='color:var(--jp-ui-font-color1, #222)'>{html.escape(line)}</div></div>"
        )
        return {"text/plain": line, "text/html": page}


def _table(inputs: Any) -> tuple[pd.DataFrame, list[str], list[dict[str, Any]]]:
    """The inputs as a frame (what the result keeps), each row's label, and each row as a plain dict."""
    if isinstance(inputs, pd.DataFrame):
        plain = inputs.astype(object).where(inputs.notna(), None)  # NaN and NaT travel as null
        return inputs, [repr(label) for label in inputs.index], plain.to_dict("records")
    if isinstance(inputs, str | bytes | Mapping) or not isinstance(inputs, Iterable):
        raise InvalidRequest("inputs: expected a list of dicts (one per row) or a pandas DataFrame", field="inputs")
    records = list(inputs)
    for i, row in enumerate(records):
        if not isinstance(row, Mapping):
            raise InvalidRequest(f"row {i}: expected a dict of column -> value, not a {type(row).__name__}",
                                 field="inputs")  # fmt: skip
    records = [dict(row) for row in records]
    return pd.DataFrame(records), [str(i) for i in range(len(records))], records


def _results(values: list[Any], typed: bool) -> pd.DataFrame:
    """Dict results as columns (nested dicts dotted); anything else, and typed results, in one `result` column."""
    present = [v for v in values if v is not None]
    if not typed and present and all(isinstance(v, dict) for v in present):
        return pd.json_normalize([v if v is not None else {} for v in values], sep=".")
    return pd.DataFrame({"result": pd.Series(values, dtype=object)})


def _joined(frame: pd.DataFrame, mapper: _Mapper, typed: bool) -> pd.DataFrame:
    status, errors, ids, values = [], [], [], []
    for run, refused in zip(mapper.runs, mapper.refused, strict=True):
        phase = Phase.FAILED if run is None else run.status.phase
        status.append(phase.value)
        errors.append(refused if run is None else run.error)
        ids.append(None if run is None else run.id)
        values.append(run.result if run is not None and phase is Phase.SUCCEEDED else None)
    columns = zip(BOOKKEEPING, (status, errors, ids), strict=True)
    meta = pd.DataFrame({name: pd.Series(column, dtype=object) for name, column in columns})
    taken = {str(c) for c in frame.columns} | set(BOOKKEEPING)
    results = _results(values, typed).rename(columns=lambda c: f"output.{c}" if c in taken else c)
    joined = pd.concat([frame.reset_index(drop=True), meta, results], axis=1)
    joined.index = frame.index
    return joined


def map_rows(
    client: Client,
    app_or_question: str,
    inputs: Any,
    *,
    schema: Any = None,
    cluster: str | None = None,
    setup: dict[str, Any] | None = None,
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
        work: _Tasks | _Runs = _Tasks(client, app_or_question, setup)
    elif kind == "run":
        if setup is not None:
            raise InvalidRequest("setup is for the tasks of an app, not for questions", field="setup")
        work = _Runs(client, app_or_question, schema, cluster, look_first=retry_failed)
    else:
        raise InvalidRequest(f"kind: expected 'task', 'run' or None, not {kind!r}", field="kind")

    frame, labels, records = _table(inputs)
    rows = [work.prepare(label, record) for label, record in zip(labels, records, strict=True)]
    mapper = _Mapper(work, rows, retry_failed)
    if rows:
        mapper.follow(client, concurrency, timeout, _Progress(len(rows), progress))
    return _joined(frame, mapper, typed=work.typed)
