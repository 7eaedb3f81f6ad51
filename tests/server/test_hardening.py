"""Issue 13: no input can stop the embedded server's work. A real server on loopback throughout."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from pydantic import BaseModel
from starlette.testclient import TestClient

from inference_nb.server import App, AppRegistry, EmbeddedServer, ServerConfig, create_app, start_server
from inference_nb.server.apps.builtin.sql import SqlApp
from inference_nb.server.webhooks import DEFAULT_MAX_PER_RECEIVER
from inference_nb.wire.statuses import SpecStatus

from .helpers import TEST_APPS, GateApp, gate, wait_for_status, wait_until
from .receiver import ServeProcess, SlowReceiver, WebhookReceiver, free_port
from .test_webhooks import deliveries, run_with_webhook, wait_for_delivery


@pytest.fixture
def receiver():
    with WebhookReceiver() as hook:
        yield hook


# --- webhooks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/", "http://127.0.0.1:abc/", "http://:80/"])
def test_a_webhook_url_the_sender_cannot_parse_is_422_naming_the_field(api, url):
    response = api.post("/run", json={"app": "test/echo", "input": {"text": "x"}, "webhook": url})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert [d["field"] for d in error["details"]] == ["webhook"]
    assert "webhook" in error["message"]


class ExplodingTransport(httpx.AsyncBaseTransport):
    """The network, except that a POST to a path ending in /explode raises what no one expects."""

    def __init__(self) -> None:
        self._network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/explode"):
            raise RuntimeError("something no one expected")
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


def test_a_delivery_that_raises_anything_fails_alone_and_later_ones_still_arrive(tmp_path, receiver, caplog):
    caplog.set_level("INFO", logger="inference_nb.server")
    with start_server(
        data_dir=tmp_path / "data",
        apps=TEST_APPS,
        webhook_backoff=0.05,
        webhook_max_attempts=3,
        webhook_transport=ExplodingTransport(),
    ) as srv:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api:
            doomed = run_with_webhook(api, receiver.url.replace("/hook", "/explode"), "test/echo@1.0.0", {"text": "x"})
            failed = wait_for_delivery(srv.data_dir, doomed["id"], lambda d: d["state"] == "failed")
            assert failed["attempts"] == 3  # webhook_max_attempts: retried as documented
            assert "RuntimeError: something no one expected" in failed["last_error"]
            assert "something no one expected" in caplog.text

            later = [run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": f"after {i}"}) for i in range(3)]
            arrived = {json.loads(r.body)["id"] for r in receiver.wait_for(3)}
            assert arrived == {task["id"] for task in later}


def test_dripping_and_silent_receivers_delay_no_one_elses_delivery(tmp_path, receiver):
    """More slow deliveries than the sender makes at once to one receiver, to two receivers; then one to a
    good receiver arrives within a second of its task's end, while they are all still in flight."""
    with (
        SlowReceiver() as drip,
        SlowReceiver(silent=True) as dead,
        start_server(data_dir=tmp_path / "data", apps=TEST_APPS, webhook_timeout=30) as srv,
        httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api,
    ):
        for slow in (drip, dead):
            for i in range(2 * DEFAULT_MAX_PER_RECEIVER):
                run_with_webhook(api, slow.url, "test/echo@1.0.0", {"text": f"slow {i}"})
            slow.wait_for(DEFAULT_MAX_PER_RECEIVER)  # as many as it may hold are in flight
        for i in range(3):
            submitted = time.monotonic()
            task = run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": f"good {i}"})
            [request] = receiver.wait_for(i + 1)[i:]
            assert json.loads(request.body)["id"] == task["id"]
            assert request.at - submitted < 1.0, f"the good delivery took {request.at - submitted:.2f} s"
        assert drip.arrived == dead.arrived == DEFAULT_MAX_PER_RECEIVER  # the slow ones are still held


def test_an_attempt_that_outlives_its_deadline_fails_saying_so(tmp_path):
    with (
        SlowReceiver() as drip,
        start_server(data_dir=tmp_path / "data", apps=TEST_APPS, webhook_timeout=0.5, webhook_max_attempts=1) as srv,
        httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api,
    ):
        task = run_with_webhook(api, drip.url, "test/echo@1.0.0", {"text": "drip"})
        # The drip sends a byte every 0.5 s, so no single read waits long: only an overall deadline ends it.
        failed = wait_for_delivery(srv.data_dir, task["id"], lambda d: d["state"] == "failed")
    assert "no complete answer within 0.5 s" in failed["last_error"]


