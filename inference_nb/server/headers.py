"""The security headers every response carries, set in one place for the whole app."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    # No response may be sniffed into another type: an uploaded "text/plain" is never run as HTML.
    ("x-content-type-options", "nosniff"),
    # Nothing this server sends is a page meant to run: a served SVG or HTML file (an app's output,
    # an upload) opened in a browser gets no scripts, no requests and a unique origin.
    ("content-security-policy", "default-src 'none'; sandbox"),
]


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every response, errors and 500s included (it wraps the whole app)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
