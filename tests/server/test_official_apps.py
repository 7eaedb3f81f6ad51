"""Apps written for inference.sh (tests/server/official_apps/), each instance in a worker process of
its own, over loopback HTTP; and `infra` / `workers`."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("inferencesh", reason="apps in the service's format import the official package")

from inference_nb.server import EmbeddedServer, start_server  # noqa: E402
from inference_nb.server.apps.official import load_app_dir  # noqa: E402

from .test_cli import CONSOLE_SCRIPT, wait_for_printed_url  # noqa: E402

OFFICIAL_APPS = Path(__file__).with_name("official_apps")
APP_DIRS = [OFFICIAL_APPS / name for name in ("greeter", "broken_setup", "faulty", "upper_file")]
RUN_TIMEOUT = 15.0
"""Seconds a task may take (its setup included) on the hang test's server: a cold start (a process
importing pydantic and inferencesh) fits in it on a busy machine; the other tests' server allows 120."""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[EmbeddedServer]:
    data_dir = tmp_path_factory.mktemp("official") / "data"
    with start_server(data_dir=data_dir, app_dirs=APP_DIRS, app_run_timeout=120, max_workers=3) as srv:
        yield srv


@pytest.fixture(scope="module")
def api(server: EmbeddedServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=180) as client:
        yield client


def run(api: httpx.Client, app: str, input: dict, **fields) -> dict:
    answer = api.post("/run", json={"app": app, "input": input, **fields})
    assert answer.status_code == 200, answer.text
    return answer.json()


