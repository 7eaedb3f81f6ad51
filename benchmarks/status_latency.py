"""How soon a Run sees a status change, against a polling loop of the common kind.

    python benchmarks/run.py --only status_latency

On one embedded server in this process, a `test/gate` run (tests/apps.py) waits on its gate; the
benchmark opens the gate at a random moment (as real changes fall anywhere within a polling
interval) and measures from the app returning (`STOPPED`, the app's own clock) to the client
seeing it done: our Run (its stream on the controller thread, seen through `run.on_change`)
against a plain loop of `GET /tasks/{id}` and a 0.5 s sleep, the two taking turns.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
from figures import Figure, in_turns, median

from inference_nb.api import Client
from inference_nb.server import start_server
from inference_nb.wire.statuses import SPEC
from tests.apps import STOPPED, GateApp, gate, started

PAIRS = 8
"""Runs of each kind per round."""
POLL_INTERVAL = 0.5


def open_at_a_random_moment(name: str) -> None:
    started(name).wait(30)
    threading.Timer(random.uniform(0, POLL_INTERVAL), gate(name).set).start()


def streaming_latency(client: Client) -> float:
    name = uuid.uuid4().hex
    seen: list[float] = []
    run = client.run(GateApp.name, {"gate": name})
    run.on_change(lambda r: seen.append(time.monotonic()) if r.done else None)
    open_at_a_random_moment(name)
    run.wait(timeout=30)
    while not seen:  # the listener runs on the controller thread, maybe a moment after wait() returned
        time.sleep(0.001)
    return seen[0] - STOPPED[name]


def polling_latency(http: httpx.Client) -> float:
    name = uuid.uuid4().hex
    body = {"app": GateApp.name, "input": {"gate": name}}
    task_id = http.post("/run", params={"wait": "false"}, json=body).json()["id"]
    open_at_a_random_moment(name)
    while not SPEC.by_code(http.get(f"/tasks/{task_id}").json()["status"]).terminal:  # the loop other clients run
        time.sleep(POLL_INTERVAL)
    return time.monotonic() - STOPPED[name]


def rounds(count: int) -> Iterator[list[Figure]]:
    with tempfile.TemporaryDirectory() as data_dir, start_server(data_dir=data_dir, apps=[GateApp]) as server:
        client = Client(base_url=server.url, key=server.token, wait_timeout=60)
        headers = {"authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            in_turns(1, lambda: streaming_latency(client), lambda: polling_latency(http))  # warm
            for _ in range(count):
                ours, polled = in_turns(PAIRS, lambda: streaming_latency(client), lambda: polling_latency(http))
                yield [Figure("status change seen by a `Run` (median)", median(ours) * 1000, "ms",
                              median(polled) * 1000, f"a {POLL_INTERVAL:g} s polling loop")]  # fmt: skip
