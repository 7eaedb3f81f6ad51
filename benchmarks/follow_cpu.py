"""What following many runs at once costs the kernel: controller CPU per run at 1,000 and 10,000 in flight.

    python benchmarks/follow_cpu.py [--runs 1000,10000]

The server runs in a child process, so the CPU measured here is the client's alone. Its app
`bench/until` waits (without a thread) until a wall-clock moment given in its input, so that every
run of a round is in flight at once and all end together, just after the last one was created.
Runs are created by a bare httpx client (submits are not what is measured) and handed to the
controller as `Run`s, the way `client.run` does. Measured: CPU of the controller thread from the
first run handed over until every run was seen Completed, per run:

- through the server's one events connection, at each size (and the ratio of the largest to the
  smallest: following should cost the same per run whatever the number);
- the poll scheduler at the smallest size (a profile without streams), for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
import uuid
from dataclasses import replace

import httpx
from pydantic import BaseModel

from inference_nb.api import Client
from inference_nb.kernel.backends import TaskBackend
from inference_nb.kernel.run import Run

SETTLE = 3.0
"""Seconds every run keeps waiting after the last one was created."""


def serve(pipe, data_dir: str, workers: int) -> None:
    from inference_nb.server import App, RunContext, start_server

    class Until(App):
        name = "bench/until"
        description = "Waits until a moment given as Unix time."

        class Input(BaseModel):
            until: float

        class Output(BaseModel):
            late: float

        async def run(self, input: Input, ctx: RunContext) -> Output:
            await asyncio.sleep(max(0.0, input.until - time.time()))
            return self.Output(late=time.time() - input.until)

    with start_server(data_dir=data_dir, apps=[Until], max_workers=workers, max_queued=workers) as server:
        pipe.send((server.url, server.token))
        pipe.recv()  # until the benchmark is done


async def create(
    url: str, token: str, count: int, until: float, backend: TaskBackend, *, spread: float = 0.0
) -> list[Run]:
    """`count` runs created by a bare httpx client, each handed to the controller as soon as it exists.

    They end at `until`, or one after another over `spread` seconds from then."""
    headers = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:
        slots = asyncio.Semaphore(32)

        async def one(i: int) -> Run:
            body = {"app": "bench/until", "input": {"until": until + spread * i / count}}
            key = {"idempotency-key": str(uuid.uuid4())}
            async with slots:
                for attempt in range(5):  # a kept-alive connection the server just closed: send again, same key
                    try:
                        answer = await http.post("/run?wait=false", json=body, headers=key)
                        break
                    except httpx.TransportError:
                        if attempt == 4:
                            raise
            return Run(backend, backend.client.core.snapshot(answer.json()), label="bench/until")

        return await asyncio.gather(*(one(i) for i in range(count)))


def controller_cpu(client: Client) -> float:
    async def thread_time() -> float:
        return time.thread_time()

    return client.controller.call(thread_time())


def follow_round(client: Client, url: str, token: str, count: int) -> tuple[float, float, int]:
    """(controller CPU seconds, wall seconds, runs Completed) for `count` runs followed at once."""
    backend = client._tasks()
    client.controller.call(client.controller.prepare(backend.feed))  # as client.run does before a submit
    per_second = 120  # a low creation rate for a small machine, so that every run is still waiting at the end
    until = time.time() + count / per_second + SETTLE
    began, cpu = time.perf_counter(), controller_cpu(client)
    runs = asyncio.run(create(url, token, count, until, backend))
    for run in runs:
        run.wait(timeout=600)
    used, wall = controller_cpu(client) - cpu, time.perf_counter() - began
    return used, wall, sum(r.status.name == "Completed" for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", default="1000,10000", help="sizes of the rounds, comma-separated")
    sizes = [int(n) for n in parser.parse_args().runs.split(",")]
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as data_dir:
        mine, theirs = context.Pipe()
        server = context.Process(target=serve, args=(theirs, data_dir, max(sizes) + 100), daemon=True)
        server.start()
        url, token = mine.recv()
        try:
            events = Client(base_url=url, key=token, wait_timeout=600)
            polled = Client(tasks=replace(events.profile("tasks"), streams=False), wait_timeout=600)
            rows = [("events connection", n, *follow_round(events, url, token, n)) for n in sizes]
            rows.append(("poll scheduler", sizes[0], *follow_round(polled, url, token, sizes[0])))
        finally:
            mine.send("stop")
            server.join(30)

    ms = 1000
    print("\nController CPU while following runs in flight at once (server in another process)")
    print(f"   {'path':20} {'runs':>7} {'Completed':>10} {'wall s':>8} {'CPU s':>8} {'CPU ms/run':>11}")
    for path, n, cpu, wall, completed in rows:
        print(f"   {path:20} {n:7} {completed:10} {wall:8.1f} {cpu:8.2f} {cpu / n * ms:11.3f}")
    first, last = rows[0], rows[len(sizes) - 1]
    if len(sizes) > 1:
        print(f"   per-run CPU at {last[1]} / at {first[1]}: x{(last[2] / last[1]) / (first[2] / first[1]):.2f}")
    polls = rows[-1]
    print(f"   poll scheduler / events connection at {first[1]}: x{(polls[2] / polls[1]) / (first[2] / first[1]):.1f}")


if __name__ == "__main__":
    main()
