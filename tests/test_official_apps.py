"""Apps written for inference.sh (tests/server/official_apps/) through the kernel's surfaces:
`client.run`, `client.map` and the widget's App form (its submit message, as the front end sends it)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

pytest.importorskip("inferencesh", reason="apps in the service's format import the official package")

from inference_nb.api import Client, hosted_tasks  # noqa: E402
from inference_nb.client.errors import RunFailed  # noqa: E402
from inference_nb.server import EmbeddedServer, start_server  # noqa: E402
from inference_nb.widget import InferenceWidget  # noqa: E402

from .server.test_official_apps import APP_DIRS  # noqa: E402
from .widget.test_widget import Browser, terminal  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[EmbeddedServer]:
    data_dir = tmp_path_factory.mktemp("official-kernel") / "data"
    with start_server(data_dir=data_dir, app_dirs=APP_DIRS, app_run_timeout=120) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: EmbeddedServer) -> Client:
    return Client(base_url=server.url, key=server.token, wait_timeout=180)


@pytest.fixture
def browser(client, monkeypatch) -> Browser:
    return Browser(InferenceWidget(client), monkeypatch)


def fetch(server: EmbeddedServer, uri: str) -> str:
    return httpx.get(uri, headers={"Authorization": f"Bearer {server.token}"}).text


# client.run


def test_run_succeeds_with_the_default_variant_or_the_one_named(client):
    run = client.run("local/greeter", {"name": "Ada", "polite": True}).wait()
    assert run.output["greeting"] == "Hello, Ada. please" and run.output["variant"] == "default"
    loud = client.run("local/greeter", {"name": "Ada"}, variant="loud").wait()
    assert loud.output["greeting"] == "HELLO, ADA!" and loud.output["task_id"] == loud.id


def test_run_calls_a_function_method(server):
    hosted = Client(tasks=hosted_tasks(server.token, base_url=server.url), wait_timeout=180)
    assert hosted.run("local/greeter", {"text": "psst"}, function="shout").wait().output == {"shouted": "PSST."}


def test_run_raises_the_apps_failure(client):
    with pytest.raises(RunFailed, match=r"RuntimeError: the model weights are missing \(in setup\)"):
        client.run("local/broken-setup", {"text": "x"}).wait()
    with pytest.raises(RunFailed, match="ValueError: the input asked for an error"):
        client.run("local/faulty", {"mode": "raise"}).wait()
    with pytest.raises(RunFailed, match="killed by SIGSEGV"):
        client.run("local/faulty", {"mode": "crash"}).wait()
    assert client.run("local/faulty", {"mode": "ok"}).wait().output["mode"] == "ok"


def test_run_sends_a_local_file_and_gets_one_back(client, server, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("quiet words")
    run = client.run("local/upper-file", {"document": note}).wait()
    assert run.output["input_name"] == "note.txt" and run.output["characters"] == 11
    assert fetch(server, run.output["upper"]["uri"]) == "QUIET WORDS"


def test_input_that_breaks_the_schema_is_refused_before_sending(client):
    with pytest.raises(Exception, match="input.times"):
        client.run("local/greeter", {"name": "Ada", "times": 50})


# client.map


def test_map_runs_a_row_per_input_and_keeps_failures_to_their_rows(client, server, tmp_path):
    greetings = client.map("local/greeter", [{"name": "Ada"}, {"name": "Bo", "times": 2}], progress=False)
    assert greetings["greeting"].tolist() == ["Hello, Ada.", "Hello, Bo. Hello, Bo."]
    loud = client.map("local/greeter", [{"name": "Ada"}], variant="loud", progress=False)
    assert loud["greeting"].tolist() == ["HELLO, ADA!"] and loud["variant"].tolist() == ["loud"]
    hosted = Client(tasks=hosted_tasks(server.token, base_url=server.url), wait_timeout=180)
    shouts = hosted.map("local/greeter", [{"text": "a"}, {"text": "b"}], function="shout", progress=False)
    assert shouts["shouted"].tolist() == ["A.", "B."]
    modes = client.map("local/faulty", [{"mode": "ok"}, {"mode": "crash"}, {"mode": "raise"}], progress=False)
    assert modes["status"].tolist() == ["succeeded", "failed", "failed"]
    assert "SIGSEGV" in modes.loc[1, "error"] and "ValueError" in modes.loc[2, "error"]
    setups = client.map("local/broken-setup", [{"text": "a"}], progress=False)
    assert setups["status"].tolist() == ["failed"] and "(in setup)" in setups.loc[0, "error"]
    uris = []
    for text in ("one", "two"):
        (tmp_path / f"{text}.txt").write_text(text)
        uris.append(client.upload(tmp_path / f"{text}.txt"))
    files = client.map("local/upper-file", [{"document": uri} for uri in uris], progress=False)
    assert [fetch(server, uri) for uri in files["upper.uri"]] == ["ONE", "TWO"]


# the widget's App form


def submit(browser: Browser, app: str, input: dict, **extra) -> dict:
    answer = browser.send(type="submit", mode="app", app=app, input=input, setup_text="", session="none", **extra)
    assert answer["type"] == "accepted", answer
    return browser.view(answer["run_id"], terminal)


def test_the_app_form_lists_the_apps_with_their_schemas(browser):
    apps = {app["id"]: app for app in browser.widget.apps}
    assert list(apps["local/greeter@1.0.0"]["input_schema"]["properties"]) == ["name", "times", "polite"]
    assert apps["local/upper-file@1.0.0"]["input_schema"]["properties"]["document"]["format"] == "file"


def test_the_app_form_runs_them(browser, server):
    view = submit(browser, "local/greeter", {"name": "Ada"})
    assert view["phase"] == "succeeded" and browser.widget.run.output["greeting"] == "Hello, Ada."
    failed = submit(browser, "local/broken-setup", {"text": "x"})
    assert failed["phase"] == "failed" and "the model weights are missing" in failed["error"]
    crashed = submit(browser, "local/faulty", {"mode": "crash"})
    assert crashed["phase"] == "failed" and "killed by SIGSEGV" in crashed["error"]
    raised = submit(browser, "local/faulty", {"mode": "raise"})
    assert raised["phase"] == "failed" and "ValueError: the input asked for an error" in raised["error"]
    data = b"from the file picker"
    picked = {"document": {"buffer": 0, "filename": "picked.txt", "content_type": "text/plain", "size": len(data)}}
    answer = browser.send(buffers=[memoryview(data)], type="submit", mode="app", app="local/upper-file", input={},
                          setup_text="", session="none", files=picked)  # fmt: skip
    assert answer["type"] == "accepted", answer
    assert browser.view(answer["run_id"], terminal)["phase"] == "succeeded"
    assert fetch(server, browser.widget.run.output["upper"]["uri"]) == "FROM THE FILE PICKER"
