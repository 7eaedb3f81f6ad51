"""Where a client talks to: base URL, key, protocol, and how that server speaks.

A key comes from an argument or the environment:

    tasks   INFERENCE_API_KEY        (base URL: INFERENCE_BASE_URL, default the hosted service)
    runs    INFERABLE_API_SECRET     (base URL: INFERABLE_API_ENDPOINT; cluster: INFERABLE_CLUSTER_ID)

With no key for a protocol, that protocol goes to the embedded server, started
on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from inference_nb.wire.statuses import Dialect, Numbering

from .errors import ConfigurationError

Protocol = Literal["tasks", "runs"]

TASKS_KEY_ENV, TASKS_URL_ENV = "INFERENCE_API_KEY", "INFERENCE_BASE_URL"
RUNS_KEY_ENV, RUNS_URL_ENV, RUNS_CLUSTER_ENV = "INFERABLE_API_SECRET", "INFERABLE_API_ENDPOINT", "INFERABLE_CLUSTER_ID"
HOSTED_TASKS_URL = "https://api.inference.sh"
HOSTED_RUNS_URL = "https://api.inferable.ai"


@dataclass(frozen=True)
class Profile:
    """Where a client talks to, and how that server speaks; immutable.

    `Profile("tasks", "http://127.0.0.1:8000", key)` is a server speaking the documents' formats;
    `hosted_tasks`, `hosted_runs` and `embedded` make the other usual ones.

    Args:
        protocol: "tasks" (the tasks API) or "runs" (the runs API).
        base_url: an http(s) URL, without credentials or query (a trailing "/" is dropped).
        key: the key or token sent with every request (never shown in a repr).
        dialect, cluster, idempotent_create, streams, embedded: see the fields.

    Raises:
        ConfigurationError: `base_url` is not an http(s) URL, carries credentials or a query,
            `key` is empty, or `dialect` is not "spec" or "hosted" (only "spec" for runs).
    """

    protocol: Protocol
    """Which API the server speaks: "tasks" or "runs"."""
    base_url: str
    """The server's URL, without a trailing "/"; every path is appended to it."""
    key: str = field(repr=False)
    """The key: `Authorization: Bearer <key>` for tasks, the bare key for runs."""
    dialect: Dialect = Dialect.SPEC
    """Tasks only: how the server speaks the tasks API, and so its `numbering` and `run_path`.
    "spec": the documents' format (`POST /run`, statuses 1..11, `{"error": …}` errors). "hosted":
    the hosted service's (`POST /apps/run`, statuses 0..13, `{"data": …}` envelopes, problem+json
    errors). Every request says which (an `Inference-Dialect` header), so a server that speaks
    both answers in this one, whoever created the task."""
    cluster: str = "demo"
    """Runs only: the cluster runs go to unless one is named."""
    idempotent_create: bool = True
    """Whether the server honours an Idempotency-Key (tasks) or a client-chosen run id (runs),
    which makes it safe to retry a create whose answer was lost."""
    streams: bool = True
    """Whether the server streams status changes (else the client polls)."""
    embedded: bool = False
    """Whether this is the embedded server (then it is named so in messages, not by its URL)."""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "dialect", Dialect(self.dialect))
        except ValueError:
            raise ConfigurationError(f'dialect {self.dialect!r}: expected "spec" or "hosted"') from None
        if self.protocol == "runs" and self.dialect is not Dialect.SPEC:
            raise ConfigurationError('the runs API has one dialect: "spec"')
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"base URL {self.base_url!r} is not an http(s) URL")
        if parts.username or parts.password or parts.query:
            raise ConfigurationError("the base URL must not carry credentials or a query; pass key= instead")
        if not self.key.strip():
            raise ConfigurationError(f"the {self.protocol} profile for {self.base_url} has an empty key")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @property
    def numbering(self) -> Numbering:
        """Tasks only: the status numbering of the dialect (a code is never guessed alone)."""
        return self.dialect.numbering

    @property
    def run_path(self) -> str:
        """Tasks only: the submit path of the dialect (`/run` or `/apps/run`)."""
        return "/apps/run" if self.dialect is Dialect.HOSTED else "/run"

    @property
    def label(self) -> str:
        """The server for people: "embedded server" or the base URL (never the key)."""
        return "embedded server" if self.embedded else self.base_url


def hosted_tasks(key: str, base_url: str | None = None) -> Profile:
    """The hosted task service as its current SDKs speak it: the "hosted" dialect.

    The embedded server speaks it too: `hosted_tasks(server.token, base_url=server.url)`.

    Args:
        key: the service's API key (as in INFERENCE_API_KEY).
        base_url: the service's URL (default: INFERENCE_BASE_URL, else https://api.inference.sh).

    Raises:
        ConfigurationError: `key` is empty or the URL is not an http(s) URL.
    """
    return Profile(
        "tasks",
        base_url or os.environ.get(TASKS_URL_ENV) or HOSTED_TASKS_URL,
        key,
        dialect=Dialect.HOSTED,
        idempotent_create=False,
    )


def hosted_runs(key: str, base_url: str | None = None, cluster: str | None = None) -> Profile:
    """The hosted runs service (Inferable): polled, since it has no stream.

    Args:
        key: the API secret (as in INFERABLE_API_SECRET).
        base_url: the service's URL (default: INFERABLE_API_ENDPOINT, else https://api.inferable.ai).
        cluster: the cluster runs go to (default: INFERABLE_CLUSTER_ID).

    Raises:
        ConfigurationError: no cluster is given or set, `key` is empty, or the URL is not an
            http(s) URL.
    """
    cluster = cluster or os.environ.get(RUNS_CLUSTER_ENV)
    if not cluster:
        raise ConfigurationError(f"runs on a hosted service need a cluster id: pass cluster= or set {RUNS_CLUSTER_ENV}")
    url = base_url or os.environ.get(RUNS_URL_ENV) or HOSTED_RUNS_URL
    return Profile("runs", url, key, cluster=cluster, streams=False)  # the hosted runs API is polled


def embedded(protocol: Protocol, base_url: str, token: str) -> Profile:
    """The embedded server's profile for one protocol (it speaks both, in the documents' formats).

    Args:
        protocol: "tasks" or "runs".
        base_url: the server's URL (`EmbeddedServer.url`).
        token: the server's token (`EmbeddedServer.token`).

    Raises:
        ConfigurationError: `base_url` is not an http(s) URL or `token` is empty.
    """
    return Profile(protocol, base_url, token, embedded=True)


def from_environment(protocol: Protocol) -> Profile | None:
    """The hosted profile the environment names, or None (then: the embedded server).

    Args:
        protocol: "tasks" (reads INFERENCE_API_KEY, INFERENCE_BASE_URL) or "runs" (reads
            INFERABLE_API_SECRET, INFERABLE_API_ENDPOINT, INFERABLE_CLUSTER_ID).

    Returns:
        The profile `hosted_tasks` / `hosted_runs` makes when the key is set (and not blank), else None.

    Raises:
        ConfigurationError: the runs key is set but no cluster id, or a URL variable is not an
            http(s) URL.
    """
    if protocol == "tasks":
        key = os.environ.get(TASKS_KEY_ENV, "").strip()
        return hosted_tasks(key) if key else None
    key = os.environ.get(RUNS_KEY_ENV, "").strip()
    return hosted_runs(key) if key else None
