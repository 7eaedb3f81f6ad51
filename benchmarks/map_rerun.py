"""Re-running a finished `client.map` of 1,000 rows: every row from the run ledger, nothing submitted.

    python benchmarks/map_rerun.py [--rows 1000] [--rounds 3]

Against a baseline measured in the same run, in interleaved rounds: reading the same 1,000 tasks
back from the server with bare httpx (`GET /tasks`, 100 a page), the least a re-run that asked the
server would cost. The target (issue 18) is under 2 s for 1,000 rows; the figure is the median of
the rounds with their min–max.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator

import figures
import httpx

from inference_nb import Client
from inference_nb.mapping.ledger import LEDGER_ENV
from tests.child_server import child_server


def list_tasks(url: str, token: str, rows: int) -> None:
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}) as http:
        cursor, seen = None, 0
        while seen < rows:
            page = http.get("/tasks", params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
            seen += len(page["tasks"])
            if not (cursor := page["next_cursor"]):
                break


def rounds(count: int, *, rows: int = 1000) -> Iterator[list[figures.Figure]]:
    """For benchmarks/run.py: per round, the re-run's time against listing the same tasks with httpx."""
    with tempfile.TemporaryDirectory() as folder, child_server() as (url, token):
        os.environ[LEDGER_ENV] = os.path.join(folder, "ledger.sqlite3")
        client = Client(base_url=url, key=token)
        inputs = [{"seconds": 0, "steps": 1, "message": f"row {i}"} for i in range(rows)]
        client.map("demo/sleep", inputs, concurrency=32, progress=False)
        for _ in range(count):
            began = time.perf_counter()
            again = client.map("demo/sleep", inputs, progress=False)
            ours = time.perf_counter() - began
            assert again["from_ledger"].all()
            began = time.perf_counter()
            list_tasks(url, token, rows)
            yield [figures.Figure(f"re-run of a finished `client.map`, {rows:,} rows (nothing sent)", ours, "s",
                                  time.perf_counter() - began, "listing them with httpx", limit=2)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, child_server() as (url, token):
        os.environ[LEDGER_ENV] = os.path.join(folder, "ledger.sqlite3")
        client = Client(base_url=url, key=token)
        rows = [{"seconds": 0, "steps": 1, "message": f"row {i}"} for i in range(options.rows)]
        client.map("demo/sleep", rows, concurrency=32, progress=False)
        ours, base = [], []
        for _ in range(options.rounds):
            began = time.perf_counter()
            again = client.map("demo/sleep", rows, progress=False)
            ours.append(time.perf_counter() - began)
            assert again["from_ledger"].all()
            began = time.perf_counter()
            list_tasks(url, token, options.rows)
            base.append(time.perf_counter() - began)
    ratios = [o / b for o, b in zip(ours, base, strict=True)]
    print(
        f"re-run of a finished map, {options.rows} rows: median {statistics.median(ours):.2f} s "
        f"({min(ours):.2f}–{max(ours):.2f}; target < 2 s); listing them with httpx "
        f"{statistics.median(base):.2f} s; ratio x{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
