"""What the widget sends to the front end, counted in bytes of the real comm messages (docs/ARCHITECTURE.md,
"The widget"): images travel once, as binary buffers; a status change is one small message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm

from inference_nb.api import Client
from inference_nb.server import start_server
from inference_nb.widget.inference_widget import InferenceWidget
from inference_nb.widget.run_view import IMAGE_BYTES

from ..apps import TEST_APPS, ImagesApp, gate
from .test_widget import Browser, terminal, until

STATUS_CHANGE_BYTES = 4 * 1024
UPDATE_BYTES = 64 * 1024


class Traffic:
    """Every comm message the widgets send, as (type, JSON bytes, buffer bytes)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, int, int]] = []
        self.updates: list[dict[str, Any]] = []

    def comm(self, **kwargs: Any) -> BaseComm:
        traffic = self

        class RecordingComm(BaseComm):
            def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                            **keys: Any) -> None:  # fmt: skip
                text = json.dumps(data, separators=(",", ":")).encode()
                binary = sum(memoryview(b).nbytes for b in buffers or [])
                traffic.messages.append((msg_type, len(text), binary))
                traffic.updates.append(data or {})

        return RecordingComm(**kwargs)

    def since(self, mark: int) -> list[tuple[str, int, int]]:
        return self.messages[mark:]


@pytest.fixture
def traffic(monkeypatch) -> Traffic:
    recorder = Traffic()
    monkeypatch.setattr(comm, "create_comm", recorder.comm)
    return recorder


@pytest.fixture
def images_client(tmp_path) -> Iterator[Client]:
    with start_server(data_dir=tmp_path / "embedded", apps=[*TEST_APPS, ImagesApp]) as srv:
        yield Client(base_url=srv.url, key=srv.token, wait_timeout=60)


def submit(browser: Browser, app: str, app_input: dict[str, Any]) -> str:
    answer = browser.send(type="submit", mode="app", app=app, input=app_input, setup_text="", session="none")
    assert answer["type"] == "accepted", answer
    return answer["run_id"]


def test_images_travel_once_as_buffers_and_a_status_change_is_small(images_client, traffic, monkeypatch):
    browser = Browser(InferenceWidget(images_client), monkeypatch)
    mark = len(traffic.messages)  # after the widget's own opening state (the apps and their schemas)
    run_id = submit(browser, "test/images", {"count": 4})
    # Making, fetching and checking 8 MB of images takes a while on a busy machine.
    shown = until(lambda: next((m for m in browser.widget.runs if m.view["id"] == run_id and len(m.images) == 4), None),
                  timeout=90)  # fmt: skip
    sizes = [len(image["data"]) for image in shown.images]
    assert all(2 * 10**6 < size <= IMAGE_BYTES for size in sizes), sizes
    # The image bytes went exactly once, as buffers, never as text. (The model holds them a moment
    # before its held message goes out, on the controller thread: wait for that message.)
    sent_bytes = lambda: sum(buffers for _, _, buffers in traffic.since(mark))  # noqa: E731
    until(lambda: sent_bytes() >= sum(sizes), timeout=10)
    assert sent_bytes() == sum(sizes)
    assert max(json_bytes for _, json_bytes, _ in traffic.since(mark)) < UPDATE_BYTES

    mark = len(traffic.messages)
    run_id = submit(browser, "test/gate", {"gate": "wire"})
    browser.view(run_id, lambda v: v["status"] == "Running")
    gate("wire").set()
    browser.view(run_id, terminal)
    sent = traffic.since(mark)  # the new run's model, its place in `runs`, then each status it passed
    status_changes = [m for m, data in zip(sent, traffic.updates[mark:], strict=True)
                      if m[0] == "comm_msg" and "view" in data.get("state", {})]  # fmt: skip
    assert status_changes, sent
    assert all(json_bytes + buffers <= STATUS_CHANGE_BYTES for _, json_bytes, buffers in sent), sent
    assert all(buffers == 0 for _, _, buffers in sent)  # the images shown are not sent again

    mark = len(traffic.messages)
    table = submit(browser, "demo/sql", {"query": "SELECT * FROM inventory"})
    assert browser.view(table, terminal)["preview"]["total"] == 40
    assert all(json_bytes + buffers <= UPDATE_BYTES for _, json_bytes, buffers in traffic.since(mark))

    models = list(browser.widget.runs)
    browser.widget.close()
    assert [m.comm for m in models] == [None] * 3  # the runs' comms go with the widget's


def test_the_text_and_html_fallback_summarise_the_shown_run_escaped_and_without_the_key(client, embedded, monkeypatch):
    widget = InferenceWidget(client)
    assert repr(widget) == f"InferenceWidget: no run yet (runs go to {embedded.url})"
    browser = Browser(widget, monkeypatch)
    hostile = "<script>alert(1)</script>"
    run_id = submit(browser, "demo/sql", {"query": f"SELECT '{hostile}' AS name, 3 AS qty"})
    browser.view(run_id, terminal)
    text = repr(widget)
    assert text.splitlines() == ["InferenceWidget: demo/sql@1.0.0 — Completed", "name | qty", f"{hostile} | 3",
                                 "showing 1 of 1 row"]  # fmt: skip
    data, _ = widget._repr_mimebundle_()
    assert data["text/plain"] == text
    html = data["text/html"]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<td>3</td>" in html and "Completed" in html
    assert embedded.token not in text + html + json.dumps(widget.get_state(), default=str)
    assert "application/vnd.jupyter.widget-view+json" in data
