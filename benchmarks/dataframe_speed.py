"""A 100,000-row result to a DataFrame: `to_dataframe` against pandas' own constructors.

    python benchmarks/run.py --only dataframe_speed

Flat rows against `pd.DataFrame(records)`, nested rows against `pd.json_normalize(records)`,
timed in this one process. Each round takes the best of `TURNS` of each, ours and pandas' taking
turns, so that a busy moment of the machine hits both alike.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from figures import Figure, in_turns, timed

from inference_nb.results.frames import to_dataframe

ROWS = 100_000
TURNS = 3


def records(rows: int, *, nested: bool) -> list[dict]:
    def one(i: int) -> dict:
        row = {"id": i, "name": f"row {i}", "score": i / 7, "ok": i % 2 == 0, "tags": ["a", "b"]}
        if nested:
            row["user"] = {"name": f"u{i % 97}", "geo": {"lat": i % 90, "lon": -(i % 180)}}
        return row

    return [one(i) for i in range(rows)]


def rounds(count: int) -> Iterator[list[Figure]]:
    flat, nested = records(ROWS, nested=False), records(ROWS, nested=True)
    cases = [
        ("flat", flat, pd.DataFrame, "`pd.DataFrame`", 1.5),
        ("nested", nested, pd.json_normalize, "`pd.json_normalize`", 1.2),
    ]
    for _ in range(count):
        figures = []
        for case, rows, baseline, name, limit in cases:
            ours, theirs = in_turns(TURNS, timed(lambda: to_dataframe(rows)), timed(lambda: baseline(rows)))  # noqa: B023
            figures.append(Figure(f"`to_dataframe`, {ROWS:,} {case} rows", min(ours) * 1000, "ms",
                                  min(theirs) * 1000, name, ratio_limit=limit))  # fmt: skip
        yield figures
