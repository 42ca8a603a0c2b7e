"""status, history, lock: read (and, for a stale lock, repair) what the hosts hold."""

from __future__ import annotations

import argparse
import json
from typing import Any

from platform_lib.commands import common
from platform_lib.commands.rollout import describe as describe_rollout
from platform_lib.config.platform_vars import compose_project
from platform_lib.errors import UsageError
from platform_lib.execution.connect import Connect, Connections
from platform_lib.execution.host_ops import run_host_op
from platform_lib.models.host_state import RouteState
from platform_lib.models.records import RolloutState
from platform_lib.planning import host_ops
from platform_lib.planning.builder import base_dir, find_tenant, target_host
from platform_lib.transport.base import LineSink
from platform_lib.transport.ssh import SshTransport


def _health(containers: list[dict[str, Any]]) -> str:
    if not containers:
        return "not running"
    states = [str(c.get("Status", "")) for c in containers]
    unhealthy = sum("unhealthy" in s or not s.startswith("Up") for s in states)
    return f"{len(containers) - unhealthy}/{len(containers)} up" + (
        f", {unhealthy} not healthy" if unhealthy else ""
    )


def _route_line(route: RouteState) -> str:
    if route.mode == "tls":
        expires = route.certificate_expires or "unknown"
        return f"https://{route.domain}  certificate valid until {expires}"
    return (
        f"http://{route.domain}  HTTP only: no certificate in {route.certificate} "
        "(certbot certonly --webroot, then: python -m platform_lib proxy refresh)"
    )


def cmd_status(args: argparse.Namespace, connect: Connect = Connections) -> int:
    config = common.config(args)  # with --project, that tenant's alone
    proxy = config.settings.proxy
    rows: list[dict[str, Any]] = []
    with connect(common.identity(args)) as hosts:
        for project, env in common.targets(config, args.project, args.env):
            tenant = find_tenant(config, project, env)
            host = target_host(config, tenant, env)
            routes_dir = proxy.dir if proxy and tenant.manifest.routes else None
            operation = host_ops.facts(
                base_dir(config, project, env), compose_project(project, env), routes_dir
            )
            state = run_host_op(hosts.to(host), operation, common.log)
            containers = state.containers
            current = state.current
            rows.append({
                "project": project, "environment": env, "host": host.name,
                "release": state.current_release,
                "deployed_at": current.deployed_at if current else None,
                "actor": current.actor if current else None,
                "platform_sha": current.platform_sha if current else None,
                "window_override": (current.window_override or None) if current else None,
                "images": dict(current.digests.services) if current else {},
                "containers": [{"service": c.get("Labels", ""), "name": c.get("Names"),
                                "state": c.get("State"), "status": c.get("Status")}
                               for c in containers],
                "health": _health(containers),
                "lock": state.lock.model_dump() if state.lock else None,
                "routes": [r.model_dump() for r in state.routes],
                "rollout": state.rollout.model_dump(mode="json") if state.rollout else None,
            })  # fmt: skip
    if args.format == "json":
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    for row in rows:
        who = f" by {row['actor']} at {row['deployed_at']}" if row["release"] else ""
        print(
            f"{row['project']}/{row['environment']} on {row['host']}: "
            f"{row['release'] or 'nothing deployed'}{who}; {row['health']}"
            + (f"; LOCKED by {row['lock']['actor']}" if row["lock"] else "")
        )
        if row["window_override"]:
            print(f"    deployed outside its deployment windows: {row['window_override']}")
        for service, digest in sorted(row["images"].items()):
            print(f"    {service}: {digest}")
        for route in row["routes"]:
            print(f"    route {route['route']}: {_route_line(RouteState(**route))}")
        if row["rollout"]:
            print("    ROLLOUT IN PROGRESS: " + describe_rollout(
                row["project"], row["environment"], RolloutState(**row["rollout"])))  # fmt: skip
    return 0


