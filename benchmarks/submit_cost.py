"""What a submit costs: `client.run` / `client.ask` against a bare httpx POST of the same body.

    python benchmarks/submit_cost.py [--submits 200] [--profile]

The server runs in a child process, so what differs between the loops is the client's own work.
Each loop is timed as wall time per call (the user waits for it) and as this process's CPU per
call; `--profile` prints where `client.run`'s time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import uuid
from collections.abc import Callable

import httpx
from child_server import child_server

from inference_nb.api import Client
from inference_nb.wire.runs import new_run_id

BODY = {"app": "demo/sleep", "input": {"seconds": 0}}
QUESTION = "What is the capital of Norway?"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def timed(count: int, call: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) per call, over `count` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        call()
    return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count


def measure(url: str, token: str, count: int, *, profile: bool = False) -> dict[str, tuple[float, float]]:
    """{loop: (wall, CPU) seconds per call}: each bare POST just before the client call it is the baseline of."""
    headers = {"authorization": f"Bearer {token}"}
    client = Client(base_url=url, key=token)
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:

        def post() -> None:
            http.post("/run?wait=false", json=BODY, headers={"idempotency-key": str(uuid.uuid4())}).raise_for_status()

        def run() -> None:
            client.run(BODY["app"], BODY["input"])

        runs_path = f"/clusters/{client._runs().cluster}/runs"

        def post_run() -> None:
            body = {"message": QUESTION, "result": {"schema": SCHEMA}, "id": new_run_id()}
            http.post(runs_path, json=body).raise_for_status()

        def ask() -> None:
            client.ask(QUESTION, SCHEMA)

        for warm in (post, run, post_run, ask):  # connections open, app list fetched, imports done
            timed(5, warm)
        if profile:
            profiler = cProfile.Profile()
            profiler.runcall(timed, count, run)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return {
            "POST /run": timed(count, post),
            "client.run": timed(count, run),
            "POST …/runs": timed(count, post_run),
            "client.ask": timed(count, ask),
        }


def with_server(work: Callable[[str, str], object]) -> object:
    with child_server(max_workers=64, max_queued=100_000) as (url, token):
        return work(url, token)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submits", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    rows = with_server(lambda url, token: measure(url, token, args.submits, profile=args.profile))
    bare = rows["POST /run"]
    for name, (wall, cpu) in rows.items():
        bare = rows[name] if name.startswith("POST") else bare
        print(f"{name:12} {wall * 1000:7.2f} ms/call  CPU {cpu * 1000:6.2f} ms/call  x{wall / bare[0]:.2f} of its POST")


if __name__ == "__main__":
    main()
