"""An app's `ctx.progress` reaches the task object and its stream, in both dialects, as a field
(`progress`) a client may ignore; it is news of a task in progress only."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from inference_nb.server import start_server
from inference_nb.server.apps.base import progress_report

from ..apps import PROGRESS_APPS, gate, started
from .helpers import wait_until

CREATE = {"spec": "/run?wait=false", "hosted": "/apps/run"}


@pytest.fixture
def api(tmp_path) -> Iterator[httpx.Client]:
    with start_server(data_dir=tmp_path / "data", apps=PROGRESS_APPS) as srv:
        headers = {"Authorization": f"Bearer {srv.token}"}
        with httpx.Client(base_url=srv.url, headers=headers, timeout=30) as client:
            yield client


def task_of(answer: httpx.Response) -> dict:
    body = answer.json()
    return body["data"] if "data" in body else body  # the hosted dialect's envelope


@pytest.mark.parametrize("dialect", ["spec", "hosted"])
def test_progress_is_on_the_task_and_its_stream_while_it_runs_and_gone_once_it_ended(api, dialect):
    name = f"progress-{dialect}"
    task = task_of(api.post(CREATE[dialect], json={"app": "test/steps", "input": {"gate": name}}))
    assert started(name).wait(10), "the app never started"
    wait_until(lambda: "progress" in task_of(api.get(f"/tasks/{task['id']}")), "no progress on the task")
    assert task_of(api.get(f"/tasks/{task['id']}"))["progress"] == {"done": 2, "total": 4, "message": "halfway"}

    with api.stream("GET", f"/tasks/{task['id']}/stream") as stream:
        lines = stream.iter_lines()
        first = json.loads(next(lines))  # the task as it is: the stream is subscribed from here on
        gate(name).set()
        rest = [json.loads(line) for line in lines if line]

    tasks = [line.get("data", line) for line in [first, *rest]]
    assert tasks[0]["progress"] == {"done": 2, "total": 4, "message": "halfway"}
    assert "progress" not in tasks[-1] and tasks[-1]["output"] == {"gate": name}
    assert "progress" not in task_of(api.get(f"/tasks/{task['id']}"))


def test_reports_faster_than_a_client_can_read_leave_the_latest_one(api):
    task = api.post(CREATE["spec"], json={"app": "test/steps", "input": {"gate": "many", "total": 500, "reports": 500}})
    assert started("many").wait(10)
    wait_until(
        lambda: api.get(f"/tasks/{task.json()['id']}").json().get("progress", {}).get("done") == 500,
        "the last report never showed",
    )
    gate("many").set()


def test_demo_sleep_reports_its_steps(api):
    task = api.post(CREATE["spec"], json={"app": "demo/sleep", "input": {"seconds": 60, "steps": 3}}).json()
    wait_until(lambda: "progress" in api.get(f"/tasks/{task['id']}").json(), "demo/sleep reported no progress")
    progress = api.get(f"/tasks/{task['id']}").json()["progress"]
    api.post(f"/tasks/{task['id']}/cancel")
    assert progress["done"] in (0, 1, 2, 3) and progress["total"] == 3 and "60 s" in progress["message"]


def test_a_task_that_reports_no_progress_has_no_progress_field(api):
    task = api.post("/run", json={"app": "test/echo", "input": {"text": "quiet"}}).json()
    assert "progress" not in task


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("three", 10, None), "done must be a finite number"),
        ((-1, 10, None), "done must be at least 0"),
        ((1, 0, None), "total must be more than 0"),
        ((11, 10, None), "done (11) is more than total (10)"),
        ((1, 10, 7), "message must be a string"),
        ((float("nan"), None, None), "done must be a finite number"),
    ],
)
def test_a_bad_report_is_refused_saying_what_is_wrong(args, problem):
    with pytest.raises((TypeError, ValueError), match=problem.replace("(", r"\(").replace(")", r"\)")):
        progress_report(*args)


def test_a_report_keeps_a_short_message_and_cuts_a_long_one():
    assert progress_report(3, None, "") == {"done": 3, "total": None, "message": None}
    assert len(progress_report(1, 2, "x" * 1000)["message"]) == 200
