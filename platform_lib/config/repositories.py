"""Who owns a repository of the platform's registry namespace.

The host pulls with the platform's registry login, so every repository under
`registry.host/registry.namespace` is reachable from any tenant's compose file unless the
platform says whose it is. It says so by name: repository `R` belongs to tenant `T` when R's
first path component is `T` or starts with `T-` (`paiss-web`, `filter-ical-backend`), and of
two tenants whose names both fit (`shop` and `shop-admin` for `shop-admin-web`) to the one
with the longer name. `registry.shared_repositories` are the platform's own, for every tenant
to run. A tenant's manifest images, the images its compose file runs and its `type: image`
volumes must be its own repositories (or shared ones) there; images elsewhere (Docker Hub,
another registry) are third-party and only need a pin."""

from __future__ import annotations

from collections.abc import Collection

from platform_lib.config.images import is_valid_image_ref
from platform_lib.models.settings import Registry

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


def _domain(host: str) -> str:
    host = host.lower()
    return DOCKER_HUB if host in _HUB_ALIASES else host


def split_reference(ref: str) -> tuple[str, str]:
    """(registry, repository path) of an image reference, as docker reads it: a first
    component with a `.` or a `:`, or `localhost`, names the registry (compared
    case-insensitively); any other reference is Docker Hub's."""
    name = ref.partition("@")[0]
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first.lower() == "localhost"):
        domain, path = _domain(first), rest
    else:
        domain, path = DOCKER_HUB, name
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        path = path[:colon]
    return domain, path


def platform_repository(registry: Registry, ref: str) -> str | None:
    """The repository of `ref` under the platform's namespace (`paiss-web` of
    `ghcr.io/example-org/paiss-web:1.0`), or None when `ref` is outside it or no reference
    docker reads (compose.invalid-image)."""
    if not is_valid_image_ref(ref):
        return None
    domain, path = split_reference(ref)
    if domain != _domain(registry.host):
        return None
    namespace, slash, repository = path.partition("/")
    if not slash or namespace != registry.namespace or not repository:
        return None
    return repository


def is_tenant_repository(project: str, repository: str) -> bool:
    """Whether `repository` is named for `project`: `<project>` or `<project>-...` (its first
    path component). A tenant with a longer name may still own it (`repository_owner`)."""
    first = repository.split("/", 1)[0]
    return first == project or first.startswith(f"{project}-")


def owner_candidates(repository: str) -> tuple[str, ...]:
    """Every tenant name `repository` is named for, shortest first: `shop`, `shop-admin`,
    `shop-admin-web` for `shop-admin-web`."""
    parts = repository.split("/", 1)[0].split("-")
    return tuple("-".join(parts[: i + 1]) for i in range(len(parts)) if parts[i])


def repository_owner(repository: str, tenants: Collection[str]) -> str | None:
    """The tenant owning `repository`: the longest of `tenants` it is named for."""
    found = [name for name in owner_candidates(repository) if name in tenants]
    return found[-1] if found else None
