"""`project.foreign-repository`: every image a tenant's manifest builds is a repository of
its own in the platform's registry namespace (config/repositories.py). A dispatch may deploy
only these repositories (planning/images.py `expand_image`), so this is what makes a
tenant's deploys its own images."""

from __future__ import annotations

from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.config.repositories import is_tenant_repository
from platform_lib.errors import Problem


def manifest_repository_problems(config: PlatformConfig, tenant: Tenant) -> list[Problem]:
    registry = config.settings.registry
    where = f"{registry.host}/{registry.namespace}"
    shared = set(registry.shared_repositories)
    problems = []
    for service, image in tenant.manifest.images.items():
        if is_tenant_repository(tenant.name, image.repository) or image.repository in shared:
            continue
        problems.append(
            Problem(
                tenant.manifest_doc.locate(["images", service, "repository"]),
                "project.foreign-repository",
                f"service {service!r} deploys {where}/{image.repository}, which is not "
                f"{tenant.name}'s: a tenant's repositories are named {tenant.name} or "
                f"{tenant.name}-...",
                f"name the repository for the tenant (e.g. {tenant.name}-{service}) and push "
                "the app's image there; every other repository belongs to the tenant it is "
                "named for",
            )
        )
    return problems
