"""How fast a Run sees a status change, and what 1,000 runs in flight cost the kernel.

    python benchmarks/status_latency.py

Everything is measured in one run, on one embedded server in this process:

1. Latency: a task blocks on a gate; the benchmark opens the gate at a random moment and
   measures from the moment the app saw it open (server side) to the moment the client
   saw "Completed": our Run (followed by a stream on the controller thread, seen through
   `run.on_change`) against a plain polling loop (`GET /tasks/{id}`, then sleep 0.5 s: the
   common default of other clients).
2. Load: 1,000 `demo/sleep` runs of ~2 s through one Client, submitted in a plain loop. Wall
   time to submit them (against a bare httpx POST loop), then CPU from the first submit until
   every run was seen done: the whole process (time.process_time; the server shares it), the
   controller thread and the main (kernel) thread, against an idle baseline of the same length.
"""

from __future__ import annotations

import itertools
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass

import httpx
from pydantic import BaseModel

from inference_nb.api import Client
from inference_nb.kernel.run import Run
from inference_nb.server import App, RunContext, start_server
from inference_nb.wire.statuses import SPEC, StatusInfo

REPEATS = 20
POLL_INTERVAL = 0.5
RUNS_IN_FLIGHT = 1000
RUN_SECONDS = 2.0
BARE_SUBMITS = 200

GATES: dict[str, threading.Event] = {}
OPENED: dict[str, float] = {}
"""time.perf_counter() when the app saw its gate open, by gate name."""


class GateApp(App):
    name = "bench/gate"
    description = "Runs until the benchmark opens its gate."

    class Input(BaseModel):
        gate: str

    class Output(BaseModel):
        gate: str

    def run(self, input: Input, ctx: RunContext) -> Output:
        while not GATES[input.gate].wait(0.05):
            if ctx.cancelled:
                break
        OPENED[input.gate] = time.perf_counter()
        return self.Output(gate=input.gate)


def open_gate_at_a_random_moment(name: str) -> None:
    """So that the change falls anywhere within a polling interval, as real changes do."""
    threading.Timer(random.uniform(0, POLL_INTERVAL), GATES[name].set).start()


def new_gate(i: int, kind: str) -> str:
    name = f"{kind}-{i}"
    GATES[name] = threading.Event()
    return name


def streaming_latency(client: Client, i: int) -> float:
    name = new_gate(i, "stream")
    seen: list[float] = []
    run = client.run("bench/gate", {"gate": name})
    run.on_change(lambda r: seen.append(time.perf_counter()) if r.done else None)
    while run.status.name != "Running":
        time.sleep(0.001)
    open_gate_at_a_random_moment(name)
    run.wait(timeout=30)
    return seen[0] - OPENED[name]


def polling_latency(http: httpx.Client, i: int) -> float:
    name = new_gate(i, "poll")
    body = {"app": "bench/gate", "input": {"gate": name}}
    task_id = http.post("/run", params={"wait": "false"}, json=body).json()["id"]
    while server_status(http, task_id).name != "Running":
        time.sleep(0.001)
    open_gate_at_a_random_moment(name)
    while True:  # the loop other clients run
        if server_status(http, task_id).terminal:
            return time.perf_counter() - OPENED[name]
        time.sleep(POLL_INTERVAL)


def server_status(http: httpx.Client, task_id: str) -> StatusInfo:
    return SPEC.by_code(http.get(f"/tasks/{task_id}").json()["status"])


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


@dataclass
class Cpu:
    """Wall time and CPU seconds: the whole process, the controller thread, the main thread."""

    wall: float
    process: float
    controller: float
    main: float

    @classmethod
    def now(cls, client: Client) -> Cpu:
        async def thread_time() -> float:
            return time.thread_time()

        controller = client.controller.call(thread_time())
        return cls(time.perf_counter(), time.process_time(), controller, time.thread_time())

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(*(a - b for a, b in zip(vars(self).values(), vars(other).values())))


