"""A key never shows: not in reprs, errors, log lines or what a notebook would save."""

from __future__ import annotations

import json
import logging

import pytest

from inference_nb.api import Client
from inference_nb.client.errors import AuthenticationError, InferenceError
from inference_nb.client.profile import Profile


def test_no_key_in_reprs_displays_errors_or_logs(embedded, caplog):
    caplog.set_level(logging.DEBUG)
    key = embedded.token
    client = Client(base_url=embedded.url, key=key)
    run = client.run("demo/picture", {"prompt": "A sunset", "width": 64, "height": 64}).wait()
    failed = client.run("demo/fail", {"message": "no"})
    with pytest.raises(InferenceError) as failure:
        failed.wait()
    data, metadata = run._repr_mimebundle_()
    shown = [
        repr(client), repr(run), repr(failed), repr(embedded), repr(client._tasks_profile),
        str(failure.value), json.dumps(data), json.dumps(metadata), caplog.text,
    ]  # fmt: skip
    assert not [text for text in shown if key in text]


def test_a_wrong_key_is_an_authentication_error_that_does_not_quote_it(embedded):
    wrong = "not-the-key-" + "x" * 20
    with pytest.raises(AuthenticationError) as raised:
        Client(base_url=embedded.url, key=wrong).run("demo/picture", {"prompt": "p"})
    assert wrong not in str(raised.value) and "401" in str(raised.value)


def test_a_profile_refuses_a_key_in_the_url():
    with pytest.raises(InferenceError, match="credentials"):
        Profile("tasks", "http://user:secret@127.0.0.1:1", "k")
    assert "k3y" not in repr(Profile("tasks", "http://127.0.0.1:1", "k3y"))
