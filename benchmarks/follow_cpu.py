"""Following many runs at once: the controller's CPU per run and how late a Run sees its status change.

    python benchmarks/run.py --only follow_cpu

The server runs in a child process (tests/child_server.py), so the CPU counted is the client's
alone. Its app `test/hold` (tests/apps.py) holds every run of a round until all of them are
running, so that they are in flight at once however fast they were created, then ends them
together (or one after another over 5 s). Runs are created by a bare httpx client (submits are not
what is measured) and handed to the controller as `Run`s, the way `client.run` does.

Measured each round, one run alone being the baseline of the loaded ones:
- controller thread CPU from the first run handed over until every run was seen Completed, per
  run, at each size, and the ratio of the largest to the smallest (it should not grow with the
  number); the main thread's CPU while it waits on the largest, as a share of one core;
- status latency: from the app returning (its `time.time()`, in its output: finer than the
  server's millisecond timeline) to the run's `on_change` listener seeing Completed, p50 and p99,
  for runs ending together and ending over 5 s, against `SINGLES` runs followed one at a time;
- the client's share of it, from each end reaching the kernel (read off the events connection:
  `stamp_arrivals`) to its listener, and how long after the first end of 1,000 arriving at once
  the last is seen (the embedded server's own time to end 1,000 tasks at once is not in it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
from figures import Figure, percentile

from inference_nb.api import Client
from inference_nb.client.event_stream import StreamEvent
from inference_nb.kernel.backends import TaskBackend
from inference_nb.kernel.run import Run
from tests.apps import HoldApp
from tests.child_server import child_server

ENDED = frozenset({9, 10, 11})
"""The statuses that end a task (spec numbering, the embedded server's)."""
SINGLES = 30
"""Runs followed one at a time per round: the latency baseline."""
SPREAD = 5.0
"""Seconds over which the runs of the spread round end, one after another."""
SETTLE = 1.0
"""Seconds the runs of a round wait after the last one started: time to hand the last ones over."""


@dataclass
class Round:
    runs: int
    completed: int
    controller_cpu: float
    """Seconds of the controller thread's CPU, first run handed over to the last seen Completed."""
    main_share: float
    """The main thread's CPU while it waited on the runs, as a share of one core."""
    latencies: list[float]
    """Seconds from each run's app returning to its listener seeing it Completed."""
    client_latencies: list[float]
    """Seconds from each run's end reaching the kernel (its event read off the connection) to its
    listener seeing it: the client's share of `latencies`."""
    burst: float
    """Seconds from the first end reaching the kernel to the last run seen Completed."""


async def create(url: str, token: str, count: int, backend: TaskBackend, *, spread: float, settle: float) -> list[Run]:
    """`count` runs of one group created by a bare httpx client, each handed to the controller as
    soon as it exists; they end `settle` s after the last one started, or over `spread` s from then."""
    group = uuid.uuid4().hex
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120,
                                 limits=httpx.Limits(max_connections=32)) as http:  # fmt: skip
        slots = asyncio.Semaphore(32)

        async def one(i: int) -> Run:
            app_input = {"group": group, "count": count, "settle": settle, "place": spread * i / count}
            body = {"app": HoldApp.name, "input": app_input}
            key = {"idempotency-key": str(uuid.uuid4())}
            async with slots:
                for attempt in range(5):  # a kept-alive connection the server just closed: send again, same key
                    try:
                        answer = await http.post("/run?wait=false", json=body, headers=key)
                        break
                    except httpx.TransportError:
                        if attempt == 4:
                            raise
            return Run(backend, backend.client.core.snapshot(answer.json()), label=HoldApp.name)

        return await asyncio.gather(*(one(i) for i in range(count)))


def stamp_arrivals(backend: TaskBackend, arrivals: dict[str, float]) -> None:
    """Note when each run's end is read off the events connection (before any of our parsing of it
    beyond the line's JSON): the moment a change has reached the kernel."""
    opened = backend.feed.open
    assert opened is not None

    async def stamped(after: int | None) -> AsyncIterator[StreamEvent]:
        async for event in opened(after):
            if event.kind == "task" and event.data.get("status") in ENDED:
                arrivals.setdefault(event.data["id"], time.time())
            yield event

    backend.feed = dataclasses.replace(backend.feed, open=stamped)


def controller_cpu(client: Client) -> float:
    async def thread_time() -> float:
        return time.thread_time()

    return client.controller.call(thread_time())


ARRIVALS: dict[str, float] = {}
"""When each run's end reached the kernel (`stamp_arrivals`)."""


