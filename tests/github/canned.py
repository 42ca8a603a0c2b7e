"""Canned GitHub answers: GitHub's own documented examples with the fields a test cares about
replaced. The fake server checks each one against the OpenAPI description when registered,
so a builder that drifts from GitHub's shapes fails at once."""

from __future__ import annotations

import copy
from typing import Any

from github import openapi

OWNER, NAME = "example-org", "platform"
REPO = f"{OWNER}/{NAME}"
RUNS = f"/repos/{REPO}/actions/runs"
WORKFLOW_RUNS = f"/repos/{REPO}/actions/workflows/deploy-project.yml/runs"
T0 = "2026-01-31T12:00:00Z"
# Shaped like a classic personal access token, so a leak would be obvious in any output.
TOKEN = "ghp_T3stT0kenThatMustNeverBePrinted0042"

# configs/platform.yml of the test platform repository.
SETTINGS = """\
registry:
  host: ghcr.io
  namespace: example-org
environments:
  staging:
    hosts:
      staging-1: {kind: local}
  production:
    requires_approval: true
    deploy_after: staging
    hosts:
      prod-1: {kind: local}
github:
  repository: example-org/platform
  production_reviewers: [ops-lead, example-org/release-managers]
"""


def _example(method: str, template: str, status: int = 200, name: str | None = None) -> Any:
    return openapi.load().example(method, template, status, name)


def error(
    message: str, status: int, documentation_url: str = "https://docs.github.com/rest"
) -> dict[str, Any]:
    return {"message": message, "documentation_url": documentation_url, "status": str(status)}


def run(
    run_id: int,
    title: str,
    *,
    status: str = "waiting",
    conclusion: str | None = None,
    event: str = "repository_dispatch",
    created_at: str = T0,
) -> dict[str, Any]:
    answer: dict[str, Any] = _example("get", "/repos/{owner}/{repo}/actions/runs/{run_id}")
    answer.update(
        id=run_id,
        display_title=title,
        name="deploy",
        status=status,
        conclusion=conclusion,
        event=event,
        path=".github/workflows/deploy-project.yml",
        created_at=created_at,
        updated_at=created_at,
        html_url=f"https://github.com/{REPO}/actions/runs/{run_id}",
        url=f"https://api.github.com{RUNS}/{run_id}",
    )
    return answer


def runs(*items: dict[str, Any]) -> dict[str, Any]:
    return {"total_count": len(items), "workflow_runs": list(items)}


def job(
    job_id: int,
    run_id: int,
    name: str,
    status: str = "completed",
    conclusion: str | None = "success",
    steps: tuple[tuple[str, str | None], ...] = (),
) -> dict[str, Any]:
    answer: dict[str, Any] = _example("get", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs")[
        "jobs"
    ][0]
    answer.update(
        id=job_id,
        run_id=run_id,
        name=name,
        status=status,
        conclusion=conclusion,
        created_at=T0,
        html_url=f"https://github.com/{REPO}/actions/runs/{run_id}/job/{job_id}",
        steps=[
            {"name": step, "status": "completed", "conclusion": outcome, "number": number}
            for number, (step, outcome) in enumerate(steps, start=1)
        ],
    )
    return answer


def jobs(*items: dict[str, Any]) -> dict[str, Any]:
    return {"total_count": len(items), "jobs": list(items)}


def pending(env_id: int, env_name: str, can_approve: bool = True) -> dict[str, Any]:
    template = "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments"
    answer: dict[str, Any] = _example("get", template)[0]
    answer["environment"].update(id=env_id, name=env_name)
    answer["current_user_can_approve"] = can_approve
    answer["reviewers"] = [answer["reviewers"][0]]  # the example's user (octocat)
    answer["reviewers"][0]["reviewer"]["login"] = "ops-lead"
    return answer


def review(login: str, state: str, *environments: tuple[int, str]) -> dict[str, Any]:
    """One entry of `GET .../actions/runs/{run_id}/approvals`: `login` approved (or rejected)
    the environments given as (id, name)."""
    template = "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals"
    answer: dict[str, Any] = _example("get", template)[0]
    shape = answer["environments"][0]
    answer.update(state=state, comment=f"{state} by {login}")
    answer["environments"] = [
        {
            **shape,
            "id": env_id,
            "name": name,
            "url": f"https://api.github.com/repos/{REPO}/environments/{name}",
        }
        for env_id, name in environments
    ]
    answer["user"] = {**answer["user"], "login": login, "id": 1000 + len(login)}
    return answer


def authenticated_user(login: str, user_id: int) -> dict[str, Any]:
    """`GET /user`: the token's own user."""
    answer: dict[str, Any] = _example(
        "get", "/user", 200, "response-with-public-and-private-profile-information"
    )
    answer.update(login=login, id=user_id, type="User")
    return answer


def deployments() -> list[Any]:
    """What `POST .../pending_deployments` answers: the deployments it released."""
    return list(_example("post", "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments"))


