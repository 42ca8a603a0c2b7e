"""What a tenant's environment runs, as the platform's own workflow recorded it on GitHub: a
Deployment in the platform repository (environment `<project>-<env>`, task `platform:release`,
the release, the platform commit it was made from, its digests and the run that made it as
payload), made by the production job once its deploy succeeded, and by a rollback through
GitHub.

The staging job reads the newest record of production to show, in the run waiting for
approval, what production would change from, without production's key. A record counts only
when its provenance holds: made by a workflow's own token (creator `github-actions[bot]`: no
person's or App's token can make one as it), by the run its payload names, and that run is
the Deploy Project workflow (of the record's commit) or the Rollback Project workflow, on the
default branch. So neither a token with Deployments: write nor a workflow run of another file
or branch can plant one. A record is a preview's baseline, never a deploy's: the production
job decides against its hosts, and a deploy from a terminal since the record is not in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from platform_lib.config.images import is_digest
from platform_lib.github import models
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.errors import NotFound
from platform_lib.github.naming import ROLLBACK_WORKFLOW_FILE, WORKFLOW_PATH, github_environment
from platform_lib.models.base import Model
from platform_lib.models.names import COMMIT_PATTERN
from platform_lib.planning.promotion import digest_of

TASK = "platform:release"
WORKFLOW_BOT = "github-actions[bot]"
ROLLBACK_PATH = f".github/workflows/{ROLLBACK_WORKFLOW_FILE}"
PAGES = 3
"""Pages of 100 deployments read for a record: others' deployments of the environment cannot
push the newest record out of sight short of 300."""
CHECKED = 5
"""Candidate records whose run is looked up, newest first."""


class ReleaseRecord(Model):
    """The payload of a record: what one environment of one tenant runs."""

    version: Literal[1] = 1
    project: str
    environment: str
    release: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    platform_sha: str = Field(pattern=COMMIT_PATTERN)
    images: dict[str, str]
    """Service -> `repository@sha256:...`."""
    run_id: int = Field(gt=0)
    """The workflow run that deployed (or rolled back) the release and made the record."""

    @field_validator("images")
    @classmethod
    def _by_digest(cls, images: dict[str, str]) -> dict[str, str]:
        for service, ref in images.items():
            if not is_digest(digest_of(ref)):
                raise ValueError(f"{service}: {ref!r} is not a reference by digest")
        return images


class FoundRecord(Model):
    record: ReleaseRecord
    deployment_id: int
    created_at: datetime


def parse_images(lines: Iterable[str]) -> dict[str, str]:
    """`SERVICE=REPOSITORY@DIGEST` lines (actions/apply's `images`) as a mapping; a line
    without a digest is a ValueError."""
    images: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        service, sep, ref = line.partition("=")
        if not sep or not service or not is_digest(digest_of(ref)):
            raise ValueError(f"{line!r}: expected SERVICE=REPOSITORY@sha256:DIGEST")
        images[service] = ref
    return images


def record_release(client: GitHubClient, repo: Repo, record: ReleaseRecord,
                   log_url: str) -> int:  # fmt: skip
    """Make the record: a Deployment of exactly its commit (no merge, no commit-status checks,
    so GitHub never refuses or delays it) with a `success` status. Returns its id."""
    digests = ", ".join(f"{s}={digest_of(r)[7:19]}" for s, r in sorted(record.images.items()))
    made = client.create_deployment(
        repo,
        record.platform_sha,
        github_environment(record.project, record.environment),
        description=f"release {record.release}: {digests}",
        # not marked production: GitHub's auto_inactive then retires the record it replaces
        production=False,
        task=TASK,
        payload=record.model_dump(mode="json"),
    )
    client.create_deployment_status(
        repo, made.id, "success", log_url=log_url,
        description=f"{record.environment} runs release {record.release}",
    )  # fmt: skip
    return made.id


def _payload(raw: dict[str, Any] | str) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw


def candidates(
    deployments: Iterable[models.ListedDeployment], project: str, environment: str
) -> Iterator[FoundRecord]:
    """The well-formed records of `project` in `environment` made by a workflow's token,
    newest first; whether their run is the platform's is `made_by_platform`'s to say."""
    name = github_environment(project, environment)
    ordered = sorted(deployments, key=lambda d: (d.created_at, d.id), reverse=True)
    for deployment in ordered:
        creator = deployment.creator
        if (
            deployment.task != TASK
            or deployment.environment != name
            or creator is None
            or (creator.login, creator.type) != (WORKFLOW_BOT, "Bot")
        ):
            continue
        try:
            record = ReleaseRecord.model_validate(_payload(deployment.payload))
        except ValidationError:
            continue
        if (record.project, record.environment) != (project, environment):
            continue
        if record.platform_sha != deployment.sha:
            continue
        yield FoundRecord(
            record=record, deployment_id=deployment.id, created_at=deployment.created_at
        )


def made_by_platform(record: ReleaseRecord, run: models.WorkflowRun, default_branch: str) -> bool:
    """The run the record names is the platform's deploy of its commit, or its rollback, on
    the default branch (a rollback's record holds the commit of the release it went back to)."""
    if run.id != record.run_id or run.head_branch != default_branch:
        return False
    if run.path == WORKFLOW_PATH:
        return run.head_sha == record.platform_sha
    return run.path == ROLLBACK_PATH


def newest_record(
    client: GitHubClient, repo: Repo, project: str, environment: str
) -> FoundRecord | None:
    """The newest record of `project` in `environment` whose provenance holds."""
    default_branch = client.repository(repo).default_branch
    name = github_environment(project, environment)
    checked = 0
    for page in range(1, PAGES + 1):
        listed = client.deployments(repo, name, TASK, page=page)
        for found in candidates(listed, project, environment):
            try:
                run = client.run(repo, found.record.run_id)
            except NotFound:  # a run deleted since, or never of this repository
                run = None
            if run is not None and made_by_platform(found.record, run, default_branch):
                return found
            checked += 1
            if checked >= CHECKED:
                return None
        if len(listed) < 100:
            break
    return None
