"""Loading CSV text into a sqlite table whose columns get INTEGER, REAL or TEXT types."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from typing import Any

# Strict on purpose: int() and float() also accept "1_000", "nan" and "inf".
# 18 digits keep every integer inside sqlite's 64-bit INTEGER.
INTEGER_TEXT = re.compile(r"[+-]?\d{1,18}")
REAL_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def load_csv_table(conn: sqlite3.Connection, table: str, text: str) -> None:
    """Create (or replace) `table` from CSV text with a header row; empty cells become NULL."""
    header, rows = _parse(text, table)
    columns = _unique_column_names(header)
    types = [_column_type([row[i] for row in rows]) for i in range(len(columns))]
    definition = ", ".join(f"{quote_identifier(c)} {t}" for c, t in zip(columns, types))
    placeholders = ", ".join("?" for _ in columns)
    with conn:  # one transaction: fast inserts, and nothing half-loaded on error
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
        conn.execute(f"CREATE TABLE {quote_identifier(table)} ({definition})")
        conn.executemany(
            f"INSERT INTO {quote_identifier(table)} VALUES ({placeholders})",
            ([_convert(value, kind) for value, kind in zip(row, types)] for row in rows),
        )


def describe_tables(conn: sqlite3.Connection) -> str:
    """`table(column, ...)` for every table, to show next to an error."""
    names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    described = []
    for name in names:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({quote_identifier(name)})")]
        described.append(f"{name}({', '.join(columns)})")
    return "; ".join(described) or "none"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _parse(text: str, table: str) -> tuple[list[str], list[list[str]]]:
    # The header line shows the delimiter more reliably than csv.Sniffer, which guesses from content.
    first_line = text.lstrip().partition("\n")[0]
    delimiter = max(",;\t|", key=first_line.count)  # ties and no delimiter at all: ","
    try:
        records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise ValueError(f"the CSV for table {table!r} cannot be read: {error}") from None
    records = [record for record in records if any(cell.strip() for cell in record)]
    if not records:
        raise ValueError(f"the CSV for table {table!r} is empty: it needs a header row")
    header, rows = records[0], records[1:]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise ValueError(
                f"CSV for table {table!r}: data row {number} has {len(row)} fields but the header has {len(header)}"
            )
    return header, rows


def _unique_column_names(header: list[str]) -> list[str]:
    names: list[str] = []
    for position, raw in enumerate(header, start=1):
        name = raw.strip() or f"column_{position}"
        candidate, suffix = name, 2
        while candidate.lower() in (n.lower() for n in names):  # sqlite names ignore case
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        names.append(candidate)
    return names


def _column_type(values: list[str]) -> str:
    present = [value.strip() for value in values if value.strip()]
    if present and all(INTEGER_TEXT.fullmatch(value) for value in present):
        return "INTEGER"
    if present and all(REAL_TEXT.fullmatch(value) for value in present):
        return "REAL"
    return "TEXT"


def _convert(value: str, kind: str) -> Any:
    stripped = value.strip()
    if not stripped:
        return None
    if kind == "INTEGER":
        return int(stripped)
    if kind == "REAL":
        return float(stripped)
    return value
