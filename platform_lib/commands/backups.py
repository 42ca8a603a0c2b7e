"""backups, restore: the backups taken before each switch, and bringing one back."""

from __future__ import annotations

import argparse
import json
from typing import Any

from platform_lib.commands import common
from platform_lib.config.platform_vars import compose_project
from platform_lib.errors import UsageError
from platform_lib.execution.connect import Connect, Connections
from platform_lib.execution.host_ops import run_host_op
from platform_lib.models.project import Backup
from platform_lib.planning import host_ops
from platform_lib.planning.builder import base_dir, find_tenant, target_host


def cmd_backups(args: argparse.Namespace, connect: Connect = Connections) -> int:
    config = common.config(args)
    tenant = find_tenant(config, args.project, args.env)
    operation = host_ops.backups(base_dir(config, args.project, args.env))
    with connect(common.identity(args)) as hosts:
        backups = run_host_op(hosts.to(target_host(config, tenant, args.env)), operation,
                              common.log)  # fmt: skip
    if args.format == "json":
        print(json.dumps([b.model_dump(mode="json") for b in backups], indent=2, sort_keys=True))
        return 0
    if not backups:
        print(f"{args.project}/{args.env}: no backups on the host")
    for backup in backups:
        record = backup.record
        checked = (
            f"{record.kind:<7}  sha256 {record.sha256}  taken {record.taken_at}"
            if record is not None
            else "no checksum record: cannot be restored"
        )
        print(f"{backup.backup}  {backup.bytes:>12,} bytes  {checked}")
    return 0


def _backup_for(backups: list[Backup], file: str) -> Backup:
    name = file.split(".", 1)[0]
    for backup in backups:
        if backup.name == name:
            return backup
    known = ", ".join(b.name for b in backups) or "none"
    raise UsageError(f"no backup hook named {name!r} in project.yml (hooks: {known})")


def cmd_restore(args: argparse.Namespace, connect: Connect = Connections) -> int:
    config = common.config(args)
    tenant = find_tenant(config, args.project, args.env)
    release, sep, file = args.backup.partition("/")
    if not sep or "/" in file or not release or not file:
        raise UsageError(f"--backup {args.backup!r}: expected RELEASE/FILE as `backups` lists")
    operation = host_ops.restore(
        base_dir(config, args.project, args.env), (release, file),
        _backup_for(tenant.manifest.backups, file), compose_project(args.project, args.env),
        config.settings.proxy, config.settings.timeouts, common.actor(args.actor),
    )  # fmt: skip
    with connect(common.identity(args)) as hosts:
        run_host_op(hosts.to(target_host(config, tenant, args.env)), operation, common.log)
    common.log(f"restored {args.backup} into {args.project}/{args.env}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("backups", help="list the backups kept on the host, newest first")
    common.add_root(p)
    common.add_target(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    common.add_identity(p)
    p.set_defaults(func=cmd_backups)

    p = sub.add_parser(
        "restore", help="bring a backup back, once its sha256 matches (under the lock)"
    )
    common.add_root(p)
    common.add_target(p)
    p.add_argument("--backup", required=True, metavar="RELEASE/FILE", help="as `backups` lists")
    p.add_argument("--actor", help="who restores (default: $GITHUB_ACTOR or $USER)")
    common.add_identity(p)
    p.set_defaults(func=cmd_restore)
