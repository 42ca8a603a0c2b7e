"""`python -m platform_lib`: parse arguments, call the library, print, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from platform_lib import __version__
from platform_lib.changes import affected_projects, render_changes
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config, validate_sources
from platform_lib.errors import ConfigError, PlatformError, UsageError
from platform_lib.models.plan import Plan, ServerFacts
from platform_lib.planning.builder import PlanRequest, build_plan
from platform_lib.planning.canonical import plan_json
from platform_lib.planning.render import render_script
from platform_lib.planning.summary import render_summary
from platform_lib.report import render_problems
from platform_lib.schema_gen import stale_schemas, write_schemas

ACTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


def _root(args: argparse.Namespace) -> Path:
    return Path(args.root or os.environ.get("PLATFORM_ROOT") or ".").resolve()


def cmd_validate(args: argparse.Namespace) -> int:
    _, problems = validate_sources(read_sources(_root(args)))
    sys.stdout.write(render_problems(problems, args.format))
    if args.format == "text":
        count = len(problems)
        print(f"{count} problem(s) found" if count else "configs are valid", file=sys.stderr)
    return 1 if problems else 0


def _image_overrides(values: list[str]) -> dict[str, str]:
    images: dict[str, str] = {}
    for value in values:
        service, sep, ref = value.partition("=")
        if not sep or not service or not ref:
            raise UsageError(f"--image {value!r}: expected SERVICE=REF, e.g. backend=v1.2.3")
        if service in images:
            raise UsageError(f"--image given twice for {service!r}")
        images[service] = ref
    return images


def _facts(path: str | None) -> ServerFacts | None:
    if path is None:
        return None
    try:
        return ServerFacts.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--facts {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"--facts {path}: not a facts file ({exc})") from None


def _clock(value: str | None) -> datetime:
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


def _actor(value: str | None) -> str:
    actor = value or os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "unknown"
    if not ACTOR.match(actor):
        raise UsageError(f"actor {actor!r}: use letters, digits and . _ @ + -")
    return actor


def _platform_sha(root: Path, value: str | None) -> str:
    if value:
        return value
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    sha = done.stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--", "configs"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{sha}-dirty" if dirty else sha


def make_plan(args: argparse.Namespace) -> Plan:
    root = _root(args)
    config = load_valid_config(read_sources(root))
    request = PlanRequest(
        project=args.project,
        environment=args.env,
        now=_clock(args.at),
        actor=_actor(args.actor),
        platform_sha=_platform_sha(root, args.platform_sha),
        images=_image_overrides(args.image),
        facts=_facts(args.facts),
    )
    return build_plan(config, request)


def cmd_plan(args: argparse.Namespace) -> int:
    plan = make_plan(args)
    renderers = {"json": plan_json, "script": render_script, "text": render_summary}
    output = renderers[args.format](plan)
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
        print(f"wrote plan {plan.id} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(output)
    return 0


def cmd_changed(args: argparse.Namespace) -> int:
    changes = affected_projects(_root(args), args.base, args.head)
    print(render_changes(changes, args.format))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    root = _root(args)
    if args.write:
        for path in write_schemas(root):
            print(f"wrote {path}")
        return 0
    stale = stale_schemas(root)
    for path in stale:
        print(f"{path} is out of date: run python -m platform_lib schema --write", file=sys.stderr)
    return 1 if stale else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m platform_lib", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--root", help="platform repository (default: $PLATFORM_ROOT or .)")
        return p

    p = command("validate", "check every config file; report all problems with their location")
    p.add_argument("--format", choices=["text", "json", "github"], default="text")
    p.set_defaults(func=cmd_validate)

    p = command("plan", "make the deploy plan of one project and environment")
    p.add_argument("--project", required=True)
    p.add_argument("--env", required=True)
    p.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="SERVICE=REF",
        help="image of a built service: a tag, a sha256 digest or a full reference",
    )
    p.add_argument("--facts", help="JSON file of server facts (current release, verified images)")
    p.add_argument("--at", help="the plan's clock, ISO 8601 with zone (default: now)")
    p.add_argument("--actor", help="who deploys (default: $GITHUB_ACTOR or $USER)")
    p.add_argument("--platform-sha", help="platform repo commit (default: git rev-parse HEAD)")
    p.add_argument("--format", choices=["text", "json", "script"], default="text")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_plan)

    p = command("changed", "projects affected by a git range of the platform repo")
    p.add_argument("--base", required=True)
    p.add_argument("--head", required=True)
    p.add_argument("--format", choices=["json", "matrix", "text"], default="json")
    p.set_defaults(func=cmd_changed)

    p = command("schema", "check (default) or --write the JSON Schemas generated from the models")
    p.add_argument("--write", action="store_true")
    p.add_argument("--check", action="store_true", help="the default: exit 1 if out of date")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        sys.stdout.write(render_problems(exc.problems, "text"))
        print(f"error: {exc}; nothing was planned (fix them, then run validate)", file=sys.stderr)
        return exc.exit_code
    except PlatformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
