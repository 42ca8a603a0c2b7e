"""Domains of a route per environment."""

from __future__ import annotations

from platform_lib.models.project import Route
from platform_lib.models.settings import PlatformSettings

BASE_ENVIRONMENT = "production"


def route_domains(settings: PlatformSettings, route: Route, environment: str) -> list[str]:
    """Explicit domains for the environment, else the production domains through the
    environment's `domain_template` (e.g. `staging.{domain}`)."""
    if environment in route.domains:
        return list(route.domains[environment])
    base = route.domains.get(BASE_ENVIRONMENT, [])
    env = settings.environments.get(environment)
    template = env.domain_template if env is not None else "{domain}"
    return [template.replace("{domain}", domain) for domain in base]
