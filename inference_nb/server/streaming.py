"""Streams of JSON objects: NDJSON lines, or SSE when the client asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import StreamingResponse

KEEP_ALIVE_SECONDS = 15.0
"""Quiet time after which a stream sends a keep-alive (through proxies that cut idle connections)."""


def json_stream(request: Request, texts: AsyncIterator[str | None], *, event: str) -> StreamingResponse:
    """Each JSON text as an NDJSON line or an SSE `event`; a None becomes a keep-alive."""
    sse = "text/event-stream" in request.headers.get("accept", "")

    async def lines() -> AsyncIterator[str]:
        async for text in texts:
            if text is None:
                yield ": keep-alive\n\n" if sse else "\n"  # NDJSON readers skip blank lines
            else:
                yield f"event: {event}\ndata: {text}\n\n" if sse else text + "\n"

    media_type = "text/event-stream" if sse else "application/x-ndjson"
    return StreamingResponse(lines(), media_type=media_type, headers={"Cache-Control": "no-cache"})
