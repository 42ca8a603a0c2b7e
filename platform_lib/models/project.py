"""A tenant's manifest: `configs/<project>/project.yml`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from platform_lib.models.base import Model
from platform_lib.models.limits import ResourceLimits
from platform_lib.models.names import (
    Domain,
    EnvName,
    GitHubRepository,
    HostName,
    HttpPath,
    ImageRepository,
    SecretName,
    ServiceName,
    VolumeName,
)
from platform_lib.models.notifications import Sink
from platform_lib.models.rollout import Rollout
from platform_lib.models.windows import DeployWindows


class BuiltImage(Model):
    """An image the tenant's app repo builds and the platform deploys by digest."""

    repository: ImageRepository
    """Repository under the registry namespace, named for the tenant: `<project>` or
    `<project>-...`, e.g. `filter-ical-backend` (or one of `registry.shared_repositories`)."""


class Route(Model):
    """An HTTP-routed service: the proxy sends the route's domains to it."""

    service: ServiceName
    """The compose service that answers."""
    port: int = Field(ge=1, le=65535)
    """The port the service listens on inside its container."""
    health_path: HttpPath = "/"
    """Path that answers 2xx/3xx when the service is healthy; checked after every deploy."""
    domains: dict[EnvName, list[Domain]] = Field(default_factory=dict)
    """Domains per environment. Environments not listed derive theirs from the `production`
    domains through the environment's `domain_template`."""


class PgDumpBackup(Model):
    """`pg_dump` of a PostgreSQL database running in one of the tenant's services."""

    kind: Literal["pg_dump"]
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)]
    """Names the backup file."""
    service: ServiceName
    """The compose service running PostgreSQL."""
    database: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=63)]
    """Database to dump."""
    user: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=63)] = "postgres"
    """Database role used for the dump."""


class VolumeBackup(Model):
    """A tar archive of a named volume of the tenant's compose project."""

    kind: Literal["volume"]
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)]
    """Names the backup file."""
    volume: VolumeName
    """The volume as named in docker-compose.yml (the compose project prefix is added)."""


Backup = Annotated[PgDumpBackup | VolumeBackup, Field(discriminator="kind")]


class ProjectManifest(Model):
    """A tenant: what the platform builds, routes, and needs to run it."""

    description: str = ""
    """One line for people."""
    app_repository: GitHubRepository | None = None
    """The app repo allowed to notify the platform about new images: a deploy request must
    carry a GitHub Actions OIDC token issued to a workflow run of this repository."""
    reviewers: list[str] | None = Field(default=None, max_length=6)
    """GitHub users (or `org/team`) who approve this tenant's deploys to environments with
    `requires_approval`, in its own GitHub environments (default:
    `github.production_reviewers` of configs/platform.yml)."""
    windows: dict[EnvName, DeployWindows] = Field(default_factory=dict)
    """Deployment windows per environment for this tenant, on top of the environment's own
    `windows` of configs/platform.yml: a deploy must be inside both (a tenant can narrow when
    it takes deploys, never widen it)."""
    approvals: dict[EnvName, Annotated[int, Field(ge=1, le=6)]] = Field(default_factory=dict)
    """Distinct approvers per environment with `requires_approval` for this tenant: more than
    the environment's `approvals`, never fewer (`project.fewer-approvals`)."""
    environments: list[EnvName] | None = None
    """Environments this tenant deploys to (default: all of the platform's)."""
    placement: dict[EnvName, HostName] = Field(default_factory=dict)
    """Host per environment (default: the environment's first host)."""
    images: dict[ServiceName, BuiltImage] = Field(default_factory=dict)
    """Services whose images the app repo builds; their tag/digest is set at deploy time."""
    routes: list[Route] = Field(default_factory=list)
    """HTTP-routed services."""
    rollout: dict[ServiceName, Rollout] = Field(default_factory=dict)
    """Per routed service: roll a new release out in canary steps through the proxy and keep
    the previous release warm after the switch (needs `proxy:` in configs/platform.yml)."""
    secrets: list[SecretName] = Field(default_factory=list)
    """Names of secrets taken from the deploy environment and written to the host's env file."""
    backups: list[Backup] = Field(default_factory=list)
    """Backups taken before every switch to a new release."""
    notifications: dict[EnvName, list[Sink]] = Field(default_factory=dict)
    """Sinks of the tenant's own per environment, on top of the environment's (which it
    cannot remove). Their variables follow the tenant secret contract: `url_secret: NAME` is
    read from `<PROJECT>__NAME`, like the tenant's secrets (never written to the host)."""
    limits: dict[ServiceName, ResourceLimits] = Field(default_factory=dict)
    """Limits per service in place of the platform's `limits.default` of configs/platform.yml:
    lower, or higher up to its `limits.maximum` (`project.limit-above-maximum`)."""
