"""A thin client of the OpenAI chat-completions protocol, for the model planner.

Any compatible endpoint works (OpenAI, Ollama, vLLM, llama.cpp's servers). Everything it can go
wrong with is said in plain words naming the endpoint's URL and the model, never the key
(docs/ARCHITECTURE.md, "The model planner").
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

KEY_ENV = "INFERENCE_NB_LLM_KEY"
URL_ENV = "INFERENCE_NB_LLM_URL"
MODEL_ENV = "INFERENCE_NB_LLM_MODEL"
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
RETRIES = 3
LONGEST_RETRY_WAIT = 10.0


@dataclass(frozen=True)
class ModelSettings:
    """Which model plans runs, and its limits. The repr never shows the key.

    Raises:
        ValueError: `url` is not http(s), `model` is empty, or a limit is not positive.
    """

    url: str
    """The endpoint's base URL (`http://host:port/v1`) or its full `/chat/completions` URL."""
    model: str
    """The model's name as the endpoint knows it."""
    key: str | None = field(default=None, repr=False)
    """The API key, sent as `Authorization: Bearer`; from `$INFERENCE_NB_LLM_KEY` only."""
    call_timeout: float = 60.0
    """Seconds one request to the model may take."""
    run_timeout: float = 300.0
    """Seconds of waiting on the model per run (time waiting for approvals does not count)."""
    max_steps: int = 4
    """Function calls per run at most."""
    max_reasks: int = 2
    """Times an answer that is not what was asked for (not JSON, not fitting the schema) is asked again."""
    structured_output: Literal["json_schema", "json_object"] | None = None
    """How the answer's JSON Schema is sent: OpenAI's `json_schema`, or `json_object` with a `schema`
    (llama-cpp-python's server). None: `json_schema`, falling back to the other when it is refused."""

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"the model endpoint URL must start with http:// or https://, not {self.url!r}")
        if not self.model.strip():
            raise ValueError("the model name must not be empty (the model the endpoint should use)")
        for name in ("call_timeout", "run_timeout", "max_steps"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")
        if self.max_reasks < 0:
            raise ValueError(f"max_reasks must be 0 or more, not {self.max_reasks}")

    @property
    def completions_url(self) -> str:
        url = self.url.rstrip("/")
        return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


def key_from_environment() -> str | None:
    return os.environ.get(KEY_ENV, "").strip() or None


class EndpointUnavailable(Exception):
    """The model cannot plan this run at all (unreachable, refused, unknown model, out of time):
    the run fails with this message as its failureReason."""


class BadAnswer(Exception):
    """The endpoint answered, but not with a chat completion; asked again like any unusable answer."""


@dataclass
class Usage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "seconds": round(self.seconds, 3),
        }


