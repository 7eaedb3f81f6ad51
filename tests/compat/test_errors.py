"""Each error reaches the SDK as a clean message (its APIError), never as a JSON body."""

from __future__ import annotations

import pytest
from inferencesh import APIError

from .conftest import Sdk


def _error(sdk: Sdk, call) -> APIError:
    with pytest.raises(APIError) as caught:
        sdk(call)
    assert not caught.value.message.lstrip().startswith("{"), caught.value.message
    return caught.value


def test_an_unknown_app_is_named_with_the_apps_there_are(sdk):
    error = _error(sdk, lambda c: c.run({"app": "demo/nope", "input": {}}))
    assert error.status_code == 404 and error.code == "not_found"
    assert error.message.startswith("no app named 'demo/nope'; apps on this server: demo/chart")


def test_bad_input_names_the_field(sdk):
    error = _error(sdk, lambda c: c.run({"app": "demo/sleep", "input": {"seconds": -1}}))
    assert error.status_code == 422
    assert "input.seconds: Input should be greater than or equal to 0" in error.message


def test_an_unknown_function_names_the_functions_there_are(sdk):
    error = _error(sdk, lambda c: c.run({"app": "demo/counter:explode", "input": {}}))
    assert error.status_code == 422
    assert "has no function 'explode'; its functions: run, get, increment, init, reset" in error.message


def test_a_wrong_key_is_a_401_that_does_not_echo_it(server, sdk):
    wrong = Sdk(sdk.kind, server, key="inf_wrong_key_123")
    for call in (lambda c: c.run({"app": "demo/picture", "input": {}}), lambda c: c.get_task("task_x")):
        error = _error(wrong, call)
        assert error.status_code == 401 and "the token does not match" in error.message
        assert "inf_wrong_key_123" not in error.response_body


def test_an_unknown_task_is_a_404_naming_it(sdk):
    for call in (lambda c: c.get_task("task_nope"), lambda c: c.tasks.files("task_nope")):
        error = _error(sdk, call)
        assert error.status_code == 404 and error.message == "no task 'task_nope'"


def test_an_unknown_session_is_a_404_naming_it(sdk):
    error = _error(sdk, lambda c: c.sessions.keepalive("sess_nope"))
    assert error.status_code == 404 and error.message == "no session 'sess_nope'"


def test_what_the_embedded_server_does_not_offer_is_a_clean_no_such_endpoint(sdk):
    # Listed in docs/ARCHITECTURE.md, "What the official SDKs cannot do here": sockets (live stream
    # functions) and agents (chats) are APIs of the hosted service that this server does not have.
    error = _error(sdk, lambda c: c.sockets.list())
    assert error.status_code == 404 and error.message == "no such endpoint: POST /sockets/list"
    with pytest.raises(RuntimeError, match="^no such endpoint: POST /agents/run$"):
        sdk(lambda c: c.agent("demo/assistant@1").send_message("hello"))
