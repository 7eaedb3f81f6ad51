"""What survives a restart of the server on the same data dir, and what is said about the rest."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from inference_nb.server import DataDirInUse, EmbeddedServer, start_server
from inference_nb.wire.statuses import SpecStatus
from inference_nb.wire.webhooks import SIGNATURE_HEADER, verify

from ..apps import TEST_APPS, gate
from .helpers import wait_for_status
from .receiver import ServeProcess, WebhookReceiver, free_port


def start(data_dir: Path, port: int = 0) -> EmbeddedServer:
    return start_server(data_dir=data_dir, port=port, apps=TEST_APPS, webhook_backoff=0.05, webhook_max_attempts=3)


def client(server: EmbeddedServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)


def run(api: httpx.Client, body: dict, *, wait: bool = True) -> dict:
    response = api.post("/run", params={"wait": str(wait).lower()}, json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def serve(tmp_path) -> Iterator[ServeProcess]:
    process = ServeProcess(tmp_path / "data", port=free_port(), token=f"tok_{uuid.uuid4().hex}", log_dir=tmp_path)
    try:
        yield process.start()
    finally:
        process.stop()


# a clean stop


def test_task_running_at_a_clean_stop_is_failed_saying_the_server_stopped(tmp_path):
    name = f"stop-{uuid.uuid4()}"
    with WebhookReceiver() as receiver:
        try:
            with start(tmp_path / "data") as first, client(first) as api:
                body = {"app": "test/gate", "input": {"gate": name}, "webhook": receiver.url}
                task = run(api, body, wait=False)
                wait_for_status(api, task["id"], "Running")
                first.stop()
        finally:
            gate(name).set()

        with start(tmp_path / "data") as second, client(second) as api:
            after = api.get(f"/tasks/{task['id']}").json()
            hook = json.loads(receiver.wait_for(1)[0].body)
    assert after["status"] == SpecStatus.FAILED
    assert "server stopped" in after["error"]
    assert "Running" in after["error"]
    assert (hook["id"], hook["status"], hook["error"]) == (task["id"], 10, after["error"])


def test_client_waiting_on_a_task_when_the_server_stops_gets_the_failed_task(tmp_path):
    with start(tmp_path / "data") as server, client(server) as api, ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(api.post, "/run", json={"app": "demo/sleep", "input": {"seconds": 30}})
        running = wait_for_running_task(api)
        server.stop()
        response = waiting.result(timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == running["id"]
    assert response.json()["status"] == SpecStatus.FAILED
    assert "server stopped" in response.json()["error"]


def wait_for_running_task(api: httpx.Client, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [t for t in api.get("/tasks").json()["tasks"] if t["status"] == SpecStatus.RUNNING]
        if running:
            return running[0]
        time.sleep(0.01)
    raise AssertionError(f"no task reached Running within {timeout} s")


def test_completed_tasks_outputs_and_files_survive_a_restart(tmp_path):
    with start(tmp_path / "data") as first, client(first) as api:
        picture = run(api, {"app": "demo/picture", "input": {"prompt": "A sunset"}})
        echo = run(api, {"app": "test/echo@1.0.0", "input": {"text": "kept"}})
        png = api.get(picture["output"]["image"]["uri"]).content
        port = int(first.url.rsplit(":", 1)[1])
    assert png.startswith(b"\x89PNG")

    with start(tmp_path / "data", port=port) as second, client(second) as api:
        assert api.get(f"/tasks/{picture['id']}").json()["output"] == picture["output"]
        assert api.get(f"/tasks/{echo['id']}").json()["output"] == echo["output"]
        assert api.get(f"/tasks/{echo['id']}").json()["status"] == SpecStatus.COMPLETED
        refetched = api.get(picture["output"]["image"]["uri"])
    assert refetched.status_code == 200
    assert refetched.headers["content-type"] == "image/png"
    assert refetched.content == png


def test_file_uri_of_a_task_from_before_a_restart_on_another_port_still_serves_the_file(tmp_path):
    with start(tmp_path / "data") as first, client(first) as api:
        picture = run(api, {"app": "demo/picture", "input": {"prompt": "A sunset"}})

    with start(tmp_path / "data") as second, client(second) as api:
        uri = api.get(f"/tasks/{picture['id']}").json()["output"]["image"]["uri"]
        assert api.get(uri).status_code == 200


def test_session_from_before_a_clean_restart_is_gone_saying_the_server_stopped(tmp_path):
    with start(tmp_path / "data") as first, client(first) as api:
        session_id = run(api, {"app": "demo/counter", "input": {"action": "init"}, "session": "new"})["session_id"]

    with start(tmp_path / "data") as second, client(second) as api:
        response = api.post("/run", json={"app": "demo/counter", "input": {"action": "process"}, "session": session_id})
    assert response.status_code == 410
    message = response.json()["error"]["message"]
    assert session_id in message
    assert "server stopped" in message


def test_second_server_on_a_data_dir_in_use_is_refused_naming_it(tmp_path):
    data_dir = tmp_path / "data"
    with start(data_dir) as first:
        with pytest.raises(DataDirInUse, match=re.escape(str(data_dir))):
            start(data_dir)
        with client(first) as api:
            assert api.get("/apps").status_code == 200


# a crash (SIGKILL of `inference-nb serve`)


def test_task_running_at_a_crash_is_failed_at_the_next_start_and_its_webhook_sent(serve):
    with WebhookReceiver() as receiver:
        with serve.client() as api:
            earlier = [run(api, {"app": "demo/counter", "input": {}}) for _ in range(3)]
            earlier.append(run(api, {"app": "demo/fail", "input": {"message": "before the crash"}}))
            sleeper = run(api, {"app": "demo/sleep", "input": {"seconds": 30}, "webhook": receiver.url}, wait=False)
            wait_for_status(api, sleeper["id"], "Running")
        serve.kill()
        assert receiver.requests == []

        serve.start()
        with serve.client() as api:
            after = api.get(f"/tasks/{sleeper['id']}").json()
            listed = api.get("/tasks", params={"limit": 100}).json()["tasks"]
        [hook] = receiver.wait_for(1)

    assert after["status"] == SpecStatus.FAILED
    assert "marked failed when the server started again" in after["error"]
    assert {t["id"] for t in listed} == {t["id"] for t in [*earlier, sleeper]}
    assert {t["id"]: t["status"] for t in listed if t["id"] != sleeper["id"]} == {t["id"]: t["status"] for t in earlier}
    payload = json.loads(hook.body)
    assert (payload["id"], payload["status"], payload["error"]) == (sleeper["id"], 10, after["error"])
    secret = (serve.data_dir / "webhook_secret").read_text().strip()
    assert verify(secret, hook.body, hook.headers[SIGNATURE_HEADER])


def test_session_from_before_a_crash_is_gone_saying_the_server_restarted(serve):
    with serve.client() as api:
        session_id = run(api, {"app": "demo/counter", "input": {"action": "init"}, "session": "new"})["session_id"]
    serve.kill()

    serve.start()
    with serve.client() as api:
        response = api.post("/run", json={"app": "demo/counter", "input": {"action": "process"}, "session": session_id})
    assert response.status_code == 410
    message = response.json()["error"]["message"]
    assert session_id in message
    assert "server restarted" in message
