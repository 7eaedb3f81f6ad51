"""The model planner with a real model: the bundled SmolLM2-135M-Instruct, served by llama-cpp-python
as `inference-nb serve --llm local` serves it (the extra local-llm; `./dev test` installs it).

A 135M model is weak, so these tests assert the contract, not the quality of its answers: a function
is called through the protocol and recorded as a job; the result fits the schema or is null with a
summary; an approval pauses the run; a model that is gone fails the run in plain words.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from inference_nb.server import AppRegistry, EmbeddedServer, LocalModel, LocalModelUnavailable, ServerConfig
from inference_nb.server.local_model import MODEL_NAME, model_file
from inference_nb.server.runs.schemas import schema_problem

from ..receiver import ServeProcess, free_port
from ..runs_helpers import Detail, client_for, cluster_with, create_run, wait_for_run, wait_until

pytestmark = pytest.mark.timeout(600)  # the model server starts in the first test; slow on a busy machine
STEPS = 2
"""Calls per run: fewer than the default, as each model request takes seconds on a busy machine."""

SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
        "required": ["name", "qty"],
    },
}


def _require_model() -> None:
    try:
        model_file()
    except LocalModelUnavailable as missing:
        if os.environ.get("INFERENCE_NB_REQUIRE_LOCAL_LLM"):  # ./dev test installs it: missing is a failure
            raise
        pytest.skip(f"no local model: {missing}")


@pytest.fixture(scope="module")
def local_model() -> Iterator[LocalModel]:
    _require_model()
    with LocalModel() as model:
        yield model


@pytest.fixture
def server(local_model: LocalModel, tmp_path) -> Iterator[EmbeddedServer]:
    llm = local_model.settings(max_steps=STEPS, max_reasks=1)
    config = ServerConfig(data_dir=tmp_path / "data", token=secrets.token_urlsafe(32), llm=llm)
    with EmbeddedServer(config=config, registry=AppRegistry([]), host="127.0.0.1", port=0).start() as srv:
        yield srv


def run_to_end(api: httpx.Client, cluster: str, body: dict[str, Any]) -> Detail:
    """A deadline, not a speed limit: a small model on a busy 2-core machine takes seconds per request."""
    run_id = create_run(api, cluster, body)
    return wait_until(api, cluster, run_id, lambda d: d["run"]["status"] in ("done", "failed"), "ended", timeout=240)


def searchInventory(name: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """Search the inventory: each item's name and qty (units in stock)."""
    items = [{"item": "Claw Hammer", "units": 83}, {"item": "Towel", "units": 5}]
    return [i for i in items if name is None or name.lower() in i["item"].lower()][:limit]


def restock(name: str, qty: int) -> dict[str, Any]:
    """Order more units of an inventory item."""
    return {"name": name, "ordered": qty}


def test_the_model_calls_a_function_as_a_job_and_the_result_fits_or_is_null(server):
    cluster = cluster_with(server, searchInventory, service="example")
    with client_for(server) as api:
        detail = run_to_end(api, cluster, {"message": "What is in our inventory?", "result": {"schema": SCHEMA}})
    run = detail["run"]
    assert run["status"] == "done" and run["plannedBy"] == MODEL_NAME
    assert detail["jobs"] and {j["targetFn"] for j in detail["jobs"]} == {"searchInventory"}
    assert "example.searchInventory(" in run["summary"]
    if run["result"] is None:
        assert "result schema" in run["summary"]  # why there is none
    else:
        assert schema_problem(run["result"], SCHEMA) is None
    usage = run["plannerUsage"]
    assert usage["requests"] >= 2 and usage["promptTokens"] > 0 and usage["completionTokens"] > 0


def test_a_run_without_a_schema_gets_the_model_text_as_its_summary(server):
    cluster = cluster_with(server, searchInventory, service="example")
    with client_for(server) as api:
        detail = run_to_end(api, cluster, {"message": "Do we have towels?"})
    summary = detail["run"]["summary"]
    assert detail["run"]["status"] == "done" and detail["jobs"]
    assert summary.endswith(")") and "(Called example.searchInventory(" in summary


