"""Every server test talks real HTTP to an embedded server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from inference_nb.server import EmbeddedServer, start_server

from .helpers import TEST_APPS


@pytest.fixture
def server(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "data", apps=TEST_APPS, webhook_backoff=0.05, webhook_max_attempts=3) as srv:
        yield srv


@pytest.fixture
def api(server: EmbeddedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30) as client:
        yield client
