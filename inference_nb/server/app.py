"""The app factory: one Starlette app per server, with no module-level state."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import math
import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .apps.registry import AppRegistry
from .clock import SYSTEM_CLOCK, Clock
from .errors import EXCEPTION_HANDLERS, NotFound, Unauthorized, render_error
from .event_log import DEFAULT_REPLAY, EventLog
from .headers import SecurityHeaders
from .hosts import HostCheck, check_allow_hosts
from .quota import StorageQuota
from .rate_limit import RateLimit, RateLimiter
from .runs.builtin import register_demo_functions
from .runs.chat import ModelSettings
from .runs.engine import RunEngine
from .runs.functions import Clusters
from .runs.model_planner import ModelPlanner
from .runs.planner import DeterministicPlanner
from .runs.routes import ROUTES as RUN_ROUTES
from .store import Store
from .streaming import KEEP_ALIVE_SECONDS
from .tasks.engine import DEFAULT_MAX_QUEUED, TaskEngine
from .tasks.routes import ROUTES as TASK_ROUTES
from .tasks.uploads import is_signed_upload, upload_key
from .webhooks import DEFAULT_ATTEMPT_TIMEOUT, WebhookSender


@dataclass(frozen=True)
class ServerConfig:
    """How one server runs: its data dir, its token, its limits. The repr never shows the token.

    Raises:
        ValueError: `token` is empty or blank.
    """

    data_dir: Path
    """The folder of its database, output files and webhook secret; one server holds it at a time."""
    token: str
    """What every request must carry: `Authorization: Bearer <token>` (or the bare token)."""
    max_workers: int = 8
    """Tasks running at once; more wait as Queued. Also the threads that run the runs' functions."""
    max_queued: int = DEFAULT_MAX_QUEUED
    """Tasks that may wait as Queued; a task beyond that is Rejected (it never runs)."""
    max_body_bytes: int = 10 * 2**20
    """The largest request body taken; a larger one is answered 413."""
    max_storage: int | None = None
    """The most bytes uploaded and output files may take together; past it an upload is refused
    (507) and a task whose output files do not fit ends Failed, both naming the limit. None: no limit."""
    webhook_max_attempts: int = 6
    """Attempts per webhook delivery; after the last, the delivery is marked failed with its error."""
    webhook_backoff: float = 1.0
    """Seconds before the first retry; doubles each time (capped at a minute)."""
    webhook_timeout: float = DEFAULT_ATTEMPT_TIMEOUT
    """Seconds one webhook attempt may take, from connecting to the answer's last byte."""
    webhook_transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False)
    """What webhook POSTs go through (default: the network); a test passes one of its own."""
    clock: Clock = field(default=SYSTEM_CLOCK, compare=False)
    """What session idle timeouts and webhook retries are timed on; a test passes one it can move."""
    webhook_hosts: tuple[str, ...] = ("*",)
    """Hosts webhooks may be sent to: `*` any (the default: the tasks API document's example sends to a
    public URL), `loopback` for localhost and loopback addresses, or names and addresses as written
    (no DNS lookup). A webhook to another host is refused with a 422 naming the field."""
    request_timeout: float = 10.0
    """Seconds a client has to send a request's head, and the longest pause inside its body; past
    that its connection is closed."""
    min_body_rate: float = 10_000
    """Bytes a second a body must arrive at, on average, after a first `request_timeout` of grace;
    a slower one's connection is closed."""
    max_connections: int = 4096
    """Connections open at once (fewer if the process may not open that many files); a new one past
    it is answered 503 and closed."""
    keep_alive_timeout: float = 5.0
    """Seconds an idle kept-alive connection stays open."""
    stream_keep_alive: float = KEEP_ALIVE_SECONDS
    """Seconds of quiet after which a stream sends a keep-alive line."""
    allow_hosts: tuple[str, ...] = ()
    """Host names or addresses it answers to besides the address a connection reached and the loopback
    names (localhost, 127.0.0.1, ::1); `*` for any. Any other `Host` gets a 421."""
    event_replay: int = DEFAULT_REPLAY
    """Events kept per API for resuming event streams (`Last-Event-ID`); a client further behind gets a
    `gap` and lists again."""
    rate_limit: float | None = None
    """Requests a second per key, a token bucket holding one second's worth; beyond it a 429 with
    Retry-After (`rate_limit.py`). None: no limit."""
    public_url: str | None = None
    """The URL clients reach it at, which file URIs, upload URLs and redirects start with (default:
    the address it listens on, set when it starts listening; never the request's Host)."""
    llm: ModelSettings | None = field(default=None, compare=False)
    """The model that plans runs (an OpenAI-compatible endpoint); None: the deterministic planner."""

    def __post_init__(self) -> None:
        if not self.token.strip():
            raise ValueError("the server token must not be empty: it would let anyone in")
        object.__setattr__(self, "allow_hosts", check_allow_hosts(self.allow_hosts))
        if self.rate_limit is not None and not (0 < self.rate_limit < math.inf):
            raise ValueError(f"rate_limit must be requests per second > 0, not {self.rate_limit!r}")
        if self.max_storage is not None and self.max_storage < 1:
            raise ValueError(f"max_storage must be a positive number of bytes, not {self.max_storage}")
        if self.min_body_rate <= 0 or self.max_connections < 1:
            raise ValueError("min_body_rate and max_connections must be positive")
        if self.event_replay < 1:
            raise ValueError(f"event_replay must be at least 1, not {self.event_replay}")
        if not self.webhook_hosts:
            raise ValueError("webhook_hosts must name at least one host, or '*' for any")
        if self.public_url is not None and not re.match(r"^https?://[^\s/]+/?$", self.public_url, re.IGNORECASE):
            raise ValueError(f"public_url must be http(s)://host[:port], not {self.public_url!r}")
        if self.public_url is not None:  # a scheme is case-insensitive; the URLs built from it say it lower case
            scheme, rest = self.public_url.split("://", 1)
            object.__setattr__(self, "public_url", f"{scheme.lower()}://{rest}")

    @property
    def answered_hosts(self) -> tuple[str, ...]:
        """`allow_hosts`, and the public URL's host: a server behind a proxy is asked for by that name."""
        public = urlsplit(self.public_url).hostname if self.public_url else None
        return (*self.allow_hosts, *([public] if public else []))

    def __repr__(self) -> str:  # the token must never reach a log or a traceback
        return (
            f"ServerConfig(data_dir={str(self.data_dir)!r}, max_workers={self.max_workers}, "
            f"max_queued={self.max_queued})"
        )


