"""Signed webhook deliveries: how the embedded server signs, how a receiver checks.

Each delivery carries the header

    X-Inference-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>

where the HMAC key is the server's webhook secret (the file `webhook_secret`
in its data dir) and the signed message is `f"{t}.".encode() + raw_body`.
A receiver recomputes it over the raw bytes it received, compares in constant
time, and refuses timestamps too far from now (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Inference-Signature"
DELIVERY_HEADER = "X-Inference-Delivery"
DEFAULT_TOLERANCE = 300.0


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The value of the signature header for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """True when `header` signs `body` with `secret` within `tolerance` seconds of now."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
        received = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance:
        return False
    expected = sign(secret, body, timestamp=t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, received)
