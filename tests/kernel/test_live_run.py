"""A Run shown in a cell updates in place until it ends (issue 11): in a real kernel, in a notebook
executed and saved by nbclient, and once only in a terminal IPython (no thread writes there later)."""

from __future__ import annotations

import json
import queue
import time

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

from ..apps import gate

FOLLOW_LIMIT = 60.0
"""Seconds a test waits for what must come; only a broken build ever waits this long."""

WARM_UP = """%load_ext inference_nb
from inference_nb import Client
client = Client()
client.run("demo/sleep", {"seconds": 0}).wait()._repr_mimebundle_() and None"""
"""Starts the server and imports what showing a Run needs, so that the slow run is seen running."""
SLOW = {"seconds": 8, "steps": 8, "message": "<b>slept</b>"}
START = f"run = client.run('demo/sleep', {SLOW})\nrun"
NO_WAIT_MAGIC = f"%%infer demo/sleep --no-wait --as run\n{json.dumps(SLOW)}"


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("INFERENCE_NB_DATA_DIR", str(tmp_path / "data"))
    manager, kc = start_new_kernel(kernel_name="python3")
    try:
        reply = kc.execute_interactive(WARM_UP, timeout=FOLLOW_LIMIT, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
        yield kc
    finally:
        kc.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.mark.parametrize("source", [START, NO_WAIT_MAGIC], ids=["client.run", "%%infer --no-wait"])
def test_a_shown_run_is_updated_in_place_until_its_final_view(kernel, source):
    cell = kernel.execute(source)
    shown, updates, later, later_running = None, [], None, False
    parents_while_later_ran = []
    deadline = time.monotonic() + FOLLOW_LIMIT
    while not (updates and "Completed" in updates[-1]["data"]["text/plain"]):
        assert time.monotonic() < deadline, f"no final view; updates: {[u['data']['text/plain'] for u in updates]}"
        try:
            msg = kernel.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        kind, content, parent = msg["msg_type"], msg["content"], msg["parent_header"].get("msg_id")
        if kind == "display_data" and parent == cell:
            shown = content
            later = kernel.execute("import time; time.sleep(3)")  # a later cell runs while the run goes on
        elif kind == "status" and parent == later:
            later_running = content["execution_state"] == "busy"
        elif kind == "update_display_data":
            updates.append(content)
            if later_running:
                parents_while_later_ran.append(parent)
        elif kind == "error":
            pytest.fail("\n".join(content["traceback"]))
    assert shown is not None and "Completed" not in shown["data"]["text/plain"]
    display_id = shown["transient"]["display_id"]
    assert {u["transient"]["display_id"] for u in updates} == {display_id}
    final = updates[-1]["data"]
    assert "demo/sleep@1.0.0" in final["text/plain"] and "&lt;b&gt;slept&lt;/b&gt;" in final["text/html"]
    assert updates[-1]["metadata"]["inference_nb"]["run_id"] == shown["metadata"]["inference_nb"]["run_id"]
    # Updates carry the latest request's header, so nbclient applies them while it runs a later cell.
    assert parents_while_later_ran and set(parents_while_later_ran) == {later}
    # Nothing after the final view: the output stays as it is.
    pause = kernel.execute("import time; time.sleep(1.5)")
    late = []
    while not late or late[-1] != ("status", pause, "idle"):
        msg = kernel.get_iopub_msg(timeout=FOLLOW_LIMIT)
        late.append((msg["msg_type"], msg["parent_header"].get("msg_id"), msg["content"].get("execution_state")))
    assert "update_display_data" not in [kind for kind, _, _ in late]


def test_a_saved_notebook_keeps_the_final_view_of_a_run_shown_while_it_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("INFERENCE_NB_DATA_DIR", str(tmp_path / "data"))
    cells = [WARM_UP.partition("\n")[2], START, "run.wait()\nNone"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    (output,) = nb.cells[1].outputs
    saved = nbformat.reads(nbformat.writes(nb), as_version=4).cells[1].outputs[0]
    assert "Completed" in output["data"]["text/plain"] and saved["data"] == output["data"]
    assert "transient" not in saved


def test_a_terminal_shell_shows_a_running_run_once_and_keeps_no_listener(client):
    shell = InteractiveShell.instance()
    run = shell.user_ns["run"] = client.run("test/gate", {"gate": "terminal"})
    with capture_output() as captured:
        shell.run_cell("run")
    (output,) = captured.outputs
    assert not run.done and "test/gate" in output.data["text/plain"]
    assert run._listeners == []  # nothing will write to the terminal when it changes
    gate("terminal").set()
    assert run.wait().output["opened"] is True
