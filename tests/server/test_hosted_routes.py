"""Routes only the hosted service has: POST /tasks/list, POST /apps/list, GET /apps/{namespace}/{name};
and "no such endpoint" as each dialect's client reads it."""

from __future__ import annotations

import pytest

HOSTED = {"Inference-Dialect": "hosted"}
SPEC = {"Inference-Dialect": "spec"}


def _ids(page: dict) -> list[str]:
    return [task["id"] for task in page["items"]]


def test_the_task_list_pages_newest_first_by_cursor_and_by_page(api):
    made = [api.post("/run", json={"app": "test/echo", "input": {"text": str(i)}}).json()["id"] for i in range(5)]
    answer = api.post("/tasks/list", json={"limit": 2, "filters": [], "sort": []})  # the rest is ignored
    assert answer.headers["Inference-Dialect"] == "hosted"
    first = answer.json()["data"]
    assert _ids(first) == [made[4], made[3]] and first["items"][0]["status"] == 10  # hosted numbering
    assert (first["has_next"], first["has_previous"], first["total_items"], first["items_per_page"]) == (
        True,
        False,
        5,
        2,
    )
    second = api.post("/tasks/list", json={"limit": 2, "cursor": first["next_cursor"]}).json()["data"]
    assert _ids(second) == [made[2], made[1]] and second["has_previous"]
    assert _ids(api.post("/tasks/list", json={"limit": 2, "page": 2}).json()["data"]) == _ids(second)
    last = api.post("/tasks/list", json={"limit": 2, "page": 3}).json()["data"]
    assert _ids(last) == [made[0]] and (last["has_next"], last["next_cursor"]) == (False, "")
    assert len(api.post("/tasks/list").json()["data"]["items"]) == 5  # no body: the defaults
    spec_view = api.post("/tasks/list", json={"limit": 1}, headers=SPEC).json()
    assert spec_view["items"][0]["status"] == 9


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"limit": 0}, 422, "limit: Input should be greater than or equal to 1"),
        ({"page": 0}, 422, "page: Input should be greater than or equal to 1"),
        ({"cursor": "abc"}, 400, "cursor 'abc' is not one this server gave out"),
    ],
)
def test_a_bad_list_request_names_what_is_wrong(api, body, status, expected):
    for path in ("/tasks/list", "/apps/list"):
        answer = api.post(path, json=body)
        assert answer.status_code == status and answer.headers["content-type"] == "application/problem+json"
        assert expected in answer.json()["detail"]


def test_the_app_list_has_each_app_once_at_its_newest_version(api):
    page = api.post("/apps/list", json={"limit": 100}).json()["data"]
    echo = [app for app in page["items"] if app["id"] == "test/echo"]
    assert len(echo) == 1 and echo[0]["version_id"] == "test/echo@2.0.0"
    assert (echo[0]["namespace"], echo[0]["name"]) == ("test", "echo")
    assert echo[0]["version"]["input_schema"]["required"] == ["text"]
    assert list(echo[0]["version"]["functions"]) == ["run"] and echo[0]["version"]["default_function"] == "run"
    assert page["total_items"] == len(page["items"]) == len({app["id"] for app in page["items"]})
    small = api.post("/apps/list", json={"limit": 2}).json()["data"]
    rest = api.post("/apps/list", json={"limit": 100, "cursor": small["next_cursor"]}).json()["data"]
    assert [a["id"] for a in small["items"] + rest["items"]] == [a["id"] for a in page["items"]]


def test_an_app_by_name_and_by_version(api):
    latest = api.get("/apps/test/echo").json()["data"]
    assert latest["version_id"] == "test/echo@2.0.0"
    assert api.get("/apps/test/echo@1.0.0").json()["data"]["version_id"] == "test/echo@1.0.0"
    counter = api.get("/apps/demo/counter").json()["data"]
    assert set(counter["version"]["functions"]) == {"run", "init", "increment", "get", "reset"}
    # With the spec header: the entry GET /apps lists.
    listed = {app["id"]: app for app in api.get("/apps").json()["apps"]}
    assert api.get("/apps/test/echo", headers=SPEC).json() == listed["test/echo@2.0.0"]


def test_an_unknown_app_is_a_problem_naming_the_apps_there_are(api):
    answer = api.get("/apps/demo/nope")
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"].startswith("no app named 'demo/nope'; apps on this server:")


def test_no_such_endpoint_reads_as_each_dialects_client_reads_it(api):
    hosted_only = api.get("/apps/demo/counter/versions/v1")  # a path of the hosted service's API
    assert hosted_only.status_code == 404 and hosted_only.headers["content-type"] == "application/problem+json"
    assert hosted_only.json()["detail"] == "no such endpoint: GET /apps/demo/counter/versions/v1"
    # A path of neither, without a header: nothing says who asks, so both find the message.
    nowhere = api.get("/tasks/task_x/logs").json()
    assert nowhere["error"]["message"] == nowhere["detail"] == "no such endpoint: GET /tasks/task_x/logs"
    assert api.get("/nowhere", headers=HOSTED).json()["detail"] == "no such endpoint: GET /nowhere"
    assert api.get("/nowhere", headers=SPEC).json() == {
        "error": {"code": "not_found", "message": "no such endpoint: GET /nowhere"}
    }
    wrong_method = api.put("/tasks/list")
    assert wrong_method.status_code == 405 and "PUT is not allowed" in wrong_method.json()["detail"]
