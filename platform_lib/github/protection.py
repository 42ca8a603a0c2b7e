"""Is a tenant's gate what the settings ask for, as GitHub holds it? Pure: the environment,
the repository and the teams' members are read by the caller.

GitHub creates an environment a job names on first use, unprotected: a production job that
runs before `setup-environments` did would deploy unreviewed. `check-gate` therefore reads the
environments a deploy passes through (its approval gates, then its own) before anything
deploys and refuses unless each has a deployment branch policy and, where approval is
required, required reviewers exactly as configured, with `prevent_self_review`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from platform_lib.github.environments import TenantEnvironment, environment_problems
from platform_lib.github.gates import login, reviewer_problems
from platform_lib.github.models import Environment, Repository, Reviewer

PRIVATE_REVIEWERS = (
    "the repository is private: GitHub Free, Pro and Team support required reviewers only in "
    "public repositories (a private or internal one needs GitHub Enterprise Cloud)"
)


def _handle(reviewer: Reviewer, org: str) -> str | None:
    """A reviewer as the settings write it: `login`, or `org/slug` for a team."""
    who = reviewer.reviewer
    if who is None:
        return None
    if reviewer.type == "Team":
        return f"{org}/{who.slug}".lower() if who.slug else None
    return login(who.login) if who.login else None


def reviewer_handles(environment: Environment, org: str) -> list[str]:
    """Its required reviewers, users by login and teams as `org/slug` (GitHub only allows
    teams of the repository's own organisation)."""
    found = [
        _handle(r, org)
        for rule in environment.protection_rules
        if rule.type == "required_reviewers"
        for r in rule.reviewers
    ]
    return sorted({h for h in found if h})


def _self_review(environment: Environment) -> bool:
    rules = [r for r in environment.protection_rules if r.type == "required_reviewers"]
    return any(r.prevent_self_review for r in rules)


def gate_problems(
    environment: Environment | None, tenant: TenantEnvironment, org: str, repo: str
) -> list[str]:
    """What keeps `environment` from being the gate `tenant` needs; [] when it is."""
    if environment is None:
        return [
            f"no environment {tenant.name} in {repo}: run `make setup-environments` "
            "(GitHub would create it unprotected on first use)"
        ]
    problems = environment_problems(environment, tenant.gated)
    if not tenant.gated or problems:
        return problems
    if not _self_review(environment):
        problems.append("prevent_self_review is off: whoever triggers a deploy may approve it")
    wanted = {login(h) if "/" not in h else h.lower() for h in tenant.reviewers}
    held = set(reviewer_handles(environment, org))
    if missing := sorted(wanted - held):
        problems.append(f"required reviewers lack {', '.join(missing)} (the settings name them)")
    if extra := sorted(held - wanted):
        problems.append(f"required reviewers {', '.join(extra)} are not in the settings")
    return problems


@dataclass(frozen=True)
class Counted:
    """The people who can approve through an environment, teams counted by their members."""

    users: tuple[str, ...]
    unreadable_teams: tuple[str, ...] = ()
    """Teams whose members could not be listed (the token lacks Members: read)."""


def count_reviewers(
    environment: Environment, org: str, members: Mapping[str, Sequence[str] | None]
) -> Counted:
    """Distinct users among the required reviewers, each team (`org/slug`) replaced by its
    members; `members[team]` None: not readable."""
    users: set[str] = set()
    unreadable: list[str] = []
    for handle in reviewer_handles(environment, org):
        if "/" not in handle:
            users.add(handle)
        elif (found := members.get(handle)) is None:
            unreadable.append(handle)
        else:
            users.update(login(m) for m in found)
    return Counted(tuple(sorted(users)), tuple(unreadable))


def approver_findings(
    environment: Environment, needed: int, counted: Counted
) -> tuple[list[str], list[str]]:
    """(problems, warnings): can `needed` distinct people other than the author approve?
    With `prevent_self_review`, exactly `needed` reviewers deadlock whenever the author is one
    of them (one reviewer who pushes a change can never see it approved)."""
    if needed < 1 or not reviewer_handles(environment, ""):
        return [], []  # not gated, or environment_problems says nobody must approve
    if counted.unreadable_teams:
        teams = ", ".join(counted.unreadable_teams)
        return [], [
            f"members of {teams} could not be listed (the token needs the organisation's "
            "Members: read): the approvers were not counted"
        ]
    return reviewer_problems(needed, list(counted.users), _self_review(environment))


def repository_warnings(repository: Repository, gated: bool) -> list[str]:
    if gated and (repository.private or repository.visibility in ("private", "internal")):
        return [PRIVATE_REVIEWERS]
    return []
