"""Build the plan that switches a tenant+environment back to a release already on its host."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from platform_lib.config.grants import tenant_grants
from platform_lib.config.loader import PlatformConfig
from platform_lib.config.platform_vars import compose_project as compose_project_name
from platform_lib.errors import PlanError
from platform_lib.models.host_state import HostState
from platform_lib.models.plan import Plan, ServerFacts, Step
from platform_lib.planning.builder import base_dir, find_tenant, target_host
from platform_lib.planning.canonical import with_id
from platform_lib.planning.steps import (
    TenantImages,
    check_release_step,
    lock_step,
    policy_step,
    precondition_step,
    proxy_preflight_step,
    step,
    switch_step,
    undo_steps,
    unlock_step,
)


@dataclass(frozen=True)
class RollbackRequest:
    project: str
    environment: str
    now: datetime
    actor: str
    platform_sha: str
    state: HostState
    """The host's releases and current one, read just before planning."""
    to_release: str | None = None
    """Default: the newest good release older than the current one."""


def choose_release(state: HostState, wanted: str | None) -> str:
    good = [r.release for r in state.releases]
    if wanted is not None:
        if wanted not in good:
            raise PlanError(
                f"release {wanted!r} is not on the host",
                f"releases there: {', '.join(good) or 'none'}",
            )
        if wanted == state.current_release:
            raise PlanError(f"release {wanted!r} is already current", "nothing to roll back")
        return wanted
    older = [r for r in good if state.current_release is None or r < state.current_release]
    if not older:
        raise PlanError(
            "there is no earlier release to roll back to",
            f"releases on the host: {', '.join(good) or 'none'}",
        )
    return older[0]


def build_rollback_plan(config: PlatformConfig, request: RollbackRequest) -> Plan:
    tenant = find_tenant(config, request.project, request.environment)
    env = request.environment
    release = choose_release(request.state, request.to_release)
    record = next(r for r in request.state.releases if r.release == release)
    project = compose_project_name(tenant.name, env)
    base = base_dir(config, tenant.name, env)
    timeouts, proxy = config.settings.timeouts, config.settings.proxy
    now = request.now.astimezone(UTC)
    steps: list[Step] = [
        lock_step(base, request.actor, release, timeouts, project, proxy),
        precondition_step(base, request.state.current_release),
        *([proxy_preflight_step(proxy)] if proxy is not None and tenant.manifest.routes else []),
        # The tenant's grants as they are now: a revoked one no longer lets an old release run.
        policy_step(base, release, project, [g.rule for g in tenant_grants(config, tenant)],
                    config.settings.shared_networks,
                    TenantImages.of(config.settings.registry, tenant.name)),
        switch_step(base, release, project, timeouts,
                    f"Start release {release} and wait until healthy", proxy),
        check_release_step("health", f"HTTP health of release {release}", base, release,
                           project, timeouts, "rollback", proxy),
        step("record", "Point current at the release and record the rollback",
             ("platform_record_rollback", base, release), 30, "rollback"),
        unlock_step(base),
    ]  # fmt: skip
    undo = undo_steps(
        base, release, project, timeouts, "Restore the release that was current", proxy
    )
    plan = Plan(
        kind="rollback", project=tenant.name, environment=env, compose_project=project,
        release=release, created_at=f"{now:%Y-%m-%dT%H:%M:%SZ}", actor=request.actor,
        platform_sha=request.platform_sha, host=target_host(config, tenant, env), base_dir=base,
        images=dict(record.digests.services), secrets=(), domains=(),
        facts=ServerFacts(current_release=request.state.current_release), files=(),
        steps=tuple(steps), rollback=tuple(undo),
    )  # fmt: skip
    return with_id(plan)
