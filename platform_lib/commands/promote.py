"""promote: show what production would change to (staging's verified digests, the env-file
differences) and deploy it after confirmation."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from platform_lib.commands import common
from platform_lib.commands.planning import add_outside_window
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.errors import UsageError
from platform_lib.execution.connect import Connections
from platform_lib.execution.deploy import deploy
from platform_lib.execution.host_state import read_state
from platform_lib.models.host_state import HostState
from platform_lib.notifications.hooks import notified_deploy
from platform_lib.planning.builder import PlanRequest, base_dir, find_tenant, target_host


def _state(config: PlatformConfig, tenant: Tenant, env: str, hosts: Connections) -> HostState:
    transport = hosts.to(target_host(config, tenant, env))
    return read_state(transport, base_dir(config, tenant.name, env), common.log)


def promotion_lines(tenant: Tenant, source: str, target: str, source_state: HostState,
                    target_state: HostState) -> list[str]:  # fmt: skip
    """What changes in `target` when it takes `source`'s verified release: pure, for people."""
    verified = source_state.current.digests.services if source_state.current else {}
    running = target_state.current.digests.services if target_state.current else {}
    lines = [f"{tenant.name}: {target} takes the images {source} verified "
             f"(release {source_state.current_release or 'none'})"]  # fmt: skip
    for service in sorted(tenant.manifest.images):
        new, old = verified.get(service, "(none verified)"), running.get(service, "(not running)")
        lines.append(f"  {service}: {old} -> {new}" if new != old else f"  {service}: unchanged")
    ours, theirs = tenant.env_files[target].values(), tenant.env_files[source].values()
    lines.append(f"  settings that differ ({target} keeps its own .env.{target}):")
    differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    lines += [f"    {k}: {source}={theirs.get(k, '(unset)')!r} {target}={ours.get(k, '(unset)')!r}"
              for k in differ] or ["    none"]  # fmt: skip
    return lines


def cmd_promote(args: argparse.Namespace) -> int:
    config = common.config(args)
    tenant = find_tenant(config, args.project, args.env)
    source = config.settings.environments[args.env].deploy_after
    if source is None:
        raise UsageError(f"{args.env} deploys after no environment: nothing to promote from")
    request = PlanRequest(project=tenant.name, environment=args.env, now=common.clock(None),
                          actor=common.actor(args.actor),
                          platform_sha=common.platform_sha(common.root(args), None),
                          outside_window=args.outside_window)  # fmt: skip
    with Connections(common.identity(args)) as hosts:
        source_state = _state(config, tenant, source, hosts)
        target_state = _state(config, tenant, args.env, hosts)
        for line in promotion_lines(tenant, source, args.env, source_state, target_state):
            print(line)
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("not a terminal: pass --yes to promote without asking")
            if input(f"Deploy this to {args.env}? [y/N] ").strip().lower() not in ("y", "yes"):
                print("nothing done")
                return 1
        plan = notified_deploy(
            config, request, lambda: deploy(config, request, hosts, os.environ, common.log),
            common.log,
        )  # fmt: skip
    common.log(f"promoted {tenant.name} to {args.env}: release {plan.release}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("promote", help="show what production would change to, then deploy it")
    common.add_root(p)
    p.add_argument("--project", required=True)
    p.add_argument("--env", default="production", help="the environment to promote into")
    p.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    p.add_argument("--actor", help="who promotes (default: $GITHUB_ACTOR or $USER)")
    add_outside_window(p)
    common.add_identity(p)
    p.set_defaults(func=cmd_promote)
