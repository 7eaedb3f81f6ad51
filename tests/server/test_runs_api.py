"""The runs API over real HTTP: results, failure semantics, arguments, listing, streams, cancel, restart."""

from __future__ import annotations

import asyncio
import csv
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import inference_nb
from inference_nb.server import start_server

from .runs_helpers import (
    INVENTORY_SCHEMA,
    ISO_MILLIS,
    SPEC_MESSAGE,
    Detail,
    changes,
    client_for,
    cluster_with,
    create_run,
    error_of,
    get_run,
    read_stream,
    run_to_end,
    wait_for_run,
    wait_until,
)

NO_TOOLS = (
    "No tools found, which means no services are available to execute this function. "
    "At least one service must be available."
)
INVENTORY_CSV = Path(inference_nb.__file__).parent / "server" / "apps" / "builtin" / "data" / "inventory.csv"
SPEC_ROWS = [{"name": "Sonic Screwdriver", "qty": 10}, {"name": "Towel", "qty": 5}]


def searchInventory() -> list[dict[str, Any]]:
    """Search the inventory."""
    return [
        {"Name": "Sonic Screwdriver", "QTY": "10", "location": "TARDIS"},
        {"Name": "Towel", "QTY": "5", "location": "Heart of Gold"},
    ]


def findParts(name: str, limit: int = 3, finish: str = "any") -> list[dict[str, Any]]:
    """Parts by name."""
    return [{"name": name, "limit": limit, "finish": finish}]


PARTS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "limit": {"type": "integer"}, "finish": {"type": "string"}},
    },
}


def seed_body(message: str = SPEC_MESSAGE, schema: dict[str, Any] = INVENTORY_SCHEMA, **more: Any) -> dict[str, Any]:
    return {"message": message, "result": {"schema": schema}, **more}


# the spec's example, end to end


@pytest.mark.parametrize(
    "body",
    [seed_body(), {"initialPrompt": SPEC_MESSAGE, "resultSchema": INVENTORY_SCHEMA, "runId": "inventory_run_1"}],
    ids=["seed-names", "newer-names"],
)
def test_the_spec_inventory_example_returns_the_rows_shaped_onto_the_schema(server, body):
    cluster = cluster_with(server, searchInventory, service="example")
    with client_for(server, authorization=server.token) as api:  # the spec's `authorization: <key>`
        run_id = create_run(api, cluster, body)
        detail = wait_for_run(api, cluster, run_id, "done")

    run, (job,) = detail["run"], detail["jobs"]
    assert run_id == body.get("runId", run_id) == run["id"]
    assert run["result"] == SPEC_ROWS
    assert run["failureReason"] is None and run["summary"] and run["name"]
    assert ISO_MILLIS.match(run["createdAt"])
    assert {k: job[k] for k in ("status", "targetFn", "service", "resultType")} == {
        "status": "success",
        "targetFn": "searchInventory",
        "service": "example",
        "resultType": "resolution",
    }
    assert ISO_MILLIS.match(job["createdAt"])
    assert detail["inputRequests"] == []


def test_the_spec_example_against_the_demo_cluster_returns_the_bundled_inventory(api):
    with INVENTORY_CSV.open(newline="") as file:
        expected = [{"name": row["name"], "qty": int(row["qty"])} for row in csv.DictReader(file)]
    detail = run_to_end(api, "demo", seed_body())
    assert detail["run"]["status"] == "done"
    assert detail["run"]["result"] == expected
    assert [(j["targetFn"], j["resultType"]) for j in detail["jobs"]] == [("searchInventory", "resolution")]


@pytest.mark.parametrize(("authorization", "status"), [("{token}", 201), ("Bearer {token}", 201), ("wrong", 401)])
def test_the_key_is_accepted_bare_or_as_a_bearer_token(server, authorization, status):
    with client_for(server, authorization=authorization.format(token=server.token)) as api:
        assert api.post("/clusters/demo/runs", json=seed_body()).status_code == status


# failure semantics: failed only when the run cannot run at all


def test_a_cluster_without_functions_fails_with_the_spec_reason(server, api):
    detail = run_to_end(api, cluster_with(server), seed_body())
    assert detail["run"]["status"] == "failed"
    assert detail["run"]["failureReason"] == NO_TOOLS
    assert detail["run"]["result"] is None and detail["jobs"] == []


def test_a_function_that_raises_ends_done_with_no_result_and_says_why(server, api):
    def brokenScanner() -> list[dict[str, Any]]:
        raise RuntimeError("the scanner is offline")

    detail = run_to_end(api, cluster_with(server, brokenScanner), seed_body("Ask the broken scanner"))
    assert detail["run"]["status"] == "done" and detail["run"]["result"] is None
    assert "the scanner is offline" in detail["run"]["summary"]
    assert [(j["targetFn"], j["resultType"]) for j in detail["jobs"]] == [("brokenScanner", "rejection")]


