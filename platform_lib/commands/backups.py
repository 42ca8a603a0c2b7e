"""backups, restore: the backups taken before each switch, and bringing one back."""

from __future__ import annotations

import argparse
import json
from typing import Any

from platform_lib.commands import common
from platform_lib.config.platform_vars import compose_project
from platform_lib.errors import UsageError
from platform_lib.execution.connect import Connections
from platform_lib.execution.host_state import read_backups, run_operation
from platform_lib.models.project import Backup
from platform_lib.planning.builder import base_dir, find_tenant, target_host


def cmd_backups(args: argparse.Namespace) -> int:
    config = common.config(args)
    tenant = find_tenant(config, args.project, args.env)
    with Connections(common.identity(args)) as hosts:
        backups = read_backups(hosts.to(target_host(config, tenant, args.env)),
                               base_dir(config, args.project, args.env), common.log)  # fmt: skip
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


def cmd_restore(args: argparse.Namespace) -> int:
    config = common.config(args)
    tenant = find_tenant(config, args.project, args.env)
    release, sep, file = args.backup.partition("/")
    if not sep or "/" in file or not release or not file:
        raise UsageError(f"--backup {args.backup!r}: expected RELEASE/FILE as `backups` lists")
    backup = _backup_for(tenant.manifest.backups, file)
    target = (
        ("pg_dump", backup.service, backup.database, backup.user)
        if backup.kind == "pg_dump"
        else ("volume", backup.volume)
    )
    timeouts, proxy = config.settings.timeouts, config.settings.proxy
    via = (proxy.dir, proxy.nginx_conf, proxy.pid_file) if proxy is not None else ("", "", "")
    argv = ("platform_restore", base_dir(config, args.project, args.env), release, file,
            str(timeouts.lock_wait), str(timeouts.lock_expiry),
            compose_project(args.project, args.env), *via, *target)  # fmt: skip
    with Connections(common.identity(args)) as hosts:
        run_operation(hosts.to(target_host(config, tenant, args.env)), argv, common.log,
                      actor=common.actor(args.actor))  # fmt: skip
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
