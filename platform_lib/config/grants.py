"""The tenant security policy applied to one tenant, with the grants of configs/platform.yml:
what is refused, what a grant allows, and which grants allow nothing any more."""

from __future__ import annotations

from dataclasses import dataclass

from platform_lib.config.image_policy import image_findings, platform_values
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.config.tenant_policy import RULES, Finding, policy_findings
from platform_lib.errors import Problem
from platform_lib.models.settings import Grant


@dataclass(frozen=True)
class PolicyOutcome:
    problems: list[Problem]
    """Findings no grant allows."""
    granted: tuple[int, ...]
    """Indexes into `settings.grants` of the grants that allowed a finding."""


def _allows(grant: Grant, tenant: str, finding: Finding) -> bool:
    return (
        grant.project == tenant
        and grant.rule == finding.rule
        and (grant.service is None or grant.service == finding.service)
    )


def tenant_policy(config: PlatformConfig, tenant: Tenant) -> PolicyOutcome:
    """The policy over every environment the tenant deploys to (each with its env file)."""
    settings = config.settings
    shared = frozenset(settings.shared_networks)
    problems: list[Problem] = []
    granted: set[int] = set()
    for env in config.environments_of(tenant):
        env_file = tenant.env_files.get(env)
        variables = env_file.values() if env_file is not None else {}
        findings = policy_findings(tenant.compose.data, variables, shared)
        built = {s: image.repository for s, image in tenant.manifest.images.items()}
        platform = platform_values(settings.registry, tenant.name, env, built)
        findings += image_findings(tenant.compose.data, {**variables, **platform},
                                   settings.registry, tenant.name, set(built))  # fmt: skip
        for finding in findings:
            allowing = [
                i for i, g in enumerate(settings.grants) if _allows(g, tenant.name, finding)
            ]
            if allowing:
                granted.update(allowing)
                continue
            hint = finding.hint
            if finding.rule in RULES:  # policy.unsupported-key is no grant's to lift
                hint += (
                    f" (a grant in configs/platform.yml: grants: with project: {tenant.name}, "
                    f"rule: {finding.rule} and a reason)"
                )
            problems.append(
                Problem(tenant.compose.locate(finding.path), finding.rule, finding.message, hint)
            )
    return PolicyOutcome(problems, tuple(sorted(granted)))


def tenant_grants(config: PlatformConfig, tenant: Tenant) -> tuple[Grant, ...]:
    """The grants that allow something of this tenant: they are shown in its plans."""
    grants = config.settings.grants
    return tuple(grants[i] for i in tenant_policy(config, tenant).granted)


def unused_grant_problems(
    config: PlatformConfig, used: set[int], project: str | None = None
) -> list[Problem]:
    """Grants that allow nothing: a stale exception would silently allow it again later.
    With `project`, only the grants to that project."""
    problems = []
    for index, grant in enumerate(config.settings.grants):
        if index in used or project not in (None, grant.project):
            continue
        where = config.settings_doc.locate(["grants", index])
        if grant.project not in config.tenants:
            message = f"grant of {grant.rule} to {grant.project!r}: there is no such tenant"
        else:
            service = f" (service {grant.service!r})" if grant.service else ""
            message = (
                f"grant of {grant.rule} to {grant.project!r}{service} allows nothing: the "
                "tenant's config no longer needs it"
            )
        problems.append(Problem(where, "settings.unused-grant", message, "remove the grant"))
    return problems
