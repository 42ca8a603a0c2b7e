"""github pending, approve, reject and check-approvals: deploys waiting on an environment's
required reviewers. List them with what each would deploy, decide one as its reviewer, and
check in the deploy job that enough distinct people other than the author approved it."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platform_lib.commands import common
from platform_lib.commands.github_common import (
    add_common,
    checked_project,
    new_client,
    optional_settings,
    platform_repo,
    tenant_target,
)
from platform_lib.errors import UsageError
from platform_lib.github import approvals, gates
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.errors import ApprovalRefused, Forbidden, RateLimited, Unprocessable
from platform_lib.github.follow import waiting_runs
from platform_lib.github.render import gate_lines, gates_text
from platform_lib.github.settings import deploy_after, load_manifest
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings
from platform_lib.models.windows import DeployWindows
from platform_lib.planning.windows import effective_windows, windows_state


def _gates(args: argparse.Namespace) -> list[approvals.Gate]:
    settings = optional_settings(args)
    repo = platform_repo(args, settings)
    waiting = waiting_runs(new_client(), repo)
    found = approvals.gates(waiting, deploy_after(settings))
    return _with_windows(common.root(args), settings, found, datetime.now(UTC))


def _with_windows(
    root: Path, settings: PlatformSettings | None, found: list[approvals.Gate], now: datetime
) -> list[approvals.Gate]:
    """Each gate with its project's deployment windows at `now`, where it has some."""
    if settings is None:
        return found
    out = []
    for gate in found:
        manifest = load_manifest(root, gate.projects[0]) if len(gate.projects) == 1 else None
        windows: tuple[DeployWindows, ...] = ()
        if gate.environment in settings.environments:
            windows = effective_windows(settings, manifest or ProjectManifest(), gate.environment)
        out.append(replace(gate, window=windows_state(windows, now)) if windows else gate)
    return out


