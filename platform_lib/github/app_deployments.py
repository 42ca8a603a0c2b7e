"""Deployments in a tenant's app repository: for each environment a dispatched run deploys, a
GitHub Deployment of the payload's app commit, so the app repository shows where that commit
runs. Its statuses follow the platform run: `queued` (plan job), `in_progress` (the deploy
job starts), then `success`, `failure`, `error` (cancelled) or `inactive` (nothing deployed).

Best effort by design: the deploy is the platform's, these are only its echo in the app
repository, so no missing token, refused call or odd answer ever fails a deploy; each becomes
a warning. Push and manual runs deploy no app commit and record nothing.

The deployment's `environment` is the tenant's GitHub environment name, `<project>-<env>`
(`naming.github_environment`), the platform's own name for it: two tenants built from one app
repository never replace each other's deployments, and an app repository's own `staging` or
`production` environment (its protection rules, its secrets) is never touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from platform_lib.config.credentials import APP_DEPLOYMENTS_TOKEN
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.errors import Forbidden, GitHubError, NotFound, Unauthorized
from platform_lib.github.naming import github_environment
from platform_lib.github.payload import DeployPayload
from platform_lib.models.project import ProjectManifest

TOKEN_VARIABLE = APP_DEPLOYMENTS_TOKEN
State = Literal["queued", "in_progress", "success", "failure", "error", "inactive"]
STATES: tuple[State, ...] = ("queued", "in_progress", "success", "failure", "error", "inactive")
DESCRIPTIONS: Mapping[State, str] = {
    "queued": "queued by the platform",
    "in_progress": "the platform is deploying",
    "success": "deployed by the platform",
    "failure": "the platform's deploy failed: see its run",
    "error": "the platform's deploy was cancelled",
    "inactive": "nothing deployed: the platform skipped it",
}


@dataclass(frozen=True)
class Target:
    """The app commit a run deploys for one tenant."""

    repo: Repo
    sha: str
    project: str


@dataclass(frozen=True)
class Skip:
    """Why nothing is recorded; `warn` when it hints at a mistake rather than a push or a
    manual run, which simply have no app commit."""

    reason: str
    warn: bool = False


@dataclass
class Outcome:
    """What was recorded: the deployment of each environment (id), and what went wrong."""

    deployment_ids: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)


def target_of(
    event: Mapping[str, Any], project: str, manifest: ProjectManifest | None
) -> Target | Skip:
    """The app repository and commit of a dispatched deploy of `project`, from the event
    (`$GITHUB_EVENT_PATH`) and the tenant's manifest; the plan job verified both."""
    payload = event.get("client_payload")
    if payload is None:
        return Skip("the run was not started by a deploy request: no app commit")
    try:
        request = DeployPayload.model_validate(payload)
    except ValidationError:
        return Skip("the event's client_payload is not a deploy request", warn=True)
    if request.project != project:
        return Skip(f"the deploy request is for {request.project}, not {project}", warn=True)
    allowed = manifest.app_repository if manifest else None
    if allowed is None or allowed.lower() != request.app_repository.lower():
        return Skip(f"{request.app_repository} is not the app_repository of {project}", warn=True)
    return Target(Repo.parse(request.app_repository), request.commit, project)


def environments_of(
    requested: Iterable[str], platform: Iterable[str], manifest: ProjectManifest | None
) -> list[str]:
    """The requested environments the tenant deploys to, in the order given."""
    known = set(platform)
    if manifest is not None and manifest.environments is not None:
        known &= set(manifest.environments)
    return [env for env in dict.fromkeys(requested) if env in known]


def final_state(job_status: str, deployed: str) -> State:
    """A deploy job's end (`job.status`, actions/apply's `deployed`) as a deployment state."""
    if job_status == "success":
        return "success" if deployed == "true" else "inactive"
    return "error" if job_status == "cancelled" else "failure"


def run_url(environ: Mapping[str, str]) -> str:
    """The platform run (the deployment's `log_url`) from the runner's variables; empty when
    they are not all set."""
    names = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    parts = [environ.get(name, "") for name in names]
    if not all(parts):
        return ""
    server, repository, run_id = parts
    return f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}"


def parse_ids(text: str) -> tuple[dict[str, int], str | None]:
    """`{"staging": 12, ...}` as an earlier step wrote it; ({}, why) when it is not that."""
    if not text.strip():
        return {}, None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and type(v) is int and v > 0 for k, v in data.items()
    ):
        return {}, f"deployment ids {text[:80]!r}: expected a JSON object of environment to id"
    return dict(data), None


def _why(exc: GitHubError, repo: Repo) -> str:
    if isinstance(exc, Forbidden | NotFound | Unauthorized):
        return (
            f"{exc} ({TOKEN_VARIABLE} needs Deployments: read and write on {repo}: a GitHub "
            "App installation token or a fine-grained personal access token with access to it)"
        )
    return str(exc)


def record(
    client: GitHubClient,
    target: Target,
    environments: Iterable[str],
    state: State,
    *,
    deployment_ids: Mapping[str, int],
    log_url: str,
    environment_url: str = "",
    description: str = "",
) -> Outcome:
    """Give each environment's deployment the status `state` (with `description`, else the
    state's own), creating the deployment first when no earlier step did (or could). Every
    GitHub error is a warning of the outcome."""
    outcome = Outcome(dict(deployment_ids))
    for env in environments:
        name = github_environment(target.project, env)
        try:
            deployment_id = outcome.deployment_ids.get(env)
            if deployment_id is None:
                made = client.create_deployment(
                    target.repo,
                    target.sha,
                    name,
                    description=f"{target.project} to {env} by the platform",
                    # GitHub's auto_inactive only retires earlier deployments of non-production
                    # environments: so none is marked production, or the one a production
                    # deploy replaces would stay active next to it.
                    production=False,
                )
                deployment_id = outcome.deployment_ids[env] = made.id
            client.create_deployment_status(
                target.repo,
                deployment_id,
                state,
                log_url=log_url,
                # the URL is where this deployment runs only once it succeeded
                environment_url=environment_url if state == "success" else "",
                description=description or DESCRIPTIONS[state],
            )
        except GitHubError as exc:
            outcome.warnings.append(f"{name} in {target.repo}: {_why(exc, target.repo)}")
        else:
            outcome.recorded.append(name)
    return outcome
