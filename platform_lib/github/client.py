"""`GitHubClient`: one method per REST endpoint the platform uses, each returning the few
fields it reads (see `models`). HTTP, retries and errors are the transport's."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel, TypeAdapter, ValidationError

from platform_lib.errors import UsageError
from platform_lib.github import models
from platform_lib.github.errors import GitHubError
from platform_lib.github.payload import check_dispatch
from platform_lib.github.token import find_token
from platform_lib.github.transport import DEFAULT_API_URL, Transport
from platform_lib.models.names import GitHubRepository

M = TypeVar("M", bound=BaseModel)
PER_PAGE = 100
MAX_PAGES = 10
_REPOSITORY: TypeAdapter[str] = TypeAdapter(GitHubRepository)


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Repo:
        try:
            _REPOSITORY.validate_python(text)
        except ValidationError:
            raise UsageError(f"repository {text!r}: expected OWNER/NAME") from None
        owner, _, name = text.partition("/")
        return cls(owner, name)

    @property
    def path(self) -> str:
        return f"/repos/{_seg(self.owner)}/{_seg(self.name)}"

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


class GitHubClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, session: requests.Session | None = None
    ) -> GitHubClient:
        """Token from GH_TOKEN/GITHUB_TOKEN/`gh auth token`; API at GITHUB_API_URL (the
        runner sets it; tests point it at a local server); PLATFORM_GITHUB_MAX_WAIT caps a
        rate-limit wait (seconds, default 60)."""
        try:
            max_wait = float(environ.get("PLATFORM_GITHUB_MAX_WAIT") or 60)
        except ValueError:
            raise UsageError("PLATFORM_GITHUB_MAX_WAIT: expected seconds, e.g. 60") from None
        transport = Transport(
            find_token(environ),
            environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
            session=session,
            max_wait=max_wait,
        )
        return cls(transport)

    def __repr__(self) -> str:
        return f"GitHubClient({self.transport!r})"

    def _get(self, path: str, model: type[M], params: Mapping[str, str | int] | None = None) -> M:
        return _parse("GET", path, model, self.transport.request("GET", path, params=params))

    # Dispatching -------------------------------------------------------------------------

    def dispatch(self, repo: Repo, event_type: str, client_payload: Mapping[str, Any]) -> None:
        """`POST /repos/{o}/{r}/dispatches`; the payload's limits are checked first."""
        check_dispatch(event_type, client_payload)
        body = {"event_type": event_type, "client_payload": dict(client_payload)}
        self.transport.request("POST", f"{repo.path}/dispatches", body=body)

    def dispatch_workflow(
        self, repo: Repo, workflow: str, ref: str, inputs: Mapping[str, str]
    ) -> models.DispatchedRun | None:
        """`POST .../actions/workflows/{workflow}/dispatches`; the run's id when GitHub
        returns it (`return_run_details`), None when it answers 204."""
        path = f"{repo.path}/actions/workflows/{_seg(workflow)}/dispatches"
        body = {"ref": ref, "inputs": dict(inputs), "return_run_details": True}
        answer = self.transport.request("POST", path, body=body)
        return None if answer is None else _parse("POST", path, models.DispatchedRun, answer)

    # Runs and jobs ---------------------------------------------------------------------

    def repository(self, repo: Repo) -> models.Repository:
        return self._get(repo.path, models.Repository)

    def workflow_runs(
        self,
        repo: Repo,
        workflow: str,
        *,
        status: str | None = None,
        event: str | None = None,
        pages: int = MAX_PAGES,
    ) -> list[models.WorkflowRun]:
        """Runs of one workflow, newest first; `pages` of 100 at most."""
        path = f"{repo.path}/actions/workflows/{_seg(workflow)}/runs"
        params: dict[str, str | int] = {"per_page": PER_PAGE}
        if status:
            params["status"] = status
        if event:
            params["event"] = event
        runs: list[models.WorkflowRun] = []
        for page in range(1, pages + 1):
            answer = self._get(path, models.WorkflowRuns, {**params, "page": page})
            runs.extend(answer.workflow_runs)
            if len(runs) >= answer.total_count or len(answer.workflow_runs) < PER_PAGE:
                break
        return runs

    def run(self, repo: Repo, run_id: int) -> models.WorkflowRun:
        return self._get(f"{repo.path}/actions/runs/{run_id}", models.WorkflowRun)

    def jobs(self, repo: Repo, run_id: int) -> list[models.Job]:
        """Every job of the run's latest attempt (matrix runs have up to 256)."""
        path = f"{repo.path}/actions/runs/{run_id}/jobs"
        jobs: list[models.Job] = []
        for page in range(1, MAX_PAGES + 1):
            answer = self._get(
                path, models.Jobs, {"filter": "latest", "per_page": PER_PAGE, "page": page}
            )
            jobs.extend(answer.jobs)
            if len(jobs) >= answer.total_count or len(answer.jobs) < PER_PAGE:
                break
        return jobs

    # Deployments (in an app repository) --------------------------------------------------

    def create_deployment(
        self,
        repo: Repo,
        sha: str,
        environment: str,
        *,
        description: str,
        production: bool,
        task: str = "deploy",
        payload: Mapping[str, Any] | None = None,
    ) -> models.Deployment:
        """`POST /repos/{o}/{r}/deployments` of exactly `sha`: no merge of the default branch
        (`auto_merge: false`) and no commit-status checks (`required_contexts: []`), since
        the platform deploys images already built and verified. Needs Deployments: write."""
        path = f"{repo.path}/deployments"
        body: dict[str, Any] = {
            "ref": sha,
            "task": task,
            "environment": environment,
            "description": description[:140],
            "auto_merge": False,
            "required_contexts": [],
            "production_environment": production,
            "transient_environment": False,
        }
        if payload is not None:
            body["payload"] = dict(payload)
        return _parse(
            "POST", path, models.Deployment, self.transport.request("POST", path, body=body)
        )

    def deployments(
        self, repo: Repo, environment: str, task: str, *, page: int = 1
    ) -> list[models.ListedDeployment]:
        """One page (100) of `GET /repos/{o}/{r}/deployments` of one environment and task,
        newest first. Needs Deployments: read."""
        path = f"{repo.path}/deployments"
        params: dict[str, str | int] = {"environment": environment, "task": task,
                                        "per_page": PER_PAGE, "page": page}  # fmt: skip
        return self._get(path, models.ListedDeployments, params).root

    def create_deployment_status(
        self,
        repo: Repo,
        deployment_id: int,
        state: str,
        *,
        log_url: str,
        environment_url: str = "",
        description: str = "",
    ) -> models.DeploymentStatus:
        """`POST .../deployments/{id}/statuses`; `auto_inactive` marks the environment's
        earlier successful deployments inactive once this one succeeds."""
        path = f"{repo.path}/deployments/{deployment_id}/statuses"
        body: dict[str, Any] = {
            "state": state,
            "log_url": log_url,
            "description": description[:140],
            "auto_inactive": True,
        }
        if environment_url:
            body["environment_url"] = environment_url
        answer = self.transport.request("POST", path, body=body)
        return _parse("POST", path, models.DeploymentStatus, answer)

    # Approvals -------------------------------------------------------------------------

    def pending_deployments(self, repo: Repo, run_id: int) -> list[models.PendingDeployment]:
        path = f"{repo.path}/actions/runs/{run_id}/pending_deployments"
        return self._get(path, models.PendingDeployments).root

    def run_approvals(self, repo: Repo, run_id: int) -> list[models.EnvironmentApproval]:
        """Every approval and rejection given in the run, each with its environments."""
        path = f"{repo.path}/actions/runs/{run_id}/approvals"
        return self._get(path, models.EnvironmentApprovals).root

    def me(self) -> models.User:
        """The user the token acts for."""
        return self._get("/user", models.User)

    def review_pending(
        self,
        repo: Repo,
        run_id: int,
        environment_ids: list[int],
        state: str,
        comment: str,
    ) -> None:
        """Approve or reject the run's waiting environments. GitHub only lets a required
        reviewer's own user token do this; the caller explains a 403/422."""
        path = f"{repo.path}/actions/runs/{run_id}/pending_deployments"
        body = {"environment_ids": environment_ids, "state": state, "comment": comment}
        self.transport.request("POST", path, body=body)

    # Environments ----------------------------------------------------------------------

    def user(self, login: str) -> models.User:
        return self._get(f"/users/{_seg(login)}", models.User)

    def team(self, org: str, slug: str) -> models.Team:
        return self._get(f"/orgs/{_seg(org)}/teams/{_seg(slug)}", models.Team)

    def team_members(self, org: str, slug: str) -> list[str]:
        """Logins of a team's members, its child teams' included (organization permission
        Members: read)."""
        path = f"/orgs/{_seg(org)}/teams/{_seg(slug)}/members"
        found: list[str] = []
        for page in range(1, MAX_PAGES + 1):
            params = {"per_page": PER_PAGE, "page": page}
            members = self._get(path, models.TeamMembers, params).root
            found += [m.login for m in members]
            if len(members) < PER_PAGE:
                break
        return found

    def environment(self, repo: Repo, name: str) -> models.Environment:
        return self._get(f"{repo.path}/environments/{_seg(name)}", models.Environment)

    def put_environment(self, repo: Repo, name: str, body: Mapping[str, Any]) -> models.Environment:
        path = f"{repo.path}/environments/{_seg(name)}"
        answer = self.transport.request("PUT", path, body=dict(body))
        return _parse("PUT", path, models.Environment, answer)

    def branch_policies(self, repo: Repo, environment: str) -> list[models.BranchPolicyName]:
        path = f"{repo.path}/environments/{_seg(environment)}/deployment-branch-policies"
        return self._get(path, models.BranchPolicies, {"per_page": PER_PAGE}).branch_policies

    def environment_secret_names(self, repo: Repo, environment: str) -> list[str]:
        """Names of the environment's secrets (GitHub allows 100 per environment: one page)."""
        path = f"{repo.path}/environments/{_seg(environment)}/secrets"
        answer = self._get(path, models.EnvironmentSecrets, {"per_page": PER_PAGE})
        return [secret.name for secret in answer.secrets]

    def add_branch_policy(self, repo: Repo, environment: str, branch: str) -> None:
        path = f"{repo.path}/environments/{_seg(environment)}/deployment-branch-policies"
        self.transport.request("POST", path, body={"name": branch, "type": "branch"})


def _parse(method: str, path: str, model: type[M], answer: Any) -> M:
    try:
        return model.model_validate(answer)
    except ValidationError as exc:
        raise _unexpected(method, path, exc) from None


def _unexpected(method: str, path: str, exc: ValidationError) -> GitHubError:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "(body)"
    return GitHubError(f"{method} {path}: unexpected answer from GitHub ({where}: {first['msg']})")