def test_a_stored_unsendable_url_fails_its_delivery_and_the_sender_goes_on(tmp_path, receiver):
    """A URL accepted before this check existed is still in the store: it must not stop the sender."""
    data = tmp_path / "data"
    with start_server(data_dir=data, apps=TEST_APPS, webhook_backoff=0.01, webhook_max_attempts=2) as srv:
        app = srv._uvicorn.config.app
        for url in ("http://127.0.0.1:99999/", "http://[::1", "http://127.0.0.1:abc/"):
            app.state.engine._webhooks.enqueue("tsk_old", url, "{}")
        headers = {"Authorization": f"Bearer {srv.token}"}
        with httpx.Client(base_url=srv.url, headers=headers, timeout=30) as api:
            task = run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": "still delivered"})
        assert json.loads(receiver.wait_for(1)[0].body)["id"] == task["id"]
        wait_until(
            lambda: all(d["state"] == "failed" for d in deliveries(data, "tsk_old")),
            "the unsendable deliveries never ended failed",
        )


def test_webhook_hosts_restricts_where_deliveries_go(tmp_path, receiver):
    with start_server(data_dir=tmp_path / "data", apps=TEST_APPS, webhook_hosts=["loopback"]) as srv:
        app = srv._uvicorn.config.app
        app.state.engine._webhooks.enqueue("tsk_old", "http://elsewhere.example/hook", "{}")  # stored earlier
        headers = {"Authorization": f"Bearer {srv.token}"}
        with httpx.Client(base_url=srv.url, headers=headers, timeout=30) as api:
            refused = api.post(
                "/run", json={"app": "test/echo", "input": {"text": "x"}, "webhook": "https://your-server.com/webhook"}
            )
            assert refused.status_code == 422
            assert [d["field"] for d in refused.json()["error"]["details"]] == ["webhook"]
            assert "your-server.com" in refused.json()["error"]["message"]
            task = run_with_webhook(api, receiver.url, "test/echo@1.0.0", {"text": "to loopback"})
        assert json.loads(receiver.wait_for(1)[0].body)["id"] == task["id"]
        old = wait_for_delivery(srv.data_dir, "tsk_old", lambda d: d["state"] != "pending")
        assert old["state"] == "failed" and old["attempts"] == 1 and "elsewhere.example" in old["last_error"]


# --- paths ------------------------------------------------------------------------------------


def test_an_escaped_slash_in_an_id_reaches_no_other_route(api):
    task = api.post("/run", params={"wait": "false"}, json={"app": "test/gate", "input": {"gate": "escaped"}}).json()
    try:
        for method, path in (("POST", f"/tasks/{task['id']}%2Fcancel"), ("GET", f"/tasks/{task['id']}%2fstatus")):
            answer = api.request(method, path)
            assert answer.status_code == 404, (path, answer.text)
            assert "no id on this server holds a '/'" in answer.json()["error"]["message"]
        assert api.get(f"/tasks/{task['id']}").json()["status"] != SpecStatus.CANCELLED
    finally:
        gate("escaped").set()


# --- bounded app work -------------------------------------------------------------------------

ENDLESS = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT count(*) FROM r"


class SlowApp(GateApp):
    """Waits for its gate like test/gate, but may take only a moment."""

    name = "test/slow"
    run_timeout = 0.3


class AsyncSlowApp(App):
    name = "test/async-slow"
    run_timeout = 0.3

    class Input(BaseModel):
        pass

    class Output(BaseModel):
        pass

    async def run(self, input: Input) -> Output:
        await asyncio.sleep(60)
        return self.Output()


@pytest.fixture
def bounded(tmp_path) -> Iterator[httpx.Client]:
    with start_server(data_dir=tmp_path / "data", apps=[*TEST_APPS, SlowApp, AsyncSlowApp], max_workers=2) as srv:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=30) as api:
            yield api


def test_an_endless_query_fails_within_its_deadline_while_another_task_completes(bounded):
    started = time.monotonic()
    endless = bounded.post(
        "/run", json={"app": "demo/sql", "input": {"query": ENDLESS}, "setup": {"timeout_seconds": 1}}
    ).json()
    other = bounded.post("/run", params={"wait": "true"}, json={"app": "test/echo", "input": {"text": "meanwhile"}})
    assert other.json()["status"] == SpecStatus.COMPLETED
    failed = wait_for_status(bounded, endless["id"], "Failed", timeout=10)
    assert time.monotonic() - started < 5  # the 1 s deadline, not the query, ended it
    assert "ran past its time limit" in failed["error"] and "timeout_seconds" in failed["error"]


