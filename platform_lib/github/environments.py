"""The GitHub environments the platform needs, derived from `configs/platform.yml`, and the
check `doctor` makes of what GitHub holds. Pure.

Every platform environment becomes a GitHub environment of the same name. Those with
`requires_approval` get `github.production_reviewers` as required reviewers (one approval
suffices) and `prevent_self_review`, so whoever triggered a deploy cannot wave it through. All
of them only accept deployments from the default branch (or, with `protected`, from branches
with protection rules): environment secrets never reach a job from another branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from platform_lib.errors import PlatformError
from platform_lib.github.models import Environment
from platform_lib.models.settings import PlatformSettings

BranchRule = Literal["default-branch", "protected"]
MAX_WAIT_TIMER = 43_200  # minutes: GitHub's limit (30 days)


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
class DesiredEnvironment:
    name: str
    spec: EnvironmentSpec
    branches: tuple[str, ...]
    """Branch name patterns to allow when the policy is custom."""
    reviewers: tuple[str, ...]

    def body(self) -> dict[str, Any]:
        return self.spec.model_dump(mode="json")


def gated(settings: PlatformSettings) -> list[str]:
    """Environments behind required reviewers."""
    return [n for n, e in settings.environments.items() if e.requires_approval]


def reviewer_handles(settings: PlatformSettings) -> list[ReviewerHandle]:
    handles = [
        ReviewerHandle(r) for r in (settings.github.production_reviewers if settings.github else [])
    ]
    for handle in handles:
        org, sep, slug = handle.text.partition("/")
        if not org or (sep and (not slug or "/" in slug)):
            raise PlatformError(
                f"configs/platform.yml: github.production_reviewers: {handle.text!r} is "
                "neither a user login nor org/team-slug"
            )
    if gated(settings) and not handles:
        raise PlatformError(
            f"configs/platform.yml: {', '.join(gated(settings))} requires approval but "
            "github.production_reviewers is empty: list who may approve"
        )
    return handles


def desired_environments(
    settings: PlatformSettings,
    reviewer_ids: Mapping[str, ReviewerId],
    default_branch: str,
    rule: BranchRule = "default-branch",
    wait_timer: int = 0,
) -> list[DesiredEnvironment]:
    if not 0 <= wait_timer <= MAX_WAIT_TIMER:
        raise PlatformError(f"wait timer {wait_timer}: GitHub allows 0 to {MAX_WAIT_TIMER} minutes")
    handles = [h.text for h in reviewer_handles(settings)]
    custom = rule == "default-branch"
    policy = BranchPolicySpec(protected_branches=not custom, custom_branch_policies=custom)
    desired: list[DesiredEnvironment] = []
    for name, environment in settings.environments.items():
        gate = environment.requires_approval
        spec = EnvironmentSpec(
            wait_timer=wait_timer if gate else 0,
            prevent_self_review=gate,
            reviewers=[reviewer_ids[h] for h in handles] if gate else [],
            deployment_branch_policy=policy,
        )
        desired.append(
            DesiredEnvironment(
                name=name,
                spec=spec,
                branches=(default_branch,) if custom else (),
                reviewers=tuple(handles) if gate else (),
            )
        )
    return desired


def environment_problems(environment: Environment) -> list[str]:
    """What makes a gated environment unsafe: nobody must approve, or any branch may deploy."""
    problems: list[str] = []
    rules = [r for r in environment.protection_rules if r.type == "required_reviewers"]
    if not any(r.reviewers for r in rules):
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
