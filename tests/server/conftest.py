"""Server tests talk real HTTP to an embedded server on a loopback port; requests the server refuses
before any work starts (validation, error shapes) may go through `in_process`, the same app called
in-process with no socket and no uvicorn."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from inference_nb.server import AppRegistry, EmbeddedServer, ServerConfig, create_app, start_server
from inference_nb.server.apps.builtin import BUILTIN_APPS

from ..apps import TEST_APPS


@pytest.fixture
def server(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "data", apps=TEST_APPS, webhook_backoff=0.05, webhook_max_attempts=3) as srv:
        yield srv


@pytest.fixture
def api(server: EmbeddedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30) as client:
        yield client


@pytest.fixture
def in_process(tmp_path) -> Iterator[httpx.Client]:
    """A client of the server's app (the one `start_server` serves, built the same way by `create_app`),
    called in-process: no uvicorn start and stop per test. Only for answers decided by the app alone;
    streaming, timing, connections, restarts and webhooks need the `api` fixture's real loopback HTTP.

    An exception the app does not turn into an answer is raised here, in the test (a 500 never passes).
    """
    token = secrets.token_urlsafe(32)
    config = ServerConfig(data_dir=tmp_path / "data", token=token)
    app = create_app(config, AppRegistry([*BUILTIN_APPS, *TEST_APPS]))
    with TestClient(app, base_url="http://127.0.0.1", headers={"Authorization": f"Bearer {token}"}) as client:
        yield client  # the `with` runs the app's lifespan: its engines start and stop as under uvicorn
