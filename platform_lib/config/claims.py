"""What one tenant claims on shared resources: domains, host ports, aliases on shared networks,
repositories of the platform's registry namespace.

Extracted per tenant (`tenant_claims`) and checked against each other in `cross_tenant`, so a
tenant's claims can be kept (as plain data: `claims_to_data`/`claims_from_data`) and checked
without loading the tenant again."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from platform_lib.config.compose_policy import services
from platform_lib.config.domains import BASE_ENVIRONMENT, route_domains
from platform_lib.config.image_policy import image_references
from platform_lib.config.interpolation import (
    InterpolationSyntaxError,
    MissingVariable,
    substitute,
)
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.config.placement import placement_host
from platform_lib.config.ports import PublishedPort, published_ports
from platform_lib.config.repositories import (
    is_tenant_repository,
    owner_candidates,
    platform_repository,
)
from platform_lib.errors import Location


@dataclass(frozen=True)
class DomainClaim:
    domain: str
    listed: str
    """The environment whose domains list it, or BASE_ENVIRONMENT when derived."""
    env: str
    owner: str
    """`tenant/environment` making the claim."""
    location: Location


@dataclass(frozen=True)
class PortClaim:
    ports: PublishedPort
    machine: str
    host_name: str
    service: str
    env: str
    owner: str
    location: Location
    dynamic: bool
    """The entry names a variable: collisions within the tenant only show once resolved."""


@dataclass(frozen=True)
class AliasClaim:
    machine: str
    host_name: str
    network: str
    alias: str
    owner: str
    location: Location


@dataclass(frozen=True)
class RepositoryClaim:
    """A repository of the platform's namespace named for the tenant that it builds (the
    manifest) or runs (the compose file): a tenant with a longer name may own it."""

    repository: str
    location: Location


@dataclass(frozen=True)
class TenantClaims:
    """One tenant's claims, each kind in the order the tenant makes them."""

    tenant: str
    domains: tuple[DomainClaim, ...] = ()
    ports: tuple[PortClaim, ...] = ()
    aliases: tuple[AliasClaim, ...] = ()
    repositories: tuple[RepositoryClaim, ...] = ()


def deployments(config: PlatformConfig, tenant: Tenant) -> Iterator[str]:
    """The environments the tenant deploys to on a host its environment knows (an unknown
    placement is project.unknown-host already)."""
    for env in config.environments_of(tenant):
        hosts = config.settings.environments[env].hosts
        if placement_host(config.settings, tenant.manifest, env) in hosts:
            yield env


def machine(config: PlatformConfig, tenant: Tenant, env: str) -> tuple[str, str]:
    """(identity, name) of the machine a deployment runs on: two host names with one address
    are one machine, one name with two addresses is two."""
    name = placement_host(config.settings, tenant.manifest, env)
    host = config.settings.environments[env].hosts[name]
    identity = f"{host.address}" if host.kind == "ssh" else f"local:{host.docker_host or ''}"
    return identity, name


def tenant_claims(config: PlatformConfig, tenant: Tenant, broken_compose: bool) -> TenantClaims:
    """`broken_compose`: the compose file failed the schema, so only the manifest's domains
    are claimed (its schema problems are reported already)."""
    envs = list(deployments(config, tenant))
    domains = tuple(c for env in envs for c in _domains(config, tenant, env))
    repositories = _repositories(config, tenant, envs, broken_compose)
    if broken_compose:
        return TenantClaims(tenant.name, domains, repositories=repositories)
    ports = tuple(c for env in envs for c in _ports(config, tenant, env))
    aliases = tuple(c for env in envs for c in _aliases(config, tenant, env))
    return TenantClaims(tenant.name, domains, ports, aliases, repositories)


def _repositories(
    config: PlatformConfig, tenant: Tenant, envs: list[str], broken_compose: bool
) -> tuple[RepositoryClaim, ...]:
    """The tenant's repositories: its manifest's images, then those its compose file runs
    in each environment, each (repository, place) once. Repositories not named for the
    tenant are policy problems of its own (project.foreign-repository,
    policy.foreign-image), shared ones nobody's."""
    registry = config.settings.registry
    shared = set(registry.shared_repositories)
    found: dict[tuple[str, Location], None] = {}
    for service, image in tenant.manifest.images.items():
        found[(image.repository, tenant.manifest_doc.locate(["images", service, "repository"]))] = (
            None
        )
    built = set(tenant.manifest.images)
    for env in [] if broken_compose else envs:
        env_file = tenant.env_files.get(env)
        variables = env_file.values() if env_file is not None else {}
        for path, _, raw in image_references(tenant.compose.data, built):
            value = _resolved(raw, variables)
            repository = platform_repository(registry, value) if isinstance(value, str) else None
            if repository is not None:
                found[(repository, tenant.compose.locate(list(path)))] = None
    return tuple(
        RepositoryClaim(repository, where)
        for repository, where in found
        if repository not in shared and is_tenant_repository(tenant.name, repository)
    )


