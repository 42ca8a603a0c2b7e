"""Rules across tenants and environments that share hosts, domains and networks."""

from __future__ import annotations

from collections.abc import Iterator, Set
from dataclasses import dataclass
from typing import Any

from platform_lib.config.compose_policy import services
from platform_lib.config.domains import BASE_ENVIRONMENT, route_domains
from platform_lib.config.interpolation import (
    InterpolationSyntaxError,
    MissingVariable,
    substitute,
)
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.config.placement import placement_host
from platform_lib.config.ports import PortClaims, PublishedPort, published_ports
from platform_lib.errors import Location, Problem


@dataclass(frozen=True)
class Claim:
    owner: str
    """`tenant/environment` making the claim."""
    location: Location


def cross_tenant_problems(config: PlatformConfig, broken_compose: Set[str]) -> list[Problem]:
    """`broken_compose`: tenants whose compose file failed the schema; their compose contents
    are left out of the cross-tenant rules (the schema problems are reported already)."""
    return (
        _domain_conflicts(config)
        + _port_conflicts(config, broken_compose)
        + _alias_conflicts(config, broken_compose)
    )


def _deployments(
    config: PlatformConfig, skip: Set[str] = frozenset()
) -> Iterator[tuple[Tenant, str]]:
    for name in sorted(config.tenants):
        if name in skip:
            continue
        tenant = config.tenants[name]
        for env in config.environments_of(tenant):
            hosts = config.settings.environments[env].hosts
            if placement_host(config.settings, tenant.manifest, env) in hosts:
                yield tenant, env  # an unknown placement is project.unknown-host already


def _machine(config: PlatformConfig, tenant: Tenant, env: str) -> tuple[str, str]:
    """(identity, name) of the machine a deployment runs on: two host names with one address
    are one machine, one name with two addresses is two."""
    name = placement_host(config.settings, tenant.manifest, env)
    host = config.settings.environments[env].hosts[name]
    identity = f"{host.address}" if host.kind == "ssh" else f"local:{host.docker_host or ''}"
    return identity, name


def _domain_conflicts(config: PlatformConfig) -> list[Problem]:
    claims: dict[str, Claim] = {}
    problems: list[Problem] = []
    for tenant, env in _deployments(config):
        for index, route in enumerate(tenant.manifest.routes):
            listed = env if env in route.domains else BASE_ENVIRONMENT
            for item, domain in enumerate(route_domains(config.settings, route, env)):
                where = tenant.manifest_doc.locate(["routes", index, "domains", listed, item])
                claim = Claim(f"{tenant.name}/{env}", where)
                first = claims.setdefault(domain, claim)
                if first is not claim:
                    derived = "" if listed == env else f" (derived from {listed})"
                    problems.append(
                        Problem(
                            claim.location,
                            "tenant.domain-conflict",
                            f"{domain}{derived} ({claim.owner}) is already claimed by "
                            f"{first.owner} at {first.location}",
                            "a domain routes to exactly one tenant and environment; pick another",
                        )
                    )
    return problems


def _resolved(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str) and "$" in value:
        try:
            return substitute(value, variables)
        except (MissingVariable, InterpolationSyntaxError):
            return None
    if isinstance(value, dict):
        return {k: _resolved(v, variables) for k, v in value.items()}
    return value


def _has_variable(entry: Any) -> bool:
    return "$" in str(entry)


