"""Random bodies for POST /run: never a 5xx, always JSON, 4xx in the API's error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from inference_nb.server import EmbeddedServer, start_server
from inference_nb.server.apps.builtin import BUILTIN_APPS
from inference_nb.server.apps.registry import app_id

from .helpers import EchoV1, EchoV2

FUZZ_APPS = [EchoV1, EchoV2]
APP_IDS = sorted({ident for app in [*BUILTIN_APPS, *FUZZ_APPS] for ident in (app.name, app_id(app))})
REQUEST_FIELDS = ["app", "input", "setup", "infra", "workers", "webhook", "session", "session_timeout"]
VALID_INPUTS = [{"prompt": "A sunset"}, {"action": "init"}, {"action": "process"}, {"text": "hi"}, {"seconds": 0.01}]
"""Inputs some apps accept, so that random requests also reach sessions, webhooks and running tasks."""
CLOSED_PORT_WEBHOOK = "http://127.0.0.1:9/hook"

text = st.text(st.characters(exclude_categories=()), max_size=20)  # lone surrogates included
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(text, json_values, max_size=4)
near_valid_requests = st.fixed_dictionaries(
    {"app": st.sampled_from(APP_IDS) | text, "input": st.sampled_from(VALID_INPUTS) | json_objects},
    optional={
        "setup": json_objects,
        "infra": st.sampled_from(["cloud", "private"]),
        "workers": st.lists(text, max_size=3),
        "webhook": st.sampled_from([CLOSED_PORT_WEBHOOK, "ftp://x"]) | text,
        "session": st.sampled_from(["new", "sess_missing"]),
        "session_timeout": st.integers(-10, 4000) | st.floats(allow_nan=False, allow_infinity=False),
    },
)
"""Bodies with the request's fields, mostly of the right type, so that many get past validation."""
random_field_requests = st.dictionaries(st.sampled_from(REQUEST_FIELDS) | text, json_values, max_size=5)
"""The request's field names (and others) with any JSON values."""

fuzz_settings = settings(max_examples=100, deadline=None)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path_factory.mktemp("fuzz") / "data", apps=FUZZ_APPS) as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_api(fuzz_server: EmbeddedServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {fuzz_server.token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=fuzz_server.url, headers=headers, timeout=30) as client:
        yield client


def check_answer(api: httpx.Client, body: bytes) -> None:
    response = api.post("/run", params={"wait": "false"}, content=body)
    assert response.status_code < 500, response.text
    answer = response.json()
    if response.status_code >= 400:
        assert set(answer) == {"error"}
        assert isinstance(answer["error"]["code"], str)
        assert isinstance(answer["error"]["message"], str) and answer["error"]["message"]
    else:
        assert answer["id"].startswith("task_")
        assert isinstance(answer["status"], int)


@fuzz_settings
@given(body=json_values)
def test_any_json_value_as_the_body(fuzz_api, body):
    check_answer(fuzz_api, json.dumps(body).encode())


@fuzz_settings
@given(body=near_valid_requests | random_field_requests)
def test_requests_built_from_the_real_fields(fuzz_api, body):
    check_answer(fuzz_api, json.dumps(body).encode())


@fuzz_settings
@given(body=st.binary(max_size=200))
@example(body=b"")
@example(body=b"1" * 5000)  # more digits than Python converts to int by default
@example(body=b'{"app": "demo/counter", "input": {}, "setup": NaN}')
@example(body=b'{"app": "demo/counter", "input": {"note": "\xff"}}')
@example(body=b"[" * 100_000)
def test_raw_bytes_as_the_body(fuzz_api, body):
    check_answer(fuzz_api, body)
