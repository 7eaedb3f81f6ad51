"""Each client mistake gets a 4xx with a clear, specific message; never a 500."""

from __future__ import annotations

import pytest

from inference_nb.server import start_server

GOOD = {"app": "test/echo", "input": {"text": "x"}}


@pytest.fixture
def api(in_process):
    """Each request here is answered by validation alone: in-process (tests/server/conftest.py)."""
    return in_process


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b'{"app": "test/echo", "input": {"x": NaN}}', 400, "NaN"),
        (b'{"app": "test/echo", "input": {"text": "\\ud800"}}', 400, "surrogate"),
        (b"\xff\xfe", 400, "not valid"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"input": {}}', 422, "app: Field required"),
        (b'{"app": "test/echo"}', 422, "input: Field required"),
        (b'{"app": "Not An Id!", "input": {}}', 422, "app: "),
        (b'{"app": "test/echo", "input": {}, "color": "red"}', 422, "color: Extra inputs"),
        (b'{"app": "test/echo", "input": "text"}', 422, "input: "),
    ],
    ids=[
        "malformed",
        "empty",
        "nan",
        "surrogate",
        "bytes",
        "array",
        "no-app",
        "no-input",
        "bad-app-id",
        "unknown-field",
        "input-not-object",
    ],
)
def test_malformed_requests(api, body, status, expected):
    error = _error(api.post("/run", content=body, headers={"Content-Type": "application/json"}), status)
    assert expected in error["message"]


def test_unknown_app_lists_what_exists(api):
    error = _error(api.post("/run", json={"app": "demo/nope", "input": {}}), 404)
    assert "demo/nope" in error["message"] and "demo/picture" in error["message"]


def test_unknown_version(api):
    error = _error(api.post("/run", json={"app": "test/echo@9.9.9", "input": {"text": "x"}}), 404)
    assert "9.9.9" in error["message"] and "1.0.0" in error["message"]


def test_input_that_fails_the_apps_schema_names_the_field_and_why(api):
    response = api.post("/run", json={"app": "demo/picture", "input": {"prompt": "p", "width": 5000}})
    error = _error(response, 422)
    assert error["details"][0]["field"] == "input.width"
    assert "input.width" in error["message"] and "1024" in error["message"]
    assert "demo/picture@1.0.0" in error["message"]


def test_missing_required_input_field(api):
    error = _error(api.post("/run", json={"app": "demo/picture", "input": {}}), 422)
    assert "input.prompt: Field required" in error["message"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"session": "new", "session_timeout": 0}, "between 1 and 3600"),
        ({"session": "new", "session_timeout": 3601}, "between 1 and 3600"),
        ({"session_timeout": 60}, 'only allowed with session: "new"'),
        ({"webhook": "ftp://example.invalid/hook"}, "webhook: "),
        ({"webhook": "not a url"}, "http"),
        ({"infra": "moon"}, "infra: "),
    ],
)
def test_bad_options(api, extra, expected):
    error = _error(api.post("/run", json={**GOOD, **extra}), 422)
    assert expected in error["message"]


@pytest.mark.parametrize("path", ["/tasks/task_nope", "/tasks/task_nope/status", "/tasks/task_nope/stream"])
def test_unknown_task(api, path):
    error = _error(api.get(path), 404)
    assert "task_nope" in error["message"]


def test_cancel_unknown_task(api):
    _error(api.post("/tasks/task_nope/cancel"), 404)


def test_unknown_route_and_wrong_method(api):
    assert "no such endpoint" in _error(api.get("/nowhere"), 404)["message"]
    _error(api.get("/run"), 405)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("wait=maybe", "true or false"), ("wait=", None)],
)
def test_wait_parameter(api, query, expected):
    response = api.post(f"/run?{query}", json=GOOD)
    if expected is None:
        assert response.status_code == 200
    else:
        assert expected in _error(response, 422)["message"]


@pytest.mark.parametrize(("params", "status"), [({"limit": 0}, 422), ({"limit": "x"}, 422), ({"cursor": "abc"}, 400)])
def test_bad_list_parameters(api, params, status):
    _error(api.get("/tasks", params=params), status)


def test_oversized_body(tmp_path):
    with start_server(data_dir=tmp_path / "d") as srv:
        import httpx

        headers = {"Authorization": f"Bearer {srv.token}"}
        big = b'{"app": "demo/picture", "input": {"prompt": "' + b"x" * (11 * 2**20) + b'"}}'
        response = httpx.post(f"{srv.url}/run", content=big, headers=headers, timeout=30)
        assert "limit" in _error(response, 413)["message"]

        def chunks():
            yield big[: 2**20]
            yield big[2**20 :]

        chunked = httpx.post(f"{srv.url}/run", content=chunks(), headers=headers, timeout=30)
        _error(chunked, 413)
