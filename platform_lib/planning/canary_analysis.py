"""The pure core of a canary: the proxy's access-log lines (format `LOG_FIELDS` of
proxy_config) into per-release figures, and the figures into a decision.

The host runtime computes the same figures with awk (runtime/canary_judging.sh,
platform_canary_tally) and the same decision in bash; a test runs both on the same lines and
wants equal records.

Per attempt, not per request: nginx may try a second container after the first failed to
answer (`$upstream_addr` `a, b`, `$upstream_status` `502, 200`); the failure belongs to the
first container's release and the answer to the second's. A line without an upstream (`-`),
or naming a container of neither release, counts for neither."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from platform_lib.models.records import CanaryDecision, CanaryFigures
from platform_lib.models.rollout import Thresholds

_SEPARATOR = re.compile(r", | : ")
_SECONDS = re.compile(r"^(\d+)(?:\.(\d{1,3}))?$")


@dataclass
class Tally:
    """One release's attempts while a period is judged."""

    requests: int = 0
    failures: int = 0
    latencies: list[int] = field(default_factory=list)

    def figures(self) -> CanaryFigures:
        return CanaryFigures(requests=self.requests, failures=self.failures,
                             p99_ms=p99(self.latencies))  # fmt: skip


def p99(latencies: list[int]) -> int | None:
    """Nearest rank: the smallest value at least 99% of the values are at or below."""
    if not latencies:
        return None
    ordered = sorted(latencies)
    return ordered[(99 * len(ordered) + 99) // 100 - 1]


def millis(seconds: str) -> int | None:
    """nginx's `0.004` (seconds, to the millisecond) as 4; None for `-` or anything else."""
    match = _SECONDS.match(seconds)
    if match is None:
        return None
    return int(match.group(1)) * 1000 + int((match.group(2) or "0").ljust(3, "0"))


def failed(status: str) -> bool:
    """An attempt failed: a 5xx, or no status at all (`-`, `502` nginx made itself is a 5xx)."""
    return not (len(status) == 3 and status.isdigit() and status[0] in "1234")


def tally(lines: Iterable[str], old: set[str], new: set[str]) -> tuple[Tally, Tally]:
    """(old, new): the attempts at the old and the new release's container addresses (the
    port is the route's, the same for both)."""
    tallies = (Tally(), Tally())
    for line in lines:
        fields = line.rstrip("\n").split("\t")
        if len(fields) != 6:
            continue  # not a line of the platform's format (a partly written last line)
        addresses = _SEPARATOR.split(fields[1])
        statuses = _SEPARATOR.split(fields[3])
        times = _SEPARATOR.split(fields[5])
        for n, upstream in enumerate(addresses):
            address = upstream.rpartition(":")[0]
            which = 0 if address in old else 1 if address in new else None
            if which is None:
                continue
            status = statuses[n] if n < len(statuses) else "-"
            took = millis(times[n]) if n < len(times) else None
            counted = tallies[which]
            counted.requests += 1
            if failed(status):
                counted.failures += 1
            elif took is not None:
                counted.latencies.append(took)
    return tallies


def percent(figures: CanaryFigures) -> str:
    """An error rate as the reasons write it: `21.3%` (to a tenth)."""
    if figures.requests == 0:
        return "0%"
    tenths = (figures.failures * 1000 * 2 + figures.requests) // (figures.requests * 2)
    return f"{tenths // 10}.{tenths % 10}%".replace(".0%", "%")


def judge(service: str, step: str, weight: int, old: CanaryFigures, new: CanaryFigures,
          thresholds: Thresholds) -> CanaryDecision:  # fmt: skip
    """The decision on the new release's figures against the thresholds and the old one's."""

    def decided(verdict: str, reason: str = "") -> CanaryDecision:
        return CanaryDecision.model_validate({
            "service": service, "step": step, "weight": weight, "verdict": verdict,
            "reason": reason, "new": new, "old": old,
        })  # fmt: skip

    least = thresholds.min_requests
    if new.requests < least:
        reached = f"{new.requests} requests reached the new release, {least} needed"
        return decided("not-enough-requests", reached)
    # The same products the host's awk compares (doubles, no division).
    over_limit = new.failures * 100 > thresholds.max_error_percent * new.requests
    worse = old.requests == 0 or new.failures * old.requests > old.failures * new.requests
    if over_limit and worse:
        return decided("fail", f"error rate {percent(new)} of {new.requests} requests, over "
                       f"{thresholds.max_error_percent:g}% (old release: {percent(old)} of "
                       f"{old.requests})")  # fmt: skip
    limit = thresholds.max_p99_ms
    if limit is not None and new.p99_ms is not None and new.p99_ms > limit:
        return decided("fail", f"p99 {new.p99_ms}ms over {thresholds.max_p99_ms}ms")
    ratio = thresholds.max_p99_ratio
    slower = (ratio is not None and new.p99_ms is not None and old.p99_ms is not None
              and old.requests >= least and new.p99_ms > ratio * max(old.p99_ms, 1))  # fmt: skip
    if slower:
        return decided("fail", f"p99 {new.p99_ms}ms over {ratio:g}x the old release's "
                       f"{old.p99_ms}ms")  # fmt: skip
    return decided("pass")
