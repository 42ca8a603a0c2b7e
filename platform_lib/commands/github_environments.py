"""github setup-environments and doctor: every tenant's GitHub environments, made as the
settings ask (branch policy, required reviewers) and checked before deploys rely on them
(protection, reviewers, the secrets each needs)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from platform_lib.commands import common
from platform_lib.commands.github_common import add_common, need_settings, new_client, platform_repo
from platform_lib.github import environments, protection
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.errors import Forbidden, NotFound
from platform_lib.github.follow import apply_environments, resolve_reviewers
from platform_lib.github.settings import load_tenants


def cmd_setup_environments(args: argparse.Namespace) -> int:
    settings = need_settings(args)
    tenants = load_tenants(common.root(args))
    repo = platform_repo(args, settings)
    client = new_client()
    ids = resolve_reviewers(client, environments.reviewer_handles(settings, tenants))
    branch = (
        client.repository(repo).default_branch if args.branch_policy == "default-branch" else ""
    )
    desired = environments.desired_environments(
        settings, tenants, ids, branch, args.branch_policy, args.wait_timer
    )
    if args.dry_run:
        print(json.dumps({e.name: e.body() for e in desired}, indent=2, sort_keys=True))
        return 0
    apply_environments(client, repo, desired)
    report = []
    for env, line in zip(desired, environments.summarize(desired), strict=True):
        present = client.environment_secret_names(repo, env.name)
        missing = environments.missing_secrets(env.tenant, present)
        report.append(
            {**_where(env.tenant), "reviewers": list(env.reviewers), "missing_secrets": missing}
        )
        if args.format == "text":
            print(line + (f"; secrets to add: {', '.join(missing)}" if missing else ""))
    if args.format == "json":
        print(json.dumps(report, indent=2, sort_keys=True))
    return 0


def _where(env: environments.TenantEnvironment) -> dict[str, str]:
    return {"name": env.name, "project": env.project, "environment": env.environment}


def _check_environment(
    client: GitHubClient,
    repo: Repo,
    env: environments.TenantEnvironment,
    members: dict[str, list[str] | None],
) -> dict[str, Any]:
    """What `doctor` finds of one tenant's environment: problems make it unsafe or unusable."""
    try:
        environment = client.environment(repo, env.name)
    except NotFound:
        problem = f"no such environment in {repo} (or the token cannot see it)"
        return {**_where(env), "problems": [problem], "warnings": [], "missing_secrets": []}
    problems = environments.environment_problems(environment, env.gated)
    warnings = environments.environment_warnings(environment) if env.gated else []
    if env.gated:
        for team in protection.reviewer_handles(environment, repo.owner):
            if "/" in team and team not in members:
                members[team] = _members(client, team)
        counted = protection.count_reviewers(environment, repo.owner, members)
        found, warned = protection.approver_findings(environment, max(env.approvals, 1), counted)
        problems += found
        warnings += warned
    missing = environments.missing_secrets(env, client.environment_secret_names(repo, env.name))
    if missing:
        problems.append(f"secrets not set: {', '.join(missing)} (a deploy would refuse to start)")
    return {
        **_where(env),
        "problems": problems,
        "warnings": warnings,
        "missing_secrets": missing,
        "description": environments.describe(environment),
    }


def _members(client: GitHubClient, team: str) -> list[str] | None:
    """A team's members, or None when the token may not list them."""
    org, _, slug = team.partition("/")
    try:
        return client.team_members(org, slug)
    except (Forbidden, NotFound):
        return None


def cmd_doctor(args: argparse.Namespace) -> int:
    settings = need_settings(args)
    tenants = load_tenants(common.root(args))
    repo = platform_repo(args, settings)
    client = new_client()
    members: dict[str, list[str] | None] = {}
    needed = environments.needed(settings, tenants)
    found = [_check_environment(client, repo, env, members) for env in needed]
    repository = client.repository(repo)
    for env, entry in zip(needed, found, strict=True):
        entry["warnings"] += protection.repository_warnings(repository, env.gated)
    if args.format == "json":
        print(json.dumps(found, indent=2, sort_keys=True))
    else:
        for entry in found:
            for problem in entry["problems"]:
                print(f"{entry['name']}: error: {problem}")
            for warning in entry["warnings"]:
                print(f"{entry['name']}: warning: {warning}")
            if not entry["problems"]:
                print(f"{entry['name']}: ok ({entry['description']})")
    failed = any(entry["problems"] for entry in found)
    if failed:
        common.log("GitHub environments are not ready: run make setup-environments")
    return 1 if failed else 0


def register(gh: Any) -> None:
    p = gh.add_parser(
        "setup-environments",
        help="create/update every tenant's GitHub environments and name the secrets each lacks",
    )
    add_common(p)
    p.add_argument(
        "--branch-policy",
        choices=["default-branch", "protected"],
        default="default-branch",
        help="deploy only from the default branch (default), or from protected branches",
    )
    p.add_argument(
        "--wait-timer", type=int, default=0, metavar="MINUTES", help="gated environments"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the request bodies, change nothing"
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_setup_environments)

    p = gh.add_parser(
        "doctor",
        help="fail unless every tenant's environments exist with a branch policy, required "
        "reviewers where approval is required, and every secret they need",
    )
    add_common(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_doctor)
