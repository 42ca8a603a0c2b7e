"""`python -m platform_lib`: parse arguments, call the library, print, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from platform_lib import __version__
from platform_lib.errors import ConfigError, PlatformError
from platform_lib.report import render_problems

# Which module of `platform_lib.commands` registers each command, in the order of `--help`,
# with the one line `--help` shows for it. Only the module of the command being run is
# imported, and none for `--help` itself: a deploy does not pay for the GitHub client's
# imports, nor `--help` for any (a test keeps this table equal to what the modules register).
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("checks", "check every config file; all problems with locations"),
    "changed": ("checks", "projects affected by a git range of the platform repo"),
    "schema": ("checks", "check (default) or --write the files generated from models"),
    "plan": ("planning", "make the deploy plan of one project and environment"),
    "deploy": ("deploying", "plan against the host's current state and apply"),
    "apply": ("deploying", "apply exactly this plan file (refused if stale)"),
    "rollback": ("deploying", "switch back to an earlier release on the host"),
    "promote": ("promote", "show what production would change to, then deploy it"),
    "rollout": ("rollout", "the canary rollout in progress: status, promote, abort"),
    "status": ("hosts", "every tenant's current release, digests and health"),
    "health": ("hosts", "every routed service's health path, checked on its host"),
    "ssh": ("hosts", "a shell (or COMMAND) on the host of a project+environment"),
    "history": ("hosts", "what happened to a tenant+environment, oldest first"),
    "lock": ("hosts", "show, or explicitly release, a tenant+environment's lock"),
    "backups": ("backups", "list the backups kept on the host, newest first"),
    "restore": ("backups", "bring a backup back, once its sha256 matches (under the lock)"),
    "proxy": ("proxy", "the edge proxy's routes on the hosts: refresh, prune"),
    "github": ("github", "notify, trigger, approve deploys on GitHub; set up environments"),
}
COMMAND_MODULES: dict[str, str] = {name: module for name, (module, _) in COMMANDS.items()}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of `command` (its module's commands), or, for anything else (`--help`, no
    command, a mistyped one), a parser that only lists the commands and imports none."""
    parser = argparse.ArgumentParser(
        prog="python -m platform_lib",
        description="Validate, plan and deploy tenant projects on shared Docker hosts.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if command in COMMAND_MODULES:
        importlib.import_module(f"platform_lib.commands.{COMMAND_MODULES[command]}").register(sub)
    else:
        for name, (_, line) in COMMANDS.items():
            sub.add_parser(name, help=line)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        sys.stdout.write(render_problems(exc.problems, "text"))
        print(f"error: {exc}; nothing was done (fix them, then run validate)", file=sys.stderr)
        return exc.exit_code
    except PlatformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