class BearerAuth:
    """Every request needs the token: `Authorization: Bearer <token>` (or the bare token).

    Except the PUT of an upload URL: the SDK sends it without auth, so the URL carries its own
    signature, which its endpoint checks (tasks/uploads.py).
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not is_signed_upload(scope["method"], scope["path"]):
            header = Headers(scope=scope).get("authorization", "").strip()
            presented = header[7:].strip() if header[:7].lower() == "bearer " else header
            if not hmac.compare_digest(presented.encode(), self._token):
                await render_error(Request(scope), Unauthorized(_auth_hint(scope["path"], header)))(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)


class EscapedSlashRefused:
    """A path with an escaped '/' (`%2F`) is a 404: routes match the decoded path, where
    `/tasks/x%2Fcancel` would reach the cancel route of task `x`. No id this server gives out holds
    a '/', so such a path names nothing here. (`?`, `#` and `%` escaped in an id are looked up whole.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"%2f" in scope.get("raw_path", b"").lower():
            raw = scope["raw_path"].decode("ascii", "replace")
            error = NotFound(f"no such endpoint: {scope['method']} {raw} (no id on this server holds a '/')")
            await render_error(Request(scope), error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _auth_hint(path: str, header: str) -> str:
    problem = "no Authorization header" if not header else "the token does not match"
    if path.startswith("/clusters/"):  # the runs API's document sends the bare key
        return f"{problem}: send the header authorization: <token>"
    return f"{problem}: send Authorization: Bearer <token>"


class _Server(Starlette):
    """Starlette, with the security headers outside its error middleware, so that a 500 has them too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def read_or_create_secret(path: Path) -> str:
    """A secret kept in a file only its owner can read; an empty file gets a new one."""
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    value = secrets.token_urlsafe(32)
    # Written beside and renamed over: a crash never leaves an empty secret behind.
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(value)
    os.replace(partial, path)
    return value


def create_app(config: ServerConfig, registry: AppRegistry, clusters: Clusters | None = None) -> Starlette:
    """The Starlette app of one server: the tasks API and the runs API, behind the token.

    Opens the data dir (taking its lock) at once; the engines start and stop with the app's
    lifespan, which also closes the store.

    Args:
        config: the server's settings.
        registry: the apps it offers; apps registered in it later are offered too.
        clusters: the functions runs may call (default: only the built-in `demo` cluster's).

    Raises:
        DataDirInUse: another server holds `config.data_dir`.
        OSError, sqlite3.Error: the data dir, its database or its webhook secret could not be opened.
    """
    store = Store(config.data_dir)
    secret = read_or_create_secret(config.data_dir / "webhook_secret")
    webhooks = WebhookSender(
        store,
        secret,
        max_attempts=config.webhook_max_attempts,
        backoff=config.webhook_backoff,
        clock=config.clock,
        allowed_hosts=config.webhook_hosts,
        attempt_timeout=config.webhook_timeout,
        transport=config.webhook_transport,
    )
    quota = StorageQuota(store, config.max_storage)
    engine = TaskEngine(
        store=store,
        quota=quota,
        data_dir=config.data_dir,
        webhooks=webhooks,
        max_workers=config.max_workers,
        max_queued=config.max_queued,
        events=EventLog(replay=config.event_replay),
    )
    engine.sessions.clock = config.clock  # the engine makes its SessionManager; the clock is the server's
    if clusters is None:
        clusters = Clusters()
        register_demo_functions(clusters)
    function_threads = ThreadPoolExecutor(config.max_workers, thread_name_prefix="inference_nb-fn")

    async def run_function(fn):
        return await asyncio.get_running_loop().run_in_executor(function_threads, fn)

    runs = RunEngine(
        store=store,
        clusters=clusters,
        planner=ModelPlanner(config.llm) if config.llm is not None else DeterministicPlanner(),
        run_sync=run_function,
        events=EventLog(replay=config.event_replay),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        runs.start()
        await engine.start()
        try:
            yield
        finally:
            runs.stop()
            await engine.stop()
            function_threads.shutdown(wait=False, cancel_futures=True)
            store.close()

    limiter = RateLimiter(config.rate_limit, config.clock) if config.rate_limit is not None else None
    app = _Server(
        routes=TASK_ROUTES + RUN_ROUTES,
        # The Host is checked before the token: a misdirected request learns nothing about it; and
        # the token before the rate limit: only a request with the right key spends its tokens.
        middleware=[
            Middleware(HostCheck, allow_hosts=config.answered_hosts),
            Middleware(BearerAuth, token=config.token),
            *([Middleware(RateLimit, limiter=limiter)] if limiter is not None else []),
            Middleware(EscapedSlashRefused),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.public_url = config.public_url  # else set by whoever listens (serving.serve_url)
    app.state.registry = registry
    app.state.store = store
    app.state.quota = quota
    app.state.engine = engine
    app.state.upload_key = upload_key(secret)
    app.state.runs = runs
    app.state.rate_limiter = limiter
    app.state.clusters = clusters
    return app
