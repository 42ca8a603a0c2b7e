"""Build a deploy Plan: a pure function of the configs, the request, the facts and the clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from platform_lib.config.credentials import is_platform_credential
from platform_lib.config.domains import route_domains
from platform_lib.config.grants import tenant_grants
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.config.placement import placement_host
from platform_lib.config.platform_vars import compose_project as compose_project_name
from platform_lib.config.resource_limits import effective_limits
from platform_lib.errors import PlanError
from platform_lib.models.limits import ResourceLimits
from platform_lib.models.plan import (
    Plan,
    PlanGrant,
    PlannedFile,
    ServerFacts,
    Step,
    TargetHost,
)
from platform_lib.models.rollout import Rollout
from platform_lib.models.settings import Host
from platform_lib.planning.canonical import canonical_json, sha256_text, with_id
from platform_lib.planning.images import resolve_images, service_images
from platform_lib.planning.proxy_config import proxy_files
from platform_lib.planning.release_files import (
    DRAFT_FILE,
    env_file,
    health_checks,
    override_file,
    platform_values,
    release_draft,
)
from platform_lib.planning.rollout import rollout_steps
from platform_lib.planning.steps import (
    TenantImages,
    backup_step,
    check_release_step,
    compose,
    health_steps,
    lock_step,
    policy_step,
    precondition_step,
    proxy_preflight_step,
    step,
    switch_step,
    undo_steps,
    unlock_step,
)
from platform_lib.planning.windows import check_window, effective_windows


@dataclass(frozen=True)
class PlanRequest:
    project: str
    environment: str
    now: datetime
    """The explicit clock: the plan's timestamp and release id derive from it."""
    actor: str
    platform_sha: str
    images: Mapping[str, str] = field(default_factory=dict)
    facts: ServerFacts | None = None
    outside_window: str | None = None
    """The reason for deploying while the environment's deployment windows are closed (an
    emergency override, recorded in the plan); ignored while they are open."""


def find_tenant(config: PlatformConfig, project: str, environment: str) -> Tenant:
    tenant = config.tenants.get(project)
    if tenant is None:
        raise PlanError(
            f"unknown project {project!r}",
            f"projects: {', '.join(sorted(config.tenants)) or 'none'}",
        )
    if environment not in config.environments_of(tenant):
        raise PlanError(
            f"{tenant.name} does not deploy to {environment!r}",
            f"its environments: {', '.join(config.environments_of(tenant))}",
        )
    return tenant


def target_host(config: PlatformConfig, tenant: Tenant, environment: str) -> TargetHost:
    name = placement_host(config.settings, tenant.manifest, environment)
    return host_target(name, config.settings.environments[environment].hosts[name])


def host_target(name: str, host: Host) -> TargetHost:
    """A host of the settings, as plans and transports name it."""
    return TargetHost(
        name=name,
        kind=host.kind,
        address=host.address,
        port=host.port,
        user=host.user,
        host_key=host.host_key,
        docker_host=host.docker_host,
    )


def base_dir(config: PlatformConfig, project: str, environment: str) -> str:
    """Where a tenant+environment lives on its host."""
    return f"{config.settings.deploy_root}/projects/{project}/{environment}"


def tenant_secrets(config: PlatformConfig, tenant: Tenant) -> tuple[str, ...]:
    """The tenant's secrets. Validation refuses a platform credential among them; a plan never
    carries one either, whatever the config says."""
    leaked = [n for n in tenant.manifest.secrets if is_platform_credential(n, config.settings)]
    if leaked:
        raise PlanError(
            f"{tenant.name} declares the platform's own credentials as secrets: "
            f"{', '.join(leaked)}",
            "a tenant never gets them; remove them from its project.yml",
        )
    return tuple(tenant.manifest.secrets)


def deploy_credentials(config: PlatformConfig) -> tuple[str, ...]:
    """The platform's credentials a deploy uses on the host: the registry token."""
    registry = config.settings.registry
    return (registry.token_secret,) if registry.username and registry.token_secret else ()


def build_plan(config: PlatformConfig, request: PlanRequest) -> Plan:
    tenant = find_tenant(config, request.project, request.environment)
    env_name = request.environment
    if request.now.tzinfo is None:
        raise PlanError("the plan's clock needs a time zone", "give the time in UTC")
    settings = config.settings
    windows = effective_windows(settings, tenant.manifest, env_name)
    override = check_window(windows, tenant.name, env_name, request.now, request.outside_window)
    target = target_host(config, tenant, env_name)
    project = compose_project_name(tenant.name, env_name)
    images = resolve_images(config, tenant, env_name, request.images, request.facts)
    domains = [d for r in tenant.manifest.routes for d in route_domains(settings, r, env_name)]
    now = request.now.astimezone(UTC)
    # The release id: its time, then a digest of what it runs (so equal content is visible).
    content = {
        "project": project,
        "images": images,
        "compose": tenant.compose_text,
        "env": [(e.key, e.value) for e in tenant.env_files[env_name].entries],
    }
    release = f"{now:%Y%m%dT%H%M%SZ}-{sha256_text(canonical_json(content))[:8]}"
    base = base_dir(config, tenant.name, env_name)
    release_dir = f"{base}/releases/{release}"

    variables = platform_values(tenant, env_name, project, domains, images)
    grants = tuple(
        PlanGrant(rule=g.rule, service=g.service, reason=g.reason)
        for g in tenant_grants(config, tenant)
    )
    limits = effective_limits(settings.limits, tenant, env_name)
    draft = release_draft(tenant, env_name, project, release, request.actor,
                          request.platform_sha, images, grants,
                          override.reason if override else "")  # fmt: skip
    files = tuple(
        PlannedFile(path=f"{release_dir}/{name}", mode=mode, sha256=sha256_text(text), content=text)
        for name, mode, text in (
            ("docker-compose.yml", "0600", tenant.compose_text),
            ("platform.override.yml", "0600", override_file(tenant, env_name, images, limits)),
            ("health.tsv", "0600", health_checks(tenant)),
            (
                ".env",
                "0600",
                env_file(tenant, env_name, variables),
            ),
            *(
                (name, "0600", text)
                for name, text in proxy_files(settings, tenant, env_name, project)
            ),
            (DRAFT_FILE, "0600", draft),
        )
    )
    pulled = service_images(tenant, env_name, images, variables)
    steps, undo = _deploy_steps(config, tenant, request, project, base, release, pulled, files)
    plan = Plan(
        project=tenant.name,
        environment=env_name,
        compose_project=project,
        release=release,
        created_at=f"{now:%Y-%m-%dT%H:%M:%SZ}",
        actor=request.actor,
        platform_sha=request.platform_sha,
        host=target,
        base_dir=base,
        images=images,
        secrets=tenant_secrets(config, tenant),
        credentials=deploy_credentials(config),
        grants=grants,
        window_override=override,
        domains=tuple(domains),
        facts=request.facts,
        files=files,
        steps=tuple(steps),
        rollback=tuple(undo),
        rollouts=planned_rollouts(config, tenant),
        limits={name: one for name, one in limits.items() if one != ResourceLimits()},
    )
    return with_id(plan)


