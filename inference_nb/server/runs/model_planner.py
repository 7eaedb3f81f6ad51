"""Planning a run with a model behind an OpenAI-compatible endpoint (docs/ARCHITECTURE.md, "The model planner").

The model sees the message, the functions (names, descriptions, argument JSON Schemas) and the
result schema. Each step it chooses a call through a JSON Schema given as `response_format`: a
choice among the functions, each with its own arguments schema, which every common server
(OpenAI, Ollama, vLLM, llama.cpp) can constrain its output to. The first step must be a call
(a run exists to call its cluster's functions); later steps may call again or move on to the
answer. The answer is asked for with the result schema as the constraint, validated, and asked
again with the validation error a bounded number of times; then the result is null with a summary
saying why. An endpoint that cannot be used at all fails the run (`EndpointUnavailable`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx

from .chat import BadAnswer, ChatEndpoint, ModelSettings
from .functions import Function
from .planner import Call, CallOutcome, Conclusion, DeterministicPlanner, _describe_call
from .schemas import inline_refs, schema_problem

RESULT_CHARS = 4000
"""How much of a function's output the model is shown (a small model's context is short)."""

SYSTEM = """You carry out requests by calling functions, then answer from what they returned.
Functions:
{functions}
Reply with JSON only."""


class ModelPlanner:
    """A `Planner` that asks a model. `label` is the model's name, which each run records as `plannedBy`.

    Args:
        settings: the endpoint, model and limits.
        transport: the httpx transport for the endpoint (tests pass one; default: the network).
    """

    def __init__(self, settings: ModelSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.label = settings.model
        self._transport = transport
        self._style = settings.structured_output

    def name(self, message: str) -> str:
        return DeterministicPlanner().name(message)  # a title needs no model call

    async def plan(
        self, message: str, functions: list[Function], schema: dict[str, Any] | None, call: Call
    ) -> Conclusion:
        chat = ChatEndpoint(self.settings, structured_output=self._style, transport=self._transport)
        by_name = {f"{f.service}.{f.name}": f for f in functions}
        messages = [
            {"role": "system", "content": SYSTEM.format(functions="\n".join(_describe(f) for f in functions))},
            {"role": "user", "content": message},
        ]
        outcomes: list[CallOutcome] = []
        notes: list[str] = []
        for step in range(self.settings.max_steps):
            constraint = _choice_schema(functions, may_answer=step > 0)
            # Checked here only for its shape: arguments that break the function's schema are left to the
            # engine's validation, which makes them a failed job that the model is then told about.
            choice, problem = await self._ask(chat, messages, constraint, check=_loosened(constraint))
            if choice is None:
                notes.append(f"the model's choice of a call was unusable ({problem})")
                break
            chosen = choice["next"]
            if "function" not in chosen:
                break
            function = by_name[chosen["function"]]
            outcome = await call(function, chosen.get("arguments") or {})
            outcomes.append(outcome)
            messages.append({"role": "user", "content": _reported(outcome)})
        else:
            notes.append(f"stopped after the step limit of {self.settings.max_steps} calls")
        conclusion = await self._answer(chat, messages, outcomes, schema, notes)
        self._style = chat.structured_output
        conclusion.usage = chat.usage.as_json()
        return conclusion

    async def _answer(
        self,
        chat: ChatEndpoint,
        messages: list[dict[str, str]],
        outcomes: list[CallOutcome],
        schema: dict[str, Any] | None,
        notes: list[str],
    ) -> Conclusion:
        called = "Called " + "; ".join(_describe_call(o) for o in outcomes) if outcomes else "Called no function"
        prefix = "; ".join([called, *notes]) + "."
        if schema is None:
            messages.append({"role": "user", "content": "Now answer the request in a few plain sentences."})
            text = await self._text(chat, messages)
            values = [o.value for o in outcomes if o.ok]
            result = (values[0] if len(values) == 1 else values) if values else None
            return Conclusion(result, f"{text} ({prefix})" if text else f"{prefix} The model gave no answer.")
        schema = inline_refs(schema)  # nested under "result", its root-relative references would dangle
        messages.append(
            {
                "role": "user",
                "content": "Now answer the request from those results: reply with a JSON object "
                '{"result": ...} whose result fits this JSON Schema: ' + json.dumps(schema),
            }
        )
        wrapped = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
        answer, problem = await self._ask(chat, messages, wrapped)
        if answer is None:
            tries = self.settings.max_reasks + 1
            return Conclusion(
                None, f"{prefix} The model's answer did not satisfy the result schema after {tries} tries: {problem}"
            )
        return Conclusion(answer["result"], f"{prefix} The model shaped the answer onto the result schema.")

    async def _ask(
        self,
        chat: ChatEndpoint,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        check: dict[str, Any] | None = None,
    ) -> tuple[Any, str | None]:
        """The model's JSON answer, constrained to `schema` and fitting `check` (default: `schema`),
        asking again with what was wrong; else (None, why)."""
        problem = None
        for _ in range(self.settings.max_reasks + 1):
            try:
                text = await chat.complete(messages, schema=schema)
            except BadAnswer as bad:
                problem = str(bad)
                continue
            try:
                value = json.loads(text)
            except ValueError:
                problem = f"not JSON: {text[:200]!r}"
            else:
                problem = schema_problem(value, check or schema)
                if problem is None:
                    messages.append({"role": "assistant", "content": text})
                    return value, None
            messages += [
                {"role": "assistant", "content": text},
                {"role": "user", "content": f"That reply is not usable: {problem}. Reply again, with JSON only."},
            ]
        return None, problem

    async def _text(self, chat: ChatEndpoint, messages: list[dict[str, str]]) -> str:
        for _ in range(self.settings.max_reasks + 1):
            try:
                return (await chat.complete(messages)).strip()
            except BadAnswer:
                continue
        return ""


def _describe(function: Function) -> str:
    parameters = json.dumps(function.arguments.model_json_schema().get("properties", {}))
    return f"- {function.service}.{function.name}: {function.description or '(no description)'} Arguments: {parameters}"


def _choice_schema(functions: list[Function], *, may_answer: bool) -> dict[str, Any]:
    """What the model may do next: call one of the functions with arguments fitting its schema, or
    (after the first call) go on to the answer."""
    options: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {
                "function": {"const": f"{f.service}.{f.name}"},
                "arguments": _arguments_schema(f),
            },
            "required": ["function", "arguments"],
        }
        for f in functions
    ]
    if may_answer:
        options.append({"type": "object", "properties": {"answer": {"const": "ready"}}, "required": ["answer"]})
    choice = options[0] if len(options) == 1 else {"anyOf": options}
    return {"type": "object", "properties": {"next": choice}, "required": ["next"]}


def _loosened(choice: dict[str, Any]) -> dict[str, Any]:
    """The choice schema with each function's arguments only required to be an object."""
    loose = copy.deepcopy(choice)
    inner = loose["properties"]["next"]
    for option in inner.get("anyOf", [inner]):
        if "arguments" in option["properties"]:
            option["properties"]["arguments"] = {"type": "object"}
    return loose


def _arguments_schema(function: Function) -> dict[str, Any]:
    schema = inline_refs(function.arguments.model_json_schema())
    schema.pop("title", None)
    return schema


def _reported(outcome: CallOutcome) -> str:
    label = f"{outcome.function.service}.{outcome.function.name}"
    if not outcome.ok:
        return f"{label} failed: {outcome.value}. Fix the arguments, call another function, or answer."
    text = json.dumps(outcome.value, default=str)
    if len(text) > RESULT_CHARS:
        text = text[:RESULT_CHARS] + f"… ({len(text) - RESULT_CHARS} more characters not shown)"
    return f"{label} returned: {text}"
