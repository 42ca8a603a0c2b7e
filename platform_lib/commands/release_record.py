"""`github record-release` and `github production-preview`: what a tenant's production runs,
kept on GitHub by the workflow that deployed it (`platform_lib.github.release_records`), and
the preview it makes possible in the run waiting for production's approval: the digests
production would get, the config files and env keys that differ from what it runs.

The preview runs in the staging job, which holds no production key: its baseline is the
record, not the hosts (`make approve-production` compares with the hosts). Both commands are
best effort: a refused call, a missing token or record ends with exit 0 and says why."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from platform_lib.commands import common
from platform_lib.errors import PlatformError, UsageError
from platform_lib.github import release_records as records
from platform_lib.github.app_deployments import run_url
from platform_lib.github.client import GitHubClient
from platform_lib.github.settings import load_settings, resolve_repo
from platform_lib.models.names import COMMIT_PATTERN
from platform_lib.planning.promotion import PromotionFacts, SourceRelease, decide, digest_of
from platform_lib.planning.promotion_preview import TenantPreview, code, render_markdown
from platform_lib.report import warning_annotation

TITLE = "release record"


def _images(text: str) -> dict[str, str]:
    try:
        return records.parse_images(text.splitlines())
    except ValueError as exc:
        raise UsageError(f"--images: {exc}") from None


class _StatusRow(BaseModel):
    """The part of a `status --format json` row a record is made of."""

    model_config = ConfigDict(extra="ignore")
    project: str
    environment: str
    release: str | None
    platform_sha: str | None
    images: dict[str, str]


def _from_status(path: str, project: str, env: str) -> tuple[str, str, dict[str, str]]:
    """(release, platform commit, images) of `project`/`env` in `status --format json`."""
    try:
        rows = TypeAdapter(list[_StatusRow]).validate_json(Path(path).read_bytes())
    except (OSError, ValidationError) as exc:
        raise UsageError(f"--status {path}: not the JSON of status --format json ({exc})") from None
    for row in rows:
        if (row.project, row.environment) == (project, env):
            if row.release is None or row.platform_sha is None:
                raise UsageError(f"--status {path}: {project}/{env} runs no release")
            return row.release, row.platform_sha, row.images
    raise UsageError(f"--status {path}: no row of {project}/{env}")


def _run_id() -> int:
    text = os.environ.get("GITHUB_RUN_ID", "")
    if not text.isdigit():
        raise UsageError("no --run and no GITHUB_RUN_ID: which run made the release?")
    return int(text)


def _record(args: argparse.Namespace) -> str:
    root = common.root(args)
    if args.status:
        release, sha, images = _from_status(args.status, args.project, args.env)
    else:
        release, sha = args.release or "", common.platform_sha(root, None)
        images = _images(args.images or "")
    if re.fullmatch(COMMIT_PATTERN, sha) is None:
        raise UsageError(f"the release was not made from a clean commit ({sha}): not recorded")
    try:
        record = records.ReleaseRecord(
            project=args.project,
            environment=args.env,
            release=release,
            platform_sha=sha,
            images=images,
            run_id=args.run or _run_id(),
        )
    except ValidationError as exc:
        raise UsageError(f"not a release to record: {exc.errors()[0]['msg']}") from None
    repo = resolve_repo(args.repo, load_settings(root), os.environ)
    client = GitHubClient.from_environment(os.environ)
    made = records.record_release(client, repo, record, args.log_url or run_url(os.environ))
    return f"recorded {args.project} {args.env} release {release} (deployment {made})"


def cmd_record_release(args: argparse.Namespace) -> int:
    try:
        common.log(_record(args))
    except PlatformError as exc:
        print(
            warning_annotation(
                f"what {args.env} runs is not recorded on GitHub ({exc}); the next approval's "
                "summary cannot compare with it (needs `deployments: write`)",
                TITLE,
            ),
            flush=True,
        )
    return 0


def _baseline(args: argparse.Namespace, root: Path) -> tuple[records.FoundRecord | None, str]:
    """The newest record of the target, or None and why."""
    try:
        repo = resolve_repo(args.repo, load_settings(root), os.environ)
        client = GitHubClient.from_environment(os.environ)
        found = records.newest_record(client, repo, args.project, args.env)
    except PlatformError as exc:
        return None, (
            f"it could not be read from GitHub ({exc}; needs `deployments: read` and "
            "`actions: read`)"
        )
    if found is None:
        return None, "no deploy through this workflow has recorded it yet"
    return found, ""


def preview(args: argparse.Namespace) -> tuple[TenantPreview | None, str]:
    """The preview against the record (None without one) and a markdown summary."""
    from platform_lib.commands.config_index import tenant_config
    from platform_lib.commands.promote import preview_of
    from platform_lib.planning.builder import find_tenant

    root = common.root(args)
    config = tenant_config(root, args.project)
    tenant = find_tenant(config, args.project, args.env)
    source_env = config.settings.environments[args.env].deploy_after
    if source_env is None:
        raise UsageError(f"{args.env} deploys after no environment: nothing is promoted to it")
    verified = _images(args.images)
    head = common.platform_sha(root, None)
    found, why = _baseline(args, root)
    compare = f"`make approve-production project={args.project}` compares with its hosts"
    if found is None:
        lines = [
            f"### {code(args.project)}: {source_env} → {args.env}",
            "",
            f"{args.env} would get exactly what {source_env} release {code(args.release)} "
            "verified:",
            "",
        ]
        lines += [f"- {code(service)}: {code(ref)}" for service, ref in sorted(verified.items())]
        lines += ["", f"What {args.env} runs now is not shown: {why}; {compare}.", ""]
        return None, "\n".join(lines)
    record = found.record
    facts = PromotionFacts(
        project=tenant.name,
        environment=args.env,
        built=tuple(sorted(tenant.manifest.images)),
        expected={service: digest_of(ref) for service, ref in verified.items()},
        running=dict(record.images),
        running_release=record.release,
        source=SourceRelease(
            environment=source_env,
            release=args.release,
            platform_sha=head,
            configs_changed=False,
            digests=verified,
        ),
    )
    shown = preview_of(root, tenant, facts, decide(facts), record.platform_sha, head)
    changed = sum(image.changes for image in shown.images)
    common.log(
        f"{args.project} {args.env} against its recorded release {record.release} "
        f"({record.platform_sha[:12]}): {changed} image(s), {len(shown.config_files)} config "
        f"file(s), {len(shown.env_keys)} env key(s) change"
    )
    when = found.created_at.strftime("%Y-%m-%d %H:%M UTC")
    note = (
        f"_What {args.env} runs, as its last deploy through this workflow recorded it "
        f"({when}); a deploy from a terminal since then is not in it: {compare}._"
    )
    return shown, render_markdown([shown]) + "\n" + note + "\n"


def cmd_production_preview(args: argparse.Namespace) -> int:
    try:
        shown, text = preview(args)
    except PlatformError as exc:
        shown, text = None, f"### `{args.project}`\n\nno preview of {args.env}: {exc}\n"
        print(warning_annotation(f"no preview of {args.env}: {exc}", TITLE), flush=True)
    if args.summary:
        with Path(args.summary).open("a", encoding="utf-8") as out:
            out.write(text + "\n")
    if args.format == "json":
        print(json.dumps(shown.model_dump(mode="json") if shown else None, sort_keys=True))
    elif not args.summary:
        print(text)
    return 0


def _target(p: argparse.ArgumentParser, env_help: str) -> None:
    common.add_root(p)
    p.add_argument("--repo", metavar="OWNER/NAME", help="platform repository (as for trigger)")
    common.add_target(p, default_env="production", env_help=env_help)


def register(gh: Any) -> None:
    p = gh.add_parser(
        "record-release",
        help="record on GitHub what an environment of a tenant now runs (a Deployment of the "
        "platform repository); never fails (a warning)",
    )
    _target(p, "the environment")
    given = p.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--release",
        help="the release it runs (actions/apply's), made from "
        "this checkout's commit, with --images",
    )
    given.add_argument(
        "--status",
        metavar="FILE",
        help="read release, commit and images from `status --format json`",
    )
    p.add_argument(
        "--images",
        metavar="LINES",
        help="SERVICE=REPOSITORY@DIGEST lines it runs (actions/apply's `images`)",
    )
    p.add_argument("--run", type=int, metavar="ID",
                   help="the run that deployed it (default: $GITHUB_RUN_ID)")  # fmt: skip
    p.add_argument("--log-url", default="", metavar="URL", help="the run (default: this one)")
    p.set_defaults(func=cmd_record_release)

    p = gh.add_parser(
        "production-preview",
        help="what an approval of production sends out, against what production runs as "
        "recorded on GitHub (record-release); never fails",
    )
    _target(p, "the environment waiting for approval")
    p.add_argument("--release", required=True, help="the source environment's release")
    p.add_argument(
        "--images",
        required=True,
        metavar="LINES",
        help="SERVICE=REPOSITORY@DIGEST lines the source verified",
    )
    p.add_argument("--summary", metavar="FILE", help="append the preview ($GITHUB_STEP_SUMMARY)")
    p.add_argument(
        "--format",
        choices=("markdown", "json"),
        default="markdown",
        help="stdout: the markdown (without --summary) or a TenantPreview (json)",
    )
    p.set_defaults(func=cmd_production_preview)