ROWS_WITH_INTEGER_QTY = {
    "type": "array",
    "items": {"type": "object", "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}}},
}
REQUIRED_TOTAL = {"type": "object", "properties": {"total": {"type": "integer"}}, "required": ["total"]}


@pytest.mark.parametrize(
    ("returned", "schema", "named"),
    [
        pytest.param([{"name": "Towel", "qty": "lots"}], ROWS_WITH_INTEGER_QTY, "lots", id="uncoercible-value"),
        pytest.param({"count": 3}, REQUIRED_TOTAL, "total", id="missing-required-field"),
    ],
)
def test_an_answer_that_cannot_satisfy_the_schema_ends_done_with_no_result(server, api, returned, schema, named):
    def stockReport() -> Any:
        return returned

    detail = run_to_end(api, cluster_with(server, stockReport), seed_body("the stock report", schema))
    assert detail["run"]["status"] == "done" and detail["run"]["result"] is None
    assert "does not satisfy the result schema" in detail["run"]["summary"] and named in detail["run"]["summary"]
    assert detail["jobs"][0]["resultType"] == "resolution"


# arguments read from the message


@pytest.mark.parametrize(
    ("message", "arguments"),
    [
        ("parts name=bolt limit=2", {"name": "bolt", "limit": 2, "finish": "any"}),
        ('parts {"name": "wing nut", "limit": 7}', {"name": "wing nut", "limit": 7, "finish": "any"}),
        ('parts named "hex bolt" in "matte"', {"name": "hex bolt", "limit": 3, "finish": "matte"}),
        ("parts name='carriage bolt' finish=zinc", {"name": "carriage bolt", "limit": 3, "finish": "zinc"}),
    ],
    ids=["key-value", "inline-json", "quoted", "quoted-key-value"],
)
def test_arguments_come_from_the_message_and_defaults_fill_the_rest(server, api, message, arguments):
    detail = run_to_end(api, cluster_with(server, findParts), seed_body(message, PARTS_SCHEMA))
    assert detail["jobs"][0]["arguments"] == arguments
    assert detail["run"]["result"] == [arguments]


def test_a_missing_required_argument_rejects_the_call_naming_the_parameter(server, api):
    detail = run_to_end(api, cluster_with(server, findParts), seed_body("parts please", PARTS_SCHEMA))
    (job,) = detail["jobs"]
    assert job["resultType"] == "rejection" and "name" in job["error"]
    assert detail["run"]["status"] == "done" and detail["run"]["result"] is None
    assert "name" in detail["run"]["summary"]


class Trip(BaseModel):
    city: str
    nights: int = 1


def test_a_function_taking_one_pydantic_model_gets_the_model(server, api):
    received: list[Any] = []

    def planTrip(trip: Trip) -> dict[str, Any]:
        received.append(trip)
        return {"City": trip.city, "nights": trip.nights}

    schema = {"type": "object", "properties": {"city": {"type": "string"}, "nights": {"type": "integer"}}}
    detail = run_to_end(api, cluster_with(server, planTrip), seed_body("plan a trip city=Oslo nights=2", schema))
    assert received == [Trip(city="Oslo", nights=2)]
    assert detail["jobs"][0]["arguments"] == {"city": "Oslo", "nights": 2}
    assert detail["run"]["result"] == {"city": "Oslo", "nights": 2}


def test_an_async_function_is_awaited(server, api):
    async def countStock(item: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"item": item, "count": 4}

    schema = {"type": "object", "properties": {"item": {"type": "string"}, "count": {"type": "integer"}}}
    detail = run_to_end(api, cluster_with(server, countStock), seed_body("count stock item=towel", schema))
    assert detail["run"]["result"] == {"item": "towel", "count": 4}


# idempotent create and listing


def test_the_same_client_id_and_body_return_the_same_run(server, api):
    cluster = cluster_with(server, searchInventory)
    first = api.post(f"/clusters/{cluster}/runs", json=seed_body(id="my-run-0001"))
    again = api.post(
        f"/clusters/{cluster}/runs",
        json={"initialPrompt": SPEC_MESSAGE, "resultSchema": INVENTORY_SCHEMA, "runId": "my-run-0001"},
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json() == {"id": "my-run-0001"}
    assert [run["id"] for run in api.get(f"/clusters/{cluster}/runs").json()] == ["my-run-0001"]


def test_the_same_client_id_with_another_message_is_a_conflict(server, api):
    cluster = cluster_with(server, searchInventory)
    create_run(api, cluster, seed_body(id="my-run-0002"))
    message = error_of(api.post(f"/clusters/{cluster}/runs", json=seed_body("Another question", id="my-run-0002")), 409)
    assert "my-run-0002" in message


def test_listing_is_newest_first_and_paging_covers_every_run_once(server, api):
    cluster = cluster_with(server, searchInventory)
    created = [create_run(api, cluster, seed_body(f"inventory {i}")) for i in range(5)]
    create_run(api, "demo", seed_body())  # another cluster's run is not listed

    assert [run["id"] for run in api.get(f"/clusters/{cluster}/runs").json()] == created[::-1]
    pages, cursor = [], None
    while True:
        response = api.get(f"/clusters/{cluster}/runs", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        pages.append([run["id"] for run in response.json()])
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [run_id for page in pages for run_id in page] == created[::-1]


# the stream


@pytest.mark.parametrize("sse", [False, True], ids=["ndjson", "sse"])
def test_the_stream_shows_the_statuses_in_order_and_jobs_as_they_happen(server, api, sse):
    gate = threading.Event()

    def slowCount() -> list[dict[str, Any]]:
        gate.wait(10)
        return [{"name": "Towel", "qty": 5}]

    cluster = cluster_with(server, slowCount)
    run_id = create_run(api, cluster, seed_body("a slow count"))

    def open_gate_once_the_job_runs(detail: Detail) -> None:
        if detail["jobs"] and detail["jobs"][0]["status"] == "running":
            assert detail["run"]["status"] == "running" and detail["run"]["result"] is None
            gate.set()

    details = read_stream(api, cluster, run_id, sse=sse, on_detail=open_gate_once_the_job_runs)
    assert gate.is_set(), "the stream never showed the running job"
    assert changes([d["run"]["status"] for d in details]) in (["pending", "running", "done"], ["running", "done"])
    assert changes([d["jobs"][0]["status"] for d in details if d["jobs"]])[-2:] == ["running", "success"]
    assert details[-1] == get_run(api, cluster, run_id)
    assert details[-1]["run"]["result"] == [{"name": "Towel", "qty": 5}]
    assert [s["status"] for s in details[-1]["run"]["timeline"]] == ["pending", "running", "done"]


def test_the_stream_of_a_finished_run_sends_it_once_and_ends(api):
    detail = run_to_end(api, "demo", seed_body())
    assert read_stream(api, "demo", detail["run"]["id"]) == [detail]


# cancel


def test_cancel_stops_an_async_function_and_fails_the_run(server, api):
    stopped: list[str] = []

    async def waitForever() -> list[dict[str, Any]]:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            stopped.append("cancelled")
            raise
        return []

    cluster = cluster_with(server, waitForever)
    run_id = create_run(api, cluster, seed_body("wait forever"))
    wait_until(api, cluster, run_id, lambda d: bool(d["jobs"]) and d["jobs"][0]["status"] == "running", "ran its job")
    response = api.post(f"/clusters/{cluster}/runs/{run_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["run"]["status"] == "failed"

    run = get_run(api, cluster, run_id)["run"]
    assert (run["status"], run["failureReason"], run["result"]) == ("failed", "Cancelled by request.", None)
    deadline = time.monotonic() + 5
    while not stopped and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stopped == ["cancelled"]


def test_cancelling_a_finished_run_is_a_conflict(api):
    detail = run_to_end(api, "demo", seed_body())
    assert "done" in error_of(api.post(f"/clusters/demo/runs/{detail['run']['id']}/cancel"), 409)


# restart


def test_a_done_run_and_its_result_survive_a_restart(tmp_path):
    with start_server(data_dir=tmp_path / "data") as first, client_for(first) as api:
        cluster = cluster_with(first, searchInventory, service="example")
        before = run_to_end(api, cluster, seed_body())
    assert before["run"]["result"] == SPEC_ROWS
    with start_server(data_dir=tmp_path / "data") as second, client_for(second) as api:
        cluster_with(second, searchInventory, service="example", name=cluster)
        assert get_run(api, cluster, before["run"]["id"]) == before
        assert api.get(f"/clusters/{cluster}/runs").json() == [before["run"]]


def test_a_stored_run_is_readable_after_a_restart_before_its_functions_are_registered_again(tmp_path):
    with start_server(data_dir=tmp_path / "data") as first, client_for(first) as api:
        cluster = cluster_with(first, searchInventory, service="example")
        before = run_to_end(api, cluster, seed_body())
    with start_server(data_dir=tmp_path / "data") as second, client_for(second) as api:
        assert get_run(api, cluster, before["run"]["id"]) == before
