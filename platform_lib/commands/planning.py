"""plan: make (and show) the deploy plan of one project and environment: without a host, or
`--from-host`, from what the hosts run, with the promotion policy's decision (what `deploy`
would do, written to a file that `apply` then applies exactly)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platform_lib.commands import common
from platform_lib.errors import UsageError

if TYPE_CHECKING:  # imported where used: `deploy` reuses this module's inputs and stays light
    from platform_lib.models.plan import Plan, ServerFacts
    from platform_lib.planning.builder import PlanRequest


def _facts(path: str | None) -> ServerFacts | None:
    from platform_lib.models.plan import ServerFacts

    if path is None:
        return None
    try:
        return ServerFacts.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--facts {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"--facts {path}: not a facts file ({exc})") from None


def plan_request(args: argparse.Namespace) -> PlanRequest:
    from platform_lib.planning.builder import PlanRequest

    return PlanRequest(
        project=args.project,
        environment=args.env,
        now=common.clock(getattr(args, "at", None)),
        actor=common.actor(args.actor),
        platform_sha=common.platform_sha(common.root(args), args.platform_sha),
        images=common.image_overrides(args.image),
        facts=_facts(getattr(args, "facts", None)),
        outside_window=args.outside_window,
    )


def expected_digests(args: argparse.Namespace) -> dict[str, str] | None:
    """`--expected-digests`: a JSON object service -> sha256 digest, or None when not given."""
    text = (getattr(args, "expected_digests", None) or "").strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--expected-digests: not JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(value, dict):
        raise UsageError('--expected-digests: expected a JSON object {"SERVICE": "sha256:..."}')
    for service, digest in value.items():
        if not isinstance(digest, str):
            raise UsageError(f"--expected-digests: .{service}: expected a string sha256:<64 hex>")
    return dict(value)


def _plan_from_host(args: argparse.Namespace) -> Plan:
    from platform_lib.execution.connect import Connections
    from platform_lib.execution.deploy import planned, promotion

    if getattr(args, "facts", None):
        raise UsageError("--facts and --from-host exclude each other: the host has the facts")
    config, request = common.tenant_config(args), plan_request(args)
    with Connections(common.identity(args)) as hosts:
        found = promotion(config, request, hosts, common.log, common.root(args),
                          expected_digests(args))  # fmt: skip
    if args.decision:
        _write(Path(args.decision), found.decision.model_dump_json(indent=2) + "\n")
    return planned(config, request, found)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None


def cmd_plan(args: argparse.Namespace) -> int:
    from platform_lib.planning.builder import build_plan
    from platform_lib.planning.canonical import plan_json
    from platform_lib.planning.render import render_script
    from platform_lib.planning.summary import render_summary

    if args.from_host:
        plan = _plan_from_host(args)
    elif args.decision or getattr(args, "expected_digests", None):
        raise UsageError("--decision and --expected-digests need --from-host")
    else:
        plan = build_plan(common.tenant_config(args), plan_request(args))
    renderers = {"json": plan_json, "script": render_script, "text": render_summary}
    output = renderers[args.format](plan)
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
        print(f"wrote plan {plan.id} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(output)
    return 0


def add_plan_inputs(p: argparse.ArgumentParser) -> None:
    common.add_root(p)
    common.add_target(p)
    p.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="SERVICE=REF",
        help="image of a built service: a tag, a sha256 digest or a full reference",
    )
    p.add_argument("--actor", help="who deploys (default: $GITHUB_ACTOR or $USER)")
    p.add_argument("--platform-sha", help="platform repo commit (default: git rev-parse HEAD)")
    add_outside_window(p)


def add_expected_digests(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--expected-digests",
        metavar="JSON",
        help='deploy exactly these digests or nothing: {"SERVICE": "sha256:...", ...} (what an '
        "approval showed); a refusal when the policy would deploy others",
    )


def add_outside_window(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--outside-window",
        metavar="REASON",
        help="deploy even while the environment's deployment windows are closed (an "
        "emergency); the reason is recorded in the plan and the release",
    )


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="make the deploy plan of one project and environment")
    add_plan_inputs(p)
    p.add_argument("--facts", help="JSON file of server facts (current release, verified images)")
    p.add_argument(
        "--from-host",
        action="store_true",
        help="read the facts from the hosts and let the promotion policy pick the images, as "
        "deploy does (exit 7: nothing to deploy)",
    )
    add_expected_digests(p)
    p.add_argument("--decision", metavar="FILE", help="with --from-host: write the policy's "
                   "decision (deploy, refuse or skip) to FILE as JSON")  # fmt: skip
    common.add_identity(p)
    p.add_argument("--at", help="the plan's clock, ISO 8601 with zone (default: now)")
    p.add_argument("--format", choices=["text", "json", "script"], default="text")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_plan)
