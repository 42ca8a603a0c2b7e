"""Argument helpers shared by the commands: where the repo is, who acts, when, with what key.

Import-light on purpose (the config loader is imported when a config is read): a deploy opens
its SSH connection before the heavy imports, so the two overlap (commands/deploying.py)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from platform_lib.errors import UsageError
from platform_lib.processes import ProgramFailed, run_program

if TYPE_CHECKING:
    from platform_lib.config.loader import PlatformConfig

ACTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


def add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", help="platform repository (default: $PLATFORM_ROOT or .)")


def add_target(
    parser: argparse.ArgumentParser,
    env_required: bool = True,
    default_env: str | None = None,
    env_help: str | None = None,
) -> None:
    """`--project` and `--env` (required, unless `default_env` or not `env_required`)."""
    parser.add_argument("--project", required=True)
    required = env_required and default_env is None
    parser.add_argument("--env", required=required, default=default_env, help=env_help)


def add_identity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--identity",
        metavar="KEY_FILE",
        help="SSH private key (default: $PLATFORM_SSH_KEY, else ssh's own)",
    )


def root(args: argparse.Namespace) -> Path:
    return Path(args.root or os.environ.get("PLATFORM_ROOT") or ".").resolve()


def config(args: argparse.Namespace) -> PlatformConfig:
    """The config a command acts on: with `--project`, that tenant's alone (`tenant_config`);
    else every tenant's, validated as `validate` does (unchanged compose files' schema answers
    from the cache)."""
    if getattr(args, "project", None):
        return tenant_config(args)
    from platform_lib.commands.config_index import all_tenants_config

    return all_tenants_config(root(args))


def tenant_config(args: argparse.Namespace) -> PlatformConfig:
    """The config of `args.project` alone, validated completely and checked against the other
    tenants' claims (commands/config_index.py): enough to act on that tenant alone."""
    from platform_lib.commands.config_index import tenant_config

    return tenant_config(root(args), args.project)


def targets(config: PlatformConfig, project: str | None, env: str | None) -> list[tuple[str, str]]:
    """(project, environment) of every deployment, or of those `project`/`env` select."""
    if project is not None and project not in config.tenants:
        raise UsageError(f"unknown project {project!r}")
    return [
        (name, environment)
        for name in sorted(config.tenants)
        if project in (None, name)
        for environment in config.environments_of(config.tenants[name])
        if env in (None, environment)
    ]


def identity(args: argparse.Namespace) -> Path | None:
    value = getattr(args, "identity", None) or os.environ.get("PLATFORM_SSH_KEY")
    return Path(value) if value else None


def clock(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--at {value!r}: expected an ISO time, e.g. 2026-01-31T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(f"--at {value!r}: give a time zone, e.g. a trailing Z for UTC")
    return moment


def actor(value: str | None) -> str:
    name = value or os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "unknown"
    if not ACTOR.fullmatch(name):
        raise UsageError(f"actor {name!r}: use letters, digits and . _ @ + -")
    return name


def platform_sha(repo: Path, value: str | None) -> str:
    if value:
        return value
    try:
        head = run_program(["git", "-C", str(repo), "rev-parse", "HEAD"])
        if head.exit_code != 0:
            return "unknown"
        dirty = run_program(["git", "-C", str(repo), "status", "--porcelain", "--", "configs"])
    except ProgramFailed:
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def image_overrides(values: list[str]) -> dict[str, str]:
    images: dict[str, str] = {}
    for value in values:
        service, sep, ref = value.partition("=")
        if not sep or not service or not ref:
            raise UsageError(f"--image {value!r}: expected SERVICE=REF, e.g. backend=v1.2.3")
        if service in images:
            raise UsageError(f"--image given twice for {service!r}")
        images[service] = ref
    return images


def log(line: str) -> None:
    """Progress for people: stderr, unbuffered, so a watcher sees each step as it happens."""
    print(line, file=sys.stderr, flush=True)
