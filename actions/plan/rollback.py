"""What a run of the Rollback Project workflow rolls back, from its workflow_dispatch inputs.

Checks the project (a folder of configs/), the environment (one of the platform settings') and
the optional release, and writes the outputs the rollback job uses: `project`, `environment`,
`release`, `approval_gates` (the JSON list of the extra approval gates a deploy of that
environment waits on, as for a deploy), `approvals` and `actor`. A rollback is gated like a
deploy of its environment: the same `<project>-<env>` GitHub environment, the same gates.

Reads GITHUB_EVENT_PATH, GITHUB_ACTOR and PLATFORM_ROOT (default: the current directory).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import gha

from platform_lib.github.gates import required_approvals
from platform_lib.github.settings import load_manifest, load_settings

PROJECT = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
RELEASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
ACTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


def main() -> int:
    root = Path(os.environ.get("PLATFORM_ROOT") or ".").resolve()
    event = json.loads(Path(os.environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    inputs = event.get("inputs") or {}
    project = str(inputs.get("project") or "").strip()
    environment = str(inputs.get("environment") or "").strip()
    release = str(inputs.get("release") or "").strip()
    actor = re.sub(r"\[bot\]$", "-bot", os.environ.get("GITHUB_ACTOR", "").strip())
    problems: list[str] = []
    settings = load_settings(root)
    manifest = load_manifest(root, project) if PROJECT.fullmatch(project) else None
    if manifest is None:
        known = sorted(p.parent.name for p in (root / "configs").glob("*/project.yml"))
        problems.append(f"project {project!r}: not a tenant (projects: {', '.join(known)})")
    names = sorted(settings.environments) if settings else []
    if environment not in names:
        problems.append(f"environment {environment!r}: choose one of {', '.join(names)}")
    if release and not RELEASE.fullmatch(release):
        problems.append(f"release {release!r}: not a release name (make history lists them)")
    if not ACTOR.fullmatch(actor):
        problems.append(f"actor {actor!r} is not a GitHub login")
    needed = 0
    if not problems and settings is not None and manifest is not None:
        needed = required_approvals(settings, manifest, environment)
    gates = list(range(1, needed)) if not problems else []
    gha.set_output("project", project if not problems else "")
    gha.set_output("environment", environment if not problems else "")
    gha.set_output("release", release if not problems else "")
    gha.set_output("approval_gates", json.dumps(gates))
    gha.set_output("approvals", str(needed))  # 0: not gated
    gha.set_output("actor", actor if not problems else "unknown")
    for problem in problems:
        gha.error(problem, title="rollback request")
    to = f"release `{release}`" if release else "the previous good release"
    lines = ["## Rollback request", "", "| | |", "|---|---|"]
    lines += [
        f"| tenant | `{project}` |",
        f"| environment | `{environment}`" + (" (waits for approval)" if needed else "") + " |",
        f"| to | {to} |",
        f"| by | `{actor}` |",
    ]
    lines += [f"| **problem** | {problem} |" for problem in problems]
    gha.add_summary("\n".join(lines))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
