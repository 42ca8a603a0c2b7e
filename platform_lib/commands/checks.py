"""validate, schema, changed: commands about the repository itself."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from platform_lib.changes import affected_projects, render_changes
from platform_lib.commands.common import add_root, root
from platform_lib.report import render_problems
from platform_lib.schema_gen import stale_schemas, write_schemas


def cmd_validate(args: argparse.Namespace) -> int:
    from platform_lib.commands.config_index import validate_all

    problems = validate_all(root(args))
    sys.stdout.write(render_problems(problems, args.format))
    if args.format == "text":
        count = len(problems)
        print(f"{count} problem(s) found" if count else "configs are valid", file=sys.stderr)
    return 1 if problems else 0


def cmd_changed(args: argparse.Namespace) -> int:
    print(render_changes(affected_projects(root(args), args.base, args.head), args.format))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    repo = root(args)
    if args.write:
        for path in write_schemas(repo):
            print(f"wrote {path}")
        return 0
    stale = stale_schemas(repo)
    for path in stale:
        print(f"{path} is out of date: run python -m platform_lib schema --write", file=sys.stderr)
    return 1 if stale else 0


def register(sub: Any) -> None:
    p = sub.add_parser("validate", help="check every config file; all problems with locations")
    add_root(p)
    p.add_argument("--format", choices=["text", "json", "github"], default="text")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("changed", help="projects affected by a git range of the platform repo")
    add_root(p)
    p.add_argument("--base", required=True)
    p.add_argument("--head", required=True)
    p.add_argument("--format", choices=["json", "matrix", "text"], default="json")
    p.set_defaults(func=cmd_changed)

    p = sub.add_parser("schema", help="check (default) or --write the files generated from models")
    add_root(p)
    p.add_argument("--write", action="store_true")
    p.add_argument("--check", action="store_true", help="the default: exit 1 if out of date")
    p.set_defaults(func=cmd_schema)
