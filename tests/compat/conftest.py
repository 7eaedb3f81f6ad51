"""The official `inferencesh` SDK, unchanged, against the embedded server on loopback.

Every test runs twice: with the sync client (`Inference`, on requests) and the async one
(`AsyncInference`, on aiohttp). `sdk(lambda c: c.run(...))` calls either and returns the
SDK's own parsed result; an async call runs to its end in a loop of its own.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("inferencesh", reason="the compat tests need the official SDK (the dev dependency group)")

from inferencesh import AsyncInference, Inference  # noqa: E402

from inference_nb.server import EmbeddedServer, start_server  # noqa: E402


class Sdk:
    """One SDK client, sync or async, behind one calling convention."""

    def __init__(self, kind: str, server: EmbeddedServer, *, key: str | None = None) -> None:
        self.kind = kind
        client_class = Inference if kind == "sync" else AsyncInference
        self.client = client_class(api_key=key or server.token, base_url=server.url)

    def __call__(self, call: Callable[[Any], Any]) -> Any:
        """What `call(client)` gives: its value (sync) or what its awaitable gives (async)."""
        if self.kind == "sync":
            return call(self.client)

        async def run() -> Any:
            result = call(self.client)
            return await result if inspect.isawaitable(result) else result

        return asyncio.run(run())

    def updates(self, call: Callable[[Any], Any]) -> list[dict[str, Any]]:
        """Every update of the stream `call(client)` returns, until it ends (or raises)."""
        if self.kind == "sync":
            return list(call(self.client))

        async def run() -> list[dict[str, Any]]:
            stream = call(self.client)
            stream = await stream if inspect.isawaitable(stream) else stream
            return [update async for update in stream]

        return asyncio.run(run())


@pytest.fixture
def server(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "data") as srv:
        yield srv


@pytest.fixture(params=["sync", "async"])
def sdk(request, server) -> Sdk:
    return Sdk(request.param, server)


@pytest.fixture
def http(server) -> Iterator[httpx.Client]:
    """Plain HTTP with the token, to look at what the SDK does not show."""
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30) as client:
        yield client
