"""promote: show what an environment with `deploy_after` (production) would get, as the
promotion policy decides it (the digests its source verified, the config and env-key diff
against what it runs), then deploy exactly that after confirmation; `--preview` only shows."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from platform_lib.changes import affected_projects
from platform_lib.commands import common
from platform_lib.commands.planning import add_outside_window
from platform_lib.config.envfile import parse_env_file
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.errors import PlatformError, UsageError
from platform_lib.execution.connect import Connect, Connections
from platform_lib.execution.deploy import COMMIT, Promotion, apply_decided, planned, promotion
from platform_lib.notifications.hooks import notified_deploy
from platform_lib.planning.builder import PlanRequest, find_tenant
from platform_lib.planning.promotion import Deploy, PromotionFacts, Refuse, Skip
from platform_lib.planning.promotion_preview import (
    TenantPreview,
    image_changes,
    key_changes,
    render_markdown,
)


def _at(root: Path, sha: str, path: str) -> str | None:
    """`path` as it was at commit `sha`; None when it did not exist there."""
    done = subprocess.run(["git", "-C", str(root), "show", f"{sha}:{path}"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return done.stdout if done.returncode == 0 else None


def _secrets_at(root: Path, sha: str, tenant: Tenant) -> tuple[str, ...]:
    try:
        manifest = yaml.safe_load(_at(root, sha, f"{tenant.directory}/project.yml") or "")
    except yaml.YAMLError:
        return ()
    names = manifest.get("secrets") if isinstance(manifest, dict) else None
    return tuple(str(n) for n in names) if isinstance(names, list) else ()


def preview(root: Path, tenant: Tenant, found: Promotion, head: str) -> TenantPreview:
    """What `found`'s decision sends out (the configs of commit `head`), against the configs
    the target runs now."""
    current = found.state.current
    made_from = current.platform_sha if current is not None else None
    return preview_of(root, tenant, found.facts, found.decision, made_from, head)


def preview_of(root: Path, tenant: Tenant, facts: PromotionFacts,
               decision: Deploy | Refuse | Skip, made_from: str | None,
               head: str) -> TenantPreview:  # fmt: skip
    """What `decision` sends out (the configs of commit `head`), against a target that runs
    `facts.running` (its release `facts.running_release`, made from commit `made_from`)."""
    env_path = f"{tenant.directory}/.env.{facts.environment}"
    baseline = made_from if made_from and COMMIT.fullmatch(made_from) else None
    files: tuple[str, ...] = tuple(sorted(
        path for path in (tenant.directory + "/" + name for name in ("project.yml",
                          "docker-compose.yml", f".env.{facts.environment}"))
    ))  # fmt: skip
    before: dict[str, str] | None = None
    if baseline is not None:
        try:
            changes = affected_projects(root, baseline, head.removesuffix("-dirty"))
        except PlatformError:
            baseline = None  # the commit is not in this clone: no baseline
        else:
            files = tuple(f for f in changes.files if f.startswith(f"{tenant.directory}/")
                          or f in changes.shared_changed)  # fmt: skip
            text = _at(root, baseline, env_path)
            before = parse_env_file(text, env_path).values() if text is not None else {}
    after = tenant.env_files[facts.environment].values()
    secrets_before = _secrets_at(root, baseline, tenant) if baseline else ()
    env_keys = key_changes(before, after, secrets_before, tuple(tenant.manifest.secrets))
    assert facts.source is not None
    return TenantPreview(
        project=tenant.name,
        environment=facts.environment,
        source=facts.source.environment,
        running_release=facts.running_release,
        running_platform_sha=made_from,
        decision=decision,
        images=image_changes(facts.built, facts.running, decision),
        config_baseline=baseline,
        config_files=files,
        env_keys=env_keys,
    )


def what_goes_out(root: Path, projects: Sequence[str], environment: str, platform_sha: str,
                  identity: Path | None, connect: Connect = Connections) -> str:  # fmt: skip
    """The previews of `projects` as markdown, for an approval's prompt: the policy's decision
    for the configs of `platform_sha` (the run's commit). A project whose preview cannot be
    made (not in this checkout's configs, its hosts out of reach) gets a line saying why."""
    from platform_lib.commands.config_index import tenant_config

    parts: list[str] = []
    with connect(identity) as hosts:
        for project in projects:
            try:
                config = tenant_config(root, project)
                tenant = find_tenant(config, project, environment)
                request = PlanRequest(project=project, environment=environment,
                                      now=common.clock(None), actor="preview",
                                      platform_sha=platform_sha)  # fmt: skip
                found = promotion(config, request, hosts, common.log, root)
                parts.append(render_markdown([preview(root, tenant, found, platform_sha)]))
            except PlatformError as exc:
                parts.append(f"### `{project}`\n\nwhat {environment} would get cannot be "
                             f"shown: {exc}\n")  # fmt: skip
    return "\n".join(parts)


def _confirm(args: argparse.Namespace, environment: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("not a terminal: pass --yes to promote without asking")
    return input(f"Deploy this to {environment}? [y/N] ").strip().lower() in ("y", "yes")


def cmd_promote(args: argparse.Namespace, connect: Connect = Connections) -> int:
    config: PlatformConfig = common.config(args)
    tenant = find_tenant(config, args.project, args.env)
    if config.settings.environments[args.env].deploy_after is None:
        raise UsageError(f"{args.env} deploys after no environment: nothing to promote from")
    root = common.root(args)
    request = PlanRequest(project=tenant.name, environment=args.env, now=common.clock(None),
                          actor=common.actor(args.actor),
                          platform_sha=common.platform_sha(root, None),
                          outside_window=args.outside_window)  # fmt: skip
    with connect(common.identity(args)) as hosts:
        found = promotion(config, request, hosts, common.log, root)
        shown = preview(root, tenant, found, request.platform_sha)
        if args.format == "json":
            sys.stdout.write(shown.model_dump_json(indent=2) + "\n")
        else:
            sys.stdout.write(render_markdown([shown]))
        sys.stdout.flush()
        if args.preview:
            return 0
        plan = planned(config, request, found)  # a refusal or nothing to deploy raises here
        if not _confirm(args, args.env):
            print("nothing done")
            return 1

        notified_deploy(
            config, request,
            lambda: apply_decided(found, plan, hosts, os.environ, common.log), common.log,
        )  # fmt: skip
    common.log(f"promoted {tenant.name} to {args.env}: release {plan.release}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("promote", help="show what production would change to, then deploy it")
    common.add_root(p)
    common.add_target(p, default_env="production", env_help="the environment to promote into")
    p.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    p.add_argument("--preview", action="store_true",
                   help="only show what would go out (exit 0), never ask or deploy")  # fmt: skip
    p.add_argument("--format", choices=["markdown", "json"], default="markdown",
                   help="how the preview is shown (json: a TenantPreview)")  # fmt: skip
    p.add_argument("--actor", help="who promotes (default: $GITHUB_ACTOR or $USER)")
    add_outside_window(p)
    common.add_identity(p)
    p.set_defaults(func=cmd_promote)
