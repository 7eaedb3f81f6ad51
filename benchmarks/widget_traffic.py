"""Bytes the widget sends to the front end per update, against the old whole-list `runs` trait.

    python benchmarks/widget_traffic.py

Everything is measured in one run, on one embedded server in this process, by one counter: a
comm that records every message the widgets publish (JSON bytes + binary buffer bytes), put in
place of `comm.create_comm`, which ipywidgets opens each model's comm with.

1. A widget runs an app that returns four images of ~2 MiB (random pixels, so PNG cannot shrink
   them). They are shown, then a second run passes its statuses (held at Running by a gate).
2. Each status change of that second run is sent the new way (one message with that run's
   view, on its own model) and the old way: a baseline widget with a `runs` List(Dict) trait is
   given the whole list on every change, the first run's view carrying its images as base64
   data: URLs, as `InferenceWidget.runs` did before issue 11.
3. Then a table result (demo/sql, 40 rows), the largest update without new images.

Targets (issue 11): ≤ 4 KB per status change, ≤ 64 KB for any update without new images.
"""

from __future__ import annotations

import base64
import io
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import comm
import ipywidgets
import traitlets
from comm.base_comm import BaseComm
from PIL import Image
from pydantic import BaseModel

from inference_nb.api import Client
from inference_nb.server import App, File, RunContext, start_server
from inference_nb.widget.inference_widget import InferenceWidget
from inference_nb.widget.run_model import RunModel

STATUS_CHANGE_TARGET = 4 * 1024
UPDATE_TARGET = 64 * 1024
SIDE = 830
"""Random RGB pixels of this side make a PNG just under the 2 MiB the widget shows."""

GATE = threading.Event()


class ImagesApp(App):
    name = "bench/images"
    description = "Returns four large images of noise."

    class Input(BaseModel):
        count: int = 4

    class Output(BaseModel):
        images: list[File]

    def run(self, input: Input) -> Output:
        return self.Output(
            images=[File.from_bytes(_noise_png(), filename=f"noise-{i}.png") for i in range(input.count)]
        )


class GateApp(App):
    name = "bench/gate"
    description = "Runs until the benchmark opens its gate."

    class Input(BaseModel):
        pass

    class Output(BaseModel):
        opened: bool

    def run(self, input: Input, ctx: RunContext) -> Output:
        while not GATE.wait(0.01):
            if ctx.cancelled:
                return self.Output(opened=False)
        return self.Output(opened=True)


def _noise_png() -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (SIDE, SIDE), os.urandom(SIDE * SIDE * 3)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


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


def main() -> None:
    recorder = Recorder()
    comm.create_comm = recorder.create_comm
    with tempfile.TemporaryDirectory() as data_dir, start_server(data_dir=data_dir, apps=[ImagesApp, GateApp]) as srv:
        client = Client(base_url=srv.url, key=srv.token, wait_timeout=60)
        widget = InferenceWidget(client)
        answers: list[dict[str, Any]] = []
        widget.send = answers.append  # the front end's answers; not what is measured

        def submit(app: str, app_input: dict[str, Any]) -> RunModel:
            request_id = f"m{len(answers)}"
            widget._on_message(widget, {"type": "submit", "id": request_id, "mode": "app", "app": app,
                                        "input": app_input, "setup_text": "", "session": "none"}, [])  # fmt: skip
            answer = until(lambda: next((a for a in answers if a["id"] == request_id), None))
            return until(lambda: next((m for m in widget.runs if m.view["id"] == answer["run_id"]), None))

        start = len(recorder.messages)
        shown = submit("bench/images", {})
        until(lambda: len(shown.images) == 4)
        sizes = [len(image["data"]) for image in shown.images]
        image_bytes = sum(m[3] for m in recorder.messages[start:])

        old = OldRunsWidget()
        data_urls = [
            {"src": f"data:{image['type']};base64,{base64.b64encode(image['data']).decode()}",
             "filename": image["filename"]}
            for image in shown.images
        ]  # fmt: skip
        old_shown = {**shown.view, "images": data_urls}

        mark = len(recorder.messages)
        second = submit("bench/gate", {})

        def resend_whole_list(change: dict[str, Any]) -> None:
            old.runs = [old_shown, {**change["new"], "images": []}]

        second.observe(resend_whole_list, names=["view"])
        resend_whole_list({"new": second.view})  # the old way sent the new run's first view too
        until(lambda: second.view["status"] == "Running")
        GATE.set()
        until(lambda: second.view["phase"] == "succeeded")
        time.sleep(0.2)  # let the last notifications through before counting
        new = [m for m in recorder.messages[mark:] if m[0] != old.comm.comm_id]
        # A status change, the new way: the run model's opening state (its first status), then each view update.
        new_changes = [
            m for m in new if m[0] == second.comm.comm_id and (m[1] == "comm_open" or "view" in m[4]["state"])
        ]
        old_changes = [m for m in recorder.of(old.comm.comm_id) if m[1] == "comm_msg"]

        mark = len(recorder.messages)
        table = submit("demo/sql", {"query": "SELECT * FROM inventory"})
        until(lambda: table.view["phase"] == "succeeded")
        time.sleep(0.2)
        table_updates = recorder.messages[mark:]

    def size(m: tuple[str, str, int, int, dict[str, Any]]) -> int:
        return m[2] + m[3]

    print(f"\n1. four images shown: {', '.join(f'{s / 2**20:.2f} MiB' for s in sizes)}")
    print(f"   sent as binary buffers: {image_bytes:,} bytes (the images' own {sum(sizes):,}), once")
    print(f"\n2. status changes of a second run ({len(new_changes)} new-way messages, {len(old_changes)} old-way)")
    print(f"   {'bytes per status change':34} {'max':>12} {'median':>12}")
    for label, changes in (
        ("old: whole runs list, data: URLs", old_changes),
        ("new: that run's model only", new_changes),
    ):
        sizes_sent = sorted(size(m) for m in changes)
        print(f"   {label:34} {sizes_sent[-1]:>12,} {sizes_sent[len(sizes_sent) // 2]:>12,}")
    ratio = max(map(size, old_changes)) / max(map(size, new_changes))
    print(f"   old / new (max): {ratio:,.0f}×; every message of that run, new way: {sum(map(size, new)):,} bytes")
    largest = max(map(size, table_updates))
    print(f"\n3. a table result (40 rows, 20 previewed): largest message {largest:,} bytes")
    worst_change = max(map(size, new_changes))
    print(f"\ntargets: status change {worst_change:,} ≤ {STATUS_CHANGE_TARGET:,} bytes: "
          f"{'met' if worst_change <= STATUS_CHANGE_TARGET else 'MISSED'}; update without new images "
          f"{max(largest, max(map(size, new))):,} ≤ {UPDATE_TARGET:,}: "
          f"{'met' if max(largest, max(map(size, new))) <= UPDATE_TARGET else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
