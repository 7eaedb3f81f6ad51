"""Each client mistake on the runs API is a 4xx with a message naming the problem, never a 500; random bodies too."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from inference_nb.server import EmbeddedServer, start_server

from .runs_helpers import (
    INVENTORY_SCHEMA,
    SPEC_MESSAGE,
    client_for,
    create_run,
    error_of,
    get_run,
    run_to_end,
    strict_json,
    wait_for_run,
)

RUNS = "/clusters/demo/runs"


@pytest.fixture
def api(in_process):
    """Most requests here are refused by validation alone: in-process (tests/server/conftest.py)."""
    return in_process


def post_raw(api: httpx.Client, path: str, body: bytes) -> httpx.Response:
    return api.post(path, content=body, headers={"Content-Type": "application/json"})


def nested_schema(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "array", "items": schema}
    return schema


# creating a run


BAD_KEYWORD = {"type": "object", "properties": {"qty": {"minimum": "zero"}}}
ROWS = {"schema": INVENTORY_SCHEMA}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        pytest.param(
            {"message": "x", "result": {"schema": {"type": "nope"}}}, ["result.schema", "nope"], id="bad-type"
        ),
        pytest.param({"message": "x", "resultSchema": {"type": "nope"}}, ["type", "nope"], id="resultSchema"),
        pytest.param({"message": "x", "result": {"schema": BAD_KEYWORD}}, ["qty.minimum", "zero"], id="bad-keyword"),
        pytest.param({"message": "x", "result": {"schema": "rows"}}, ["result.schema"], id="schema-not-object"),
        pytest.param({"message": "", "result": ROWS}, ["message"], id="empty-message"),
        pytest.param({"message": " \n\t", "result": ROWS}, ["message"], id="blank-message"),
        pytest.param({"result": ROWS}, ["message"], id="no-message"),
        pytest.param({"message": 42}, ["message"], id="message-not-string"),
        pytest.param({"message": "a", "initialPrompt": "b"}, ["message", "initialPrompt"], id="prompts-disagree"),
        pytest.param({"message": "x", "id": "a b"}, ["id"], id="bad-id"),
        pytest.param({"message": "x", "runId": "short"}, ["id"], id="short-runId"),
        pytest.param({"message": "x", "id": "run-0001", "runId": "run-0002"}, ["id", "runId"], id="ids-disagree"),
        pytest.param({"message": "x", "name": "n" * 201}, ["name"], id="long-name"),
        pytest.param({"message": "x", "attachedFunctions": "f"}, ["attachedFunctions"], id="attached-not-list"),
        pytest.param([SPEC_MESSAGE], ["JSON object"], id="array-body"),
    ],
)
def test_a_bad_run_request_is_422_naming_the_field(api, body, named):
    message = error_of(api.post(RUNS, json=body), 422)
    assert all(word in message for word in named), message


@pytest.mark.parametrize(
    ("body", "named"),
    [(b"{message: 1}", "not valid JSON"), (b"", "empty"), (b'{"message": NaN}', "NaN"), (b"\xff", "not valid")],
    ids=["malformed", "empty", "nan", "not-utf8"],
)
def test_a_body_that_is_not_json_is_400(api, body, named):
    assert named in error_of(post_raw(api, RUNS, body), 400)


def test_an_attached_function_that_does_not_exist_fails_the_run_naming_it(api):
    body = {"message": SPEC_MESSAGE, "attachedFunctions": [{"service": "example", "function": "nope"}]}
    run = run_to_end(api, "demo", body)["run"]
    assert run["status"] == "failed" and "example.nope" in run["failureReason"]


def test_attached_functions_are_the_only_ones_the_run_may_call(api):
    body = {"message": SPEC_MESSAGE, "attachedFunctions": [{"service": "example", "function": "inventoryValue"}]}
    assert [job["targetFn"] for job in run_to_end(api, "demo", body)["jobs"]] == ["inventoryValue"]


# unknown clusters and runs


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/clusters/nowhere/runs"),
        ("GET", "/clusters/nowhere/runs"),
        ("GET", "/clusters/nowhere/runs/r1"),
        ("GET", "/clusters/nowhere/runs/r1/stream"),
        ("GET", "/clusters/nowhere/services"),
    ],
    ids=["create", "list", "get", "stream", "services"],
)
def test_an_unknown_cluster_is_404_naming_the_known_ones(api, method, path):
    message = error_of(api.request(method, path, json={"message": SPEC_MESSAGE}), 404)
    assert all(name in message for name in ("nowhere", "demo", "local")), message


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("GET", "/stream"), ("POST", "/cancel")])
def test_an_unknown_run_is_404_naming_it(api, method, suffix):
    assert "no-such-run" in error_of(api.request(method, f"{RUNS}/no-such-run{suffix}"), 404)


@pytest.mark.parametrize(
    ("params", "status", "named"),
    [
        ({"limit": 0}, 422, "limit"),
        ({"limit": 101}, 422, "limit"),
        ({"limit": "ten"}, 422, "limit"),
        ({"cursor": "abc"}, 400, "cursor"),
    ],
    ids=["limit-zero", "limit-too-big", "limit-not-number", "cursor-not-given-out"],
)
def test_a_bad_listing_parameter_is_a_4xx_naming_it(api, params, status, named):
    assert named in error_of(api.get(RUNS, params=params), status)


# server bugs: each test shows one


def after_stop(server: EmbeddedServer, response: httpx.Response) -> httpx.Response:
    """`response`, looked at once `server` has stopped.

    A 500 makes the server thread format a traceback while pytest formats the failure in this one; on
    CPython 3.11 the two can race (cpython#106905, "AST constructor recursion depth mismatch", an INTERNALERROR).
    In-process (`api` here) there is no server thread: an unhandled error is raised in the test itself.
    """
    server.stop()
    return response


@pytest.mark.parametrize("dialect", [[], 5], ids=["list", "number"])
def test_a_schema_with_a_non_string_dialect_is_422(api, dialect):
    response = api.post(RUNS, json={"message": "x", "resultSchema": {"$schema": dialect}})
    assert "$schema" in error_of(response, 422)


def test_a_deeply_nested_schema_is_a_4xx(api):
    response = api.post(RUNS, json={"message": "x", "resultSchema": nested_schema(150)})
    assert 400 <= response.status_code < 500, response.text


def test_a_schema_with_a_reference_to_nowhere_is_422(api):
    response = api.post(RUNS, json={"message": SPEC_MESSAGE, "result": {"schema": {"$ref": "#/$defs/row"}}})
    assert "#/$defs/row" in error_of(response, 422)


def test_a_client_id_with_a_trailing_newline_is_422(api):
    assert "id" in error_of(api.post(RUNS, json={"message": SPEC_MESSAGE, "id": "run-0001\n"}), 422)


@pytest.mark.parametrize("cursor", ["²", "9" * 5000, str(2**70)], ids=["superscript", "5000-digits", "beyond-int64"])
def test_a_cursor_the_server_never_gave_out_is_400(api, cursor):
    assert "cursor" in error_of(api.get(RUNS, params={"cursor": cursor}), 400)


@pytest.mark.parametrize(
    "inline", ['{"limit": NaN}', '{"limit": Infinity}', r'{"name": "\ud800"}'], ids=["nan", "infinity", "surrogate"]
)
def test_arguments_json_cannot_carry_do_not_break_reading_the_run(server, inline):
    with client_for(server) as api:  # a run that runs: real HTTP
        run_id = create_run(api, "demo", {"message": f"inventory {inline}"})
        deadline = time.monotonic() + 10
        while not any(run["id"] == run_id and run["status"] == "done" for run in api.get(RUNS).json()):
            assert time.monotonic() < deadline, f"run {run_id} never ended"
            time.sleep(0.01)
        response = after_stop(server, api.get(f"{RUNS}/{run_id}"))  # the list shows runs without their jobs
    assert response.status_code == 200, response.text
    assert strict_json(response.text)["jobs"][0]["arguments"]


# random bodies: never a 5xx

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
RUN_FIELDS = ["message", "initialPrompt", "result", "resultSchema", "id", "runId", "name", "attachedFunctions"]
SCHEMA_KEYWORDS = ["type", "properties", "items", "required", "enum", "anyOf", "minimum", "pattern", "$defs"]
messages = st.sampled_from([SPEC_MESSAGE, "restock name=Towel qty=1", "inventory value category=tools", "", " "]) | text
schemas = st.sampled_from([INVENTORY_SCHEMA, {"type": "object", "properties": {"units": {"type": "integer"}}}]) | (
    st.dictionaries(st.sampled_from(SCHEMA_KEYWORDS) | text, json_values, max_size=4)
)
run_ids = st.sampled_from(["fuzz-run-0001", "fuzz-run-0002", "fuzz-run-0003", "a b"]) | text
function_refs = st.fixed_dictionaries(
    {
        "service": st.sampled_from(["example", "nope"]) | text,
        "function": st.sampled_from(["searchInventory", "inventoryValue", "restock", "nope"]) | text,
    }
)


@st.composite
def near_valid_runs(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies with the request's fields, mostly of the right type, so that many runs are created."""
    body = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "resultSchema": schemas,
                "result": st.fixed_dictionaries({"schema": schemas}) | json_values,
                "name": text,
                "attachedFunctions": st.lists(function_refs | json_values, max_size=3),
            },
        )
    )
    body[draw(st.sampled_from(["message", "initialPrompt"]))] = draw(messages)
    if draw(st.booleans()):
        body[draw(st.sampled_from(["id", "runId"]))] = draw(run_ids)
    return body


