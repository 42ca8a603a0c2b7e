"""proxy: the edge proxy's files on the hosts, outside of deploys. `refresh` installs the
current releases' routes again: a new certificate switches its route to HTTPS, and upstreams
follow the containers' addresses (which a Docker engine may hand out anew when it restarts).
`prune` takes out the routes of tenants no longer in configs/ (or no longer on that host)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from platform_lib.commands import common
from platform_lib.config.loader import PlatformConfig
from platform_lib.config.platform_vars import compose_project
from platform_lib.errors import UsageError
from platform_lib.execution.connect import Connect, Connections, connection_key
from platform_lib.execution.host_ops import run_host_op
from platform_lib.models.plan import TargetHost
from platform_lib.models.settings import Proxy
from platform_lib.planning import host_ops
from platform_lib.planning.builder import base_dir, host_target, target_host


def _proxy(config: PlatformConfig) -> Proxy:
    if config.settings.proxy is None:
        raise UsageError("configs/platform.yml has no proxy: section; there is nothing to manage")
    return config.settings.proxy


def cmd_refresh(args: argparse.Namespace, connect: Connect = Connections) -> int:
    config = common.config(args)
    proxy = _proxy(config)
    actor = common.actor(None)
    rows: list[dict[str, Any]] = []
    with connect(common.identity(args)) as hosts:
        for name, env in common.targets(config, args.project, args.env):
            tenant = config.tenants[name]
            if not tenant.manifest.routes:
                continue
            operation = host_ops.proxy_refresh(base_dir(config, name, env),
                                               compose_project(name, env), proxy,
                                               config.settings.timeouts, actor)  # fmt: skip
            done = run_host_op(hosts.to(target_host(config, tenant, env)), operation, common.log)
            rows.append({"project": name, "env": env, **done.model_dump(mode="json")})
    if args.format == "json":
        print(json.dumps(rows, indent=2, sort_keys=True))
    return 0


def placed_projects(config: PlatformConfig) -> list[tuple[TargetHost, list[str]]]:
    """Every host of the settings with the compose projects placed on it (hosts reached the
    same way count once: one machine may serve several environments)."""
    hosts: dict[tuple[str, str | None, int, str], tuple[TargetHost, list[str]]] = {}
    for env in config.settings.environments.values():
        for name, host in env.hosts.items():
            target = host_target(name, host)
            hosts.setdefault(connection_key(target), (target, []))
    for project, env_name in common.targets(config, None, None):
        target = target_host(config, config.tenants[project], env_name)
        hosts[connection_key(target)][1].append(compose_project(project, env_name))
    return list(hosts.values())


def cmd_prune(args: argparse.Namespace, connect: Connect = Connections) -> int:
    config = common.config(args)
    proxy = _proxy(config)
    with connect(common.identity(args)) as hosts:
        for target, keep in placed_projects(config):
            operation = host_ops.proxy_prune(proxy, keep, args.dry_run)
            stale = run_host_op(hosts.to(target), operation, common.log)
            verb = "would remove" if args.dry_run else "removed"
            for project in stale:
                print(f"{target.name}: {verb} the routes of {project}")
            if not stale:
                print(f"{target.name}: no stale routes")
    return 0


def register(sub: Any) -> None:
    top = sub.add_parser("proxy", help="the edge proxy's routes on the hosts: refresh, prune")
    actions = top.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser(
        "refresh", help="install current routes again (after certbot, or a host's restart)"
    )
    common.add_root(p)
    p.add_argument("--project", help="only this tenant (default: every tenant)")
    p.add_argument("--env", help="only this environment (default: every one)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="json: what each refresh did, with its project and env")  # fmt: skip
    common.add_identity(p)
    p.set_defaults(func=cmd_refresh)

    p = actions.add_parser("prune", help="take out routes of tenants no longer placed on a host")
    common.add_root(p)
    p.add_argument("--dry-run", action="store_true", help="list them, change nothing")
    common.add_identity(p)
    p.set_defaults(func=cmd_prune)
