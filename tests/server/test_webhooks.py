"""Webhooks: one signed POST of the spec's payload when a task ends, retried with backoff."""

from __future__ import annotations

import json
import sqlite3
import stat
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from inference_nb.server import EmbeddedServer, start_server
from inference_nb.wire.statuses import SpecStatus
from inference_nb.wire.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, verify

from ..apps import TEST_APPS, gate
from .helpers import FakeClock, wait_for_status
from .receiver import WebhookReceiver, free_port

WEBHOOK_FIELDS = {"id", "status", "output", "error", "session_id", "created_at", "updated_at"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as hook:
        yield hook


def webhook_secret(server: EmbeddedServer) -> str:
    return (server.data_dir / "webhook_secret").read_text().strip()


def run_with_webhook(api: httpx.Client, url: str, app: str, input: dict, *, wait: bool = True) -> dict:
    response = api.post("/run", params={"wait": str(wait).lower()}, json={"app": app, "input": input, "webhook": url})
    assert response.status_code == 200, response.text
    return response.json()


def deliveries(data_dir: Path, task_id: str) -> list[dict]:
    """The server's stored webhook deliveries of a task, read from its database."""
    with closing(sqlite3.connect(f"file:{data_dir / 'inference_nb.sqlite3'}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM webhook_deliveries WHERE task_id = ?", (task_id,))]


def wait_for_delivery(data_dir: Path, task_id: str, condition, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = deliveries(data_dir, task_id)
        if found and condition(found[0]):
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"the webhook delivery of {task_id} never got there; last: {found}")


def wait_until_finished(data_dir: Path, task_id: str) -> dict:
    """The delivery once the server has given it up or got it through: no attempt comes after that.

    The receiver records a request before answering it, and the server records the outcome after the
    answer, so by then the receiver holds every request the server will ever send for this delivery.
    """
    return wait_for_delivery(data_dir, task_id, lambda d: d["state"] in ("delivered", "failed"))


def test_completed_task_posts_the_spec_payload_once(server, api, receiver):
    task = run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": "hi"})
    assert task["status"] == SpecStatus.COMPLETED

    delivery = wait_until_finished(server.data_dir, task["id"])
    assert (delivery["state"], delivery["attempts"]) == ("delivered", 1)
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json"
    payload = json.loads(request.body)
    assert set(payload) == WEBHOOK_FIELDS
    assert payload == {
        "id": task["id"],
        "status": 9,
        "output": task["output"],
        "error": "",
        "session_id": None,
        "created_at": task["created_at"],
        "updated_at": task["updated_at"],
    }


def test_signature_verifies_with_the_secret_in_the_data_dir(server, api, receiver):
    run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": "signed"})
    [request] = receiver.wait_for(1)
    header = request.headers[SIGNATURE_HEADER]
    assert header.startswith("t=") and ",v1=" in header
    assert verify(webhook_secret(server), request.body, header)
    assert stat.S_IMODE((server.data_dir / "webhook_secret").stat().st_mode) == 0o600


def test_tampered_body_or_wrong_secret_does_not_verify(server, api, receiver):
    run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": "signed"})
    [request] = receiver.wait_for(1)
    header = request.headers[SIGNATURE_HEADER]
    tampered = request.body.replace(b'"status": 9', b'"status": 10')
    assert tampered != request.body
    assert not verify(webhook_secret(server), tampered, header)
    assert not verify("not-the-secret", request.body, header)


def test_failed_task_posts_status_10_with_the_error(api, receiver):
    task = run_with_webhook(api, receiver.url, "demo/fail", {"message": "the disk is full"})
    assert task["status"] == SpecStatus.FAILED

    payload = json.loads(receiver.wait_for(1)[0].body)
    assert payload["id"] == task["id"]
    assert payload["status"] == 10
    assert "the disk is full" in payload["error"]
    assert payload["error"] == task["error"]
    assert payload["output"] is None


def test_cancelled_task_posts_status_11(api, receiver):
    name = f"cancel-{uuid.uuid4()}"
    try:
        task = run_with_webhook(api, receiver.url, "test/gate", {"gate": name}, wait=False)
        wait_for_status(api, task["id"], "Running")
        assert api.post(f"/tasks/{task['id']}/cancel").status_code == 200
    finally:
        gate(name).set()

    payload = json.loads(receiver.wait_for(1)[0].body)
    assert (payload["id"], payload["status"]) == (task["id"], 11)


def test_failing_receiver_is_retried_until_it_answers_2xx(server, api):
    with WebhookReceiver([500, 500, 200]) as receiver:
        task = run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": "retry"})
        delivery = wait_until_finished(server.data_dir, task["id"])
        attempts = receiver.requests

    assert (delivery["state"], delivery["attempts"]) == ("delivered", 3)
    assert len(attempts) == 3
    assert {a.body for a in attempts} == {attempts[0].body}
    assert len({a.headers[DELIVERY_HEADER] for a in attempts}) == 1
    assert json.loads(attempts[0].body)["id"] == task["id"]
    assert all(verify(webhook_secret(server), a.body, a.headers[SIGNATURE_HEADER]) for a in attempts)


def test_receiver_that_always_fails_gets_exactly_max_attempts(server, api):
    with WebhookReceiver(always=500) as receiver:
        task = run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": "never"})
        delivery = wait_until_finished(server.data_dir, task["id"])

    assert (delivery["state"], delivery["attempts"]) == ("failed", 3)  # the fixture's webhook_max_attempts
    assert delivery["last_error"] == "HTTP 500"
    assert len(receiver.requests) == 3


def test_retries_back_off_doubling_from_the_first_delay(tmp_path):
    """The schedule itself, at the production defaults (1 s, doubling, 6 attempts), on a clock the test moves."""
    clock = FakeClock()
    with (
        start_server(data_dir=tmp_path / "data", apps=TEST_APPS, clock=clock) as srv,
        httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api,
        WebhookReceiver(always=500) as receiver,
    ):
        task = run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": "backoff"})
        for attempt, delay in enumerate([1, 2, 4, 8, 16], start=1):
            failed = wait_for_delivery(srv.data_dir, task["id"], lambda d, n=attempt: d["attempts"] == n)
            # The next attempt is due `delay` after this failure (the clock stood still since), and is
            # made only once the clock gets there: the sender reads no other time.
            assert failed["state"] == "pending"
            assert failed["next_attempt_at"] == pytest.approx(clock.now() + delay, rel=0, abs=1e-3)
            assert len(receiver.requests) == attempt
            clock.advance(delay)
        delivery = wait_until_finished(srv.data_dir, task["id"])
        assert (delivery["state"], delivery["attempts"]) == ("failed", 6)
        assert len(receiver.requests) == 6


def test_closed_port_is_retried_and_the_task_still_completes(tmp_path):
    port = free_port()
    clock = FakeClock()  # the retry waits for the test to move it, not for 0.5 s to pass
    with start_server(
        data_dir=tmp_path / "data", apps=TEST_APPS, webhook_backoff=0.5, webhook_max_attempts=4, clock=clock
    ) as srv:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api:
            url = f"http://127.0.0.1:{port}/hook"
            task = run_with_webhook(api, url, "test/echo@1.0.0", {"text": "nobody listens"})
            assert task["status"] == SpecStatus.COMPLETED
            assert task["output"]["text"] == "nobody listens"

            first_failure = wait_for_delivery(srv.data_dir, task["id"], lambda d: d["attempts"] >= 1)
            assert first_failure["state"] == "pending"
            assert "Connect" in first_failure["last_error"]

            with WebhookReceiver(port=port) as receiver:  # the receiver comes up; the next retry reaches it
                clock.advance(0.5)
                payload = json.loads(receiver.wait_for(1)[0].body)
                delivered = wait_for_delivery(srv.data_dir, task["id"], lambda d: d["state"] == "delivered")
            assert payload["id"] == task["id"]
            assert delivered["attempts"] == 2
            assert api.get(f"/tasks/{task['id']}").json()["status"] == SpecStatus.COMPLETED


def test_webhook_that_is_not_http_is_refused_naming_the_field(api):
    response = api.post("/run", json={"app": "test/echo", "input": {"text": "x"}, "webhook": "ftp://x"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert "webhook" in error["message"]
    assert [d["field"] for d in error["details"]] == ["webhook"]
