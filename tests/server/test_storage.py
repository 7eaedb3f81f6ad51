"""Issue 20: a full disk or a used-up storage quota fails what cannot be kept, says so, and loses nothing.

The full disk is a real one: a small tmpfs, which only root can mount (skipped otherwise, saying why).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from inference_nb.server import App, File, RunContext, start_server
from inference_nb.server.quota import parse_size
from inference_nb.wire.statuses import SpecStatus

from ..apps import TEST_APPS, gate, started
from .helpers import read_stream, wait_until
from .runs_helpers import client_for, cluster_with, create_run, get_run
from .runs_helpers import read_stream as read_run_stream


class GatedFileApp(App):
    """Waits for its gate, then returns a file of 256 KiB."""

    name = "test/gated-file"

    class Input(BaseModel):
        gate: str

    class Output(BaseModel):
        file: File

    def run(self, input: Input, ctx: RunContext) -> Output:
        started(input.gate).set()
        gate(input.gate).wait(30)
        return self.Output(file=File.from_bytes(b"x" * 256 * 2**10, filename="out.bin"))


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 16 MiB tmpfs of its own, unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("a full disk needs a small tmpfs, and only root may mount one")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"could not mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    """Write a file that takes every free byte of `disk`; return it."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        for size in (2**20, 2**12, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError:
                pass
    return filler


def stored_status(data_dir: Path, task_id: str) -> int | None:
    """The task's status as written in the database (2026 numbering), read beside the server."""
    with closing(sqlite3.connect(f"file:{data_dir / 'inference_nb.sqlite3'}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT status FROM tasks WHERE id = ?", (task_id,)).fetchone()
    return row[0] if row else None


def test_a_full_disk_fails_the_task_for_every_waiter_refuses_submits_and_loses_nothing(small_disk):
    data_dir = small_disk / "data"
    with (
        start_server(data_dir=data_dir, apps=[*TEST_APPS, GatedFileApp]) as srv,
        httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api,
    ):
        earlier = api.post("/run", json={"app": "test/echo", "input": {"text": "kept"}}).json()
        assert earlier["status"] == SpecStatus.COMPLETED

        # A waiter (POST /run held until the end) and a stream, on a task that will end with the disk full.
        waited: dict = {}
        waiter = threading.Thread(
            target=lambda: waited.update(
                api.post("/run", json={"app": "test/gated-file", "input": {"gate": "full-disk"}}).json()
            )
        )
        waiter.start()
        assert started("full-disk").wait(10)
        task_id = api.get("/tasks").json()["tasks"][0]["id"]
        streamed: list = []
        reader = threading.Thread(target=lambda: streamed.extend(read_stream(api, task_id)))
        reader.start()

        filler = fill(small_disk)
        for path, body in (
            ("/run", {"app": "test/echo", "input": {"text": "no room"}}),
            ("/apps/run", {"app": "test/echo", "input": {"text": "no room"}}),
            ("/files", {"files": [{"filename": "a.txt", "size": 1}]}),
        ):
            refused = api.post(path, json=body)
            assert refused.status_code == 507, (path, refused.text)
            message = refused.text
            assert "disk" in message and "full" in message and str(data_dir) in message

        gate("full-disk").set()
        waiter.join(20)
        reader.join(20)
        assert not waiter.is_alive() and not reader.is_alive(), "a waiter or a stream still hangs"
        for seen in (waited, streamed[-1], api.get(f"/tasks/{task_id}").json()):
            assert seen["status"] == SpecStatus.FAILED, seen
            assert "disk" in seen["error"] and "full" in seen["error"], seen["error"]

        filler.unlink()  # space is back: the end is written, and work is taken again
        wait_until(lambda: stored_status(data_dir, task_id) == 11, "the failed task was never written")
        again = api.post("/run", json={"app": "test/echo", "input": {"text": "room again"}})
        assert again.status_code == 200 and again.json()["status"] == SpecStatus.COMPLETED
        assert api.get(f"/tasks/{earlier['id']}").json() == earlier  # nothing stored was lost


def test_the_storage_quota_refuses_uploads_and_output_files_past_it_naming_the_limit(tmp_path):
    with (
        start_server(data_dir=tmp_path / "data", apps=TEST_APPS, max_storage=1000) as srv,
        httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api,
    ):

        def upload(size: int, *, declared: bool = True) -> httpx.Response:
            file = {"filename": "a.bin", **({"size": size} if declared else {})}
            [target] = api.post("/files", json={"files": [file]}).json()["data"]
            return httpx.put(target["upload_url"], content=b"x" * size)

        too_big = upload(2000)
        assert too_big.status_code == 507, too_big.text
        assert "max_storage, 1000 bytes" in too_big.text
        assert upload(600).status_code == 200
        for declared in (True, False):  # 600 + 600 > 1000, refused whether or not the size was declared
            refused = upload(600, declared=declared)
            assert refused.status_code == 507 and "max_storage" in refused.text
        task = api.post("/run", json={"app": "test/files", "input": {"text": "y" * 500}}).json()
        assert task["status"] == SpecStatus.FAILED and "max_storage, 1000 bytes" in task["error"]
        assert upload(300).status_code == 200  # what was refused took no room


@pytest.mark.parametrize(
    ("text", "size"), [("1048576", 2**20), ("500M", 500 * 2**20), ("2g", 2 * 2**30), ("1 TiB", 2**40)]
)
def test_sizes_are_read_with_binary_units(text, size):
    assert parse_size(text) == size


def test_a_run_that_ends_with_the_disk_full_ends_failed_in_memory_and_is_written_once_there_is_room(small_disk):
    data_dir = small_disk / "data"
    opened, started_call = threading.Event(), threading.Event()

    def countStock() -> dict:
        """Count the items in stock."""
        started_call.set()
        opened.wait(30)
        return {"count": 3}

    with start_server(data_dir=data_dir, apps=TEST_APPS) as srv, client_for(srv) as api:
        cluster = cluster_with(srv, countStock, service="stock")
        run_id = create_run(api, cluster, {"message": "How many items are in stock?"})
        assert started_call.wait(20)
        streamed: list = []
        reader = threading.Thread(target=lambda: streamed.extend(read_run_stream(api, cluster, run_id)))
        reader.start()

        filler = fill(small_disk)
        opened.set()
        reader.join(20)
        assert not reader.is_alive(), "the run's stream still hangs"
        for seen in (streamed[-1], get_run(api, cluster, run_id)):
            assert seen["run"]["status"] == "failed", seen
            reason = seen["run"]["failureReason"]
            assert "disk" in reason and "full" in reason and str(data_dir) in reason, reason
        assert stored_run_status(data_dir, run_id) == "running"  # the end found no room

        filler.unlink()  # space is back: the end is written
        wait_until(lambda: stored_run_status(data_dir, run_id) == "failed", "the failed run was never written")
        assert get_run(api, cluster, run_id)["run"]["status"] == "failed"


def stored_run_status(data_dir: Path, run_id: str) -> str | None:
    with closing(sqlite3.connect(f"file:{data_dir / 'inference_nb.sqlite3'}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
    return row[0] if row else None
