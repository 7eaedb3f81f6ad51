"""The controller follows every run of a server through one events connection, and loses no status
when that connection is cut; a gap it cannot resume over is filled by looking at each run once."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from inference_nb.api import Client
from inference_nb.kernel.run import Run
from inference_nb.server import start_server

from ..apps import TEST_APPS, gate
from ..relay import Relay
from ..server.helpers import wait_until


def server_timeline(server: Any, task_id: str) -> list[str]:
    headers = {"Authorization": f"Bearer {server.token}"}
    task = httpx.get(f"{server.url}/tasks/{task_id}", headers=headers, timeout=10).json()
    return [entry["name"] for entry in task["timeline"]]


def watch(runs: list[Run]) -> dict[str, list[str]]:
    """The statuses each run's listener sees from now on, after the one it has now."""
    seen: dict[str, list[str]] = {}
    lock = threading.Lock()
    for run in runs:
        seen[run.id] = [run.status.name]

        def listener(changed: Run) -> None:
            with lock:
                if seen[changed.id][-1] != changed.status.name:
                    seen[changed.id].append(changed.status.name)

        run.on_change(listener)
    return seen


def events_of(client: Client):
    return client.controller.events.of(client._tasks().feed)


def start_gated(client: Client, prefix: str, count: int) -> list[Run]:
    runs = [client.run("test/gate", {"gate": f"{prefix}-{i}"}) for i in range(count)]
    # Two workers: two runs reach Running, the rest wait Queued; nothing moves until a gate opens.
    wait_until(lambda: sum(r.status.name == "Running" for r in runs) == 2, "two runs running")
    wait_until(lambda: sum(r.status.name == "Queued" for r in runs) == count - 2, "the rest queued")
    return runs


@pytest.fixture
def two_workers(tmp_path):
    with start_server(data_dir=tmp_path / "two", apps=TEST_APPS, max_workers=2) as srv:
        yield srv


def test_a_cut_events_connection_resumes_and_every_listener_sees_every_status_in_order(two_workers):
    with Relay(two_workers.url) as relay:
        client = Client(base_url=relay.url, key=two_workers.token, wait_timeout=60)
        runs = start_gated(client, "cut", 6)
        seen = watch(runs)
        assert events_of(client)._available is True  # followed by the events stream, not polled
        for i in range(6):
            gate(f"cut-{i}").set()
            if i == 2:
                relay.cut()  # mid-stream: queued runs are moving on while the connection is down
        for run in runs:
            run.wait(30)

    for run in runs:
        timeline = server_timeline(two_workers, run.id)
        assert seen[run.id] == timeline[timeline.index(seen[run.id][0]) :], run.id  # none lost, none twice


def test_a_gap_after_a_long_cut_is_filled_by_looking_at_each_run_once(tmp_path):
    with start_server(data_dir=tmp_path / "tiny", apps=TEST_APPS, max_workers=2, event_replay=3) as server:
        with Relay(server.url) as relay:
            client = Client(base_url=relay.url, key=server.token, wait_timeout=60)
            runs = start_gated(client, "gap", 4)
            seen = watch(runs)
            relay.refusing = True
            relay.cut()
            for i in range(4):
                gate(f"gap-{i}").set()
            headers = {"Authorization": f"Bearer {server.token}"}
            ended = {"Completed"}
            wait_until(
                lambda: all(
                    httpx.get(f"{server.url}/tasks/{r.id}", headers=headers).json()["status"] == 9 for r in runs
                ),
                "every task ends on the server while the client is cut off",
            )
            relay.refusing = False  # the reconnect's id is older than the log of 3: a gap, then one look each
            for run in runs:
                run.wait(30)

        for run in runs:
            assert run.status.name in ended
            timeline = server_timeline(server, run.id)
            assert seen[run.id][-1] == "Completed"
            positions = [timeline.index(name) for name in seen[run.id]]
            assert positions == sorted(set(positions)), (seen[run.id], timeline)  # in order, none twice


def test_a_run_whose_last_view_predates_the_stream_is_looked_at_once(embedded):
    headers = {"Authorization": f"Bearer {embedded.token}"}
    body = {"app": "demo/sleep", "input": {"seconds": 0.01}}
    received = httpx.post(f"{embedded.url}/run?wait=false", json=body, headers=headers).json()  # before any stream
    client = Client(base_url=embedded.url, key=embedded.token, wait_timeout=30)
    client.run("demo/sleep", {"seconds": 0.01}).wait()  # the events connection is open from here on
    wait_until(lambda: server_timeline(embedded, received["id"])[-1] == "Completed", "the first task ends")

    backend = client._tasks()
    late = Run(backend, backend.client.core.snapshot(received), label="late")  # its changes are not in the stream
    assert late.wait(10).status.name == "Completed"


def test_two_runs_of_one_task_both_hear_every_status_through_the_events(embedded):
    client = Client(base_url=embedded.url, key=embedded.token, wait_timeout=30)
    first = client.run("test/gate", {"gate": "shared-by-two"})
    second = client.get(first.id)  # a second Run of the same task, on the same events connection
    wait_until(lambda: first.status.name == "Running" and second.status.name == "Running", "both see it run")

    gate("shared-by-two").set()

    assert first.wait(10).status.name == second.wait(10).status.name == "Completed"
