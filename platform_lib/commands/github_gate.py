"""github check-gate and notify-approval: what the deploy workflow asks of GitHub around a
gated environment. `check-gate` refuses a deploy whose environments are not protected as the
settings ask (GitHub makes an environment a job names on first use, unprotected);
`notify-approval` tells the sinks that a run waits for approval (best effort, bounded)."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from platform_lib.commands import common
from platform_lib.commands.github_common import (
    add_common,
    add_images,
    new_client,
    platform_repo,
    tenant_target,
)
from platform_lib.errors import UsageError
from platform_lib.github import environments, gates, protection
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.errors import Forbidden, GitHubError, NotFound
from platform_lib.github.models import Environment, Repository
from platform_lib.notifications import events
from platform_lib.notifications.hooks import announce, run_links
from platform_lib.notifications.sink_secrets import sink_secrets

READ_ENVIRONMENT = (
    "reading an environment needs Actions: read on a private repository (the workflow's "
    "GITHUB_TOKEN: `permissions: actions: read`; a fine-grained token or GitHub App: "
    "Actions read)"
)


def _read(client: GitHubClient, repo: Repo, name: str) -> Environment | None:
    try:
        return client.environment(repo, name)
    except NotFound:
        return None
    except Forbidden as exc:
        raise GitHubError(f"{exc} ({READ_ENVIRONMENT})", exc.status) from None


def cmd_check_gate(args: argparse.Namespace) -> int:
    """Exit 0 when every environment a deploy of the tenant to `--env` goes through exists
    with the protection the settings ask for; 1, naming what is missing, otherwise."""
    settings, project, manifest = tenant_target(args)
    repo = platform_repo(args, settings)
    wanted = [
        t for t in environments.needed(settings, {project: manifest}) if t.environment == args.env
    ]
    client = new_client()
    repository: Repository | None = None
    found: list[dict[str, Any]] = []
    for tenant in wanted:
        problems = protection.gate_problems(
            _read(client, repo, tenant.name), tenant, repo.owner, str(repo)
        )
        if problems and tenant.gated:  # say why, when GitHub's plan is the likely cause
            repository = repository or client.repository(repo)
            problems += protection.repository_warnings(repository, gated=True)
        found.append({"name": tenant.name, "gate": tenant.gate, "gated": tenant.gated,
                      "problems": problems})  # fmt: skip
    ok = not any(entry["problems"] for entry in found)
    report = {"project": project, "environment": args.env, "ok": ok, "environments": found}
    print(json.dumps(report, sort_keys=True))
    if not wanted:
        common.log(f"{project} does not deploy to {args.env}: nothing to check")
    for entry in found:
        for problem in entry["problems"]:
            common.log(f"refused: {entry['name']}: {problem}")
    if not ok:
        common.log(
            f"{project} is not deployed to {args.env}: its environments are not protected as "
            "configs/platform.yml asks; run `make setup-environments`, then re-run the job"
        )
    return 0 if ok else 1


def cmd_notify_approval(args: argparse.Namespace) -> int:
    """Announce that run `--run` waits for approval of the tenant's `--env`, to the sinks the
    settings and the tenant name (their secrets from PLATFORM_SECRETS, as actions/apply hands
    them). Never fails for a sink: exit 0 once announced or when nothing is gated."""
    settings, project, manifest = tenant_target(args)
    needed = gates.required_approvals(settings, manifest, args.env)
    report: dict[str, Any] = {"project": project, "environment": args.env, "needed": needed}
    if needed == 0:
        common.log(f"{args.env} of {project} needs no approval: nothing to announce")
        print(json.dumps({**report, "deliveries": []}, sort_keys=True))
        return 0
    try:
        available = json.loads(os.environ.get("PLATFORM_SECRETS") or "{}")
    except json.JSONDecodeError:
        raise UsageError("PLATFORM_SECRETS is not JSON: pass ${{ toJSON(secrets) }}") from None
    if not isinstance(available, dict):
        raise UsageError("PLATFORM_SECRETS is not a JSON object: pass ${{ toJSON(secrets) }}")
    environ = {k: v for k, v in os.environ.items() if k != "PLATFORM_SECRETS"}
    environ |= sink_secrets(settings, manifest, project, args.env, available,
                            ["approval.waiting"])  # fmt: skip
    repo = platform_repo(args, settings)
    links = run_links(environ, manifest.app_repository)
    server = environ.get("GITHUB_SERVER_URL") or "https://github.com"
    links = replace(links, run_url=f"{server}/{repo}/actions/runs/{args.run}")
    subject = events.Subject(project, args.env, common.actor(args.actor), links)
    event = events.waiting(subject, datetime.now(UTC), common.image_overrides(args.image), needed)
    done = announce(settings, manifest, [event], environ, common.log)
    report["deliveries"] = [
        {"sink": d.target.label, "delivered": d.delivered, "attempts": d.attempts,
         "reason": d.reason}
        for d in done
    ]  # fmt: skip
    print(json.dumps(report, sort_keys=True))
    return 0


def register(gh: Any) -> None:
    p = gh.add_parser(
        "check-gate",
        help="before deploying: the tenant's environments (and approval gates) exist with the "
        "protection the settings ask for (exit 1 naming what is missing)",
    )
    add_common(p)
    common.add_target(p, default_env="production")
    p.set_defaults(func=cmd_check_gate)

    p = gh.add_parser(
        "notify-approval",
        help="tell the notification sinks that a run waits for approval (best effort, bounded)",
    )
    add_common(p)
    common.add_target(p, default_env="production")
    p.add_argument("--event", choices=["waiting"], default="waiting",
                   help="approvals and rejections are announced by approve/reject")  # fmt: skip
    p.add_argument("--run", type=int, required=True, metavar="ID", help="the waiting run")
    p.add_argument("--actor", help="who asked for the deploy (default: $GITHUB_ACTOR)")
    add_images(p, "an image the waiting deploy would run (shown in the message)")
    p.set_defaults(func=cmd_notify_approval)
