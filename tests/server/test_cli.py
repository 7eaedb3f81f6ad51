"""`inference-nb serve` as a user runs it, and the cURL examples of both API documents against it."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inference_nb.wire.statuses import SpecStatus

from .helpers import wait_for_status
from .receiver import ServeProcess, WebhookReceiver, free_port

CONSOLE_SCRIPT = Path(sys.executable).parent / "inference-nb"
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="the curl binary is not installed")

# The cURL examples of the tasks API document, verbatim.

RUN_AND_WAIT = r"""curl -X POST https://api.inference.sh/run \
  -H "Authorization: Bearer inf_your_key" \
  -H "Content-Type: application/json" \
  -d '{
    "app": "infsh/flux",
    "input": {"prompt": "A sunset"}
  }'"""

RUN_WITHOUT_WAITING = r"""curl -X POST "https://api.inference.sh/run?wait=false" \
  -H "Authorization: Bearer inf_your_key" \
  -H "Content-Type: application/json" \
  -d '{
    "app": "infsh/flux",
    "input": {"prompt": "A sunset"}
  }'"""

START_SESSION = r"""# Start a new session
curl -X POST https://api.inference.sh/run \
  -H "Authorization: Bearer inf_your_key" \
  -H "Content-Type: application/json" \
  -d '{
    "app": "my-app",
    "input": {"action": "init"},
    "session": "new"
  }'"""

CONTINUE_SESSION = r"""# Continue session
curl -X POST https://api.inference.sh/run \
  -H "Authorization: Bearer inf_your_key" \
  -H "Content-Type: application/json" \
  -d '{
    "app": "my-app",
    "input": {"action": "process"},
    "session": "sess_abc123"
  }'"""

START_SESSION_WITH_TIMEOUT = r"""# Start session with 5-minute idle timeout
curl -X POST https://api.inference.sh/run \
  -H "Authorization: Bearer inf_your_key" \
  -H "Content-Type: application/json" \
  -d '{
    "app": "my-app",
    "input": {"action": "init"},
    "session": "new",
    "session_timeout": 300
  }'"""

GET_TASK = 'curl https://api.inference.sh/tasks/task_abc123 \\\n  -H "Authorization: Bearer inf_your_key"'

CANCEL_TASK = (
    'curl -X POST https://api.inference.sh/tasks/task_abc123/cancel \\\n  -H "Authorization: Bearer inf_your_key"'
)
"""The document shows only the answer of cancel; this is Get Task's example with its method and path."""

RUN_WITH_WEBHOOK = r"""curl -X POST https://api.inference.sh/run \
  -H "Authorization: Bearer inf_your_key" \
  -H "Content-Type: application/json" \
  -d '{
    "app": "infsh/flux",
    "input": {"prompt": "A sunset"},
    "webhook": "https://your-server.com/webhook"
  }'"""


# The cURL examples of the runs API document, verbatim.

CREATE_RUN = r"""curl --request POST \
  --url https://api.inferable.ai/clusters/{clusterId}/runs \
  --header 'Content-Type: application/json' \
  --header 'authorization: <cluster_consumer_key>' \
  --data '{
  "message": "What does our inventory look like?",
  "result": {
    "schema": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "name": { "type": "string" },
          "qty": { "type": "number" }
        }
      }
    }
  }
}'"""

GET_RUN = r"""curl --request GET \
  --url https://api.inferable.ai/clusters/{clusterId}/runs/{runId} \
  --header 'authorization: <cluster_consumer_key>'"""


@pytest.fixture(scope="module")
def serve(tmp_path_factory) -> Iterator[ServeProcess]:
    """One `inference-nb serve` for the module, its token in the data dir's token file."""
    folder = tmp_path_factory.mktemp("cli")
    process = ServeProcess(folder / "data", port=free_port(), token=None, log_dir=folder)
    try:
        yield process.start()
    finally:
        process.stop()


def curl(example: str, serve: ServeProcess, **replacements: str) -> dict:
    """Run a spec example with this server's base URL and key, and `replacements` (old=new) applied."""
    command = example.replace("https://api.inference.sh", serve.url).replace("inf_your_key", serve.token)
    for old, new in replacements.items():
        assert old in command, f"{old!r} is not in the example"
        command = command.replace(old, new)
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# the process


