"""Which deployments wait for approval, what each would release, and which one an
`approve --project P` means. Pure: the gathering of runs, gates and jobs is the caller's.

GitHub approves per run and environment: approving a run's environment releases every job of
that run waiting on it. Each tenant deploys in its own GitHub environment
(`<project>-<environment>`, see `naming`), so a run deploying several tenants (a push changing
shared config) has one gate per tenant, and approving one releases that tenant only.

A run made before the move to per-tenant environments waits on the shared `production`: one
gate for every tenant in it; `choose` refuses to approve such a gate for one project unless
told that the others go too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from platform_lib.errors import PlatformError, UsageError
from platform_lib.github.models import Job, PendingDeployment, WorkflowRun
from platform_lib.github.naming import (
    approval_gate,
    parse_github_environment,
    parse_job_name,
    parse_title,
)
from platform_lib.github.runs import deploy_job, job_outcome
from platform_lib.planning.windows import WindowState

UNKNOWN_PROJECT = "?"


@dataclass(frozen=True)
class WaitingRun:
    """A run waiting for approval, with its gates and jobs as GitHub listed them."""

    run: WorkflowRun
    pending: Sequence[PendingDeployment]
    jobs: Sequence[Job]


@dataclass(frozen=True)
class Gate:
    """One environment gate of one run, and everything it would release."""

    run_id: int
    run_url: str
    title: str
    created_at: datetime
    environment: str
    """The platform environment (`production`)."""
    environment_id: int
    """The GitHub environment's id: what an approval names."""
    projects: tuple[str, ...]
    images: Mapping[str, str] = field(default_factory=dict)
    """Service -> image of the run title; empty when the title does not say (a push run)."""
    verified_in: str | None = None
    """The environment whose verified digests this one deploys (its `deploy_after`)."""
    before: Mapping[str, str] = field(default_factory=dict)
    """Project -> outcome of its deploy to `verified_in` in this run (`success`, ...)."""
    can_approve: bool = False
    reviewers: tuple[str, ...] = ()
    github_environment: str = ""
    """The GitHub environment: `<project>-<environment>`, or a shared one (`production`)."""
    window: WindowState | None = None
    """The deployment windows of the project's environment when asked (None: it has none)."""
    superseded_by: int | None = None
    """A newer waiting run of the same tenant's deploy to this environment: approved, this
    one deploys nothing (`github superseded`); approve that one instead."""
    head_sha: str = ""
    """The platform commit the run deploys (its configs)."""

    @property
    def shared(self) -> bool:
        """A shared environment of a run made before the move to per-tenant ones."""
        return parse_github_environment(self.github_environment) is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_url": self.run_url,
            "title": self.title,
            "created_at": self.created_at.isoformat(),
            "environment": self.environment,
            "github_environment": self.github_environment,
            "environment_id": self.environment_id,
            "projects": list(self.projects),
            "images": dict(self.images),
            "verified_in": self.verified_in,
            "before": dict(self.before),
            "current_user_can_approve": self.can_approve,
            "reviewers": list(self.reviewers),
            "superseded_by": self.superseded_by,
            "window": None
            if self.window is None
            else {
                "open": self.window.open,
                "closed_by": self.window.closed_by or None,
                "next_open": self.window.next_open.isoformat() if self.window.next_open else None,
            },
        }


def _projects(waiting: WaitingRun, environment: str) -> tuple[str, ...]:
    """Projects whose deploy job waits on this environment; else the title's project."""
    deploys = [(j, parse_job_name(j.name)) for j in waiting.jobs]
    here = [p for j, p in deploys if p and p[1] == environment and j.status != "completed"]
    if here:
        return tuple(sorted({project for project, _ in here}))
    title = parse_title(waiting.run.display_title)
    if title and title.environment in (None, environment):
        return (title.project,)
    return (UNKNOWN_PROJECT,)


def _outcomes(jobs: Sequence[Job], projects: Sequence[str], env: str | None) -> dict[str, str]:
    if env is None:
        return {}
    return {p: job_outcome(deploy_job(jobs, p, env)) for p in projects}


