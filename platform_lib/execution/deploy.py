"""deploy, rollback: read the host, make the plan from what it holds, apply it, over one
connection per host. Which images a deploy takes is the promotion policy's decision
(planning/promotion), from facts read here: the target's and the source environment's current
releases and, through `changed`, whether the tenant's configs moved since the source's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from platform_lib.changes import affected_projects
from platform_lib.config.loader import PlatformConfig
from platform_lib.errors import DeployAborted, NothingToDeploy, PlanError
from platform_lib.execution.apply import apply_plan
from platform_lib.execution.connect import Connections
from platform_lib.execution.host_state import read_state
from platform_lib.models.host_state import HostState
from platform_lib.models.names import COMMIT_PATTERN
from platform_lib.models.plan import Plan
from platform_lib.planning.builder import (
    PlanRequest,
    base_dir,
    build_plan,
    find_tenant,
    target_host,
)
from platform_lib.planning.promotion import (
    Deploy,
    PromotionFacts,
    Refuse,
    Skip,
    SourceRelease,
    decide,
)
from platform_lib.planning.rollback import RollbackRequest, build_rollback_plan
from platform_lib.planning.summary import render_summary
from platform_lib.planning.windows import check_window, effective_windows
from platform_lib.transport.base import LineSink

COMMIT = re.compile(COMMIT_PATTERN)


def configs_changed(root: Path, made_from: str, head: str, project: str) -> bool | None:
    """Whether `project`'s configs (or a shared file) differ between two platform commits;
    None when either is not a commit (`unknown`, a `-dirty` tree): then nobody can tell."""
    if made_from == head and not head.endswith("-dirty"):
        return False
    if not (COMMIT.fullmatch(made_from) and COMMIT.fullmatch(head)):
        return None
    return project in affected_projects(root, made_from, head).changed


@dataclass(frozen=True)
class Promotion:
    """What a deploy was decided from, and the decision."""

    facts: PromotionFacts
    decision: Deploy | Refuse | Skip
    state: HostState
    """The target environment's, as read."""
    source_state: HostState | None


def promotion(
    config: PlatformConfig,
    request: PlanRequest,
    hosts: Connections,
    log: LineSink,
    root: Path,
    expected: Mapping[str, str] | None = None,
) -> Promotion:
    """Read the facts of `request` from its hosts and decide (the policy's one edge). A tenant
    that does not deploy to the environment has nothing to deploy there (no host is read)."""
    env = request.environment
    known = config.tenants.get(request.project)
    settings = config.settings
    if known and env in settings.environments and env not in config.environments_of(known):
        facts = PromotionFacts(project=known.name, environment=env,
                               built=tuple(sorted(known.manifest.images)))  # fmt: skip
        skip = Skip(reason=f"{known.name} does not deploy to {env}")
        return Promotion(facts, skip, HostState(), None)
    tenant = find_tenant(config, request.project, env)
    transport = hosts.to(target_host(config, tenant, env))
    state = read_state(transport, base_dir(config, tenant.name, env), log)
    source_name = config.settings.environments[env].deploy_after
    source_state, source = None, None
    if source_name is not None:
        source_transport = hosts.to(target_host(config, tenant, source_name))
        source_state = read_state(source_transport, base_dir(config, tenant.name, source_name), log)
        current = source_state.current
        made_from = current.platform_sha if current is not None else ""
        source = SourceRelease(
            environment=source_name,
            release=source_state.current_release if current is not None else None,
            platform_sha=made_from,
            configs_changed=(
                configs_changed(root, made_from, request.platform_sha, tenant.name)
                if current is not None
                else None
            ),
            digests=dict(current.digests.services) if current is not None else {},
        )
    facts = PromotionFacts(
        project=tenant.name,
        environment=env,
        built=tuple(sorted(tenant.manifest.images)),
        requested=dict(request.images),
        expected=dict(expected) if expected is not None else None,
        running=dict(state.current.digests.services) if state.current is not None else {},
        running_release=state.current_release,
        source=source,
    )
    return Promotion(facts, decide(facts), state, source_state)


def planned(config: PlatformConfig, request: PlanRequest, found: Promotion) -> Plan:
    """The plan of a decided deploy; a refusal or a skip raises (nothing is planned)."""
    decision = found.decision
    if isinstance(decision, Refuse):
        raise PlanError(decision.reason, decision.remedy)
    if isinstance(decision, Skip):
        raise NothingToDeploy(f"nothing to deploy: {decision.reason}")
    facts = found.state.facts(found.source_state)
    return build_plan(config, replace(request, images=decision.images, facts=facts))


def apply_decided(
    found: Promotion, plan: Plan, hosts: Connections, environ: Mapping[str, str], log: LineSink
) -> Plan:
    """Apply the plan of a decided deploy: the decision's note and the plan's summary first."""
    if isinstance(found.decision, Deploy) and found.decision.note:
        log(found.decision.note)
    for line in render_summary(plan).splitlines():
        log(line)
    apply_plan(plan, hosts.to(plan.host), environ, log)
    return plan


def deploy(
    config: PlatformConfig,
    request: PlanRequest,
    hosts: Connections,
    environ: Mapping[str, str],
    log: LineSink,
    root: Path = Path(),
    expected: Mapping[str, str] | None = None,
) -> Plan:
    """Deploy what the promotion policy decides for `request` (`root`: the platform checkout
    whose history says whether the tenant's configs changed since the source's release)."""
    tenant = find_tenant(config, request.project, request.environment)
    # Outside its windows (and without an override) nothing is run on any host.
    windows = effective_windows(config.settings, tenant.manifest, request.environment)
    check_window(windows, tenant.name, request.environment, request.now, request.outside_window)
    for attempt in (1, 2):
        found = promotion(config, request, hosts, log, root, expected)
        plan = planned(config, request, found)
        try:
            return apply_decided(found, plan, hosts, environ, log)
        except DeployAborted as exc:
            # Another deploy finished while this one waited for the lock (its script said
            # who): nothing was changed. A deploy is asked for "now", so it is decided and
            # planned again against what the host runs, once; a second loss is reported.
            if attempt == 2 or exc.outcome is None or exc.outcome.step != "precondition":
                raise
            log(
                f"{tenant.name}/{request.environment}: another deploy finished while this one "
                f"waited (the host now runs {exc.outcome.current_release or 'nothing'}); "
                "deciding and planning again against it"
            )
    raise AssertionError("unreachable")  # pragma: no cover


def read_rollback_state(
    config: PlatformConfig, project: str, environment: str, hosts: Connections, log: LineSink
) -> HostState:
    """What a rollback of `project` in `environment` plans from: its host's state."""
    tenant = find_tenant(config, project, environment)
    transport = hosts.to(target_host(config, tenant, environment))
    return read_state(transport, base_dir(config, tenant.name, environment), log)


def rollback(
    config: PlatformConfig,
    request: RollbackRequest,
    hosts: Connections,
    log: LineSink,
    state: HostState | None = None,
) -> Plan:
    """Roll back from `state` (read from the host when not given: a caller that read it
    already saves the round trip)."""
    tenant = find_tenant(config, request.project, request.environment)
    transport = hosts.to(target_host(config, tenant, request.environment))
    if state is None:
        state = read_rollback_state(config, request.project, request.environment, hosts, log)
    plan = build_rollback_plan(config, replace(request, state=state))
    log(
        f"rolling {tenant.name}/{request.environment} back from "
        f"{state.current_release or 'nothing'} to {plan.release}"
    )
    apply_plan(plan, transport, {}, log)
    return plan
