"""The run ledger: a durable record of every `client.map`, in SQLite (docs/ARCHITECTURE.md, "The run ledger").

One file holds every map of the user (`$INFERENCE_NB_LEDGER`, else `ledger.sqlite3` in the user's data
dir). A row's entry is keyed by the server's URL, a hash of the key (never the key) and the row's
content key; it holds the row's state, its task or run id, and its result once it ended. A map is its
list of content keys, so maps with rows in common share their entries: that is how the same row in
another map reuses a finished result.

WAL and a busy timeout let several kernels write at once; every change is one transaction, so a
kill -9 mid-write leaves the file as it was before that change or after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEDGER_ENV = "INFERENCE_NB_LEDGER"
"""The environment variable naming the ledger's file."""
BUSY_TIMEOUT = 30.0
"""Seconds a write waits for another kernel's transaction before it fails."""
ENDED = ("succeeded", "failed", "cancelled")
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
"""This process, as the owner of the rows it is submitting."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS maps (
    id TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    rows INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS map_rows (
    map_id TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (map_id, content)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    server TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    content TEXT NOT NULL,
    map_id TEXT NOT NULL,
    root TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT NOT NULL,
    run_id TEXT,
    owner TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    result TEXT,
    error TEXT,
    queued_s REAL,
    run_s REAL,
    PRIMARY KEY (server, key_hash, content)
) WITHOUT ROWID;
"""


def default_path() -> Path:
    """`$INFERENCE_NB_LEDGER`, else `ledger.sqlite3` in the embedded server's default data dir."""
    if os.environ.get(LEDGER_ENV):
        return Path(os.environ[LEDGER_ENV]).expanduser()
    if os.environ.get("INFERENCE_NB_DATA_DIR"):
        return Path(os.environ["INFERENCE_NB_DATA_DIR"]).expanduser() / "ledger.sqlite3"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "inference_nb" / "ledger.sqlite3"


