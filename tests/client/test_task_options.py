"""TaskOptions: the one list of a task's submit options, and what the request makes of them."""

from __future__ import annotations

import json

import pytest

from inference_nb.client.errors import InvalidRequest
from inference_nb.client.profile import Profile
from inference_nb.client.task_options import TaskOptions
from inference_nb.client.tasks_core import TasksCore

CORE = TasksCore(Profile("tasks", "http://127.0.0.1:9", "k"))


def test_an_unknown_option_is_named_with_the_known_ones():
    with pytest.raises(InvalidRequest) as raised:
        TaskOptions.of({"sesion": "new", "setup": {}})
    assert raised.value.field == "sesion"
    assert str(raised.value).startswith("client.run has no option 'sesion'; its options are function, ")


def test_every_option_but_the_key_goes_in_the_body_in_its_place_and_none_is_left_out():
    options = TaskOptions(setup={"a": 1}, session="new", session_timeout=60, webhook="https://hook.test/x",
                          idempotency_key="key-1", variant="small")  # fmt: skip
    request = CORE.submit("demo/sleep", {"seconds": 0}, options)
    assert list(json.loads(request.content)) == ["app", "input", "setup", "session", "session_timeout", "webhook",
                                                 "variant"]  # fmt: skip
    assert request.headers["idempotency-key"] == "key-1"
    assert json.loads(CORE.submit("demo/sleep", {}).content) == {"app": "demo/sleep", "input": {}}


def test_each_submit_gets_its_own_key_only_where_the_server_keeps_keys():
    first, second = (CORE.submit("demo/sleep", {}).headers["idempotency-key"] for _ in range(2))
    assert first != second
    dropping = TasksCore(Profile("tasks", "http://127.0.0.1:9", "k", idempotent_create=False))
    assert "idempotency-key" not in dropping.submit("demo/sleep", {}).headers
    assert TaskOptions(idempotency_key="mine").keyed(honoured=True).idempotency_key == "mine"


@pytest.mark.parametrize("key", ["", "two\nlines", 7])
def test_a_key_that_cannot_be_a_header_is_refused(key):
    with pytest.raises(InvalidRequest) as raised:
        TaskOptions(idempotency_key=key)
    assert raised.value.field == "idempotency_key"