def planned_rollouts(config: PlatformConfig, tenant: Tenant) -> dict[str, Rollout]:
    """The manifest's rollouts a deploy runs: of routed services, behind the proxy."""
    if config.settings.proxy is None:
        return {}
    routed = {route.service for route in tenant.manifest.routes}
    return {s: r for s, r in sorted(tenant.manifest.rollout.items()) if s in routed}


def _deploy_steps(
    config: PlatformConfig,
    tenant: Tenant,
    request: PlanRequest,
    project: str,
    base: str,
    release: str,
    pulled: Mapping[str, str],
    files: tuple[PlannedFile, ...],
) -> tuple[list[Step], list[Step]]:
    """The deploy, in order, and what undoes a failed switch."""
    settings, manifest = config.settings, tenant.manifest
    timeouts, registry = settings.timeouts, settings.registry
    release_dir = f"{base}/releases/{release}"
    steps = [lock_step(base, request.actor, release, timeouts, project, settings.proxy)]
    if request.facts is not None:
        steps.append(precondition_step(base, request.facts.current_release))
    if settings.proxy is not None and manifest.routes:
        steps.append(proxy_preflight_step(settings.proxy))
    steps.append(step("stage", "Stage the release directory",
                      ("platform_stage_release", base, release), 30, "abort"))  # fmt: skip
    for f in files:
        name = f.path.rsplit("/", 1)[1]
        steps.append(step(f"write-{name.lstrip('.')}", f"Write {name}",
                          ("platform_write_file", f.path, f.mode, f.sha256), 30, "abort",
                          stdin_file=f.path))  # fmt: skip
    if manifest.secrets:
        steps.append(step("secrets", "Add secrets to the env file",
                          ("platform_append_secrets", f"{release_dir}/.env", *manifest.secrets),
                          30, "abort"))  # fmt: skip
    granted = [grant.rule for grant in tenant_grants(config, tenant)]
    steps.append(policy_step(base, release, project, granted, settings.shared_networks,
                             TenantImages.of(registry, tenant.name)))  # fmt: skip
    if registry.username and registry.token_secret:
        steps.append(step("login", f"Log in to {registry.host}",
                          ("platform_registry_login", registry.host, registry.username,
                           registry.token_secret), 60, "abort"))  # fmt: skip
    steps.append(step("pull", "Pull every image before anything stops",
                      ("platform_in_release", base, release, *compose(project), "pull", "--quiet"),
                      timeouts.pull, "abort"))  # fmt: skip
    steps.append(step("digests", "Resolve image digests",
                      ("platform_resolve_digests", base, release,
                       *(f"{service}={ref}" for service, ref in sorted(pulled.items()))),
                      60, "abort"))  # fmt: skip
    steps += [backup_step(b, base, release, project, timeouts.pull) for b in manifest.backups]
    proxy = settings.proxy if manifest.routes else None
    title = ("Start the new release beside the old one, then switch the proxy to it"
             if proxy else "Start the new release and wait until healthy")  # fmt: skip
    canary, warm, retire = ([], [], []) if proxy is None else rollout_steps(
        base, release, project, planned_rollouts(config, tenant), timeouts, proxy)  # fmt: skip
    steps += canary
    steps.append(switch_step(base, release, project, timeouts, title, settings.proxy))
    if proxy is not None:
        steps.append(check_release_step("health", "HTTP health of every route through the proxy",
                                        base, release, project, timeouts, "rollback",
                                        proxy))  # fmt: skip
    else:
        steps += health_steps(manifest.routes, project, timeouts)
    steps += warm
    steps.append(step("record", "Record the release and point current at it",
                      ("platform_record_release", base, release), 30, "rollback"))  # fmt: skip
    steps += retire
    steps.append(step("prune", f"Keep the newest {settings.releases.keep} releases",
                      ("platform_prune_releases", base, str(settings.releases.keep)), 60,
                      "warn"))  # fmt: skip
    steps.append(unlock_step(base))
    undo = undo_steps(
        base, release, project, timeouts, "Restore the previous release", settings.proxy
    )
    return steps, undo
