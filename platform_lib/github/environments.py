"""The GitHub environments the platform needs, derived from `configs/platform.yml` and the
tenants' manifests, and the check `doctor` makes of what GitHub holds. Pure.

Every tenant gets one GitHub environment per platform environment it deploys to, named
`<project>-<environment>` (`naming.github_environment`): an approval releases that tenant only,
its secrets are that environment's, its URL is the tenant's. Those of an environment with
`requires_approval` get the tenant's `reviewers` (default `github.production_reviewers`) as
required reviewers (one approval suffices) and `prevent_self_review`, so whoever triggered a
deploy cannot wave it through. All of them only accept deployments from the default branch
(or, with `protected`, from branches with protection rules): environment secrets never reach a
job from another branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from platform_lib.errors import PlatformError
from platform_lib.github.gates import required_approvals
from platform_lib.github.models import Environment
from platform_lib.github.naming import approval_environment, github_environment
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings

BranchRule = Literal["default-branch", "protected"]
MAX_WAIT_TIMER = 43_200  # minutes: GitHub's limit (30 days)
SSH_KEY_SECRET = "DEPLOY_SSH_KEY"  # noqa: S105 a secret's name, not its value
"""The secret the workflow passes to actions/apply as the hosts' SSH key."""


@dataclass(frozen=True)
class ReviewerHandle:
    """`login` for a user; `org/slug` for a team."""

    text: str

    @property
    def team(self) -> tuple[str, str] | None:
        org, sep, slug = self.text.partition("/")
        return (org, slug) if sep else None


