"""GitHub's answers, reduced to the fields the platform reads. Unknown fields are ignored (the
full shapes are GitHub's OpenAPI description, which the tests check every answer against)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class WorkflowRun(_Answer):
    id: int
    display_title: str
    """The run's title: the workflow's `run-name`, which names what the run deploys."""
    event: str
    status: str | None
    conclusion: str | None
    head_sha: str
    html_url: str
    created_at: datetime
    path: str = ""
    """The workflow file, `.github/workflows/<name>.yml`."""
    head_branch: str | None = None


class WorkflowRuns(_Answer):
    total_count: int
    workflow_runs: list[WorkflowRun]


class JobStep(_Answer):
    name: str
    status: str
    conclusion: str | None
    number: int


class Job(_Answer):
    id: int
    name: str
    status: str
    conclusion: str | None
    html_url: str | None
    steps: list[JobStep] = Field(default_factory=list)


class Jobs(_Answer):
    total_count: int
    jobs: list[Job]


class EnvironmentRef(_Answer):
    id: int
    name: str


class ReviewerIdentity(_Answer):
    login: str | None = None
    slug: str | None = None


class Reviewer(_Answer):
    type: Literal["User", "Team"] | None = None
    reviewer: ReviewerIdentity | None = None

    @property
    def handle(self) -> str:
        who = self.reviewer
        return (who.login or who.slug or "?") if who else "?"


class PendingDeployment(_Answer):
    environment: EnvironmentRef
    current_user_can_approve: bool
    wait_timer: int = 0
    reviewers: list[Reviewer] = Field(default_factory=list)


class PendingDeployments(RootModel[list[PendingDeployment]]):
    model_config = ConfigDict(frozen=True)


class EnvironmentApproval(_Answer):
    """One review of `GET .../actions/runs/{run_id}/approvals`: who approved or rejected
    which of the run's environments."""

    environments: list[EnvironmentRef]
    state: Literal["approved", "rejected", "pending"]
    user: ReviewerIdentity
    comment: str


class EnvironmentApprovals(RootModel[list[EnvironmentApproval]]):
    model_config = ConfigDict(frozen=True)


class DispatchedRun(_Answer):
    """Answer of a workflow_dispatch asked for `return_run_details`."""

    workflow_run_id: int
    html_url: str | None = None


class User(_Answer):
    id: int
    login: str
    type: str


class Team(_Answer):
    id: int
    slug: str


class Repository(_Answer):
    full_name: str
    default_branch: str
    private: bool = False
    visibility: str | None = None
    """`public`, `private` or `internal`."""


class TeamMember(_Answer):
    login: str


class TeamMembers(RootModel[list[TeamMember]]):
    model_config = ConfigDict(frozen=True)


class BranchPolicy(_Answer):
    protected_branches: bool
    custom_branch_policies: bool


class ProtectionRule(_Answer):
    type: str
    prevent_self_review: bool | None = None
    wait_timer: int | None = None
    reviewers: list[Reviewer] = Field(default_factory=list)


class Environment(_Answer):
    id: int
    name: str
    protection_rules: list[ProtectionRule] = Field(default_factory=list)
    deployment_branch_policy: BranchPolicy | None = None


class BranchPolicyName(_Answer):
    name: str
    type: str | None = None


class BranchPolicies(_Answer):
    total_count: int
    branch_policies: list[BranchPolicyName]


class SecretName(_Answer):
    name: str


class EnvironmentSecrets(_Answer):
    """`GET .../environments/{name}/secrets`: names and dates, never values."""

    total_count: int
    secrets: list[SecretName]


class Deployment(_Answer):
    """`POST /repos/{o}/{r}/deployments` (201): a deployment of a commit to an environment."""

    id: int
    sha: str
    environment: str


class ListedDeployment(_Answer):
    """An item of `GET /repos/{o}/{r}/deployments`."""

    id: int
    sha: str
    task: str
    environment: str
    payload: dict[str, Any] | str
    creator: User | None
    created_at: datetime


class ListedDeployments(RootModel[list[ListedDeployment]]):
    pass


class DeploymentStatus(_Answer):
    """`POST .../deployments/{id}/statuses` (201)."""

    id: int
    state: Literal["error", "failure", "inactive", "pending", "success", "queued", "in_progress"]
