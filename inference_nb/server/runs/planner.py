"""Planning a run: which functions to call, with what, and what the answer is.

The hosted service plans with an LLM. Offline there is none, so the embedded
server plans deterministically, in four steps anyone can predict:

1. **Rank** each function against the message: words of its name (camelCase
   and snake_case split) count 3, parameter names 2, description and service
   words 1; common words ("what", "our", "the"…) are ignored and plurals folded.
   Only a function with some match is a candidate; among candidates, each
   field name of the result schema found in the description counts 1, and a
   return type of the schema's kind (a list for an array) counts 1.
2. **Choose** the best-scoring function (ties: up to three). No match: no call.
3. **Arguments** from the message: an inline JSON object, `key=value` pairs,
   then quoted values for the string parameters still missing, then defaults.
4. **Shape** the outputs onto the result schema (see shaping.py).

`Planner` is the interface; the model planner (model_planner.py) implements the same
`plan` and calls functions as often as its step limit allows through `call`.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import TypeAdapter, ValidationError

from .functions import Function
from .shaping import shape

STOPWORDS = frozenset(
    "a an and are as at be by can could do does for from get give how i in is it list look looks like me my "
    "of on or our please show tell that the their them there these this to us we what when where which who "
    "with you your all any about find".split()
)
MAX_TIED = 3


@dataclass
class CallOutcome:
    function: Function
    arguments: dict[str, Any]
    ok: bool
    value: Any = None
    """The function's return value when ok, else a message saying why not."""


Call = Callable[[Function, dict[str, Any]], Awaitable[CallOutcome]]


@dataclass
class Conclusion:
    result: Any
    summary: str
    usage: dict[str, Any] | None = None
    """A model planner's requests, tokens and seconds, recorded on the run as `plannerUsage`."""


class Planner(Protocol):
    async def plan(
        self, message: str, functions: list[Function], schema: dict[str, Any] | None, call: Call
    ) -> Conclusion: ...

    def name(self, message: str) -> str: ...

    @property
    def label(self) -> str:
        """Who plans, recorded on each run as `plannedBy`: "deterministic" or the model's name."""
        ...


class DeterministicPlanner:
    label = "deterministic"

    async def plan(
        self, message: str, functions: list[Function], schema: dict[str, Any] | None, call: Call
    ) -> Conclusion:
        chosen = choose(message, functions, schema)
        if not chosen:
            names = ", ".join(f"{f.service}.{f.name}" for f in functions)
            return Conclusion(None, f"No function matches the message; the functions available are: {names}.")
        outcomes = [await call(function, extract_arguments(message, function)) for function in chosen]
        return conclude(outcomes, schema)

    def name(self, message: str) -> str:
        words = message.strip().rstrip("?.!").split()
        title = " ".join(words[:8])
        return (title[:1].upper() + title[1:]) if title else "Run"


def conclude(outcomes: list[CallOutcome], schema: dict[str, Any] | None) -> Conclusion:
    called = "; ".join(_describe_call(o) for o in outcomes)
    values = [o.value for o in outcomes if o.ok]
    if not values:
        return Conclusion(None, f"{called}.")  # what failed; the front ends say "No result" themselves
    value = values[0] if len(values) == 1 else values
    if schema is None:
        return Conclusion(value, f"Called {called}.")
    shaped = shape(values, schema)
    return Conclusion(shaped, f"Called {called}; shaped the output onto the result schema.")


def _describe_call(outcome: CallOutcome) -> str:
    label = f"{outcome.function.service}.{outcome.function.name}"
    arguments = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in _as_passed(outcome).items())
    if outcome.ok:
        return f"{label}({arguments})"
    return f"{label}({arguments}) failed: {outcome.value}"


def _as_passed(outcome: CallOutcome) -> dict[str, Any]:
    """The arguments as the function receives them: "qty=20" in a message is 20 to an int parameter,
    so it is shown without quotes. A value its parameter refuses is shown as extracted."""
    fields = outcome.function.arguments.model_fields
    shown = {}
    for name, value in outcome.arguments.items():
        try:
            shown[name] = TypeAdapter(fields[name].annotation).validate_python(value) if name in fields else value
        except ValidationError:
            shown[name] = value
    return shown


