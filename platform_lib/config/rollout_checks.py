"""Rules of a tenant's `rollout:`: only routed services, canary weights that climb, steps that
are judged on something, and a rollout that ends within the deploy lock. (Without the edge
proxy a rollout has nothing to act on: plans leave it out, as the README says.)"""

from __future__ import annotations

from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.errors import Problem
from platform_lib.models.rollout import Rollout


def rollout_seconds(rollout: Rollout) -> int:
    """The bake times of a rollout: every step's, then the warm period's."""
    return sum(s.bake for s in rollout.steps) + rollout.warm


def rollout_problems(config: PlatformConfig, tenant: Tenant) -> list[Problem]:
    doc, manifest = tenant.manifest_doc, tenant.manifest
    routed = {route.service for route in manifest.routes}
    problems: list[Problem] = []

    def add(path: list[object], rule: str, message: str, hint: str) -> None:
        problems.append(Problem(doc.locate(path), rule, message, hint))

    for service, rollout in manifest.rollout.items():
        where: list[object] = ["rollout", service]
        if service not in routed:
            add(where, "project.rollout-not-routed",
                f"service {service!r} has a rollout but no route",
                f"a rollout moves the proxy's traffic; routed services: "
                f"{', '.join(sorted(routed)) or 'none'}")  # fmt: skip
        if not rollout.steps and rollout.warm == 0:
            add(where, "project.rollout-empty",
                f"the rollout of {service!r} has no steps and no warm period",
                "add canary steps or warm: seconds, or remove the rollout")  # fmt: skip
        previous = 0
        for index, canary in enumerate(rollout.steps):
            at = [*where, "steps", index]
            if canary.weight >= 100:
                add([*at, "weight"], "project.rollout-weights",
                    f"step {index + 1} sends 100% to the new release",
                    "the full switch follows the last step: give steps below 100 and use "
                    "warm: for the time after it")  # fmt: skip
            elif canary.weight <= previous:
                add([*at, "weight"], "project.rollout-weights",
                    f"step {index + 1} weight {canary.weight} is not above the step before "
                    f"({previous})",
                    "canary weights climb: give each step a higher percent")  # fmt: skip
            previous = max(previous, canary.weight)
            if canary.bake == 0:
                add([*at, "bake"], "project.rollout-bake",
                    f"step {index + 1} has a bake of 0 seconds",
                    "a step is judged on the requests of its bake time: give it seconds "
                    "(at least enough for min_requests)")  # fmt: skip
        lock = config.settings.timeouts.lock_expiry
        total = rollout_seconds(rollout)
        if total >= lock:
            add(where, "project.rollout-too-long",
                f"the rollout of {service!r} bakes {total}s, the deploy lock expires after "
                f"{lock}s",
                "shorten the bake times or raise timeouts.lock_expiry in configs/platform.yml "
                "(the lock holds for the whole rollout)")  # fmt: skip
    return problems
