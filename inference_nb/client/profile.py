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

from inference_nb.wire.statuses import RENUMBERED_2026, SPEC, Numbering

from .errors import ConfigurationError

Protocol = Literal["tasks", "runs"]

TASKS_KEY_ENV, TASKS_URL_ENV = "INFERENCE_API_KEY", "INFERENCE_BASE_URL"
RUNS_KEY_ENV, RUNS_URL_ENV, RUNS_CLUSTER_ENV = "INFERABLE_API_SECRET", "INFERABLE_API_ENDPOINT", "INFERABLE_CLUSTER_ID"
HOSTED_TASKS_URL = "https://api.inference.sh"
HOSTED_RUNS_URL = "https://api.inferable.ai"


@dataclass(frozen=True)
class Profile:
    protocol: Protocol
    base_url: str
    key: str = field(repr=False)
    numbering: Numbering = SPEC
    """Tasks only: which status numbering the server speaks (never guessed from a code)."""
    run_path: str = "/run"
    """Tasks only: the submit path (`/run` in the spec, `/apps/run` on the current service)."""
    cluster: str = "demo"
    """Runs only: the cluster runs go to unless one is named."""
    idempotent_create: bool = True
    """Whether the server honours an Idempotency-Key (tasks) or a client-chosen run id (runs),
    which makes it safe to retry a create whose answer was lost."""
    streams: bool = True
    """Whether the server streams status changes (else the client polls)."""
    embedded: bool = False

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"base URL {self.base_url!r} is not an http(s) URL")
        if parts.username or parts.password or parts.query:
            raise ConfigurationError("the base URL must not carry credentials or a query; pass key= instead")
        if not self.key.strip():
            raise ConfigurationError(f"the {self.protocol} profile for {self.base_url} has an empty key")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @property
    def label(self) -> str:
        return "embedded server" if self.embedded else self.base_url


def hosted_tasks(key: str, base_url: str | None = None) -> Profile:
    """The hosted task service as its current SDKs speak it (renumbered statuses, `/apps/run`)."""
    return Profile(
        "tasks",
        base_url or os.environ.get(TASKS_URL_ENV) or HOSTED_TASKS_URL,
        key,
        numbering=RENUMBERED_2026,
        run_path="/apps/run",
        idempotent_create=False,
    )


def hosted_runs(key: str, base_url: str | None = None, cluster: str | None = None) -> Profile:
    cluster = cluster or os.environ.get(RUNS_CLUSTER_ENV)
    if not cluster:
        raise ConfigurationError(f"runs on a hosted service need a cluster id: pass cluster= or set {RUNS_CLUSTER_ENV}")
    url = base_url or os.environ.get(RUNS_URL_ENV) or HOSTED_RUNS_URL
    return Profile("runs", url, key, cluster=cluster, streams=False)  # the hosted runs API is polled


def embedded(protocol: Protocol, base_url: str, token: str) -> Profile:
    return Profile(protocol, base_url, token, embedded=True)


def from_environment(protocol: Protocol) -> Profile | None:
    """The hosted profile the environment names, or None (then: the embedded server)."""
    if protocol == "tasks":
        key = os.environ.get(TASKS_KEY_ENV, "").strip()
        return hosted_tasks(key) if key else None
    key = os.environ.get(RUNS_KEY_ENV, "").strip()
    return hosted_runs(key) if key else None
