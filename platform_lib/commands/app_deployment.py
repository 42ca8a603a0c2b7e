"""`github app-deployment`: the Deployment of a dispatched app commit in the tenant's app
repository, moved to one state (`platform_lib.github.app_deployments`). The Deploy Project
workflow runs it in thin steps: `queued` in its plan job, `in_progress` when a deploy job
starts, the job's result when it ends.

It never fails a deploy: a missing token, a refused or failing call, an event with no app
commit all end with exit 0, the problems as warnings (`--format github`: annotations)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from platform_lib.commands import common
from platform_lib.errors import PlatformError
from platform_lib.github import app_deployments as app
from platform_lib.github.client import GitHubClient
from platform_lib.github.settings import load_manifest, load_settings
from platform_lib.github.transport import DEFAULT_API_URL, Transport
from platform_lib.report import warning_annotation

MAX_WAIT = 10.0
"""Seconds a rate limit may hold the step: a deploy job does not wait long for its echo."""
TITLE = "app deployment"


def _client(token: str) -> GitHubClient:
    url = os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    return GitHubClient(Transport(SecretStr(token), url, max_wait=MAX_WAIT, timeout=15.0))


def _event(path: str) -> dict[str, Any] | app.Skip:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return app.Skip(f"--event {path}: cannot read it ({exc})", warn=True)
    if not isinstance(data, dict):
        return app.Skip(f"--event {path}: not a JSON object", warn=True)
    return data


def _state(args: argparse.Namespace) -> app.State:
    if args.state is not None:
        state: app.State = args.state
        return state
    return app.final_state(args.job_status, args.deployed)


def _run(args: argparse.Namespace, outcome: app.Outcome) -> app.Skip | None:
    """Record the state; a Skip says why nothing was sent."""
    root = common.root(args)
    path = args.event or os.environ.get("GITHUB_EVENT_PATH", "")
    event = _event(path) if path else app.Skip("no --event: no app commit")
    if isinstance(event, app.Skip):
        return event
    manifest = load_manifest(root, args.project)
    target = app.target_of(event, args.project, manifest)
    if isinstance(target, app.Skip):
        return target
    settings = load_settings(root)
    platform = settings.environments if settings is not None else args.env
    environments = app.environments_of(args.env, platform, manifest)
    if not environments:
        return app.Skip(f"{args.project} deploys to none of {', '.join(args.env)}")
    token = os.environ.get(app.TOKEN_VARIABLE, "").strip()
    if not token:
        return app.Skip(
            f"{app.TOKEN_VARIABLE} is not set: no deployment in {target.repo} (give the "
            "platform repository that secret, with Deployments: read and write on the app "
            "repositories, to show the platform's deploys there)",
            warn=True,
        )
    ids, problem = app.parse_ids(args.deployment_ids)
    if problem:
        outcome.warnings.append(problem)
    state = _state(args)
    done = app.record(
        _client(token),
        target,
        environments,
        state,
        deployment_ids=ids,
        log_url=args.log_url or app.run_url(os.environ),
        environment_url=args.environment_url,
        description=args.description,
    )
    outcome.deployment_ids.update(done.deployment_ids)
    outcome.warnings += done.warnings
    for name in done.recorded:
        common.log(f"{name} in {target.repo} at {target.sha[:12]}: {state}")
    return None


def cmd_app_deployment(args: argparse.Namespace) -> int:
    outcome = app.Outcome()
    try:
        skipped = _run(args, outcome)
    except PlatformError as exc:  # a broken config or the like: still never the deploy's failure
        skipped = app.Skip(str(exc), warn=True)
    if skipped is not None:
        (outcome.warnings.append if skipped.warn else common.log)(skipped.reason)
    ids = json.dumps(outcome.deployment_ids, sort_keys=True, separators=(",", ":"))
    if args.format == "json":
        print(json.dumps({
            "deployment_ids": outcome.deployment_ids,
            "skipped": skipped.reason if skipped else None,
            "warnings": outcome.warnings,
        }, sort_keys=True))  # fmt: skip
    else:
        for warning in outcome.warnings:
            print(warning_annotation(warning, TITLE), flush=True)
    if args.github_output:
        with Path(args.github_output).open("a", encoding="utf-8") as out:
            out.write(f"deployment_ids={ids}\n")
    return 0


def register(gh: Any) -> None:
    p = gh.add_parser(
        "app-deployment",
        help="show a dispatched deploy in the tenant's app repository (a GitHub Deployment "
        f"of the app commit); token from ${app.TOKEN_VARIABLE}; never fails (warnings)",
    )
    common.add_root(p)
    p.add_argument("--project", required=True)
    p.add_argument(
        "--env",
        action="append",
        required=True,
        metavar="ENV",
        help="a platform environment (repeatable); any the tenant does not deploy to is left out",
    )
    state = p.add_mutually_exclusive_group(required=True)
    state.add_argument("--state", choices=app.STATES)
    state.add_argument(
        "--job-status",
        choices=("success", "failure", "cancelled"),
        help="the deploy job's `job.status` at its end: success (or inactive when --deployed "
        "is not true), failure, or error when cancelled",
    )
    p.add_argument("--deployed", default="", help="actions/apply's `deployed` output")
    p.add_argument(
        "--event",
        metavar="FILE",
        help="the event (default: $GITHUB_EVENT_PATH): only a deploy request names an app commit",
    )
    p.add_argument(
        "--deployment-ids",
        default="",
        metavar="JSON",
        help='{"ENV": ID} of the deployments an earlier step made; a missing one is created',
    )
    p.add_argument(
        "--environment-url",
        default="",
        metavar="URL",
        help="where the tenant answers (actions/apply's `url`); sent with success only",
    )
    p.add_argument(
        "--description",
        default="",
        metavar="TEXT",
        help="the status's description (default: the state's own), e.g. who superseded it",
    )
    p.add_argument(
        "--log-url",
        default="",
        metavar="URL",
        help="the platform run (default: $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/"
        "$GITHUB_RUN_ID)",
    )
    p.add_argument(
        "--format",
        choices=("json", "github"),
        default="json",
        help="json: ids, skip reason and warnings on stdout; github: warning annotations",
    )
    p.add_argument(
        "--github-output",
        metavar="FILE",
        help="append deployment_ids=<JSON> to this file ($GITHUB_OUTPUT)",
    )
    p.set_defaults(func=cmd_app_deployment)
