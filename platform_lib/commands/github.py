"""github: the platform repository on GitHub. Tell it about new images (`notify`), check such a
request where it arrives (`verify-request`), run its deploy workflow (`trigger`), see and
decide what waits for approval (`pending`, `approve`, `reject`), and keep its environments
protected (`setup-environments`, `doctor`)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platform_lib.commands import app_deployment, common, release_record, supersede
from platform_lib.config.loader import is_project_name
from platform_lib.config.sources import SETTINGS_FILE
from platform_lib.errors import UsageError
from platform_lib.github import approvals, environments, gates, oidc, oidc_http, protection
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.errors import (
    ApprovalRefused,
    FollowFailed,
    Forbidden,
    GitHubError,
    NotFound,
    RateLimited,
    Unprocessable,
)
from platform_lib.github.follow import (
    RUN_URL_TIMEOUT,
    WAIT_TIMEOUT,
    Poll,
    apply_environments,
    find_run,
    follow_job,
    resolve_reviewers,
    waiting_runs,
)
from platform_lib.github.naming import (
    EVENT_TYPE,
    ROLLBACK_WORKFLOW_FILE,
    WORKFLOW_FILE,
    WORKFLOW_PATH,
)
from platform_lib.github.payload import DeployPayload
from platform_lib.github.render import gate_lines, gates_text
from platform_lib.github.settings import (
    deploy_after,
    load_manifest,
    load_settings,
    load_tenants,
    resolve_repo,
)
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings
from platform_lib.models.windows import DeployWindows
from platform_lib.planning.windows import effective_windows, windows_state


def _settings(args: argparse.Namespace) -> PlatformSettings | None:
    return load_settings(common.root(args))


def _need_settings(args: argparse.Namespace) -> PlatformSettings:
    settings = _settings(args)
    if settings is None:
        raise UsageError(f"{common.root(args) / SETTINGS_FILE}: missing (use --root)")
    return settings


def _repo(args: argparse.Namespace, settings: PlatformSettings | None) -> Repo:
    return resolve_repo(args.repo, settings, os.environ)


def _client() -> GitHubClient:
    return GitHubClient.from_environment(os.environ)


def _project(name: str) -> str:
    if not is_project_name(name):
        raise UsageError(f"--project {name!r}: lowercase letters, digits and single dashes")
    return name


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
    repo = _repo(args, _settings(args))
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
    client = _client()
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
    settings = _need_settings(args)
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
    repo = _repo(args, settings)
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
    settings = _settings(args)
    project = _project(args.project)
    if settings is not None and args.env not in settings.environments:
        raise UsageError(f"--env {args.env!r}: not one of {', '.join(settings.environments)}")
    images = common.image_overrides(args.image)
    if args.rollback and (images or args.outside_window):
        raise UsageError("--rollback takes --to RELEASE, not --image or --outside-window")
    if args.to and not args.rollback:
        raise UsageError("--to RELEASE goes with --rollback")
    repo = _repo(args, settings)
    client = _client()
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


def _gates(args: argparse.Namespace) -> list[approvals.Gate]:
    settings = _settings(args)
    repo = _repo(args, settings)
    waiting = waiting_runs(_client(), repo)
    found = approvals.gates(waiting, deploy_after(settings))
    return _with_windows(common.root(args), settings, found, datetime.now(UTC))


def _with_windows(
    root: Path, settings: PlatformSettings | None, found: list[approvals.Gate], now: datetime
) -> list[approvals.Gate]:
    """Each gate with its project's deployment windows at `now`, where it has some."""
    if settings is None:
        return found
    out = []
    for gate in found:
        manifest = load_manifest(root, gate.projects[0]) if len(gate.projects) == 1 else None
        windows: tuple[DeployWindows, ...] = ()
        if gate.environment in settings.environments:
            windows = effective_windows(settings, manifest or ProjectManifest(), gate.environment)
        out.append(replace(gate, window=windows_state(windows, now)) if windows else gate)
    return out


