"""The data dir's database schema, and the migrations that bring an older one up to it (store.py runs them)."""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY,  -- creation order; the list cursor
    id TEXT UNIQUE NOT NULL,
    app TEXT NOT NULL,
    status INTEGER NOT NULL,
    input TEXT NOT NULL,
    setup TEXT,
    output TEXT,
    error TEXT,
    session_id TEXT,
    webhook TEXT,
    base_url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    timeline TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    setup TEXT,
    timeout REAL NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    task_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    task_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (task_id, filename)
);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY,  -- creation order; the list cursor
    cluster TEXT NOT NULL,
    id TEXT NOT NULL,
    status TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    detail TEXT NOT NULL,  -- {run, jobs, inputRequests}, as the API shows it
    UNIQUE (cluster, id)
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL
);
"""


# Each step brings a database from user_version i to i + 1, in one transaction. A step only
# ever adds: a database written by an older server opens, and keeps its tasks.
MIGRATIONS: list[str] = [
    # 1: the dialect a task was created in and the function it runs; statuses kept in the 2026
    # numbering (which has Rejected); uploaded files, and which files a task took as input.
    """
    ALTER TABLE tasks ADD COLUMN dialect TEXT NOT NULL DEFAULT 'spec';
    ALTER TABLE tasks ADD COLUMN function TEXT NOT NULL DEFAULT 'run';
    UPDATE tasks SET status = CASE status WHEN 8 THEN 9 WHEN 9 THEN 10 WHEN 10 THEN 11 WHEN 11 THEN 12
        ELSE status END;
    CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        declared_size INTEGER,
        uploaded INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE task_inputs (
        task_id TEXT NOT NULL,
        owner TEXT NOT NULL,  -- the upload or task whose file it is (the files table's task_id)
        filename TEXT NOT NULL,
        PRIMARY KEY (task_id, owner, filename)
    );
    """,
]
SPEC_TO_2026 = {8: 9, 9: 10, 10: 11, 11: 12}
"""Migration 1's renumbering of stored statuses (the spec's codes to the 2026 ones)."""
NAMES_2026 = {"Scheduled": "Dispatched"}