def test_one_long_sql_function_is_stopped_at_the_deadline_too(bounded):
    """A single function call takes no VM steps, so no progress handler sees the deadline pass."""
    started = time.monotonic()
    long_call = "SELECT printf('%.*c', 1000000000, 'x') AS x"  # about 10 s of sqlite's time, in one call
    task = bounded.post(
        "/run",
        params={"wait": "true"},
        json={"app": "demo/sql", "input": {"query": long_call}, "setup": {"timeout_seconds": 1}},
    ).json()
    assert task["status"] == SpecStatus.FAILED, task
    assert time.monotonic() - started < 5  # the 1 s deadline ended it, not the call
    assert "ran past its time limit" in task["error"] and "timeout_seconds" in task["error"]


def test_the_sql_deadline_defaults_to_a_few_seconds_and_is_bounded():
    assert SqlApp.Setup().timeout_seconds == 5
    with pytest.raises(ValueError):
        SqlApp.Setup(timeout_seconds=10_000)


def test_a_result_larger_than_the_cap_fails_the_task_saying_so(bounded):
    one_value = "SELECT hex(randomblob(6000000)) AS big"  # 12 MB of hex
    many_rows = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r LIMIT 20) SELECT hex(randomblob(300000)) FROM r"
    )
    for query in (one_value, many_rows):
        task = bounded.post("/run", params={"wait": "true"}, json={"app": "demo/sql", "input": {"query": query}}).json()
        assert task["status"] == SpecStatus.FAILED, task
        assert "larger than" in task["error"] and "10 MB" in task["error"]


@pytest.mark.parametrize("app", ["test/slow", "test/async-slow"])
def test_a_task_past_its_apps_run_timeout_ends_failed_and_says_so(bounded, app):
    input = {"gate": f"never-{app}"} if app == "test/slow" else {}
    task = bounded.post("/run", params={"wait": "true"}, json={"app": app, "input": input}).json()
    assert task["status"] == SpecStatus.FAILED, task
    assert "run timeout of 0.3 s" in task["error"]


def test_a_run_timeout_that_is_not_a_positive_number_is_refused_at_registration():
    class Bad(SlowApp):
        run_timeout = -1

    with pytest.raises(TypeError, match="run_timeout"):
        AppRegistry([Bad])


# --- headers ----------------------------------------------------------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def declare(api: httpx.Client, filename: str) -> dict:
    answer = api.post("/files", json={"files": [{"filename": filename, "size": len(SVG)}]})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"][0]


def test_nothing_is_served_without_nosniff(server, api):
    task = api.post("/run", params={"wait": "true"}, json={"app": "test/files", "input": {"text": "t"}}).json()
    declared = declare(api, "x.svg")
    responses = [
        api.get("/apps"),
        api.get("/tasks"),
        api.get(f"/tasks/{task['id']}"),
        api.get(f"/tasks/{task['id']}/stream"),
        api.get(task["output"]["main"]["uri"]),
        httpx.put(declared["upload_url"], content=SVG),
        api.get(declared["uri"]),
        api.get("/clusters"),
        api.get("/nowhere"),  # 404
        api.delete("/apps"),  # 405
        api.post("/run", json={"app": "test/echo", "input": {}}),  # 422
        httpx.get(f"{server.url}/apps"),  # 401, no token
        api.post("/files", content=b"{", headers={"Content-Type": "application/json"}),  # 400
    ]
    statuses = {r.status_code for r in responses}
    assert {200, 401, 404, 405, 422, 400} <= statuses
    for response in responses:
        assert response.headers.get("x-content-type-options") == "nosniff", (response.request.url, response.headers)


def test_the_400_for_a_malformed_request_carries_nosniff_too(server):
    with connect(server) as sock:  # uvicorn answers this one itself, before the app
        sock.sendall(b"NOT AN HTTP REQUEST\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 400")
    assert b"x-content-type-options: nosniff" in head


def test_a_served_svg_or_html_file_may_not_run(server, api):
    for filename, content_type in (("x.svg", "image/svg+xml"), ("x.html", "text/html")):
        declared = declare(api, filename)
        assert httpx.put(declared["upload_url"], content=SVG).status_code == 200
        served = api.get(declared["uri"])
        assert served.status_code == 200 and served.content == SVG
        assert served.headers["content-type"].startswith(content_type)
        policy = served.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "sandbox" in policy


