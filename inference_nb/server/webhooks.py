"""Webhook deliveries: stored first, then sent, retried with backoff.

A delivery is written to the store before the first attempt, so a restart
resumes it. Attempts back off exponentially (`backoff * 2**n`, capped at a
minute); after `max_attempts` it is marked failed with the last error.
Whatever one attempt raises fails that attempt only (logged, retried); the
sender itself never stops. Each attempt is its own asyncio task under one overall
deadline, so a receiver that drips or never answers holds only its own delivery.
Due times are read from the server's `Clock` (wall time: they are stored).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
from collections import Counter
from collections.abc import Iterable

import httpx

from inference_nb.wire.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign

from .clock import SYSTEM_CLOCK, Clock
from .store import Store

log = logging.getLogger("inference_nb.server")

BACKOFF_CAP = 60.0
DEFAULT_ATTEMPT_TIMEOUT = 10.0
"""Seconds one attempt may take, connect to the last byte of the answer."""
DEFAULT_MAX_IN_FLIGHT = 64
"""Attempts made at once."""
DEFAULT_MAX_PER_RECEIVER = 8
"""Attempts made at once to one receiver (host and port): one slow receiver cannot take every slot."""
ANY_DESTINATION = "*"
LOOPBACK = "loopback"
"""In `webhook_hosts`: localhost and every loopback address (127.0.0.0/8, ::1)."""


def destination_refused(url: str, allowed: Iterable[str]) -> str | None:
    """Why `url`'s host may not receive webhooks under `allowed` (`ServerConfig.webhook_hosts`), or None.

    Names are compared as written: no DNS lookup, so a name is allowed only if it is listed.
    """
    allowed = {h.lower() for h in allowed}
    if ANY_DESTINATION in allowed:
        return None
    host = httpx.URL(url).host.lower().rstrip(".")
    if host in allowed:
        return None
    if LOOPBACK in allowed and (host == "localhost" or _is_loopback_address(host)):
        return None
    return f"host {host!r} is not one webhooks may go to on this server (webhook_hosts: {', '.join(sorted(allowed))})"


def _is_loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSender:
    """Sends the stored deliveries, each as its own asyncio task (docs/ARCHITECTURE.md, "Webhooks").

    An attempt has one deadline, `attempt_timeout`, over connect, send and the whole answer; at most
    `max_in_flight` attempts run at once, and at most `max_per_receiver` of them to one receiver
    (host and port), so slow or dead receivers hold their own deliveries only.

    Args:
        transport: what the POSTs go through (httpx's `AsyncBaseTransport`; default: the network).
            A test passes one that answers or fails as it likes.
    """

    def __init__(
        self,
        store: Store,
        secret: str,
        *,
        max_attempts: int = 6,
        backoff: float = 1.0,
        clock: Clock = SYSTEM_CLOCK,
        allowed_hosts: Iterable[str] = (ANY_DESTINATION,),
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_per_receiver: int = DEFAULT_MAX_PER_RECEIVER,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._allowed_hosts = tuple(allowed_hosts)
        self._store = store
        self._clock = clock
        self._secret = secret
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._attempt_timeout = attempt_timeout
        self._max_in_flight, self._max_per_receiver = max_in_flight, max_per_receiver
        self._transport = transport
        self._wake = asyncio.Event()
        self._in_flight: dict[str, str] = {}
        """Delivery id → its receiver (`_receiver_of`), for each attempt being made."""
        self._attempts: set[asyncio.Task] = set()
        self._client: httpx.AsyncClient | None = None

    def enqueue(self, task_id: str, url: str, body: str) -> None:
        self._store.add_delivery(f"whd_{secrets.token_hex(10)}", task_id, url, body, due=self._clock.now())
        self._wake.set()

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        # A clock that jumps forward may make a delivery due before the sleep below would end.
        self._clock.on_jump(lambda: loop.call_soon_threadsafe(self._wake.set))
        try:
            while True:
                # Cleared before looking: whatever happens from here on wakes the sleep below.
                self._wake.clear()
                now = self._clock.now()
                try:
                    self._start_due(now)
                except Exception:  # e.g. the store briefly failing: the sender must outlive it
                    log.exception("webhook sender: reading the due deliveries failed; retrying")
                    await asyncio.sleep(self._backoff)
                await self._sleep_until_due(now)
        finally:
            for attempt in self._attempts:
                attempt.cancel()
            await asyncio.gather(*self._attempts, return_exceptions=True)
            if self._client is not None:
                await self._client.aclose()

    def _http(self) -> httpx.AsyncClient:
        """The client the POSTs go through, made for the first delivery: its TLS setup (reading the CA
        bundle) would add tens of milliseconds to every server start, and most servers send none."""
        if self._client is None:
            # The pool holds a connection per attempt in flight; httpx's own timeout bounds each read,
            # the attempt's deadline (in _attempt) the whole exchange.
            limits = httpx.Limits(max_connections=self._max_in_flight, max_keepalive_connections=self._max_in_flight)
            self._client = httpx.AsyncClient(
                timeout=self._attempt_timeout, follow_redirects=False, limits=limits, transport=self._transport
            )
        return self._client

    def _start_due(self, now: float) -> None:
        """Start an attempt for each delivery due at `now` that has a free slot (overall and for its
        receiver). One left waiting for a slot starts when an attempt ends and wakes the loop."""
        free = self._max_in_flight - len(self._in_flight)
        if free <= 0:
            return
        per_receiver = Counter(self._in_flight.values())
        for delivery in self._store.due_deliveries(now):
            if free <= 0:
                break
            if delivery["id"] in self._in_flight:
                continue
            receiver = _receiver_of(delivery["url"])
            if per_receiver[receiver] >= self._max_per_receiver:
                continue
            per_receiver[receiver] += 1
            free -= 1
            self._in_flight[delivery["id"]] = receiver
            attempt = asyncio.get_running_loop().create_task(self._attempt_and_release(self._http(), delivery))
            self._attempts.add(attempt)
            attempt.add_done_callback(self._attempts.discard)

    async def _attempt_and_release(self, client: httpx.AsyncClient, delivery: dict) -> None:
        try:
            await self._attempt(client, delivery)
        except Exception:  # the store failing to record the outcome: the delivery stays due, tried again
            log.exception("webhook delivery %s: recording its attempt failed", delivery["id"])
            await asyncio.sleep(self._backoff)  # not at once: the store may be failing for a while
        finally:
            del self._in_flight[delivery["id"]]
            self._wake.set()  # its slot is free for the next due one

    async def _sleep_until_due(self, now: float) -> None:
        """Until a delivery not yet due at `now` is, or something wakes the loop (a new delivery,
        a slot freed, the clock jumping). What was due at `now` has started or waits for a slot."""
        due = self._store.next_delivery_due(after=now)
        timeout = None if due is None else max(0.0, due - self._clock.now())
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass

    async def _attempt(self, client: httpx.AsyncClient, delivery: dict) -> None:
        body = delivery["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "inference_nb-webhooks",
            SIGNATURE_HEADER: sign(self._secret, body),
            DELIVERY_HEADER: delivery["id"],
        }
        attempts = delivery["attempts"] + 1
        refused = _refusal(delivery["url"], self._allowed_hosts)
        if refused is not None:  # stored before the policy changed: never sent, not retried
            log.warning("webhook for %s not sent: %s", delivery["task_id"], refused)
            self._store.update_delivery(delivery["id"], state="failed", attempts=attempts, due=0, error=refused)
            return
        try:
            async with asyncio.timeout(self._attempt_timeout):
                response = await client.post(delivery["url"], content=body, headers=headers)
            error = None if response.is_success else f"HTTP {response.status_code}"
        except TimeoutError:
            error = f"no complete answer within {self._attempt_timeout:g} s (the attempt's deadline)"
        except Exception as exc:  # noqa: BLE001 - whatever one delivery raises (httpx.InvalidURL is no
            # httpx.HTTPError; an OverflowError from a port) fails that delivery only, never the sender.
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self._store.update_delivery(delivery["id"], state="delivered", attempts=attempts, due=0, error=None)
            return
        task_id = delivery["task_id"]
        log.info("webhook delivery %s of %s: attempt %d failed: %s", delivery["id"], task_id, attempts, error)
        if attempts >= self._max_attempts:
            log.warning("webhook for %s failed after %d attempts: %s", delivery["task_id"], attempts, error)
            self._store.update_delivery(delivery["id"], state="failed", attempts=attempts, due=0, error=error)
            return
        delay = min(BACKOFF_CAP, self._backoff * 2 ** (attempts - 1))
        self._store.update_delivery(
            delivery["id"], state="pending", attempts=attempts, due=self._clock.now() + delay, error=error
        )


def _receiver_of(url: str) -> str:
    """Which receiver a URL reaches, for the per-receiver cap: its host and port."""
    try:
        parsed = httpx.URL(url)
        return f"{parsed.host.lower()}:{parsed.port}"
    except (httpx.InvalidURL, ValueError):
        return ""


def _refusal(url: str, allowed: Iterable[str]) -> str | None:
    try:
        return destination_refused(url, allowed)
    except httpx.InvalidURL as exc:  # a URL stored before it was checked at submit
        return f"not a URL that can be sent to: {exc}"
