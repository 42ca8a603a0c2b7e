"""Rules across tenants and environments that share hosts, domains and networks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from platform_lib.config.compose_policy import services
from platform_lib.config.domains import route_domains
from platform_lib.config.interpolation import (
    InterpolationSyntaxError,
    MissingVariable,
    substitute,
)
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.config.placement import placement_host
from platform_lib.config.ports import PublishedPort, published_ports
from platform_lib.errors import Location, Problem


@dataclass(frozen=True)
class Claim:
    owner: str
    """`tenant/environment` making the claim."""
    location: Location


def cross_tenant_problems(config: PlatformConfig) -> list[Problem]:
    return _domain_conflicts(config) + _port_conflicts(config) + _alias_conflicts(config)


def _deployments(config: PlatformConfig) -> Iterator[tuple[Tenant, str]]:
    for name in sorted(config.tenants):
        tenant = config.tenants[name]
        for env in config.environments_of(tenant):
            yield tenant, env


def _domain_conflicts(config: PlatformConfig) -> list[Problem]:
    claims: dict[str, Claim] = {}
    problems: list[Problem] = []
    for tenant, env in _deployments(config):
        for index, route in enumerate(tenant.manifest.routes):
            path: list[object] = ["routes", index, "domains"]
            path += [env] if env in route.domains else []
            for domain in route_domains(config.settings, route, env):
                claim = Claim(f"{tenant.name}/{env}", tenant.manifest_doc.locate(path))
                first = claims.setdefault(domain, claim)
                if first is not claim:
                    problems.append(
                        Problem(
                            claim.location,
                            "tenant.domain-conflict",
                            f"{domain} ({claim.owner}) is already claimed by {first.owner} "
                            f"at {first.location}",
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


def _port_conflicts(config: PlatformConfig) -> list[Problem]:
    claims: dict[str, list[tuple[PublishedPort, Claim]]] = {}
    problems: list[Problem] = []
    for tenant, env in _deployments(config):
        host = placement_host(config.settings, tenant.manifest, env)
        env_file = tenant.env_files.get(env)
        variables = env_file.values() if env_file is not None else {}
        owner = f"{tenant.name}/{env}"
        taken = claims.setdefault(host, [])
        for name, service in services(tenant.compose).items():
            for index, entry in enumerate(service.get("ports") or []):
                location = tenant.compose.locate(["services", name, "ports", index])
                for port in published_ports(_resolved(entry, variables)) or []:
                    clash = next(
                        (c for p, c in taken if p.clashes_with(port) and c.owner != owner), None
                    )
                    if clash is not None:
                        problems.append(
                            Problem(
                                location,
                                "host.port-conflict",
                                f"{owner} publishes port {port} on host {host!r}, already "
                                f"published by {clash.owner} at {clash.location}",
                                "choose another host port (per environment via ${VAR} in the env "
                                "file) or route HTTP through the proxy with routes: in project.yml",
                            )
                        )
                    else:
                        taken.append((port, Claim(owner, location)))
    return problems


def _external_networks(compose: dict[str, Any]) -> dict[str, str]:
    """Compose network key -> real network name, for networks shared with other projects."""
    shared: dict[str, str] = {}
    for key, spec in (compose.get("networks") or {}).items():
        if isinstance(spec, dict) and spec.get("external"):
            shared[key] = str(spec.get("name") or key)
    return shared


def _alias_conflicts(config: PlatformConfig) -> list[Problem]:
    claims: dict[tuple[str, str, str], Claim] = {}
    problems: list[Problem] = []
    for tenant, env in _deployments(config):
        data = tenant.compose.data if isinstance(tenant.compose.data, dict) else {}
        shared = _external_networks(data)
        if not shared:
            continue
        host = placement_host(config.settings, tenant.manifest, env)
        owner = f"{tenant.name}/{env}"
        for name, service in services(tenant.compose).items():
            attached = service.get("networks") or {}
            keys = attached if isinstance(attached, dict) else dict.fromkeys(attached)
            for key, spec in keys.items():
                if key not in shared:
                    continue
                aliases = [name, *((spec or {}).get("aliases") or [])]
                for alias in aliases:
                    at = ["services", name, "networks", key]
                    claim = Claim(owner, tenant.compose.locate(at))
                    first = claims.setdefault((host, shared[key], str(alias)), claim)
                    if first is not claim and first.owner != owner:
                        problems.append(
                            Problem(
                                claim.location,
                                "network.alias-conflict",
                                f"{owner} answers as {alias!r} on shared network {shared[key]!r} "
                                f"of host {host!r}, as does {first.owner} at {first.location}",
                                "DNS on a shared network would round-robin between them; give the "
                                "service a unique alias (e.g. prefixed with the project name) and "
                                "use that",
                            )
                        )
    return problems