def cmd_pending(args: argparse.Namespace) -> int:
    project = _project(args.project) if args.project else None
    found = approvals.matching(_gates(args), project, args.env)
    if args.format == "json":
        print(json.dumps([g.as_dict() for g in found], indent=2, sort_keys=True))
    else:
        sys.stdout.write(gates_text(found))
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError("standard input is not a terminal: pass --yes to go ahead without asking")
    print(f"{question} [y/N] ", end="", flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _review(args: argparse.Namespace, state: str) -> int:
    verb = "approve" if state == "approved" else "reject"
    project = _project(args.project)
    settings = _settings(args)
    repo = _repo(args, settings)
    client = _client()
    found = approvals.gates(waiting_runs(client, repo), deploy_after(settings))
    gate = approvals.choose(found, project, args.env, args.run, args.allow_shared_run)
    for line in gate_lines(gate):
        print(line)
    if state == "approved":
        _show_what_goes_out(args, gate)
    counted = (
        _approval_count(args, client, repo, settings, gate, project)
        if state == "approved"
        else None
    )
    if not args.yes and not _confirm(f"{verb} {args.env} of {', '.join(gate.projects)}?"):
        common.log("nothing done")
        return 1
    comment = args.comment or f"{state} with `python -m platform_lib github {verb}`"
    try:
        client.review_pending(repo, gate.run_id, [gate.environment_id], state, comment)
    except RateLimited:
        raise
    except (Forbidden, Unprocessable) as exc:
        raise ApprovalRefused(
            f"GitHub refused to {verb} run {gate.run_id} ({exc.status}): only a required "
            f"reviewer of {gate.github_environment} can, with their own user token "
            "(`gh auth login` as that person, or GH_TOKEN=<their token>); GitHub App and "
            "GITHUB_TOKEN tokens cannot "
            f"approve deployments [{exc}]",
            exc.status,
        ) from None
    print(
        f"{state}: {args.env} of {', '.join(gate.projects)} in run {gate.run_id} "
        f"(environment {gate.github_environment})"
    )
    tally = (min(counted[0], len(counted[1].approvers) + 1), counted[0]) if counted else None
    _announce_review(args, settings, gate, state, tally)
    if counted is not None:
        needed, done, allowed = counted
        left = max(0, needed - len(done.approvers) - 1)
        print(
            f"approvals: {needed - left} of {needed}"
            + (f"; {left} more needed, from: {', '.join(allowed) or 'nobody left'}" if left else "")
        )
    return 0


def _show_what_goes_out(args: argparse.Namespace, gate: approvals.Gate) -> None:
    """The digests and the config and env-key diff each project would get (`promote
    --preview`), read from the hosts with this machine's SSH access, before asking."""
    from platform_lib.commands.promote import what_goes_out

    root = common.root(args)
    sha = gate.head_sha or common.platform_sha(root, None)
    projects = [p for p in gate.projects if (root / "configs" / p / "project.yml").is_file()]
    if projects:
        print()
        print(what_goes_out(root, projects, gate.environment, sha, common.identity(args)))


def _announce_review(
    args: argparse.Namespace,
    settings: PlatformSettings | None,
    gate: approvals.Gate,
    state: str,
    counted: tuple[int, int] | None,
) -> None:
    """Tell the projects' notification sinks (bounded in time; never fails the review)."""
    from platform_lib.notifications.events import Review
    from platform_lib.notifications.hooks import notify_review

    try:
        actor = common.actor(None)
    except UsageError:
        actor = "unknown"
    manifests = {p: load_manifest(common.root(args), p) for p in gate.projects}
    review = Review(gate.environment, actor, state, gate.run_url, dict(gate.images),
                    args.comment, counted)  # fmt: skip
    notify_review(settings, manifests, review, common.log)


def _approval_count(
    args: argparse.Namespace,
    client: GitHubClient,
    repo: Repo,
    settings: PlatformSettings | None,
    gate: approvals.Gate,
    project: str,
) -> tuple[int, gates.Tally, list[str]] | None:
    """For a deploy needing several distinct approvers: how many it has, and who may still
    give one; refuses when this token's user already approved one of its gates (a second
    approval of the same person would release a gate and still not count)."""
    manifest = load_manifest(common.root(args), project)
    if settings is None or manifest is None or gate.environment not in settings.environments:
        return None
    needed = gates.required_approvals(settings, manifest, gate.environment)
    if needed < 2 or gate.shared:
        return None
    done = gates.tally(
        client.run_approvals(repo, gate.run_id),
        gates.gate_environments(project, gate.environment, needed),
        [],
        needed,
    )
    me = gates.login(client.me().login)
    allowed = [r for r in gates.still_allowed(gate.reviewers, done, []) if gates.login(r) != me]
    print(
        f"    approvals: {len(done.approvers)} of {needed} distinct people"
        + (f" ({', '.join(done.approvers)})" if done.approvers else "")
        + "; the author's own approval never counts"
    )
    if me in done.approvers:
        raise UsageError(
            f"you ({me}) already approved a gate of this deploy: {needed - len(done.approvers)} "
            f"more needed from other people ({', '.join(allowed) or 'none of its reviewers left'})"
        )
    return needed, done, allowed


def cmd_check_approvals(args: argparse.Namespace) -> int:
    """Before a deploy job deploys: N distinct people other than the author approved its
    gates in this run (`GET .../actions/runs/{run_id}/approvals`)."""
    settings = _need_settings(args)
    project = _project(args.project)
    manifest = load_manifest(common.root(args), project)
    if manifest is None:
        raise UsageError(f"configs/{project}/project.yml: missing or invalid")
    if args.env not in settings.environments:
        raise UsageError(f"--env {args.env!r}: not one of {', '.join(settings.environments)}")
    needed = gates.required_approvals(settings, manifest, args.env)
    where = {"project": project, "environment": args.env, "run_id": args.run}
    if needed == 0:
        print(json.dumps({**where, **gates.Tally(0, ()).as_dict()}, sort_keys=True))
        return 0
    repo = _repo(args, settings)
    reviews = _client().run_approvals(repo, args.run)
    result = gates.tally(
        reviews, gates.gate_environments(project, args.env, needed), args.author, needed
    )
    print(json.dumps({**where, **result.as_dict()}, sort_keys=True))
    if result.ok:
        common.log(
            f"approved by {len(result.approvers)} of {needed}: {', '.join(result.approvers)}"
        )
        return 0
    why = (
        f"rejected by {', '.join(result.rejected_by)}"
        if result.rejected_by
        else f"{result.missing} more distinct approval(s) needed"
        + (
            f" (not counted, the author's own: {', '.join(result.by_authors)})"
            if result.by_authors
            else ""
        )
    )
    common.log(f"refused: {project} to {args.env} needs {needed} distinct approvers: {why}")
    return 1


def cmd_approve(args: argparse.Namespace) -> int:
    return _review(args, "approved")


def cmd_reject(args: argparse.Namespace) -> int:
    return _review(args, "rejected")


def cmd_setup_environments(args: argparse.Namespace) -> int:
    settings = _need_settings(args)
    tenants = load_tenants(common.root(args))
    repo = _repo(args, settings)
    client = _client()
    ids = resolve_reviewers(client, environments.reviewer_handles(settings, tenants))
    branch = (
        client.repository(repo).default_branch if args.branch_policy == "default-branch" else ""
    )
    desired = environments.desired_environments(
        settings, tenants, ids, branch, args.branch_policy, args.wait_timer
    )
    if args.dry_run:
        print(json.dumps({e.name: e.body() for e in desired}, indent=2, sort_keys=True))
        return 0
    apply_environments(client, repo, desired)
    report = []
    for env, line in zip(desired, environments.summarize(desired), strict=True):
        present = client.environment_secret_names(repo, env.name)
        missing = environments.missing_secrets(env.tenant, present)
        report.append(
            {**_where(env.tenant), "reviewers": list(env.reviewers), "missing_secrets": missing}
        )
        if args.format == "text":
            print(line + (f"; secrets to add: {', '.join(missing)}" if missing else ""))
    if args.format == "json":
        print(json.dumps(report, indent=2, sort_keys=True))
    return 0


def _where(env: environments.TenantEnvironment) -> dict[str, str]:
    return {"name": env.name, "project": env.project, "environment": env.environment}


def _check_environment(
    client: GitHubClient,
    repo: Repo,
    env: environments.TenantEnvironment,
    members: dict[str, list[str] | None],
) -> dict[str, Any]:
    """What `doctor` finds of one tenant's environment: problems make it unsafe or unusable."""
    try:
        environment = client.environment(repo, env.name)
    except NotFound:
        problem = f"no such environment in {repo} (or the token cannot see it)"
        return {**_where(env), "problems": [problem], "warnings": [], "missing_secrets": []}
    problems = environments.environment_problems(environment, env.gated)
    warnings = environments.environment_warnings(environment) if env.gated else []
    if env.gated:
        for team in protection.reviewer_handles(environment, repo.owner):
            if "/" in team and team not in members:
                members[team] = _members(client, team)
        counted = protection.count_reviewers(environment, repo.owner, members)
        found, warned = protection.approver_findings(environment, max(env.approvals, 1), counted)
        problems += found
        warnings += warned
    missing = environments.missing_secrets(env, client.environment_secret_names(repo, env.name))
    if missing:
        problems.append(f"secrets not set: {', '.join(missing)} (a deploy would refuse to start)")
    return {
        **_where(env),
        "problems": problems,
        "warnings": warnings,
        "missing_secrets": missing,
        "description": environments.describe(environment),
    }


def _members(client: GitHubClient, team: str) -> list[str] | None:
    """A team's members, or None when the token may not list them."""
    org, _, slug = team.partition("/")
    try:
        return client.team_members(org, slug)
    except (Forbidden, NotFound):
        return None


def cmd_doctor(args: argparse.Namespace) -> int:
    settings = _need_settings(args)
    tenants = load_tenants(common.root(args))
    repo = _repo(args, settings)
    client = _client()
    members: dict[str, list[str] | None] = {}
    needed = environments.needed(settings, tenants)
    found = [_check_environment(client, repo, env, members) for env in needed]
    repository = client.repository(repo)
    for env, entry in zip(needed, found, strict=True):
        entry["warnings"] += protection.repository_warnings(repository, env.gated)
    if args.format == "json":
        print(json.dumps(found, indent=2, sort_keys=True))
    else:
        for entry in found:
            for problem in entry["problems"]:
                print(f"{entry['name']}: error: {problem}")
            for warning in entry["warnings"]:
                print(f"{entry['name']}: warning: {warning}")
            if not entry["problems"]:
                print(f"{entry['name']}: ok ({entry['description']})")
    failed = any(entry["problems"] for entry in found)
    if failed:
        common.log("GitHub environments are not ready: run make setup-environments")
    return 1 if failed else 0


def _common(p: argparse.ArgumentParser) -> None:
    common.add_root(p)
    p.add_argument(
        "--repo",
        metavar="OWNER/NAME",
        help="platform repository (default: github.repository in configs/platform.yml, "
        "else $GITHUB_REPOSITORY)",
    )


def _images(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--image", action="append", default=[], metavar="SERVICE=REF", help=help_text)


def _review_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--project", required=True)
    p.add_argument(
        "--env", default="production", help="the gated environment (default: production)"
    )
    p.add_argument("--run", type=int, metavar="ID", help="which run, when several wait")
    p.add_argument("--comment", help="the review comment GitHub records")
    p.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    p.add_argument(
        "--allow-shared-run",
        action="store_true",
        help="also release the other projects waiting in the same run",
    )


def register(sub: Any) -> None:
    top = sub.add_parser(
        "github", help="notify, trigger, approve deploys on GitHub; set up environments"
    )
    gh = top.add_subparsers(dest="github_command", required=True, metavar="SUBCOMMAND")

    p = gh.add_parser(
        "notify", help="tell the platform repo about new images (repository_dispatch)"
    )
    _common(p)
    p.add_argument("--project", required=True)
    _images(p, "a built image, pinned by digest: sha256:... or REPOSITORY@sha256:...")
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
    _common(p)
    p.add_argument("--event", required=True, metavar="FILE", help="the event ($GITHUB_EVENT_PATH)")
    p.add_argument("--issuer", help="expected token issuer (default: github.oidc_issuer)")
    p.add_argument("--jwks-url", help="the issuer's keys (default: github.oidc_jwks_url)")
    p.set_defaults(func=cmd_verify_request)

    p = gh.add_parser("trigger", help=f"run {WORKFLOW_FILE} for one project (workflow_dispatch)")
    _common(p)
    p.add_argument("--project", required=True)
    p.add_argument("--env", required=True)
    _images(p, "image of a built service: a tag, a digest or a full reference")
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

    p = gh.add_parser("pending", help="deploys waiting for approval and what each would deploy")
    _common(p)
    p.add_argument("--project")
    p.add_argument("--env")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_pending)

    p = gh.add_parser("approve", help="approve a project's deploy waiting on its environment gate")
    _review_args(p)
    p.set_defaults(func=cmd_approve)

    p = gh.add_parser("reject", help="reject a project's deploy waiting on its environment gate")
    _review_args(p)
    p.set_defaults(func=cmd_reject)

    p = gh.add_parser(
        "check-approvals",
        help="before a deploy job deploys: the run's approvals of its gates come from enough "
        "distinct people, none the author (exit 1 if not)",
    )
    _common(p)
    p.add_argument("--project", required=True)
    p.add_argument("--env", default="production")
    p.add_argument("--run", type=int, required=True, metavar="ID", help="the workflow run")
    p.add_argument(
        "--author",
        action="append",
        default=[],
        metavar="LOGIN",
        help="who asked for the deploy (the verified requester, the pusher, the run's actor): "
        "their approvals never count; repeatable",
    )
    p.set_defaults(func=cmd_check_approvals)

    p = gh.add_parser(
        "setup-environments",
        help="create/update every tenant's GitHub environments and name the secrets each lacks",
    )
    _common(p)
    p.add_argument(
        "--branch-policy",
        choices=["default-branch", "protected"],
        default="default-branch",
        help="deploy only from the default branch (default), or from protected branches",
    )
    p.add_argument(
        "--wait-timer", type=int, default=0, metavar="MINUTES", help="gated environments"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the request bodies, change nothing"
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_setup_environments)

    p = gh.add_parser(
        "doctor",
        help="fail unless every tenant's environments exist with a branch policy, required "
        "reviewers where approval is required, and every secret they need",
    )
    _common(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_doctor)

    app_deployment.register(gh)
    supersede.register(gh)
    release_record.register(gh)
    from platform_lib.commands import github_gate  # it imports this module's helpers

    github_gate.register(gh)