def _domains(config: PlatformConfig, tenant: Tenant, env: str) -> Iterator[DomainClaim]:
    for index, route in enumerate(tenant.manifest.routes):
        listed = env if env in route.domains else BASE_ENVIRONMENT
        for item, domain in enumerate(route_domains(config.settings, route, env)):
            where = tenant.manifest_doc.locate(["routes", index, "domains", listed, item])
            yield DomainClaim(domain, listed, env, f"{tenant.name}/{env}", where)


def _resolved(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str) and "$" in value:
        try:
            return substitute(value, variables)
        except (MissingVariable, InterpolationSyntaxError):
            return None
    if isinstance(value, dict):
        return {k: _resolved(v, variables) for k, v in value.items()}
    return value


def _ports(config: PlatformConfig, tenant: Tenant, env: str) -> Iterator[PortClaim]:
    identity, host_name = machine(config, tenant, env)
    env_file = tenant.env_files.get(env)
    variables = env_file.values() if env_file is not None else {}
    owner = f"{tenant.name}/{env}"
    for name, service in services(tenant.compose).items():
        for index, entry in enumerate(service.get("ports") or []):
            location = tenant.compose.locate(["services", name, "ports", index])
            dynamic = "$" in str(entry)
            for ports in published_ports(_resolved(entry, variables)) or []:
                yield PortClaim(ports, identity, host_name, name, env, owner, location, dynamic)


def _external_networks(compose: dict[str, Any]) -> dict[str, str]:
    """Compose network key -> real network name, for networks shared with other projects."""
    shared: dict[str, str] = {}
    for key, spec in (compose.get("networks") or {}).items():
        if isinstance(spec, dict) and spec.get("external"):
            shared[key] = str(spec.get("name") or key)
    return shared


def _attachments(service: dict[str, Any]) -> Iterator[tuple[str, list[object], list[str]]]:
    """(network key, path, aliases) for each network a service joins."""
    attached = service.get("networks") or {}
    if isinstance(attached, list):
        for index, key in enumerate(attached):
            yield str(key), ["networks", index], []
        return
    for key, spec in attached.items():
        aliases = (spec or {}).get("aliases") or []
        yield str(key), ["networks", key], [str(a) for a in aliases]


def _aliases(config: PlatformConfig, tenant: Tenant, env: str) -> Iterator[AliasClaim]:
    data = tenant.compose.data if isinstance(tenant.compose.data, dict) else {}
    shared = _external_networks(data)
    if not shared:
        return
    identity, host_name = machine(config, tenant, env)
    owner = f"{tenant.name}/{env}"
    for name, service in services(tenant.compose).items():
        for key, path, aliases in _attachments(service):
            if key not in shared:
                continue
            location = tenant.compose.locate(["services", name, *path])
            for alias in [name, *aliases]:
                yield AliasClaim(identity, host_name, shared[key], alias, owner, location)


def _location(data: Any) -> Location:
    file, line, column, pointer = data
    return Location(str(file), line, column, str(pointer))


def _where(location: Location) -> list[object]:
    return [location.file, location.line, location.column, location.pointer]


def _port_data(c: PortClaim) -> list[object]:
    ports = [c.ports.address, c.ports.first, c.ports.protocol, c.ports.last]
    return [ports, c.machine, c.host_name, c.service, c.env, c.owner, _where(c.location), c.dynamic]


