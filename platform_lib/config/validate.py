"""All validation: parse, schema-check, tenant rules and cross-tenant rules, every problem once."""

from __future__ import annotations

from collections.abc import Mapping

from platform_lib.config.cross_tenant import cross_tenant_problems
from platform_lib.config.grants import tenant_policy, unused_grant_problems
from platform_lib.config.loader import PlatformConfig, load_config
from platform_lib.config.settings_checks import settings_problems
from platform_lib.config.tenant_checks import tenant_problems
from platform_lib.errors import ConfigError, Problem


def validate_sources(sources: Mapping[str, str]) -> tuple[PlatformConfig | None, list[Problem]]:
    config, problems = load_config(sources)
    if config is not None:
        problems += settings_problems(config)
        broken = set()
        granted: set[int] = set()
        for name in sorted(config.tenants):
            found = tenant_problems(config, config.tenants[name])
            if any(p.rule == "compose.schema" for p in found):
                broken.add(name)
            else:
                policy = tenant_policy(config, config.tenants[name])
                found += policy.problems
                granted.update(policy.granted)
            problems += found
        problems += cross_tenant_problems(config, broken)
        problems += unused_grant_problems(config, granted)
    return config, sorted(set(problems))


def load_valid_config(sources: Mapping[str, str]) -> PlatformConfig:
    """The config, or ConfigError with every problem: nothing is planned from invalid input."""
    config, problems = validate_sources(sources)
    if problems or config is None:
        raise ConfigError(problems)
    return config
