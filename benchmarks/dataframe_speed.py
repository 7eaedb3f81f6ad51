"""A 100,000-row result to a DataFrame: `to_dataframe` against pandas' own constructors.

    python benchmarks/dataframe_speed.py [--rows 100000]

Flat rows against `pd.DataFrame(records)`, nested rows against `pd.json_normalize(records)`;
each the best of a few repeats taken in turns, timed in this one process.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import pandas as pd

from inference_nb.results.frames import to_dataframe

REPEATS = 7


def best_of_pair(ours: Callable[[], object], baseline: Callable[[], object]) -> tuple[float, float]:
    """The best time of each, measured in turns so that a busy moment of the machine hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(REPEATS):
        for make, kept in ((ours, times[0]), (baseline, times[1])):
            began = time.perf_counter()
            make()
            kept.append(time.perf_counter() - began)
    return min(times[0]), min(times[1])


def records(rows: int, *, nested: bool) -> list[dict]:
    def one(i: int) -> dict:
        row = {"id": i, "name": f"row {i}", "score": i / 7, "ok": i % 2 == 0, "tags": ["a", "b"]}
        if nested:
            row["user"] = {"name": f"u{i % 97}", "geo": {"lat": i % 90, "lon": -(i % 180)}}
        return row

    return [one(i) for i in range(rows)]


def ratios(rows: int) -> dict[str, tuple[float, float]]:
    """{case: (to_dataframe seconds, baseline seconds)} for flat and nested rows."""
    flat, nested = records(rows, nested=False), records(rows, nested=True)
    return {
        "flat": best_of_pair(lambda: to_dataframe(flat), lambda: pd.DataFrame(flat)),
        "nested": best_of_pair(lambda: to_dataframe(nested), lambda: pd.json_normalize(nested)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    for case, (ours, base) in ratios(rows).items():
        ms = f"to_dataframe {ours * 1000:.0f} ms, baseline {base * 1000:.0f} ms"
        print(f"{case:7} {rows} rows: {ms}, x{ours / base:.2f}")


if __name__ == "__main__":
    main()