def dispatched(run_id: int) -> dict[str, Any]:
    return {
        "workflow_run_id": run_id,
        "run_url": f"https://api.github.com{RUNS}/{run_id}",
        "html_url": f"https://github.com/{REPO}/actions/runs/{run_id}",
    }


def repository(default_branch: str = "main", visibility: str = "public") -> dict[str, Any]:
    answer: dict[str, Any] = _example("get", "/repos/{owner}/{repo}")
    answer.update(full_name=REPO, name=NAME, default_branch=default_branch, language=None,
                  visibility=visibility, private=visibility != "public")  # fmt: skip
    for fork_only in ("source", "parent", "template_repository"):
        answer.pop(fork_only, None)
    answer["owner"]["login"] = OWNER
    return answer


def user(login: str, user_id: int, kind: str = "User") -> dict[str, Any]:
    answer: dict[str, Any] = _example("get", "/users/{username}")
    answer.update(login=login, id=user_id, type=kind)
    return answer


def team(slug: str, team_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = _example("get", "/orgs/{org}/teams/{team_slug}")
    answer.update(slug=slug, id=team_id, type="organization")
    answer["organization"]["archived_at"] = None
    return answer


def environment(
    name: str,
    *,
    reviewers: bool = True,
    branch_policy: bool = True,
    prevent_self_review: bool = True,
    people: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """GitHub's example environment (reviewers: user octocat, team justice-league), or with
    `people` as its required reviewers: logins, and teams as `team:slug`."""
    answer: dict[str, Any] = _example(
        "get", "/repos/{owner}/{repo}/environments/{environment_name}"
    )
    answer["name"] = name
    rules = answer["protection_rules"]
    rules[1]["prevent_self_review"] = prevent_self_review
    if people is not None:
        user, team = rules[1]["reviewers"]
        rules[1]["reviewers"] = [
            {**team, "reviewer": {**team["reviewer"], "slug": who[5:], "id": 500 + i}}
            if who.startswith("team:")
            else {**user, "reviewer": {**user["reviewer"], "login": who, "id": 100 + i}}
            for i, who in enumerate(people)
        ]
    answer["protection_rules"] = [
        r for r in rules if reviewers or r["type"] != "required_reviewers"
    ]
    if not branch_policy:
        answer["deployment_branch_policy"] = None
        answer["protection_rules"] = [
            r for r in answer["protection_rules"] if r["type"] != "branch_policy"
        ]
    return answer


def team_members(*logins: str) -> list[dict[str, Any]]:
    """`GET /orgs/{org}/teams/{team_slug}/members`."""
    shape = _example("get", "/orgs/{org}/teams/{team_slug}/members")[0]
    return [{**shape, "login": who, "id": 700 + i} for i, who in enumerate(logins)]


def branch_policies(*names: str) -> dict[str, Any]:
    return {
        "total_count": len(names),
        "branch_policies": [
            {
                "id": 360 + i,
                "node_id": f"MDE2OkdhdGVCcmFuY2hQb2xpY3kzNjE{i}",
                "name": n,
                "type": "branch",
            }
            for i, n in enumerate(names)
        ],
    }


def branch_policy(name: str) -> dict[str, Any]:
    return {
        "id": 364,
        "node_id": "MDE2OkdhdGVCcmFuY2hQb2xpY3kzNjQ=",
        "name": name,
        "type": "branch",
    }


def environment_secrets(*names: str) -> dict[str, Any]:
    """`GET .../environments/{name}/secrets`: GitHub lists names and dates, never values."""
    template = "/repos/{owner}/{repo}/environments/{environment_name}/secrets"
    example: dict[str, Any] = _example("get", template)
    shape = example["secrets"][0]
    return {
        "total_count": len(names),
        "secrets": [{**shape, "name": name} for name in names],
    }


def deployment(deployment_id: int, sha: str, environment: str) -> dict[str, Any]:
    """`POST /repos/{o}/{r}/deployments` 201."""
    answer: dict[str, Any] = _example("post", "/repos/{owner}/{repo}/deployments", 201)
    answer.update(id=deployment_id, sha=sha, ref=sha, environment=environment)
    return answer


def deployment_status(status_id: int, state: str) -> dict[str, Any]:
    """`POST /repos/{o}/{r}/deployments/{deployment_id}/statuses` 201."""
    answer: dict[str, Any] = _example(
        "post", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", 201
    )
    answer.update(id=status_id, state=state)
    return answer


def listed_deployment(
    deployment_id: int,
    sha: str,
    environment: str,
    payload: dict[str, Any] | str,
    *,
    task: str = "platform:release",
    creator: str = "github-actions[bot]",
    creator_type: str = "Bot",
    created_at: str = "2026-11-30T10:00:00Z",
) -> dict[str, Any]:
    """An item of `GET /repos/{o}/{r}/deployments`."""
    answer: dict[str, Any] = copy.deepcopy(_example("get", "/repos/{owner}/{repo}/deployments")[0])
    answer.update(id=deployment_id, sha=sha, ref=sha, environment=environment, task=task,
                  payload=payload, created_at=created_at, updated_at=created_at)  # fmt: skip
    answer["creator"].update(login=creator, type=creator_type)
    return answer
