"""Whether a newer run of the deploy workflow supersedes this run's production deploy of a
tenant. Pure: the runs and their jobs are the caller's.

A production deploy promotes what its tenant's staging verified. Staging deploys of a tenant
run one at a time in the order they were asked for (their concurrency queue), so a newer run
whose staging of the tenant succeeded leaves staging with a state at least as new as this
run's, and its own production promotes that: this run's production has nothing
left to add. It is then skipped, with a note naming the newer run, instead of deploying older
digests or waiting for an approval that would change nothing.

A newer run supersedes only when it deploys the tenant to production too (not a staging-only
manual run) and its staging of the tenant succeeded: one still running may yet fail, and then
neither request would deploy (a production-only manual run has no staging of its own: it
supersedes nothing). When GitHub cannot be asked, nothing is superseded: both
deploy, in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from platform_lib.github.models import Job, WorkflowRun
from platform_lib.github.naming import parse_title
from platform_lib.github.runs import deploy_job

FAILED = ("failure", "cancelled", "skipped", "timed_out", "startup_failure")


@dataclass(frozen=True)
class Supersession:
    run_id: int
    run_url: str
    title: str

    def note(self, project: str, environment: str) -> str:
        return (
            f"{project}'s {environment} deploy is superseded by run {self.run_id} "
            f"({self.title}): it deploys what this run would, or newer ({self.run_url})"
        )


def _alive(job: Job | None) -> bool:
    return job is not None and job.conclusion not in FAILED


def _deploys_production(run: WorkflowRun, jobs: Sequence[Job], project: str) -> bool:
    title = parse_title(run.display_title)
    if title is not None and title.environment == "staging":
        return False  # a manual staging-only run
    production = deploy_job(jobs, project, "production")
    # not listed yet: GitHub makes a called workflow's later jobs as their needs complete
    return production is None or _alive(production)


def superseded_by(
    this_run: int,
    runs: Sequence[WorkflowRun],
    jobs_of: Mapping[int, Sequence[Job]],
    project: str,
    environment: str = "production",
) -> Supersession | None:
    """The newest run after `this_run` that supersedes its `environment` deploy of `project`;
    None when there is none. `jobs_of` holds the jobs of the runs newer than this one."""
    if environment != "production":
        return None  # staging deploys all run, in order: each is a request of its own
    newer = sorted((r for r in runs if r.id > this_run), key=lambda r: r.id, reverse=True)
    for run in newer:  # a run's own result says nothing: other tenants may have failed
        jobs = jobs_of.get(run.id, ())
        staging = deploy_job(jobs, project, "staging")
        # Only a staging that succeeded: one still running may fail, and then neither request
        # would deploy (this one, approved, would have stood down for nothing).
        if (
            staging is not None
            and staging.conclusion == "success"
            and _deploys_production(run, jobs, project)
        ):
            return Supersession(run.id, run.html_url, run.display_title)
    return None


def newer_runs(this_run: int, runs: Sequence[WorkflowRun]) -> list[WorkflowRun]:
    """The runs whose jobs `superseded_by` needs: those after this one."""
    return [r for r in runs if r.id > this_run]
