"""The webhook signature: the documented scheme, and the receiver's check."""

from __future__ import annotations

import hashlib
import hmac

from cases import KEY

from platform_lib.notifications.signing import REPLAY_WINDOW, signature, signed_headers, verify

BODY = b'{"kind":"deploy.succeeded"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(KEY.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(KEY, 1700000000, BODY) == f"sha256={expected}"


def test_headers_carry_timestamp_signature_and_event() -> None:
    headers = signed_headers(KEY, 1700000000, BODY, "deploy.succeeded")
    assert headers["X-Platform-Timestamp"] == "1700000000"
    assert headers["X-Platform-Signature"] == signature(KEY, 1700000000, BODY)
    assert headers["X-Platform-Event"] == "deploy.succeeded"
    assert KEY not in "".join(headers.values())


def test_verify_accepts_a_fresh_signature_and_refuses_the_rest() -> None:
    signed = signature(KEY, 1700000000, BODY)
    assert verify(KEY, "1700000000", signed, BODY, now=1700000000 + REPLAY_WINDOW)
    assert not verify(KEY, "1700000000", signed, BODY, now=1700000000 + REPLAY_WINDOW + 1)
    assert not verify(KEY, "1700000000", signed, BODY, now=1700000000 - REPLAY_WINDOW - 1)
    assert not verify(KEY, "1700000001", signed, BODY, now=1700000000)
    assert not verify("other", "1700000000", signed, BODY, now=1700000000)
    assert not verify(KEY, "1700000000", signed, BODY + b"x", now=1700000000)
    assert not verify(KEY, "-1", signed, BODY, now=1700000000)