def test_a_call_that_needs_approval_pauses_the_run(server):
    cluster = cluster_with(server, restock, service="orders", requires_approval=True)
    with client_for(server) as api:
        run_id = create_run(api, cluster, {"message": "Order 3 more towels.", "result": {"schema": {"type": "object"}}})
        paused = wait_for_run(api, cluster, run_id, "paused", timeout=240)
        job = paused["jobs"][0]
        assert job["targetFn"] == "restock" and paused["inputRequests"][0]["jobId"] == job["id"]
        # Each call is refused; the model may try again (up to its step limit), pausing each time.
        for _ in range(STEPS):
            open_job = next(j for j in paused["jobs"] if j["approved"] is None)
            response = api.post(f"/clusters/{cluster}/jobs/{open_job['id']}/approval", json={"approved": False})
            assert response.status_code in (200, 204), response.text
            paused = wait_until(api, cluster, run_id, _paused_again_or_done, "paused again or ended", timeout=240)
            if paused["run"]["status"] == "done":
                break
    assert paused["run"]["status"] == "done" and all(j["approved"] is False for j in paused["jobs"])
    assert "not approved" in paused["run"]["summary"]


def _paused_again_or_done(detail: Detail) -> bool:
    open_approval = any(j["approved"] is None and j["approvalRequested"] for j in detail["jobs"])
    return detail["run"]["status"] == "done" or (detail["run"]["status"] == "paused" and open_approval)


def test_a_model_server_that_is_gone_fails_the_run_in_plain_words(tmp_path):
    _require_model()
    with LocalModel() as model:
        settings = model.settings()
    config = ServerConfig(data_dir=tmp_path / "data", token=secrets.token_urlsafe(32), llm=settings)
    with EmbeddedServer(config=config, registry=AppRegistry([]), host="127.0.0.1", port=0).start() as server:
        cluster = cluster_with(server, searchInventory, service="example")
        with client_for(server) as api:
            run = run_to_end(api, cluster, {"message": "What is in stock?"})["run"]
    assert run["status"] == "failed" and "could not be reached" in run["failureReason"]
    assert settings.url in run["failureReason"] and MODEL_NAME in run["failureReason"]


def test_serve_with_the_local_model_owns_its_server(tmp_path):
    _require_model()
    serve = ServeProcess(tmp_path / "data", port=free_port(), token=None, log_dir=tmp_path, options=("--llm", "local"))
    serve.start(timeout=120)
    try:
        found = re.search(r"runs planned by model (\S+) at (\S+)\)", serve.stdout_path.read_text())
        assert found and found[1] == MODEL_NAME, serve.output()
        models = httpx.get(f"{found[2]}/models", timeout=10)
        assert models.status_code == 200
    finally:
        serve.process.send_signal(signal.SIGINT)  # as Ctrl-C: it stops, and stops the model's server
        serve.process.wait(30)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{found[2]}/models", timeout=5)


def test_the_model_server_ends_when_serve_is_killed(tmp_path):
    _require_model()
    serve = ServeProcess(tmp_path / "data", port=free_port(), token=None, log_dir=tmp_path, options=("--llm", "local"))
    serve.start(timeout=120)
    found = re.search(r"runs planned by model (\S+) at (\S+)\)", serve.stdout_path.read_text())
    assert found, serve.output()
    assert httpx.get(f"{found[2]}/models", timeout=10).status_code == 200
    serve.process.send_signal(signal.SIGKILL)  # no atexit hook runs: orphan_guard must end the model
    serve.process.wait(30)
    deadline = time.monotonic() + 60  # a deadline, not a speed limit
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{found[2]}/models", timeout=2)
        except httpx.TransportError:
            return
        time.sleep(0.5)
    raise AssertionError(f"the model's server at {found[2]} still answers after serve was killed")
