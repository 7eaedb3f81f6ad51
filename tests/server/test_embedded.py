"""`start_server`: ports, tokens, stopping, a running event loop, and auth on every route."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from inference_nb.server import start_server
from inference_nb.server.tasks.routes import ROUTES
from inference_nb.server.tasks.uploads import is_signed_upload

SAMPLE_PATH_PARAMS = {
    "task_id": "task_missing",
    "session_id": "sess_missing",
    "filename": "picture.png",
    "file_id": "file_missing",
    "namespace": "demo",
    "name": "counter",
}


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def authed(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_port_zero_gives_a_free_port_that_serves(tmp_path):
    with start_server(port=0, data_dir=tmp_path / "data") as server, authed(server.url, server.token) as api:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        assert port_of(server.url) > 0
        assert server.running
        assert api.get("/apps").status_code == 200


def test_two_servers_run_at_once_on_their_own_ports_data_dirs_and_tokens(tmp_path):
    with start_server(data_dir=tmp_path / "one") as one, start_server(data_dir=tmp_path / "two") as two:
        assert port_of(one.url) != port_of(two.url)
        assert one.token != two.token
        with authed(one.url, one.token) as api_one, authed(two.url, two.token) as api_two:
            task = api_one.post("/run", json={"app": "demo/counter", "input": {}}).json()
            assert api_one.get(f"/tasks/{task['id']}").status_code == 200
            assert api_two.get(f"/tasks/{task['id']}").status_code == 404
        assert httpx.get(f"{two.url}/apps", headers={"Authorization": f"Bearer {one.token}"}).status_code == 401


def test_token_is_long_new_at_each_start_and_kept_out_of_repr_and_str(tmp_path):
    tokens = []
    for _ in range(2):
        with start_server(data_dir=tmp_path / "data") as server:
            tokens.append(server.token)
            assert server.token not in repr(server)
            assert server.token not in str(server)
            assert server.url in repr(server)
    assert tokens[0] != tokens[1]
    assert all(len(token) >= 32 for token in tokens)


def test_stopped_server_refuses_connections(tmp_path):
    server = start_server(data_dir=tmp_path / "data")
    server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/apps", headers={"Authorization": f"Bearer {server.token}"}, timeout=5)


def test_start_server_inside_a_running_event_loop_leaves_the_loop_running(tmp_path):
    async def cell() -> tuple[int, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        ticking = asyncio.create_task(ticker())
        with start_server(data_dir=tmp_path / "data") as server:
            headers = {"Authorization": f"Bearer {server.token}"}
            async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as api:
                before = ticks
                response = await api.post("/run", json={"app": "demo/sleep", "input": {"seconds": 0.2}})
        ticking.cancel()
        assert response.json()["status"] == 9
        return before, ticks

    before, after = asyncio.run(cell())
    assert after > before  # the loop ran other work while the server answered


def test_answers_on_a_kept_alive_connection_are_not_held_back(server, api):
    api.get("/apps")  # opens the connection the requests below reuse
    latencies = []
    for _ in range(10):
        started = time.perf_counter()
        api.get("/tasks/task_missing")
        latencies.append(time.perf_counter() - started)
    assert min(latencies) < 0.02


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (method, route.path.format(**SAMPLE_PATH_PARAMS))
        for route in ROUTES
        for method in sorted(route.methods - {"HEAD"})
        if not is_signed_upload(method, route.path)  # signed instead: tests/compat/test_files.py
    ],
)
def test_every_route_requires_the_token(server, method, path):
    def request(headers: dict[str, str]) -> httpx.Response:
        with httpx.stream(method, f"{server.url}{path}", headers=headers, timeout=30) as response:
            if "ndjson" not in response.headers.get("content-type", ""):  # an event stream never ends
                response.read()
            return response

    missing = request({})
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    if missing.headers["Inference-Dialect"] == "hosted":
        assert missing.json()["type"].endswith("/errors/unauthorized")
    else:
        assert missing.json()["error"]["code"] == "unauthorized"
    assert request({"Authorization": "Bearer wrong-token"}).status_code == 401
    assert request({"Authorization": f"Bearer {server.token[:-1]}"}).status_code == 401
    assert request({"authorization": server.token}).status_code != 401
    assert request({"Authorization": f"Bearer {server.token}"}).status_code != 401
