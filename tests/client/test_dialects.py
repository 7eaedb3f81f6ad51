"""The two dialects of the tasks API in the I/O-free cores: the requests each sends, the answers each
reads (envelopes, problem+json errors, the 0..13 numbering), and the upload requests.

The hosted service is not reachable from the tests; its answers here follow the official SDK's
reading of them. The same flows run against the embedded server in test_hosted_dialect.py.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from inference_nb.client.answers import raise_for_response, unwrap
from inference_nb.client.errors import (
    AuthenticationError,
    BadResponse,
    ConfigurationError,
    InvalidRequest,
    NotFoundError,
    RequirementsNotMet,
    StatusError,
)
from inference_nb.client.profile import Profile, hosted_runs, hosted_tasks
from inference_nb.client.runs_core import RunsCore
from inference_nb.client.tasks import TaskOptions, TasksClient, TasksCore
from inference_nb.wire.statuses import Phase

SPEC = TasksCore(Profile("tasks", "http://127.0.0.1:8765", "sk-spec"))
HOSTED = TasksCore(hosted_tasks("sk-hosted", "https://api.test"))
CREATED = "2026-01-01T00:00:00Z"


def task(status: int | str, **fields: object) -> dict[str, object]:
    return {"id": "task_1", "status": status, "input": {}, "created_at": CREATED, **fields}


def answer(status: int, body: object = None, *, method: str = "POST", path: str = "/apps/run",
           **headers: str) -> httpx.Response:  # fmt: skip
    request = httpx.Request(method, f"https://api.test{path}?sig=s3cr3t", headers={"authorization": "Bearer sk-hosted"})
    return httpx.Response(status, json=body, headers=headers, request=request)


def problem(status: int, **fields: object) -> httpx.Response:
    return answer(status, {"type": "https://inference.sh/errors/x", "status": status, **fields},
                  **{"content-type": "application/problem+json"})  # fmt: skip


# the profile: one dialect, its numbering and submit path follow


def test_a_profile_speaks_the_spec_dialect_unless_told():
    profile = Profile("tasks", "http://127.0.0.1:8765", "k")
    assert (profile.dialect, profile.run_path, profile.numbering.by_code(9).name) == ("spec", "/run", "Completed")


def test_hosted_tasks_speaks_the_hosted_dialect():
    profile = hosted_tasks("k", "https://api.test")
    assert (profile.dialect, profile.run_path, profile.numbering.by_code(9).name) == (
        "hosted",
        "/apps/run",
        "Uploading",
    )


@pytest.mark.parametrize("dialect", ["hosted-ish", "", "SPEC2"])
def test_an_unknown_dialect_is_a_configuration_error(dialect):
    with pytest.raises(ConfigurationError, match="dialect"):
        Profile("tasks", "http://127.0.0.1:8765", "k", dialect=dialect)


def test_the_runs_api_has_one_dialect():
    with pytest.raises(ConfigurationError, match="runs API"):
        Profile("runs", "http://127.0.0.1:8765", "k", dialect="hosted")
    request = RunsCore(hosted_runs("k", cluster="c")).get("r1", cluster="c")
    assert "inference-dialect" not in request.headers and request.headers["authorization"] == "k"


@pytest.mark.parametrize("numbering", ["numbering", "run_path"])
def test_the_numbering_and_path_cannot_be_set_apart_from_the_dialect(numbering):
    with pytest.raises(TypeError):
        Profile("tasks", "http://127.0.0.1:8765", "k", **{numbering: None})


# requests: the dialect header, the submit path, waiting


@pytest.mark.parametrize(("core", "dialect"), [(SPEC, "spec"), (HOSTED, "hosted")])
def test_every_tasks_request_says_its_dialect(core, dialect):
    requests = [core.submit("demo/sleep", {}), core.get("t"), core.cancel("t"), core.stream("t"), core.list()]
    requests += [core.apps(), core.session("s"), core.sessions(), core.keepalive("s"), core.end_session("s")]
    assert {r.headers.get("inference-dialect") for r in requests} == {dialect}


def test_a_spec_submit_is_as_it_was():
    request = SPEC.submit("demo/sleep", {"seconds": 1})
    assert (request.method, request.url.path, dict(request.url.params)) == ("POST", "/run", {"wait": "false"})
    assert json.loads(request.content) == {"app": "demo/sleep", "input": {"seconds": 1}}
    assert set(request.headers) >= {"authorization", "idempotency-key", "content-type"}


def test_a_hosted_submit_goes_to_apps_run_and_sends_nothing_that_makes_it_wait():
    request = HOSTED.submit("demo/sleep", {"seconds": 1})
    assert (request.url.path, request.url.query) == ("/apps/run", b"")
    assert b"wait" not in request.content and "idempotency-key" not in request.headers
    assert request.headers["authorization"] == "Bearer sk-hosted"


@pytest.mark.parametrize("app", ["demo/counter@1.0.0:increment", "demo/counter"])
def test_a_hosted_submit_names_a_function(app):
    function = None if ":" in app else "increment"
    body = json.loads(HOSTED.submit(app, {}, TaskOptions(function=function)).content)
    assert body["app"] == app and body.get("function") == function


def test_a_function_in_the_spec_dialect_is_refused_before_sending():
    with pytest.raises(InvalidRequest) as raised:
        SPEC.submit("demo/counter", {}, TaskOptions(function="increment"))
    assert raised.value.field == "function"


def test_a_bad_function_name_is_refused_before_sending():
    with pytest.raises(InvalidRequest, match="function"):
        HOSTED.submit("demo/counter", {}, TaskOptions(function="Not-A-Name"))


def test_a_file_elsewhere_gets_neither_the_key_nor_the_dialect():
    assert HOSTED.fetch("https://cdn.test/a.png").headers.get("inference-dialect") is None
    assert HOSTED.fetch("https://api.test/files/a.png").headers["authorization"] == "Bearer sk-hosted"


# answers: the envelope


def test_an_envelope_is_unwrapped_and_its_messages_logged(caplog):
    with caplog.at_level(logging.INFO, logger="inference_nb.client"):
        snapshot = HOSTED.snapshot({"data": task(7), "messages": [{"type": "info", "message": "slow queue"}]})
    assert (snapshot.id, snapshot.status.name) == ("task_1", "Running")
    assert "slow queue" in caplog.text


@pytest.mark.parametrize("body", [task(7, data={"x": 1}), {"tasks": [], "data": 1, "id": "x"}])
def test_an_object_with_an_id_is_never_taken_for_an_envelope(body):
    assert unwrap(body) is body


def test_every_reader_takes_an_envelope():
    assert HOSTED.page({"data": {"tasks": [task(10)], "next_cursor": "c2"}})[1] == "c2"
    assert HOSTED.page({"data": [task(10)]})[0][0].status.name == "Completed"
    assert HOSTED.app_list({"data": [{"id": "demo/sleep"}]}) == [{"id": "demo/sleep"}]
    assert HOSTED.cancelled({"data": {"id": "task_1", "status": 8}}).name == "Cancelling"
    assert HOSTED.session_info({"data": {"id": "sess_1", "status": "active"}})["id"] == "sess_1"
    assert [s["id"] for s in HOSTED.session_list({"data": [{"id": "a"}, {"id": "b"}]})] == ["a", "b"]


def test_a_hosted_cancel_that_says_nothing_is_cancelling_but_a_spec_one_is_a_bad_response():
    assert HOSTED.cancelled(None).name == "Cancelling"
    with pytest.raises(BadResponse):
        SPEC.cancelled(None)


def test_an_answer_in_the_other_dialect_is_refused():
    with pytest.raises(BadResponse, match="'spec' dialect"):
        HOSTED.read(answer(200, task(9), **{"inference-dialect": "spec"}), what="get task")


def test_an_answer_that_says_nothing_of_its_dialect_is_read_in_the_profiles():
    assert HOSTED.snapshot(HOSTED.read(answer(200, {"data": task(9)}), what="get")).status.name == "Uploading"
    assert HOSTED.read(answer(200, {"data": task(9)}, **{"inference-dialect": "hosted"}), what="get")["id"] == "task_1"


# statuses: 0..13, names


@pytest.mark.parametrize(("code", "name", "phase"), [(0, "Unknown", Phase.PENDING), (3, "Dispatched", Phase.PENDING),
                         (8, "Cancelling", Phase.RUNNING), (9, "Uploading", Phase.RUNNING),
                         (10, "Completed", Phase.SUCCEEDED), (11, "Failed", Phase.FAILED),
                         (12, "Cancelled", Phase.CANCELLED), (13, "Rejected", Phase.FAILED)])  # fmt: skip
def test_the_hosted_numbering(code, name, phase):
    status = HOSTED.snapshot(task(code)).status
    assert (status.name, status.phase, status.code) == (name, phase, code)


@pytest.mark.parametrize("value", ["rejected", "setting_up", "completed", "cancelling"])
def test_hosted_statuses_may_come_as_lowercase_names(value):
    assert HOSTED.snapshot(task(value)).status.name.lower().replace(" ", "_") == value


def test_a_rejected_task_has_ended_with_the_servers_reason():
    snapshot = HOSTED.snapshot(task(13, error="no payment method"))
    assert snapshot.status.terminal and snapshot.error == "no payment method"


# errors: problem+json, field errors, unmet requirements


def test_a_problem_gives_its_detail_and_its_code():
    with pytest.raises(NotFoundError) as raised:
        raise_for_response(problem(404, title="Not Found", detail="no app demo/nope"))
    assert str(raised.value) == "POST /apps/run answered 404: no app demo/nope" and raised.value.code == "x"


def test_a_problem_without_detail_gives_its_title():
    with pytest.raises(AuthenticationError, match="answered 401: Unauthorized"):
        raise_for_response(problem(401, title="Unauthorized"))


def test_field_errors_are_named_in_the_message_and_kept_by_field():
    errors = [{"field": "input.width", "message": "must be at most 1024"}, {"field": "setup.x", "message": "unknown"}]
    with pytest.raises(StatusError) as raised:
        raise_for_response(problem(422, title="Unprocessable", detail="invalid input", errors=errors))
    error = raised.value
    assert error.field_errors == {"input.width": "must be at most 1024", "setup.x": "unknown"}
    assert "input.width: must be at most 1024" in str(error) and "setup.x: unknown" in str(error)


def test_the_spec_errors_details_are_field_errors_too():
    body = {"error": {"code": "invalid_request", "message": "Invalid input: input.width: too big",
                      "details": [{"field": "input.width", "message": "too big"}]}}  # fmt: skip
    with pytest.raises(StatusError) as raised:
        raise_for_response(answer(422, body, path="/run"))
    assert raised.value.field_errors == {"input.width": "too big"} and raised.value.code == "invalid_request"
    assert str(raised.value) == "POST /run answered 422: Invalid input: input.width: too big"  # named once


def test_a_412_with_unmet_requirements():
    needs = [{"type": "secret", "key": "OPENAI_API_KEY", "message": "add the secret OPENAI_API_KEY",
              "action": {"type": "add_secret"}}]  # fmt: skip
    with pytest.raises(RequirementsNotMet) as raised:
        raise_for_response(answer(412, {"errors": needs}))
    assert raised.value.requirements == needs and raised.value.status_code == 412
    assert "add the secret OPENAI_API_KEY" in str(raised.value)


def test_an_error_message_never_shows_the_query_or_the_key():
    with pytest.raises(StatusError) as raised:
        raise_for_response(problem(403, detail="signature expired"))
    assert "s3cr3t" not in str(raised.value) and "sk-hosted" not in str(raised.value)


def test_a_refused_presigned_url_does_not_blame_the_key():
    request = httpx.Request("PUT", "https://bucket.test/f1?X-Sig=old")
    with pytest.raises(AuthenticationError) as raised:
        raise_for_response(httpx.Response(403, text="Request has expired", request=request))
    assert str(raised.value) == "PUT /f1 answered 403: Request has expired"


# the hosted stream: heartbeats, delta events and partial updates (the embedded server sends none)


def test_a_stream_skips_heartbeats_and_delta_events_and_lays_partial_updates_over_the_last():
    lines = [task(2, app="demo/sleep"), {"type": "heartbeat"}, {"event": "delta", "data": {"delta": {"text": "x"}}},
             {"data": {"status": 7}, "fields": ["status"]}, {"data": {"status": 10, "output": {"ok": True}},
                                                            "fields": ["status", "output"]}]  # fmt: skip
    body = "".join(json.dumps(line) + "\n" for line in lines)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=body, headers={"content-type": "application/x-ndjson"})

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        seen = list(TasksClient(hosted_tasks("k", "https://api.test"), http=http).stream("task_1"))
    assert [s.status.name for s in seen] == ["Queued", "Running", "Completed"]
    assert seen[-1].output == {"ok": True} and seen[-1].raw["app"] == "demo/sleep" and seen[-1].id == "task_1"


def test_two_different_functions_named_are_refused_before_sending():
    with pytest.raises(InvalidRequest, match="names function 'get' but function is 'increment'"):
        HOSTED.submit("demo/counter:get", {}, TaskOptions(function="increment"))
