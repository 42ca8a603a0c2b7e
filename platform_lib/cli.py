"""`python -m platform_lib`: parse arguments, call the library, print, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from platform_lib import __version__
from platform_lib.errors import ConfigError, PlatformError
from platform_lib.report import render_problems

# Which module of `platform_lib.commands` registers each command, in the order of `--help`.
# Only the module of the command being run is imported: a deploy does not pay for the GitHub
# client's imports (a test keeps this table equal to what the modules register).
COMMAND_MODULES: dict[str, str] = {
    "validate": "checks",
    "changed": "checks",
    "schema": "checks",
    "plan": "planning",
    "deploy": "deploying",
    "apply": "deploying",
    "rollback": "deploying",
    "promote": "promote",
    "status": "hosts",
    "health": "hosts",
    "ssh": "hosts",
    "history": "hosts",
    "lock": "hosts",
    "backups": "backups",
    "restore": "backups",
    "proxy": "proxy",
    "github": "github",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of `command`'s module when it is a known one."""
    parser = argparse.ArgumentParser(
        prog="python -m platform_lib",
        description="Validate, plan and deploy tenant projects on shared Docker hosts.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else COMMAND_MODULES.values()
    for name in dict.fromkeys(names):
        importlib.import_module(f"platform_lib.commands.{name}").register(sub)
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
