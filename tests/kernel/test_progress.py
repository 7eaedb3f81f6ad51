"""`Run.progress` through the real client, over loopback HTTP, in both dialects: parsed from the
task's `progress` field, listeners called when it changes, None when absent or once ended."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from inference_nb.api import Client
from inference_nb.client.core import Progress
from inference_nb.client.profile import Profile, hosted_tasks
from inference_nb.client.tasks_core import TasksCore
from inference_nb.server import EmbeddedServer, start_server
from inference_nb.widget.run_view import RUN_STEPS, run_view

from ..apps import PROGRESS_APPS, gate, started


@pytest.fixture
def server(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "progress", apps=PROGRESS_APPS) as srv:
        yield srv


def client_in(dialect: str, server: EmbeddedServer) -> Client:
    if dialect == "hosted":
        return Client(tasks=hosted_tasks(server.token, base_url=server.url), wait_timeout=30)
    return Client(base_url=server.url, key=server.token, wait_timeout=30)


@pytest.mark.parametrize("dialect", ["spec", "hosted"])
def test_run_progress_follows_the_app_and_listeners_hear_each_change(server, dialect):
    name = f"client-{dialect}"
    run = client_in(dialect, server).run("test/steps", {"gate": name, "total": 4, "reports": 2})
    heard: list[Progress | None] = []
    halfway = threading.Event()

    def listen(changed) -> None:
        heard.append(changed.progress)
        if changed.progress == Progress(2, 4, "halfway"):
            halfway.set()

    run.on_change(listen)
    assert started(name).wait(10)
    if run.progress != Progress(2, 4, "halfway"):  # else it was there before the listener
        assert halfway.wait(10), f"the listener never heard the report; it heard {heard}"
    assert run_view(run, steps=RUN_STEPS)["progress"] == {"done": 2, "total": 4, "message": "halfway"}
    gate(name).set()
    run.wait()

    assert run.progress is None and run_view(run, steps=RUN_STEPS)["progress"] is None
    assert heard[-1] is None  # the terminal snapshot carries none


def test_progress_reads_as_people_say_it():
    assert str(Progress(3, 10, "step 3")) == "3 / 10 · step 3"
    assert str(Progress(2.5)) == "2.5" and Progress(2.5).fraction is None
    assert Progress(5, 4).fraction == 1.0


@pytest.mark.parametrize(
    "field",
    [None, "half", {"done": -1}, {"done": 5, "total": 4}, {"total": 3}, {"done": 1, "total": 0}],
)
def test_a_progress_field_out_of_shape_is_ignored_not_an_error(field):
    core = TasksCore(Profile("tasks", "http://127.0.0.1:1", "k"))
    body = {"id": "task_1", "status": 7, "created_at": "2026-01-01T00:00:00Z"}
    if field is not None:
        body["progress"] = field
    snapshot = core.snapshot(body)
    assert snapshot.status.name == "Running" and snapshot.progress is None


def test_a_whole_number_reads_as_one():
    core = TasksCore(Profile("tasks", "http://127.0.0.1:1", "k"))
    body = {"id": "t", "status": 7, "created_at": "x", "progress": {"done": 3.0, "total": 10, "message": "m"}}
    assert str(core.snapshot(body).progress) == "3 / 10 · m"
