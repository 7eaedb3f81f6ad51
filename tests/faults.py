"""A fault-injecting HTTP proxy on loopback, for tests that a client survives a bad network.

Each connection carries one request (the proxy asks the server to close after it). About `rate`
of the requests meet a fault, drawn from a seeded generator:

- `reset`: the connection is dropped before the request is forwarded;
- `reset_after`: the request reaches the server, and its answer is dropped after the status line;
- `truncate`: the answer is cut a few bytes into its body;
- `502`, `503`: the proxy answers that itself, without forwarding;
- `delay`: forwarded after a pause (not a failure, but it reorders the traffic).

`rule(method, path, body)` may force one of those, or `401`, for a request before the draw; or
`stall`: the request reaches the server, and its answer is held back for as long as the proxy runs
(`stalled` is set once the server has answered), the case of a create whose answer never comes.

`dropping` names request headers the proxy never forwards: `dropping=("idempotency-key",)` makes
the server one that keeps no Idempotency-Key, as the hosted task service may be.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

FAULTS = ("reset", "reset_after", "truncate", "502", "503", "delay")
CANNED = {
    "401": b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    "502": b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    "503": b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
}

Rule = Callable[[str, str, bytes], "str | None"]


class FaultProxy:
    """`with FaultProxy(server.url, seed=1, rate=0.2) as proxy:` then talk to `proxy.url`."""

    def __init__(
        self, upstream: str, *, seed: int, rate: float, rule: Rule | None = None, dropping: tuple[str, ...] = ()
    ) -> None:
        parts = urlsplit(upstream)
        self.dropping = {"connection", "host", *(name.lower() for name in dropping)}
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rate, self.rule = rate, rule
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.stalled = threading.Event()
        """Set once the server has answered a request whose answer the proxy holds back (`stall`)."""
        """Requests by what happened to them: a fault's name, or "passed"."""
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result(10)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self._server.close()
            serving = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in serving:
                task.cancel()
            await asyncio.gather(*serving, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = [line for line in lines[1:] if line]
            length = next((int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:")), 0)
            body = await reader.readexactly(length) if length else b""
            fault = self._fault(method, path, body)
            self.counts[fault or "passed"] += 1
            if fault == "reset":
                writer.transport.abort()
                return
            if fault in CANNED:
                writer.write(CANNED[fault])
                await writer.drain()
                return
            if fault == "delay":
                await asyncio.sleep(self.random.uniform(0.05, 0.3))
            await self._forward(method, path, headers, body, writer, fault)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()

    def _fault(self, method: str, path: str, body: bytes) -> str | None:
        if self.rule is not None and (forced := self.rule(method, path, body)) is not None:
            return forced
        return self.random.choice(FAULTS) if self.random.random() < self.rate else None

    async def _forward(
        self, method: str, path: str, headers: list[str], body: bytes, writer: asyncio.StreamWriter, fault: str | None
    ) -> None:
        host, port = self.upstream
        up_reader, up_writer = await asyncio.open_connection(host, port)
        try:
            # One request per connection, and the Host the server answers to (a reverse proxy's job).
            kept = [h for h in headers if h.split(":", 1)[0].strip().lower() not in self.dropping]
            request = [f"{method} {path} HTTP/1.1", f"host: {host}:{port}", "connection: close", *kept, "", ""]
            up_writer.write("\r\n".join(request).encode("latin-1") + body)
            await up_writer.drain()
            if fault == "reset_after":
                await up_reader.readuntil(b"\r\n")  # the server has answered: the work is done
                writer.transport.abort()
                return
            if fault == "stall":
                await up_reader.readuntil(b"\r\n")  # the server has answered: the work is done
                self.stalled.set()
                await asyncio.Event().wait()  # until the proxy stops
            if fault == "truncate":
                answer_head = await up_reader.readuntil(b"\r\n\r\n")
                writer.write(answer_head + await up_reader.read(self.random.randint(0, 8)))
                await writer.drain()
                writer.transport.abort()
                return
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            up_writer.close()
