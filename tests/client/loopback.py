"""Loopback stand-ins for what a real server will not do on demand: a scripted HTTP server, and a TCP
proxy that cuts one connection short."""

from __future__ import annotations

import json
import selectors
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

SHUTDOWN_POLL = 0.02
"""How often a serve_forever loop looks for shutdown() (the default half second slows every test)."""

Answer = tuple[int, dict[str, str], Any]
"""status, headers, JSON body"""


@contextmanager
def scripted_server(answer: Callable[[str, str], Answer]) -> Iterator[tuple[str, list[tuple[float, str, int]]]]:
    """An HTTP server on 127.0.0.1 answering `answer(method, path)`; yields its URL and a log of
    (time.monotonic() when the request came, "METHOD /path", status answered)."""
    log: list[tuple[float, str, int]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            came = time.monotonic()
            self.rfile.read(int(self.headers.get("content-length") or 0))
            status, headers, body = answer(self.command, self.path)
            log.append((came, f"{self.command} {self.path}", status))
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"content-type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


class CuttingProxy:
    """A TCP relay on 127.0.0.1 in front of `upstream` (a base URL).

    The FIRST connection whose request contains `marker` is cut short: its request goes to the
    server, the server's answer is held back until `keep(answer so far)` says how many of its bytes
    to pass on (None: not yet), and then the connection is closed. `cut` is set when that happened.
    Every other connection is relayed as it is.
    """

    def __init__(self, upstream: str, marker: bytes, keep: Callable[[bytes], int | None]) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname, parts.port)
        self._marker, self._keep = marker, keep
        self.cut = threading.Event()
        self._claimed = False
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        relay = self._relay

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                relay(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads, self._server.block_on_close = True, False
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(SHUTDOWN_POLL,), daemon=True).start()

    def _claim(self, data: bytes) -> bool:
        with self._lock:
            if self._claimed or self._marker not in data:
                return False
            self._claimed = True
            return True

    def _relay(self, client: socket.socket) -> None:
        with socket.create_connection(self._upstream) as upstream:
            with self._lock:
                self._open.update((client, upstream))
            try:
                self._pump(client, upstream)
            finally:
                with self._lock:
                    self._open.difference_update((client, upstream))

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        held: bytes | None = None  # the answer held back, on the connection being cut
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    if key.fileobj is client:
                        if held is None and self._claim(data):
                            held = b""
                        upstream.sendall(data)
                    elif held is None:
                        client.sendall(data)
                    else:
                        held += data
                        if (passed := self._keep(held)) is not None:
                            client.sendall(held[:passed])
                            self.cut.set()
                            return

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a relay waiting on an idle keep-alive connection
                except OSError:
                    pass

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def nothing_once_answered(answer: bytes) -> int | None:
    """Pass on none of an answer, once all of it (headers and Content-Length body) has come."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return None
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")),
        0,
    )
    return 0 if len(body) >= length else None


def the_first_line(answer: bytes) -> int | None:
    """Pass on the headers and the first JSON line of a streamed body."""
    head_end = answer.find(b"\r\n\r\n")
    end = answer.find(b"}\n", head_end) if head_end >= 0 else -1
    return None if end < 0 else end + 2
