"""What a submit costs: `client.run` / `client.ask` against a bare httpx POST of the same body.

    python benchmarks/run.py --only submit_cost
    python benchmarks/submit_cost.py [--submits 200]   (a profile: where `client.run`'s time goes)

The server runs in a child process (tests/child_server.py), so its CPU is not counted here. Each
round makes `SUBMITS` calls of each kind, the four kinds taking turns call by call (POST /run,
client.run, POST …/runs, client.ask) so that the server's growing database and a busy moment of
the machine hit ours and the baseline alike; the figure is the median wall time per call (what
the user waits for). Before the first round every kind is warmed up: connections open, the app
list fetched, imports and caches done.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from figures import Figure, in_turns, median, timed

from inference_nb.api import Client
from inference_nb.wire.runs import new_run_id
from tests.child_server import child_server

SUBMITS = 200
"""Calls of each kind per round."""
WARM_UP = 20
BODY = {"app": "demo/sleep", "input": {"seconds": 0}}
QUESTION = "What is the capital of Norway?"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def submitters(url: str, token: str, http: httpx.Client) -> dict[str, Callable[[], object]]:
    """The four kinds of submit, each with the same body as its counterpart."""
    client = Client(base_url=url, key=token)
    runs_path = f"/clusters/{client._runs().cluster}/runs"

    def post_task() -> None:
        http.post("/run?wait=false", json=BODY, headers={"idempotency-key": str(uuid.uuid4())}).raise_for_status()

    def post_run() -> None:
        body = {"message": QUESTION, "result": {"schema": SCHEMA}, "id": new_run_id()}
        http.post(runs_path, json=body).raise_for_status()

    return {
        "POST /run": post_task,
        "client.run": lambda: client.run(BODY["app"], BODY["input"]),
        "POST …/runs": post_run,
        "client.ask": lambda: client.ask(QUESTION, SCHEMA),
    }


@contextmanager
def warm_submits() -> Iterator[dict[str, Callable[[], float]]]:
    """The four kinds of submit against a server in a child process, timed, each warmed up."""
    with child_server(max_workers=64, max_queued=1_000_000) as (url, token):
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            calls = {name: timed(call) for name, call in submitters(url, token, http).items()}
            in_turns(WARM_UP, *calls.values())
            yield calls


def rounds(count: int) -> Iterator[list[Figure]]:
    with warm_submits() as calls:
        for _ in range(count):
            post_task, run, post_run, ask = map(median, in_turns(SUBMITS, *calls.values()))
            ms = 1000
            yield [
                Figure("`client.run` submit", run * ms, "ms", post_task * ms, "bare httpx POST", ratio_limit=1.5),
                Figure("`client.ask` submit", ask * ms, "ms", post_run * ms, "bare httpx POST", ratio_limit=1.5),
            ]


def profile(count: int) -> None:
    with warm_submits() as calls:
        profiler = cProfile.Profile()
        profiler.runcall(in_turns, count, calls["client.run"])
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Profile client.run (the figures come from run.py).")
    parser.add_argument("--submits", type=int, default=SUBMITS)
    profile(parser.parse_args().submits)
