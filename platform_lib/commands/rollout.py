"""rollout status|promote|abort: the canary rollout in progress on a tenant+environment's
host. promote and abort ask the deploy running it (which holds the lock) to finish it now, or
to put every request back on the previous release; that deploy acts on it at once (it wakes on
the request). `rollback` during a warm period asks the same, in the round trip that reads the
host's state (`warm_rollback`)."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from platform_lib.commands import common
from platform_lib.config.loader import PlatformConfig
from platform_lib.errors import PlatformError
from platform_lib.execution.connect import Connect, Connections
from platform_lib.execution.host_ops import run_host_op
from platform_lib.execution.host_state import read_state
from platform_lib.models.host_state import HostState
from platform_lib.models.records import RolloutState
from platform_lib.planning import host_ops
from platform_lib.planning.builder import base_dir, find_tenant, target_host
from platform_lib.transport.base import Transport

POLL = 0.2
"""Seconds between two reads of the host while waiting for the rollout's deploy to end."""


def _transport(config: PlatformConfig, project: str, env: str, hosts: Connections) -> Transport:
    return hosts.to(target_host(config, find_tenant(config, project, env), env))


def rollout_state(transport: Transport, base: str) -> RolloutState | None:
    return read_state(transport, base, common.log).rollout


def wait_unlocked(transport: Transport, base: str, wait: float) -> HostState | None:
    """The host's state once the deploy running the rollout has let the lock go (at most
    `wait` seconds); None if it still holds it."""
    deadline = time.monotonic() + wait
    while True:
        state = read_state(transport, base, common.log)
        if state.lock is None:
            return state
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL)


def ask(transport: Transport, base: str, action: str, wait: float) -> RolloutState | None:
    """Ask the rollout to `promote` or `abort`, then wait (at most `wait` seconds) until the
    deploy running it has acted and let the lock go; the rollout state if it still runs."""
    run_host_op(transport, host_ops.canary_ask(base, action, common.actor(None)), common.log)
    if wait_unlocked(transport, base, wait) is not None:
        return None
    return rollout_state(transport, base)


def warm_rollback(
    config: PlatformConfig, project: str, env: str, hosts: Connections, actor: str
) -> HostState | None:
    """`rollback` to the previous release, in one round trip when a release's previous one is
    kept warm: the deploy in its warm period is asked to go back to the warm containers in one
    reload, and this waits until it is done (None). Otherwise the host's state, which the plain
    rollback plans from: no warm period was running, or it ended before its deploy saw the
    request (the rolled-out release is still current)."""
    transport = _transport(config, project, env, hosts)
    base = base_dir(config, project, env)
    answer = run_host_op(transport, host_ops.canary_rollback(base, actor), common.log)
    rollout = answer.state.rollout
    if not answer.asked or rollout is None:
        return answer.state
    common.log(f"{project}/{env}: release {rollout.release} is in its warm period: back to the "
               "warm previous release")  # fmt: skip
    state = wait_unlocked(transport, base, config.settings.timeouts.health + 60)
    if state is None:
        raise PlatformError("the rollout did not end in time; see history and status")
    if state.current_release == rollout.release:
        common.log(f"{project}/{env}: its warm period ended first: rolling back as usual")
        return state
    return None


def cmd_rollout(args: argparse.Namespace, connect: Connect = Connections) -> int:
    config = common.config(args)
    base = base_dir(config, args.project, args.env)
    with connect(common.identity(args)) as hosts:
        transport = _transport(config, args.project, args.env, hosts)
        state = rollout_state(transport, base)
        if args.action == "status":
            if args.format == "json":
                print(json.dumps(state.model_dump(mode="json") if state else None, indent=2,
                                 sort_keys=True))  # fmt: skip
            else:
                print(describe(args.project, args.env, state))
            return 0
        if state is None:
            raise PlatformError(f"{args.project}/{args.env}: no rollout is in progress")
        left = ask(transport, base, args.action, config.settings.timeouts.health + 60)
    if left is not None:
        raise PlatformError("the rollout did not end in time; see history and status")
    done = "finished" if args.action == "promote" else "stopped: the previous release serves"
    common.log(f"{args.project}/{args.env}: rollout of {state.release} {done}")
    return 0


def describe(project: str, env: str, state: RolloutState | None) -> str:
    if state is None:
        return f"{project}/{env}: no rollout in progress"
    lines = [f"{project}/{env}: rolling out {state.release}: {state.phase}, {state.weight}% "
             f"on the new release since {state.since}"]  # fmt: skip
    for d in state.decisions:
        why = f": {d.reason}" if d.reason else ""
        lines.append(
            f"    {d.service} {d.step} ({d.weight}%): {d.verdict}{why}"
            f"  [new {d.new.failures}/{d.new.requests} failed, p99 {d.new.p99_ms}ms; old "
            f"{d.old.failures}/{d.old.requests}, p99 {d.old.p99_ms}ms]"
        )
    return "\n".join(lines)


def register(sub: Any) -> None:
    p = sub.add_parser("rollout", help="the canary rollout in progress: status, promote, abort")
    p.add_argument("action", choices=["status", "promote", "abort"])
    common.add_root(p)
    common.add_target(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    common.add_identity(p)
    p.set_defaults(func=cmd_rollout)
