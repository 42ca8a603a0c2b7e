"""github notify, verify-request and trigger: start the platform's deploy workflow. `notify`
sends an app repository's new images (repository_dispatch) and can find or follow the run
it started, `verify-request` checks such a request's OIDC token where it arrives, and
`trigger` runs the deploy or rollback workflow by hand (workflow_dispatch)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platform_lib.commands import common
from platform_lib.commands.github_common import (
    add_common,
    add_images,
    checked_project,
    need_settings,
    new_client,
    optional_settings,
    platform_repo,
)
from platform_lib.errors import UsageError
from platform_lib.github import oidc, oidc_http
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.errors import FollowFailed, Forbidden, GitHubError, NotFound
from platform_lib.github.follow import RUN_URL_TIMEOUT, WAIT_TIMEOUT, Poll, find_run, follow_job
from platform_lib.github.naming import (
    EVENT_TYPE,
    ROLLBACK_WORKFLOW_FILE,
    WORKFLOW_FILE,
    WORKFLOW_PATH,
)
from platform_lib.github.payload import DeployPayload
from platform_lib.github.settings import load_tenants


def cmd_notify(args: argparse.Namespace) -> int:
    """Send the deploy request; then, best effort, find the run it started (`--run-url`), or
    follow it until the environment is deployed (`--wait`, which fails with the deploy)."""
    app_repository = os.environ.get("GITHUB_REPOSITORY") or ""
    commit = args.commit or os.environ.get("GITHUB_SHA") or ""
    if not app_repository or not commit:
        raise UsageError(
            "run it in the app repository's GitHub Actions job: GITHUB_REPOSITORY and "
            "GITHUB_SHA say where the request comes from (the OIDC token proves it)"
        )
    repo = platform_repo(args, optional_settings(args))
    if str(repo).lower() == app_repository.lower():
        raise UsageError(f"{repo} is the app repository: pass --repo OWNER/NAME of the platform")
    audience = oidc.deploy_audience(str(repo), os.environ.get("GITHUB_SERVER_URL") or "")
    payload = DeployPayload.build(
        project=args.project,
        images=common.image_overrides(args.image),
        commit=commit,
        actor=os.environ.get("GITHUB_ACTOR") or "",
        app_repository=app_repository,
        request_id=args.request_id or secrets.token_hex(8),
        id_token=oidc_http.fetch_id_token(os.environ, audience),
    )
    client = new_client()
    client.dispatch(repo, EVENT_TYPE, payload.model_dump(mode="json"))
    common.log(f"notified {repo}: {payload.run_name}")
    result = NotifyResult(payload.request_id or "", payload.run_name)
    try:
        if args.wait is not None:
            _follow(client, repo, payload, args, result)
        elif args.run_url:
            _find_run_url(client, repo, payload, args, result)
    finally:
        if args.format == "json":
            print(json.dumps(result.to_json(), sort_keys=True))
        elif result.run_url:
            print(result.run_url)
    return 0


@dataclass
class NotifyResult:
    """What `notify --format json` reports once the request is sent: `run_url` is None when
    the run was not found (`warning` says why), `waited` the environment followed."""

    request_id: str
    run_name: str
    run_url: str | None = None
    warning: str | None = None
    waited: str | None = None
    wait_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "run_name": self.run_name,
            "run_url": self.run_url,
            "warning": self.warning,
            "waited": self.waited,
            "wait_error": self.wait_error,
        }


RUNS_PERMISSION = "listing a private platform repository's runs needs Actions: read on it"


def _find_run_url(
    client: GitHubClient,
    repo: Repo,
    payload: DeployPayload,
    args: argparse.Namespace,
    result: NotifyResult,
) -> None:
    """Best effort: the request is sent, so not finding its run is a warning, never a
    failure."""
    poll = Poll(timeout=args.timeout or RUN_URL_TIMEOUT, interval=args.poll_interval)
    try:
        run = find_run(client, repo, payload.request_id or "", poll)
    except (Forbidden, NotFound) as exc:
        result.warning = f"the request was sent; its run was not found: {exc} ({RUNS_PERMISSION})"
    except GitHubError as exc:
        result.warning = f"the request was sent; its run was not found: {exc}"
    else:
        result.run_url = run.html_url
        common.log(f"run {run.id}: {run.html_url}")
    if result.warning:
        common.log(f"warning: {result.warning}")


def _follow(
    client: GitHubClient,
    repo: Repo,
    payload: DeployPayload,
    args: argparse.Namespace,
    result: NotifyResult,
) -> None:
    """Follow exactly the run this request started until `--wait` is deployed; fail with it."""
    poll = Poll(timeout=args.timeout or WAIT_TIMEOUT, interval=args.poll_interval)
    result.waited = args.wait
    try:
        run = find_run(client, repo, payload.request_id or "", poll)
        result.run_url = run.html_url
        common.log(f"run {run.id}: {run.html_url}")
        job = follow_job(client, repo, run, payload.project, args.wait, poll, common.log)
    except (Forbidden, NotFound) as exc:
        result.wait_error = f"cannot follow the platform run: {exc} ({RUNS_PERMISSION})"
        raise FollowFailed(result.wait_error) from None
    except GitHubError as exc:
        result.wait_error = str(exc)
        raise
    common.log(f"{payload.project} deployed to {args.wait}: {job.html_url or run.html_url}")


def _refusal(reason: oidc.Refusal, message: str) -> int:
    print(json.dumps({"verified": False, "reason": reason.value, "message": message}))
    common.log(f"refused ({reason.value}): {message}")
    return 1


def cmd_verify_request(args: argparse.Namespace) -> int:
    """A repository_dispatch `deploy` as the platform's plan job receives it: the payload is
    read with DeployPayload, and its OIDC token verified against the issuer's keys."""
    settings = need_settings(args)
    try:
        event = json.loads(Path(args.event).read_text(encoding="utf-8"))
        payload = DeployPayload.model_validate(event.get("client_payload"))
    except (OSError, ValueError, AttributeError) as exc:
        raise UsageError(f"--event {args.event}: not a deploy request ({exc})") from None
    tenants = load_tenants(common.root(args))
    manifest = tenants.get(payload.project)
    if manifest is None:
        raise UsageError(f"unknown project {payload.project!r}")
    if manifest.app_repository is None:
        return _refusal(
            oidc.Refusal.NO_APP_REPOSITORY,
            f"configs/{payload.project}/project.yml names no app_repository, so no request "
            "for it can be verified: name the repository that builds its images",
        )
    github = settings.github
    issuer = args.issuer or (github.oidc_issuer if github else oidc.GITHUB_ISSUER)
    keys_url = args.jwks_url or (github.oidc_jwks_url if github else None) or oidc.jwks_url(issuer)
    repo = platform_repo(args, settings)
    expected = oidc.Expected(
        issuer=issuer,
        audience=oidc.deploy_audience(str(repo), os.environ.get("GITHUB_SERVER_URL") or ""),
        repository=manifest.app_repository,
        sha=payload.commit,
    )
    try:
        verified = oidc.verify(
            payload.id_token, oidc_http.fetch_jwks(keys_url), datetime.now(UTC), expected
        )
    except oidc.TokenRefused as exc:
        return _refusal(exc.reason, str(exc))
    print(json.dumps({"verified": True, "project": payload.project, **verified.as_dict()}))
    return 0


