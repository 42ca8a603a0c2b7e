"""The generic webhook's signature, and its check exactly as a receiver makes it. Pure.

    X-Platform-Timestamp: <unix seconds>
    X-Platform-Signature: sha256=<hex of HMAC-SHA256(key, "<timestamp>.<body>")>

A receiver recomputes the HMAC over the raw body it got, compares in constant time, and
refuses a timestamp more than `REPLAY_WINDOW` seconds away from its own clock (and, to be
strict, an event `id` it has already seen within that window)."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Platform-Timestamp"
SIGNATURE_HEADER = "X-Platform-Signature"
EVENT_HEADER = "X-Platform-Event"
SCHEME = "sha256="
REPLAY_WINDOW = 300
"""Seconds a receiver accepts between the timestamp and its own clock."""


def signature(key: str, timestamp: int, body: bytes) -> str:
    """The `X-Platform-Signature` value of `body` sent at `timestamp`."""
    mac = hmac.new(key.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def signed_headers(key: str, timestamp: int, body: bytes, kind: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        EVENT_HEADER: kind,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(key, timestamp, body),
    }


def verify(
    key: str, timestamp: str, signed: str, body: bytes, now: int, window: int = REPLAY_WINDOW
) -> bool:
    """A receiver's check: the signature matches the body and the timestamp is recent."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > window:
        return False
    return hmac.compare_digest(signature(key, int(timestamp), body), signed)
