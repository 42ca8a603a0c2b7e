"""Send the deploy request (repository_dispatch `deploy`) to the platform repository with
`python -m platform_lib github notify --format json`, and output the platform run's URL as
`run-url`.

The request is what the job is for: once GitHub accepted it, the job succeeds. Finding the
run it started is best effort (a warning annotation and an empty `run-url` when the token may
not list the platform's workflow runs, Actions: read on a private repository, or the run does
not show up in time). With `wait: staging` the job follows exactly that run (by the request's
own id in its title) and fails with its staging deploy, or when it cannot see it.

Environment: PLATFORM_PYTHON runs this script; GH_TOKEN, and the checked inputs PROJECT,
IMAGES (one SERVICE=REF per line), PLATFORM_REPO, APP_SHA, WAIT. `notify` asks the runner for
an OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN) for the platform repository and sends it
in the payload; the repository and actor are the run's own. The GitHub API is
$GITHUB_API_URL, as the runner sets it.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import gha

from platform_lib.github.follow import WAIT_TIMEOUT

TITLE = "deploy request"


def report_of(stdout: str) -> dict[str, Any] | None:
    """notify's JSON report, printed once the request is sent; None when it was not."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    return report if isinstance(report, dict) and report.get("request_id") else None


def summary(report: dict[str, Any] | None, code: int) -> str:
    project, repo = os.environ.get("PROJECT", ""), os.environ.get("PLATFORM_REPO", "")
    sent = report is not None
    rows = [
        f"## Deploy request to {repo}: {'sent' if sent else '**failed**'}",
        "",
        "| | |",
        "|---|---|",
        f"| project | `{project}` |",
    ]
    for image in os.environ.get("IMAGES", "").splitlines():
        service, _, ref = image.strip().partition("=")
        if ref:
            rows.append(f"| {service} | `{ref}` |")
    source = f"{os.environ.get('GITHUB_REPOSITORY', '?')}@{os.environ.get('APP_SHA', '')}"
    rows.append(f"| from | `{source}` by `{os.environ.get('GITHUB_ACTOR', '?')}` |")
    if report is not None:
        rows.append(f"| request | `{report['request_id']}` |")
        rows.append(f"| platform run | {report.get('run_url') or 'not found'} |")
        if report.get("waited"):
            outcome = "succeeded" if code == 0 else "**failed**"
            rows.append(f"| waited for | {report['waited']}: {outcome} |")
    return "\n".join(rows)


def main() -> int:
    args = [
        "github", "notify", "--repo", os.environ.get("PLATFORM_REPO", ""),
        "--project", os.environ.get("PROJECT", ""), "--commit", os.environ.get("APP_SHA", ""),
        "--format", "json",
    ]  # fmt: skip
    for image in os.environ.get("IMAGES", "").splitlines():
        if image.strip():
            args += ["--image", image.strip()]
    wait = os.environ.get("WAIT", "").strip()
    args += ["--wait", wait] if wait else ["--run-url"]
    # notify gives up following first (WAIT_TIMEOUT); this only guards against a hang
    done = gha.platform(args, stream=True, timeout=WAIT_TIMEOUT + 600)
    report = report_of(done.stdout)
    gha.set_output("run-url", str((report or {}).get("run_url") or ""))
    gha.add_summary(summary(report, done.returncode))
    if report is None:
        gha.error(
            f"the deploy request was not sent: github notify exited {done.returncode} "
            "(see the log above)",
            title=TITLE,
        )
        return done.returncode or 1
    if report.get("warning"):
        gha.warning(str(report["warning"]), title="platform run")
    if report.get("wait_error"):
        gha.error(str(report["wait_error"]), title=f"{TITLE}: {report.get('waited')}")
        return 1
    if done.returncode != 0:
        gha.error(f"github notify exited {done.returncode} (see the log above)", title=TITLE)
        return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
