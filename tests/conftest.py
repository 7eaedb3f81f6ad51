"""Kernel-side tests talk real HTTP to an embedded server on loopback, through the real client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inference_nb.api import Client
from inference_nb.mapping.ledger import LEDGER_ENV
from inference_nb.server import EmbeddedServer, start_server

from .apps import TEST_APPS


@pytest.fixture(autouse=True)
def ledger_path(tmp_path_factory, monkeypatch) -> Path:
    """Each test's own run ledger: `client.map` never writes to the user's."""
    path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite3"
    monkeypatch.setenv(LEDGER_ENV, str(path))
    return path


@pytest.fixture
def embedded(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "embedded", apps=TEST_APPS) as srv:
        yield srv


@pytest.fixture
def client(embedded: EmbeddedServer) -> Client:
    return Client(base_url=embedded.url, key=embedded.token, wait_timeout=30)
