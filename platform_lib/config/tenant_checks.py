"""Rules that tie one tenant's manifest, compose file and env files together."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from platform_lib.config.compose_policy import (
    compose_policy_problems,
    services,
    variable_problems,
)
from platform_lib.config.compose_schema import compose_schema_problems
from platform_lib.config.domains import BASE_ENVIRONMENT, route_domains
from platform_lib.config.host_variables import host_variable_problems
from platform_lib.config.limit_conflicts import conflict_problems
from platform_lib.config.loader import PlatformConfig, Tenant
from platform_lib.config.platform_vars import image_variable, platform_variable_names
from platform_lib.config.ports import published_ports
from platform_lib.config.repository_checks import manifest_repository_problems
from platform_lib.config.resource_limits import limit_problems
from platform_lib.config.rollout_checks import rollout_problems
from platform_lib.config.secret_checks import platform_secret_problems
from platform_lib.config.yaml_source import YamlDocument
from platform_lib.errors import Problem
from platform_lib.models.names import Domain, conforms

SchemaCheck = Callable[[YamlDocument], list[Problem]]
"""A compose file's problems against the Compose Specification (`compose_schema_problems`, or
the same answers kept from an earlier run)."""


def tenant_problems(
    config: PlatformConfig, tenant: Tenant, schema_check: SchemaCheck = compose_schema_problems
) -> list[Problem]:
    """Every problem of one tenant. The compose policies only run on a compose file the
    Compose Specification accepts: its problems would otherwise be noise (or wrong types)."""
    schema = schema_check(tenant.compose)
    problems = schema + _manifest_matches_compose(tenant) + _names_unique(tenant)
    problems += _environments_and_placement(config, tenant)
    problems += _routes_have_domains(config, tenant)
    problems += rollout_problems(config, tenant)
    problems += host_variable_problems(tenant)
    problems += manifest_repository_problems(config, tenant)
    for env_file in tenant.env_files.values():
        problems += _secrets_not_in_env_file(tenant, env_file.file, set(env_file.values()))
    if schema:
        return problems
    problems += compose_policy_problems(tenant.compose, set(tenant.manifest.images))
    problems += platform_secret_problems(config, tenant)
    problems += _routed_services_publish_no_port(config, tenant)
    problems += limit_problems(config, tenant) + conflict_problems(config, tenant)
    provided = platform_variable_names(tenant.manifest.images) | set(tenant.manifest.secrets)
    for env, env_file in tenant.env_files.items():
        problems += variable_problems(
            tenant.compose, env, provided, env_file.values(), env_file.file
        )
    return problems


def _manifest_matches_compose(tenant: Tenant) -> list[Problem]:
    doc, manifest = tenant.manifest_doc, tenant.manifest
    names = set(services(tenant.compose))
    compose_file = tenant.compose.file
    problems: list[Problem] = []

    def unknown(path: list[Any], service: str) -> None:
        problems.append(
            Problem(
                doc.locate(path),
                "project.unknown-service",
                f"service {service!r} is not in {compose_file}",
                f"known services: {', '.join(sorted(names)) or 'none'}",
            )
        )

    for service in manifest.images:
        if service not in names:
            unknown(["images", service], service)
    for index, route in enumerate(manifest.routes):
        if route.service not in names:
            unknown(["routes", index, "service"], route.service)
    volumes = tenant.compose.data.get("volumes") if isinstance(tenant.compose.data, dict) else None
    for index, backup in enumerate(manifest.backups):
        if backup.kind == "pg_dump" and backup.service not in names:
            unknown(["backups", index, "service"], backup.service)
        if backup.kind == "volume" and not (isinstance(volumes, dict) and backup.volume in volumes):
            problems.append(
                Problem(
                    doc.locate(["backups", index, "volume"]),
                    "project.unknown-volume",
                    f"volume {backup.volume!r} is not declared in {compose_file}",
                    "declare it under the top-level volumes: key",
                )
            )
    return problems


def _names_unique(tenant: Tenant) -> list[Problem]:
    """Names that become files, variables or step ids on the host must not collide."""
    doc, manifest = tenant.manifest_doc, tenant.manifest
    problems: list[Problem] = []
    backups: dict[str, int] = {}
    for index, backup in enumerate(manifest.backups):
        first = backups.setdefault(backup.name, index)
        if first != index:
            problems.append(
                Problem(
                    doc.locate(["backups", index, "name"]),
                    "project.duplicate-name",
                    f"backup name {backup.name!r} is used by backups[{first}] already",
                    "each backup writes backups/<name>.*: give every backup its own name",
                )
            )
    variables: dict[str, str] = {}
    for service in manifest.images:
        variable = image_variable(service)
        first_service = variables.setdefault(variable, service)
        if first_service != service:
            problems.append(
                Problem(
                    doc.locate(["images", service]),
                    "project.duplicate-name",
                    f"services {first_service!r} and {service!r} would share the variable "
                    f"{variable}",
                    "rename one of the services",
                )
            )
    for index, name in enumerate(manifest.secrets):
        if name.startswith("PLATFORM_"):
            problems.append(
                Problem(
                    doc.locate(["secrets", index]),
                    "project.reserved-name",
                    f"secret {name} uses the platform's PLATFORM_ prefix",
                    "PLATFORM_* variables are set by the platform; name the secret otherwise",
                )
            )
    return problems


def _environments_and_placement(config: PlatformConfig, tenant: Tenant) -> list[Problem]:
    doc, manifest, envs = tenant.manifest_doc, tenant.manifest, config.settings.environments
    problems: list[Problem] = []
    known = ", ".join(envs)
    for index, env in enumerate(manifest.environments or []):
        if env not in envs:
            problems.append(
                Problem(
                    doc.locate(["environments", index]),
                    "project.unknown-env",
                    f"unknown environment {env!r}",
                    f"known: {known}",
                )
            )
    for env, count in manifest.approvals.items():
        if env in envs and count < envs[env].approvals:
            problems.append(
                Problem(
                    doc.locate(["approvals", env]),
                    "project.fewer-approvals",
                    f"{env} asks for {count} approval(s); the platform requires "
                    f"{envs[env].approvals}",
                    "a tenant may ask for more approvals than configs/platform.yml, never "
                    "fewer; remove it or raise it",
                )
            )
    for key, per_env in (("windows", manifest.windows), ("approvals", manifest.approvals)):
        for env in per_env:
            if env not in envs:
                problems.append(
                    Problem(doc.locate([key, env]), "project.unknown-env",
                            f"unknown environment {env!r}", f"known: {known}")
                )  # fmt: skip
    for env, host in manifest.placement.items():
        if env not in envs:
            problems.append(
                Problem(
                    doc.locate(["placement", env]),
                    "project.unknown-env",
                    f"unknown environment {env!r}",
                    f"known: {known}",
                )
            )
        elif host not in envs[env].hosts:
            problems.append(
                Problem(
                    doc.locate(["placement", env]),
                    "project.unknown-host",
                    f"environment {env!r} has no host {host!r}",
                    f"its hosts: {', '.join(envs[env].hosts)}",
                )
            )
    for index, route in enumerate(manifest.routes):
        for env in route.domains:
            if env not in envs:
                problems.append(
                    Problem(
                        doc.locate(["routes", index, "domains", env]),
                        "project.unknown-env",
                        f"unknown environment {env!r}",
                        f"known: {known}",
                    )
                )
    return problems


def _routes_have_domains(config: PlatformConfig, tenant: Tenant) -> list[Problem]:
    problems: list[Problem] = []
    for index, route in enumerate(tenant.manifest.routes):
        for env in config.environments_of(tenant):
            if not route_domains(config.settings, route, env):
                problems.append(
                    Problem(
                        tenant.manifest_doc.locate(["routes", index]),
                        "project.route-without-domains",
                        f"route to {route.service!r} has no domain for environment {env!r}",
                        f"list domains under domains: {BASE_ENVIRONMENT}: (other environments "
                        "derive theirs through domain_template)"
                        if env == BASE_ENVIRONMENT
                        else f"list domains under domains: {BASE_ENVIRONMENT}: (derived for "
                        f"{env} through domain_template) or under domains: {env}:",
                    )
                )
            if env in route.domains:
                continue
            for item, domain in enumerate(route_domains(config.settings, route, env)):
                if not conforms(Domain, domain):
                    template = config.settings.environments[env].domain_template
                    problems.append(
                        Problem(
                            tenant.manifest_doc.locate(
                                ["routes", index, "domains", BASE_ENVIRONMENT, item]
                            ),
                            "project.derived-domain",
                            f"{env} domain {domain!r}, derived through domain_template "
                            f"{template!r}, is not a valid domain name",
                            f"list {env}'s domains under domains: {env}:, or change the "
                            "template in configs/platform.yml",
                        )
                    )
    return problems


def _secrets_not_in_env_file(tenant: Tenant, env_file: str, keys: set[str]) -> list[Problem]:
    return [
        Problem(
            tenant.manifest_doc.locate(["secrets", index]),
            "project.secret-in-env-file",
            f"secret {name} is also set in {env_file}",
            "remove it from the env file: secret values come only from the deploy environment",
        )
        for index, name in enumerate(tenant.manifest.secrets)
        if name in keys
    ]


_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _routed_services_publish_no_port(config: PlatformConfig, tenant: Tenant) -> list[Problem]:
    """With the proxy, a routed service switches blue/green: its next containers start beside
    the running ones, and two containers cannot bind one host port."""
    if config.settings.proxy is None:
        return []
    problems: list[Problem] = []
    specs = services(tenant.compose)
    for name in sorted({route.service for route in tenant.manifest.routes}):
        for index, entry in enumerate((specs.get(name) or {}).get("ports") or []):
            # A variable stands for some value: the entry still shows whether it has a host part.
            shape = _VARIABLE.sub("1", entry) if isinstance(entry, str) else entry
            if not published_ports(shape):
                continue
            problems.append(
                Problem(
                    tenant.compose.locate(["services", name, "ports", index]),
                    "compose.routed-service-publishes-port",
                    f"service {name!r} is routed by the proxy and publishes a host port: a "
                    "deploy starts its new containers beside the running ones, and they cannot "
                    "bind the same host port",
                    "remove this ports: entry; the proxy reaches the service on its compose "
                    "network (a port without a host part, e.g. '8080', is fine)",
                )
            )
    return problems
