"""The transports against httpx.MockTransport: what a real server does not produce on demand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from inference_nb.client.core import Backoff
from inference_nb.client.errors import BadResponse, ConnectError, RequestTimeout, ServerError, TransportError
from inference_nb.client.profile import Profile
from inference_nb.client.tasks import AsyncTasksClient, TasksClient
from inference_nb.client.transport import MAX_ATTEMPTS, AsyncTransport, SyncTransport

PROFILE = Profile("tasks", "http://server.test", "sk-secret")
NO_WAIT = Backoff(start=0.001, factor=1.0, cap=0.001)
TASK = {"id": "task_1", "status": 7, "input": {}, "created_at": "2026-01-01T00:00:00Z"}
DONE = {**TASK, "status": 9, "output": {"answer": 42}}


class Script:
    """A MockTransport handler: `answer(n)` for the n-th request (it may raise); records when each came."""

    def __init__(self, answer: Callable[[int], httpx.Response]) -> None:
        self.answer = answer
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.times.append(time.monotonic())
        return self.answer(len(self.times) - 1)


def fail(error: Exception) -> httpx.Response:
    raise error


def create() -> httpx.Request:
    return httpx.Request("POST", f"{PROFILE.base_url}/run", json={"app": "demo/sleep", "input": {}})


@pytest.fixture(params=["sync", "async"])
def send(request) -> Callable[..., httpx.Response]:
    """send(handler, request, idempotent=...) through SyncTransport or AsyncTransport (no waits between tries)."""

    def sync(handler: Script, req: httpx.Request, **options: Any) -> httpx.Response:
        with httpx.Client(transport=httpx.MockTransport(handler)) as http:
            return SyncTransport(PROFILE, backoff=NO_WAIT, http=http).send(req, **options)

    def async_(handler: Script, req: httpx.Request, **options: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
                return await AsyncTransport(PROFILE, backoff=NO_WAIT, http=http).send(req, **options)

        return asyncio.run(go())

    return sync if request.param == "sync" else async_


@pytest.fixture(params=["sync", "async"])
def call(request) -> Callable[..., Any]:
    """call(handler, method, *args): a TasksClient or AsyncTasksClient method; a stream is read to its end."""

    def sync(handler: Script, method: str, *args: Any) -> Any:
        with httpx.Client(transport=httpx.MockTransport(handler)) as http:
            result = getattr(TasksClient(PROFILE, http=http), method)(*args)
            return list(result) if method == "stream" else result

    def async_(handler: Script, method: str, *args: Any) -> Any:
        async def go() -> Any:
            async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
                result = getattr(AsyncTasksClient(PROFILE, http=http), method)(*args)
                return [s async for s in result] if method == "stream" else await result

        return asyncio.run(go())

    return sync if request.param == "sync" else async_


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent piece by piece, then broken off with `error` if one is given."""

    def __init__(self, *chunks: bytes, error: Exception | None = None) -> None:
        self.chunks, self.error = chunks, error

    def __iter__(self):
        yield from self.chunks
        if self.error:
            raise self.error

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk
        if self.error:
            raise self.error


# malformed answers


def test_a_200_that_is_not_json_is_a_bad_response(call):
    handler = Script(lambda n: httpx.Response(200, text="<html>proxy login</html>"))
    with pytest.raises(BadResponse, match="not JSON.*proxy login"):
        call(handler, "get", "task_1")


@pytest.mark.parametrize(
    "body",
    [["task_1"], {"id": "task_1"}, {**TASK, "status": None}, {**TASK, "output": "not an object"}],
    ids=["a-list", "no-status", "null-status", "output-not-an-object"],
)
def test_json_of_the_wrong_shape_is_a_bad_response(call, body):
    with pytest.raises(BadResponse, match="does not fit the tasks API"):
        call(Script(lambda n: httpx.Response(200, json=body)), "get", "task_1")


def test_a_task_list_of_the_wrong_shape_is_a_bad_response(call):
    with pytest.raises(BadResponse, match="task list"):
        call(Script(lambda n: httpx.Response(200, json={"items": []})), "list")


# streams cut short


def test_a_stream_that_ends_inside_a_line_gives_the_whole_lines_before_it(call):
    body = Chunks(b'{"id": "task_1", "status": 7, "created_at": "t"}\n', b'{"id": "task_1", "sta')
    handler = Script(lambda n: httpx.Response(200, stream=body, headers={"content-type": "application/x-ndjson"}))
    assert [s.status.name for s in call(handler, "stream", "task_1")] == ["Running"]


def test_a_stream_broken_off_mid_body_is_a_transport_error(call):
    broken = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    body = Chunks(b'{"id": "task_1", "status": 7, "created_at": "t"}\n', error=broken)
    handler = Script(lambda n: httpx.Response(200, stream=body, headers={"content-type": "application/x-ndjson"}))
    with pytest.raises(TransportError):
        call(handler, "stream", "task_1")


# retrying


def test_a_429_is_retried_no_sooner_than_retry_after_says(send):
    handler = Script(lambda n: httpx.Response(429, headers={"Retry-After": "0.2"}) if n == 0 else httpx.Response(200))
    assert send(handler, create(), idempotent=False).status_code == 200
    first, second = handler.times
    assert second - first >= 0.2


def test_a_server_that_stays_unavailable_is_given_up_on_with_its_message(send):
    handler = Script(lambda n: httpx.Response(503, json={"error": {"message": "overloaded, come back later"}}))
    with pytest.raises(ServerError, match="answered 503: overloaded, come back later") as raised:
        send(handler, httpx.Request("GET", f"{PROFILE.base_url}/tasks/task_1"), run_id="task_1")
    assert len(handler.times) == MAX_ATTEMPTS == 5
    assert raised.value.status_code == 503 and raised.value.run_id == "task_1"


def test_a_create_whose_answer_was_lost_is_sent_once(send):
    handler = Script(lambda n: fail(httpx.ReadError("connection reset")) if n == 0 else httpx.Response(200))
    with pytest.raises(TransportError, match="ReadError"):
        send(handler, create(), idempotent=False)
    assert len(handler.times) == 1


def test_an_idempotent_create_whose_answer_was_lost_is_sent_again(send):
    handler = Script(lambda n: fail(httpx.ReadError("connection reset")) if n == 0 else httpx.Response(200))
    assert send(handler, create(), idempotent=True).status_code == 200
    assert len(handler.times) == 2


def test_a_create_that_never_reached_the_server_is_sent_again(send):
    handler = Script(lambda n: fail(httpx.ConnectError("connection refused")) if n == 0 else httpx.Response(200))
    assert send(handler, create(), idempotent=False).status_code == 200
    assert len(handler.times) == 2


@pytest.mark.parametrize(
    ("error", "kind"),
    [(httpx.ConnectError("connection refused"), ConnectError), (httpx.ReadTimeout("timed out"), RequestTimeout)],
    ids=["connect", "timeout"],
)
def test_transport_failures_become_client_errors_naming_the_server(send, error, kind):
    with pytest.raises(kind, match="server.test") as raised:
        send(Script(lambda n: fail(error)), httpx.Request("GET", f"{PROFILE.base_url}/tasks/task_1"), run_id="task_1")
    assert raised.value.run_id == "task_1"
