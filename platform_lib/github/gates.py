"""N distinct approvers for a deploy, on GitHub's own primitives. Pure.

GitHub releases a job waiting on an environment with one approval, from any one of its (at
most six) required reviewers. A deploy that needs N distinct people therefore waits on N
environments with the same reviewers: the approval gates `<project>-<env>-approval-1..N-1`
(jobs that do nothing else), then the deploy job's own `<project>-<env>`. One person could
approve several of them, and GitHub's `prevent_self_review` only keeps out whoever started
the run (for a dispatch that is the dispatch token's owner, not the app repository's
verified actor), so before anything deploys the deploy job counts the run's approvals
(`GET .../actions/runs/{run_id}/approvals`): N distinct users, none of them the author.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from platform_lib.github.models import EnvironmentApproval
from platform_lib.github.naming import approval_environment, github_environment
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings


def required_approvals(
    settings: PlatformSettings, manifest: ProjectManifest, environment: str
) -> int:
    """Distinct approvers a tenant's deploy to `environment` needs: 0 when it is not gated."""
    env = settings.environments[environment]
    if not env.requires_approval:
        return 0
    # A tenant's manifest can ask for more approvals, never for fewer than the platform's.
    return max(env.approvals, manifest.approvals.get(environment, env.approvals))


def approval_gates(project: str, environment: str, needed: int) -> list[str]:
    """The extra gate environments, in order; the deploy job's environment is the last gate."""
    return [approval_environment(project, environment, n) for n in range(1, needed)]


def gate_environments(project: str, environment: str, needed: int) -> set[str]:
    """Every environment whose approval counts towards a deploy."""
    return {*approval_gates(project, environment, needed), github_environment(project, environment)}


def login(name: str) -> str:
    """A login as the platform compares it: case-insensitive, `x[bot]` as `x-bot` (as the
    plan job records a bot actor)."""
    return re.sub(r"\[bot\]$", "-bot", name.strip()).lower()


@dataclass(frozen=True)
class Tally:
    """What the run's reviews of one deploy's gates add up to."""

    needed: int
    approvers: tuple[str, ...]
    """Distinct users who approved a gate, authors excluded: what counts."""
    by_authors: tuple[str, ...] = ()
    """Authors who approved a gate: their approvals do not count."""
    rejected_by: tuple[str, ...] = ()

    @property
    def missing(self) -> int:
        return max(0, self.needed - len(self.approvers))

    @property
    def ok(self) -> bool:
        return self.missing == 0 and not self.rejected_by

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "needed": self.needed,
            "approvers": list(self.approvers),
            "missing": self.missing,
            "not_counted_authors": list(self.by_authors),
            "rejected_by": list(self.rejected_by),
        }


def tally(
    reviews: Sequence[EnvironmentApproval],
    environments: Iterable[str],
    authors: Iterable[str],
    needed: int,
) -> Tally:
    """Count the reviews of `environments` (a deploy's gates): each user once, never an
    author; a rejection of any of them stops the deploy."""
    gates = set(environments)
    excluded = {login(a) for a in authors if a.strip()}
    approvers: dict[str, None] = {}
    by_authors: dict[str, None] = {}
    rejected: dict[str, None] = {}
    for review in reviews:
        if not any(e.name in gates for e in review.environments):
            continue
        who = login(review.user.login or "")
        if not who:
            continue
        if review.state == "rejected":
            rejected[who] = None
        elif review.state == "approved":
            (by_authors if who in excluded else approvers)[who] = None
    return Tally(needed, tuple(approvers), tuple(by_authors), tuple(rejected))


def still_allowed(reviewers: Sequence[str], done: Tally, authors: Iterable[str]) -> list[str]:
    """Reviewers whose approval would still count (teams as they are: any member)."""
    excluded = {login(a) for a in authors} | set(done.approvers) | set(done.by_authors)
    return [r for r in reviewers if "/" in r or login(r) not in excluded]


def reviewer_problems(
    needed: int, reviewers: Sequence[str], prevent_self_review: bool
) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a gated environment's reviewers for `needed` approvals."""
    if needed < 1:
        return [], []
    users = {login(r) for r in reviewers if "/" not in r}
    teams = [r for r in reviewers if "/" in r]
    if teams:
        return [], []  # team members are not counted here; GitHub lists them on the team
    if len(users) < needed:
        return [
            f"{needed} distinct approvals needed but only {len(users)} reviewer(s): "
            "no deploy can ever be approved; add reviewers"
        ], []
    if len(users) == needed:
        why = "prevent_self_review keeps them out" if prevent_self_review else "it does not count"
        return [], [
            f"{needed} approvals needed from exactly {needed} reviewers: a deploy whose author "
            f"is one of them can never be approved ({why}); add a reviewer"
        ]
    return [], []