def cmd_pending(args: argparse.Namespace) -> int:
    project = checked_project(args.project) if args.project else None
    found = approvals.matching(_gates(args), project, args.env)
    if args.format == "json":
        print(json.dumps([g.as_dict() for g in found], indent=2, sort_keys=True))
    else:
        sys.stdout.write(gates_text(found))
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError("standard input is not a terminal: pass --yes to go ahead without asking")
    print(f"{question} [y/N] ", end="", flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _review(args: argparse.Namespace, state: str) -> int:
    verb = "approve" if state == "approved" else "reject"
    project = checked_project(args.project)
    settings = optional_settings(args)
    repo = platform_repo(args, settings)
    client = new_client()
    found = approvals.gates(waiting_runs(client, repo), deploy_after(settings))
    gate = approvals.choose(found, project, args.env, args.run, args.allow_shared_run)
    for line in gate_lines(gate):
        print(line)
    if state == "approved":
        _show_what_goes_out(args, gate)
    counted = (
        _approval_count(args, client, repo, settings, gate, project)
        if state == "approved"
        else None
    )
    if not args.yes and not _confirm(f"{verb} {args.env} of {', '.join(gate.projects)}?"):
        common.log("nothing done")
        return 1
    comment = args.comment or f"{state} with `python -m platform_lib github {verb}`"
    try:
        client.review_pending(repo, gate.run_id, [gate.environment_id], state, comment)
    except RateLimited:
        raise
    except (Forbidden, Unprocessable) as exc:
        raise ApprovalRefused(
            f"GitHub refused to {verb} run {gate.run_id} ({exc.status}): only a required "
            f"reviewer of {gate.github_environment} can, with their own user token "
            "(`gh auth login` as that person, or GH_TOKEN=<their token>); GitHub App and "
            "GITHUB_TOKEN tokens cannot "
            f"approve deployments [{exc}]",
            exc.status,
        ) from None
    print(
        f"{state}: {args.env} of {', '.join(gate.projects)} in run {gate.run_id} "
        f"(environment {gate.github_environment})"
    )
    tally = (min(counted[0], len(counted[1].approvers) + 1), counted[0]) if counted else None
    _announce_review(args, settings, gate, state, tally)
    if counted is not None:
        needed, done, allowed = counted
        left = max(0, needed - len(done.approvers) - 1)
        print(
            f"approvals: {needed - left} of {needed}"
            + (f"; {left} more needed, from: {', '.join(allowed) or 'nobody left'}" if left else "")
        )
    return 0


def _show_what_goes_out(args: argparse.Namespace, gate: approvals.Gate) -> None:
    """The digests and the config and env-key diff each project would get (`promote
    --preview`), read from the hosts with this machine's SSH access, before asking."""
    from platform_lib.commands.promote import what_goes_out

    root = common.root(args)
    sha = gate.head_sha or common.platform_sha(root, None)
    projects = [p for p in gate.projects if (root / "configs" / p / "project.yml").is_file()]
    if projects:
        print()
        print(what_goes_out(root, projects, gate.environment, sha, common.identity(args)))


def _announce_review(
    args: argparse.Namespace,
    settings: PlatformSettings | None,
    gate: approvals.Gate,
    state: str,
    counted: tuple[int, int] | None,
) -> None:
    """Tell the projects' notification sinks (bounded in time; never fails the review)."""
    from platform_lib.notifications.events import Review
    from platform_lib.notifications.hooks import notify_review

    try:
        actor = common.actor(None)
    except UsageError:
        actor = "unknown"
    manifests = {p: load_manifest(common.root(args), p) for p in gate.projects}
    review = Review(gate.environment, actor, state, gate.run_url, dict(gate.images),
                    args.comment, counted)  # fmt: skip
    notify_review(settings, manifests, review, common.log)


def _approval_count(
    args: argparse.Namespace,
    client: GitHubClient,
    repo: Repo,
    settings: PlatformSettings | None,
    gate: approvals.Gate,
    project: str,
) -> tuple[int, gates.Tally, list[str]] | None:
    """For a deploy needing several distinct approvers: how many it has, and who may still
    give one; refuses when this token's user already approved one of its gates (a second
    approval of the same person would release a gate and still not count)."""
    manifest = load_manifest(common.root(args), project)
    if settings is None or manifest is None or gate.environment not in settings.environments:
        return None
    needed = gates.required_approvals(settings, manifest, gate.environment)
    if needed < 2 or gate.shared:
        return None
    done = gates.tally(
        client.run_approvals(repo, gate.run_id),
        gates.gate_environments(project, gate.environment, needed),
        [],
        needed,
    )
    me = gates.login(client.me().login)
    allowed = [r for r in gates.still_allowed(gate.reviewers, done, []) if gates.login(r) != me]
    print(
        f"    approvals: {len(done.approvers)} of {needed} distinct people"
        + (f" ({', '.join(done.approvers)})" if done.approvers else "")
        + "; the author's own approval never counts"
    )
    if me in done.approvers:
        raise UsageError(
            f"you ({me}) already approved a gate of this deploy: {needed - len(done.approvers)} "
            f"more needed from other people ({', '.join(allowed) or 'none of its reviewers left'})"
        )
    return needed, done, allowed


def cmd_check_approvals(args: argparse.Namespace) -> int:
    """Before a deploy job deploys: N distinct people other than the author approved its
    gates in this run (`GET .../actions/runs/{run_id}/approvals`)."""
    settings, project, manifest = tenant_target(args)
    needed = gates.required_approvals(settings, manifest, args.env)
    where = {"project": project, "environment": args.env, "run_id": args.run}
    if needed == 0:
        print(json.dumps({**where, **gates.Tally(0, ()).as_dict()}, sort_keys=True))
        return 0
    repo = platform_repo(args, settings)
    reviews = new_client().run_approvals(repo, args.run)
    result = gates.tally(
        reviews, gates.gate_environments(project, args.env, needed), args.author, needed
    )
    print(json.dumps({**where, **result.as_dict()}, sort_keys=True))
    if result.ok:
        common.log(
            f"approved by {len(result.approvers)} of {needed}: {', '.join(result.approvers)}"
        )
        return 0
    why = (
        f"rejected by {', '.join(result.rejected_by)}"
        if result.rejected_by
        else f"{result.missing} more distinct approval(s) needed"
        + (
            f" (not counted, the author's own: {', '.join(result.by_authors)})"
            if result.by_authors
            else ""
        )
    )
    common.log(f"refused: {project} to {args.env} needs {needed} distinct approvers: {why}")
    return 1


def cmd_approve(args: argparse.Namespace) -> int:
    return _review(args, "approved")


def cmd_reject(args: argparse.Namespace) -> int:
    return _review(args, "rejected")


def _review_args(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--project", required=True)
    p.add_argument(
        "--env", default="production", help="the gated environment (default: production)"
    )
    p.add_argument("--run", type=int, metavar="ID", help="which run, when several wait")
    p.add_argument("--comment", help="the review comment GitHub records")
    p.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    p.add_argument(
        "--allow-shared-run",
        action="store_true",
        help="also release the other projects waiting in the same run",
    )


def register(gh: Any) -> None:
    p = gh.add_parser("pending", help="deploys waiting for approval and what each would deploy")
    add_common(p)
    p.add_argument("--project")
    p.add_argument("--env")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_pending)

    p = gh.add_parser("approve", help="approve a project's deploy waiting on its environment gate")
    _review_args(p)
    p.set_defaults(func=cmd_approve)

    p = gh.add_parser("reject", help="reject a project's deploy waiting on its environment gate")
    _review_args(p)
    p.set_defaults(func=cmd_reject)

    p = gh.add_parser(
        "check-approvals",
        help="before a deploy job deploys: the run's approvals of its gates come from enough "
        "distinct people, none the author (exit 1 if not)",
    )
    add_common(p)
    common.add_target(p, default_env="production")
    p.add_argument("--run", type=int, required=True, metavar="ID", help="the workflow run")
    p.add_argument(
        "--author",
        action="append",
        default=[],
        metavar="LOGIN",
        help="who asked for the deploy (the verified requester, the pusher, the run's actor): "
        "their approvals never count; repeatable",
    )
    p.set_defaults(func=cmd_check_approvals)