def measure_latency(client: Client, http: httpx.Client) -> None:
    streaming = [streaming_latency(client, i) for i in range(REPEATS)]
    polling = [polling_latency(http, i) for i in range(REPEATS)]
    ms = 1000
    print(f"\n1. status change -> client sees it ({REPEATS} runs each), ms")
    print(f"   {'':30} {'median':>8} {'p90':>8} {'max':>8}")
    for label, values in (("Run (controller, stream)", streaming), (f"polling loop, {POLL_INTERVAL} s", polling)):
        print(f"   {label:30} {statistics.median(values) * ms:8.1f} {p90(values) * ms:8.1f} {max(values) * ms:8.1f}")
    print(
        f"   polling / streaming: median x{statistics.median(polling) / statistics.median(streaming):.0f}, "
        f"p90 x{p90(polling) / p90(streaming):.0f}"
    )


def bare_submit_seconds(http: httpx.Client, count: int) -> float:
    """Baseline: seconds per `POST /run?wait=false` from a bare httpx loop that follows nothing."""
    began = time.perf_counter()
    for _ in range(count):
        http.post("/run", params={"wait": "false"}, json={"app": "demo/sleep", "input": {"seconds": 0}})
    return (time.perf_counter() - began) / count


def most_at_once(runs: list[Run]) -> int:
    """The most runs in flight at one moment, from the server's timelines."""
    events = sorted((when, change) for r in runs for when, change in ((r.timeline[0][1], 1), (r.timeline[-1][1], -1)))
    return max(itertools.accumulate(change for _, change in events))


def measure_load(client: Client, http: httpx.Client) -> None:
    bare = bare_submit_seconds(http, BARE_SUBMITS)
    time.sleep(1)  # let the baseline's runs end
    start = Cpu.now(client)
    runs = [client.run("demo/sleep", {"seconds": RUN_SECONDS}) for _ in range(RUNS_IN_FLIGHT)]
    submitted = Cpu.now(client)
    for run in runs:
        run.wait(timeout=300)
    finished = Cpu.now(client)
    busy, submit = finished - start, submitted - start
    time.sleep(busy.wall)
    idle = Cpu.now(client) - finished

    completed = sum(r.status.name == "Completed" for r in runs)
    per_run = submit.wall / RUNS_IN_FLIGHT
    ms = 1000
    print(f"\n2. {RUNS_IN_FLIGHT} demo/sleep runs of {RUN_SECONDS:g} s through one Client, submitted in a loop")
    print(f"   {completed} Completed; at most {most_at_once(runs)} in flight at once (server timelines)")
    print(
        f"   submit all: {submit.wall:.1f} s wall = {per_run * ms:.1f} ms per client.run; "
        f"a bare httpx POST loop: {bare * ms:.1f} ms per run (x{per_run / bare:.1f})"
    )
    print(f"   first submit -> every run seen done: {busy.wall:.1f} s; idle baseline: {idle.wall:.1f} s")
    print(f"   {'CPU seconds (share of one core)':34} {'busy':>14} {'idle':>14} {'ratio':>7}")
    rows = [
        ("process (client + server)", busy.process, idle.process),
        ("controller thread", busy.controller, idle.controller),
        ("main thread (the kernel)", busy.main, idle.main),
        ("server and other threads", busy.process - busy.controller - busy.main,
         idle.process - idle.controller - idle.main),
    ]  # fmt: skip
    for label, during, quiet in rows:
        ratio = f"x{during / quiet:.0f}" if quiet >= 0.001 else "-"
        shares = f"{during:7.2f} ({during / busy.wall:4.0%}) {quiet:7.3f} ({quiet / idle.wall:4.0%})"
        print(f"   {label:34} {shares} {ratio:>7}")
    print(
        f"   controller share of process CPU: {busy.controller / busy.process:.0%}; client CPU per run: "
        f"controller {busy.controller / RUNS_IN_FLIGHT * ms:.1f} ms + main {busy.main / RUNS_IN_FLIGHT * ms:.2f} ms"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        server = start_server(data_dir=data_dir, apps=[GateApp], max_workers=RUNS_IN_FLIGHT + 24)
        try:
            client = Client(base_url=server.url, key=server.token, wait_timeout=120)
            headers = {"authorization": f"Bearer {server.token}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
                measure_latency(client, http)
                measure_load(client, http)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
