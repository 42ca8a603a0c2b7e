"""`policy.foreign-image`: a tenant's compose file runs no image of the platform's registry
namespace but its own repositories and the shared ones (config/repositories.py).

The host pulls with the platform's registry login, so another tenant's private image there
would be pulled for anyone naming it: in a service's `image:` or as the source of a
`type: image` volume. Built services are left out: the platform sets their image."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from typing import Any

from platform_lib.config.platform_vars import compose_project, image_variable
from platform_lib.config.repositories import is_tenant_repository, platform_repository
from platform_lib.config.tenant_policy import Finding, resolve
from platform_lib.models.settings import Registry


def image_references(data: Any, built: Set[str]) -> Iterator[tuple[tuple[object, ...], str, Any]]:
    """(path, service, raw value) of every image a compose document runs but the built
    services' own: `services.<name>.image` and `type: image` volume sources."""
    found = data.get("services") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        return
    for name, service in found.items():
        if not isinstance(service, dict):
            continue
        at: tuple[object, ...] = ("services", str(name))
        if str(name) not in built and "image" in service:
            yield (*at, "image"), str(name), service["image"]
        volumes = service.get("volumes")
        for index, entry in enumerate(volumes if isinstance(volumes, list) else []):
            if isinstance(entry, dict) and entry.get("type") == "image" and "source" in entry:
                yield (*at, "volumes", index, "source"), str(name), entry["source"]


def _fixed_name(raw: str, registry: Registry) -> str | None:
    """The image name of a reference whose variables are all in its tag or digest
    (`postgres:${PG_TAG}`), whatever their values; None when a variable may change it. A
    colon in a reference without `/` may be a registry's port (`x:${PORT}/...`), which only
    matters for the platform registry's own host name."""
    prefix = raw.split("$", 1)[0]
    name, digest, _ = prefix.partition("@")
    if digest:
        return name
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon <= slash:
        return None
    if slash < 0 and name[:colon].lower() == registry.host.split(":")[0]:
        return None
    return name[:colon]


def platform_values(
    registry: Registry, project: str, environment: str, built: Mapping[str, str]
) -> dict[str, str]:
    """The platform's variables an image may be named with, as far as they name it:
    `PLATFORM_IMAGE_<SERVICE>` is the built service's repository (its digest is set at deploy
    time), `PLATFORM_PROJECT` the tenant, ..."""
    values = {
        "PLATFORM_PROJECT": project,
        "PLATFORM_ENVIRONMENT": environment,
        "PLATFORM_COMPOSE_PROJECT": compose_project(project, environment),
    }
    for service, repository in built.items():
        values[image_variable(service)] = f"{registry.host}/{registry.namespace}/{repository}"
    return values


def image_findings(
    data: Any,
    variables: Mapping[str, str],
    registry: Registry,
    project: str,
    built: Set[str],
) -> list[Finding]:
    """The images of one compose document (with one environment's `variables` put in, the
    env file's and `platform_values`) that are repositories of the platform's namespace
    `project` may not run."""
    findings: list[Finding] = []
    shared = set(registry.shared_repositories)
    where = f"{registry.host}/{registry.namespace}"
    for path, service, raw in image_references(data, built):
        what = "an image" if path[-1] == "image" else "a volume's image"
        value = resolve(raw, variables)
        if isinstance(raw, str) and not isinstance(value, str):
            value = _fixed_name(raw, registry)
        if isinstance(raw, str) and not isinstance(value, str):
            findings.append(
                Finding(
                    path,
                    "policy.unchecked-variable",
                    f"service {service!r} sets {what} through a variable the platform cannot check",
                    "write the image itself, or set the variable in the env file",
                    service,
                )
            )
            continue
        if not isinstance(value, str):
            continue
        repository = platform_repository(registry, value)
        if repository is None or repository in shared or is_tenant_repository(project, repository):
            continue
        findings.append(
            Finding(
                path,
                "policy.foreign-image",
                f"service {service!r} runs {value!r}: repository {repository!r} of the "
                f"platform's registry ({where}) is not {project}'s",
                f"run your own repositories ({where}/{project}-...), one the platform "
                f"shares (registry.shared_repositories), or an image outside {where}; the "
                "host pulls with the platform's login, so another tenant's image is theirs",
                service,
            )
        )
    return findings
