"""A scripted OpenAI-compatible endpoint on loopback, for what a real model rarely does on cue:
malformed answers, a 429, a 401, an unknown model, a refused response_format, a hang.

Each POST to /v1/chat/completions takes the next scripted `Reply` (then `always`) and records the
request's JSON body and headers.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "scripted-model"


@dataclass(frozen=True)
class Reply:
    content: str | None = None
    """The assistant message's text (a JSON text for a structured answer)."""
    status: int = 200
    body: Any = None
    """The whole response body instead of a chat completion with `content`."""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    """Answer only when the endpoint is closed: a model that never answers."""


def choose(function: str, **arguments: Any) -> Reply:
    """The model's choice of a call, as the planner's choice schema asks for it."""
    return Reply(json.dumps({"next": {"function": function, "arguments": arguments}}))


def answer(result: Any) -> Reply:
    """The model's final answer to a run with a result schema."""
    return Reply(json.dumps({"result": result}))


READY = Reply(json.dumps({"next": {"answer": "ready"}}))


@dataclass(frozen=True)
class Received:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body["messages"]


class ScriptedModel:
    def __init__(self, *replies: Reply, always: Reply | None = None) -> None:
        self.requests: list[Received] = []
        self._replies = list(replies)
        self._always = always or Reply(status=500, body={"error": {"message": "the script has ended"}})
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, name="scripted-model", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        model = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                reply = model._next(Received(body, {k.lower(): v for k, v in self.headers.items()}))
                if reply.hang:
                    model._closing.wait()
                payload = reply.body if reply.body is not None else _completion(reply.content)
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the planner gave up waiting (a hang, timed out): nobody reads this answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def _next(self, request: Received) -> Reply:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()
            return self._replies.pop(0) if self._replies else self._always

    def __enter__(self) -> ScriptedModel:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()
        self._http.shutdown()
        self._http.server_close()


def _completion(content: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }
