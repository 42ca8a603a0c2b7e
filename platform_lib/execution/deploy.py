"""deploy, rollback: read the host, make the plan from what it holds, apply it, over one
connection per host."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from platform_lib.config.loader import PlatformConfig
from platform_lib.execution.apply import apply_plan
from platform_lib.execution.connect import Connections
from platform_lib.execution.host_state import read_state
from platform_lib.models.host_state import HostState
from platform_lib.models.plan import Plan
from platform_lib.planning.builder import (
    PlanRequest,
    base_dir,
    build_plan,
    find_tenant,
    target_host,
)
from platform_lib.planning.rollback import RollbackRequest, build_rollback_plan
from platform_lib.planning.summary import render_summary
from platform_lib.planning.windows import check_window, effective_windows
from platform_lib.transport.base import LineSink


def promotion_source(
    config: PlatformConfig, request: PlanRequest, hosts: Connections, log: LineSink
) -> HostState | None:
    """The state of the environment whose verified digests this one deploys, if any."""
    tenant = find_tenant(config, request.project, request.environment)
    source = config.settings.environments[request.environment].deploy_after
    if source is None or set(tenant.manifest.images) <= set(request.images):
        return None
    transport = hosts.to(target_host(config, tenant, source))
    return read_state(transport, base_dir(config, tenant.name, source), log)


def deploy(
    config: PlatformConfig,
    request: PlanRequest,
    hosts: Connections,
    environ: Mapping[str, str],
    log: LineSink,
) -> Plan:
    tenant = find_tenant(config, request.project, request.environment)
    # Outside its windows (and without an override) nothing is run on any host.
    windows = effective_windows(config.settings, tenant.manifest, request.environment)
    check_window(windows, tenant.name, request.environment, request.now, request.outside_window)
    transport = hosts.to(target_host(config, tenant, request.environment))
    state = read_state(transport, base_dir(config, tenant.name, request.environment), log)
    verified = promotion_source(config, request, hosts, log)
    plan = build_plan(config, replace(request, facts=state.facts(verified)))
    for line in render_summary(plan).splitlines():
        log(line)
    apply_plan(plan, transport, environ, log)
    return plan


def rollback(
    config: PlatformConfig, request: RollbackRequest, hosts: Connections, log: LineSink
) -> Plan:
    tenant = find_tenant(config, request.project, request.environment)
    transport = hosts.to(target_host(config, tenant, request.environment))
    state = read_state(transport, base_dir(config, tenant.name, request.environment), log)
    plan = build_rollback_plan(config, replace(request, state=state))
    log(
        f"rolling {tenant.name}/{request.environment} back from "
        f"{state.current_release or 'nothing'} to {plan.release}"
    )
    apply_plan(plan, transport, {}, log)
    return plan
