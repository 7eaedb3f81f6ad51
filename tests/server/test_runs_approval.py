"""Functions that need approval: the run pauses on an input request until it is approved or rejected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from inference_nb.server import EmbeddedServer, start_server

from .runs_helpers import (
    Detail,
    changes,
    client_for,
    cluster_with,
    create_run,
    error_of,
    get_run,
    read_stream,
    wait_for_run,
)

ORDER_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "ordered": {"type": "integer"}},
    "required": ["name", "ordered"],
}
ORDER = {"message": "restock name=Towel qty=3", "result": {"schema": ORDER_SCHEMA}}
ENDPOINTS = ["job-approval", "input-request"]


@dataclass
class Orders:
    """A `restockItem` function that needs approval and records each call."""

    calls: list[tuple[str, int]] = field(default_factory=list)

    def restockItem(self, name: str, qty: int) -> dict[str, Any]:
        """Order more units of an item."""
        self.calls.append((name, qty))
        return {"Name": name, "ordered": qty}

    def offer(self, server: EmbeddedServer, cluster: str | None = None) -> str:
        return cluster_with(server, self.restockItem, service="orders", requires_approval=True, name=cluster)


@pytest.fixture
def orders() -> Orders:
    return Orders()


@pytest.fixture
def cluster(server, orders) -> str:
    return orders.offer(server)


def paused_run(api: httpx.Client, cluster: str) -> Detail:
    return wait_for_run(api, cluster, create_run(api, cluster, ORDER), "paused")


def answer(api: httpx.Client, cluster: str, paused: Detail, body: Any, *, endpoint: str) -> httpx.Response:
    """POST `body` to the approval endpoint of the paused run's input request."""
    request = paused["inputRequests"][0]
    if endpoint == "job-approval":
        path = f"/clusters/{cluster}/jobs/{request['jobId']}/approval"
    else:
        path = f"/clusters/{cluster}/runs/{paused['run']['id']}/input-requests/{request['id']}"
    return api.post(path, json=body)


def test_a_call_needing_approval_pauses_the_run_with_one_approval_request(api, cluster, orders):
    paused = paused_run(api, cluster)
    (job,), (request,) = paused["jobs"], paused["inputRequests"]
    assert request["type"] == "approval" and request["jobId"] == job["id"] and request["outcome"] is None
    assert "restockItem" in request["description"]
    assert (job["targetFn"], job["approvalRequested"], job["approved"]) == ("restockItem", True, None)
    assert job["arguments"] == {"name": "Towel", "qty": 3}
    assert orders.calls == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_approving_runs_the_function_and_the_run_ends_done_with_its_result(api, cluster, orders, endpoint):
    paused = paused_run(api, cluster)
    assert answer(api, cluster, paused, {"approved": True}, endpoint=endpoint).status_code == 204
    detail = wait_for_run(api, cluster, paused["run"]["id"], "done")
    (job,), (request,) = detail["jobs"], detail["inputRequests"]
    assert detail["run"]["result"] == {"name": "Towel", "ordered": 3}
    assert (job["status"], job["resultType"], job["approved"]) == ("success", "resolution", True)
    assert request["outcome"] == "approved" and request["resolvedAt"]
    assert orders.calls == [("Towel", 3)]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_rejecting_never_calls_the_function_and_the_run_ends_done_without_a_result(api, cluster, orders, endpoint):
    paused = paused_run(api, cluster)
    assert answer(api, cluster, paused, {"approved": False}, endpoint=endpoint).status_code == 204
    detail = wait_for_run(api, cluster, paused["run"]["id"], "done")
    (job,), (request,) = detail["jobs"], detail["inputRequests"]
    assert detail["run"]["result"] is None and "not approved" in detail["run"]["summary"]
    assert "qty=3)" in detail["run"]["summary"]  # the number the function takes, not the message's text "3"
    assert (job["resultType"], job["approved"]) == ("rejection", False)
    assert request["outcome"] == "rejected"
    assert orders.calls == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_answering_twice_is_refused(api, cluster, orders, endpoint):
    paused = paused_run(api, cluster)
    assert answer(api, cluster, paused, {"approved": True}, endpoint=endpoint).status_code == 204
    second = answer(api, cluster, paused, {"approved": False}, endpoint=endpoint)
    assert 400 <= second.status_code < 500 and second.json()["error"]["message"]
    assert wait_for_run(api, cluster, paused["run"]["id"], "done")["jobs"][0]["approved"] is True
    assert orders.calls == [("Towel", 3)]


def test_approving_an_unknown_job_is_404(api, cluster):
    message = error_of(api.post(f"/clusters/{cluster}/jobs/no-such-job/approval", json={"approved": True}), 404)
    assert "no-such-job" in message


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "approved"),
        ({"approved": "maybe"}, "approved"),
        ({"approved": None}, "approved"),
        ({"approved": True, "note": "ok"}, "note"),
        ([True], "JSON object"),
        ("yes", "JSON object"),
    ],
    ids=["empty", "not-a-bool", "null", "extra-field", "array", "string"],
)
def test_a_bad_approval_body_is_422_naming_the_problem_and_leaves_the_run_paused(api, cluster, orders, body, named):
    paused = paused_run(api, cluster)
    assert named in error_of(answer(api, cluster, paused, body, endpoint="job-approval"), 422)
    assert get_run(api, cluster, paused["run"]["id"])["run"]["status"] == "paused"
    assert orders.calls == []


def test_the_stream_of_an_approval_run_shows_paused_then_running_then_done(api, cluster):
    paused = paused_run(api, cluster)

    def approve_when_paused(detail: Detail) -> None:
        if detail["run"]["status"] == "paused":
            assert answer(api, cluster, paused, {"approved": True}, endpoint="job-approval").status_code == 204

    details = read_stream(api, cluster, paused["run"]["id"], on_detail=approve_when_paused)
    assert changes([d["run"]["status"] for d in details]) == ["paused", "running", "done"]
    assert details[-1]["run"]["result"] == {"name": "Towel", "ordered": 3}


def test_cancelling_a_paused_run_fails_it_and_its_call_can_no_longer_be_approved(api, cluster, orders):
    paused = paused_run(api, cluster)
    response = api.post(f"/clusters/{cluster}/runs/{paused['run']['id']}/cancel")
    assert response.status_code == 200, response.text
    run = get_run(api, cluster, paused["run"]["id"])["run"]
    assert (run["status"], run["failureReason"], run["result"]) == ("failed", "Cancelled by request.", None)
    error_of(answer(api, cluster, paused, {"approved": True}, endpoint="job-approval"), 404)
    assert orders.calls == []


def test_a_run_paused_when_the_server_stops_is_failed_after_a_restart(tmp_path, orders):
    with start_server(data_dir=tmp_path / "data") as first, client_for(first) as api:
        cluster = orders.offer(first)
        run_id = paused_run(api, cluster)["run"]["id"]
    with start_server(data_dir=tmp_path / "data") as second, client_for(second) as api:
        orders.offer(second, cluster)
        run = get_run(api, cluster, run_id)["run"]
    assert run["status"] == "failed" and "server stopped" in run["failureReason"]
    assert orders.calls == []
