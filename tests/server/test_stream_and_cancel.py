from __future__ import annotations

import threading
import time

import httpx
import pytest

from inference_nb.server import start_server

from .helpers import STOPPED, TEST_APPS, gate, read_stream, started, status_names, wait_for_status, wait_until

ALL_STEPS = ["Queued", "Scheduled", "Preparing", "Serving", "Setting Up", "Running", "Uploading", "Completed"]


@pytest.fixture
def one_worker(tmp_path):
    """A server that runs one task at a time, so a second task waits in Queued."""
    with start_server(data_dir=tmp_path / "one", apps=TEST_APPS, max_workers=1) as srv:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api:
            yield api


@pytest.fixture
def quick_keep_alive(tmp_path):
    """A server whose streams send a keep-alive after 0.05 s of quiet."""
    with start_server(data_dir=tmp_path / "quick", apps=TEST_APPS, stream_keep_alive=0.05) as srv:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api:
            yield api


@pytest.mark.parametrize("sse", [False, True], ids=["ndjson", "sse"])
def test_stream_pushes_every_status_in_order_and_ends_after_the_terminal_one(one_worker, sse):
    api = one_worker
    blocker = api.post("/run?wait=false", json={"app": "test/gate", "input": {"gate": f"block-{sse}"}}).json()
    wait_for_status(api, blocker["id"], "Running")
    task = api.post("/run?wait=false", json={"app": "demo/picture", "input": {"prompt": "stream"}}).json()
    wait_for_status(api, task["id"], "Queued")

    snapshots: list = []
    subscribed = threading.Event()
    reader = threading.Thread(
        target=lambda: snapshots.extend(read_stream(api, task["id"], sse=sse, subscribed=subscribed))
    )
    reader.start()
    assert subscribed.wait(10), "the stream never sent its first snapshot"
    gate(f"block-{sse}").set()
    reader.join(10)

    assert not reader.is_alive(), "the stream did not end after the terminal status"
    assert status_names([s["status"] for s in snapshots]) == ALL_STEPS
    assert snapshots[-1]["output"]["image"]["content_type"] == "image/png"


def test_stream_of_a_finished_task_sends_it_once_and_ends(api):
    task = api.post("/run", json={"app": "test/echo", "input": {"text": "done"}}).json()
    assert read_stream(api, task["id"]) == [task]


def test_cancel_stops_a_sync_app_and_ends_cancelled(api):
    task = api.post("/run?wait=false", json={"app": "test/gate", "input": {"gate": "cancel-sync"}}).json()
    # Running is recorded just before the app's thread starts; a cancel before that never runs the app at
    # all (also right, but not what this test is about).
    assert started("cancel-sync").wait(10), "the app never started"
    answer = api.post(f"/tasks/{task['id']}/cancel").json()
    assert answer == {"id": task["id"], "status": 11, "cancelled": True}
    # The gate is never opened: the app's run returns only because it saw the cancel. A deadline, not a
    # speed limit: tests share the machine with other workers.
    wait_until(lambda: "cancel-sync" in STOPPED, "the app never stopped after the cancel")
    final = api.get(f"/tasks/{task['id']}").json()
    assert final["status"] == 11 and final["output"] is None


def test_cancel_stops_an_async_app_long_before_it_would_end(api):
    task = api.post("/run?wait=false", json={"app": "demo/sleep", "input": {"seconds": 30}}).json()
    wait_for_status(api, task["id"], "Running")
    asked = time.monotonic()
    api.post(f"/tasks/{task['id']}/cancel")
    final = wait_for_status(api, task["id"], "Cancelled", timeout=10)
    assert time.monotonic() - asked < 10  # the app asked for 30 s: it was stopped, it did not finish
    assert status_names([e["status"] for e in final["timeline"]])[-2:] == ["Running", "Cancelled"]


def test_a_waiting_run_request_returns_the_cancelled_task(api):
    result: dict = {}
    waiter = threading.Thread(
        target=lambda: result.update(api.post("/run", json={"app": "test/gate", "input": {"gate": "held"}}).json())
    )
    waiter.start()
    task_id = _newest_task_id(api)
    wait_for_status(api, task_id, "Running")
    api.post(f"/tasks/{task_id}/cancel")
    waiter.join(5)
    assert result["id"] == task_id and result["status"] == 11


def test_cancel_of_a_queued_task_never_runs_it(one_worker):
    api = one_worker
    blocker = api.post("/run?wait=false", json={"app": "test/gate", "input": {"gate": "queue-block"}}).json()
    wait_for_status(api, blocker["id"], "Running")
    queued = api.post("/run?wait=false", json={"app": "test/echo", "input": {"text": "never"}}).json()
    wait_for_status(api, queued["id"], "Queued")
    assert api.post(f"/tasks/{queued['id']}/cancel").json()["status"] == 11
    gate("queue-block").set()
    wait_for_status(api, blocker["id"], "Completed")
    final = api.get(f"/tasks/{queued['id']}").json()
    assert status_names([e["status"] for e in final["timeline"]]) == ["Received", "Queued", "Cancelled"]


def test_cancel_of_a_finished_task_is_a_409_with_its_status(api):
    task = api.post("/run", json={"app": "test/echo", "input": {"text": "over"}}).json()
    response = api.post(f"/tasks/{task['id']}/cancel")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["status"] == 9 and "Completed" in error["message"]


def _newest_task_id(api) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        tasks = api.get("/tasks", params={"limit": 1}).json()["tasks"]
        if tasks:
            return tasks[0]["id"]
        time.sleep(0.01)
    raise AssertionError("no task was created")


@pytest.mark.parametrize(
    ("accept", "keep_alive"), [("application/x-ndjson", ""), ("text/event-stream", ": keep-alive")]
)
def test_a_quiet_stream_sends_keep_alives_that_parsers_skip(quick_keep_alive, accept, keep_alive):
    api = quick_keep_alive
    name = f"quiet-{keep_alive or 'ndjson'}"
    task = api.post("/run?wait=false", json={"app": "test/gate", "input": {"gate": name}}).json()
    wait_for_status(api, task["id"], "Running")
    lines = []
    with api.stream("GET", f"/tasks/{task['id']}/stream", headers={"Accept": accept}) as response:
        for line in response.iter_lines():
            lines.append(line)
            if lines.count(keep_alive) == 3:
                gate(name).set()
    assert lines.count(keep_alive) >= 3
    payloads = [line for line in lines if line.startswith("{") or line.startswith("data: ")]
    assert '"status": 9' in payloads[-1]


@pytest.mark.parametrize("route", ["/run", "/apps/run?wait=true"])
def test_sse_frames_are_unnamed_so_an_event_source_onmessage_gets_them(api, route):
    answer = api.post(route, json={"app": "test/echo", "input": {"text": "sse"}}).json()
    task_id = answer.get("data", answer)["id"]
    with api.stream("GET", f"/tasks/{task_id}/stream", headers={"Accept": "text/event-stream"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = [frame for frame in response.read().decode().split("\n\n") if frame]
    assert [frame.split(":", 1)[0] for frame in frames] == ["data"]  # no `event:` line: the default message
    assert '"text": "sse"' in frames[0]
