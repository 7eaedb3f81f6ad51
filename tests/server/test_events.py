"""`GET /tasks/events` and `GET /clusters/{c}/runs/events`: one stream of every change, resumable by id."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from inference_nb.server import start_server
from inference_nb.server.event_log import Event, EventLog, Gap, Ready

from ..apps import TEST_APPS, gate
from .helpers import wait_until

TERMINAL_SPEC = {9, 10, 11}


def events_of(response: httpx.Response, *, sse: bool = False):
    """Each event of a stream as {"id", "event", "data"}, skipping keep-alives."""
    if not sse:
        for line in response.iter_lines():
            if line:
                yield json.loads(line)
        return
    event: dict[str, Any] = {}
    for line in response.iter_lines():
        if line.startswith("id: "):
            event["id"] = int(line[4:])
        elif line.startswith("event: "):
            event["event"] = line[7:]
        elif line.startswith("data: "):
            event["data"] = json.loads(line[6:])
        elif not line and event:
            yield event
            event = {}


def statuses_by_task(events: list[dict[str, Any]]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    for event in events:
        if event["event"] == "task":
            seen.setdefault(event["data"]["id"], []).append(event["data"]["status"])
    return seen


@pytest.fixture
def api(tmp_path):
    with start_server(data_dir=tmp_path / "data", apps=TEST_APPS) as srv:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as client:
            yield client


@pytest.mark.parametrize("sse", [False, True], ids=["ndjson", "sse"])
def test_a_stream_killed_mid_way_resumes_from_its_last_id_without_losing_or_repeating_a_status(api, sse):
    seen: list[dict[str, Any]] = []
    with api.stream("GET", "/tasks/events") as response:
        events = events_of(response)
        assert next(events)["event"] == "ready"
        tasks = [api.post("/run?wait=false", json={"app": "test/gate", "input": {"gate": f"kill-{sse}-{i}"}}).json()
                 for i in range(6)]  # fmt: skip
        for i in range(3):
            gate(f"kill-{sse}-{i}").set()
        for event in events:
            seen.append(event)
            if any(e["event"] == "task" and e["data"]["status"] in TERMINAL_SPEC for e in seen):
                break  # killed mid-stream: tasks are still running, events are still coming
    ids = {task["id"] for task in tasks}
    last_id = seen[-1]["id"]
    for i in range(6):
        gate(f"kill-{sse}-{i}").set()
    wait_until(lambda: all(api.get(f"/tasks/{t}").json()["status"] in TERMINAL_SPEC for t in ids), "tasks end")

    headers = {"Last-Event-ID": str(last_id), **({"Accept": "text/event-stream"} if sse else {})}
    with api.stream("GET", "/tasks/events", headers=headers) as response:
        resumed = events_of(response, sse=sse)
        ready = next(resumed)
        assert (ready["id"], ready["event"]) == (last_id, "ready") and ready["data"]["at"] > seen[-1]["data"][
            "created_at"
        ]
        for event in resumed:
            seen.append(event)
            if ids <= {t for t, s in statuses_by_task(seen).items() if s[-1] in TERMINAL_SPEC}:
                break

    event_ids = [e["id"] for e in seen]
    assert event_ids == sorted(set(event_ids))  # increasing: nothing twice
    seen_statuses = statuses_by_task(seen)
    for task_id in ids:
        timeline = [entry["status"] for entry in api.get(f"/tasks/{task_id}").json()["timeline"]]
        assert seen_statuses[task_id] == timeline  # every status the server recorded, once, in order


def test_every_status_of_a_task_started_after_subscribing_arrives_in_order(api):
    with api.stream("GET", "/tasks/events") as response:
        events = events_of(response)
        assert next(events)["event"] == "ready"
        task = api.post("/run?wait=false", json={"app": "demo/sleep", "input": {"seconds": 0.01}}).json()
        seen = []
        for event in events:
            seen.append(event)
            if event["data"]["status"] in TERMINAL_SPEC:
                break
    timeline = [entry["status"] for entry in api.get(f"/tasks/{task['id']}").json()["timeline"]]
    statuses = statuses_by_task(seen)[task["id"]]
    changes = [status for i, status in enumerate(statuses) if i == 0 or status != statuses[i - 1]]
    assert changes == timeline  # besides progress reports, which are events of the same status


def test_a_resume_point_older_than_the_replay_log_is_a_gap_and_the_stream_goes_on(tmp_path):
    with start_server(data_dir=tmp_path / "data", apps=TEST_APPS, event_replay=3) as srv:
        headers = {"Authorization": f"Bearer {srv.token}"}
        with httpx.Client(base_url=srv.url, headers=headers, timeout=30) as api:
            with api.stream("GET", "/tasks/events") as response:
                ready = next(events_of(response))
            done = api.post("/run", json={"app": "demo/sleep", "input": {"seconds": 0.01}}).json()
            assert len(done["timeline"]) > 3  # more events than the log keeps

            with api.stream("GET", "/tasks/events", headers={"Last-Event-ID": str(ready["id"])}) as response:
                events = events_of(response)
                gap = next(events)
                assert gap["event"] == "gap"
                assert gap["data"]["after"] == ready["id"]
                assert "no longer kept" in gap["data"]["message"] and "list what you follow" in gap["data"]["message"]
                listed = api.get("/tasks").json()["tasks"]  # the resync the gap asks for
                assert [t["status"] for t in listed if t["id"] == done["id"]] == [9]
                later = api.post("/run?wait=false", json={"app": "demo/sleep", "input": {"seconds": 0.01}}).json()
                after_gap = next(e for e in events if e["event"] != "gap")  # a log of 3 may overflow again
                assert after_gap["event"] == "task" and after_gap["data"]["id"] == later["id"]
                assert after_gap["id"] > gap["id"]
                last = after_gap
                while not (last["event"] == "task" and last["data"]["status"] in TERMINAL_SPEC):
                    last = next(events)

            with api.stream("GET", "/tasks/events", params={"after": last["id"]}) as response:
                ready = next(events_of(response))
                assert (ready["id"], ready["event"]) == (last["id"], "ready")


def test_ids_filter_the_stream_and_a_dialect_header_numbers_its_statuses(api):
    other = api.post("/run?wait=false", json={"app": "test/gate", "input": {"gate": "filter-other"}}).json()
    mine = api.post("/run?wait=false", json={"app": "test/gate", "input": {"gate": "filter-mine"}}).json()
    headers = {"Inference-Dialect": "hosted"}
    with api.stream("GET", "/tasks/events", params={"ids": mine["id"], "after": 0}, headers=headers) as response:
        assert response.headers["Inference-Dialect"] == "hosted"
        events = events_of(response)
        assert next(events)["event"] == "gap"
        gate("filter-other").set()
        wait_until(lambda: api.get(f"/tasks/{other['id']}").json()["status"] == 9, "the other task ends")
        gate("filter-mine").set()
        seen = []
        for event in events:
            seen.append(event)
            if event["data"]["status"] == 10:  # Completed in the hosted numbering
                break
    assert {event["data"]["id"] for event in seen} == {mine["id"]}


def test_runs_have_their_own_stream_per_cluster(api):
    with api.stream("GET", "/clusters/demo/runs/events") as response:
        events = events_of(response)
        assert next(events)["event"] == "ready"
        created = api.post("/clusters/demo/runs", json={"message": "What is the weather in Paris?"}).json()
        statuses = []
        for event in events:
            assert event["event"] == "run" and event["data"]["run"]["id"] == created["id"]
            statuses.append(event["data"]["run"]["status"])
            if statuses[-1] in ("done", "failed"):
                break
    timeline = [entry["status"] for entry in api.get(f"/clusters/demo/runs/{created['id']}").json()["run"]["timeline"]]
    assert [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]] == timeline
    missing = api.get("/clusters/nowhere/runs/events")
    assert missing.status_code == 404 and "demo" in missing.json()["error"]["message"]


def test_a_resume_point_that_is_no_id_is_refused_naming_where_it_came_from(api):
    answer = api.get("/tasks/events", headers={"Last-Event-ID": "yesterday"})
    assert answer.status_code == 422
    assert "Last-Event-ID" in answer.json()["error"]["message"]


def test_a_subscriber_that_falls_behind_the_log_gets_a_gap_while_publishing_never_waits():
    async def scenario() -> list[Any]:
        log = EventLog(replay=3)
        items = log.subscribe(after=None)
        got = await anext(items)
        for i in range(5):  # nobody reads: the publisher goes on
            log.publish(f"t{i}", i)
        got += await anext(items)
        log.publish("t5", 5)
        log.publish("t6", 6)
        got += await anext(items)  # both in one batch: one write for what piled up
        log.close()
        async for batch in items:
            got += batch
        return got

    ready, gap, event, following = asyncio.run(scenario())
    assert isinstance(ready, Ready)
    assert isinstance(gap, Gap) and "fell more than 3 events behind" in gap.reason and gap.after == ready.id
    assert isinstance(event, Event) and event.item == "t5" and event.id == gap.id + 1
    assert isinstance(following, Event) and following.item == "t6"
