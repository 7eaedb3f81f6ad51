"""The Client and the Run handle against a real embedded server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import pytest
from pydantic import BaseModel

from inference_nb.api import Client
from inference_nb.client.errors import DeadlineExceeded, InvalidRequest, RunCancelled, RunFailed
from inference_nb.wire.statuses import Phase

from .apps import gate


class Item(BaseModel):
    name: str
    qty: int


def test_a_task_returns_at_once_and_waits_to_its_output(client):
    run = client.run("test/echo", {"text": "hello"})
    assert run.kind == "task" and run.id.startswith("task_")
    assert run.wait() is run
    assert run.status.phase is Phase.SUCCEEDED and run.status.name == "Completed" and run.status.code == 9
    assert run.output["text"] == "hello" and run.result == run.output
    names = [name for name, _ in run.timeline]
    assert names[0] == "Received" and names[-1] == "Completed"


def test_a_question_comes_back_as_instances_of_the_pydantic_schema(client):
    run = client.ask("What does our inventory look like?", schema=list[Item]).wait()
    assert run.kind == "run" and run.status.name == "done"
    assert all(isinstance(item, Item) for item in run.result)
    assert run.result[0] == Item(name="Claw Hammer", qty=83)
    assert run.jobs[0]["targetFn"] == "searchInventory"


def test_a_question_says_who_planned_it_to_the_handle_and_the_widget(client):
    from inference_nb.widget.run_view import RUN_STEPS, run_view

    run = client.ask("What does our inventory look like?").wait()
    assert run.planner == "deterministic"
    assert run_view(run, steps=RUN_STEPS)["planner"] == "deterministic"
    assert client.run("test/echo", {"text": "hi"}).wait().planner is None


def test_a_question_with_a_json_schema_gives_plain_data_and_a_dataframe(client):
    schema = {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}
    run = client.ask("What does our inventory look like?", schema=schema).wait()
    assert run.result[0] == {"name": "Claw Hammer"}
    assert list(run.df.columns) == ["name"] and len(run.df) == len(run.result)


def test_nested_output_becomes_dotted_columns(client):
    run = client.run("demo/sql", {"query": "SELECT name, qty FROM inventory ORDER BY qty DESC LIMIT 3"}).wait()
    frame = run.df
    assert list(frame.columns) == ["name", "qty"] and len(frame) == 3
    assert frame["qty"].is_monotonic_decreasing


def test_images_are_fetched_with_the_key_and_embedded(client):
    run = client.run("demo/picture", {"prompt": "A sunset", "width": 200, "height": 100}).wait()
    (image,) = run.images
    assert image.content_type == "image/png" and image.to_pil().size == (200, 100)
    data, _ = run._repr_mimebundle_()
    assert "data:image/png;base64," in data["text/html"]


def test_a_failed_task_raises_with_the_servers_reason(client):
    run = client.run("demo/fail", {"message": "the disk is on fire"})
    with pytest.raises(RunFailed, match="the disk is on fire") as raised:
        run.wait()
    assert raised.value.run_id == run.id
    assert run.wait(raise_on_failure=False).error.endswith("the disk is on fire")


def test_a_deadline_cancels_the_run_on_the_server(client, embedded):
    run = client.run("demo/sleep", {"seconds": 30})
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=f"{run.id}.*cancelled on the server"):
        run.wait(timeout=0.3)
    assert time.monotonic() - started < 5
    fresh = Client(base_url=embedded.url, key=embedded.token).get(run.id)
    assert fresh.status.name == "Cancelled"


def test_cancel_from_another_thread_ends_a_waiting_run(client):
    run = client.run("test/gate", {"gate": "api-cancel"})
    threading.Timer(0.3, run.cancel).start()
    with pytest.raises(RunCancelled):
        run.wait()
    assert run.status.phase is Phase.CANCELLED


def test_await_a_run_inside_a_running_event_loop(client):
    async def cell():  # like a notebook cell: the kernel's loop is running
        run = client.run("test/echo", {"text": "awaited"})
        return await run

    assert asyncio.run(cell()).output["text"] == "awaited"


def test_listeners_hear_every_change_from_the_controller_thread(client):
    run = client.run("test/gate", {"gate": "listeners"})
    heard: list[tuple[str, str]] = []
    run.on_change(lambda r: heard.append((r.status.name, threading.current_thread().name)))
    deadline = time.monotonic() + 5
    while run.status.name != "Running" and time.monotonic() < deadline:
        time.sleep(0.01)
    gate("listeners").set()
    run.wait()
    assert heard[-1][0] == "Completed"
    assert {thread for _, thread in heard} == {"inference_nb-controller"}


def test_a_session_keeps_state_between_calls(client):
    session = client.session("demo/counter")
    assert session({"action": "init"}).output["count"] == 0
    assert session({"action": "increment", "amount": 5}).output["count"] == 5
    assert session.id and session.id.startswith("sess_")


def test_a_paused_run_is_approved_from_the_handle(client):
    run = client.ask('restock name="Claw Hammer" qty=2')
    deadline = time.monotonic() + 5
    while run.status.name != "paused" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.input_requests[0]["type"] == "approval"
    run.approve()
    assert run.wait().result["ordered"] == 2


def test_a_new_client_reattaches_to_tasks_and_runs(client, embedded):
    task = client.run("test/echo", {"text": "kept"}).wait()
    asked = client.ask("What is the value of our inventory?").wait()
    later = Client(base_url=embedded.url, key=embedded.token)
    assert later.get(task.id).output["text"] == "kept"
    assert later.get(asked.id).result == asked.result
    assert task.id in [r.id for r in later.runs(limit=5)]
    assert asked.id in [r.id for r in later.runs(limit=5, kind="run")]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.run("Not An App", {}), "app"),
        (lambda c: c.run("demo/picture", {"prompt": object()}), "input"),
        (lambda c: c.run("demo/picture", {"prompt": float("nan")}), "input"),
        (lambda c: c.ask("hi", schema={"type": "nope"}), "schema"),
        (lambda c: c.ask("hi", schema=42), "schema"),
        (lambda c: c.ask("   "), "message"),
        (lambda c: c.run("demo/counter", {}, session_timeout=30), "session_timeout"),
        (lambda c: c.run("demo/counter", {}, sesion="new"), "sesion"),
        (lambda c: c.run("demo/counter", {}, idempotency_key=7), "idempotency_key"),
        (lambda c: c.run("demo/counter", {}, webhook="not a url"), "webhook"),
    ],
)
def test_bad_input_is_refused_before_any_request(call, field):
    nowhere = Client(base_url="http://127.0.0.1:9", key="k")  # a closed port: any request would fail to connect
    with pytest.raises(InvalidRequest) as raised:
        call(nowhere)
    assert raised.value.field == field


def test_the_repr_says_where_work_goes_and_never_the_key(client, embedded, monkeypatch):
    assert repr(client) == f"<inference_nb.Client tasks: {embedded.url.rstrip('/')}; runs: {embedded.url.rstrip('/')}>"
    monkeypatch.delenv("INFERENCE_API_KEY", raising=False)
    monkeypatch.setenv("INFERABLE_API_SECRET", "sk-secret-value")
    monkeypatch.delenv("INFERABLE_CLUSTER_ID", raising=False)
    text = repr(Client())
    assert text.startswith("<inference_nb.Client tasks: embedded server")
    assert "runs: not usable (" in text and "cluster" in text and "sk-secret-value" not in text


def test_a_question_whose_calls_all_failed_says_no_result_once(client):
    run = client.ask("Restock qty=-5 of the item named nothing").wait()
    assert run.result is None and run.summary.startswith("example.restock(")
    text = run._repr_mimebundle_()[0]["text/plain"]
    assert text.count("No result") == 1 and "No result: example.restock(" in text


def test_start_server_after_client_starts_a_second_server_beside_the_first(tmp_path):
    # A fresh process with its own default data dir: Client() starts the embedded server there; a later
    # start_server() gets a folder of this process under it (not DataDirInUse), and both serve.
    code = (
        "import inference_nb\n"
        "from inference_nb.server import start_server\n"
        "first = inference_nb.Client().run('demo/sleep', {'seconds': 0, 'message': 'one'}).wait()\n"
        "with start_server() as second:\n"
        "    own = inference_nb.Client(base_url=second.url, key=second.token)\n"
        "    again = own.run('demo/sleep', {'seconds': 0, 'message': 'two'}).wait()\n"
        "    print(first.output['message'], again.output['message'])\n"
        "    print(second.data_dir.relative_to(inference_nb.embedded_server().data_dir))\n"
    )
    env = {**os.environ, "INFERENCE_NB_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    answers, place = done.stdout.strip().splitlines()
    assert answers == "one two"
    assert place.startswith("kernels/")