class ReviewerId(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Literal["User", "Team"]
    id: int


class BranchPolicySpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    protected_branches: bool
    custom_branch_policies: bool


class EnvironmentSpec(BaseModel):
    """Body of `PUT /repos/{owner}/{repo}/environments/{name}`."""

    model_config = ConfigDict(frozen=True)

    wait_timer: int
    prevent_self_review: bool
    reviewers: list[ReviewerId]
    deployment_branch_policy: BranchPolicySpec


@dataclass(frozen=True)
class TenantEnvironment:
    """One GitHub environment the platform needs: a tenant's deploys to one environment."""

    name: str
    """The GitHub environment: `<project>-<environment>`."""
    project: str
    environment: str
    """The platform environment (configs/platform.yml)."""
    gated: bool
    """Behind required reviewers (`requires_approval`)."""
    reviewers: tuple[str, ...]
    """Who approves, when gated: user logins and `org/team` slugs."""
    secrets: tuple[str, ...]
    """Names of the secrets a deploy job in it reads (the platform's and the tenant's)."""
    approvals: int = 0
    """Distinct approvers a deploy through it needs (0: not gated); the same on its gates."""
    gate: int | None = None
    """For an approval gate (`<project>-<env>-approval-<gate>`): its number. Its jobs read
    no secrets."""


@dataclass(frozen=True)
class DesiredEnvironment:
    tenant: TenantEnvironment
    spec: EnvironmentSpec
    branches: tuple[str, ...]
    """Branch name patterns to allow when the policy is custom."""

    @property
    def name(self) -> str:
        return self.tenant.name

    @property
    def reviewers(self) -> tuple[str, ...]:
        return self.tenant.reviewers

    def body(self) -> dict[str, Any]:
        return self.spec.model_dump(mode="json")


def gated(settings: PlatformSettings) -> list[str]:
    """Environments behind required reviewers."""
    return [n for n, e in settings.environments.items() if e.requires_approval]


def tenant_environments(settings: PlatformSettings, manifest: ProjectManifest) -> list[str]:
    """The platform environments a tenant deploys to, in the settings' order."""
    wanted = manifest.environments
    return [name for name in settings.environments if wanted is None or name in wanted]


def _handle(text: str, where: str) -> ReviewerHandle:
    org, sep, slug = text.partition("/")
    if not org or (sep and (not slug or "/" in slug)):
        raise PlatformError(f"{where}: {text!r} is neither a user login nor org/team-slug")
    return ReviewerHandle(text)


def tenant_reviewers(
    settings: PlatformSettings, project: str, manifest: ProjectManifest
) -> list[ReviewerHandle]:
    """Who approves the tenant's gated environments: its own `reviewers`, else the platform's
    `github.production_reviewers`."""
    if manifest.reviewers is not None:
        where = f"configs/{project}/project.yml: reviewers"
        texts = manifest.reviewers
    else:
        where = "configs/platform.yml: github.production_reviewers"
        texts = settings.github.production_reviewers if settings.github else []
    handles = [_handle(text, where) for text in texts]
    gates = [e for e in tenant_environments(settings, manifest) if e in gated(settings)]
    if gates and not handles:
        raise PlatformError(
            f"{where} is empty but {project} deploys to {', '.join(gates)}, which requires "
            "approval: list who may approve"
        )
    return handles


def reviewer_handles(
    settings: PlatformSettings, tenants: Mapping[str, ProjectManifest]
) -> list[ReviewerHandle]:
    """Every reviewer of every tenant, once each, to look up on GitHub."""
    found: dict[str, ReviewerHandle] = {}
    for project, manifest in sorted(tenants.items()):
        for handle in tenant_reviewers(settings, project, manifest):
            found.setdefault(handle.text, handle)
    return list(found.values())


def required_secrets(settings: PlatformSettings, manifest: ProjectManifest) -> tuple[str, ...]:
    """The secrets a tenant's deploy job reads from its GitHub environment: the hosts' SSH
    key, the registry token (when the registry logs in) and the tenant's own `secrets:`."""
    registry = settings.registry
    token = (registry.token_secret,) if registry.username and registry.token_secret else ()
    return tuple(dict.fromkeys((SSH_KEY_SECRET, *token, *manifest.secrets)))


def needed(
    settings: PlatformSettings, tenants: Mapping[str, ProjectManifest]
) -> list[TenantEnvironment]:
    """Every tenant's environments, tenant by tenant, in the settings' environment order."""
    found: list[TenantEnvironment] = []
    gates = set(gated(settings))
    for project, manifest in sorted(tenants.items()):
        handles = tuple(h.text for h in tenant_reviewers(settings, project, manifest))
        secrets = required_secrets(settings, manifest)
        for name in tenant_environments(settings, manifest):
            gate = name in gates
            count = required_approvals(settings, manifest, name)
            found += [
                TenantEnvironment(
                    name=approval_environment(project, name, number),
                    project=project,
                    environment=name,
                    gated=True,
                    reviewers=handles,
                    secrets=(),
                    approvals=count,
                    gate=number,
                )
                for number in range(1, count)
            ]
            found.append(
                TenantEnvironment(
                    name=github_environment(project, name),
                    project=project,
                    environment=name,
                    gated=gate,
                    reviewers=handles if gate else (),
                    secrets=secrets,
                    approvals=count,
                )
            )
    return found


def desired_environments(
    settings: PlatformSettings,
    tenants: Mapping[str, ProjectManifest],
    reviewer_ids: Mapping[str, ReviewerId],
    default_branch: str,
    rule: BranchRule = "default-branch",
    wait_timer: int = 0,
) -> list[DesiredEnvironment]:
    """What `PUT .../environments/{name}` sets for each environment of `needed`."""
    if not 0 <= wait_timer <= MAX_WAIT_TIMER:
        raise PlatformError(f"wait timer {wait_timer}: GitHub allows 0 to {MAX_WAIT_TIMER} minutes")
    custom = rule == "default-branch"
    policy = BranchPolicySpec(protected_branches=not custom, custom_branch_policies=custom)
    return [
        DesiredEnvironment(
            tenant=tenant,
            spec=EnvironmentSpec(
                wait_timer=wait_timer if tenant.gated else 0,
                prevent_self_review=tenant.gated,
                reviewers=[reviewer_ids[h] for h in tenant.reviewers],
                deployment_branch_policy=policy,
            ),
            branches=(default_branch,) if custom else (),
        )
        for tenant in needed(settings, tenants)
    ]


def missing_secrets(tenant: TenantEnvironment, present: Sequence[str]) -> list[str]:
    """The secrets the environment lacks, by name (GitHub lists names, never values)."""
    have = set(present)
    return [name for name in tenant.secrets if name not in have]


def environment_problems(environment: Environment, gated: bool = True) -> list[str]:
    """What makes an environment unsafe: nobody must approve a gated one, or any branch may
    deploy (and read its secrets)."""
    problems: list[str] = []
    rules = [r for r in environment.protection_rules if r.type == "required_reviewers"]
    if gated and not any(r.reviewers for r in rules):
        problems.append("no required reviewers: anyone who can run the workflow deploys")
    if environment.deployment_branch_policy is None:
        problems.append("no deployment branch policy: any branch can deploy and read its secrets")
    return problems


def environment_warnings(environment: Environment) -> list[str]:
    rules = [r for r in environment.protection_rules if r.type == "required_reviewers"]
    if rules and not any(r.prevent_self_review for r in rules):
        return ["prevent_self_review is off: whoever triggers a deploy may approve it"]
    return []


def describe(environment: Environment) -> str:
    reviewers = sorted(r.handle for rule in environment.protection_rules for r in rule.reviewers)
    policy = environment.deployment_branch_policy
    branches = (
        "none"
        if policy is None
        else "protected branches"
        if policy.protected_branches
        else "custom branch policies"
    )
    return f"reviewers: {', '.join(reviewers) or 'none'}; branches: {branches}"


def summarize(desired: Sequence[DesiredEnvironment]) -> list[str]:
    lines = []
    for env in desired:
        spec = env.spec
        who = ", ".join(env.reviewers) or "no reviewers"
        branches = ", ".join(env.branches) if env.branches else "protected branches"
        extra = "; prevent self-review" if spec.prevent_self_review else ""
        wait = f"; wait {spec.wait_timer} min" if spec.wait_timer else ""
        lines.append(f"{env.name}: {who}{extra}{wait}; deploys from {branches}")
    return lines
