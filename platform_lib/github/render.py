"""Text for people about gates waiting for approval."""

from __future__ import annotations

from collections.abc import Sequence

from platform_lib.github.approvals import UNKNOWN_PROJECT, Gate
from platform_lib.planning.windows import format_instant


def gate_lines(gate: Gate) -> list[str]:
    """What approving `gate` releases, in a few indented lines after a headline."""
    when = f"{gate.created_at:%Y-%m-%d %H:%M} UTC"
    lines = [f"run {gate.run_id} ({when}): {gate.title}"]
    projects = ", ".join(p for p in gate.projects if p != UNKNOWN_PROJECT)
    where = gate.github_environment or gate.environment
    shared = " (shared by the run's tenants)" if gate.shared else ""
    lines.append(f"    {where}{shared} waits to deploy: {projects or 'unknown projects'}")
    if gate.images:
        for service, ref in sorted(gate.images.items()):
            lines.append(f"    image {service}: {ref}")
    elif gate.verified_in:
        lines.append(f"    images: the digests {gate.verified_in} verified in this run")
    for project, outcome in sorted(gate.before.items()):
        mark = "" if outcome == "success" else "  <- not verified"
        lines.append(f"    {gate.verified_in}: {project} {outcome}{mark}")
    reviewers = ", ".join(gate.reviewers) or "none listed"
    can = "yes" if gate.can_approve else "no (not a required reviewer's user token)"
    lines.append(f"    reviewers: {reviewers}; this token can approve: {can}")
    window = gate.window
    if window is not None and not window.open:
        opens = format_instant(window.next_open, window.time_zone) if window.next_open else "never"
        lines.append(
            f"    window: closed ({window.closed_by}); opens {opens}: a deploy approved before "
            "then fails and is re-run then"
        )
    if gate.superseded_by is not None:
        lines.append(
            f"    superseded by run {gate.superseded_by}: approved, this one deploys nothing; "
            "approve that one"
        )
    lines.append(f"    {gate.run_url}")
    return lines


def gates_text(gates: Sequence[Gate]) -> str:
    if not gates:
        return "nothing waits for approval\n"
    return "".join(line + "\n" for gate in gates for line in gate_lines(gate))
