"""A 100,000-row `client.map` as a user meets it: the kernel's peak memory (RSS) against a limit of 300 MB.

    python benchmarks/map_memory.py [--rows 100000] [--rounds 1]

Each round starts a fresh Python process, the "kernel" (this file with `--kernel`), which imports
inference_nb and pandas, builds a DataFrame of ROWS distinct `demo/sleep` rows of 0 s, makes a
`Client` and maps one row (the lazily imported parts, the ledger, the events connection), then
maps the ROWS rows (`concurrency=100`, progress shown) against an embedded server in another child
process, so only the client's memory counts. It reports its peak RSS (`ru_maxrss`) before the map,
the baseline, and after it, with the map's wall time. The target (issue 18): under 300 MB.

A round takes minutes (about 2 × ROWS requests, answered by one server sharing the machine), so
`rounds(count)` for benchmarks/run.py measures `min(count, ROUNDS_IN_RUN)` rounds; memory does not
vary from round to round the way time does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import figures

from tests.child_server import child_server

ROWS = 100_000
APP = "demo/sleep"
ROUNDS_IN_RUN = 1
"""Rounds benchmarks/run.py measures (each is one fresh kernel mapping ROWS rows)."""
LIMIT_MB = 300
URL_ENV, TOKEN_ENV = "MAP_MEMORY_URL", "MAP_MEMORY_TOKEN"
_fresh = count(1)


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB (ru_maxrss is in KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def kernel(rows: int, tag: str) -> None:
    """The kernel's side: prints `{"baseline", "peak", "seconds", "succeeded"}` as one JSON line."""
    import pandas as pd

    from inference_nb import Client

    frame = pd.DataFrame(
        {"seconds": [0.0] * rows, "steps": [1] * rows, "message": [f"{tag} row {i}" for i in range(rows)]}
    )
    client = Client(base_url=os.environ[URL_ENV], key=os.environ[TOKEN_ENV], wait_timeout=3600)
    client.map(APP, [{"seconds": 0, "steps": 1, "message": f"{tag} warm-up"}], progress=False)
    baseline, began = peak_mb(), time.perf_counter()
    table = client.map(APP, frame, concurrency=100)
    seconds = time.perf_counter() - began
    succeeded = int((table["status"] == "succeeded").sum())
    print(json.dumps({"baseline": baseline, "peak": peak_mb(), "seconds": seconds, "succeeded": succeeded}))


def one_kernel(url: str, token: str, ledger: str, rows: int) -> dict[str, float]:
    """A fresh kernel process mapping `rows` rows no other round has (a new ledger file each)."""
    env = {**os.environ, URL_ENV: url, TOKEN_ENV: token, "INFERENCE_NB_LEDGER": ledger}
    done = subprocess.run(
        [sys.executable, __file__, "--kernel", str(rows), f"round {next(_fresh)}"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the kernel failed ({done.returncode}): {done.stderr[-2000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["succeeded"] != rows:
        raise RuntimeError(f"only {found['succeeded']} of {rows} rows succeeded")
    return found


def rounds(count: int, *, rows: int = ROWS, limit: int = ROUNDS_IN_RUN) -> Iterator[list[figures.Figure]]:
    """For benchmarks/run.py: per round, the kernel's peak RSS (against 300 MB) and the map's throughput."""
    with tempfile.TemporaryDirectory() as folder, child_server(max_workers=64, max_queued=1_000_000) as (url, token):
        for n in range(min(count, limit)):
            found = one_kernel(url, token, str(Path(folder) / f"ledger-{n}.sqlite3"), rows)
            yield [
                figures.Figure(f"`client.map` of {rows:,} rows: the kernel's peak RSS", found["peak"], "MB",
                               found["baseline"], "after imports, the DataFrame and a 1-row map", limit=LIMIT_MB),
                figures.Figure("the same: rows a second (the server in a child process)", rows / found["seconds"],
                               "rows/s"),
            ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--kernel", nargs=2, metavar=("ROWS", "TAG"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.kernel:
        kernel(int(options.kernel[0]), options.kernel[1])
        return
    for found in rounds(options.rounds, rows=options.rows, limit=options.rounds):
        for figure in found:
            base = f" (baseline {figure.baseline:.0f} MB, x{figure.ratio:.2f})" if figure.baseline else ""
            print(f"{figure.label}: {figure.ours:,.1f} {figure.unit}{base}", flush=True)


if __name__ == "__main__":
    main()