def test_serve_prints_the_url_and_where_the_token_is_but_never_the_token(tmp_path):
    process = ServeProcess(tmp_path / "data", port=free_port(), token=None, log_dir=tmp_path)
    try:
        process.start()
        token = process.token
        assert httpx.get(f"{process.url}/apps").status_code == 401
        assert httpx.get(f"{process.url}/apps", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        process.stop()

    output = process.output()
    assert process.url in output
    assert str(tmp_path / "data" / "token") in output
    assert len(token) >= 32
    assert token not in output


def test_token_from_the_environment_is_named_but_never_printed(tmp_path):
    process = ServeProcess(tmp_path / "data", port=free_port(), token="env-token-0123456789abcdef", log_dir=tmp_path)
    try:
        process.start()
        with process.client() as api:
            assert api.get("/apps").status_code == 200
    finally:
        process.stop()

    output = process.output()
    assert "INFERENCE_NB_TOKEN" in output
    assert "env-token-0123456789abcdef" not in output
    assert not (tmp_path / "data" / "token").exists()


def test_empty_token_file_does_not_turn_auth_off(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "token").write_text("\n")
    process = ServeProcess(tmp_path / "data", port=free_port(), token=None, log_dir=tmp_path)
    try:
        try:
            process.start()
        except AssertionError:  # refusing to start is a fine answer too
            assert process.process.poll() not in (None, 0)
            assert "token" in process.output()
            return
        assert httpx.get(f"{process.url}/apps").status_code == 401
    finally:
        process.stop()


def test_serve_on_port_zero_prints_the_port_it_listens_on(tmp_path):
    stdout = tmp_path / "stdout"
    command = [str(CONSOLE_SCRIPT), "serve", "--port", "0", "--data-dir", str(tmp_path / "data")]
    with open(stdout, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = wait_for_printed_url(stdout, process)
        assert not url.endswith(":0")
        assert httpx.get(f"{url}/apps").status_code == 401
    finally:
        process.terminate()
        process.wait(10)


def wait_for_printed_url(stdout: Path, process: subprocess.Popen, timeout: float = 60) -> str:
    # A deadline, not a speed limit: the imports take seconds, more while other test workers run.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"http://[\w.]+:\d+", stdout.read_text())
        if found:
            return found.group()
        time.sleep(0.05)
    raise AssertionError(f"serve printed no URL: {stdout.read_text()}")


def test_token_file_is_readable_by_its_owner_only(serve):
    assert stat.S_IMODE((serve.data_dir / "token").stat().st_mode) == 0o600


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "wrong-token"])
def test_requests_without_the_token_are_401(serve, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{serve.url}/tasks", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_second_serve_on_the_same_data_dir_exits_naming_it(serve):
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "serve", "--port", str(free_port()), "--data-dir", str(serve.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert str(serve.data_dir) in done.stderr
    assert serve.token not in done.stdout + done.stderr


def test_serve_help_describes_the_options():
    done = subprocess.run([str(CONSOLE_SCRIPT), "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for option in ("--host", "--port", "--data-dir", "--workers", "--max-storage", "--max-connections",
                   "INFERENCE_NB_TOKEN"):  # fmt: skip
        assert option in done.stdout


def read_only_dir(tmp_path: Path) -> Path:
    """A folder no one may write in: a read-only tmpfs where root can mount one, else a folder under a file
    (which fails the same way for anyone: no data dir can be made there)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode == 0:
        return folder
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return blocker


def test_a_data_dir_that_cannot_be_made_is_one_plain_line(tmp_path):
    parent = read_only_dir(tmp_path)
    try:
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), "serve", "--port", "0", "--data-dir", str(parent / "data")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        subprocess.run(["umount", str(parent)], capture_output=True)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"cannot use {parent / 'data'} as the data dir" in done.stderr


def test_a_size_that_is_not_one_is_refused_by_the_cli():
    done = subprocess.run([str(CONSOLE_SCRIPT), "serve", "--max-storage", "lots"], capture_output=True, text=True)
    assert done.returncode == 2 and "'lots' is not a size" in done.stderr


# the spec's cURL examples


@needs_curl
def test_curl_run_and_wait(serve):
    task = curl(RUN_AND_WAIT, serve, **{"infsh/flux": "demo/picture"})
    assert task["status"] == SpecStatus.COMPLETED
    assert task["input"] == {"prompt": "A sunset"}
    with serve.client() as api:
        image = api.get(task["output"]["image"]["uri"])
    assert image.content.startswith(b"\x89PNG")


@needs_curl
def test_curl_run_without_waiting(serve):
    task = curl(RUN_WITHOUT_WAITING, serve, **{"infsh/flux": "demo/picture"})
    assert task["id"].startswith("task_")
    assert SpecStatus.RECEIVED <= task["status"] <= SpecStatus.CANCELLED
    with serve.client() as api:
        assert wait_for_status(api, task["id"], "Completed")["output"]["image"]["uri"]


@needs_curl
def test_curl_run_with_session_keeps_state_between_calls(serve):
    started = curl(START_SESSION, serve, **{"my-app": "demo/counter"})
    session_id = started["session_id"]
    assert session_id
    assert started["output"]["count"] == 0

    continued = curl(CONTINUE_SESSION, serve, **{"my-app": "demo/counter", "sess_abc123": session_id})
    assert continued["session_id"] == session_id
    assert continued["output"]["count"] == 1
    assert continued["output"]["calls"] == 2


@needs_curl
def test_curl_run_with_custom_session_timeout(serve):
    started = curl(START_SESSION_WITH_TIMEOUT, serve, **{"my-app": "demo/counter"})
    assert started["status"] == SpecStatus.COMPLETED
    with serve.client() as api:
        session = api.get(f"/sessions/{started['session_id']}").json()
    assert session["timeout"] == 300
    assert session["status"] == "active"


@needs_curl
def test_curl_get_task(serve):
    with serve.client() as api:
        task = api.post("/run", json={"app": "demo/counter", "input": {}}).json()
    fetched = curl(GET_TASK, serve, task_abc123=task["id"])
    assert fetched == task


@needs_curl
def test_curl_cancel_task(serve):
    with serve.client() as api:
        task = api.post("/run", params={"wait": "false"}, json={"app": "demo/sleep", "input": {"seconds": 30}}).json()
        wait_for_status(api, task["id"], "Running")
        cancelled = curl(CANCEL_TASK, serve, task_abc123=task["id"])
        assert cancelled == {"id": task["id"], "status": 11, "cancelled": True}
        assert api.get(f"/tasks/{task['id']}").json()["status"] == SpecStatus.CANCELLED


@needs_curl
def test_curl_create_a_run_then_poll_it_until_done(serve):
    runs_api = {"https://api.inferable.ai": serve.url, "<cluster_consumer_key>": serve.token, "{clusterId}": "demo"}
    created = curl(CREATE_RUN, serve, **runs_api)
    assert list(created) == ["id"] and created["id"]
    deadline = time.monotonic() + 30
    while True:  # the document says: poll the run until its status says it is finished
        detail = curl(GET_RUN, serve, **runs_api, **{"{runId}": created["id"]})
        if detail["run"]["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    run = detail["run"]
    assert (run["id"], run["status"], run["failureReason"]) == (created["id"], "done", None)
    assert run["result"] and all(set(row) == {"name", "qty"} for row in run["result"])
    assert {"jobs", "inputRequests"} <= set(detail)


@needs_curl
def test_curl_run_with_webhook(serve):
    with WebhookReceiver() as receiver:
        replacements = {"infsh/flux": "demo/picture", "https://your-server.com/webhook": receiver.url}
        task = curl(RUN_WITH_WEBHOOK, serve, **replacements)
        payload = json.loads(receiver.wait_for(1)[0].body)
    assert task["status"] == SpecStatus.COMPLETED
    assert payload["id"] == task["id"]
    assert payload["status"] == 9
    assert payload["output"]["image"]["uri"] == task["output"]["image"]["uri"]
