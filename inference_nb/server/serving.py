"""Serving the app with uvicorn, the same way in-process and standalone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
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
    `settled` is set once its start-up is over, serving or not (`started` says which), so a
    thread starting it waits on that instead of polling.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.settled = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.settled.set()

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
    client that opens a connection and sends half a request head, or a body that trickles, would
    hold it forever. Here (docs/ARCHITECTURE.md, "Slow clients and many connections"):

    - a request's head must be complete within `request_timeout` of its first byte (of the
      connection, for a new one);
    - a body may pause at most `request_timeout`, and must arrive at `min_body_rate` bytes a second
      on average after a first `request_timeout` of grace: by `request_timeout + received / rate`
      seconds after it began (time the app itself does not read it does not count);
    - past `max_connections` open connections, a new one is answered 503 and closed at once.

    Else the connection is closed (the app, if it was reading the body, sees a disconnect).
    """

    def __init__(self, config: uvicorn.Config, *args, **kwargs) -> None:
        super().__init__(config, *args, **kwargs)
        self.logger = _MalformedAtDebug(self.logger, {})
        settings = config.app.state.config
        self._timeout: float = settings.request_timeout
        self._min_body_rate: float = settings.min_body_rate
        self._max_connections: int = config.app.state.max_connections
        self._head_started: float | None = None
        self._body_started: float | None = None
        self._body_bytes = 0
        self._last_data = self._last_check = 0.0
        self._watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        super().connection_made(transport)
        if len(self.connections) > self._max_connections:
            log.debug("refusing a connection from %s: %d are open", self.client, len(self.connections) - 1)
            transport.write(_TOO_MANY_CONNECTIONS)
            transport.close()
            return
        self._head_started = self._last_data = self._last_check = time.monotonic()
        self._arm()

    def data_received(self, data: bytes) -> None:
        now = self._last_data = time.monotonic()
        if self._head_started is None and self.conn.their_state is h11.IDLE:
            self._head_started = now  # a new request's head begins
        elif self._body_started is not None:
            self._body_bytes += len(data)
        super().data_received(data)
        state = self.conn.their_state
        if state is not h11.IDLE:
            self._head_started = None  # its head is complete
        if state is h11.SEND_BODY and self._body_started is None:
            self._body_started, self._body_bytes = now, 0
        elif state is not h11.SEND_BODY:
            self._body_started = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers a malformed request itself, before the app and its SecurityHeaders: the
        # same answer (text, then close), with those headers too.
        if self.cycle is not None and not self.cycle.response_complete:
            # The request's head was fine and its app is running; its body broke. The app must not
            # answer after this 400 (h11 would raise a traceback for it): to it the client has left.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if self.conn.our_state is not h11.SEND_RESPONSE and self.conn.our_state is not h11.IDLE:
            self.transport.close()  # an answer is already under way: no room for a 400, just close
            return
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
        since, self._last_check = now - self._last_check, now
        late = None
        if state is h11.IDLE and self._head_started is not None and now - self._head_started > self._timeout:
            late = "head took too long"
        elif state is h11.SEND_BODY and self.flow.read_paused:
            # A paused read is ours (the app has not taken the body yet), not the client's slowness.
            self._last_data += since
            if self._body_started is not None:
                self._body_started += since
        elif state is h11.SEND_BODY and now - self._last_data > self._timeout:
            late = "body stopped"
        elif state is h11.SEND_BODY and self._body_started is not None:
            allowed = self._timeout + self._body_bytes / self._min_body_rate
            if now - self._body_started > allowed:
                late = f"body came slower than {self._min_body_rate:g} bytes/s"
        if late is not None:
            log.debug("closing a connection from %s: its request's %s", self.client, late)
            self.transport.close()
            return
        self._arm()


_TOO_MANY_CONNECTIONS = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 59\r\n"
    b"connection: close\r\nretry-after: 1\r\n"
    + b"".join(f"{name}: {value}\r\n".encode() for name, value in SECURITY_HEADERS)
    + b"\r\nthe server has too many connections open; try again shortly"
)
FILES_BESIDES_CONNECTIONS = 256
"""Open files a server keeps for itself (its database, output files being written, app files)."""


def connections_allowed(wanted: int) -> int:
    """`wanted`, or as many connections as the process may open files for, beside its own.

    Raises the soft limit on open files (RLIMIT_NOFILE) towards the hard one first: a server at
    the limit cannot accept anyone, and asyncio then logs an error per refused accept.
    """
    try:
        import resource
    except ImportError:  # Windows: no such per-process limit to speak of
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FILES_BESIDES_CONNECTIONS
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FILES_BESIDES_CONNECTIONS))


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
    app.state.max_connections = connections_allowed(config.max_connections)
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