def follow_round(client: Client, url: str, token: str, count: int, *, spread: float = 0.0) -> Round:
    """`count` runs in flight at once, ending together (or one after another over `spread` seconds)."""
    backend = client._tasks()
    client.controller.call(client.controller.prepare(backend.feed))  # as client.run does before a submit
    seen: dict[str, float] = {}

    def completed(run: Run) -> None:
        if run.status.name == "Completed":
            seen.setdefault(run.id, time.time())

    settle = SETTLE if count > 1 else 0.2
    cpu = controller_cpu(client)
    runs = asyncio.run(create(url, token, count, backend, spread=spread, settle=settle))
    for run in runs:
        run.on_change(completed)
    early = {run.id for run in runs if run.done}  # ended before its listener was there: not a latency
    main_cpu, began = time.thread_time(), time.perf_counter()
    for run in runs:
        run.wait(timeout=600)
    main_share = (time.thread_time() - main_cpu) / (time.perf_counter() - began)
    used = controller_cpu(client) - cpu
    timed = [r.id for r in runs if r.id in seen and r.id not in early]
    latencies = [seen[i] - ended for i, ended in ((r.id, r.output["ended"]) for r in runs) if i in timed]
    arrived = [i for i in timed if i in ARRIVALS]
    client_latencies = [seen[i] - ARRIVALS[i] for i in arrived]
    burst = max(seen[i] for i in arrived) - min(ARRIVALS[i] for i in arrived) if arrived else 0.0
    completed = sum(r.status.name == "Completed" for r in runs)
    return Round(count, completed, used, main_share, latencies, client_latencies, burst)


@dataclass
class Singles:
    latencies: list[float]
    client_latencies: list[float]


def alone(client: Client, url: str, token: str, count: int) -> Singles:
    rounds = [follow_round(client, url, token, 1) for _ in range(count)]
    return Singles([x for r in rounds for x in r.latencies], [x for r in rounds for x in r.client_latencies])


def round_figures(client: Client, url: str, token: str, sizes: list[int]) -> list[Figure]:
    """One round: the loaded rounds, each after a third of the single runs that are their baseline."""
    small, large = min(sizes), max(sizes)
    parts = [alone(client, url, token, SINGLES // 3)]
    together = follow_round(client, url, token, small)
    parts.append(alone(client, url, token, SINGLES // 3))
    spread = follow_round(client, url, token, small, spread=SPREAD)
    parts.append(alone(client, url, token, SINGLES - 2 * (SINGLES // 3)))
    singles = Singles([x for p in parts for x in p.latencies], [x for p in parts for x in p.client_latencies])
    largest = follow_round(client, url, token, large) if large != small else together

    ms = 1000
    per_run = {r.runs: r.controller_cpu / r.runs * ms for r in (together, largest)}
    figures = [
        Figure(f"runs seen Completed, {large:,} in flight", largest.completed, "runs", largest.runs,
               "in flight", ratio_floor=1.0),
        Figure(f"controller CPU per run, {small:,} in flight", per_run[small], "ms", limit=1.0),
        Figure(f"controller CPU per run, {large:,} in flight", per_run[large], "ms", limit=1.0),
        Figure(f"controller CPU per run, {large:,} against {small:,} in flight", per_run[large], "ms",
               per_run[small], f"at {small:,}", ratio_limit=1.2),
        Figure(f"main thread while waiting on {large:,}", largest.main_share * 100, "% of a core", limit=2.0),
    ]  # fmt: skip
    for how, loaded in ((f"ending over {SPREAD:g} s", spread), ("ending at the same instant", together)):
        for q in (0.5, 0.99):
            figures.append(Figure(f"status latency p{round(q * 100)}, {small:,} {how}",
                                  percentile(loaded.latencies, q) * ms, "ms", percentile(singles.latencies, q) * ms,
                                  "one run alone", ratio_limit=2.0))  # fmt: skip
    for q in (0.5, 0.99):
        figures.append(Figure(f"the client's share: end reaching the kernel to its Run seeing it, p{round(q * 100)}, "
                              f"{small:,} at the same instant", percentile(together.client_latencies, q) * ms, "ms",
                              percentile(singles.client_latencies, q) * ms, "one run alone"))  # fmt: skip
    figures.append(Figure(f"{small:,} ends arriving at once: the last seen, after the first arrived",
                          together.burst * ms, "ms", limit=250.0))  # fmt: skip
    return figures


def rounds(count: int, *, sizes: tuple[int, ...] = (1000, 10_000)) -> Iterator[list[Figure]]:
    with child_server(apps=[HoldApp], max_workers=max(sizes) + 100, max_queued=max(sizes) + 100) as (url, token):
        client = Client(base_url=url, key=token, wait_timeout=600)
        stamp_arrivals(client._tasks(), ARRIVALS)
        follow_round(client, url, token, 10)  # warm: connections, the events stream, imports
        for _ in range(count):
            yield round_figures(client, url, token, list(sizes))
