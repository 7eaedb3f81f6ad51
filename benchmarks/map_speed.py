"""What `client.map` costs the kernel: client CPU per row against the floor and the official SDK.

    python benchmarks/map_speed.py [--rows 1000 10000] [--rounds 3] [--profile]

Each contestant runs the same number of `demo/sleep` rows (0 s) on one embedded server in a child
process, so the CPU measured (`time.process_time` of this process) is the client's alone:

- floor: bare httpx async, POST every row (16 at once), then GET each task until it ended;
- map: `client.map(app, rows, concurrency=100)`, with its run ledger in a temporary folder;
- SDK: the official `inferencesh` SDK's `run` (waits for the end) in a pool of 100 threads.

Rounds are interleaved (floor, map, SDK, floor, …); the figure is the median of the rounds with
their min–max. Rows differ from round to round, so no round reuses another's tasks. For
benchmarks/run.py: `rounds(count)` yields each round's figures (the fields of its `figures.Figure`),
at 1,000 and 10,000 rows, the official SDK at 1,000 only.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
import figures  # noqa: E402

from tests.child_server import child_server  # noqa: E402

APP = "demo/sleep"
CONCURRENCY = 100
FLOOR_IN_FLIGHT = 16
"""The floor's requests at once: its cheapest. httpcore's pool costs grow with its connections (1,000
rows, this machine: 100 at once 14–16 ms of CPU a row, 16 at once 7.1–7.3); the controller's own limit."""
ENDED = {"completed", "failed", "cancelled", 9, 10, 11}
_fresh = count(1)
floor_gets: list[float] = []
"""GETs per row of each floor round: its CPU grows with them, i.e. with how long the server takes."""


def rows_of(n: int) -> list[dict[str, float]]:
    """`n` rows no other round has: a different (tiny) wait each."""
    base = next(_fresh) * 10_000_000
    return [{"seconds": (base + i) * 1e-12, "steps": 1} for i in range(n)]


def floor(url: str, token: str, rows: list[dict]) -> None:
    async def main() -> None:
        limits = httpx.Limits(max_connections=FLOOR_IN_FLIGHT, max_keepalive_connections=FLOOR_IN_FLIGHT)
        headers = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:
            slots = asyncio.Semaphore(FLOOR_IN_FLIGHT)

            async def call(method: str, path: str, **options) -> dict:
                async with slots:
                    for attempt in range(5):  # a kept-alive connection the server just closed, a reset
                        try:
                            return (await http.request(method, path, **options)).raise_for_status().json()
                        except httpx.TransportError:
                            if attempt == 4:
                                raise
                raise AssertionError("unreachable")

            async def post(n: int, row: dict) -> dict:
                key = {"idempotency-key": f"floor-{n}-{row['seconds']}"}
                return await call("POST", "/run?wait=false", json={"app": APP, "input": row}, headers=key)

            gets = 0

            async def until_ended(task: dict) -> None:
                nonlocal gets
                while True:
                    gets += 1
                    if (task := await call("GET", f"/tasks/{task['id']}"))["status"] in ENDED:
                        return
                    await asyncio.sleep(0.5)  # the floor's CPU, not its latency

            created = await asyncio.gather(*(post(n, row) for n, row in enumerate(rows)))
            await asyncio.gather(*(until_ended(task) for task in created))
            floor_gets.append(gets / len(rows))

    asyncio.run(main())


def mapped(client, rows: list[dict]) -> None:
    table = client.map(APP, rows, concurrency=CONCURRENCY, progress=False)
    assert (table["status"] == "succeeded").all(), table["status"].value_counts()


def sdk(sdk_client, rows: list[dict]) -> None:
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(lambda row: sdk_client.run({"app": APP, "input": row}), rows))


@dataclass
class Figure:
    name: str
    rows: int
    cpu_per_row: list[float]
    """Seconds of this process's CPU per row, one per round."""
    wall: list[float]

    def line(self, floor: Figure | None) -> str:
        cpu = statistics.median(self.cpu_per_row) * 1000
        low, high = min(self.cpu_per_row) * 1000, max(self.cpu_per_row) * 1000
        ratio = f"x{cpu / (statistics.median(floor.cpu_per_row) * 1000):.2f} of the floor" if floor else ""
        return (f"{self.name:8} {self.rows:>6} rows  CPU {cpu:6.2f} ms/row ({low:.2f}–{high:.2f})  "
                f"wall {statistics.median(self.wall):6.1f} s  {ratio}")  # fmt: skip


