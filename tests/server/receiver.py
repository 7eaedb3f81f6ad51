"""Real-HTTP peers of the server under test, shared by the server test modules:
webhook receivers (a good one, a slow one), and `inference-nb serve` run as a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: Message
    body: bytes
    at: float = field(default_factory=time.monotonic)
    """When it arrived (time.monotonic)."""


class WebhookReceiver:
    """Records every POST it gets and answers with the scripted statuses, then 200s.

    `WebhookReceiver([500, 500, 200])` fails twice, then succeeds;
    `WebhookReceiver(always=500)` never succeeds.
    """

    def __init__(self, statuses: Iterable[int] = (), *, always: int = 200, port: int = 0) -> None:
        self.requests: list[ReceivedRequest] = []
        self._statuses = list(statuses)
        self._always = always
        self._changed = threading.Condition()
        self._http = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, name="webhook-receiver", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/hook"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver._record(ReceivedRequest(self.command, self.path, self.headers, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def _record(self, request: ReceivedRequest) -> int:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()
            return self._statuses.pop(0) if self._statuses else self._always

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedRequest]:
        """The first `count` requests, once that many arrived."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} webhook requests within {timeout} s, got {len(self.requests)}")
            return self.requests[:count]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.shutdown()
        self._http.server_close()


class SlowReceiver:
    """A webhook receiver that never finishes answering: `drip` sends the head at once, then one byte of
    a long body every `every` seconds; `silent` reads the request and answers nothing at all.

    `arrived` counts the requests it has read (so a test knows they are in flight).
    """

    def __init__(self, *, silent: bool = False, every: float = 0.5) -> None:
        self.arrived = 0
        self._silent, self._every = silent, every
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/slow"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._changed:
                    receiver.arrived += 1
                    receiver._changed.notify_all()
                if not receiver._silent:
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.flush()
                # The drip's pace (or the silence), until the server hangs up or the test ends.
                while not receiver._stop.wait(receiver._every):
                    if receiver._silent:
                        continue
                    try:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    except OSError:
                        return

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def wait_for(self, count: int, timeout: float = 10) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.arrived >= count, timeout):
                raise AssertionError(f"expected {count} requests at the slow receiver within {timeout} s")

    def __enter__(self) -> SlowReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._http.shutdown()
        self._http.server_close()


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """`inference-nb serve` in a subprocess, its output captured in files."""

    def __init__(
        self, data_dir: Path, *, port: int, token: str | None, log_dir: Path, options: Iterable[str] = ()
    ) -> None:
        self.data_dir = data_dir
        self._options = list(options)
        self.url = f"http://127.0.0.1:{port}"
        self._port = port
        self._env = {k: v for k, v in os.environ.items() if k != "INFERENCE_NB_TOKEN"}
        if token is not None:
            self._env["INFERENCE_NB_TOKEN"] = token
        self._log_dir = log_dir
        self._starts = 0
        self.process: subprocess.Popen | None = None

    @property
    def token(self) -> str:
        return self._env.get("INFERENCE_NB_TOKEN") or (self.data_dir / "token").read_text().strip()

    def start(self, timeout: float = 60) -> ServeProcess:
        """Start and return once the server answers.

        A deadline, not a speed limit: its imports alone take seconds, more with other test workers busy.
        """
        self._starts += 1
        command = [sys.executable, "-m", "inference_nb.cli", "serve", "--port", str(self._port),
                   "--data-dir", str(self.data_dir), *self._options]  # fmt: skip
        with open(self.stdout_path, "w") as stdout, open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=self._env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"inference-nb serve exited with {self.process.returncode}: {self.output()}")
            try:
                httpx.get(f"{self.url}/apps", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"inference-nb serve did not answer within {timeout} s: {self.output()}")

    @property
    def stdout_path(self) -> Path:
        return self._log_dir / f"serve-{self._starts}.stdout"

    @property
    def stderr_path(self) -> Path:
        return self._log_dir / f"serve-{self._starts}.stderr"

    def output(self) -> str:
        """stdout and stderr of the latest start."""
        return self.stdout_path.read_text() + self.stderr_path.read_text()

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30, **kwargs)

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
