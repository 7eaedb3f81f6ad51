"""The hosted dialect end to end: `hosted_tasks(token, base_url=server.url)` against the embedded
server, through the real client, in the flows the hosted service's official SDK uses: run (which
answers at once), wait, stream, cancel, failure, rejection, sessions, and files (upload, then a
run that reads them).

Everything here goes over loopback HTTP; nothing is mocked.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pydantic import BaseModel

from inference_nb.api import Client
from inference_nb.client.errors import (
    ConflictError,
    InvalidRequest,
    NotFoundError,
    RunCancelled,
    RunFailed,
    StatusError,
)
from inference_nb.client.profile import Profile, hosted_tasks
from inference_nb.client.tasks import TasksClient
from inference_nb.server import EmbeddedServer, start_server
from inference_nb.server.apps.base import App, File
from inference_nb.wire.statuses import Phase

HOSTED_TERMINAL = {"Completed": 10, "Failed": 11, "Cancelled": 12, "Rejected": 13}


class DigestApp(App):
    """Reads an input file: what the server got, byte for byte."""

    name = "test/digest"
    description = "The size, type and SHA-256 of an input file."

    class Input(BaseModel):
        file: File
        label: str = ""

    class Output(BaseModel):
        size: int
        sha256: str
        label: str

    def run(self, input: Input) -> Output:
        content = input.file.read_bytes()
        return self.Output(size=len(content), sha256=hashlib.sha256(content).hexdigest(), label=input.label)


@pytest.fixture
def server(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "server", apps=[DigestApp]) as srv:
        yield srv


@pytest.fixture
def hosted(server) -> Client:
    return Client(tasks=hosted_tasks(server.token, base_url=server.url), wait_timeout=30)


@pytest.fixture
def raw(server) -> Iterator[TasksClient]:
    with_client = TasksClient(hosted_tasks(server.token, base_url=server.url))
    yield with_client
    with_client.close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# run, wait, stream


def test_a_run_answers_at_once(hosted):
    started = time.monotonic()
    run = hosted.run("demo/sleep", {"seconds": 30})
    try:
        assert time.monotonic() - started < 10 and not run.status.terminal  # /apps/run did not wait the 30 s
    finally:
        run.cancel()


def test_a_run_waits_to_completed_in_the_hosted_numbering(hosted):
    run = hosted.run("demo/sleep", {"seconds": 0.3, "steps": 3, "message": "hi"}).wait()
    assert (run.status.name, run.status.code, run.status.phase) == ("Completed", 10, Phase.SUCCEEDED)
    assert run.output["message"] == "hi"
    names = [name for name, _ in run.timeline]
    assert names[0] == "Received" and names[-1] == "Completed" and "Dispatched" in names  # a name only 0..13 has


def test_the_stream_speaks_the_hosted_numbering_to_the_end(raw):
    task = raw.submit("demo/sleep", {"seconds": 0.2, "steps": 2})
    seen = list(raw.stream(task.id))
    assert seen[-1].status.name == "Completed" and seen[-1].status.code == 10
    assert all(s.status.code in range(14) for s in seen) and seen[-1].output["steps"] == 2


def test_a_task_created_in_the_spec_dialect_is_read_in_the_hosted_one(server, raw):
    spec = TasksClient(Profile("tasks", server.url, server.token))
    try:
        created = spec.submit("demo/sleep", {"seconds": 0})
        done = next(s for s in spec.stream(created.id) if s.status.terminal)
        assert (done.status.name, done.status.code) == ("Completed", 9)
        assert (raw.get(created.id).status.name, raw.get(created.id).status.code) == ("Completed", 10)
        hosted_task = raw.submit("demo/sleep", {"seconds": 0})
        assert next(s for s in spec.stream(hosted_task.id) if s.status.terminal).status.code == 9
    finally:
        spec.close()


def test_the_task_list_and_the_apps_are_read_through_the_envelope(hosted, raw):
    run = hosted.run("demo/sleep", {"seconds": 0}).wait()
    tasks, _ = raw.list(limit=5)
    assert run.id in [t.id for t in tasks] and all(t.status.code in range(14) for t in tasks)
    assert {"demo/sleep", "test/digest"} <= {app["name"] for app in hosted.apps()}


# cancel, failure, rejection


def test_cancel_ends_the_task_cancelled(hosted):
    run = hosted.run("demo/sleep", {"seconds": 30})
    run.cancel()
    with pytest.raises(RunCancelled):
        run.wait(10)
    assert (run.status.name, run.status.code) == ("Cancelled", 12)


def test_a_failed_task_raises_with_the_servers_reason(hosted):
    run = hosted.run("demo/fail", {"message": "the disk is on fire"})
    with pytest.raises(RunFailed, match="the disk is on fire"):
        run.wait()
    assert (run.status.name, run.status.code) == ("Failed", 11) and "the disk is on fire" in run.error


def test_a_rejected_task_raises_with_the_servers_reason(tmp_path):
    with start_server(data_dir=tmp_path / "full", max_workers=1, max_queued=0) as full:
        client = Client(tasks=hosted_tasks(full.token, base_url=full.url), wait_timeout=30)
        busy = client.run("demo/sleep", {"seconds": 30})
        try:
            refused = client.run("demo/sleep", {"seconds": 0})
            with pytest.raises(RunFailed, match="queue is full"):
                refused.wait(10)
            assert (refused.status.name, refused.status.code, refused.status.phase) == ("Rejected", 13, Phase.FAILED)
        finally:
            busy.cancel()


# errors, in problem+json


def test_input_the_app_refuses_is_a_status_error_naming_the_field(raw):
    with pytest.raises(StatusError) as raised:  # sent as it is: `Client.run` would refuse it first (test_input_check)
        raw.submit("demo/sleep", {"seconds": -1})
    assert raised.value.status_code == 422 and "input.seconds" in raised.value.field_errors
    assert "input.seconds" in str(raised.value)


def test_an_unknown_app_and_task_are_not_found(hosted, raw):
    with pytest.raises(InvalidRequest, match="no app 'demo/nope'") as unknown:  # the closest apps named
        hosted.run("demo/nope", {})
    assert isinstance(unknown.value.__cause__, NotFoundError)  # the server's 404 behind it
    with pytest.raises(NotFoundError, match="task_missing"):
        raw.get("task_missing")


def test_the_key_is_checked(server):
    from inference_nb.client.errors import AuthenticationError

    wrong = TasksClient(hosted_tasks("not-the-token", base_url=server.url))
    with pytest.raises(AuthenticationError) as raised:
        wrong.apps()
    assert "not-the-token" not in str(raised.value)
    wrong.close()


# sessions


def test_a_session_keeps_state_and_is_seen_kept_alive_and_ended(hosted, raw):
    session = hosted.session("demo/counter")
    assert session({"action": "increment"}).output["count"] == 1
    assert session({"action": "increment"}).output["count"] == 2
    assert session.run(function="increment").wait().output["count"] == 3
    info = session.info()
    assert info["id"] == session.id
    assert session.keepalive()["id"] == session.id
    assert session.id in [s["id"] for s in raw.sessions()]
    session.end()
    with pytest.raises(ConflictError):
        session({"action": "increment"})
    with pytest.raises(ConflictError):
        session.end()


def test_a_function_is_named_by_argument_or_in_the_app_reference(hosted):
    assert hosted.run("demo/counter", {"amount": 5}, function="increment").wait().output["count"] == 5
    assert hosted.run("demo/counter@1.0.0:get", {}).wait().output["action"] == "get"
    with pytest.raises(StatusError, match="nope"):
        hosted.run("demo/counter", {}, function="nope")


def test_a_session_not_started_is_refused_before_sending(hosted):
    with pytest.raises(InvalidRequest, match="has not started"):
        hosted.session("demo/counter").info()


# files


def test_an_uploaded_file_is_read_by_a_run(hosted):
    content = b"\x00\x01 bytes \xff" * 100
    uri = hosted.upload(content, filename="blob.bin")
    output = hosted.run("test/digest", {"file": uri}).wait().output
    assert (output["size"], output["sha256"]) == (len(content), sha256(content))


def test_a_local_path_in_the_input_is_uploaded_first(hosted, tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    output = hosted.run("test/digest", {"file": path, "label": str(path)}).wait().output
    assert output["sha256"] == sha256(path.read_bytes()) and output["label"] == str(path)  # a str stays a str


def test_a_pil_image_in_the_input_is_uploaded_as_png(hosted):
    image = Image.new("RGB", (4, 3), "blue")
    output = hosted.run("test/digest", {"file": image}).wait().output
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    assert output["sha256"] == sha256(buffer.getvalue())


def test_a_data_uri_in_the_input_is_uploaded_in_the_hosted_dialect(hosted):
    output = hosted.run("test/digest", {"file": "data:text/plain;base64,aGVsbG8="}).wait().output
    assert output["sha256"] == sha256(b"hello")


def test_a_path_with_no_file_is_refused_before_anything_is_sent(hosted, raw, tmp_path):
    before, _ = raw.list(limit=100)
    with pytest.raises(InvalidRequest) as raised:
        hosted.run("test/digest", {"file": tmp_path / "missing.png"})
    assert raised.value.field == "input.file" and "missing.png" in str(raised.value)
    assert raw.list(limit=100)[0] == before


def test_upload_takes_a_path_given_as_text(hosted, tmp_path):
    (tmp_path / "note.txt").write_bytes(b"note")
    uri = hosted.upload(str(tmp_path / "note.txt"))
    assert uri.endswith("/note.txt")
    assert hosted.run("test/digest", {"file": uri}).wait().output["sha256"] == sha256(b"note")


def test_upload_of_a_missing_path_names_it(hosted, tmp_path):
    with pytest.raises(InvalidRequest, match="no file at") as raised:
        hosted.upload(Path(tmp_path / "gone.bin"))
    assert raised.value.field == "data"


# the spec dialect: files too, data URIs as text


@pytest.fixture
def spec(server) -> Client:
    return Client(base_url=server.url, key=server.token, wait_timeout=30)


def test_the_spec_dialect_uploads_paths_too(spec, tmp_path):
    (tmp_path / "a.bin").write_bytes(b"spec bytes")
    run = spec.run("test/digest", {"file": tmp_path / "a.bin"}).wait()
    assert run.output["sha256"] == sha256(b"spec bytes") and run.status.code == 9
    assert spec.run("test/digest", {"file": spec.upload(b"up")}).wait().output["size"] == 2


def test_the_spec_dialect_sends_a_data_uri_as_it_is(spec):
    uri = "data:text/plain;base64,aGVsbG8="
    with pytest.raises(StatusError) as raised:  # this server takes only its own files' uris
        spec.run("test/digest", {"file": uri})
    assert uri in raised.value.field_errors["input.file"]  # sent as text, not uploaded
