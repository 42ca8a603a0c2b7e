"""deploy, apply, rollback: change what runs on a host.

A deploy or rollback first starts the SSH connection to the host the configs name (a hint
read from the raw YAML), then imports and validates everything else while the key exchange and
login run: the handlers import their heavy dependencies themselves, after that."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platform_lib.commands import common
from platform_lib.commands.planning import (
    add_expected_digests,
    add_plan_inputs,
    expected_digests,
    plan_request,
)
from platform_lib.errors import UsageError
from platform_lib.execution.connect import Connect, Connections
from platform_lib.execution.early_target import early_target

if TYPE_CHECKING:
    from platform_lib.models.plan import Plan


def cmd_deploy(args: argparse.Namespace, connect: Connect = Connections) -> int:
    with connect(common.identity(args)) as hosts:
        hosts.open_early(early_target(common.root(args), args.project, args.env))
        from platform_lib.execution.deploy import deploy
        from platform_lib.notifications.hooks import notified_deploy

        config, request = common.tenant_config(args), plan_request(args)
        root, expected = common.root(args), expected_digests(args)
        plan = notified_deploy(
            config, request,
            lambda: deploy(config, request, hosts, os.environ, common.log, root=root,
                           expected=expected),
            common.log,
        )  # fmt: skip
    common.log(f"deployed {plan.project}/{plan.environment}: release {plan.release}")
    return 0


def cmd_apply(args: argparse.Namespace, connect: Connect = Connections) -> int:
    from platform_lib.models.plan import Plan

    try:
        plan = Plan.model_validate_json(Path(args.plan).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{args.plan}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"{args.plan}: not a plan file ({exc})") from None
    from platform_lib.execution.apply import verify_plan

    verify_plan(plan)  # an edited plan is refused before any host is reached
    with connect(common.identity(args)) as hosts:
        if args.root is None:
            _apply(plan, hosts)
        else:  # announced to the sinks of the configs at --root, as `deploy` is
            from platform_lib.commands.config_index import tenant_config
            from platform_lib.notifications.events import Subject
            from platform_lib.notifications.hooks import notified

            def run() -> Plan:
                _apply(plan, hosts)
                return plan

            override = plan.window_override.reason if plan.window_override else None
            config = tenant_config(common.root(args), plan.project)
            notified(config, Subject(plan.project, plan.environment, plan.actor),
                     run, images=plan.images, outside_window=override,
                     log=common.log)  # fmt: skip
    common.log(
        f"applied plan {plan.id[:12]}: {plan.project}/{plan.environment} release {plan.release}"
    )
    return 0


def _apply(plan: Plan, hosts: Connections) -> None:
    from platform_lib.execution.apply import apply_plan
    from platform_lib.execution.host_state import read_state

    transport = hosts.to(plan.host)
    if plan.facts is not None:
        state = read_state(transport, plan.base_dir, common.log)
        if state.current_release != plan.facts.current_release:
            raise UsageError(
                f"stale plan: {plan.project}/{plan.environment} now runs "
                f"{state.current_release or 'nothing'}, the plan was made against "
                f"{plan.facts.current_release or 'nothing'}; make a new plan"
            )
    apply_plan(plan, transport, os.environ, common.log)


def cmd_rollback(args: argparse.Namespace, connect: Connect = Connections) -> int:
    with connect(common.identity(args)) as hosts:
        hosts.open_early(early_target(common.root(args), args.project, args.env))
        from platform_lib.commands.rollout import warm_rollback

        config, actor = common.config(args), common.actor(args.actor)
        # One round trip to the host: a warm period running is asked to go back to the warm
        # previous release at once; else its state is what the rollback plans from.
        state = None
        if args.to is None:
            state = warm_rollback(config, args.project, args.env, hosts, actor)
            if state is None:
                common.log(f"rolled back {args.project}/{args.env} to its warm previous release")
                return 0
        from platform_lib.execution.deploy import read_rollback_state, rollback
        from platform_lib.notifications.hooks import notified_rollback
        from platform_lib.planning.rollback import RollbackRequest

        if state is None:
            state = read_rollback_state(config, args.project, args.env, hosts, common.log)
        request = RollbackRequest(
            project=args.project, environment=args.env, now=common.clock(None),
            actor=actor,
            platform_sha=common.platform_sha(common.root(args), None),
            state=state, to_release=args.to,
        )  # fmt: skip
        plan = notified_rollback(
            config, request, lambda: rollback(config, request, hosts, common.log, state), common.log
        )
    common.log(f"rolled back {plan.project}/{plan.environment} to release {plan.release}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("deploy", help="plan against the host's current state and apply")
    add_plan_inputs(p)
    add_expected_digests(p)
    common.add_identity(p)
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("apply", help="apply exactly this plan file (refused if stale)")
    p.add_argument("plan", help="a plan made with: plan --format json -o FILE")
    p.add_argument("--root", help="announce it to the sinks of this platform repository's "
                   "configs, as deploy does (default: no notifications)")  # fmt: skip
    common.add_identity(p)
    p.set_defaults(func=cmd_apply)

    p = sub.add_parser("rollback", help="switch back to an earlier release on the host")
    common.add_root(p)
    common.add_target(p)
    p.add_argument("--to", metavar="RELEASE", help="default: the previous good release")
    p.add_argument("--actor", help="who rolls back (default: $GITHUB_ACTOR or $USER)")
    common.add_identity(p)
    p.set_defaults(func=cmd_rollback)
