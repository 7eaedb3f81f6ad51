"""Serving the app with uvicorn, the same way in-process and standalone."""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette


class GracefulServer(uvicorn.Server):
    """Ends tasks in flight *before* uvicorn waits for open requests to finish.

    A client holding `POST /run` (or a stream) then gets the failed task and a
    clean end, instead of being cut off when uvicorn's grace period runs out.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        if isinstance(app, Starlette):
            app.state.engine.fail_in_flight()
            app.state.runs.fail_in_flight()
        await super().shutdown(sockets=sockets)


def make_server(app: Starlette) -> GracefulServer:
    return GracefulServer(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    # asyncio only sets TCP_NODELAY on connections from sockets it made itself;
    # without it, Nagle plus delayed ACK hold back answers on a kept-alive
    # connection by ~40 ms. Accepted sockets inherit it from the listener.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_url(app: Starlette, sock: socket.socket) -> str:
    """The URL to print for `sock`; also the app's public URL unless its config sets one.

    A wildcard address (0.0.0.0, ::) is no URL anyone can reach: then the app builds URLs from the
    address each connection reached instead.
    """
    url = url_of(sock)
    if app.state.public_url is None and sock.getsockname()[0] not in ("0.0.0.0", "::"):
        app.state.public_url = url
    return app.state.public_url or url
