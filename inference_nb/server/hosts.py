"""The Host allow-list, and the public URL every URL the server builds starts with.

`HostCheck` refuses a request whose `Host` is not one this server answers to: a web page on
another origin whose name resolves to 127.0.0.1 (DNS rebinding) reaches the server with its own
name in `Host`, which a token alone does not stop once the page has one. A request that passes
gets the server's public URL as its Host and scheme, so every URL the server builds (file URIs,
upload URLs, a redirect's `Location`) comes from the configuration, never from the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ApiError, render_error

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
"""Names a loopback server always answers to."""
ANY_HOST = "*"


class MisdirectedRequest(ApiError):
    status_code, code = 421, "misdirected_request"


def normalize_host(value: str) -> str:
    """`Example.COM:8765` → `example.com`; `[::1]:80` → `::1`. The port is not part of the check."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def check_allow_hosts(hosts: Iterable[str]) -> tuple[str, ...]:
    """The allow-list as given, checked: host names or addresses (a port is ignored), or `*` for any.

    Raises:
        ValueError: an entry is empty or looks like a URL.
    """
    checked = []
    for host in hosts:
        if not host.strip() or "/" in host or any(c.isspace() for c in host.strip()):
            raise ValueError(f"allow_hosts: {host!r} is not a host name or address (e.g. myhost.example)")
        checked.append(host.strip())
    return tuple(checked)


class HostCheck:
    """Answers only requests whose Host is the address the connection reached, a loopback name, or
    one of `allow_hosts`; others get a 421 in the server's error format."""

    def __init__(self, app: ASGIApp, allow_hosts: Iterable[str] = ()) -> None:
        self.app = app
        self._allowed = {normalize_host(h) for h in allow_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if host is not None and not self._allows(normalize_host(host), scope):
            # Not echoed back: the answer says what to do, not what the client already knows.
            error = MisdirectedRequest(
                "this server does not answer to that Host; use the URL it printed, or start it with "
                "--allow-host NAME (start_server(allow_hosts=[...]))"
            )
            await render_error(Request(scope), error)(scope, receive, send)
            return
        public = public_url(scope)
        scheme, _, netloc = public.partition("://")
        scope = {
            **scope,
            "scheme": scheme,
            "headers": [(k, v) for k, v in scope["headers"] if k != b"host"] + [(b"host", netloc.encode())],
        }
        await self.app(scope, receive, send)

    def _allows(self, host: str, scope: Scope) -> bool:
        if ANY_HOST in self._allowed or host in self._allowed or host in LOOPBACK_NAMES:
            return True
        server = scope.get("server")
        return bool(server) and host == normalize_host(str(server[0]))


def public_url(scope: Scope) -> str:
    """The URL this server is reached at: its configured public URL, else the address the connection
    reached (the listening socket's, never the client's Host)."""
    app = scope.get("app")
    configured = getattr(getattr(app, "state", None), "public_url", None)
    if configured:
        return configured.rstrip("/")
    scheme = scope.get("scheme", "http")
    host, port = scope.get("server") or ("127.0.0.1", None)
    host = f"[{host}]" if _is_ipv6(str(host)) else str(host)
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
