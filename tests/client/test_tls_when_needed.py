"""The async client's transport sets up TLS only for https: plain http (the embedded server) skips the CA
bundle, https is still verified, and a proxy in the environment is still used (client/transport.py)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from inference_nb.client.transport import new_async_client


async def serve_once(handle) -> tuple[asyncio.Server, int]:  # type: ignore[no-untyped-def]
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: list[bytes]) -> None:
    seen.append(await reader.readuntil(b"\r\n\r\n"))
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
    await writer.drain()
    writer.close()


def test_plain_http_is_served_without_tls_set_up(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def go() -> tuple[str, list[bytes]]:
        seen: list[bytes] = []
        server, port = await serve_once(lambda r, w: answer_ok(r, w, seen))
        async with server, new_async_client() as client:
            response = await client.get(f"http://127.0.0.1:{port}/x")
        return response.text, seen

    text, seen = asyncio.run(go())
    assert text == "ok" and seen[0].startswith(b"GET /x HTTP/1.1")


def test_a_proxy_in_the_environment_is_still_used(monkeypatch):
    async def go() -> list[bytes]:
        seen: list[bytes] = []
        proxy, port = await serve_once(lambda r, w: answer_ok(r, w, seen))
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        async with proxy, new_async_client() as client:
            await client.get("http://server.test/x")
        return seen

    (head,) = asyncio.run(go())
    assert head.startswith(b"GET http://server.test/x HTTP/1.1")  # the request line a proxy gets


@pytest.fixture
def untrusted_tls(tmp_path: Path) -> ssl.SSLContext:
    """A server-side TLS context with a self-signed certificate for 127.0.0.1 (no CA trusts it)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_https_is_still_verified(monkeypatch, untrusted_tls):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def go() -> None:
        async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        server = await asyncio.start_server(drop, "127.0.0.1", 0, ssl=untrusted_tls)
        port = server.sockets[0].getsockname()[1]
        async with server, new_async_client() as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get(f"https://127.0.0.1:{port}/x")

    asyncio.run(go())
