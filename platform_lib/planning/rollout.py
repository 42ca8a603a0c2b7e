"""The steps of a canary rollout, for the services of a tenant with `rollout:`: pure builders
of argv calling the host runtime (runtime/canary_*.sh).

In a deploy, with the proxy: the canary services' new containers start beside the old ones,
out of traffic (`canary-start`); each step sets the proxy's weights, bakes and is judged on
the access log (`canary-<service>-<n>`); then all of their traffic goes to the new release
while the old containers stay warm (`canary-<service>-full`); the switch does the rest of the
tenant as before; the warm period judges the new release once more (`warm-<service>`) before
it is recorded, and the warm containers stop after it (`canary-retire`). A first release, or
a service whose config is unchanged, has nothing to compare: those steps pass through."""

from __future__ import annotations

from collections.abc import Mapping

from platform_lib.models.plan import Step
from platform_lib.models.rollout import Rollout, Thresholds
from platform_lib.models.settings import Proxy, Timeouts
from platform_lib.planning.steps import compose, proxy_args, step

STATE_DIR = "rollout"
"""Under the tenant+environment's directory: the state of the rollout in progress."""


def access_log(proxy: Proxy, compose_project: str) -> str:
    """The access log nginx writes for a tenant+environment with a rollout (format
    `platform_canary` of the shared http.conf)."""
    return f"{proxy.dir}/logs/{compose_project}.log"


def threshold_args(thresholds: Thresholds) -> tuple[str, str, str, str]:
    """MAX_ERROR_PERCENT MAX_P99_MS MAX_P99_RATIO MIN_REQUESTS (empty: not judged)."""
    return (
        _number(thresholds.max_error_percent),
        "" if thresholds.max_p99_ms is None else str(thresholds.max_p99_ms),
        "" if thresholds.max_p99_ratio is None else _number(thresholds.max_p99_ratio),
        str(thresholds.min_requests),
    )


def _number(value: float) -> str:
    """A threshold as the plan writes it: `2`, `1.5` (never `2.0`, never an exponent)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def rollout_steps(
    base: str,
    release: str,
    compose_project: str,
    rollouts: Mapping[str, Rollout],
    timeouts: Timeouts,
    proxy: Proxy,
) -> tuple[list[Step], list[Step], list[Step]]:
    """(before the switch, after its health check, after the record) for these rollouts."""
    if not rollouts:
        return [], [], []
    services = sorted(rollouts)
    log = access_log(proxy, compose_project)
    nginx = proxy_args(proxy)
    start = step(
        "canary-start",
        f"Start the new release of {', '.join(services)} beside the old one, out of traffic",
        ("platform_canary_start", base, release, compose_project, str(timeouts.up), *nginx,
         ",".join(services), "--", *compose(compose_project)),
        2 * timeouts.up + 60,
        "rollback",
    )  # fmt: skip
    before = [start]
    for service in services:
        rollout = rollouts[service]
        judged = threshold_args(rollout.thresholds)
        for n, canary in enumerate(rollout.steps, 1):
            before.append(step(
                f"canary-{service}-{n}",
                f"Canary {service}: {canary.weight}% of requests to the new release for "
                f"{canary.bake}s, then judge it",
                ("platform_canary_step", base, release, compose_project, service, str(n),
                 str(canary.weight), str(canary.bake), *judged, log, *nginx),
                canary.bake + timeouts.health + 60,
                "rollback",
            ))  # fmt: skip
        before.append(step(
            f"canary-{service}-full",
            f"All of {service}'s requests to the new release; the old containers stay warm",
            ("platform_canary_full", base, release, compose_project, service, *nginx),
            timeouts.health + 60,
            "rollback",
        ))  # fmt: skip
    warm = [
        _warm_step(base, release, compose_project, service, rollouts[service], log, nginx, timeouts)
        for service in services
        if rollouts[service].warm > 0
    ]
    retire = step("canary-retire", "Stop the previous release's warm containers",
                  ("platform_canary_retire", base, compose_project), 60, "warn")  # fmt: skip
    return before, warm, [retire]


def _warm_step(base: str, release: str, compose_project: str, service: str, rollout: Rollout,
               log: str, nginx: tuple[str, str, str, str], timeouts: Timeouts) -> Step:  # fmt: skip
    return step(
        f"warm-{service}",
        f"Keep {service}'s previous release warm for {rollout.warm}s and judge the new one "
        "(back to the warm one in one reload on failure)",
        ("platform_canary_warm", base, release, compose_project, service, str(rollout.warm),
         *threshold_args(rollout.thresholds), log, *nginx),
        rollout.warm + timeouts.health + 60,
        "rollback",
    )  # fmt: skip