def gates(waiting_runs: Sequence[WaitingRun], deploy_after: Mapping[str, str | None]) -> list[Gate]:
    """Every gate of every waiting run, oldest run first."""
    found: list[Gate] = []
    for waiting in waiting_runs:
        run = waiting.run
        title = parse_title(run.display_title)
        for pending in waiting.pending:
            name = pending.environment.name
            tenant = parse_github_environment(name)
            if tenant is not None:
                project, env = tenant
                projects: tuple[str, ...] = (project,)
            else:
                env = name
                projects = _projects(waiting, env)
            single = title is not None and projects == (title.project,)
            after = deploy_after.get(env)
            found.append(
                Gate(
                    run_id=run.id,
                    run_url=run.html_url,
                    title=run.display_title,
                    created_at=run.created_at,
                    environment=env,
                    environment_id=pending.environment.id,
                    projects=projects,
                    images=dict(title.images) if title and single else {},
                    verified_in=after,
                    before=_outcomes(waiting.jobs, projects, after),
                    can_approve=pending.current_user_can_approve,
                    reviewers=tuple(r.handle for r in pending.reviewers),
                    github_environment=name,
                    head_sha=run.head_sha,
                )
            )
    return _mark_superseded(
        sorted(found, key=lambda g: (g.created_at, g.run_id, g.environment, g.projects))
    )


def _mark_superseded(found: list[Gate]) -> list[Gate]:
    """Each production gate of one tenant's own environment gets the newest later run waiting
    for the same environment: a run waits there only once its staging of the tenant
    succeeded, so the newer one promotes at least what the older would (`supersede`)."""
    newest: dict[str, int] = {}
    for gate in found:
        if not gate.shared and gate.environment == "production":
            newest[gate.github_environment] = max(
                newest.get(gate.github_environment, gate.run_id), gate.run_id
            )
    return [
        replace(gate, superseded_by=newest[gate.github_environment])
        if not gate.shared
        and gate.environment == "production"
        and newest[gate.github_environment] > gate.run_id
        else gate
        for gate in found
    ]


def matching(found: Sequence[Gate], project: str | None, environment: str | None) -> list[Gate]:
    return [
        g
        for g in found
        if (project is None or project in g.projects)
        and (environment is None or g.environment == environment)
    ]


def choose(
    found: Sequence[Gate],
    project: str,
    environment: str,
    run_id: int | None = None,
    allow_shared: bool = False,
) -> Gate:
    """The one gate `approve`/`reject --project P` acts on, or why there is none."""
    candidates = matching(found, project, environment)
    if run_id is not None:
        candidates = [g for g in candidates if g.run_id == run_id]
    if not candidates:
        which = f" in run {run_id}" if run_id is not None else ""
        raise PlatformError(
            f"no {environment} deployment of {project} is waiting for approval{which} "
            "(make pending lists what waits)"
        )
    if len({g.run_id for g in candidates}) == 1 and len(candidates) > 1:
        # One deploy's approval gates (`<project>-<env>-approval-<n>`, then its own): the
        # first that this token can approve; each person approves one of them.
        candidates = sorted(
            candidates,
            key=lambda g: (not g.can_approve, approval_gate(g.github_environment) or 99),
        )[:1]
    if len(candidates) > 1:
        runs = ", ".join(f"{g.run_id} ({g.title})" for g in candidates)
        raise UsageError(
            f"{len(candidates)} runs wait to deploy {project} to {environment}: {runs}; "
            "pick one with --run ID"
        )
    gate = candidates[0]
    others = [p for p in gate.projects if p != project]
    if others and not allow_shared:
        raise UsageError(
            f"run {gate.run_id} also waits to deploy {', '.join(others)} to {environment} in "
            f"the shared environment {gate.github_environment!r} (made before the move to "
            "per-tenant environments); GitHub approves it as a whole: pass --allow-shared-run "
            "to release them together"
        )
    return gate