def key_hash(key: str) -> str:
    """What the ledger keeps of a key: enough to tell two keys apart, nothing to use one with."""
    return hashlib.sha256(b"inference_nb ledger\0" + key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Entry:
    """One row's record on one server and key."""

    content: str
    map_id: str
    root: str
    """The root of the row's idempotency keys or run ids (its content key, or a fresh one)."""
    attempt: int
    state: str
    """submitting (create sent, no answer yet), submitted, interrupted, or how it ended."""
    run_id: str | None
    owner: str
    recorded_at: float
    result: str | None = None
    """The result as JSON text, once succeeded."""
    error: str | None = None
    queued_s: float | None = None
    run_s: float | None = None

    def owned_by_another_live_process(self) -> bool:
        host, pid, _ = (self.owner.split(":") + ["", "", ""])[:3]
        if self.owner == OWNER or host != socket.gethostname() or not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def value(self) -> Any:
        return None if self.result is None else json.loads(self.result)


@dataclass(frozen=True)
class MapRecord:
    """A map in the ledger, with how far it got."""

    id: str
    server: str
    kind: str
    """ "task" (an app's tasks) or "run" (a question's runs)."""
    target: str
    """The app, or the question template."""
    rows: int
    """Distinct rows (identical rows count once)."""
    created_at: float
    updated_at: float
    counts: dict[str, int]
    """Rows by state: succeeded, failed, cancelled, submitted (in flight), submitting, unsent."""

    @property
    def done(self) -> bool:
        """Whether every row has ended."""
        return sum(self.counts.get(state, 0) for state in ENDED) == self.rows


class Ledger:
    """The run ledger's file: `client.ledger`, or `Ledger(path)`.

    Args:
        path: the SQLite file (created with its folder on first use); default `default_path()`.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")  # with WAL: a kill -9 loses no committed change
        self._db.executescript(SCHEMA)  # each CREATE … IF NOT EXISTS is atomic on its own

    def __repr__(self) -> str:
        return f"<inference_nb Ledger {self.path}>"

    def close(self) -> None:
        self._db.close()

    def maps(self) -> list[MapRecord]:
        """Every map in the ledger, newest first, with its rows counted by state."""
        with self._lock:
            maps = self._db.execute(
                "SELECT id, server, kind, target, rows, created_at, updated_at FROM maps ORDER BY updated_at DESC"
            ).fetchall()
            counted = self._db.execute(
                "SELECT m.id, coalesce(e.state, 'unsent'), count(*) FROM maps m "
                "JOIN map_rows r ON r.map_id = m.id "
                "LEFT JOIN entries e ON e.server = m.server AND e.key_hash = m.key_hash AND e.content = r.content "
                "GROUP BY m.id, e.state"
            ).fetchall()
        counts: dict[str, Counter[str]] = {}
        for map_id, state, n in counted:
            counts.setdefault(map_id, Counter())[state if state != "interrupted" else "unsent"] += n
        return [MapRecord(*row[:4], *row[4:], counts=dict(counts.get(row[0], {}))) for row in maps]

    def forget(self, map_id: str) -> bool:
        """Forget a map, and the rows of it that no other map holds. Its tasks and runs stay on the
        server (`client.get(run_id)` finds them); the map's next run sends its rows again.

        Returns:
            Whether the ledger had that map.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                found = self._db.execute("SELECT server, key_hash FROM maps WHERE id = ?", (map_id,)).fetchone()
                if found is not None:
                    self._db.execute(
                        "DELETE FROM entries WHERE server = ? AND key_hash = ? AND content IN "
                        "(SELECT content FROM map_rows WHERE map_id = ?) AND content NOT IN "
                        "(SELECT r.content FROM map_rows r JOIN maps m ON m.id = r.map_id "
                        " WHERE r.map_id != ? AND m.server = ? AND m.key_hash = ?)",
                        (*found, map_id, map_id, *found),
                    )
                    self._db.execute("DELETE FROM map_rows WHERE map_id = ?", (map_id,))
                    self._db.execute("DELETE FROM maps WHERE id = ?", (map_id,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return found is not None

    def book(self, *, server: str, key: str, kind: str, target: str, contents: list[str]) -> MapBook:
        """This map's pages: it is recorded (or found again) with its rows' content keys."""
        hashed = key_hash(key)
        map_id = hashlib.sha256(json.dumps([server, hashed, kind, target, contents]).encode()).hexdigest()[:20]
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO maps VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET updated_at = ?",
                (map_id, server, hashed, kind, target, len(set(contents)), now, now, now),
            )
            db.executemany("INSERT OR IGNORE INTO map_rows VALUES (?, ?)", ((map_id, c) for c in set(contents)))
        return MapBook(self, server, hashed, map_id)

    def _transaction(self) -> _Transaction:
        return _Transaction(self)


class _Transaction:
    """`with ledger._transaction() as db:` one IMMEDIATE transaction, under the connection's lock."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def __enter__(self) -> sqlite3.Connection:
        self.ledger._lock.acquire()
        try:
            self.ledger._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.ledger._lock.release()
            raise
        return self.ledger._db

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            self.ledger._db.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self.ledger._lock.release()


ENTRY_COLUMNS = "content, map_id, root, attempt, state, run_id, owner, recorded_at, result, error, queued_s, run_s"


class MapBook:
    """One map's view of the ledger: its rows' entries on one server and key."""

    def __init__(self, ledger: Ledger, server: str, hashed: str, map_id: str) -> None:
        self.ledger, self.server, self.key_hash, self.map_id = ledger, server, hashed, map_id
        self._pending: list[tuple[str, tuple[Any, ...]]] = []
        """Updates after a create's answer, written with the next claim or `flush`: one transaction
        for many rows. Losing them to a crash is safe: the row is then looked up or followed again."""

    def entries(self) -> dict[str, Entry]:
        """The entries of this map's rows (recorded by this map or any other on the same server and key)."""
        with self.ledger._lock:
            found = self.ledger._db.execute(
                f"SELECT {', '.join('e.' + c for c in ENTRY_COLUMNS.split(', '))} FROM map_rows r "
                "JOIN entries e ON e.server = ? AND e.key_hash = ? AND e.content = r.content WHERE r.map_id = ?",
                (self.server, self.key_hash, self.map_id),
            ).fetchall()
        return {row[0]: Entry(*row) for row in found}

    def entry(self, content: str) -> Entry | None:
        with self.ledger._lock:
            row = self.ledger._db.execute(
                f"SELECT {ENTRY_COLUMNS} FROM entries WHERE server = ? AND key_hash = ? AND content = ?",
                (self.server, self.key_hash, content),
            ).fetchone()
        return None if row is None else Entry(*row)

    def claim(self, content: str, root: str, attempt: int, seen: Entry | None) -> Entry | None:
        """Record the row as submitting, before its create leaves. Returns None when claimed; else the
        entry another kernel wrote since `seen` was read (then that kernel sends the row, not this one)."""
        with self.ledger._transaction() as db:
            now = db.execute(
                f"SELECT {ENTRY_COLUMNS} FROM entries WHERE server = ? AND key_hash = ? AND content = ?",
                (self.server, self.key_hash, content),
            ).fetchone()
            current = None if now is None else Entry(*now)
            if current is not None and current != seen and current.owned_by_another_live_process():
                return current
            self._write_pending(db)
            db.execute(
                f"INSERT OR REPLACE INTO entries (server, key_hash, {ENTRY_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, 'submitting', NULL, ?, ?, NULL, NULL, NULL, NULL)",
                (self.server, self.key_hash, content, self.map_id, root, attempt, OWNER, time.time()),
            )
        return None

    def _update(self, content: str, assignments: str, values: Iterable[Any]) -> None:
        statement = f"UPDATE entries SET {assignments} WHERE server = ? AND key_hash = ? AND content = ?"
        with self.ledger._lock:
            self._pending.append((statement, (*values, self.server, self.key_hash, content)))

    def _write_pending(self, db: sqlite3.Connection) -> None:
        """Inside a transaction (the lock held)."""
        for statement, values in self._pending:
            db.execute(statement, values)
        self._pending.clear()

    def flush(self) -> None:
        """Write the pending updates now (the map's progress ticks and its end call this)."""
        if self._pending:
            with self.ledger._transaction() as db:
                self._write_pending(db)

    def submitted(self, content: str, run_id: str) -> None:
        """The create was answered (or the row's task was found on the server): its id."""
        self._update(content, "state = 'submitted', run_id = ?, map_id = ?", (run_id, self.map_id))

    def ended(self, content: str, state: str, *, result: Any, error: str | None, queued_s: float | None,
              run_s: float | None) -> None:  # fmt: skip
        self._update(
            content,
            "state = ?, result = ?, error = ?, queued_s = ?, run_s = ?",
            (state, None if result is None else json.dumps(result), error, queued_s, run_s),
        )

    def interrupted(self, content: str) -> None:
        """Cancelled by an interrupt or the deadline: the map's next run sends the row again."""
        self._update(content, "state = 'interrupted'", ())

    def release(self, content: str) -> None:
        """The server refused the create for certain: nothing to find again, the next run sends it anew."""
        with self.ledger._transaction() as db:
            self._write_pending(db)
            db.execute(
                "DELETE FROM entries WHERE server = ? AND key_hash = ? AND content = ? AND owner = ? "
                "AND state = 'submitting'",
                (self.server, self.key_hash, content, OWNER),
            )
