"""The plan for people: what will change, where, and in which order."""

from __future__ import annotations

from platform_lib.config.resource_limits import describe
from platform_lib.models.plan import Plan


def render_summary(plan: Plan) -> str:
    host = plan.host
    where = f"{host.user}@{host.address}:{host.port}" if host.kind == "ssh" else "this machine"
    current = "unknown (no facts given)"
    if plan.facts is not None:
        current = plan.facts.current_release or "nothing deployed yet"
    lines = [
        f"Plan {plan.id[:12]} for {plan.project}/{plan.environment}",
        f"  host      {host.name} ({where})",
        f"  release   {plan.release} (current: {current})",
        f"  compose   project {plan.compose_project} in {plan.base_dir}",
    ]
    width = max((len(s) for s in plan.images), default=0)
    running = plan.facts.current_images if plan.facts is not None else {}
    for service, ref in sorted(plan.images.items()):
        change = ""
        if service in running:
            change = "  (unchanged)" if running[service] == ref else f"  (now {running[service]})"
        lines.append(f"  image     {service.ljust(width)}  {ref}{change}")
    lines.append(f"  domains   {', '.join(plan.domains) or 'none (not routed)'}")
    lines.append(
        f"  secrets   {', '.join(plan.secrets) or 'none'} "
        "(names only; values come from the deploy environment)"
    )
    if plan.credentials:
        lines.append(
            f"  platform  {', '.join(plan.credentials)} (the platform's; not the tenant's)"
        )
    if plan.window_override is not None:
        override = plan.window_override
        lines.append(
            f"  WINDOW    closed ({override.closed_by}; opens {override.next_open or 'never'}): "
            f"deploying anyway, because: {override.reason}"
        )
    lines += [
        f"  GRANT     {g.rule}{f' for {g.service}' if g.service else ''}: {g.reason}"
        for g in plan.grants
    ]
    width = max((len(s) for s in plan.limits), default=0)
    lines += [
        f"  limits    {service.ljust(width)}  {describe(one)}"
        for service, one in sorted(plan.limits.items())
    ]
    lines += [
        f"  file      {f.path.rsplit('/', 1)[1]} sha256:{f.sha256[:12]} mode {f.mode}"
        for f in plan.files
    ]
    lines += rollout_lines(plan)
    lines.append("Steps:")
    lines += [
        f"  {n:>2}. {s.title}{'  (rolls back on failure)' if s.on_failure == 'rollback' else ''}"
        for n, s in enumerate(plan.steps, 1)
    ]
    lines.append("If the new release fails after the switch:")
    lines += [f"   r{n}. {s.title}" for n, s in enumerate(plan.rollback, 1)]
    return "\n".join(lines) + "\n"


def rollout_lines(plan: Plan) -> list[str]:
    """Per canary service: its steps, thresholds and warm period; what the rest gets."""
    lines = []
    for service, rollout in sorted(plan.rollouts.items()):
        steps = " -> ".join(f"{s.weight}% {s.bake}s" for s in rollout.steps)
        warm = f"warm previous {rollout.warm}s" if rollout.warm else "no warm period"
        lines.append(f"  ROLLOUT   {service}: {steps + ' -> ' if steps else ''}100%, {warm}")
        t = rollout.thresholds
        judged = [f"errors <= {t.max_error_percent:g}% (or no more than the old release)"]
        if t.max_p99_ms is not None:
            judged.append(f"p99 <= {t.max_p99_ms}ms")
        if t.max_p99_ratio is not None:
            judged.append(f"p99 <= {t.max_p99_ratio:g}x the old release's")
        lines.append(f"            judged on {', '.join(judged)}; at least {t.min_requests} "
                     "requests, else the step fails")  # fmt: skip
    if plan.rollouts and plan.facts is not None and plan.facts.current_release is None:
        lines.append("            first release: nothing to compare, everything starts at once")
    elif plan.rollouts:
        lines.append("            a first release, or an unchanged service, switches at once; "
                     "other services as without a rollout")  # fmt: skip
    return lines
