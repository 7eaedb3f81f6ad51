"""Ids in paths: every id and cluster the client puts in a path is quoted, so it stays one segment.

An id with "/", "?", "%" or "#" must not reach another route, become a query or a fragment.
The cores build every path (the sync and async clients only send), so the unit tests are on
the cores; the loopback tests check what really goes over the wire to the embedded server.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from inference_nb.client.errors import InvalidRequest, NotFoundError
from inference_nb.client.profile import Profile
from inference_nb.client.runs import RunsClient, RunsCore
from inference_nb.client.tasks import TasksClient, TasksCore

NASTY = "a/b?c%d#e"
QUOTED = "a%2Fb%3Fc%25d%23e"
TASKS = TasksCore(Profile("tasks", "http://server.test/base", "sk-test"))
RUNS = RunsCore(Profile("runs", "http://server.test/base", "sk-test", cluster=NASTY))


def raw_path(request: httpx.Request) -> str:
    """The path as sent (percent-escapes kept), without the query."""
    return request.url.raw_path.decode("ascii").partition("?")[0]


# the cores: every path they build


TASK_PATHS: list[tuple[str, Callable[[str], httpx.Request], str]] = [
    ("get", TASKS.get, "/base/tasks/{}"),
    ("cancel", TASKS.cancel, "/base/tasks/{}/cancel"),
    ("stream", TASKS.stream, "/base/tasks/{}/stream"),
]
RUN_PATHS: list[tuple[str, Callable[[str], httpx.Request], str]] = [
    ("get", lambda i: RUNS.get(i, cluster="c"), "/base/clusters/c/runs/{}"),
    ("stream", lambda i: RUNS.stream(i, cluster="c"), "/base/clusters/c/runs/{}/stream"),
    ("cancel", lambda i: RUNS.cancel(i, cluster="c"), "/base/clusters/c/runs/{}/cancel"),
    ("approve", lambda i: RUNS.approve(i, True, cluster="c"), "/base/clusters/c/jobs/{}/approval"),
    ("create, cluster", lambda i: RUNS.create("hi", None, cluster=i)[1], "/base/clusters/{}/runs"),
    ("list, cluster", lambda i: RUNS.list(cluster=i), "/base/clusters/{}/runs"),
    ("get, cluster", lambda i: RUNS.get("r1", cluster=i), "/base/clusters/{}/runs/r1"),
    ("stream, cluster", lambda i: RUNS.stream("r1", cluster=i), "/base/clusters/{}/runs/r1/stream"),
    ("cancel, cluster", lambda i: RUNS.cancel("r1", cluster=i), "/base/clusters/{}/runs/r1/cancel"),
    ("approve, cluster", lambda i: RUNS.approve("j1", False, cluster=i), "/base/clusters/{}/jobs/j1/approval"),
]
EVERY_PATH = [pytest.param(build, template, id=f"tasks {name}") for name, build, template in TASK_PATHS] + [
    pytest.param(build, template, id=f"runs {name}") for name, build, template in RUN_PATHS
]


@pytest.mark.parametrize(("build", "template"), EVERY_PATH)
def test_an_id_is_one_quoted_segment_of_every_path(build, template):
    request = build(NASTY)
    assert raw_path(request) == template.format(QUOTED)
    assert request.url.query == b"" or b"c%d" not in request.url.query and b"#" not in request.url.query
    assert request.url.fragment == ""


@pytest.mark.parametrize(("build", "template"), EVERY_PATH)
def test_what_the_id_held_is_only_ever_escaped(build, template):
    path = raw_path(build(NASTY))
    assert QUOTED in path
    rest = path.replace(QUOTED, "")
    assert "?" not in rest and "%" not in rest and "#" not in rest
    assert rest.count("/") == template.replace("{}", "").count("/")


@pytest.mark.parametrize(("build", "template"), EVERY_PATH)
@pytest.mark.parametrize(("value", "sent"), [(".", "%2E"), ("..", "%2E%2E"), ("ü b", "%C3%BC%20b")])
def test_dot_segments_and_other_characters_are_escaped_too(build, template, value, sent):
    # httpx resolves a bare "." or ".." segment, which would send the request to another path
    assert raw_path(build(value)) == template.format(sent)


@pytest.mark.parametrize(("build", "template"), EVERY_PATH)
def test_an_empty_id_is_refused_before_sending(build, template):
    if template.startswith("/base/clusters/{}"):  # an empty cluster means the profile's
        assert raw_path(build("")) == template.format(QUOTED)
    else:
        with pytest.raises(InvalidRequest):
            build("")


def test_the_profiles_cluster_is_quoted_too():
    assert raw_path(RUNS.get("r1")) == f"/base/clusters/{QUOTED}/runs/r1"
    assert raw_path(RUNS.list()) == f"/base/clusters/{QUOTED}/runs"


@pytest.mark.parametrize("build", [TASKS.list, lambda **kw: RUNS.list(cluster="c", **kw)], ids=["tasks", "runs"])
def test_a_list_cursor_is_one_query_parameter(build):
    request = build(cursor="x&limit=1#y")
    assert request.url.params["cursor"] == "x&limit=1#y"
    assert request.url.params.get_list("limit") != ["1"] and request.url.fragment == ""


# against the real embedded server over loopback


def recorded(profile: Profile, client_class: type) -> tuple[TasksClient | RunsClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [seen.append]})
    return client_class(profile, http=http), seen


def test_get_of_a_task_with_a_nasty_id_is_not_found_and_sends_the_id_quoted(embedded):
    tasks, seen = recorded(Profile("tasks", embedded.url, embedded.token), TasksClient)
    try:
        for call in (tasks.get, tasks.cancel, lambda i: list(tasks.stream(i))):
            with pytest.raises(NotFoundError):
                call("a/b?c%d")
    finally:
        tasks.close()
    assert [raw_path(r) for r in seen] == [
        "/tasks/a%2Fb%3Fc%25d",
        "/tasks/a%2Fb%3Fc%25d/cancel",
        "/tasks/a%2Fb%3Fc%25d/stream",
    ]
    assert all(r.url.query == b"" for r in seen)


def test_get_of_a_run_with_a_nasty_id_is_not_found_and_sends_the_id_quoted(embedded):
    runs, seen = recorded(Profile("runs", embedded.url, embedded.token), RunsClient)
    try:
        for call in (runs.get, runs.cancel, lambda i: list(runs.stream(i)), lambda i: runs.approve(i, True)):
            with pytest.raises(NotFoundError):
                call("a/b?c%d")
    finally:
        runs.close()
    assert [raw_path(r) for r in seen] == [
        "/clusters/demo/runs/a%2Fb%3Fc%25d",
        "/clusters/demo/runs/a%2Fb%3Fc%25d/cancel",
        "/clusters/demo/runs/a%2Fb%3Fc%25d/stream",
        "/clusters/demo/jobs/a%2Fb%3Fc%25d/approval",
    ]
    assert all(r.url.query == b"" for r in seen)


@pytest.mark.parametrize("kind", [None, "task", "run"])
def test_client_get_of_a_nasty_id_is_not_found_on_the_quoted_path(client, kind):
    with pytest.raises(NotFoundError) as caught:
        client.get("a/b?c%d", kind=kind)
    assert caught.value.status_code == 404
    where = "/tasks/" if kind == "task" else "/clusters/demo/runs/"
    assert f"GET {where}a%2Fb%3Fc%25d answered 404" in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "answer"), [("task", "no task 'q?c%d#e'"), ("run", "no run 'q?c%d#e' in cluster 'demo'")]
)
def test_the_server_looks_up_the_whole_id(client, kind, answer):
    # Unquoted, the server would have looked up "q" (the rest a query and a fragment).
    with pytest.raises(NotFoundError, match=answer.replace("?", r"\?")):
        client.get("q?c%d#e", kind=kind)


@pytest.mark.parametrize("kind", ["task", "run"])
def test_an_id_ending_in_a_route_name_reaches_no_other_route(client, kind):
    with pytest.raises(NotFoundError):
        client.get("x/cancel", kind=kind)
