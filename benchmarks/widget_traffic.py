"""Bytes the widget sends to the front end per update, against the old whole-list `runs` trait.

    python benchmarks/run.py --only widget_traffic

Measured on one embedded server in this process, by one counter: a comm that records every
message the widgets publish (JSON bytes + binary buffer bytes), put in place of
`comm.create_comm`, which ipywidgets opens each model's comm with. Each round:

1. A widget runs `test/images` (tests/apps.py): four images of ~2 MiB (random pixels, so PNG
   cannot shrink them). They are shown, then a `test/gate` run passes its statuses.
2. Each status change of that second run is sent the new way (one message with that run's
   view, on its own model) and the old way: a baseline widget with a `runs` List(Dict) trait is
   given the whole list on every change, the first run's view carrying its images as base64
   data: URLs, as `InferenceWidget.runs` did before issue 11.
3. Then a table result (demo/sql, 40 rows), the largest update without new images.

Targets (issue 11): ≤ 4 KB per status change, ≤ 64 KB for any update without new images.
(tests/test_widget_wire.py checks the same targets in the browser-less widget.)
"""

from __future__ import annotations

import base64
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import comm
import ipywidgets
import traitlets
from comm.base_comm import BaseComm
from figures import Figure

from inference_nb.api import Client
from inference_nb.server import start_server
from inference_nb.widget.inference_widget import InferenceWidget
from inference_nb.widget.run_model import RunModel
from tests.apps import GateApp, ImagesApp, gate

STATUS_CHANGE_TARGET = 4 * 1024
UPDATE_TARGET = 64 * 1024


class Recorder:
    """The one counter: (comm id, message type, JSON bytes, buffer bytes, data) of every message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, int, int, dict[str, Any]]] = []

    def create_comm(self, **kwargs: Any) -> BaseComm:
        recorder = self

        class RecordingComm(BaseComm):
            def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                            **keys: Any) -> None:  # fmt: skip
                text = json.dumps(data, separators=(",", ":")).encode()
                binary = sum(memoryview(b).nbytes for b in buffers or [])
                recorder.messages.append((self.comm_id, msg_type, len(text), binary, data or {}))

        return RecordingComm(**kwargs)

    def of(self, comm_id: str, since: int = 0) -> list[tuple[str, str, int, int, dict[str, Any]]]:
        return [m for m in self.messages[since:] if m[0] == comm_id]


class OldRunsWidget(ipywidgets.Widget):
    """The baseline: every run's view in one list trait, reassigned whole on each change."""

    runs = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Views of every run, images embedded as data: URLs."""


def until(find: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := find():
            return found
        time.sleep(0.01)
    raise TimeoutError("the benchmark's run did not get there")


def size(message: tuple[str, str, int, int, dict[str, Any]]) -> int:
    return message[2] + message[3]


def one_round(client: Client, recorder: Recorder) -> list[Figure]:
    widget = InferenceWidget(client)
    answers: list[dict[str, Any]] = []
    widget.send = answers.append  # the front end's answers; not what is measured

    def submit(app: str, app_input: dict[str, Any]) -> RunModel:
        request_id = f"m{len(answers)}"
        widget._on_message(widget, {"type": "submit", "id": request_id, "mode": "app", "app": app,
                                    "input": app_input, "setup_text": "", "session": "none"}, [])  # fmt: skip
        answer = until(lambda: next((a for a in answers if a["id"] == request_id), None))
        return until(lambda: next((m for m in widget.runs if m.view["id"] == answer["run_id"]), None))

    shown = submit(ImagesApp.name, {"count": 4})
    until(lambda: len(shown.images) == 4)
    old = OldRunsWidget()
    data_urls = [
        {"src": f"data:{image['type']};base64,{base64.b64encode(image['data']).decode()}",
         "filename": image["filename"]}
        for image in shown.images
    ]  # fmt: skip
    old_shown = {**shown.view, "images": data_urls}

    mark = len(recorder.messages)
    gate_name = uuid.uuid4().hex
    second = submit(GateApp.name, {"gate": gate_name})

    def resend_whole_list(change: dict[str, Any]) -> None:
        old.runs = [old_shown, {**change["new"], "images": []}]

    second.observe(resend_whole_list, names=["view"])
    resend_whole_list({"new": second.view})  # the old way sent the new run's first view too
    until(lambda: second.view["status"] == "Running")
    gate(gate_name).set()
    until(lambda: second.view["phase"] == "succeeded")
    time.sleep(0.2)  # let the last notifications through before counting
    new = [m for m in recorder.messages[mark:] if m[0] != old.comm.comm_id]
    # A status change, the new way: the run model's opening state (its first status), then each view update.
    new_changes = [m for m in new if m[0] == second.comm.comm_id and (m[1] == "comm_open" or "view" in m[4]["state"])]
    old_changes = [m for m in recorder.of(old.comm.comm_id) if m[1] == "comm_msg"]

    mark = len(recorder.messages)
    table = submit("demo/sql", {"query": "SELECT * FROM inventory"})
    until(lambda: table.view["phase"] == "succeeded")
    time.sleep(0.2)
    largest = max(map(size, [*recorder.messages[mark:], *new]))
    widget.close()
    old.close()
    return [
        Figure("widget: bytes sent per status change (largest)", max(map(size, new_changes)), "bytes",
               max(map(size, old_changes)), "whole `runs` list, images as data: URLs", limit=STATUS_CHANGE_TARGET),
        Figure("widget: largest update without new images", largest, "bytes", limit=UPDATE_TARGET),
    ]  # fmt: skip


def rounds(count: int) -> Iterator[list[Figure]]:
    recorder = Recorder()
    comm.create_comm = recorder.create_comm  # for the rest of this process: run.py runs it last but one
    with tempfile.TemporaryDirectory() as data_dir, start_server(data_dir=data_dir, apps=[ImagesApp, GateApp]) as srv:
        client = Client(base_url=srv.url, key=srv.token, wait_timeout=60)
        for _ in range(count):
            yield one_round(client, recorder)
