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
"""The header carrying the signature (see `sign`)."""
DELIVERY_HEADER = "X-Inference-Delivery"
"""The header carrying the delivery's id, the same on every retry of it."""
DEFAULT_TOLERANCE = 300.0
"""Seconds a signature's time may be from now by default."""


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The value of the signature header for `body`: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.

    Args:
        secret: the webhook secret (the HMAC key).
        body: the raw bytes of the request body.
        timestamp: the signing time in unix seconds (default: now).
    """
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """True when `header` signs `body` with `secret` within `tolerance` seconds of now.

    A malformed header is False, never an exception; the comparison takes constant time.

    Args:
        secret: the webhook secret.
        body: the raw bytes received (before any JSON parsing).
        header: the value of the X-Inference-Signature header.
        tolerance: how far, in seconds, the signed time may be from now (replays are refused).
    """
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
        received = parts["v1"]
        if abs(time.time() - t) > tolerance:
            return False
    except (KeyError, ValueError, OverflowError):  # OverflowError: a time too large for a float
        return False
    expected = sign(secret, body, timestamp=t).split("v1=", 1)[1]
    return hmac.compare_digest(expected.encode(), received.encode())  # bytes: a non-ASCII header is just wrong
