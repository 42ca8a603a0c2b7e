"""A routed service's rollout: canary steps through the proxy's weights, the thresholds each
step is judged by, and how long the previous release stays warm after the full switch."""

from __future__ import annotations

from pydantic import Field

from platform_lib.models.base import Model

MAX_BAKE = 3600
"""Seconds: the longest a step or the warm period may last (the deploy lock holds throughout)."""


class CanaryStep(Model):
    """One step: this share of the service's requests goes to the new release for `bake`
    seconds, then the step is judged."""

    weight: int = Field(ge=1, le=100)
    """Percent of requests to the new release (1-99; the full switch follows the last step)."""
    bake: int = Field(ge=0, le=MAX_BAKE)
    """Seconds at this weight before the step is judged."""


class Thresholds(Model):
    """What a release must stay within while it is judged (every canary step and the warm
    period). A figure is judged only once the new release answered `min_requests`."""

    max_error_percent: float = Field(default=1.0, ge=0, le=100)
    """Highest share (percent) of the new release's requests that may fail (5xx, or the
    upstream failing to answer). A release failing no more than the old one at the same time
    passes (the fault is elsewhere)."""
    max_p99_ms: int | None = Field(default=None, ge=1, le=600_000)
    """Highest p99 latency (milliseconds) of the new release's requests; none: not judged."""
    max_p99_ratio: float | None = Field(default=None, ge=1, le=100)
    """Highest p99 latency of the new release relative to the old one's over the same time
    (1.5: at most half as slow again); none: not judged. Needs the old release to have
    answered `min_requests` too."""
    min_requests: int = Field(default=50, ge=1, le=1_000_000)
    """Requests the new release must have answered before a step is judged; a step that saw
    fewer is not judged, it fails (a release nobody used is not known to work)."""


class Rollout(Model):
    """A routed service rolled out in steps behind the proxy (`rollout:` of project.yml,
    by service). A first release, and a deploy where the service's config is unchanged,
    switch as without it."""

    steps: list[CanaryStep] = Field(default_factory=list, max_length=10)
    """Canary steps with strictly increasing weights; none: switch at once (then `warm`)."""
    thresholds: Thresholds = Thresholds()
    warm: int = Field(default=0, ge=0, le=MAX_BAKE)
    """Seconds after the full switch during which the previous release's containers keep
    running out of traffic and the new release is judged: a failure, or a manual `rollback`,
    goes back to them in one proxy reload. 0: the old containers stop at the switch."""
