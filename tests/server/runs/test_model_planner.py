"""The model planner against a scripted OpenAI-compatible endpoint, through the real runs API: the
protocol's edge cases (malformed answers, 429, 401, unknown model, a hang) that a real model does
not produce on cue. tests/server/runs/test_local_model.py runs the same loop with a real model."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from inference_nb.server import AppRegistry, EmbeddedServer, ModelSettings, ServerConfig, start_server
from inference_nb.server.runs.schemas import inline_refs

from ..receiver import free_port
from ..runs_helpers import client_for, cluster_with, create_run, run_to_end, wait_for_run
from ..scripted_model import MODEL, READY, Reply, ScriptedModel, answer, choose

ITEMS = [{"Item": "Towel", "stock": 5, "where": "north"}, {"Item": "Claw Hammer", "stock": 83, "where": "south"}]
SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
        "required": ["name", "qty"],
    },
}
ASK = {"message": "Which items are low on stock?", "result": {"schema": SCHEMA}}
SECRET_KEY = "sk-test-" + "k" * 24


def searchStock(name: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """Items in stock with their warehouse; filter by part of the name."""
    return [i for i in ITEMS if name is None or name.lower() in i["Item"].lower()][:limit]


def restockItem(name: str, qty: int) -> dict[str, Any]:
    """Order more units of an item."""
    return {"name": name, "ordered": qty}


@contextmanager
def served(settings: ModelSettings, tmp_path) -> Iterator[EmbeddedServer]:
    config = ServerConfig(data_dir=tmp_path / "data", token=secrets.token_urlsafe(32), llm=settings)
    with EmbeddedServer(config=config, registry=AppRegistry([]), host="127.0.0.1", port=0).start() as server:
        yield server


def settings_for(model: ScriptedModel, **limits: Any) -> ModelSettings:
    return ModelSettings(url=model.url, model=MODEL, **limits)


def test_a_call_chosen_by_the_model_is_a_job_and_its_answer_the_result(tmp_path):
    shaped = [{"name": "Towel", "qty": 5}]
    with ScriptedModel(choose("stock.searchStock", name="Towel"), READY, answer(shaped)) as model:
        with start_server(data_dir=tmp_path / "data", llm_url=model.url, llm_model=MODEL) as server:
            cluster = cluster_with(server, searchStock, service="stock")
            with client_for(server) as api:
                detail = run_to_end(api, cluster, ASK)
    run = detail["run"]
    assert (run["status"], run["result"], run["plannedBy"]) == ("done", shaped, MODEL)
    assert [(j["targetFn"], j["arguments"]["name"], j["status"]) for j in detail["jobs"]] == [
        ("searchStock", "Towel", "success")
    ]
    assert 'stock.searchStock(name="Towel")' in run["summary"]
    assert run["plannerUsage"]["requests"] == 3 and run["plannerUsage"]["promptTokens"] == 30
    first, second, last = model.requests
    assert "Which items are low on stock?" in first.messages[-1]["content"]
    assert "stock.searchStock" in first.messages[0]["content"]  # the functions, described to the model
    # The choice is constrained: the first step must be a call, with the function's own arguments schema.
    choice = first.body["response_format"]["json_schema"]["schema"]["properties"]["next"]
    assert choice["properties"]["function"] == {"const": "stock.searchStock"}
    assert choice["properties"]["arguments"]["properties"]["limit"]["type"] == "integer"
    assert "anyOf" in second.body["response_format"]["json_schema"]["schema"]["properties"]["next"]
    assert '"Item": "Towel"' in second.messages[-1]["content"]  # the function's output went back to the model
    assert last.body["response_format"]["json_schema"]["schema"]["properties"]["result"] == SCHEMA


def test_a_result_schema_with_definitions_reaches_the_model_inlined(tmp_path):
    schema = {"$defs": {"Item": SCHEMA["items"]}, "type": "array", "items": {"$ref": "#/$defs/Item"}}
    with ScriptedModel(choose("stock.searchStock"), READY, answer([{"name": "Towel", "qty": 5}])) as model:
        with served(settings_for(model), tmp_path) as server:
            cluster = cluster_with(server, searchStock, service="stock")
            with client_for(server) as api:
                run = run_to_end(api, cluster, {"message": "stock?", "result": {"schema": schema}})["run"]
        constraint = model.requests[-1].body["response_format"]["json_schema"]["schema"]
    assert run["result"] == [{"name": "Towel", "qty": 5}]
    assert constraint["properties"]["result"] == SCHEMA


def test_garbage_is_asked_again_then_the_result_is_null_with_a_summary(tmp_path):
    garbage = Reply("the towel, I think")
    wrong_shape = answer([{"name": "Towel"}])  # qty missing
    script = [garbage, choose("stock.searchStock"), READY, garbage, wrong_shape, wrong_shape]
    with ScriptedModel(*script) as model, served(settings_for(model), tmp_path) as server:
        cluster = cluster_with(server, searchStock, service="stock")
        with client_for(server) as api:
            run = run_to_end(api, cluster, ASK)["run"]
        reasks = [r.messages[-1]["content"] for r in model.requests[1:]]
    assert (run["status"], run["result"]) == ("done", None)
    assert "after 3 tries" in run["summary"] and "'qty' is a required property" in run["summary"]
    assert "not JSON" in reasks[0] and "Reply again" in reasks[0]
    assert "'qty' is a required property" in reasks[-1]


def test_an_answer_that_is_not_a_chat_completion_is_retried_not_a_server_error(tmp_path):
    script = [Reply(body="<html>proxy page</html>"), choose("stock.searchStock"), READY, answer([])]
    with ScriptedModel(*script) as model, served(settings_for(model), tmp_path) as server:
        cluster = cluster_with(server, searchStock, service="stock")
        with client_for(server) as api:
            run = run_to_end(api, cluster, ASK)["run"]
    assert (run["status"], run["result"]) == ("done", [])


def test_arguments_breaking_the_schema_are_a_failed_job_the_model_hears_about(tmp_path):
    script = [choose("orders.restockItem", name="Towel", qty="lots"), choose("orders.restockItem", name="Towel", qty=3)]
    script += [READY, answer({"name": "Towel", "ordered": 3})]
    with ScriptedModel(*script) as model, served(settings_for(model), tmp_path) as server:
        cluster = cluster_with(server, restockItem, service="orders")
        body = {"message": "restock towels", "result": {"schema": {"type": "object"}}}
        with client_for(server) as api:
            detail = run_to_end(api, cluster, body)
        told = model.requests[1].messages[-1]["content"]
    assert [j["status"] for j in detail["jobs"]] == ["failure", "success"]
    assert "qty" in detail["jobs"][0]["error"]
    assert told.startswith("orders.restockItem failed:") and "qty" in told
    assert detail["run"]["result"] == {"name": "Towel", "ordered": 3}


def test_an_approval_pauses_the_run_before_the_call(tmp_path):
    script = [choose("orders.restockItem", name="Towel", qty=3), READY, answer({"ordered": 3})]
    with ScriptedModel(*script) as model, served(settings_for(model), tmp_path) as server:
        cluster = cluster_with(server, restockItem, service="orders", requires_approval=True)
        with client_for(server) as api:
            run_id = create_run(api, cluster, {"message": "restock", "result": {"schema": {"type": "object"}}})
            paused = wait_for_run(api, cluster, run_id, "paused")
            assert len(model.requests) == 1  # the model waits with the run
            job = paused["jobs"][0]
            response = api.post(f"/clusters/{cluster}/jobs/{job['id']}/approval", json={"approved": True})
            assert response.status_code in (200, 204), response.text
            done = wait_for_run(api, cluster, run_id, "done")
    assert done["jobs"][0]["approved"] is True and done["run"]["result"] == {"ordered": 3}


def test_without_a_schema_the_text_answer_is_the_summary(tmp_path):
    script = [choose("stock.searchStock"), READY, Reply("Towels are low: 5 left in the north warehouse.")]
    with ScriptedModel(*script) as model, served(settings_for(model), tmp_path) as server:
        cluster = cluster_with(server, searchStock, service="stock")
        with client_for(server) as api:
            run = run_to_end(api, cluster, {"message": "Which items are low?"})["run"]
        last = model.requests[-1]
    assert run["summary"].startswith("Towels are low: 5 left") and "stock.searchStock()" in run["summary"]
    assert run["result"] == ITEMS and "response_format" not in last.body


def test_the_step_limit_ends_the_calls(tmp_path):
    script = [choose("stock.searchStock")] * 2 + [answer([])]
    with ScriptedModel(*script) as model, served(settings_for(model, max_steps=2), tmp_path) as server:
        cluster = cluster_with(server, searchStock, service="stock")
        with client_for(server) as api:
            detail = run_to_end(api, cluster, ASK)
    assert len(detail["jobs"]) == 2 and "step limit of 2" in detail["run"]["summary"]


def test_a_429_is_retried_as_the_endpoint_asks(tmp_path):
    busy = Reply(status=429, body={"error": {"message": "rate limited"}}, headers={"Retry-After": "0"})
    with ScriptedModel(busy, choose("stock.searchStock"), READY, answer([])) as model:
        with served(settings_for(model), tmp_path) as server:
            cluster = cluster_with(server, searchStock, service="stock")
            with client_for(server) as api:
                run = run_to_end(api, cluster, ASK)["run"]
    assert run["status"] == "done" and run["plannerUsage"]["requests"] == 4


def test_an_endpoint_that_stays_busy_fails_the_run_in_plain_words(tmp_path):
    busy = Reply(status=429, body={"error": {"message": "rate limited"}}, headers={"Retry-After": "0"})
    with ScriptedModel(always=busy) as model, served(settings_for(model), tmp_path) as server:
        cluster = cluster_with(server, searchStock, service="stock")
        with client_for(server) as api:
            run = run_to_end(api, cluster, ASK)["run"]
    assert run["status"] == "failed"
    assert f"{model.url}/chat/completions" in run["failureReason"] and MODEL in run["failureReason"]
    assert "HTTP 429" in run["failureReason"]


def test_a_refused_key_fails_the_run_naming_url_and_model_never_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("INFERENCE_NB_LLM_KEY", SECRET_KEY)
    refused = Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {SECRET_KEY}"}})
    with ScriptedModel(refused) as model:
        with start_server(data_dir=tmp_path / "data", llm_url=model.url, llm_model=MODEL) as server:
            assert SECRET_KEY not in repr(server) and SECRET_KEY not in repr(server.clusters)
            cluster = cluster_with(server, searchStock, service="stock")
            with client_for(server) as api:
                detail = run_to_end(api, cluster, ASK)
    reason = detail["run"]["failureReason"]
    assert model.requests[0].headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert "HTTP 401" in reason and model.url in reason and MODEL in reason and "INFERENCE_NB_LLM_KEY" in reason
    assert SECRET_KEY not in json.dumps(detail)


def test_an_unknown_model_fails_the_run(tmp_path):
    missing = Reply(status=404, body={"error": {"message": "model 'scripted-model' not found"}})
    with ScriptedModel(missing) as model, served(settings_for(model), tmp_path) as server:
        cluster = cluster_with(server, searchStock, service="stock")
        with client_for(server) as api:
            run = run_to_end(api, cluster, ASK)["run"]
    assert run["status"] == "failed" and "does not know this model" in run["failureReason"]
    assert "not found" in run["failureReason"] and MODEL in run["failureReason"]


def test_an_unreachable_endpoint_fails_the_run(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with served(ModelSettings(url=url, model="some-model"), tmp_path) as server:
        cluster = cluster_with(server, searchStock, service="stock")
        with client_for(server) as api:
            run = run_to_end(api, cluster, ASK)["run"]
    assert run["status"] == "failed" and run["plannedBy"] == "some-model"
    assert f"{url}/chat/completions" in run["failureReason"] and "could not be reached" in run["failureReason"]


def test_a_model_that_does_not_answer_in_time_fails_the_run(tmp_path):
    with ScriptedModel(Reply(hang=True)) as model, served(settings_for(model, call_timeout=0.3), tmp_path) as server:
        cluster = cluster_with(server, searchStock, service="stock")
        with client_for(server) as api:
            run = run_to_end(api, cluster, ASK)["run"]
    assert run["status"] == "failed" and "did not answer within 0.3 s" in run["failureReason"]


def test_a_refused_json_schema_format_falls_back_to_a_json_object_schema(tmp_path):
    refused = Reply(status=422, body={"detail": [{"loc": ["body", "response_format", "type"], "msg": "bad"}]})
    with ScriptedModel(refused, choose("stock.searchStock"), READY, answer([])) as model:
        with served(settings_for(model), tmp_path) as server:
            cluster = cluster_with(server, searchStock, service="stock")
            with client_for(server) as api:
                run = run_to_end(api, cluster, ASK)["run"]
        formats = [r.body["response_format"]["type"] for r in model.requests]
    assert run["status"] == "done" and formats == ["json_schema", "json_object", "json_object", "json_object"]
    assert "schema" in model.requests[1].body["response_format"]


def test_settings_say_what_is_wrong_and_hide_the_key():
    with pytest.raises(ValueError, match="must start with http"):
        ModelSettings(url="localhost:11434", model="m")
    with pytest.raises(ValueError, match="needs llm_model"):
        start_server(llm_url="http://127.0.0.1:1/v1")
    assert SECRET_KEY not in repr(ModelSettings(url="http://h/v1", model="m", key=SECRET_KEY))


def test_nested_models_references_are_inlined():
    schema = {
        "$defs": {"Item": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
    }
    item = {"type": "object", "properties": {"name": {"type": "string"}}}
    assert inline_refs(schema) == {"type": "object", "properties": {"items": {"type": "array", "items": item}}}