random_field_runs = st.dictionaries(st.sampled_from(RUN_FIELDS) | text, json_values, max_size=5)
fuzz_settings = settings(max_examples=100, deadline=None)


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory) -> Iterator[httpx.Client]:
    with start_server(data_dir=tmp_path_factory.mktemp("runs-fuzz") / "data") as server, client_for(server) as api:
        yield api


@pytest.fixture(scope="module")
def paused(fuzz_api) -> dict[str, Any]:
    """A demo run waiting for approval of `restock`: the target of the random approvals."""
    return wait_for_run(
        fuzz_api, "demo", create_run(fuzz_api, "demo", {"message": "restock name=Hammer qty=5"}), "paused"
    )


def check_answer(response: httpx.Response) -> Any:
    """The answer's JSON, after checking it is no 5xx and a 4xx has the API's error shape."""
    assert response.status_code < 500, response.text
    event(f"HTTP {response.status_code}")
    if response.status_code == 204:
        assert response.content == b""
        return None
    answer = response.json()
    if response.status_code >= 400:
        assert set(answer) == {"error"}
        assert isinstance(answer["error"]["code"], str) and answer["error"]["code"]
        assert isinstance(answer["error"]["message"], str) and answer["error"]["message"]
    return answer


def check_create(api: httpx.Client, body: Any) -> None:
    response = post_raw(api, RUNS, json.dumps(body).encode())
    answer = check_answer(response)
    if response.status_code in (200, 201):
        assert set(answer) == {"id"}
        assert get_run(api, "demo", answer["id"])["run"]["id"] == answer["id"]


@fuzz_settings
@given(body=json_values)
def test_any_json_value_as_a_run_body(fuzz_api, body):
    check_create(fuzz_api, body)


@fuzz_settings
@given(body=near_valid_runs() | random_field_runs)
def test_run_bodies_built_from_the_real_fields(fuzz_api, body):
    check_create(fuzz_api, body)


@fuzz_settings
@given(target=st.sampled_from(["job", "input-request"]) | text, body=json_values)
def test_random_approval_bodies(fuzz_api, paused, target, body):
    (request,) = paused["inputRequests"]
    if target == "job":
        path = f"/clusters/demo/jobs/{request['jobId']}/approval"
    elif target == "input-request":
        path = f"{RUNS}/{paused['run']['id']}/input-requests/{request['id']}"
    else:
        path = f"/clusters/demo/jobs/{quote(target, safe='')}/approval"
    check_answer(post_raw(fuzz_api, path, json.dumps(body).encode()))
