"""`client.map` against a rate-limited server: its time against the ideal, and the share of 429s.

    python benchmarks/map_pacing.py [--rows 200] [--rate 20] [--rounds 3] [--concurrency 8 32]

The server (`start_server(rate_limit=RATE)`, in a child process) lets each key through at RATE
requests a second, a second's worth in a burst; the ideal is ROWS / RATE seconds. Each round
maps ROWS `demo/sleep` rows of 0 s that no other round has, after the bucket had a second to
fill. The target (issue 18): 200 rows at 20 a second end with no failed row in at most 1.3× the
ideal 10 s, with 429s under 10 % of the creates. Figures: median of the rounds (min–max).
For benchmarks/run.py: `rounds(count)`, at concurrency 8.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import figures

sys.path.insert(0, str(Path(__file__).parent))

_fresh = count(1)


def _serve(pipe: Any, data_dir: str, rate: float) -> None:
    from inference_nb.server import start_server

    with start_server(data_dir=data_dir, rate_limit=rate, max_workers=16) as server:
        pipe.send((server.url, server.token))
        while pipe.recv() == "counts":  # the limiter lives in this process: its counts go over the pipe
            assert server.rate_limiter is not None
            pipe.send((server.rate_limiter.admitted, server.rate_limiter.refused))


@dataclass
class Figure:
    concurrency: int
    seconds: list[float]
    refused: list[int]
    failed: list[int]

    def line(self, rows: int, ideal: float) -> str:
        ratio = [s / ideal for s in self.seconds]
        share = [r / rows * 100 for r in self.refused]
        return (f"concurrency {self.concurrency:>3}: x{statistics.median(ratio):.2f} of the ideal {ideal:.0f} s "
                f"({min(ratio):.2f}–{max(ratio):.2f}), 429s {statistics.median(share):.1f} % of the creates "
                f"({min(share):.1f}–{max(share):.1f}), failed rows {max(self.failed)}")  # fmt: skip


def measure(
    rows: int = 200, rate: float = 20, rounds: int = 3, concurrencies: tuple[int, ...] = (8, 32)
) -> list[Figure]:
    from inference_nb import Client

    context = multiprocessing.get_context("spawn")
    figures = {c: Figure(c, [], [], []) for c in concurrencies}
    with tempfile.TemporaryDirectory() as data_dir:
        mine, theirs = context.Pipe()
        server = context.Process(target=_serve, args=(theirs, data_dir, rate), daemon=True)
        server.start()
        try:
            url, token = mine.recv()
            for _ in range(rounds):
                for concurrency in concurrencies:  # interleaved
                    client = Client(base_url=url, key=token, wait_timeout=600)  # a fresh pacer each round
                    base = next(_fresh) * 1_000_000
                    inputs = [{"seconds": (base + i) * 1e-12, "steps": 1} for i in range(rows)]
                    time.sleep(1.0 + 1.0 / rate)  # the bucket full again
                    mine.send("counts")
                    _, refused_before = mine.recv()
                    began = time.perf_counter()
                    table = client.map("demo/sleep", inputs, concurrency=concurrency, progress=False, ledger=False)
                    figures[concurrency].seconds.append(time.perf_counter() - began)
                    mine.send("counts")
                    figures[concurrency].refused.append(mine.recv()[1] - refused_before)
                    figures[concurrency].failed.append(int((table["status"] != "succeeded").sum()))
        finally:
            mine.send("stop")
            server.join(30)
    return list(figures.values())


def rounds(count: int, *, rows: int = 200, rate: float = 20) -> Iterator[list[figures.Figure]]:
    """For benchmarks/run.py: per round, the time against the ideal and the share of 429s (concurrency 8)."""
    for _ in range(count):
        (found,) = measure(rows, rate, 1, (8,))
        ideal = rows / rate
        yield [
            figures.Figure(f"`client.map` of {rows} rows against `--rate-limit {rate:g}`", found.seconds[0], "s",
                           ideal, "ideal", ratio_limit=1.3),
            figures.Figure("the same: 429s, % of the creates", found.refused[0] / rows * 100, "%", limit=10),
            figures.Figure("the same: rows failed", found.failed[0], "rows", limit=0),
        ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    options = parser.parse_args()
    figures = measure(options.rows, options.rate, options.rounds, tuple(options.concurrency))
    print(f"map of {options.rows} rows against --rate-limit {options.rate:g} (target: ≤ x1.3, 429s < 10 %, 0 failed)")
    for figure in figures:
        print("  " + figure.line(options.rows, options.rows / options.rate))


if __name__ == "__main__":
    main()
