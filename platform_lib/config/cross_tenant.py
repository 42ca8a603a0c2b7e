"""Rules across tenants and environments that share hosts, domains and networks.

Each tenant's claims (config/claims.py) are checked in tenant order: the first claim of a
domain, port or alias keeps it, and each later one is a problem at the later claim's location
naming the first. When the two claims are of different tenants, the first one is a problem
too, at its own location naming the later (`_mirror`): a one-tenant plan keeps only the
problems in that tenant's folder, so either tenant's plan refuses, not only the one sorting
later (a new tenant claiming an existing tenant's domain would otherwise deploy it).

A repository of the platform's namespace belongs to the tenant with the longest name it is
named for (config/repositories.py): a shorter-named tenant's claim of it is a problem at that
claim, and when the owner claims it too, at the owner's claim as well, each naming the other."""

from __future__ import annotations

from collections.abc import Sequence

from platform_lib.config.claims import DomainClaim, TenantClaims
from platform_lib.config.loader import PlatformConfig
from platform_lib.config.ports import PortClaims, PublishedPort
from platform_lib.config.repositories import repository_owner
from platform_lib.errors import Location, Problem


def claim_problems(config: PlatformConfig, claims: Sequence[TenantClaims]) -> list[Problem]:
    """The conflicts among `claims` (one entry per tenant, in tenant-name order)."""
    ordered = sorted(claims, key=lambda c: c.tenant)
    return (
        _domain_conflicts(ordered)
        + _port_conflicts(config, ordered)
        + _alias_conflicts(ordered)
        + _repository_conflicts(config, ordered)
    )


def _tenant_of(owner: str) -> str:
    """`paiss/staging` -> `paiss`."""
    return owner.partition("/")[0]


def _mirror(first_owner: str, later_owner: str) -> bool:
    """Whether a conflict is reported at the first claim too: when another tenant made the
    later one (within one tenant the later claim's problem is in the same folder already)."""
    return _tenant_of(first_owner) != _tenant_of(later_owner)


def _domain_conflicts(claims: Sequence[TenantClaims]) -> list[Problem]:
    first_claims: dict[str, DomainClaim] = {}
    problems: list[Problem] = []
    for tenant in claims:
        for claim in tenant.domains:
            first = first_claims.get(claim.domain)
            if first is None:
                first_claims[claim.domain] = claim
                continue
            problems.append(
                Problem(
                    claim.location,
                    "tenant.domain-conflict",
                    f"{claim.domain}{_derived(claim)} ({claim.owner}) is already claimed by "
                    f"{first.owner} at {first.location}",
                    "a domain routes to exactly one tenant and environment; pick another",
                )
            )
            if _mirror(first.owner, claim.owner):
                problems.append(
                    Problem(
                        first.location,
                        "tenant.domain-conflict",
                        f"{first.domain}{_derived(first)} ({first.owner}) is claimed by "
                        f"{claim.owner} too, at {claim.location}",
                        "a domain routes to exactly one tenant and environment: neither "
                        "deploys until one of the two claims is removed (if the domain is "
                        f"{_tenant_of(first.owner)}'s, the other claim is the one to remove)",
                    )
                )
    return problems


def _derived(claim: DomainClaim) -> str:
    return "" if claim.listed == claim.env else f" (derived from {claim.listed})"