class ChatEndpoint:
    """One run's conversation partner: sends chat completions, counts tokens and time.

    Args:
        settings: the endpoint, model and limits.
        transport: the httpx transport (tests pass one; default: the network).
    """

    def __init__(
        self,
        settings: ModelSettings,
        *,
        structured_output: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.usage = Usage()
        self.structured_output = structured_output or settings.structured_output
        """How JSON Schemas are sent; set when the endpoint refused one way and took the other."""
        self._transport = transport

    def _where(self) -> str:
        return f"the model endpoint {self.settings.completions_url} (model {self.settings.model!r})"

    async def complete(self, messages: list[dict[str, str]], *, schema: dict[str, Any] | None = None) -> str:
        """The text of the model's answer to `messages`, constrained to `schema` when given.

        Raises:
            EndpointUnavailable: the endpoint cannot be used (see the class).
            BadAnswer: the endpoint's answer is not a chat completion.
        """
        body: dict[str, Any] = {"model": self.settings.model, "messages": messages, "temperature": 0}
        if schema is None:
            return await self._send(body)
        style = self.structured_output or "json_schema"
        try:
            return await self._send({**body, "response_format": _response_format(style, schema)})
        except _FormatRefused as refused:
            if self.structured_output is not None:
                raise EndpointUnavailable(f"{self._where()} refused the response_format {style!r}: {refused}") from None
        self.structured_output = "json_object"  # remembered: the next request goes this way at once
        try:
            return await self._send({**body, "response_format": _response_format("json_object", schema)})
        except _FormatRefused as refused:
            raise EndpointUnavailable(
                f"{self._where()} takes no JSON Schema as response_format (neither json_schema nor json_object "
                f"with a schema): {refused}"
            ) from None

    async def _send(self, body: dict[str, Any]) -> str:
        headers = {"Authorization": f"Bearer {self.settings.key}"} if self.settings.key else {}
        for attempt in range(RETRIES + 1):
            left = self.settings.run_timeout - self.usage.seconds
            if left <= 0:
                raise EndpointUnavailable(
                    f"{self._where()} used up this run's {self.settings.run_timeout:g} s of model time"
                )
            started = time.monotonic()
            try:
                async with httpx.AsyncClient(
                    transport=self._transport, timeout=min(self.settings.call_timeout, left)
                ) as client:
                    response = await client.post(self.settings.completions_url, json=body, headers=headers)
            except httpx.TimeoutException:
                raise EndpointUnavailable(
                    f"{self._where()} did not answer within {min(self.settings.call_timeout, left):g} s"
                ) from None
            except httpx.HTTPError as error:
                raise EndpointUnavailable(f"{self._where()} could not be reached: {self._scrub(str(error))}") from None
            finally:
                self.usage.seconds += time.monotonic() - started
            self.usage.requests += 1
            if response.status_code in RETRIED_STATUSES and attempt < RETRIES:
                await asyncio.sleep(_retry_wait(response, attempt))
                continue
            return self._content(response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _content(self, response: httpx.Response) -> str:
        status = response.status_code
        if status >= 400:
            said = self._scrub(_error_text(response))
            # llama-cpp-python's server answers an unknown response_format type with a 500.
            if status in (400, 422, 500) and "response_format" in said:
                raise _FormatRefused(said)
            if status in (401, 403):
                raise EndpointUnavailable(
                    f"{self._where()} refused the request (HTTP {status}): check the key in ${KEY_ENV}. {said}".strip()
                )
            if status == 404:
                raise EndpointUnavailable(f"{self._where()} does not know this model or path (HTTP 404). {said}")
            if status in RETRIED_STATUSES:
                raise EndpointUnavailable(f"{self._where()} kept answering HTTP {status} after {RETRIES} retries")
            raise EndpointUnavailable(f"{self._where()} answered HTTP {status}. {said}".strip())
        try:
            body = response.json()
            usage = body.get("usage") or {}
            self.usage.prompt_tokens += int(usage.get("prompt_tokens") or 0)
            self.usage.completion_tokens += int(usage.get("completion_tokens") or 0)
            content = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise BadAnswer("the endpoint's answer is not a chat completion") from None
        if not isinstance(content, str):
            raise BadAnswer("the model's answer has no text content")
        return content

    def _scrub(self, text: str) -> str:
        key = self.settings.key
        return text.replace(key, "<key>") if key else text


class _FormatRefused(Exception):
    pass


def _response_format(style: str, schema: dict[str, Any]) -> dict[str, Any]:
    if style == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": False}}


def _retry_wait(response: httpx.Response, attempt: int) -> float:
    try:
        asked = float(response.headers.get("retry-after", ""))
    except ValueError:
        asked = 0.5 * 2**attempt
    return max(0.0, min(asked, LONGEST_RETRY_WAIT))


def _error_text(response: httpx.Response) -> str:
    """The endpoint's own message (OpenAI's `{"error": {"message": ...}}` or any text), shortened."""
    try:
        body = response.json()
        error = body.get("error", body) if isinstance(body, dict) else body
        text = error.get("message") or json.dumps(error) if isinstance(error, dict) else str(error)
    except ValueError:
        text = response.text
    text = " ".join(str(text).split())
    return text[:300] + ("…" if len(text) > 300 else "")
