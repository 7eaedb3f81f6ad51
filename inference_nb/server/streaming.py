"""Streams of JSON objects: NDJSON lines, or SSE when the client asks for it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import StreamingResponse

from .errors import Invalid
from .event_log import Event, Gap, Ready

KEEP_ALIVE_SECONDS = 15.0
"""Quiet time after which a stream sends a keep-alive (through proxies that cut idle connections);
the default of `ServerConfig.stream_keep_alive`."""


def keep_alive(request: Request) -> float:
    """The server's `stream_keep_alive`: seconds of quiet before a stream sends a keep-alive."""
    return request.app.state.config.stream_keep_alive


def json_stream(request: Request, texts: AsyncIterator[str | None], *, event: str | None) -> StreamingResponse:
    """Each JSON text as an NDJSON line or an SSE event named `event` (None: unnamed, the `message`
    an EventSource's `onmessage` receives); a None text becomes a keep-alive."""
    sse = "text/event-stream" in request.headers.get("accept", "")
    name = f"event: {event}\n" if event else ""

    async def lines() -> AsyncIterator[str]:
        async for text in texts:
            if text is None:
                yield ": keep-alive\n\n" if sse else "\n"  # NDJSON readers skip blank lines
            else:
                yield f"{name}data: {text}\n\n" if sse else text + "\n"

    media_type = "text/event-stream" if sse else "application/x-ndjson"
    return StreamingResponse(lines(), media_type=media_type, headers={"Cache-Control": "no-cache"})


def event_stream(
    request: Request,
    items: AsyncIterator[list[Ready | Event | Gap] | None],
    render: Callable[[Event], str],
    *,
    event: str,
) -> StreamingResponse:
    """An event stream (`EventLog.subscribe`) as NDJSON lines `{"id", "event", "data"}`, or as SSE
    with `id:` lines (which a browser's EventSource sends back as `Last-Event-ID`).

    `render` gives an event's data as JSON text; each event is named `event` ("task", "run"),
    besides "ready" (the stream starts) and "gap" (events were lost; see docs/ARCHITECTURE.md,
    "Event streams").
    """
    sse = "text/event-stream" in request.headers.get("accept", "")

    def line(seq: int, name: str, data: str) -> str:
        if sse:
            return f"id: {seq}\nevent: {name}\ndata: {data}\n\n"
        return f'{{"id":{seq},"event":"{name}","data":{data}}}\n'

    def text(item: Ready | Event | Gap) -> str:
        if isinstance(item, Ready):
            return line(item.id, "ready", json.dumps({"at": item.at}))
        if isinstance(item, Gap):
            message = f"events were lost: {item.reason}; list what you follow again, then read on"
            data = {"after": item.after, "oldest": item.oldest, "at": item.at, "message": message}
            return line(item.id, "gap", json.dumps(data))
        return line(item.id, event, render(item))

    async def lines() -> AsyncIterator[str]:
        async for batch in items:
            yield (": keep-alive\n\n" if sse else "\n") if batch is None else "".join(map(text, batch))

    media_type = "text/event-stream" if sse else "application/x-ndjson"
    return StreamingResponse(lines(), media_type=media_type, headers={"Cache-Control": "no-cache"})


def resume_point(request: Request) -> int | None:
    """Where a stream resumes: the `Last-Event-ID` header, else `?after=`, else None (from now on).

    Raises:
        Invalid: the id is not a whole number (the header or parameter named).
    """
    for name, raw in (("the Last-Event-ID header", request.headers.get("last-event-id")),
                      ("query parameter after", request.query_params.get("after"))):  # fmt: skip
        if raw is not None and raw.strip():
            try:
                return int(raw.strip())
            except ValueError:
                raise Invalid(f"{name} must be an event id from this stream (a whole number), not {raw!r}") from None
    return None


def query_ids(request: Request) -> frozenset[str]:
    """`?ids=a,b`: only these tasks' or runs' events (empty: all)."""
    raw = request.query_params.get("ids") or ""
    return frozenset(part.strip() for part in raw.split(",") if part.strip())
