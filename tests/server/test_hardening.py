"""Issue 13: no input can stop the embedded server's work. A real server on loopback throughout."""

from __future__ import annotations

import json

import httpx
import pytest

from inference_nb.server import start_server
from inference_nb.server.webhooks import WebhookSender

from .helpers import TEST_APPS, wait_until
from .receiver import WebhookReceiver
from .test_webhooks import deliveries, run_with_webhook, wait_for_delivery


@pytest.fixture
def receiver():
    with WebhookReceiver() as hook:
        yield hook


# --- webhooks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/", "http://127.0.0.1:abc/", "http://:80/"])
def test_a_webhook_url_the_sender_cannot_parse_is_422_naming_the_field(api, url):
    response = api.post("/run", json={"app": "test/echo", "input": {"text": "x"}, "webhook": url})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert [d["field"] for d in error["details"]] == ["webhook"]
    assert "webhook" in error["message"]


def test_a_delivery_that_raises_anything_fails_alone_and_later_ones_still_arrive(
    server, api, receiver, monkeypatch, caplog
):
    real_send = WebhookSender._send

    async def send(self, url, body, headers):
        if url.endswith("/explode"):
            raise RuntimeError("something no one expected")
        return await real_send(self, url, body, headers)

    monkeypatch.setattr(WebhookSender, "_send", send)
    caplog.set_level("INFO", logger="inference_nb.server")
    doomed = run_with_webhook(api, receiver.url.replace("/hook", "/explode"), "test/echo@1.0.0", {"text": "boom"})
    failed = wait_for_delivery(server.data_dir, doomed["id"], lambda d: d["state"] == "failed")
    assert failed["attempts"] == 3  # the server fixture's webhook_max_attempts: retried as documented
    assert "RuntimeError: something no one expected" in failed["last_error"]
    assert "something no one expected" in caplog.text

    later = [run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": f"after {i}"}) for i in range(3)]
    arrived = {json.loads(r.body)["id"] for r in receiver.wait_for(3)}
    assert arrived == {task["id"] for task in later}


def test_a_stored_unsendable_url_fails_its_delivery_and_the_sender_goes_on(tmp_path, receiver):
    """A URL accepted before this check existed is still in the store: it must not stop the sender."""
    data = tmp_path / "data"
    with start_server(data_dir=data, apps=TEST_APPS, webhook_backoff=0.01, webhook_max_attempts=2) as srv:
        app = srv._uvicorn.config.app
        for url in ("http://127.0.0.1:99999/", "http://[::1", "http://127.0.0.1:abc/"):
            app.state.engine._webhooks.enqueue("tsk_old", url, "{}")
        headers = {"Authorization": f"Bearer {srv.token}"}
        with httpx.Client(base_url=srv.url, headers=headers, timeout=30) as api:
            task = run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": "still delivered"})
        assert json.loads(receiver.wait_for(1)[0].body)["id"] == task["id"]
        wait_until(
            lambda: all(d["state"] == "failed" for d in deliveries(data, "tsk_old")),
            "the unsendable deliveries never ended failed",
        )
