"""Delivery against a real HTTP server on 127.0.0.1: the Slack message's shape, the webhook's
signature checked exactly as a receiver would, and the time bounds of a sink that hangs or
fails (bounded retries, one log line that never shows the URL)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from cases import KEY, event
from receiver import receiver

from platform_lib.models.notifications import NotificationLimits
from platform_lib.notifications.deliver import deliver
from platform_lib.notifications.routing import Target
from platform_lib.notifications.signing import REPLAY_WINDOW

SLACK = Target("slack", "platform", "PLATFORM_SLACK_URL")
HOOK = Target("webhook", "platform", "PLATFORM_HOOK_URL", "PLATFORM_HOOK_KEY")
LIMITS = NotificationLimits(timeout=0.5, retries=2, budget=2.0)


def receiver_accepts(headers: dict[str, str], body: bytes, key: str, now: int) -> bool:
    """What a receiver does, written from the README alone."""
    timestamp = headers["X-Platform-Timestamp"]
    if abs(now - int(timestamp)) > REPLAY_WINDOW:
        return False
    expected = (
        "sha256="
        + hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, headers["X-Platform-Signature"])


def test_slack_gets_a_block_kit_message() -> None:
    lines: list[str] = []
    with receiver() as slack:
        done = deliver(event(), [SLACK], {"PLATFORM_SLACK_URL": slack.url}, LIMITS, lines.append)
    assert [d.delivered for d in done] == [True] and lines == []
    (got,) = slack.requests
    assert got.headers["Content-Type"] == "application/json"
    payload = json.loads(got.body)
    assert set(payload) == {"text", "blocks"}
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "section", "context"]
    fields = [f["text"] for f in payload["blocks"][1]["fields"]]
    assert "*Tenant*\nshop" in fields and "*Environment*\nstaging" in fields


def test_the_webhook_is_signed_and_a_receiver_can_verify_it() -> None:
    environ = {"PLATFORM_HOOK_URL": "", "PLATFORM_HOOK_KEY": KEY}
    with receiver() as hook:
        environ["PLATFORM_HOOK_URL"] = hook.url
        done = deliver(event(), [HOOK], environ, LIMITS, lambda _: None)
    assert done[0].delivered
    (got,) = hook.requests
    assert got.headers["X-Platform-Event"] == "deploy.succeeded"
    now = int(time.time())
    assert receiver_accepts(got.headers, got.body, KEY, now)
    assert json.loads(got.body)["project"] == "shop"
    # A changed body, another key, or a replay after the window are refused.
    assert not receiver_accepts(got.headers, got.body + b" ", KEY, now)
    assert not receiver_accepts(got.headers, got.body, KEY + "x", now)
    assert not receiver_accepts(got.headers, got.body, KEY, now + REPLAY_WINDOW + 1)


def test_a_sink_answering_500_is_retried_a_bounded_number_of_times() -> None:
    lines: list[str] = []
    with receiver(status=500) as broken:
        environ = {"PLATFORM_SLACK_URL": broken.url}
        done = deliver(event(), [SLACK], environ, LIMITS, lines.append)
    assert (done[0].delivered, done[0].attempts, done[0].reason) == (False, 3, "HTTP 500")
    assert len(broken.requests) == 3
    assert len(lines) == 1 and "PLATFORM_SLACK_URL" in lines[0]
    assert broken.url not in lines[0] and "s3cr3t" not in lines[0]


def test_a_refusing_sink_is_not_retried() -> None:
    with receiver(status=404) as gone:
        done = deliver(event(), [SLACK], {"PLATFORM_SLACK_URL": gone.url}, LIMITS, print)
    assert (done[0].attempts, done[0].reason) == (1, "HTTP 404") and len(gone.requests) == 1


def test_a_hanging_sink_costs_at_most_the_budget_and_the_next_sink_still_gets_its_try() -> None:
    lines: list[str] = []
    with receiver(delay=30) as hung, receiver() as slack:
        environ = {"PLATFORM_HOOK_URL": hung.url, "PLATFORM_HOOK_KEY": KEY,
                   "PLATFORM_SLACK_URL": slack.url}  # fmt: skip
        started = time.monotonic()
        done = deliver(event(), [HOOK, SLACK], environ, LIMITS, lines.append)
        spent = time.monotonic() - started
    assert spent < LIMITS.budget + 0.5
    assert done[0].reason == "timed out" and not done[0].delivered
    assert 1 <= done[0].attempts <= LIMITS.retries + 1
    # The hung sink spent the budget: the next one is reported, not waited for.
    assert done[1].delivered or done[1].reason == "budget spent"
    assert all(hung.url not in line and "s3cr3t" not in line for line in lines)


def test_an_unset_or_non_http_variable_is_skipped_in_one_line() -> None:
    lines: list[str] = []
    environ = {"PLATFORM_HOOK_URL": "file:///etc/passwd", "PLATFORM_HOOK_KEY": KEY}
    done = deliver(event(), [SLACK, HOOK], environ, LIMITS, lines.append)
    assert [(d.delivered, d.attempts, d.reason) for d in done] == [
        (False, 0, "not set"),
        (False, 0, "not an http(s) URL"),
    ]
    assert len(lines) == 2 and not any("passwd" in line for line in lines)


def test_a_webhook_without_its_key_is_not_sent_unsigned() -> None:
    with receiver() as hook:
        done = deliver(event(), [HOOK], {"PLATFORM_HOOK_URL": hook.url}, LIMITS, lambda _: None)
    assert done[0].reason == "PLATFORM_HOOK_KEY not set" and hook.requests == []