def words(text: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    found = set()
    for word in re.findall(r"[a-z0-9]+", spaced.lower()):
        if word in STOPWORDS:
            continue
        found.add(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return found


def score(message_words: set[str], function: Function) -> int:
    parameter_words = set().union(*(words(p) for p in function.parameter_names)) if function.parameter_names else set()
    return (
        3 * len(message_words & words(function.name))
        + 2 * len(message_words & parameter_words)
        + len(message_words & (words(function.description) | words(function.service)))
    )


def fit(schema: dict[str, Any] | None, function: Function) -> int:
    """How well a function's description and return type suit the result schema."""
    if not schema:
        return 0
    items = schema.get("items") if schema.get("type") == "array" else schema
    fields = set((items or {}).get("properties", {})) if isinstance(items, dict) else set()
    described = words(function.description) | set().union(*(words(p) for p in function.parameter_names), set())
    returns = typing.get_origin(function.returns) or function.returns
    kind_matches = (schema.get("type") == "array") == (isinstance(returns, type) and issubclass(returns, list | tuple))
    return len(set().union(*(words(f) for f in fields), set()) & described) + (1 if kind_matches else 0)


def choose(message: str, functions: list[Function], schema: dict[str, Any] | None = None) -> list[Function]:
    message_words = words(message)
    candidates = [(score(message_words, f), i, f) for i, f in enumerate(functions)]
    candidates = [(s + fit(schema, f), i, f) for s, i, f in candidates if s > 0]
    best = max((s for s, _, _ in candidates), default=0)
    return [f for s, _, f in candidates if s == best][:MAX_TIED]


_PAIR = re.compile(r"""(?P<key>[A-Za-z_][\w-]*)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s,;]+))""")
_QUOTED = re.compile(r""""([^"]+)"|“([^”]+)”|'([^']+)'""")


def extract_arguments(message: str, function: Function) -> dict[str, Any]:
    """What the message says about the function's parameters; missing ones keep their defaults."""
    wanted = {_fold(name): name for name in function.parameter_names}
    found: dict[str, Any] = {}
    rest = message
    inline = _inline_json(message)
    if inline is not None:
        found.update({wanted[_fold(k)]: v for k, v in inline[0].items() if _fold(k) in wanted})
        rest = message.replace(inline[1], " ")
    for match in _PAIR.finditer(rest):
        name = wanted.get(_fold(match["key"]))
        if name is not None and name not in found:
            quoted = match["dq"] if match["dq"] is not None else match["sq"]
            # A bare value ends where the sentence does: "days=3?" means 3.
            found[name] = quoted if quoted is not None else match["bare"].rstrip("?.!:)")
    rest = _PAIR.sub(" ", rest)
    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(rest)]
    for name in _string_parameters(function):
        if quoted and name not in found:
            found[name] = quoted.pop(0)
    return found


def _inline_json(message: str) -> tuple[dict[str, Any], str] | None:
    """The first JSON object in the message that is plain JSON data (no NaN, no lone surrogates)."""
    decoder = json.JSONDecoder(parse_constant=_refuse)
    for start in (m.start() for m in re.finditer(r"\{", message)):
        try:
            value, end = decoder.raw_decode(message, start)
            json.dumps(value, ensure_ascii=False).encode()
        except (ValueError, UnicodeError, RecursionError):
            continue
        if isinstance(value, dict):
            return value, message[start:end]
    return None


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON data")


def _string_parameters(function: Function) -> list[str]:
    """String parameters, required ones first."""
    properties = function.arguments.model_json_schema().get("properties", {})
    required = set(function.arguments.model_json_schema().get("required", []))

    def is_string(spec: dict[str, Any]) -> bool:
        return spec.get("type") == "string" or any(o.get("type") == "string" for o in spec.get("anyOf", []))

    names = [n for n, spec in properties.items() if is_string(spec)]
    return sorted(names, key=lambda n: n not in required)


def _fold(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).lower()
