"""Random bodies for POST /run: never a 5xx, always JSON, 4xx in the API's error shape, and never a
traceback in the server's log (nor from broken framing or clients that leave mid-body)."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
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

fuzz_settings = settings(max_examples=int(os.environ.get("INFERENCE_NB_FUZZ_EXAMPLES", 700)), deadline=None)
"""700 per test, 2,100 requests in all (measured: about 12 s on one worker); benchmarks/server_fuzz.py
sets INFERENCE_NB_FUZZ_EXAMPLES for a 20,000-request run."""
LOGGERS = ["", "uvicorn", "inference_nb"]
"""Where the server's log goes: uvicorn's own tree does not propagate to the root."""


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path_factory.mktemp("fuzz") / "data", apps=FUZZ_APPS) as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_api(fuzz_server: EmbeddedServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {fuzz_server.token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=fuzz_server.url, headers=headers, timeout=30) as client:
        yield client


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[str]:
        """Records that carry a traceback or are errors: none may come from a client's input."""
        return [self.format(r) for r in self.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.fixture
def server_log() -> Iterator[Captured]:
    """The server's log during one test (attached per test: each server start reconfigures uvicorn's)."""
    handler = Captured()
    ours = logging.getLogger("inference_nb")
    level, ours.level = ours.level, logging.DEBUG  # the one-line notes of clients that left are debug
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    yield handler
    for name in LOGGERS:
        logging.getLogger(name).removeHandler(handler)
    ours.setLevel(level)


def fuzz(api: httpx.Client, log: Captured, strategy, encode=lambda body: json.dumps(body).encode()) -> Counter:
    """Sends each of the strategy's bodies; returns the answers counted by class (2, 4, 5 for 2xx...)."""
    classes: Counter = Counter()

    @fuzz_settings
    @given(body=strategy)
    def send(body):
        classes[check_answer(api, encode(body))] += 1

    send()
    assert classes[5] == 0, classes
    assert log.tracebacks() == []
    return classes


def check_answer(api: httpx.Client, body: bytes) -> int:
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
    return response.status_code // 100


def test_any_json_value_as_the_body(fuzz_api, server_log):
    classes = fuzz(fuzz_api, server_log, json_values)
    assert classes[4] > 0


def test_requests_built_from_the_real_fields(fuzz_api, server_log):
    classes = fuzz(fuzz_api, server_log, near_valid_requests | random_field_requests)
    assert classes[2] > 0 and classes[4] > 0  # both accepted tasks and refusals were reached


RAW_EXAMPLES = [
    b"",
    b"1" * 5000,  # more digits than Python converts to int by default
    b'{"app": "demo/counter", "input": {}, "setup": NaN}',
    b'{"app": "demo/counter", "input": {"note": "\xff"}}',
    b"[" * 100_000,
]


def test_raw_bytes_as_the_body(fuzz_api, server_log):
    for body in RAW_EXAMPLES:
        check_answer(fuzz_api, body)
    fuzz(fuzz_api, server_log, st.binary(max_size=200), encode=lambda body: body)


BROKEN = [
    b'POST /run HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{"app"',
    b"POST /run HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /run HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n",
    b"\x00\x01 not HTTP at all\r\n\r\n",
    b"GET /apps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nBad Header\r\n\r\n",
    # Without the token: the 401 is under way when the broken body arrives.
    b"POST /run HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /files HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
]
"""A client that leaves mid-body, broken chunking, framing that contradicts itself, garbage; with the token
and without."""


def test_broken_framing_and_clients_that_leave_log_no_traceback(fuzz_server, server_log):
    url = httpx.URL(fuzz_server.url)
    for template in BROKEN:
        with socket.create_connection((url.host, url.port), timeout=10) as sock:
            sock.sendall(template.replace(b"%s", fuzz_server.token.encode()))
            sock.settimeout(0.2)
            try:
                sock.recv(65536)  # a 400 for what the server could parse; nothing for a body it waits on
            except TimeoutError:
                pass
    # The server handles each leaving client on its own loop: wait until all have been logged.
    deadline = time.monotonic() + 10
    while sum("went away" in r.getMessage() for r in server_log.records) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sum("went away" in r.getMessage() for r in server_log.records) >= 2
    assert server_log.tracebacks() == []
    assert [r.getMessage() for r in server_log.records if r.levelno >= logging.WARNING] == []