def claim_resources(claims: TenantClaims) -> list[str]:
    """The resources of `claims` as strings: `d <domain>`, `a <machine>\t<network>\t<alias>`,
    `p <machine>\t<protocol>\t<first>-<last>`, `r <repository>`; `n <name>` for the tenant's
    own name and every tenant name its repositories are named for (so a tenant whose name
    owns one of them, and a tenant claiming one that this one's name owns, touch it)."""
    keys = [f"d {c.domain}" for c in claims.domains]
    keys += [f"n {claims.tenant}"]
    keys += [f"r {c.repository}" for c in claims.repositories]
    keys += [f"n {name}" for c in claims.repositories for name in owner_candidates(c.repository)]
    keys += [f"a {c.machine}\t{c.network}\t{c.alias}" for c in claims.aliases]
    keys += [
        f"p {c.machine}\t{c.ports.protocol}\t{c.ports.first}-{c.ports.last}" for c in claims.ports
    ]
    return keys


def claims_to_data(claims: TenantClaims) -> list[object]:
    """Plain JSON data of `claims` (what `claims_from_data` reads back): the resources they
    claim (for `ClaimFilter`), then the claims themselves as JSON text, decoded only when
    needed."""
    payload = {
        "tenant": claims.tenant,
        "domains": [
            [c.domain, c.listed, c.env, c.owner, _where(c.location)] for c in claims.domains
        ],
        "ports": [_port_data(c) for c in claims.ports],
        "aliases": [
            [c.machine, c.host_name, c.network, c.alias, c.owner, _where(c.location)]
            for c in claims.aliases
        ],
        "repositories": [[c.repository, _where(c.location)] for c in claims.repositories],
    }
    return [claim_resources(claims), json.dumps(payload, separators=(",", ":"))]


def claims_from_data(data: Any) -> TenantClaims:
    """The claims `claims_to_data` wrote; ValueError (or a KeyError/TypeError/IndexError) on
    other data."""
    payload = json.loads(data[1])
    domains = tuple(
        DomainClaim(str(d), str(listed), str(env), str(owner), _location(where))
        for d, listed, env, owner, where in payload["domains"]
    )
    ports = tuple(
        PortClaim(
            PublishedPort(str(p[0]), int(p[1]), str(p[2]), int(p[3])),
            str(m), str(h), str(s), str(e), str(o), _location(w), bool(dyn),
        )
        for p, m, h, s, e, o, w, dyn in payload["ports"]
    )  # fmt: skip
    aliases = tuple(
        AliasClaim(str(m), str(h), str(n), str(a), str(o), _location(w))
        for m, h, n, a, o, w in payload["aliases"]
    )
    repositories = tuple(RepositoryClaim(str(r), _location(w)) for r, w in payload["repositories"])
    return TenantClaims(str(payload["tenant"]), domains, ports, aliases, repositories)


class ClaimFilter:
    """Which other tenants' claims can change what `claim_problems` reports at `own`'s
    claims: those sharing a domain, an alias on a shared network of the same machine, a tenant
    name a repository is named for (`claim_resources`), or a
    port (same machine and protocol, overlapping). A problem is reported at a claim for the
    first claim of the same resource, and at the first claim for each later one of another
    tenant; which claim is first for a port depends only on the claims covering that port,
    so the others cannot change either."""

    def __init__(self, own: TenantClaims, tenants: Collection[str] | None = None) -> None:
        """`tenants`: every tenant's name, when known. A name a repository is named for that
        no tenant has owns nothing, so it is no resource: without this, every tenant whose
        repositories share a prefix with the own ones (`shop-1-web` and `shop-2-web` are both
        named for `shop`) would touch them."""
        self.keys = {
            k
            for k in claim_resources(own)
            if not k.startswith("p ")
            and (tenants is None or not k.startswith("n ") or k[2:] in tenants)
        }
        self.ports: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for c in own.ports:
            self.ports.setdefault((c.machine, c.ports.protocol), []).append(
                (c.ports.first, c.ports.last)
            )

    def touches(self, keys: list[str]) -> bool:
        """Whether the resources of claims data (`claims_to_data`: its first item) share one
        with the own claims; raises (ValueError, KeyError, TypeError, IndexError,
        AttributeError) on resources it did not write. Called for every other tenant."""
        if not self.keys.isdisjoint(keys):
            return True
        if not self.ports:
            return False
        for key in keys:
            if not key.startswith("p "):
                continue
            where, _, ports = key[2:].rpartition("\t")
            machine, _, protocol = where.rpartition("\t")
            ranges = self.ports.get((machine, protocol))
            if ranges:
                low, _, high = ports.partition("-")
                for first, last in ranges:
                    if int(low) <= last and first <= int(high):
                        return True
        return False