def _port_conflicts(config: PlatformConfig, claims: Sequence[TenantClaims]) -> list[Problem]:
    taken: dict[str, PortClaims[tuple[str, Location, bool]]] = {}
    proxy = _proxy_ports(config)
    problems: list[Problem] = []
    for tenant in claims:
        for claim in tenant.ports:
            ports, owner, location, dynamic = (
                claim.ports,
                claim.owner,
                claim.location,
                claim.dynamic,
            )
            for listens, what, where in proxy:
                overlap = ports.overlap(listens)
                if overlap is not None:
                    problems.append(
                        Problem(
                            location,
                            "host.proxy-port",
                            f"{owner} {_publishes(ports, overlap)} on host "
                            f"{claim.host_name!r}, {what} at {where}",
                            "the proxy listens on this port on every address of every "
                            "host: route HTTP through it with routes: in project.yml, "
                            "or publish another host port",
                        )
                    )
            machine_claims = taken.setdefault(claim.machine, PortClaims())
            clashes = machine_claims.claim(ports, (owner, location, dynamic))
            for overlap, (first_owner, first_location, _) in clashes:
                if _mirror(first_owner, owner):
                    problems.append(
                        Problem(
                            first_location,
                            "host.port-conflict",
                            f"{first_owner} publishes "
                            f"{'port' if overlap.first == overlap.last else 'ports'} {overlap} "
                            f"on host {claim.host_name!r}, which {owner} publishes too, at "
                            f"{location}",
                            "a host port is published by one tenant: neither deploys until "
                            "one of the two is changed (per environment via ${VAR} in the env "
                            "file) or routed through the proxy with routes: in project.yml",
                        )
                    )
            other = next(((o, c) for o, c in clashes if c[0] != owner), None)
            if other is not None:
                overlap, (first_owner, first_location, _) = other
                problems.append(
                    Problem(
                        location,
                        "host.port-conflict",
                        f"{owner} {_publishes(ports, overlap)} on host {claim.host_name!r}, "
                        f"already published by {first_owner} at {first_location}",
                        "choose another host port (per environment via ${VAR} in the "
                        "env file) or route HTTP through the proxy with routes: in "
                        "project.yml",
                    )
                )
            own = next(
                ((o, c) for o, c in clashes if c[0] == owner and (c[2] or dynamic)),
                None,
            )
            if own is not None:
                # Same file: collisions of literal ports are compose.port-collision
                # already; through variables they only show once interpolated.
                overlap, (_, first_location, _) = own
                problems.append(
                    Problem(
                        location,
                        "compose.port-collision",
                        f"service {claim.service!r} {_publishes(ports, overlap, 'host ')} in "
                        f"{claim.env}, already published at {first_location}",
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


def _alias_conflicts(claims: Sequence[TenantClaims]) -> list[Problem]:
    first_claims: dict[tuple[str, str, str], tuple[str, Location]] = {}
    problems: list[Problem] = []
    for tenant in claims:
        for claim in tenant.aliases:
            key = (claim.machine, claim.network, claim.alias)
            first_owner, first_location = first_claims.setdefault(
                key, (claim.owner, claim.location)
            )
            if _mirror(first_owner, claim.owner):
                problems.append(
                    Problem(
                        first_location,
                        "network.alias-conflict",
                        f"{first_owner} answers as {claim.alias!r} on shared network "
                        f"{claim.network!r} of host {claim.host_name!r}, as does "
                        f"{claim.owner} at {claim.location}",
                        "DNS on a shared network would round-robin between them: neither "
                        "deploys until one of the two uses a unique alias (e.g. prefixed "
                        "with the project name)",
                    )
                )
            if first_owner != claim.owner:
                problems.append(
                    Problem(
                        claim.location,
                        "network.alias-conflict",
                        f"{claim.owner} answers as {claim.alias!r} on shared network "
                        f"{claim.network!r} of host {claim.host_name!r}, as does {first_owner} "
                        f"at {first_location}",
                        "DNS on a shared network would round-robin between them; give "
                        "the service a unique alias (e.g. prefixed with the project "
                        "name) and use that",
                    )
                )
    return problems


def _repository_conflicts(config: PlatformConfig, claims: Sequence[TenantClaims]) -> list[Problem]:
    names = {c.tenant for c in claims}
    first_claims: dict[tuple[str, str], Location] = {}
    for tenant in claims:
        for claim in tenant.repositories:
            first_claims.setdefault((tenant.tenant, claim.repository), claim.location)
    registry = config.settings.registry
    where = f"{registry.host}/{registry.namespace}"
    problems: list[Problem] = []
    for tenant in claims:
        for claim in tenant.repositories:
            owner = repository_owner(claim.repository, names)
            if owner is None or owner == tenant.tenant:
                continue
            repository = f"{where}/{claim.repository}"
            theirs = first_claims.get((owner, claim.repository))
            problems.append(
                Problem(
                    claim.location,
                    "tenant.repository-conflict",
                    f"{repository} belongs to tenant {owner}, the longest tenant name it is "
                    f"named for, not to {tenant.tenant}"
                    + (f" (it uses it at {theirs})" if theirs is not None else ""),
                    f"use repositories named for {tenant.tenant} but not for {owner} "
                    f"({owner}-... is {owner}'s), or rename one of the tenants",
                )
            )
            if theirs is not None:
                problems.append(
                    Problem(
                        theirs,
                        "tenant.repository-conflict",
                        f"{repository} is {owner}'s, and tenant {tenant.tenant} uses it too at "
                        f"{claim.location}",
                        "a repository belongs to one tenant: the other one must stop using it "
                        "(or one of the tenants be renamed) before either deploys again",
                    )
                )
    return problems
