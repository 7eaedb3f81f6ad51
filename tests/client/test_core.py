"""The I/O-free core of the client: retry rules, backoff, error mapping, stream parsing, snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from inference_nb.client.core import Backoff, json_body, raise_for_response, retry_after, retry_delay, stream_payloads
from inference_nb.client.errors import (
    AuthenticationError,
    BadResponse,
    ConflictError,
    InvalidRequest,
    NotFoundError,
    RateLimited,
    ServerError,
    StatusError,
)
from inference_nb.client.profile import Profile, hosted_tasks
from inference_nb.client.runs_core import RunsCore
from inference_nb.client.tasks import TasksCore
from inference_nb.wire.statuses import Phase

BACKOFF = Backoff(start=0.25, factor=1.5, cap=5.0)
NEVER_SENT = httpx.ConnectError("connection refused")
LOST_ANSWERS = [httpx.ReadError("connection reset"), httpx.ReadTimeout("no answer")]


def answer(status: int, body: object = None, *, text: str | None = None, **headers: str) -> httpx.Response:
    request = httpx.Request("POST", "http://server.test/run", headers={"authorization": "Bearer sk-secret"})
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


# retry_delay: what may be tried again


def test_a_create_without_idempotency_is_retried_when_it_was_never_sent():
    assert retry_delay(0, BACKOFF, idempotent=False, error=NEVER_SENT) is not None


@pytest.mark.parametrize("error", LOST_ANSWERS, ids=lambda e: type(e).__name__)
def test_a_create_without_idempotency_is_not_retried_when_its_answer_was_lost(error):
    assert retry_delay(0, BACKOFF, idempotent=False, error=error) is None


@pytest.mark.parametrize("status", [429, 503])
def test_a_create_without_idempotency_is_retried_when_the_server_refused_it(status):
    assert retry_delay(0, BACKOFF, idempotent=False, response=answer(status)) is not None


@pytest.mark.parametrize("status", [502, 504])
def test_a_create_without_idempotency_is_not_retried_on_a_gateway_error(status):
    assert retry_delay(0, BACKOFF, idempotent=False, response=answer(status)) is None


@pytest.mark.parametrize("error", [NEVER_SENT, *LOST_ANSWERS], ids=lambda e: type(e).__name__)
def test_an_idempotent_request_is_retried_on_any_transport_failure(error):
    assert retry_delay(0, BACKOFF, idempotent=True, error=error) is not None


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_an_idempotent_request_is_retried_on_transient_statuses(status):
    assert retry_delay(0, BACKOFF, idempotent=True, response=answer(status)) is not None


@pytest.mark.parametrize("idempotent", [True, False])
@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 409, 422, 500])
def test_other_statuses_are_never_retried(status, idempotent):
    assert retry_delay(0, BACKOFF, idempotent=idempotent, response=answer(status)) is None


def test_a_retry_waits_as_long_as_retry_after_says():
    assert retry_delay(0, BACKOFF, idempotent=False, response=answer(429, **{"Retry-After": "3"})) == 3.0


# Backoff


@pytest.mark.parametrize("attempt", range(12))
def test_backoff_stays_between_half_and_all_of_its_capped_base(attempt):
    base = min(BACKOFF.cap, BACKOFF.start * BACKOFF.factor**attempt)
    delays = [BACKOFF.delay(attempt) for _ in range(200)]
    assert all(base / 2 <= d <= base for d in delays)
    assert max(delays) - min(delays) > 0  # jittered, not fixed


def test_backoff_never_waits_longer_than_its_cap():
    assert max(BACKOFF.delay(attempt) for attempt in range(100)) <= BACKOFF.cap


def test_backoff_follows_retry_after_instead_of_its_own_schedule():
    assert BACKOFF.delay(0, retry_after=2.5) == 2.5
    assert BACKOFF.delay(9, retry_after=0.1) == 0.1
    assert BACKOFF.delay(0, retry_after=-4) == 0.0


# retry_after


def test_retry_after_reads_seconds():
    assert retry_after(answer(429, **{"Retry-After": "7"})) == 7.0
    assert retry_after(answer(429, **{"Retry-After": "0.2"})) == 0.2


def test_retry_after_reads_an_http_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= retry_after(answer(503, **{"Retry-After": when})) <= 30


def test_retry_after_in_the_past_means_now():
    assert retry_after(answer(503, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon"])
def test_retry_after_missing_or_unreadable_is_none(value):
    headers = {} if value is None else {"Retry-After": value}
    assert retry_after(answer(429, **headers)) is None


def test_retry_after_that_is_not_a_finite_number_is_unreadable():
    assert retry_after(answer(429, **{"Retry-After": "inf"})) is None


# raise_for_response: status → exception, with the server's own words


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, ConflictError),
        (410, ConflictError),
        (429, RateLimited),
    ],
)
def test_error_statuses_map_to_their_exception(status, kind):
    with pytest.raises(kind) as raised:
        raise_for_response(answer(status, {"error": {"message": "the server's words"}}))
    assert raised.value.status_code == status and "the server's words" in str(raised.value)


@pytest.mark.parametrize("status", [400, 404, 412, 422, 429])
def test_a_4xx_is_a_status_error_and_not_a_server_error(status):
    with pytest.raises(StatusError) as raised:
        raise_for_response(answer(status, {"error": {"message": "refused"}}))
    assert not isinstance(raised.value, ServerError) and raised.value.status_code == status


def test_a_malformed_success_is_a_bad_response_not_an_error_status():
    with pytest.raises(BadResponse) as raised:
        json_body(answer(200, text="<html>proxy login</html>"), what="GET /tasks/t")
    assert not isinstance(raised.value, StatusError) and not hasattr(raised.value, "status_code")


def test_a_500_is_a_plain_server_error():
    with pytest.raises(ServerError) as raised:
        raise_for_response(answer(500, {"error": {"message": "database locked"}}), run_id="task_1")
    assert type(raised.value) is ServerError
    assert raised.value.run_id == "task_1" and "database locked" in str(raised.value)


@pytest.mark.parametrize(
    "response",
    [
        answer(404, {"error": {"message": "no task 'task_9'", "code": "not_found"}}),
        answer(404, {"message": "no task 'task_9'"}),
        answer(404, text="no task 'task_9'\n"),
    ],
    ids=["error-object", "message", "plain-text"],
)
def test_the_servers_message_is_read_from_every_usual_body(response):
    with pytest.raises(NotFoundError, match="POST /run answered 404: no task 'task_9'$"):
        raise_for_response(response)


def test_the_error_code_of_an_error_object_is_kept():
    with pytest.raises(NotFoundError) as raised:
        raise_for_response(answer(404, {"error": {"message": "gone", "code": "not_found"}}))
    assert raised.value.code == "not_found"


def test_rate_limited_carries_retry_after():
    with pytest.raises(RateLimited) as raised:
        raise_for_response(answer(429, {"error": {"message": "slow down"}}, **{"Retry-After": "2"}))
    assert raised.value.retry_after == 2.0


def test_an_error_never_shows_the_key():
    with pytest.raises(AuthenticationError) as raised:
        raise_for_response(answer(401, {"error": {"message": "bad key"}}))
    assert "sk-secret" not in str(raised.value) and "sk-secret" not in repr(raised.value)


def test_a_success_raises_nothing():
    raise_for_response(answer(200, {"id": "task_1"}))


# stream_payloads: NDJSON and SSE


def test_ndjson_lines_give_their_objects_and_blank_lines_are_skipped():
    lines = ['{"n": 1}', "", "   ", '{"n": 2}']
    assert list(stream_payloads(lines)) == [{"n": 1}, {"n": 2}]


def test_sse_events_give_their_data_and_comments_are_skipped():
    lines = [
        "event: task", 'data: {"n": 1}', "",
        ": keep-alive", "",
        "id: 7", "event: task", 'data:{"n": 2}', "",
    ]  # fmt: skip
    assert list(stream_payloads(lines)) == [{"n": 1}, {"n": 2}]


def test_a_garbage_line_is_skipped_and_the_stream_goes_on():
    lines = ['{"n": 1}', "<html>502 Bad Gateway</html>", '{"n": 2', '{"n": 3}']
    assert list(stream_payloads(lines)) == [{"n": 1}, {"n": 3}]


# TasksCore.snapshot: status codes mean what the server's numbering says


def task(status: int | str, **fields: object) -> dict[str, object]:
    return {"id": "task_1", "status": status, "input": {}, "created_at": "2026-01-01T00:00:00Z", **fields}


RENUMBERED = TasksCore(hosted_tasks("k", "https://tasks.test"))
SPEC = TasksCore(Profile("tasks", "http://127.0.0.1:8765", "k"))


def test_renumbered_code_9_is_uploading_and_not_terminal():
    status = RENUMBERED.snapshot(task(9)).status
    assert (status.name, status.phase, status.terminal, status.code) == ("Uploading", Phase.RUNNING, False, 9)


def test_renumbered_code_10_is_completed():
    status = RENUMBERED.snapshot(task(10)).status
    assert (status.name, status.phase, status.terminal) == ("Completed", Phase.SUCCEEDED, True)


def test_spec_code_9_is_completed():
    assert SPEC.snapshot(task(9)).status.name == "Completed"


@pytest.mark.parametrize("core", [RENUMBERED, SPEC], ids=["renumbered", "spec"])
def test_a_status_name_is_understood_whatever_the_numbering(core):
    status = core.snapshot(task("completed")).status
    assert status.name == "Completed" and status.terminal


def test_the_timeline_is_named_in_the_servers_numbering():
    timeline = [{"status": 9, "name": "?", "at": "2026-01-01T00:00:01Z"}, {"status": 10, "name": "?", "at": "t2"}]
    snapshot = RENUMBERED.snapshot(task(10, timeline=timeline))
    assert [name for name, _ in snapshot.timeline] == ["Uploading", "Completed"]


@pytest.mark.parametrize("value", [42, "exploded"])
def test_an_unknown_status_is_shown_as_unknown_and_is_not_terminal(value):
    status = RENUMBERED.snapshot(task(value)).status
    assert "unknown" in status.name and repr(value) in status.name
    assert status.code == value and not status.terminal


# TasksCore.fetch: the key goes to the server's own origin only


def test_a_file_on_the_servers_own_origin_is_fetched_with_the_key():
    request = SPEC.fetch("http://127.0.0.1:8765/files/task_1/picture.png")
    assert request.headers["authorization"] == "Bearer k"


@pytest.mark.parametrize(
    "uri",
    [
        "https://cdn.example.com/picture.png",
        "http://127.0.0.1:9999/files/task_1/picture.png",
        "https://127.0.0.1:8765/files/task_1/picture.png",
        "http://127.0.0.1:8765@evil.example/picture.png",
    ],
    ids=["other-host", "other-port", "other-scheme", "userinfo-trick"],
)
def test_a_file_elsewhere_is_fetched_without_the_key(uri):
    assert "authorization" not in SPEC.fetch(uri).headers


def test_sse_data_over_several_lines_is_one_payload():
    lines = ["event: task", 'data: {"n":', "data: 1}", "", 'data: {"n": 2}', ""]
    assert list(stream_payloads(lines)) == [{"n": 1}, {"n": 2}]


def test_a_long_retry_after_is_left_to_the_caller():
    response = httpx.Response(429, headers={"retry-after": "3600"}, request=httpx.Request("GET", "http://x/"))
    assert retry_delay(0, Backoff(), idempotent=True, response=response) is None


@pytest.mark.parametrize("run_id", ["short", "has space-in-it", "a/b?c%d", "x" * 129, 12345678])
def test_a_run_id_the_server_would_refuse_is_refused_before_sending(run_id):
    with pytest.raises(InvalidRequest) as raised:
        RunsCore(Profile("runs", "http://127.0.0.1:8765", "k")).create("How many?", None, run_id=run_id)
    assert raised.value.field == "run_id"


def test_a_run_id_of_the_right_shape_is_sent_as_the_body_id():
    run_id, request = RunsCore(Profile("runs", "http://127.0.0.1:8765", "k")).create("How many?", None, run_id="a-b_c1")
    assert run_id == "a-b_c1" and b'"id":"a-b_c1"' in request.content.replace(b" ", b"")


@pytest.mark.parametrize("body", [["demo/picture"], {"apps": "demo/picture"}, {"apps": [1, 2]}, "apps"])
def test_an_apps_answer_that_is_not_a_list_of_apps_is_a_bad_response(body):
    with pytest.raises(BadResponse, match="apps answer"):
        SPEC.app_list(body)
