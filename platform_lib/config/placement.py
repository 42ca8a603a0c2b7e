"""Which host a tenant runs on in an environment."""

from __future__ import annotations

from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings


def placement_host(settings: PlatformSettings, manifest: ProjectManifest, environment: str) -> str:
    """The manifest's placement for the environment, else the environment's first host."""
    hosts = settings.environments[environment].hosts
    return manifest.placement.get(environment) or next(iter(hosts))