def _port_conflicts(config: PlatformConfig, skip: Set[str]) -> list[Problem]:
    taken: dict[str, PortClaims[tuple[Claim, bool]]] = {}
    proxy = _proxy_ports(config)
    problems: list[Problem] = []
    for tenant, env in _deployments(config, skip):
        machine, host_name = _machine(config, tenant, env)
        env_file = tenant.env_files.get(env)
        variables = env_file.values() if env_file is not None else {}
        owner = f"{tenant.name}/{env}"
        claims = taken.setdefault(machine, PortClaims())
        for name, service in services(tenant.compose).items():
            for index, entry in enumerate(service.get("ports") or []):
                location = tenant.compose.locate(["services", name, "ports", index])
                dynamic = _has_variable(entry)
                for ports in published_ports(_resolved(entry, variables)) or []:
                    for listens, what, where in proxy:
                        overlap = ports.overlap(listens)
                        if overlap is not None:
                            problems.append(
                                Problem(
                                    location,
                                    "host.proxy-port",
                                    f"{owner} {_publishes(ports, overlap)} on host "
                                    f"{host_name!r}, {what} at {where}",
                                    "the proxy listens on this port on every address of every "
                                    "host: route HTTP through it with routes: in project.yml, "
                                    "or publish another host port",
                                )
                            )
                    clashes = claims.claim(ports, (Claim(owner, location), dynamic))
                    other = next(((o, c) for o, (c, _) in clashes if c.owner != owner), None)
                    if other is not None:
                        overlap, first = other
                        problems.append(
                            Problem(
                                location,
                                "host.port-conflict",
                                f"{owner} {_publishes(ports, overlap)} on host {host_name!r}, "
                                f"already published by {first.owner} at {first.location}",
                                "choose another host port (per environment via ${VAR} in the "
                                "env file) or route HTTP through the proxy with routes: in "
                                "project.yml",
                            )
                        )
                    own = next(
                        ((o, c) for o, (c, d) in clashes if c.owner == owner and (d or dynamic)),
                        None,
                    )
                    if own is not None:
                        # Same file: collisions of literal ports are compose.port-collision
                        # already; through variables they only show once interpolated.
                        overlap, first = own
                        problems.append(
                            Problem(
                                location,
                                "compose.port-collision",
                                f"service {name!r} {_publishes(ports, overlap, 'host ')} in "
                                f"{env}, already published at {first.location}",
                                "publish each host port once",
                            )
                        )
    return problems


def _publishes(ports: PublishedPort, overlap: PublishedPort, kind: str = "") -> str:
    """`publishes port 8080/tcp`, or for a range `publishes ports 8000-8100/tcp: 8080/tcp of
    them` (the part the message goes on about)."""
    if ports.first == ports.last:
        return f"publishes {kind}port {ports}"
    return f"publishes {kind}ports {ports}: {overlap} of them"


def _proxy_ports(config: PlatformConfig) -> list[tuple[PublishedPort, str, str]]:
    """The ports the proxy listens on, on every host (every address), when there is one."""
    proxy = config.settings.proxy
    if proxy is None:
        return []
    doc = config.settings_doc
    return [
        (
            PublishedPort("", port, "tcp", port),
            f"where the proxy listens for {label} ({key}: {port})",
            str(doc.locate(["proxy", key])),
        )
        for key, label, port in (
            ("http_port", "HTTP", proxy.http_port),
            ("https_port", "HTTPS", proxy.https_port),
        )
    ]


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


def _alias_conflicts(config: PlatformConfig, skip: Set[str]) -> list[Problem]:
    claims: dict[tuple[str, str, str], Claim] = {}
    problems: list[Problem] = []
    for tenant, env in _deployments(config, skip):
        data = tenant.compose.data if isinstance(tenant.compose.data, dict) else {}
        shared = _external_networks(data)
        if not shared:
            continue
        machine, host_name = _machine(config, tenant, env)
        owner = f"{tenant.name}/{env}"
        for name, service in services(tenant.compose).items():
            for key, path, aliases in _attachments(service):
                if key not in shared:
                    continue
                claim = Claim(owner, tenant.compose.locate(["services", name, *path]))
                for alias in [name, *aliases]:
                    first = claims.setdefault((machine, shared[key], alias), claim)
                    if first is not claim and first.owner != owner:
                        problems.append(
                            Problem(
                                claim.location,
                                "network.alias-conflict",
                                f"{owner} answers as {alias!r} on shared network "
                                f"{shared[key]!r} of host {host_name!r}, as does {first.owner} "
                                f"at {first.location}",
                                "DNS on a shared network would round-robin between them; give "
                                "the service a unique alias (e.g. prefixed with the project "
                                "name) and use that",
                            )
                        )
    return problems