def test_a_500_carries_the_headers_too(tmp_path):
    app = create_app(ServerConfig(data_dir=tmp_path / "data", token="t" * 20), AppRegistry(TEST_APPS))

    async def boom(request):
        raise RuntimeError("a bug")

    app.add_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": "Bearer " + "t" * 20}) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["x-content-type-options"] == "nosniff"


# --- Host allow-list --------------------------------------------------------------------------


def test_a_wrong_host_is_refused_and_a_right_one_works(server, api):
    port = httpx.URL(server.url).port
    refused = api.get("/apps", headers={"Host": f"rebind.evil.example:{port}"})
    assert refused.status_code == 421
    assert refused.json()["error"]["code"] == "misdirected_request"
    assert "--allow-host" in refused.json()["error"]["message"]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}"):
        assert api.get("/apps", headers={"Host": host}).status_code == 200, host


def test_built_urls_come_from_the_server_never_the_requests_host(server, api):
    port = httpx.URL(server.url).port
    local = {"Host": f"localhost:{port}"}
    task = api.post("/run", params={"wait": "true"}, json={"app": "test/files", "input": {"text": "t"}}, headers=local)
    assert task.json()["output"]["main"]["uri"].startswith(f"{server.url}/files/")
    declared = api.post("/files", json={"files": [{"filename": "a.txt", "size": 1}]}, headers=local).json()["data"][0]
    assert declared["uri"].startswith(f"{server.url}/") and declared["upload_url"].startswith(f"{server.url}/")
    redirect = api.get("/apps/", headers=local)  # Starlette's trailing-slash redirect
    assert redirect.status_code == 307 and redirect.headers["location"] == f"{server.url}/apps"


def test_allow_hosts_widens_the_list(tmp_path):
    with start_server(data_dir=tmp_path / "data", allow_hosts=["notebook.example"]) as srv:
        headers = {"Authorization": f"Bearer {srv.token}"}
        with httpx.Client(base_url=srv.url, headers=headers, timeout=30) as api:
            assert api.get("/apps", headers={"Host": "notebook.example:1234"}).status_code == 200
            assert api.get("/apps", headers={"Host": "other.example"}).status_code == 421


def test_an_allow_host_that_is_a_url_is_refused(tmp_path):
    with pytest.raises(ValueError, match="allow_hosts"):
        ServerConfig(data_dir=tmp_path, token="t" * 20, allow_hosts=("http://x.example/",))


def test_the_cli_takes_allow_host_repeated_and_a_public_url():
    from inference_nb.cli import _parser

    args = _parser().parse_args(["serve", "--allow-host", "a.example", "--allow-host", "b.example",
                                 "--public-url", "https://nb.example"])  # fmt: skip
    assert args.allow_host == ["a.example", "b.example"] and args.public_url == "https://nb.example"


def test_a_public_url_starts_every_built_url_and_its_host_is_answered(tmp_path):
    with start_server(data_dir=tmp_path / "data", apps=TEST_APPS, public_url="https://nb.example") as srv:
        assert srv.url == "https://nb.example"
        headers = {"Authorization": f"Bearer {srv.token}", "Host": "nb.example"}
        with httpx.Client(base_url=srv.listen_url, headers=headers, timeout=30) as api:
            task = api.post("/run", params={"wait": "true"}, json={"app": "test/files", "input": {"text": "t"}})
            assert task.status_code == 200, task.text
            assert task.json()["output"]["main"]["uri"].startswith("https://nb.example/files/")
            assert api.get("/apps", headers={"Host": "other.example"}).status_code == 421


# --- connections ------------------------------------------------------------------------------


@pytest.fixture
def strict(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "data", request_timeout=0.5, keep_alive_timeout=0.5) as srv:
        yield srv


def connect(server: EmbeddedServer) -> socket.socket:
    url = httpx.URL(server.url)
    sock = socket.create_connection((url.host, url.port), timeout=10)
    return sock


def closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closed `sock` (reading and dropping what it sends first)."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        raise AssertionError(f"the server still held the connection after {seconds} s") from None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_a_client_that_never_finishes_its_headers_is_cut_off(strict):
    with connect(strict) as silent, connect(strict) as slow:
        slow.sendall(b"GET /apps HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert closed_within(slow, 5) < 5
        assert closed_within(silent, 5) < 5  # one that sends nothing at all, too


def test_a_trickle_of_header_bytes_does_not_keep_it_open(strict):
    with connect(strict) as sock:
        started = time.monotonic()
        sock.settimeout(0.1)
        for byte in b"GET /apps HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 100:
            try:
                sock.send(bytes([byte]))
                if sock.recv(1) == b"":
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        else:
            raise AssertionError("the server read a header one byte at a time for as long as it was sent")
        assert time.monotonic() - started < 5


def test_a_body_that_stops_is_cut_off_and_the_server_goes_on(strict):
    with connect(strict) as sock:
        sock.sendall(
            b"POST /run HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + strict.token.encode() + b"\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"app": '
        )
        assert closed_within(sock, 5) < 5
    with httpx.Client(base_url=strict.url, headers={"Authorization": f"Bearer {strict.token}"}) as api:
        assert api.get("/apps").status_code == 200


TRICKLERS = 2000


def test_bodies_that_trickle_in_are_cut_off_while_the_server_answers_others(tmp_path):
    """2,000 connections each sending a byte a second: each pause is short, so only the body's minimum rate
    (10 kB/s after 3 s of grace) ends them; meanwhile a normal request is answered. The server runs in its
    own process, as `inference-nb serve`, so the test's own sockets do not compete with it for the GIL."""
    serve = ServeProcess(
        tmp_path / "data", port=free_port(), token="t" * 32, log_dir=tmp_path, options=["--request-timeout", "3"]
    ).start()
    open_socks = set()
    try:
        url = httpx.URL(serve.url)
        head = (
            b"POST /run HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + serve.token.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        )
        for _ in range(TRICKLERS):
            sock = socket.create_connection((url.host, url.port), timeout=30)
            sock.sendall(head)
            sock.setblocking(False)
            open_socks.add(sock)
        with httpx.Client(base_url=serve.url, headers={"Authorization": f"Bearer {serve.token}"}, timeout=60) as api:
            assert api.get("/apps").status_code == 200
        answered = time.monotonic()
        still_open_when_answered = None
        while open_socks and time.monotonic() - answered < 60:
            for sock in list(open_socks):
                try:
                    sock.send(b" ")
                    if sock.recv(1) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    continue
                except OSError:
                    open_socks.discard(sock)
                    sock.close()
            if still_open_when_answered is None:
                still_open_when_answered = len(open_socks)
            time.sleep(1)  # the trickle's pace
        assert still_open_when_answered, "the tricklers were all closed before the normal request was answered"
        assert not open_socks, f"{len(open_socks)} trickling connections were still open a minute later"
    finally:
        for sock in open_socks:
            sock.close()
        serve.stop()
    assert "Traceback" not in serve.output()


def test_connections_past_the_limit_are_refused_at_once_with_a_503(tmp_path):
    with start_server(data_dir=tmp_path / "data", max_connections=20) as srv:
        url = httpx.URL(srv.url)
        held = [socket.create_connection((url.host, url.port), timeout=10) for _ in range(20)]
        try:
            with socket.create_connection((url.host, url.port), timeout=10) as extra:
                answer = b""
                while chunk := extra.recv(65536):
                    answer += chunk
            assert answer.startswith(b"HTTP/1.1 503") and b"too many connections" in answer
            assert b"x-content-type-options: nosniff" in answer
        finally:
            for sock in held:
                sock.close()
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=10) as api:
            wait_until(lambda: api.get("/apps").status_code == 200, "the server never took connections again")


def test_an_idle_kept_alive_connection_is_closed(strict):
    with connect(strict) as sock:
        auth = b"Authorization: Bearer " + strict.token.encode()
        sock.sendall(b"GET /apps HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + b"\r\n\r\n")
        assert closed_within(sock, 5) < 5


# --- store ------------------------------------------------------------------------------------


def test_the_server_imports_without_posix_only_modules():
    """What Windows lacks (fcntl and co.) is not needed to import the server or the CLI."""
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "for name in ('fcntl', 'termios', 'pwd', 'grp', 'resource'):\n"
        "    sys.modules[name] = None  # an import of it now fails, as on Windows\n"
        "import inference_nb.server, inference_nb.server.store, inference_nb.server.serving, inference_nb.cli\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_data_dir_lock_is_released_on_stop(tmp_path):
    for _ in range(2):  # the second start would be DataDirInUse if the first kept its lock
        with start_server(data_dir=tmp_path / "data") as srv:
            assert srv.running
