"""What a tenant's environment runs, as the platform's own workflow recorded it on GitHub: a
Deployment in the platform repository (environment `<project>-<env>`, task `platform:release`,
the release, the platform commit it was made from and its digests as payload), made by the
production job once its deploy succeeded, and by a rollback through GitHub.

The staging job reads the newest record of production to show, in the run waiting for
approval, what production would change from, without production's key. Only a record made by
a workflow's own token counts (creator `github-actions[bot]`): anyone else with Deployments:
write on the platform repository (a tenant's token that has it) can make one, never as that
bot. A record is a preview's baseline, never a deploy's: the production job decides against
its hosts, and a deploy from a terminal since the record is not in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from platform_lib.config.images import is_digest
from platform_lib.github import models
from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.naming import github_environment
from platform_lib.models.base import Model
from platform_lib.planning.promotion import digest_of

TASK = "platform:release"
WORKFLOW_BOT = "github-actions[bot]"
COMMIT = r"^[0-9a-f]{40}$"


class ReleaseRecord(Model):
    """The payload of a record: what one environment of one tenant runs."""

    version: Literal[1] = 1
    project: str
    environment: str
    release: str = Field(min_length=1, max_length=200)
    platform_sha: str = Field(pattern=COMMIT)
    images: dict[str, str]
    """Service -> `repository@sha256:...`."""

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


def newest_record(
    deployments: Iterable[models.ListedDeployment], project: str, environment: str
) -> FoundRecord | None:
    """The newest valid record of `project` in `environment` made by a workflow's token."""
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
        return FoundRecord(
            record=record, deployment_id=deployment.id, created_at=deployment.created_at
        )
    return None


def images_text(images: Mapping[str, str]) -> str:
    return "".join(f"{service}={ref}\n" for service, ref in sorted(images.items()))
