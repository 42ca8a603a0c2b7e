"""Conversations with GitHub that take several calls: the run a dispatch started, a deploy
job until it ends, the runs waiting for approval, the environments to set up. Polls with an
injected clock and sleep."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from platform_lib.errors import PlatformError
from platform_lib.github.approvals import WaitingRun
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.environments import DesiredEnvironment, ReviewerHandle, ReviewerId
from platform_lib.github.errors import FollowFailed
from platform_lib.github.models import Job, WorkflowRun
from platform_lib.github.naming import WORKFLOW_FILE
from platform_lib.github.runs import deploy_job, failure_reason, run_for_request

RUN_URL_TIMEOUT = 120.0
"""How long `notify --run-url` looks for the run a dispatch started (it usually shows in
seconds): the URL is a convenience, a deploy request never fails for want of it."""

WAIT_TIMEOUT = 3600.0
"""How long `notify --wait` follows a deploy: at least the deploy workflow's plan and staging
jobs' `timeout-minutes` together (10 + 40); a test keeps it so. Time the job spends held in
the tenant's deploy queue (`queue: max`, behind earlier requests) does not count."""
HELD = frozenset({"queued", "pending", "waiting", "requested"})
"""Job states of a job that has not started: held by its concurrency group or a runner."""


@dataclass
class Poll:
    timeout: float = 1800.0
    interval: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def find_run(client: GitHubClient, repo: Repo, request_id: str, poll: Poll) -> WorkflowRun:
    """The run of the deploy workflow the repository_dispatch with `request_id` started."""
    deadline = poll.clock() + poll.timeout
    while True:
        runs = client.workflow_runs(repo, WORKFLOW_FILE, event="repository_dispatch", pages=1)
        run = run_for_request(runs, request_id)
        if run is not None:
            return run
        if poll.clock() >= deadline:
            raise FollowFailed(
                f"no run of {WORKFLOW_FILE} in {repo} started for request {request_id} within "
                f"{poll.timeout:.0f} s: is the workflow on the default branch, and does it "
                "listen to repository_dispatch type 'deploy'?"
            )
        poll.sleep(poll.interval)


def follow_job(
    client: GitHubClient,
    repo: Repo,
    run: WorkflowRun,
    project: str,
    environment: str,
    poll: Poll,
    progress: Callable[[str], None],
) -> Job:
    """Wait until the run's job deploying `project` to `environment` ends; raise with the
    reason unless it succeeded. The timeout runs while the job does not exist yet (the plan
    job) and once it runs; while it is held (`HELD`: behind earlier deploys of the tenant), it
    waits its turn, as long as the caller's job may last."""
    deadline = poll.clock() + poll.timeout
    last = ""
    while True:
        jobs = client.jobs(repo, run.id)
        job = deploy_job(jobs, project, environment)
        state = (job.conclusion or job.status) if job else "not started"
        if job is not None and job.status in HELD:
            deadline = max(deadline, poll.clock() + poll.timeout)
        if state != last:
            progress(f"{project} to {environment}: {state}")
            last = state
        if job is not None and job.status == "completed":
            if job.conclusion == "success":
                return job
            raise FollowFailed(f"deploy of {project} to {environment} {failure_reason(job, jobs)}")
        if job is None and client.run(repo, run.id).status == "completed":
            failed = [j.name for j in jobs if j.conclusion in ("failure", "timed_out")]
            because = f": {', '.join(failed)} failed" if failed else ""
            raise FollowFailed(
                f"run {run.html_url} ended without deploying {project} to {environment}{because}"
            )
        if poll.clock() >= deadline:
            raise FollowFailed(
                f"deploy of {project} to {environment} not finished after {poll.timeout:.0f} s "
                f"({state}); follow it at {run.html_url}"
            )
        poll.sleep(poll.interval)


def waiting_runs(client: GitHubClient, repo: Repo) -> list[WaitingRun]:
    """Runs of the deploy workflow waiting for approval, with their gates and jobs."""
    found = []
    for run in client.workflow_runs(repo, WORKFLOW_FILE, status="waiting"):
        pending = client.pending_deployments(repo, run.id)
        if pending:
            found.append(WaitingRun(run, pending, client.jobs(repo, run.id)))
    return found


def resolve_reviewers(
    client: GitHubClient, handles: Sequence[ReviewerHandle]
) -> dict[str, ReviewerId]:
    """GitHub ids of the reviewers: `GET /users/{login}`, `GET /orgs/{org}/teams/{slug}`."""
    ids: dict[str, ReviewerId] = {}
    for handle in handles:
        if handle.team is not None:
            ids[handle.text] = ReviewerId(type="Team", id=client.team(*handle.team).id)
            continue
        user = client.user(handle.text)
        if user.type != "User":
            raise PlatformError(f"reviewer {handle.text!r} is a GitHub {user.type}, not a user")
        ids[handle.text] = ReviewerId(type="User", id=user.id)
    return ids


def apply_environments(
    client: GitHubClient, repo: Repo, desired: Sequence[DesiredEnvironment]
) -> None:
    """PUT each environment, then add the branch policies it lacks."""
    for env in desired:
        client.put_environment(repo, env.name, env.body())
        if not env.branches:
            continue
        existing = {p.name for p in client.branch_policies(repo, env.name)}
        for branch in env.branches:
            if branch not in existing:
                client.add_branch_policy(repo, env.name, branch)
