"""Helpers for the runs API tests: clusters of test functions, polling, streams, errors."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from inference_nb.server import EmbeddedServer

SPEC_MESSAGE = "What does our inventory look like?"
INVENTORY_SCHEMA = {
    "type": "array",
    "items": {"type": "object", "properties": {"name": {"type": "string"}, "qty": {"type": "number"}}},
}
"""The spec's example: its message and its result schema, as the spec writes them."""
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

Detail = dict[str, Any]


def client_for(server: EmbeddedServer, *, authorization: str | None = None) -> httpx.Client:
    """A client of `server`; `authorization` is the header's value (default `Bearer <token>`)."""
    header = authorization if authorization is not None else f"Bearer {server.token}"
    return httpx.Client(base_url=server.url, headers={"authorization": header}, timeout=30)


def cluster_with(
    server: EmbeddedServer,
    *functions: Callable[..., Any],
    service: str = "test",
    requires_approval: bool = False,
    name: str | None = None,
) -> str:
    """A cluster (fresh unless named) offering `functions`; its id."""
    cluster = name or f"t_{uuid.uuid4().hex[:12]}"
    server.clusters.ensure(cluster)
    for fn in functions:
        server.function(fn, service=service, cluster=cluster, requires_approval=requires_approval)
    return cluster


def create_run(api: httpx.Client, cluster: str, body: dict[str, Any]) -> str:
    response = api.post(f"/clusters/{cluster}/runs", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def get_run(api: httpx.Client, cluster: str, run_id: str) -> Detail:
    response = api.get(f"/clusters/{cluster}/runs/{run_id}")
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def wait_until(
    api: httpx.Client, cluster: str, run_id: str, done: Callable[[Detail], bool], what: str, timeout: float = 10
) -> Detail:
    """The run's detail once `done(detail)` holds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        detail = get_run(api, cluster, run_id)
        if done(detail):
            return detail
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} never {what}; last: {detail}")
        time.sleep(0.01)


def wait_for_run(api: httpx.Client, cluster: str, run_id: str, status: str, timeout: float = 10) -> Detail:
    return wait_until(api, cluster, run_id, lambda d: d["run"]["status"] == status, f"became {status}", timeout)


def run_to_end(api: httpx.Client, cluster: str, body: dict[str, Any]) -> Detail:
    """Create a run and wait until it is done or failed."""
    run_id = create_run(api, cluster, body)
    return wait_until(api, cluster, run_id, lambda d: d["run"]["status"] in ("done", "failed"), "ended")


def read_stream(
    api: httpx.Client,
    cluster: str,
    run_id: str,
    *,
    sse: bool = False,
    on_detail: Callable[[Detail], None] = lambda detail: None,
) -> list[Detail]:
    """Every detail the run's stream sends until it closes; `on_detail` sees each as it arrives."""
    headers = {"Accept": "text/event-stream"} if sse else {}
    details = []
    path = f"/clusters/{cluster}/runs/{run_id}/stream"
    with api.stream("GET", path, headers=headers, timeout=httpx.Timeout(30, read=5)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream" if sse else "application/x-ndjson")
        for line in response.iter_lines():
            if sse:
                assert line in ("", "event: run") or line.startswith("data: "), f"not an SSE line: {line!r}"
                payload = line.removeprefix("data: ") if line.startswith("data: ") else ""
            else:
                payload = line
            if payload:
                details.append(strict_json(payload))
                on_detail(details[-1])
    return details


def changes(values: list[str]) -> list[str]:
    """`values` with each repeat of the one before dropped: the statuses a stream went through."""
    return [value for i, value in enumerate(values) if i == 0 or value != values[i - 1]]


def error_of(response: httpx.Response, status: int) -> str:
    """The message of an API error answer with `status`, checking its shape."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error["message"]


def strict_json(text: str) -> Any:
    """JSON as the standard has it: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON: {text[:200]}")

    return json.loads(text, parse_constant=refuse)
