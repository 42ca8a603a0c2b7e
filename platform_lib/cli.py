"""`python -m platform_lib`: parse arguments, call the library, print, map errors to exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from platform_lib import __version__
from platform_lib.commands import backups, checks, deploying, hosts, planning, promote
from platform_lib.commands import github as github_commands
from platform_lib.errors import ConfigError, PlatformError
from platform_lib.report import render_problems


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m platform_lib",
        description="Validate, plan and deploy tenant projects on shared Docker hosts.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (checks, planning, deploying, promote, hosts, backups, github_commands):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