def cmd_trigger(args: argparse.Namespace) -> int:
    settings = optional_settings(args)
    project = checked_project(args.project)
    if settings is not None and args.env not in settings.environments:
        raise UsageError(f"--env {args.env!r}: not one of {', '.join(settings.environments)}")
    images = common.image_overrides(args.image)
    if args.rollback and (images or args.outside_window):
        raise UsageError("--rollback takes --to RELEASE, not --image or --outside-window")
    if args.to and not args.rollback:
        raise UsageError("--to RELEASE goes with --rollback")
    repo = platform_repo(args, settings)
    client = new_client()
    ref = args.ref or client.repository(repo).default_branch
    if args.rollback:
        rollback = {"project": project, "environment": args.env, "release": args.to or ""}
        started = client.dispatch_workflow(repo, ROLLBACK_WORKFLOW_FILE, ref, rollback)
        to = args.to or "the previous good release"
        common.log(
            f"started .github/workflows/{ROLLBACK_WORKFLOW_FILE} of {repo} on {ref}: "
            f"roll back {project} in {args.env} to {to}"
        )
        if started is not None:
            print(started.html_url or f"run {started.workflow_run_id}")
        return 0
    inputs = {
        "project": project,
        "environment": args.env,
        "images": " ".join(f"{service}={image}" for service, image in sorted(images.items())),
    }
    if args.outside_window:
        inputs["outside_window"] = args.outside_window
    started = client.dispatch_workflow(repo, WORKFLOW_FILE, ref, inputs)
    common.log(f"started {WORKFLOW_PATH} of {repo} on {ref}: deploy {project} to {args.env}")
    if started is not None:
        print(started.html_url or f"run {started.workflow_run_id}")
    return 0


