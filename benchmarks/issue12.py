"""Every target of issue 12 in one table, each measured in this one run against its baseline.

    python benchmarks/issue12.py [--quick]

- following: controller CPU per run with 1,000 and 10,000 runs in flight at once and their
  ratio; the main thread's CPU while it waits on them; status latency (the server recording a run
  Completed to its `Run` listener) p50/p99 with 1,000 in flight, ending together and ending over
  5 s, against one run alone
  (benchmarks/follow_cpu.py: server in a child process, runs created by a bare client);
- submit overhead: `client.run` / `client.ask` against a bare POST (benchmarks/submit_cost.py);
- DataFrames of 100,000 rows against pandas (benchmarks/dataframe_speed.py);
- cold start against `import httpx, pydantic` (benchmarks/cold_start.py).

`--quick` uses smaller sizes (for trying it out); the README's figures come from a full run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import cold_start  # noqa: E402
import dataframe_speed  # noqa: E402
import follow_cpu  # noqa: E402
import submit_cost  # noqa: E402

from inference_nb.api import Client  # noqa: E402


@dataclass
class Round:
    runs: int
    completed: int
    controller_cpu: float
    """Seconds of the controller thread's CPU, first run handed over to the last seen Completed."""
    main_share: float
    """The main thread's CPU while it waited on the runs, as a share of one core."""
    latencies: list[float]
    """Seconds from the server recording each run Completed (its timeline, in ms) to its listener seeing it."""


def completed_at(run) -> float:
    """When the server recorded the run Completed (its timeline), as Unix time."""
    return next(at for name, at in reversed(run.timeline) if name == "Completed").timestamp()


def follow_round(client: Client, url: str, token: str, count: int, *, spread: float = 0.0) -> Round:
    """`count` runs in flight at once, ending together (or one after another over `spread` seconds)."""
    backend = client._tasks()
    client.controller.call(client.controller.prepare(backend.feed))
    until = time.time() + count / 120 + follow_cpu.SETTLE  # as follow_cpu: every run still waiting at the end
    seen: dict[str, float] = {}

    def completed(run) -> None:
        if run.status.name == "Completed":
            seen.setdefault(run.id, time.time())

    cpu = follow_cpu.controller_cpu(client)
    runs = asyncio.run(follow_cpu.create(url, token, count, until, backend, spread=spread))
    for run in runs:
        run.on_change(completed)
        if run.done:  # ended before its listener was there: not a measure of latency
            seen.setdefault(run.id, float("nan"))
    main_cpu, began = time.thread_time(), time.perf_counter()
    for run in runs:
        run.wait(timeout=600)
    main_share = (time.thread_time() - main_cpu) / (time.perf_counter() - began)
    used = follow_cpu.controller_cpu(client) - cpu
    latencies = [seen[r.id] - completed_at(r) for r in runs if r.id in seen and seen[r.id] == seen[r.id]]
    return Round(count, sum(r.status.name == "Completed" for r in runs), used, main_share, latencies)


SPREAD = 5.0
"""Seconds over which the runs of the spread latency round end, one after another."""


def following(sizes: list[int], singles: int) -> tuple[list[Round], list[float], Round]:
    """Rounds at each size, the latencies of `singles` runs followed one at a time, and a round of
    the smallest size whose runs end over `SPREAD` seconds."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as data_dir:
        mine, theirs = context.Pipe()
        server = context.Process(target=follow_cpu.serve, args=(theirs, data_dir, max(sizes) + 100), daemon=True)
        server.start()
        url, token = mine.recv()
        try:
            client = Client(base_url=url, key=token, wait_timeout=600)
            alone = [lat for _ in range(singles) for lat in follow_round(client, url, token, 1).latencies]
            rounds = [follow_round(client, url, token, n) for n in sizes]
            spread = follow_round(client, url, token, sizes[0], spread=SPREAD)
        finally:
            mine.send("stop")
            server.join(30)
    return rounds, alone, spread


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for trying the benchmark out")
    quick = parser.parse_args().quick
    sizes, singles, rows = ([200, 1000], 3, 20_000) if quick else ([1000, 10_000], 10, 100_000)

    rounds, alone, spread = following(sizes, singles)
    submits = submit_cost.with_server(lambda url, token: submit_cost.measure(url, token, 100 if quick else 300))
    frames = dataframe_speed.ratios(rows)
    base_start, picture_start, pandas_imported = cold_start.measure(3 if quick else 5)

    small, large = rounds
    per_run = {r.runs: r.controller_cpu / r.runs * 1000 for r in rounds}
    loaded = rounds[0]
    table = [
        (f"runs Completed of {large.runs} in flight", f"{large.completed}", f"{large.runs}", "all"),
        (f"controller CPU per run at {small.runs}", f"{per_run[small.runs]:.3f} ms", "", "≤ 1 ms"),
        (f"controller CPU per run at {large.runs}", f"{per_run[large.runs]:.3f} ms", "", "≤ 1 ms"),
        (
            f"per-run CPU at {large.runs} / at {small.runs}",
            f"x{per_run[large.runs] / per_run[small.runs]:.2f}",
            "",
            "≤ x1.2",
        ),
        (
            f"main thread while waiting ({large.runs} runs)",
            f"{large.main_share * 100:.2f} % of a core",
            "",
            "≤ 2 %",
        ),
    ]
    for how, latencies in (("ending together", loaded.latencies), (f"ending over {SPREAD:.0f} s", spread.latencies)):
        for q in (0.5, 0.99):
            ours, one = percentile(latencies, q), percentile(alone, q)
            table.append((f"status latency p{round(q * 100)}, {spread.runs} {how}", f"{ours * 1000:.1f} ms",
                          f"{one * 1000:.1f} ms alone", f"x{ours / one:.2f} (≤ x2)"))  # fmt: skip
    for name, post in (("client.run", "POST /run"), ("client.ask", "POST …/runs")):
        ours, bare = submits[name][0], submits[post][0]
        table.append((f"{name} submit", f"{ours * 1000:.2f} ms", f"{bare * 1000:.2f} ms bare POST",
                      f"x{ours / bare:.2f} (≤ x1.5)"))  # fmt: skip
    for case, baseline, target in (("flat", "pd.DataFrame", 1.5), ("nested", "pd.json_normalize", 1.2)):
        ours, base = frames[case]
        table.append((f"to_dataframe, {rows} {case} rows", f"{ours * 1000:.0f} ms",
                      f"{base * 1000:.0f} ms {baseline}", f"x{ours / base:.2f} (≤ x{target})"))  # fmt: skip
    table.append(("first Client + picture + image", f"{picture_start:.2f} s",
                  f"{base_start:.2f} s import httpx, pydantic",
                  f"x{picture_start / base_start:.2f} (aim < x3); pandas imported: {pandas_imported}"))  # fmt: skip

    print(f"\nIssue 12 targets — {time.strftime('%Y-%m-%d')}, {machine()}")
    print(f"   {'measure':44} {'figure':>20} {'baseline':>34}  ratio / target")
    for name, figure, baseline, ratio in table:
        print(f"   {name:44} {figure:>20} {baseline:>34}  {ratio}")
    print(f"   (latency samples: {len(loaded.latencies)} together, {len(spread.latencies)} spread, {len(alone)} alone)")


if __name__ == "__main__":
    main()
