"""A deploy plan: frozen data, made by a pure function, applied as one script."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializationInfo, SerializerFunctionWrapHandler, model_serializer

from platform_lib.models.base import Model
from platform_lib.models.limits import ResourceLimits
from platform_lib.models.rollout import Rollout

OnFailure = Literal["abort", "rollback", "warn"]


class ServerFacts(Model):
    """What a plan was made against, read from the host (or given as a file)."""

    current_release: str | None = None
    """The release `current` points at; a plan refuses to apply if it changed since."""
    current_images: dict[str, str] = Field(default_factory=dict)
    """Service -> image digest the current release runs (shown as what will change)."""
    verified_images: dict[str, str] = Field(default_factory=dict)
    """Service -> image digest of the last good release of the environment this one deploys
    after (promotion by digest)."""


class Step(Model):
    id: str
    title: str
    argv: tuple[str, ...] = Field(min_length=1)
    timeout: int = Field(ge=1)
    on_failure: OnFailure
    stdin_file: str | None = None
    """Path of one of the plan's files, fed to the step on standard input."""


class PlannedFile(Model):
    path: str
    """Absolute path on the host."""
    mode: Literal["0644", "0600"]
    sha256: str
    content: str


class TargetHost(Model):
    name: str
    kind: Literal["ssh", "local"]
    address: str | None
    port: int
    user: str
    host_key: str | None
    docker_host: str | None


class PlanGrant(Model):
    """An exception to the tenant security policy that this tenant's config uses."""

    rule: str
    service: str | None
    reason: str


class WindowOverride(Model):
    """A deploy made while its environment's deployment windows were closed, by an explicit
    override (`deploy --outside-window REASON`)."""

    reason: str = Field(min_length=1, max_length=500)
    """Why it could not wait, as given."""
    closed_by: str
    """What closed the windows: a deny period, or being outside the allow windows."""
    next_open: str | None
    """When the windows would have opened (ISO 8601 with the zone's offset)."""


class Plan(Model):
    format: Literal[1] = 1
    kind: Literal["deploy", "rollback"] = "deploy"
    """`deploy` stages a new release; `rollback` switches back to one already on the host."""
    id: str = ""
    """sha256 of the plan's canonical JSON (with this field empty)."""
    project: str
    environment: str
    compose_project: str
    release: str
    created_at: str
    actor: str
    platform_sha: str
    host: TargetHost
    base_dir: str
    """`<deploy_root>/projects/<project>/<environment>` on the host."""
    images: dict[str, str]
    """Built service -> image reference deployed."""
    secrets: tuple[str, ...]
    """Names of the tenant's secrets (never values), written to its env file on the host. The
    deploy reads each from `<PROJECT>__<NAME>` (config/credentials.py)."""
    credentials: tuple[str, ...] = ()
    """Names of the platform's own credentials the deploy uses on the host (the registry
    token); never given to the tenant."""
    grants: tuple[PlanGrant, ...] = ()
    """Exceptions to the tenant security policy this tenant's config uses, with their reasons."""
    window_override: WindowOverride | None = None
    """Set when the deploy starts outside its deployment windows, by an override."""
    domains: tuple[str, ...]
    facts: ServerFacts | None
    files: tuple[PlannedFile, ...]
    steps: tuple[Step, ...]
    rollback: tuple[Step, ...]
    """Run after a failed `rollback` step: restore the previous release and verify it."""
    rollouts: dict[str, Rollout] = Field(default_factory=dict)
    """Routed services rolled out in canary steps (`rollout:` of the manifest), as planned;
    left out of the plan's JSON when there are none."""
    limits: dict[str, ResourceLimits] = Field(default_factory=dict)
    """Each limited service's memory (bytes), CPU and process limits, as the release's
    `platform.override.yml` sets them; left out of the plan's JSON when there are none."""

    @model_serializer(mode="wrap")
    def _without_empty_rollouts(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        """A plan without rollouts or limits serializes as before they existed (same id, same
        file)."""
        data = handler(self)
        for key in ("rollouts", "limits"):
            if isinstance(data, dict) and not data.get(key):
                data.pop(key, None)
        return data