def timed(call: Callable[[list[dict]], None], rows: list[dict]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    call(rows)
    return (time.process_time() - cpu) / len(rows), time.perf_counter() - wall


@contextmanager
def contestants() -> Iterator[tuple[dict[str, Callable[[list[dict]], None]], Any]]:
    """The calls that run rows (floor, map, SDK) against one child server, warmed up; and the map's Client."""
    from inference_nb import Client

    with tempfile.TemporaryDirectory() as ledger, child_server(max_workers=64, max_queued=1_000_000) as (url, token):
        os.environ["INFERENCE_NB_LEDGER"] = str(Path(ledger) / "ledger.sqlite")
        client = Client(base_url=url, key=token, wait_timeout=600)
        calls: dict[str, Callable[[list[dict]], None]] = {
            "floor": lambda rows: floor(url, token, rows),
            "map": lambda rows: mapped(client, rows),
        }
        try:
            from inferencesh import Inference

            official = Inference(api_key=token, base_url=url)
            calls["SDK"] = lambda rows: sdk(official, rows)
        except ImportError:
            print("(the official inferencesh SDK is not installed: `uv sync` installs it with the dev group)")
        for call in calls.values():  # connections, imports, the app list
            call(rows_of(20))
        yield calls, client


def rounds(
    count: int, sizes: tuple[int, ...] = (1000, 10_000), sdk_sizes: tuple[int, ...] = (1000,)
) -> Iterator[list[figures.Figure]]:
    """For benchmarks/run.py: per round, each contestant's CPU per row against the floor's. The official
    SDK races at `sdk_sizes` only: at 10,000 rows it adds some 2 minutes a round to a figure with no target."""
    with contestants() as (calls, _):
        for _ in range(count):
            found = []
            for size in sizes:
                racing = {name: call for name, call in calls.items() if name != "SDK" or size in sdk_sizes}
                cpu = {name: timed(call, rows_of(size))[0] * 1000 for name, call in racing.items()}
                for name, label in (("map", "`client.map`"), ("SDK", "official SDK, 100 threads,")):
                    if name in cpu:
                        found.append(figures.Figure(f"{label} client CPU per row, {size:,} rows", cpu[name], "ms",
                                                    cpu["floor"], "httpx async, POST then GET each",
                                                    ratio_limit=1.5 if name == "map" else None))  # fmt: skip
            yield found


def measure(sizes: list[int], rounds: int = 3, *, profile: bool = False) -> list[Figure]:
    """Figures per contestant and size (the server in a child process; the ledger in a temp folder)."""
    figures: list[Figure] = []
    with contestants() as (calls, client):
        for size in sizes:
            seen = {name: Figure(name, size, [], []) for name in calls}
            for _ in range(rounds):
                for name, call in calls.items():
                    cpu, wall = timed(call, rows_of(size))
                    seen[name].cpu_per_row.append(cpu)
                    seen[name].wall.append(wall)
            figures += seen.values()
        if profile:  # the caller's thread, then the controller's (a profiler sees only its own thread)
            caller, controller = cProfile.Profile(), cProfile.Profile()
            client.controller.loop.call_soon_threadsafe(controller.enable)
            caller.runcall(mapped, client, rows_of(sizes[0]))
            client.controller.call(asyncio.sleep(0), 10)
            client.controller.loop.call_soon_threadsafe(controller.disable)
            for profiler in (caller, controller):
                client.controller.call(asyncio.sleep(0), 10)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return figures


def report(figures: list[Figure]) -> None:
    floors = {f.rows: f for f in figures if f.name == "floor"}
    for figure in figures:
        print(figure.line(None if figure.name == "floor" else floors.get(figure.rows)))
    if floor_gets:
        print(f"(the floor's GETs per row: {', '.join(f'{g:.1f}' for g in floor_gets)}, warm-up first)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="then profile one map of the first size")
    options = parser.parse_args()
    report(measure(options.rows, options.rounds, profile=options.profile))


if __name__ == "__main__":
    main()
