"""SQLite (WAL) storage in the data dir: tasks, sessions, idempotency keys,
files and webhook deliveries survive a restart.

One connection, used from the server's event loop thread; statements are short
so they do not need a thread of their own. A lock file keeps a second server
from opening the same data dir, because its start-up recovery would mark the
first server's live tasks as failed.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .disk import DiskFull, disk_full_message, is_disk_full
from .schema import MIGRATIONS, NAMES_2026, SCHEMA, SPEC_TO_2026
from .task_row import TaskRow


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class DataDirInUse(RuntimeError):
    """Another inference_nb server holds this data dir (its `server.lock`), in this process or another.

    Raised by `create_app`, and so by `start_server` and `EmbeddedServer`; stop that server or
    choose another data dir.
    """


_TASK_JSON = ("input", "setup", "output", "timeline")
# Progress changes many times a second and means nothing once the task ended: never written.
_NOT_STORED = ("progress",)


class Store:
    """The data dir's SQLite database, locked to this server until `close`.

    Args:
        data_dir: the folder (created if missing).

    Raises:
        DataDirInUse: another server holds `data_dir`.
        OSError, sqlite3.Error: the folder or the database could not be opened.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = _lock_data_dir(data_dir)
        self._db = sqlite3.connect(data_dir / "inference_nb.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._migrate()
        # The loop thread writes; start/stop may come from another thread.
        self._mutex = threading.Lock()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, len(MIGRATIONS)):
            # executescript commits on its own; BEGIN inside it keeps the whole step one transaction.
            try:
                self._db.executescript(f"BEGIN; {MIGRATIONS[number]}")
                if number == 0:
                    self._renumber_timelines()
                self._db.execute(f"PRAGMA user_version = {number + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _renumber_timelines(self) -> None:
        for row in self._db.execute("SELECT id, timeline FROM tasks").fetchall():
            timeline = [
                {
                    **e,
                    "status": SPEC_TO_2026.get(e["status"], e["status"]),
                    "name": NAMES_2026.get(e["name"], e["name"]),
                }
                for e in json.loads(row["timeline"])
            ]
            self._db.execute("UPDATE tasks SET timeline = ? WHERE id = ?", (json.dumps(timeline), row["id"]))

    def close(self) -> None:
        with self._mutex:
            self._db.close()
        self._lock_file.release()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the mutex; a write that finds the disk full raises DiskFull."""
        with self._mutex:
            try:
                yield self._db
            except (sqlite3.Error, OSError) as exc:
                if is_disk_full(exc):
                    raise DiskFull(disk_full_message(self.data_dir)) from exc
                raise

    def _exec(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        with self._locked() as db:
            return db.execute(sql, params)

    # Rows are fetched inside the mutex too: a cursor stepped outside it would race another
    # thread's statement on the same connection.
    def _all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._locked() as db:
            return db.execute(sql, params).fetchall()

    def _one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        with self._locked() as db:
            return db.execute(sql, params).fetchone()

    # tasks

    def save_task(self, task: TaskRow) -> None:
        values = {
            k: (json.dumps(v) if k in _TASK_JSON and v is not None else v)
            for k, v in vars(task).items()
            if k not in _NOT_STORED
        }
        columns = ", ".join(values)
        placeholders = ", ".join(f":{k}" for k in values)
        updates = ", ".join(f"{k}=excluded.{k}" for k in values if k != "id")
        self._exec(
            f"INSERT INTO tasks ({columns}) VALUES ({placeholders}) ON CONFLICT(id) DO UPDATE SET {updates}", values
        )

    def update_task(self, task: TaskRow) -> None:
        """Write what changes once a task exists (`save_task` first): its status, timeline, output and
        error. Its input and setup, often the largest part, are not encoded and written again."""
        self._exec(
            "UPDATE tasks SET status = ?, updated_at = ?, timeline = ?, output = ?, error = ? WHERE id = ?",
            (
                task.status,
                task.updated_at,
                json.dumps(task.timeline),
                None if task.output is None else json.dumps(task.output),
                task.error,
                task.id,
            ),
        )

    def get_task(self, task_id: str) -> TaskRow | None:
        row = self._one("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return _task_from_row(row) if row else None

    def list_tasks(
        self, *, limit: int, before_seq: int | None, app: str | None, offset: int = 0
    ) -> tuple[list[TaskRow], int | None]:
        """Newest first, skipping `offset`; returns the page and the cursor of the next page."""
        where, params = ["1=1"], []
        if before_seq is not None:
            where.append("seq < ?")
            params.append(before_seq)
        if app is not None:
            where.append("(app = ? OR app LIKE ?)")
            params += [app, f"{app}@%"]
        rows = self._all(
            f"SELECT * FROM tasks WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ? OFFSET ?",
            (*params, limit + 1, offset),
        )
        next_cursor = rows[limit - 1]["seq"] if len(rows) > limit else None
        return [_task_from_row(r) for r in rows[:limit]], next_cursor

    def count_tasks(self) -> int:
        return self._one("SELECT COUNT(*) FROM tasks")[0]

    def unfinished_tasks(self, terminal_codes: tuple[int, ...]) -> list[TaskRow]:
        marks = ", ".join("?" * len(terminal_codes))
        rows = self._all(f"SELECT * FROM tasks WHERE status NOT IN ({marks})", terminal_codes)
        return [_task_from_row(r) for r in rows]

    # idempotency keys

    def find_idempotency_key(self, key: str) -> tuple[str, str] | None:
        row = self._one("SELECT body_hash, task_id FROM idempotency WHERE key = ?", (key,))
        return (row["body_hash"], row["task_id"]) if row else None

    def save_idempotency_key(self, key: str, body_hash: str, task_id: str) -> None:
        self._exec("INSERT INTO idempotency VALUES (?, ?, ?, ?)", (key, body_hash, task_id, now_iso()))

    # sessions

    def save_session(self, values: dict[str, Any]) -> None:
        values = {**values, "setup": json.dumps(values.get("setup"))}
        columns = ", ".join(values)
        updates = ", ".join(f"{k}=excluded.{k}" for k in values if k != "id")
        placeholders = ", ".join(f":{k}" for k in values)
        self._exec(
            f"INSERT INTO sessions ({columns}) VALUES ({placeholders}) ON CONFLICT(id) DO UPDATE SET {updates}", values
        )

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if row is None:
            return None
        return {**dict(row), "setup": json.loads(row["setup"]) if row["setup"] else None}

    def list_sessions(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        rows = self._all("SELECT * FROM sessions ORDER BY created_at DESC LIMIT ?", (limit,))
        return [{**dict(r), "setup": json.loads(r["setup"]) if r["setup"] else None} for r in rows]

    def count_session_calls(self, session_id: str) -> int:
        return self._one("SELECT COUNT(*) FROM tasks WHERE session_id = ?", (session_id,))[0]

    def session_dialect(self, session_id: str) -> str | None:
        """The dialect of the task that started the session (None once its tasks are deleted)."""
        row = self._one("SELECT dialect FROM tasks WHERE session_id = ? ORDER BY seq LIMIT 1", (session_id,))
        return row["dialect"] if row else None

    def end_open_sessions(self, reason: str) -> None:
        self._exec("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL", (now_iso(), reason))

    # files

    def save_file(self, task_id: str, filename: str, content_type: str, size: int) -> None:
        self._exec("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (task_id, filename, content_type, size))

    def get_file(self, task_id: str, filename: str) -> dict[str, Any] | None:
        """A stored file: a task's output (`task_id` is the task's) or an upload (the upload's id)."""
        row = self._one("SELECT * FROM files WHERE task_id = ? AND filename = ?", (task_id, filename))
        return dict(row) if row else None

    def files_of(self, owner: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self._all("SELECT * FROM files WHERE task_id = ? ORDER BY filename", (owner,))]

    def stored_bytes(self) -> int:
        """The bytes all stored files (uploads and outputs) take."""
        return self._one("SELECT COALESCE(SUM(size), 0) FROM files")[0]

    def delete_files(self, owner: str) -> None:
        self._exec("DELETE FROM files WHERE task_id = ?", (owner,))

    def save_task_inputs(self, task_id: str, files: list[tuple[str, str]]) -> None:
        """The stored files (owner, filename) a task takes as input."""
        for owner, filename in files:
            self._exec("INSERT OR IGNORE INTO task_inputs VALUES (?, ?, ?)", (task_id, owner, filename))

    def task_inputs(self, task_id: str) -> list[tuple[str, str]]:
        rows = self._all("SELECT owner, filename FROM task_inputs WHERE task_id = ?", (task_id,))
        return [(r["owner"], r["filename"]) for r in rows]

    def delete_task(self, task_id: str) -> None:
        """The task and what refers to it (its output files' rows, its inputs' links, its idempotency keys)."""
        with self._locked() as db:
            with db:
                db.execute("BEGIN")
                for table, column in (
                    ("tasks", "id"),
                    ("files", "task_id"),
                    ("task_inputs", "task_id"),
                    ("idempotency", "task_id"),
                ):
                    db.execute(f"DELETE FROM {table} WHERE {column} = ?", (task_id,))

    # uploads (POST /files, then a PUT to a signed URL)

    def save_upload(self, upload_id: str, filename: str, content_type: str, declared_size: int | None) -> None:
        self._exec(
            "INSERT INTO uploads (id, filename, content_type, declared_size, created_at) VALUES (?, ?, ?, ?, ?)",
            (upload_id, filename, content_type, declared_size, now_iso()),
        )

    def get_upload(self, upload_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM uploads WHERE id = ?", (upload_id,))
        return dict(row) if row else None

    def complete_upload(self, upload_id: str, size: int) -> None:
        upload = self.get_upload(upload_id)
        assert upload is not None
        with self._locked() as db:
            with db:
                db.execute("BEGIN")
                db.execute("UPDATE uploads SET uploaded = 1 WHERE id = ?", (upload_id,))
                db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                    (upload_id, upload["filename"], upload["content_type"], size),
                )

    def delete_upload(self, upload_id: str) -> None:
        self._exec("DELETE FROM uploads WHERE id = ?", (upload_id,))
        self.delete_files(upload_id)

    # runs (the runs API); a run is stored as the detail object the API shows

    def save_run(self, cluster: str, run_id: str, status: str, request_hash: str, detail: str) -> None:
        self._exec(
            "INSERT INTO runs (cluster, id, status, request_hash, detail) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(cluster, id) DO UPDATE SET status = excluded.status, detail = excluded.detail",
            (cluster, run_id, status, request_hash, detail),
        )

    def get_run(self, cluster: str, run_id: str) -> tuple[dict[str, Any], str] | None:
        """The run's detail and the hash of the request that created it."""
        row = self._one("SELECT detail, request_hash FROM runs WHERE cluster = ? AND id = ?", (cluster, run_id))
        return (json.loads(row["detail"]), row["request_hash"]) if row else None

    def list_runs(self, cluster: str, *, limit: int, before_seq: int | None) -> tuple[list[dict[str, Any]], int | None]:
        rows = self._all(
            "SELECT seq, detail FROM runs WHERE cluster = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            (cluster, before_seq if before_seq is not None else 2**62, limit + 1),
        )
        next_cursor = rows[limit - 1]["seq"] if len(rows) > limit else None
        return [json.loads(r["detail"]) for r in rows[:limit]], next_cursor

    def unfinished_runs(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self._all("SELECT cluster, request_hash, detail FROM runs WHERE status NOT IN ('done', 'failed')")
        return [(r["cluster"], r["request_hash"], json.loads(r["detail"])) for r in rows]

    # webhook deliveries

    def add_delivery(self, delivery_id: str, task_id: str, url: str, body: str, due: float) -> None:
        self._exec(
            "INSERT INTO webhook_deliveries (id, task_id, url, body, state, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, ?, 'pending', ?, ?)",
            (delivery_id, task_id, url, body, due, now_iso()),
        )

    def due_deliveries(self, now: float) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT * FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at",
            (now,),
        )
        return [dict(r) for r in rows]

    def next_delivery_due(self, *, after: float) -> float | None:
        """The earliest time a pending delivery is due, of those not due at `after`."""
        row = self._one(
            "SELECT MIN(next_attempt_at) AS due FROM webhook_deliveries "
            "WHERE state = 'pending' AND next_attempt_at > ?",
            (after,),
        )
        return row["due"]

    def update_delivery(self, delivery_id: str, *, state: str, attempts: int, due: float, error: str | None) -> None:
        self._exec(
            "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
            (state, attempts, due, error, delivery_id),
        )


def _task_from_row(row: sqlite3.Row) -> TaskRow:
    values = {k: row[k] for k in row.keys() if k != "seq"}
    for key in _TASK_JSON:
        if values[key] is not None:
            values[key] = json.loads(values[key])
    return TaskRow(**values)


def _lock_data_dir(data_dir: Path) -> FileLock:
    # filelock: an OS lock (flock on POSIX, msvcrt on Windows) that dies with its process, so a
    # killed server leaves nothing stale. Not its "soft" fallback: a file left by a crash would
    # refuse every later start. Not thread-local: create_app takes it, the server's thread drops it.
    lock = FileLock(data_dir / "server.lock", thread_local=False, fallback_to_soft=False)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        raise DataDirInUse(
            f"the data dir {data_dir} is in use by another inference_nb server; stop it or choose another data dir"
        ) from None
    return lock
