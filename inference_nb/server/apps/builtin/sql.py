"""demo/sql: read-only SQL over a bundled dataset and, optionally, an uploaded CSV."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..base import App, File, RunContext, TaskCancelled
from .csv_tables import describe_tables, load_csv_table, quote_identifier

DATA_DIR = Path(__file__).with_name("data")
UPLOADED_TABLE = "uploaded"
READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
DENIED_ACTION_NAMES = {
    sqlite3.SQLITE_INSERT: "INSERT into",
    sqlite3.SQLITE_UPDATE: "UPDATE",
    sqlite3.SQLITE_DELETE: "DELETE from",
    sqlite3.SQLITE_DROP_TABLE: "DROP TABLE",
    sqlite3.SQLITE_CREATE_TABLE: "CREATE TABLE",
    sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE",
    sqlite3.SQLITE_PRAGMA: "run PRAGMA",
    sqlite3.SQLITE_ATTACH: "ATTACH",
    sqlite3.SQLITE_DETACH: "DETACH",
}
LEADING_COMMENTS = re.compile(r"(\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)
PROGRESS_CHECK_EVERY = 1000  # sqlite VM instructions between looks at ctx.cancelled
DEFAULT_TIMEOUT = 5.0
"""Seconds one query may run unless the setup says otherwise."""
MAX_RESULT_BYTES = 10 * 2**20
"""The most text and blob data a result may hold; also the longest single value sqlite may build."""
FETCH_CHUNK = 500


class SqlApp(App):
    name = "demo/sql"
    version = "1.0.0"
    run_timeout = DEFAULT_TIMEOUT  # setup's timeout_seconds, once set up
    run_timeout_hint = "setup timeout_seconds sets it, up to 300"
    description = (
        "Runs one read-only SQL query (SQLite dialect) over a small shop dataset, tables "
        "inventory(name, category, qty, price, warehouse) and sales(sale_id, name, sold_on, qty, region), "
        "or over a CSV you upload, and returns the rows."
    )

    class Setup(BaseModel):
        dataset: Literal["inventory", "empty"] = Field(
            default="inventory",
            description="'inventory': the tables inventory and sales; 'empty': no tables, only an uploaded CSV.",
        )
        timeout_seconds: float = Field(
            default=DEFAULT_TIMEOUT,
            gt=0,
            le=300,
            description="Seconds one query may run; a query still running then fails the task.",
        )

    class Input(BaseModel):
        query: str = Field(
            min_length=1,
            max_length=100_000,
            description="One SELECT (or WITH ... SELECT) statement, e.g. "
            "SELECT category, SUM(qty) AS total FROM inventory GROUP BY category. Writes are refused.",
        )
        csv: str | None = Field(
            default=None,
            max_length=5_000_000,
            description=f"CSV text with a header row, queryable as table {UPLOADED_TABLE!r} during this query. "
            "Column types (integer, real, text) are guessed from the values.",
        )
        csv_file: File | None = Field(
            default=None,
            description=f"A CSV file on this server (its uri, e.g. from POST /files), queryable as table "
            f"{UPLOADED_TABLE!r} instead of csv.",
        )
        max_rows: int = Field(default=1000, ge=1, le=100_000, description="At most this many rows are returned.")

    class Output(BaseModel):
        columns: list[str] = Field(description="Column names, in order (repeated names get a _2, _3 suffix).")
        rows: list[dict[str, Any]] = Field(description="The rows, each an object keyed by column name.")
        row_count: int = Field(description="How many rows were returned.")
        truncated: bool = Field(description="True when the query had more rows than max_rows.")

    def setup(self, setup: Setup | None, ctx: RunContext) -> None:
        # Setup and run may happen on different worker threads; the lock serialises use.
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        setup = setup or self.Setup()
        # The engine ends the task at this limit whatever the query is doing (docs/ARCHITECTURE.md,
        # "The embedded server"); _query stops sqlite itself then.
        self._timeout = self.run_timeout = setup.timeout_seconds
        # No single string or blob (e.g. zeroblob(1e9), a long replace()) may outgrow the result cap.
        self._conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_RESULT_BYTES)
        if setup.dataset == "inventory":
            for path in sorted(DATA_DIR.glob("*.csv")):
                load_csv_table(self._conn, path.stem, path.read_text(encoding="utf-8"))

    def run(self, input: Input, ctx: RunContext) -> Output:
        refuse_unless_select(input.query)
        if input.csv is not None and input.csv_file is not None:
            raise ValueError("send csv or csv_file, not both: both would be the table 'uploaded'")
        csv_text = input.csv_file.read_text("utf-8-sig") if input.csv_file is not None else input.csv
        with self._lock:
            if csv_text is None:
                return self._query(input, ctx)
            load_csv_table(self._conn, UPLOADED_TABLE, csv_text)
            try:
                return self._query(input, ctx)
            finally:
                # Dropped at once: the instance may serve other callers, who must not see this upload.
                with self._conn:
                    self._conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(UPLOADED_TABLE)}")

    def unload(self) -> None:
        self._conn.close()

    def _query(self, input: Input, ctx: RunContext) -> Output:
        denied: list[str] = []

        def authorize(action: int, first: str | None, *_: Any) -> int:
            if action in READ_ACTIONS:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_UPDATE and first == "sqlite_master":
                # Asked while a pragma_…() table function is compiled, before that pragma's own
                # question (denied below, and named in the error). No statement can change
                # sqlite_master anyway: writable_schema is off, and a PRAGMA to set it is denied.
                return sqlite3.SQLITE_OK
            denied.append(f"{DENIED_ACTION_NAMES.get(action, 'change the database')} {first or ''}".strip())
            return sqlite3.SQLITE_DENY

        # The progress handler stops a query between VM steps once the task is cancelled; a single
        # SQL function (printf('%.*c', 2e9, 'x')) takes no steps, so the deadline interrupts the
        # connection too, which ends the query as soon as sqlite looks again.
        late = threading.Event()

        def interrupt() -> None:
            late.set()
            self._conn.interrupt()

        self._conn.set_authorizer(authorize)
        self._conn.set_progress_handler(lambda: ctx.cancelled, PROGRESS_CHECK_EVERY)
        deadline = threading.Timer(self._timeout, interrupt)
        deadline.start()
        cursor = self._conn.cursor()
        try:
            try:
                cursor.execute(input.query)
                names = [column[0] for column in cursor.description or []]
                fetched = _fetch_capped(cursor, input.max_rows + 1)
            finally:
                deadline.cancel()
                # Closed because a half-read statement keeps its tables locked (DROP of the upload).
                cursor.close()
                # Reset before explaining an error: listing the tables needs PRAGMA.
                self._conn.set_authorizer(None)
                self._conn.set_progress_handler(None, 0)
        except sqlite3.Error as error:
            if late.is_set() and not ctx.cancelled:
                limit = f"{self._timeout:g} s"
                raise TimeoutError(
                    f"the query ran past its time limit of {limit} and was stopped ({self.run_timeout_hint})"
                ) from None
            raise self._explain(error, denied, ctx) from None

        columns = _unique(names)
        rows = [dict(zip(columns, map(_json_value, row))) for row in fetched[: input.max_rows]]
        return self.Output(columns=columns, rows=rows, row_count=len(rows), truncated=len(fetched) > input.max_rows)

    def _explain(self, error: sqlite3.Error, denied: list[str], ctx: RunContext) -> Exception:
        if ctx.cancelled:
            return TaskCancelled(f"task {ctx.task_id} was cancelled while its query ran")
        pragmas = [action for action in denied if action.startswith("run PRAGMA")]
        if pragmas:
            return ValueError(
                f"the query would {pragmas[0]}, and pragmas (pragma_…() table functions too) are not allowed; "
                f"only SELECT over the tables is. Tables: {describe_tables(self._conn)}"
            )
        if denied:
            return ValueError(f"the query is read-only, but it would {denied[0]}; only SELECT is allowed")
        if isinstance(error, sqlite3.DataError) or "too big" in str(error):  # SQLITE_LIMIT_LENGTH
            return ValueError(f"the query builds a value larger than the {MAX_RESULT_BYTES // 2**20} MB result cap")
        if isinstance(error, sqlite3.ProgrammingError) and "one statement" in str(error):
            return ValueError("only one statement is allowed: remove everything after the first ';'")
        return ValueError(f"SQL error: {error}. Tables: {describe_tables(self._conn)}")


def _fetch_capped(cursor: sqlite3.Cursor, limit: int) -> list[tuple]:
    """Up to `limit` rows, refusing a result whose text and blobs outgrow MAX_RESULT_BYTES."""
    rows: list[tuple] = []
    size = 0
    while len(rows) < limit:
        chunk = cursor.fetchmany(min(FETCH_CHUNK, limit - len(rows)))
        if not chunk:
            break
        size += sum(len(v) if isinstance(v, (str, bytes)) else 8 for row in chunk for v in row)
        if size > MAX_RESULT_BYTES:
            raise ValueError(
                f"the result is larger than {MAX_RESULT_BYTES // 2**20} MB; select fewer rows (max_rows) or columns"
            )
        rows.extend(chunk)
    return rows


def refuse_unless_select(query: str) -> None:
    """Refuse anything but a SELECT or WITH statement, before sqlite sees it."""
    body = query[LEADING_COMMENTS.match(query).end() :]
    first_word = re.match(r"[A-Za-z]*", body).group().upper()
    if first_word not in ("SELECT", "WITH"):
        found = f"this one starts with {first_word}" if first_word else "this one has no statement"
        raise ValueError(f"only a single SELECT (or WITH ... SELECT) query is allowed; {found}")


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for name in names:
        candidate, suffix = name, 2
        while candidate in seen:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        seen.add(candidate)
        unique.append(candidate)
    return unique


def _json_value(value: Any) -> Any:
    # BLOBs (e.g. from randomblob()) are not JSON; hex keeps them readable.
    return value.hex() if isinstance(value, bytes) else value
