"""All validation: parse, schema-check, tenant rules and cross-tenant rules, every problem once.

`validate_sources` checks every tenant. `validate_tenant` checks one tenant as completely
(every rule of its own files) and its claims against the other tenants' claims
(`index_claims`, which can be kept between runs): it reports exactly the problems
`validate_sources` reports in that tenant's files and in configs/platform.yml but for unused
grants to other tenants (`in_tenant_scope`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from platform_lib.config.claims import TenantClaims, tenant_claims
from platform_lib.config.compose_schema import compose_schema_problems
from platform_lib.config.cross_tenant import claim_problems
from platform_lib.config.grants import tenant_policy, unused_grant_problems
from platform_lib.config.loader import PlatformConfig, Tenant, load_config
from platform_lib.config.settings_checks import settings_problems
from platform_lib.config.sources import CONFIG_DIR, SETTINGS_FILE
from platform_lib.config.tenant_checks import SchemaCheck, tenant_problems
from platform_lib.errors import ConfigError, Problem


def _checked(
    config: PlatformConfig, tenant: Tenant, schema_check: SchemaCheck
) -> tuple[list[Problem], bool, set[int]]:
    """(problems, compose failed the schema, grants used) of one tenant's own rules."""
    found = tenant_problems(config, tenant, schema_check)
    if any(p.rule == "compose.schema" for p in found):
        return found, True, set()
    policy = tenant_policy(config, tenant)
    return found + policy.problems, False, set(policy.granted)


def validate_sources(
    sources: Mapping[str, str], schema_check: SchemaCheck = compose_schema_problems
) -> tuple[PlatformConfig | None, list[Problem]]:
    config, problems, _ = validate_and_index(sources, schema_check)
    return config, problems


def validate_and_index(
    sources: Mapping[str, str], schema_check: SchemaCheck = compose_schema_problems
) -> tuple[PlatformConfig | None, list[Problem], dict[str, TenantClaims]]:
    """`validate_sources`, and the claims of every tenant it loaded (`index_claims`)."""
    config, problems = load_config(sources)
    index: dict[str, TenantClaims] = {}
    if config is not None:
        problems += settings_problems(config)
        granted: set[int] = set()
        for name in sorted(config.tenants):
            found, broken, used = _checked(config, config.tenants[name], schema_check)
            index[name] = tenant_claims(config, config.tenants[name], broken)
            granted |= used
            problems += found
        problems += claim_problems(config, list(index.values()))
        problems += unused_grant_problems(config, granted)
    return config, sorted(set(problems)), index


def tenant_folder(name: str) -> str:
    return f"{CONFIG_DIR}/{name}/"


def validate_tenant(
    sources: Mapping[str, str],
    name: str,
    others: Callable[[TenantClaims], Iterable[TenantClaims]],
    schema_check: SchemaCheck = compose_schema_problems,
) -> tuple[PlatformConfig | None, list[Problem]]:
    """`sources`: configs/platform.yml and the files under configs/<name>/ (others are left
    out); `others`: given the tenant's claims, the claims of the other tenants, or of those of
    them `ClaimFilter` says touch them. The config holds that one tenant."""
    config, problems = load_config(sources)
    if config is None:
        return None, sorted(set(problems))
    problems += settings_problems(config)
    tenant = config.tenants.get(name)
    if tenant is not None:
        found, broken, granted = _checked(config, tenant, schema_check)
        problems += found
        own = tenant_claims(config, tenant, broken)
        claims = [c for c in others(own) if c.tenant != name]
        claims.append(own)
        folder = tenant_folder(name)
        problems += [
            p for p in claim_problems(config, claims) if p.location.file.startswith(folder)
        ]
        problems += unused_grant_problems(config, granted, name)
    return config, sorted(set(problems))


def in_tenant_scope(config: PlatformConfig | None, problem: Problem, name: str) -> bool:
    """Whether `validate_tenant` reports this problem of `validate_sources` for tenant
    `name`: one in the tenant's folder, or in configs/platform.yml but for a grant to another
    tenant that allows nothing."""
    file = problem.location.file
    if file == f"{CONFIG_DIR}/{name}" or file.startswith(tenant_folder(name)):
        return True
    if file != SETTINGS_FILE:
        return False
    if problem.rule != "settings.unused-grant" or config is None:
        return True
    index = int(problem.location.pointer.split("/")[2])
    return config.settings.grants[index].project == name


def index_claims(
    sources: Mapping[str, str], schema_check: SchemaCheck = compose_schema_problems
) -> dict[str, TenantClaims]:
    """The claims of every tenant in `sources` (configs/platform.yml and any tenants' files)
    as `validate_sources` checks them; a tenant that cannot be loaded claims nothing and is
    left out."""
    config, _ = load_config(sources)
    if config is None:
        return {}
    index = {}
    for name, tenant in config.tenants.items():
        broken = any(p.rule == "compose.schema" for p in schema_check(tenant.compose))
        index[name] = tenant_claims(config, tenant, broken)
    return index


def load_valid_config(sources: Mapping[str, str]) -> PlatformConfig:
    """The config, or ConfigError with every problem: nothing is planned from invalid input."""
    config, problems = validate_sources(sources)
    if problems or config is None:
        raise ConfigError(problems)
    return config
