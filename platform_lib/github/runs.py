"""Reading workflow runs and their jobs: which run a dispatch started, how a deploy job ended.
Pure functions over GitHub's answers."""

from __future__ import annotations

from collections.abc import Sequence

from platform_lib.github.models import Job, WorkflowRun
from platform_lib.github.naming import parse_job_name, parse_title


def run_for_request(runs: Sequence[WorkflowRun], request_id: str) -> WorkflowRun | None:
    """The run a repository_dispatch with this `request_id` started.

    A repository_dispatch answers 204 without naming the run it starts. Its title ends in
    the request's own random id (`DeployPayload.request_id`), so two requests alike in
    everything else (the same digests sent twice, a re-run of the app's job) never match
    each other's runs, whatever the clocks say."""
    matching = [r for r in runs if _request_of(r) == request_id]
    return max(matching, key=lambda r: r.id, default=None)


def _request_of(run: WorkflowRun) -> str | None:
    title = parse_title(run.display_title)
    return title.request_id if title else None


def deploy_job(jobs: Sequence[Job], project: str, environment: str) -> Job | None:
    """The job deploying `project` to `environment` (the latest attempt when re-run)."""
    found = [j for j in jobs if parse_job_name(j.name) == (project, environment)]
    return max(found, key=lambda j: j.id, default=None)


def job_outcome(job: Job | None) -> str:
    """`success`, `failure`, ..., `in_progress`, `waiting`, or `not run` for a missing job."""
    if job is None:
        return "not run"
    return job.conclusion or job.status


def failure_reason(job: Job, run_jobs: Sequence[Job]) -> str:
    """Why a deploy job did not succeed, in one line: its failed step, or the failed jobs it
    needed when it was skipped."""
    outcome = job_outcome(job)
    failed_steps = [s.name for s in job.steps if s.conclusion in ("failure", "timed_out")]
    if failed_steps:
        reason = f"{outcome} at step {failed_steps[0]!r}"
    elif outcome == "skipped":
        failed = [j.name for j in run_jobs if j.conclusion in ("failure", "timed_out")]
        reason = "skipped" + (f" because {', '.join(failed)} failed" if failed else "")
    else:
        reason = outcome
    return reason + (f" ({job.html_url})" if job.html_url else "")
