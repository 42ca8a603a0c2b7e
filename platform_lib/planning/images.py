"""Which image each built service deploys: explicit references, or the digests verified in the
environment this one deploys after (promotion by digest, never a floating tag)."""

from __future__ import annotations

from collections.abc import Mapping

from platform_lib.config.compose_policy import services
from platform_lib.config.images import is_digest, is_tag, is_valid_image_ref, parse_image
from platform_lib.config.interpolation import (
    InterpolationSyntaxError,
    MissingVariable,
    substitute,
)
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.errors import PlanError
from platform_lib.models.plan import ServerFacts


def repository_of(config: PlatformConfig, tenant: Tenant, service: str) -> str:
    registry = config.settings.registry
    return f"{registry.host}/{registry.namespace}/{tenant.manifest.images[service].repository}"


def expand_image(repository: str, given: str) -> str:
    """`v1.2` -> `<repo>:v1.2`; `sha256:...` or `@sha256:...` -> `<repo>@sha256:...`;
    a full reference must name the service's own repository."""
    if is_digest(given.removeprefix("@")):
        return f"{repository}@{given.removeprefix('@')}"
    if is_tag(given):
        return f"{repository}:{given}"
    if not is_valid_image_ref(given) or parse_image(given).repository != repository:
        raise PlanError(
            f"image {given!r} is not from {repository}",
            f"pass a tag, a digest, or a reference to {repository}",
        )
    return given


def resolve_images(
    config: PlatformConfig,
    tenant: Tenant,
    environment: str,
    explicit: Mapping[str, str],
    facts: ServerFacts | None,
) -> dict[str, str]:
    unknown = sorted(set(explicit) - set(tenant.manifest.images))
    if unknown:
        raise PlanError(
            f"{tenant.name} does not build {', '.join(unknown)}",
            f"built services: {', '.join(sorted(tenant.manifest.images)) or 'none'}",
        )
    source_env = config.settings.environments[environment].deploy_after
    verified = facts.verified_images if facts is not None else {}
    images: dict[str, str] = {}
    for service in sorted(tenant.manifest.images):
        repository = repository_of(config, tenant, service)
        if service in explicit:
            images[service] = expand_image(repository, explicit[service])
        elif source_env is not None and service in verified:
            ref = parse_image(verified[service])
            if ref.digest is None or not is_digest(ref.digest):
                raise PlanError(
                    f"{source_env} verified {service} as {verified[service]!r}, "
                    "which is not a digest",
                    "promotion deploys digests only",
                )
            images[service] = f"{repository}@{ref.digest}"
        elif source_env is not None:
            raise PlanError(
                f"no verified {source_env} image for {tenant.name}/{service}",
                f"{environment} deploys exactly what {source_env} verified: deploy {source_env} "
                f"first, or pass --image {service}=REF for an emergency override",
            )
        else:
            raise PlanError(
                f"no image given for {tenant.name}/{service}",
                f"pass --image {service}=TAG or --image {service}=sha256:DIGEST",
            )
    return images


def service_images(tenant: Tenant, environment: str, built: Mapping[str, str],
                   variables: Mapping[str, str]) -> dict[str, str]:  # fmt: skip
    """The image of every compose service as it will be pulled: the planned reference of a
    built service, the compose file's (interpolated) image of any other. A service whose image
    cannot be known without secret values is left out."""
    found: dict[str, str] = {}
    for name, spec in sorted(services(tenant.compose).items()):
        image = built.get(name, spec.get("image"))
        if not isinstance(image, str):
            continue
        try:
            found[name] = substitute(image, {**tenant.env_files[environment].values(),
                                             **variables})  # fmt: skip
        except (MissingVariable, InterpolationSyntaxError):
            continue
    return found
