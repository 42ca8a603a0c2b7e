"""Post an event to its sinks within the time bounds: a failing sink costs the command at
most the event's budget, is logged in one line (by its variable, never its URL), and never
raises. The one I/O module of notifications; `post` is the seam tests replace."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from platform_lib.models.notifications import Event, NotificationLimits
from platform_lib.notifications.payloads import slack_body, webhook_body
from platform_lib.notifications.routing import Target
from platform_lib.notifications.signing import signed_headers
from platform_lib.transport.base import LineSink

BACKOFF = 0.5
"""Seconds before the first retry; doubled for each next one (within the budget)."""


class Poster(Protocol):
    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST `body`; the HTTP status. Raises OSError when no answer came (timeout...)."""
        ...


def urllib_post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    # Only http(s) URLs get here (_deliver_one checks the scheme).
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@dataclass(frozen=True)
class Delivery:
    target: Target
    delivered: bool
    attempts: int
    reason: str | None = None
    """Why not delivered: `not set`, `not an http(s) URL`, `timed out`, `no connection`,
    `HTTP <status>`, `budget spent`."""


def _bounded(post: Poster, url: str, body: bytes, headers: Mapping[str, str],
             timeout: float) -> int | str:  # fmt: skip
    """The status, or why none came: the post runs in a thread given `timeout` in all (a
    server that trickles its answer is left behind)."""
    outcome: list[int | str] = []

    def attempt() -> None:
        try:
            outcome.append(post(url, body, headers, timeout))
        except TimeoutError:
            outcome.append("timed out")
        except OSError:
            outcome.append("no connection")

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout)
    return outcome[0] if outcome else "timed out"


def _request(event: Event, target: Target, environ: Mapping[str, str],
             wall: Callable[[], float]) -> tuple[bytes, dict[str, str]] | str:  # fmt: skip
    if target.kind == "slack":
        return slack_body(event), {"Content-Type": "application/json"}
    key = environ.get(target.key_variable or "")
    if not key:
        return f"{target.key_variable} not set"
    body = webhook_body(event)
    return body, signed_headers(key, int(wall()), body, event.kind)


def deliver(
    event: Event,
    targets: Sequence[Target],
    environ: Mapping[str, str],
    limits: NotificationLimits,
    log: LineSink,
    post: Poster = urllib_post,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wall: Callable[[], float] = time.time,
) -> list[Delivery]:
    """Post `event` to every target, in order, all within `limits.budget` seconds."""
    deadline = clock() + limits.budget
    done: list[Delivery] = []
    for target in targets:
        result = _deliver_one(event, target, environ, limits, deadline, post, clock, sleep, wall)
        if not result.delivered:
            log(
                f"notification {event.kind} to {target.label} not delivered "
                f"({result.reason}, {result.attempts} attempt(s)); nothing else is affected"
            )
        done.append(result)
    return done


def _deliver_one(event: Event, target: Target, environ: Mapping[str, str],
                 limits: NotificationLimits, deadline: float, post: Poster,
                 clock: Callable[[], float], sleep: Callable[[float], None],
                 wall: Callable[[], float]) -> Delivery:  # fmt: skip
    url = environ.get(target.url_variable, "")
    if not url:
        return Delivery(target, False, 0, "not set")
    if not url.startswith(("https://", "http://")):
        return Delivery(target, False, 0, "not an http(s) URL")
    reason = "budget spent"
    for attempt in range(limits.retries + 1):
        left = deadline - clock()
        if left <= 0:  # the reason of the last attempt, if there was one
            return Delivery(target, False, attempt, reason)
        request = _request(event, target, environ, wall)
        if isinstance(request, str):
            return Delivery(target, False, attempt, request)
        status = _bounded(post, url, request[0], request[1], min(limits.timeout, left))
        if isinstance(status, int) and 200 <= status < 300:
            return Delivery(target, True, attempt + 1)
        reason = status if isinstance(status, str) else f"HTTP {status}"
        if isinstance(status, int) and status < 500 and status != 429:
            return Delivery(target, False, attempt + 1, reason)  # refused: retrying won't help
        if attempt < limits.retries:
            sleep(min(BACKOFF * 2**attempt, max(0.0, deadline - clock())))
    return Delivery(target, False, limits.retries + 1, reason)
