"""Tasks through the official SDK: run (waiting, not waiting, streaming), get, cancel, files, delete."""

from __future__ import annotations

import pytest
from inferencesh import APIError, TaskStatus, parse_status

from inference_nb.server import start_server

from .conftest import Sdk

PICTURE = {"app": "demo/picture", "input": {"prompt": "A sunset over mountains"}}
LONG_SLEEP = {"app": "demo/sleep", "input": {"seconds": 60}}


def test_run_waits_for_the_output_and_its_file_can_be_fetched(sdk, http):
    task = sdk(lambda c: c.run(PICTURE))
    assert parse_status(task["status"]) is TaskStatus.COMPLETED
    image = task["output"]["image"]
    assert image["content_type"] == "image/png" and image["filename"] == "picture.png"
    assert http.get(image["uri"]).content.startswith(b"\x89PNG")


def test_run_without_waiting_answers_while_the_task_goes_on(sdk):
    task = sdk(lambda c: c.run(LONG_SLEEP, wait=False))
    assert parse_status(task["status"]) not in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)
    sdk(lambda c: c.cancel(task["id"]))


def test_a_stream_yields_updates_in_order_until_completed(sdk):
    updates = sdk.updates(
        lambda c: c.run({"app": "demo/sleep", "input": {"seconds": 0.3, "message": "hi"}}, stream=True)
    )
    statuses = [parse_status(u["status"]) for u in updates]
    assert statuses == sorted(statuses) and statuses[-1] is TaskStatus.COMPLETED
    assert TaskStatus.UPLOADING not in statuses  # 9 is Uploading in the SDK's numbering: no spec code leaks in
    assert updates[-1]["output"]["message"] == "hi"


def test_a_failed_task_raises_its_error_whether_waited_for_streamed_or_read(sdk):
    failing = {"app": "demo/fail", "input": {"message": "the disk is full"}}
    with pytest.raises(RuntimeError, match="the disk is full"):
        sdk(lambda c: c.run(failing))
    with pytest.raises(RuntimeError, match="the disk is full"):
        sdk.updates(lambda c: c.run(failing, stream=True))
    task_id = sdk(lambda c: c.run(failing, wait=False))["id"]
    with pytest.raises(RuntimeError, match="the disk is full"):
        sdk(lambda c: c.wait_for_completion(task_id))
    task = sdk(lambda c: c.tasks.get(task_id)).data
    assert parse_status(task["status"]) is TaskStatus.FAILED and "the disk is full" in task["error"]


def test_a_cancelled_task_reads_as_cancelled(sdk):
    task_id = sdk(lambda c: c.run(LONG_SLEEP, wait=False))["id"]
    sdk(lambda c: c.tasks.cancel(task_id))
    assert parse_status(sdk(lambda c: c.get_task(task_id)).data["status"]) is TaskStatus.CANCELLED
    with pytest.raises(RuntimeError, match="(?i)task cancelled"):
        sdk(lambda c: c.wait_for_completion(task_id))


def test_a_tasks_files_are_listed_by_role_and_deleted_with_it(sdk, http):
    task = sdk(lambda c: c.run(PICTURE))
    files = sdk(lambda c: c.tasks.files(task["id"])).data
    assert [(f["role"], f["filename"]) for f in files] == [("output", "picture.png")]
    assert sdk(lambda c: c.tasks.files(task["id"], role="input")).data == []
    sdk(lambda c: c.tasks.delete(task["id"], files=True))
    with pytest.raises(APIError) as gone:
        sdk(lambda c: c.get_task(task["id"]))
    assert gone.value.status_code == 404 and gone.value.message == f"no task {task['id']!r}"
    assert http.get(files[0]["uri"]).status_code == 404


def test_delete_files_keeps_the_task(sdk, http):
    task = sdk(lambda c: c.run(PICTURE))
    deleted = sdk(lambda c: c.tasks.delete_files(task["id"], role="output")).data
    assert deleted == {"deleted": [f"{task['id']}/picture.png"], "skipped": []}
    assert http.get(task["output"]["image"]["uri"]).status_code == 404
    assert parse_status(sdk(lambda c: c.get_task(task["id"])).data["status"]) is TaskStatus.COMPLETED


def test_a_task_in_progress_is_not_deleted(sdk):
    task_id = sdk(lambda c: c.run(LONG_SLEEP, wait=False))["id"]
    with pytest.raises(APIError) as refused:
        sdk(lambda c: c.tasks.delete(task_id))
    assert refused.value.status_code == 409 and "cancel it first" in refused.value.message
    sdk(lambda c: c.cancel(task_id))


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_task_beyond_the_full_queue_is_rejected(tmp_path, kind):
    with start_server(data_dir=tmp_path / "data", max_workers=1, max_queued=1) as server:
        sdk = Sdk(kind, server)
        running = [sdk(lambda c: c.run(LONG_SLEEP, wait=False))["id"] for _ in range(2)]  # one runs, one waits
        with pytest.raises(RuntimeError, match="(?i)task rejected: the server's queue is full"):
            sdk(lambda c: c.run(LONG_SLEEP))
        rejected = sdk(lambda c: c.run(LONG_SLEEP, wait=False))
        assert parse_status(rejected["status"]) is TaskStatus.REJECTED
        for task_id in running:
            sdk(lambda c, task_id=task_id: c.cancel(task_id))
        # With room again, the same request is taken.
        assert parse_status(sdk(lambda c: c.run({"app": "demo/sleep", "input": {"seconds": 0}}))["status"]) is (
            TaskStatus.COMPLETED
        )