def cmd_health(args: argparse.Namespace, connect: Connect = Connections) -> int:
    """Every route answering its health path, exit 1 if one does not: through the proxy on
    its host (the public route, by its Host name) when there is one, else at the service's
    container."""
    config = common.config(args)
    proxy = config.settings.proxy
    failures = 0
    quiet: LineSink = lambda _line: None  # noqa: E731 - the checks' progress is not shown
    with connect(common.identity(args)) as hosts:
        for project, env in common.targets(config, args.project, args.env):
            tenant = find_tenant(config, project, env)
            transport = hosts.to(target_host(config, tenant, env))
            if proxy is not None and tenant.manifest.routes:
                project_name = compose_project(project, env)
                operation = host_ops.proxy_health(proxy, project_name, args.timeout)
                checked = run_host_op(transport, operation, quiet)
                failures += not checked.ok
                for line in checked.lines:
                    print(f"{line[:4]} {project}/{env} {line[5:]}")
                continue
            for route in tenant.manifest.routes:
                operation = host_ops.http_check(compose_project(project, env), route, args.timeout)
                ok = run_host_op(transport, operation, quiet).ok
                failures += not ok
                print(
                    f"{'ok  ' if ok else 'FAIL'} {project}/{env} "
                    f"{route.service}:{route.port}{route.health_path}"
                )
    return 1 if failures else 0


def cmd_ssh(args: argparse.Namespace) -> int:
    config = common.config(args)
    tenant = find_tenant(config, args.project, args.env)
    host = target_host(config, tenant, args.env)
    if host.kind != "ssh":
        raise UsageError(f"{args.project}/{args.env} runs on this machine ({host.name})")
    transport = SshTransport(host, common.identity(args))
    try:
        return transport.interactive(args.command)
    finally:
        transport.close()


def cmd_history(args: argparse.Namespace, connect: Connect = Connections) -> int:
    config = common.config(args)
    tenant = find_tenant(config, args.project, args.env)
    operation = host_ops.history(base_dir(config, args.project, args.env))
    with connect(common.identity(args)) as hosts:
        events = run_host_op(hosts.to(target_host(config, tenant, args.env)), operation,
                             common.log)  # fmt: skip
    if args.format == "json":
        print(json.dumps([e.model_dump(mode="json") for e in events], indent=2, sort_keys=True))
        return 0
    for event in events:
        step = f" at step {event.step}" if event.step else ""
        reason = f": {event.reason}" if event.reason else ""
        gone = " (its client had disconnected: see logs/)" if event.client_disconnected else ""
        checksum = f" (sha256 {event.sha256})" if event.sha256 else ""
        what = f"backup {event.backup}{checksum} into " if event.backup else ""
        override = (
            f"  OUTSIDE ITS WINDOWS: {event.window_override}" if event.window_override else ""
        )
        print(
            f"{event.at}  {event.event} {event.outcome}  {what}{event.release or '-'}  "
            f"by {event.actor or 'unknown'}{step}{reason}{gone}{override}"
        )
    return 0


def cmd_lock(args: argparse.Namespace, connect: Connect = Connections) -> int:
    config = common.config(args)
    tenant = find_tenant(config, args.project, args.env)
    base = base_dir(config, args.project, args.env)
    with connect(common.identity(args)) as hosts:
        transport = hosts.to(target_host(config, tenant, args.env))
        if args.action == "release":
            run_host_op(transport, host_ops.lock_break(base, common.actor(None)), common.log)
            return 0
        state = run_host_op(transport, host_ops.facts(base), common.log)
    if state.lock is None:
        print(f"{args.project}/{args.env}: not locked")
    else:
        lock = state.lock
        print(
            f"{args.project}/{args.env}: locked by {lock.actor} since {lock.started} for "
            f"release {lock.release} (plan {lock.plan[:12]}, pid {lock.pid})"
        )
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="every tenant's current release, digests and health")
    common.add_root(p)
    p.add_argument("--project")
    p.add_argument("--env")
    p.add_argument("--format", choices=["text", "json"], default="text")
    common.add_identity(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("health", help="every routed service's health path, checked on its host")
    common.add_root(p)
    p.add_argument("--project")
    p.add_argument("--env")
    p.add_argument("--timeout", type=int, default=5, help="seconds per check")
    common.add_identity(p)
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("ssh", help="a shell (or COMMAND) on the host of a project+environment")
    common.add_root(p)
    common.add_target(p)
    common.add_identity(p)
    p.add_argument("command", nargs="*", help="run this instead of a shell")
    p.set_defaults(func=cmd_ssh)

    p = sub.add_parser("history", help="what happened to a tenant+environment, oldest first")
    common.add_root(p)
    common.add_target(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    common.add_identity(p)
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("lock", help="show, or explicitly release, a tenant+environment's lock")
    p.add_argument("action", choices=["status", "release"])
    common.add_root(p)
    common.add_target(p)
    common.add_identity(p)
    p.set_defaults(func=cmd_lock)
