"""Webhook deliveries: stored first, then sent, retried with backoff.

A delivery is written to the store before the first attempt, so a restart
resumes it. Attempts back off exponentially (`backoff * 2**n`, capped at a
minute); after `max_attempts` it is marked failed with the last error.
Whatever one attempt raises fails that attempt only (logged, retried); the
sender itself never stops.
Due times are read from the server's `Clock` (wall time: they are stored).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
from collections.abc import Iterable

import httpx

from inference_nb.wire.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign

from .clock import SYSTEM_CLOCK, Clock
from .store import Store

log = logging.getLogger("inference_nb.server")

BACKOFF_CAP = 60.0
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
    def __init__(
        self,
        store: Store,
        secret: str,
        *,
        max_attempts: int = 6,
        backoff: float = 1.0,
        clock: Clock = SYSTEM_CLOCK,
        allowed_hosts: Iterable[str] = (ANY_DESTINATION,),
    ) -> None:
        self._allowed_hosts = tuple(allowed_hosts)
        self._store = store
        self._clock = clock
        self._secret = secret
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None

    def enqueue(self, task_id: str, url: str, body: str) -> None:
        self._store.add_delivery(f"whd_{secrets.token_hex(10)}", task_id, url, body, due=self._clock.now())
        self._wake.set()

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        # A clock that jumps forward may make a delivery due before the sleep below would end.
        self._clock.on_jump(lambda: loop.call_soon_threadsafe(self._wake.set))
        async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as client:
            self._client = client
            while True:
                try:
                    due = self._store.due_deliveries(self._clock.now())
                    await asyncio.gather(*(self._attempt(delivery) for delivery in due))
                except Exception:  # e.g. the store briefly failing: the sender must outlive it
                    log.exception("webhook sender: a round of deliveries failed; retrying")
                    await asyncio.sleep(self._backoff)
                await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        due = self._store.next_delivery_due()
        timeout = None if due is None else max(0.0, due - self._clock.now())
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass

    async def _send(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """One POST; a seam a test replaces to make a delivery raise."""
        assert self._client is not None
        return await self._client.post(url, content=body, headers=headers)

    async def _attempt(self, delivery: dict) -> None:
        assert self._client is not None
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
            response = await self._send(delivery["url"], body, headers)
            error = None if response.is_success else f"HTTP {response.status_code}"
        except Exception as exc:  # noqa: BLE001 - whatever one delivery raises (httpx.InvalidURL is no
            # httpx.HTTPError; an OverflowError from a port) fails that delivery only, never the sender.
            error = f"{type(exc).__name__}: {exc}"
            log.info(
                "webhook delivery %s of %s: attempt %d failed: %s", delivery["id"], delivery["task_id"], attempts, error
            )
        if error is None:
            self._store.update_delivery(delivery["id"], state="delivered", attempts=attempts, due=0, error=None)
            return
        if attempts >= self._max_attempts:
            log.warning("webhook for %s failed after %d attempts: %s", delivery["task_id"], attempts, error)
            self._store.update_delivery(delivery["id"], state="failed", attempts=attempts, due=0, error=error)
            return
        delay = min(BACKOFF_CAP, self._backoff * 2 ** (attempts - 1))
        self._store.update_delivery(
            delivery["id"], state="pending", attempts=attempts, due=self._clock.now() + delay, error=error
        )


def _refusal(url: str, allowed: Iterable[str]) -> str | None:
    try:
        return destination_refused(url, allowed)
    except httpx.InvalidURL as exc:  # a URL stored before it was checked at submit
        return f"not a URL that can be sent to: {exc}"