def register(gh: Any) -> None:
    p = gh.add_parser(
        "notify", help="tell the platform repo about new images (repository_dispatch)"
    )
    add_common(p)
    p.add_argument("--project", required=True)
    add_images(p, "a built image, pinned by digest: sha256:... or REPOSITORY@sha256:...")
    p.add_argument(
        "--commit",
        help="app repo commit of the images (default: $GITHUB_SHA; the OIDC token's commit, "
        "which the platform requires it to be)",
    )
    p.add_argument(
        "--request-id",
        metavar="HEX",
        help="this request's id, in the payload and the run's title (default: 16 random hex "
        "digits); the run it started is found by it",
    )
    p.add_argument(
        "--wait", metavar="ENV", help="follow the run until ENV (e.g. staging) is deployed"
    )
    p.add_argument(
        "--run-url",
        action="store_true",
        help="find the platform run the dispatch started and print its URL, best effort: "
        "a warning, not a failure, when it cannot (implied by --wait)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"how long to look for the run ({RUN_URL_TIMEOUT:.0f}) or follow it "
        f"({WAIT_TIMEOUT:.0f} with --wait)",
    )
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: the run URL on stdout; json: request id, run URL, warning, wait result",
    )
    p.add_argument("--poll-interval", type=float, default=10.0, metavar="SECONDS")
    p.set_defaults(func=cmd_notify)

    p = gh.add_parser(
        "verify-request",
        help="check a deploy request's OIDC token (the platform's plan job): JSON on stdout, "
        "exit 1 with a reason when refused",
    )
    add_common(p)
    p.add_argument("--event", required=True, metavar="FILE", help="the event ($GITHUB_EVENT_PATH)")
    p.add_argument("--issuer", help="expected token issuer (default: github.oidc_issuer)")
    p.add_argument("--jwks-url", help="the issuer's keys (default: github.oidc_jwks_url)")
    p.set_defaults(func=cmd_verify_request)

    p = gh.add_parser("trigger", help=f"run {WORKFLOW_FILE} for one project (workflow_dispatch)")
    add_common(p)
    common.add_target(p)
    add_images(p, "image of a built service: a tag, a digest or a full reference")
    p.add_argument("--ref", help="branch or tag to run the workflow from (default: default branch)")
    p.add_argument(
        "--outside-window",
        metavar="REASON",
        help="an emergency: deploy even while the deployment windows are closed (recorded)",
    )
    p.add_argument(
        "--rollback",
        action="store_true",
        help=f"run {ROLLBACK_WORKFLOW_FILE} instead: a rollback, gated like a deploy",
    )
    p.add_argument(
        "--to", metavar="RELEASE", help="with --rollback: the release (default: the previous good)"
    )
    p.set_defaults(func=cmd_trigger)
