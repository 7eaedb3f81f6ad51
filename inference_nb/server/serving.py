"""Serving the app with uvicorn, the same way in-process and standalone."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import h11
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from .headers import SECURITY_HEADERS

log = logging.getLogger("inference_nb.server")


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
            app.state.engine.events.close()  # event streams send those failures, then end
            app.state.runs.events.close()
        await super().shutdown(sockets=sockets)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with the limits it lacks on what a client may leave unfinished.

    uvicorn times out only an idle kept-alive connection, and any byte cancels that timer: a
    client that opens a connection and sends half a request head, or a body that stops, would
    hold it forever. Here a request's head must be complete within `request_timeout` of its first
    byte (of the connection, for a new one), and a body may pause at most that long; else the
    connection is closed (the app, if it was reading the body, sees a disconnect).
    """

    def __init__(self, config: uvicorn.Config, *args, **kwargs) -> None:
        super().__init__(config, *args, **kwargs)
        self.logger = _MalformedAtDebug(self.logger, {})
        self._timeout: float = config.app.state.config.request_timeout
        self._head_started: float | None = None
        self._last_data = 0.0
        self._watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        super().connection_made(transport)
        self._head_started = self._last_data = time.monotonic()
        self._arm()

    def data_received(self, data: bytes) -> None:
        now = self._last_data = time.monotonic()
        if self._head_started is None and self.conn.their_state is h11.IDLE:
            self._head_started = now  # a new request's head begins
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head_started = None  # its head is complete

    def connection_lost(self, exc: Exception | None) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers a malformed request itself, before the app and its SecurityHeaders: the
        # same answer (text, then close), with those headers too.
        body = msg.encode("ascii", "replace")
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *((name.encode(), value.encode()) for name, value in SECURITY_HEADERS),
        ]
        for event in (h11.Response(status_code=400, headers=headers), h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()

    def _arm(self) -> None:
        self._watchdog = self.loop.call_later(max(0.05, self._timeout / 4), self._check)

    def _check(self) -> None:
        if self.transport.is_closing():
            return
        now, state = time.monotonic(), self.conn.their_state
        head_late = state is h11.IDLE and self._head_started is not None and now - self._head_started > self._timeout
        # A paused read is ours (the app has not taken the body yet), not the client's slowness.
        body_late = state is h11.SEND_BODY and not self.flow.read_paused and now - self._last_data > self._timeout
        if head_late or body_late:
            log.debug("closing a connection from %s: its request %s", self.client, "head" if head_late else "body")
            self.transport.close()
            return
        self._arm()


class _MalformedAtDebug(logging.LoggerAdapter):
    """uvicorn's logger for one connection, with its warning about a malformed request (broken
    chunking, garbage instead of a request line) at debug: the client's fault, answered with a
    400, and anyone on the network can fill a log with it."""

    @property
    def level(self) -> int:  # uvicorn reads it before its trace logging
        return self.logger.level

    def warning(self, msg, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        if msg == "Invalid HTTP request received.":
            log.debug("invalid HTTP request received (answered 400)")
        else:
            super().warning(msg, *args, **kwargs)


def make_server(app: Starlette) -> GracefulServer:
    config = app.state.config
    return GracefulServer(
        uvicorn.Config(
            app,
            http=GuardedH11Protocol,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=config.keep_alive_timeout,
        )
    )


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