def worker_processes(folder: Path, *, parent: int | None = None) -> set[int]:
    """The live worker processes of the app in `folder` (of the process `parent`, when given), from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        mine = parent is None or int(ppid) == parent
        if b"serve" in command and str(folder).encode() in command and state != "Z" and mine:
            found.add(int(entry.name))
    return found


def until_gone(pids: set[int], folder: Path, timeout: float = 15) -> None:
    """Wait (up to a deadline) until none of `pids` is a live worker process of `folder` any more."""
    deadline = time.monotonic() + timeout
    while pids & worker_processes(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pids & worker_processes(folder), "the worker processes outlived what should have ended them"


def test_apps_are_listed_with_the_schemas_the_service_derives(api):
    apps = {app["name"]: app for app in api.get("/apps").json()["apps"]}
    greeter = apps["local/greeter"]
    assert greeter["id"] == "local/greeter@1.0.0"
    assert greeter["description"] == "Greets someone, in the voice of the variant it runs."
    # Declaration order, as the service's OrderedSchemaModel gives it; output_meta (inherited) last.
    assert list(greeter["input_schema"]["properties"]) == ["name", "times", "polite"]
    assert list(greeter["output_schema"]["properties"])[-1] == "output_meta"
    assert greeter["input_schema"]["properties"]["times"]["maximum"] == 5
    assert [f["name"] for f in greeter["functions"]] == ["run", "shout"]
    assert greeter["functions"][1]["description"] == "Shouts the text back."
    assert list(greeter["variants"]) == ["default", "loud"]
    assert greeter["variants"]["loud"]["resources"]["gpu"]["count"] == 1
    document = apps["local/upper-file"]["input_schema"]["properties"]["document"]
    assert document["type"] == "string" and document["format"] == "file"


def test_setup_and_run_get_the_metadata_and_run_in_the_apps_folder(api):
    task = run(api, "local/greeter", {"name": "Ada", "times": 2})
    output = task["output"]
    assert task["status"] == 9 and output["greeting"] == "Hello, Ada. Hello, Ada."
    assert output["task_id"] == task["id"] and output["app_id"] == "local/greeter"
    assert output["variant"] == "default" and output["folder"] == "greeter"
    assert output["worker_id"] in {w["id"] for w in api.get("/workers").json()["workers"]}
    again = run(api, "local/greeter", {"name": "Bo"})["output"]
    assert again["set_up_by"] == task["id"]  # a warm instance: set up once, by the first task


def test_a_variant_is_chosen_by_the_request_and_gets_its_env(api):
    output = run(api, "local/greeter", {"name": "Ada"}, variant="loud")["output"]
    assert output["greeting"] == "HELLO, ADA!" and output["variant"] == "loud"
    assert run(api, "local/greeter", {"name": "Ada"}, variant="default")["output"]["greeting"] == "Hello, Ada."
    refused = api.post("/run", json={"app": "local/greeter", "input": {"name": "Ada"}, "variant": "quiet"})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {"field": "variant", "message": "app local/greeter@1.0.0 has no variant 'quiet'; its variants: default, loud"}
    ]


def test_a_session_keeps_one_instance_and_the_official_sdk_drives_it(server):
    from inferencesh import Inference

    sdk = Inference(api_key=server.token, base_url=server.url)
    first = sdk.run({"app": "local/greeter", "input": {"name": "Ada"}, "session": "new"})
    assert first["status"] == 10 and first["output"]["set_up_by"] == first["id"]  # a new session starts fresh
    later = sdk.run({"app": "local/greeter", "input": {"name": "Bo"}, "session": first["session_id"]})
    assert later["output"]["set_up_by"] == first["output"]["set_up_by"]  # the session's one instance
    assert later["output"]["greeting"] == "Hello, Bo."
    assert sdk.run({"app": "local/greeter:shout", "input": {"text": "sdk"}})["output"] == {"shouted": "SDK."}


def test_a_function_method_is_a_function(api):
    body = {"app": "local/greeter", "function": "shout", "input": {"text": "hi"}}
    answer = api.post("/apps/run?wait=true", json=body)
    task = answer.json()["data"]
    assert task["status"] == 10 and task["output"] == {"shouted": "HI."}


@pytest.mark.parametrize(
    ("input", "field"),
    [({"name": "Ada", "times": 9}, "input.times"), ({"name": 3}, "input.name"), ({}, "input.name")],
)
def test_input_that_breaks_the_schema_is_refused_naming_the_field(api, input, field):
    refused = api.post("/run", json={"app": "local/greeter", "input": input})
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json()["error"]["details"]] == [field]


def test_an_exception_in_setup_fails_the_task_saying_so(api):
    task = run(api, "local/broken-setup", {"text": "x"})
    assert task["status"] == 10  # Failed, in the spec's numbering
    assert task["error"] == "RuntimeError: the model weights are missing (in setup)"
    assert worker_processes(OFFICIAL_APPS / "broken_setup") == set()  # an instance that failed setup is gone


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("raise", "ValueError: the input asked for an error"),
        ("exit", "the app called sys.exit(3)"),
        ("crash", "ended during the run: killed by SIGSEGV; the last it wrote to stderr:\nabout to crash"),
    ],
)
def test_a_failure_in_run_fails_only_its_task(api, mode, error):
    task = run(api, "local/faulty", {"mode": mode})
    assert task["status"] == 10 and error in task["error"]
    assert run(api, "local/faulty", {"mode": "ok"})["output"]["mode"] == "ok"  # a new process when needed
    assert run(api, "local/greeter", {"name": "Ada"})["status"] == 9


def test_a_hang_past_the_run_timeout_is_killed(tmp_path):
    folder, pid_file = OFFICIAL_APPS / "faulty", tmp_path / "pid"
    server = start_server(data_dir=tmp_path / "data", app_dirs=[folder], app_run_timeout=RUN_TIMEOUT)
    headers = {"Authorization": f"Bearer {server.token}"}
    with server, httpx.Client(base_url=server.url, headers=headers, timeout=120) as api:
        assert run(api, "local/faulty", {"mode": "ok"})["status"] == 9  # warm: the hang's clock is the run's
        task = run(api, "local/faulty", {"mode": "hang", "pid_file": str(pid_file)})
        until_gone({int(pid_file.read_text())}, folder)  # the hung process was killed
        assert run(api, "local/faulty", {"mode": "ok"})["status"] == 9
        # A cancel cannot interrupt the app either: its process is killed too.
        pid_file.unlink()
        started = api.post(
            "/run?wait=false", json={"app": "local/faulty", "input": {"mode": "hang", "pid_file": str(pid_file)}}
        )
        task_id = started.json()["id"]
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)  # until the app has started its run
        assert api.post(f"/tasks/{task_id}/cancel").json()["status"] == 11
        until_gone({int(pid_file.read_text())}, folder)
    assert task["status"] == 10
    assert task["error"] == (
        f"TimeoutError: the task ran longer than local/faulty@1.0.0's run timeout of {RUN_TIMEOUT:g} s and was stopped"
    )


def test_a_file_in_arrives_as_a_local_file_and_a_file_out_is_served(api, server):
    declared = {"filename": "note.txt", "content_type": "text/plain", "size": 5}
    [upload] = api.post("/files", json={"files": [declared]}).json()["data"]
    assert httpx.put(upload["upload_url"], content=b"hello").status_code == 200
    task = run(api, "local/upper-file", {"document": upload["uri"], "note": "!"})
    assert task["status"] == 9, task["error"]
    output = task["output"]
    assert output["characters"] == 5 and output["input_name"] == "note.txt"
    upper = output["upper"]
    assert upper["uri"].startswith(f"{server.url}/files/{task['id']}/") and "path" not in upper
    assert api.get(upper["uri"]).text == "HELLO!"
    assert api.get(upload["uri"]).text == "hello"  # the app read a copy
    outside = api.post("/run", json={"app": "local/upper-file", "input": {"document": "https://example.com/x.txt"}})
    assert outside.status_code == 422 and outside.json()["error"]["details"][0]["field"] == "input.document"


def test_workers_have_ids_and_a_task_runs_only_on_those_it_names(api):
    workers = api.get("/workers").json()
    assert [w["id"] for w in workers["workers"]] == ["worker-1", "worker-2", "worker-3"]
    assert workers["infra"] == "private"
    for worker in ("worker-3", "worker-2"):
        output = run(api, "local/greeter", {"name": "Ada"}, workers=[worker], infra="private")["output"]
        assert output["worker_id"] == worker
    refused = api.post("/run", json={"app": "local/greeter", "input": {"name": "A"}, "workers": ["worker-3", "gpu-7"]})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [{"field": "workers[1]", "message": "no worker 'gpu-7'"}]


def test_cloud_infra_is_refused_saying_there_is_only_private(api):
    refused = api.post("/apps/run", json={"app": "local/greeter", "input": {"name": "A"}, "infra": "cloud"})
    assert refused.status_code == 422
    problem = refused.json()
    assert "only private infrastructure" in problem["detail"] and problem["errors"][0]["field"] == "infra"


def test_a_folder_that_is_not_an_app_is_refused_at_load(tmp_path):
    with pytest.raises(ValueError, match="no inference.py"):
        load_app_dir(tmp_path)
    (tmp_path / "inference.py").write_text("import no_such_module_here\n")
    (tmp_path / "inf.yml").write_text("name: broken\n")
    with pytest.raises(ValueError, match="cannot load the app: ModuleNotFoundError: No module named 'no_such_module"):
        load_app_dir(tmp_path)
    (tmp_path / "inf.yml").write_text("name: Not A Name\n")
    with pytest.raises(ValueError, match="name must be lower-case"):
        load_app_dir(tmp_path)


def test_serve_offers_the_apps_of_app_options(tmp_path):
    stdout = tmp_path / "stdout"
    command = [str(CONSOLE_SCRIPT), "serve", "--port", "0", "--data-dir", str(tmp_path / "data"),
               "--app", str(OFFICIAL_APPS / "greeter"), "--app-namespace", "me"]  # fmt: skip
    env = {**os.environ, "INFERENCE_NB_TOKEN": "t0ken-for-this-test"}
    with open(stdout, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        url = wait_for_printed_url(stdout, process)
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer t0ken-for-this-test"}, timeout=60) as api:
            assert "me/greeter@1.0.0" in {app["id"] for app in api.get("/apps").json()["apps"]}
            assert run(api, "me/greeter", {"name": "Cy"})["output"]["greeting"] == "Hello, Cy."
        children = worker_processes(OFFICIAL_APPS / "greeter", parent=process.pid)
        assert len(children) == 1
    finally:
        process.terminate()
        process.wait(10)
    until_gone(children, OFFICIAL_APPS / "greeter")  # unloaded when the server stopped


def test_a_hung_worker_ends_when_its_server_is_killed(tmp_path):
    stdout, pid_file, folder = tmp_path / "stdout", tmp_path / "pid", OFFICIAL_APPS / "faulty"
    command = [str(CONSOLE_SCRIPT), "serve", "--port", "0", "--data-dir", str(tmp_path / "data"), "--app", str(folder)]
    env = {**os.environ, "INFERENCE_NB_TOKEN": "t0ken-for-this-test"}
    with open(stdout, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        url = wait_for_printed_url(stdout, process)
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer t0ken-for-this-test"}, timeout=60) as api:
            body = {"app": "local/faulty", "input": {"mode": "hang", "pid_file": str(pid_file)}}
            assert api.post("/run?wait=false", json=body).status_code == 200
            deadline = time.monotonic() + 60
            while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
                time.sleep(0.05)  # until the app hangs in its run
    finally:
        process.kill()  # no shutdown, no unload: the worker must notice on its own
        process.wait(10)
    until_gone({int(pid_file.read_text())}, folder)
