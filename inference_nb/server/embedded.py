"""The embedded server in-process: uvicorn on a daemon thread with its own loop.

Safe inside a running Jupyter kernel: the kernel's event loop is never touched
(docs/ARCHITECTURE.md, "The controller"). The token is random per start and stays out of
reprs and logs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from .app import ServerConfig, create_app
from .apps.base import App
from .apps.builtin import BUILTIN_APPS
from .apps.official import DEFAULT_RUN_TIMEOUT, load_app_dir
from .apps.registry import AppRegistry
from .clock import SYSTEM_CLOCK, Clock
from .event_log import DEFAULT_REPLAY
from .local_model import LocalModel, planner_model
from .rate_limit import RateLimiter
from .runs.functions import DEFAULT_CLUSTER, Clusters, make_function
from .serving import listen, make_server, serve_url, url_of
from .store import DataDirInUse
from .streaming import KEEP_ALIVE_SECONDS
from .tasks.engine import DEFAULT_MAX_QUEUED
from .webhooks import DEFAULT_ATTEMPT_TIMEOUT

log = logging.getLogger("inference_nb.server")

START_TIMEOUT = 15.0


def default_data_dir() -> Path:
    """Where the embedded server keeps its data unless told otherwise (the folder is not created here).

    Returns:
        `$INFERENCE_NB_DATA_DIR` (with `~` expanded), else `$XDG_DATA_HOME/inference_nb`,
        else `~/.local/share/inference_nb`.
    """
    if os.environ.get("INFERENCE_NB_DATA_DIR"):
        return Path(os.environ["INFERENCE_NB_DATA_DIR"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "inference_nb"


class EmbeddedServer:
    """An embedded server on a daemon thread with its own event loop; `url` and `token` are what
    a client needs (`url` is the public URL when one is set; `listen_url` where it listens).
    Made by `start_server`; as a context manager it stops on exit.

    Args:
        config: the server's settings.
        registry: the apps it offers.
        host: the address to listen on.
        port: the port (0: a free one).

    Raises:
        DataDirInUse: another server holds `config.data_dir`.
        OSError: `host` / `port` cannot be listened on, or the data dir cannot be opened.
    """

    def __init__(
        self,
        *,
        config: ServerConfig,
        registry: AppRegistry,
        host: str,
        port: int,
        local_model: LocalModel | None = None,
    ) -> None:
        self._local_model = local_model
        """The bundled model's server when this server owns it (`llm_url="local"`): stopped with it."""
        self.registry = registry
        self.data_dir = config.data_dir
        self._token = config.token
        app = create_app(config, registry)  # first: it refuses a data dir in use
        self._store = app.state.store
        self.clusters: Clusters = app.state.clusters
        self.rate_limiter: RateLimiter | None = app.state.rate_limiter
        """With `rate_limit=`: its counts of requests `admitted` and `refused` (429)."""
        self._socket = listen(host, port)
        self.url = serve_url(app, self._socket)
        self.listen_url = url_of(self._socket)
        self._uvicorn = make_server(app)
        self._thread = threading.Thread(target=self._serve, name="inference_nb-server", daemon=True)
        self._failure: BaseException | None = None

    @property
    def token(self) -> str:
        """The bearer token of this start. Pass it to a client; never print it."""
        return self._token

    def register(self, app: type[App]) -> type[App]:
        """Offer another app on this server (usable as a class decorator); returns `app`.

        Raises:
            TypeError: `app` is not a valid app class (see `AppRegistry.register`).
        """
        return self.registry.register(app)

    def function(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        service: str = "default",
        cluster: str = DEFAULT_CLUSTER,
        name: str | None = None,
        description: str | None = None,
        requires_approval: bool = False,
    ) -> Any:
        """Offer a Python function to runs, as a tool of `service` in `cluster`.

        Works as `server.function(fn, service=...)` and as a decorator,
        `@server.function(service=...)`. Parameters come from the type hints,
        the description from the docstring.

        Args:
            fn: the function (omitted when used as `@server.function(...)`).
            service: the service it belongs to (letters, digits and '_').
            cluster: the cluster that offers it (made if new).
            name: its name (default: `fn.__name__`).
            description: what it does, for the planner (default: its docstring).
            requires_approval: a run calling it pauses until the call is approved.

        Raises:
            ValueError: `service`, `name` or `cluster` is not a valid name.
            TypeError: its type hints cannot be resolved into an arguments model.
        """

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            made = make_function(
                fn, service=service, name=name, description=description, requires_approval=requires_approval
            )
            self.clusters.ensure(cluster).register(made)
            return fn

        return register(fn) if fn is not None else register

    def _serve(self) -> None:
        try:
            asyncio.run(self._uvicorn.serve(sockets=[self._socket]))
        except BaseException as exc:  # reported by start(); a daemon thread has nobody else to tell
            self._failure = exc
        finally:
            self._uvicorn.settled.set()  # it ended before its start-up did (a lifespan that failed)

    def start(self) -> EmbeddedServer:
        """Start serving on the thread and return once it serves (what `start_server` calls).

        Raises:
            RuntimeError: it did not start in time or its thread failed (the data dir is released).
        """
        self._thread.start()
        self._uvicorn.settled.wait(START_TIMEOUT)
        if not self._uvicorn.started:
            self.stop(timeout=1)
            self._store.close()
            raise RuntimeError(f"the embedded server did not start: {self._failure or 'timed out'}")
        return self

    @property
    def running(self) -> bool:
        """Whether it has started and its thread is still serving."""
        return self._thread.is_alive() and self._uvicorn.started

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; tasks still in progress end Failed, saying the server stopped."""
        self._uvicorn.should_exit = True
        self._thread.join(timeout)
        self._socket.close()
        if self._local_model is not None:
            self._local_model.stop()

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EmbeddedServer {self.url} {state}, data in {self.data_dir}>"


def start_server(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: str | Path | None = None,
    apps: list[type[App]] | None = None,
    app_dirs: list[str | Path] | tuple[str | Path, ...] = (),
    app_namespace: str = "local",
    app_run_timeout: float | None = DEFAULT_RUN_TIMEOUT,
    builtin_apps: bool = True,
    max_workers: int = 8,
    max_queued: int = DEFAULT_MAX_QUEUED,
    max_storage: int | None = None,
    webhook_backoff: float = 1.0,
    webhook_max_attempts: int = 6,
    webhook_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = SYSTEM_CLOCK,
    allow_hosts: list[str] | tuple[str, ...] = (),
    webhook_hosts: list[str] | tuple[str, ...] = ("*",),
    public_url: str | None = None,
    request_timeout: float = 10.0,
    min_body_rate: float = 10_000,
    max_connections: int = 4096,
    keep_alive_timeout: float = 5.0,
    stream_keep_alive: float = KEEP_ALIVE_SECONDS,
    event_replay: int = DEFAULT_REPLAY,
    rate_limit: float | None = None,
    llm_url: str | None = None,
    llm_model: str | None = None,
) -> EmbeddedServer:
    """Start the embedded server on a daemon thread and return it once it serves.

    Args:
        host: the address to listen on (default loopback only).
        port: the port (0: a free one).
        data_dir: where its data lives. Default: `default_data_dir()`, or, while another server
            holds that (the one `Client()` started in this kernel, another kernel's), a folder
            of this process's under it, `kernels/<pid>`.
        apps: apps offered besides the built-in ones.
        app_dirs: folders of apps written for inference.sh (`inference.py` + `inf.yml`), offered as
            `<app_namespace>/<name in inf.yml>`; each instance runs in a worker process of its own.
        app_namespace: the namespace of the apps of `app_dirs`.
        app_run_timeout: seconds a task of an app of `app_dirs` may take, setup included (None: no limit).
        builtin_apps: offer the built-in demo apps.
        max_workers: tasks running at once.
        max_queued: tasks that may wait for a worker; beyond that a task is Rejected.
        max_storage: the most bytes uploaded and output files may take together (None: no limit).
        webhook_backoff: seconds before a webhook's first retry (doubling, capped at a minute).
        webhook_max_attempts: attempts per webhook delivery.
        webhook_timeout: seconds one webhook attempt may take, connect to the answer's last byte.
        webhook_transport: what webhook POSTs go through (default: the network), as httpx takes it.
        clock: times session expiry and webhook retries (tests pass one they can move).
        allow_hosts: `Host` names it answers to besides its own address and the loopback names
            (`*`: any); a request with another Host is refused (421).
        webhook_hosts: hosts webhooks may go to: `*` any (default), `loopback`, or names as written.
        public_url: the URL clients reach it at (behind a proxy), which file URIs, upload URLs and
            redirects start with; its host is answered to as well (default: the address it listens on).
        request_timeout: seconds a client has to send a request's head, and the longest pause in a body.
        min_body_rate: bytes a second a body must average after a first `request_timeout` of grace.
        max_connections: connections open at once; a new one past it is answered 503 and closed.
        keep_alive_timeout: seconds an idle kept-alive connection stays open.
        stream_keep_alive: seconds of quiet after which a stream sends a keep-alive line.
        event_replay: events kept per API for resuming event streams (see `ServerConfig`).
        rate_limit: requests a second per key, to try a notebook against a limited service: a
            token bucket holding one second's worth; a request beyond it is answered 429 with
            `Retry-After` (None: no limit). `server.rate_limiter` counts both.
        llm_url: an OpenAI-compatible endpoint (`http://host:port/v1`) whose model plans runs, or
            "local" for the bundled model (the extra `inference_nb[local-llm]`; its server is started
            and stopped with this one). Default: the deterministic planner. The key, if the endpoint
            needs one, comes only from $INFERENCE_NB_LLM_KEY.
        llm_model: the model's name at `llm_url` (not needed for "local").

    Raises:
        DataDirInUse: another server holds the `data_dir` given.
        TypeError: one of `apps` is not a valid app class.
        ValueError: an entry of `allow_hosts` is not a host name or address, `public_url` is not
            http(s)://host[:port], `rate_limit` is not > 0, a folder of `app_dirs` is not an app in the
            service's format or could not be imported, or `llm_url` is given without `llm_model` (or the
            other way round).
        LocalModelUnavailable: `llm_url="local"` without the extra installed, or its server did not start.
        OSError: `host` / `port` cannot be listened on, or the data dir cannot be opened.
        RuntimeError: the server did not start in time.
    """
    loaded = [load_app_dir(folder, namespace=app_namespace, run_timeout=app_run_timeout) for folder in app_dirs]
    registry = AppRegistry([*(BUILTIN_APPS if builtin_apps else []), *(apps or []), *loaded])
    llm, local_model = planner_model(llm_url, llm_model)
    config = ServerConfig(
        data_dir=Path(data_dir).expanduser() if data_dir is not None else default_data_dir(),
        token=secrets.token_urlsafe(32),
        max_workers=max_workers,
        max_queued=max_queued,
        max_storage=max_storage,
        webhook_backoff=webhook_backoff,
        webhook_max_attempts=webhook_max_attempts,
        webhook_timeout=webhook_timeout,
        webhook_transport=webhook_transport,
        clock=clock,
        allow_hosts=tuple(allow_hosts),
        webhook_hosts=tuple(webhook_hosts),
        public_url=public_url,
        request_timeout=request_timeout,
        min_body_rate=min_body_rate,
        max_connections=max_connections,
        event_replay=event_replay,
        keep_alive_timeout=keep_alive_timeout,
        rate_limit=rate_limit,
        stream_keep_alive=stream_keep_alive,
        llm=llm,
    )
    try:
        if data_dir is not None:
            return EmbeddedServer(
                config=config, registry=registry, host=host, port=port, local_model=local_model
            ).start()
        # The default place is shared by every kernel of the user; the first server there keeps it, the
        # others (a second kernel, or `start_server()` after `Client()` in one kernel) get one of their own.
        shared = config.data_dir
        own = [
            shared / "kernels" / str(os.getpid()),
            *(shared / "kernels" / f"{os.getpid()}-{n}" for n in range(2, 10)),
        ]
        for place in [shared, *own]:
            try:
                server = EmbeddedServer(
                    config=replace(config, data_dir=place),
                    registry=registry,
                    host=host,
                    port=port,
                    local_model=local_model,
                )
                server = server.start()
            except DataDirInUse:
                continue
            if place != shared:
                # Info, not a warning: a line on stderr in every cell's output would be noise.
                log.info("another inference_nb server uses %s; this one keeps its runs in %s", shared, place)
            return server
        raise DataDirInUse(f"the data dir {shared} and this process's folders under it are in use; give data_dir=")
    except BaseException:
        if local_model is not None:  # the bundled model's server is this one's to stop
            local_model.stop()
        raise
