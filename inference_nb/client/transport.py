"""The only I/O of the client: send a built request, retrying what is safe to retry."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.request import getproxies

import httpx

from .core import Backoff, raise_for_response, retry_after, retry_delay
from .errors import ConnectError, RequestTimeout, TransportError
from .pacing import Pacer
from .profile import Profile

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Enough kept-alive connections for the controller's requests and streams at once,
# so that following many runs does not open a connection per request.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=64)
MAX_ATTEMPTS = 5


def _mapped(error: httpx.TransportError, profile: Profile, run_id: str | None) -> TransportError:
    where = profile.label
    if isinstance(error, httpx.TimeoutException):
        return RequestTimeout(f"{where} did not answer in time ({type(error).__name__})", run_id=run_id)
    if isinstance(error, httpx.ConnectError):
        return ConnectError(f"could not reach {where}: {error}", run_id=run_id)
    return TransportError(f"the connection to {where} failed: {type(error).__name__}: {error}", run_id=run_id)


class SyncTransport:
    """Sends built requests with an httpx.Client, retrying what is safe to retry (`retry_delay`).

    Args:
        profile: the server (named in messages, never its key).
        backoff: the waits between attempts (default `Backoff()`).
        http: the httpx client (default: a new one with `DEFAULT_TIMEOUT` and `LIMITS`).
    """

    def __init__(self, profile: Profile, *, backoff: Backoff | None = None, http: httpx.Client | None = None) -> None:
        self.profile = profile
        self._backoff = backoff or Backoff()
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT, limits=LIMITS)

    def send(self, request: httpx.Request, *, idempotent: bool = True, run_id: str | None = None) -> httpx.Response:
        """Send `request`, up to `MAX_ATTEMPTS` times; returns the successful answer.

        Args:
            request: the request (from a core).
            idempotent: whether sending it twice is harmless (a create without an idempotency key
                or client id is not).
            run_id: the task or run the request is about, carried by an error.

        Raises:
            TransportError: no answer (`ConnectError`, `RequestTimeout`) after the retries.
            StatusError: an error answer (see `raise_for_response`) after the retries.
        """
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = self._http.send(request)
            except httpx.TransportError as error:
                delay = retry_delay(attempt, self._backoff, idempotent=idempotent, error=error)
                if delay is None or attempt == MAX_ATTEMPTS - 1:
                    raise _mapped(error, self.profile, run_id) from None
            else:
                delay = retry_delay(attempt, self._backoff, idempotent=idempotent, response=response)
                if delay is None or attempt == MAX_ATTEMPTS - 1:
                    raise_for_response(response, run_id=run_id)
                    return response
            time.sleep(delay)
        raise AssertionError("unreachable")

    @contextmanager
    def stream(self, request: httpx.Request, *, run_id: str | None = None) -> Iterator[httpx.Response]:
        """The streamed answer to `request`, open while the `with` block reads it; never retried.

        Raises:
            TransportError: no answer, or the body broke off while it was read.
            StatusError: an error answer.
        """
        try:
            response = self._http.send(request, stream=True)
        except httpx.TransportError as error:
            raise _mapped(error, self.profile, run_id) from None
        try:
            if not response.is_success:
                response.read()
                raise_for_response(response, run_id=run_id)
            yield response
        except httpx.TransportError as error:  # the body breaks off while it is read
            raise _mapped(error, self.profile, run_id) from None
        finally:
            response.close()

    def close(self) -> None:
        """Close the httpx client."""
        self._http.close()


class TLSWhenNeeded(httpx.AsyncBaseTransport):
    """httpx's own transport, one for https and one for plain http, each made for its first request.

    Setting up TLS reads the whole CA bundle, tens of milliseconds of a first run; a client of the
    embedded server speaks plain http and never needs it (docs/ARCHITECTURE.md, "Cold start and hot
    paths"). The plain one's SSLContext trusts no CA at all: it never speaks TLS, and if it had to, it
    would fail rather than skip a check.
    """

    def __init__(self, *, limits: httpx.Limits) -> None:
        self._limits = limits
        self._made: dict[bool, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        tls = request.url.scheme == "https"
        made = self._made.get(tls)
        if made is None:
            verify = True if tls else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            made = self._made[tls] = httpx.AsyncHTTPTransport(verify=verify, limits=self._limits)
        return await made.handle_async_request(request)

    async def aclose(self) -> None:
        for made in self._made.values():
            await made.aclose()


def new_async_client() -> httpx.AsyncClient:
    """An httpx.AsyncClient with `DEFAULT_TIMEOUT` and `LIMITS`, setting up TLS only once it is needed.

    With a proxy in the environment, httpx's own default: it mounts those proxies only for a client
    made without a transport.
    """
    if any(getproxies().get(scheme) for scheme in ("http", "https", "all")):
        return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=LIMITS)
    return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, transport=TLSWhenNeeded(limits=LIMITS))


class AsyncTransport:
    """`SyncTransport` with an httpx.AsyncClient: the same arguments, retries and errors, awaited;
    and paced once the server has answered 429 (`pacer`; docs/ARCHITECTURE.md, "Rate limits and pacing")."""

    def __init__(
        self, profile: Profile, *, backoff: Backoff | None = None, http: httpx.AsyncClient | None = None
    ) -> None:
        self.profile = profile
        self._backoff = backoff or Backoff()
        self._http = http or new_async_client()
        self._resume_at = 0.0
        """Loop time before which nothing is sent: a Retry-After holds for every request to the server."""
        self.pacer = Pacer()
        """The send rate, lowered by 429s and raised again by answers."""

    async def _paced(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait for this request's turn: past any Retry-After, and in its slot of the pacer's rate."""
        now = loop.time()
        if (pause := max(self._resume_at - now, self.pacer.delay(now))) > 0:
            await asyncio.sleep(pause)

    def _heard(self, loop: asyncio.AbstractEventLoop, response: httpx.Response) -> None:
        if response.status_code == 429:
            self.pacer.refused(loop.time())
        else:
            self.pacer.answered(loop.time())

    async def send(
        self, request: httpx.Request, *, idempotent: bool = True, run_id: str | None = None
    ) -> httpx.Response:
        """`SyncTransport.send`, awaited; a Retry-After also holds back every other request of this transport."""
        loop = asyncio.get_running_loop()
        for attempt in range(MAX_ATTEMPTS):
            await self._paced(loop)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as error:
                delay = retry_delay(attempt, self._backoff, idempotent=idempotent, error=error)
                if delay is None or attempt == MAX_ATTEMPTS - 1:
                    raise _mapped(error, self.profile, run_id) from None
            else:
                self._heard(loop, response)
                delay = retry_delay(attempt, self._backoff, idempotent=idempotent, response=response)
                if delay is not None and retry_after(response) is not None:  # the server asked everyone to wait
                    self._resume_at = max(self._resume_at, loop.time() + delay)
                if delay is None or attempt == MAX_ATTEMPTS - 1:
                    raise_for_response(response, run_id=run_id)
                    return response
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def stream(self, request: httpx.Request, *, run_id: str | None = None) -> AsyncIterator[httpx.Response]:
        loop = asyncio.get_running_loop()
        await self._paced(loop)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as error:
            raise _mapped(error, self.profile, run_id) from None
        self._heard(loop, response)
        try:
            if not response.is_success:
                await response.aread()
                raise_for_response(response, run_id=run_id)
            yield response
        except httpx.TransportError as error:  # the body breaks off while it is read
            raise _mapped(error, self.profile, run_id) from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Close the httpx client."""
        await self._http.aclose()
