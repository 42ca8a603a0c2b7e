"""The config of one tenant for plan and deploy: that tenant validated completely, its claims
checked against an index of the other tenants' claims kept in the config cache (read again
only for files whose size or mtime changed), rather than validating every tenant."""

from __future__ import annotations

from pathlib import Path

from platform_lib.commands.config_cache import ConfigCache, tenant_files, tenant_folders
from platform_lib.config.claims import TenantClaims
from platform_lib.config.compose_schema import compose_schema_problems
from platform_lib.config.loader import PlatformConfig
from platform_lib.config.sources import (
    CONFIG_DIR,
    SETTINGS_FILE,
    TENANT_FILES,
    decode,
    read_sources,
)
from platform_lib.config.validate import (
    index_claims,
    load_valid_config,
    validate_sources,
    validate_tenant,
)
from platform_lib.errors import ConfigError, Problem


def validate_all(root: Path) -> list[Problem]:
    """Every problem of every tenant (`validate_sources`), with compose files' schema answers
    kept in the cache."""
    sources = read_sources(root)
    cache = ConfigCache(root)
    _, problems = validate_sources(sources, cache.schema_check(sources, compose_schema_problems))
    cache.prune("schema", cache.schema_used)
    cache.save()
    return problems


def other_claims(root: Path, cache: ConfigCache, settings: str, name: str) -> list[TenantClaims]:
    """The claims of every tenant but `name`, from the cache where its files are unchanged."""
    claims: list[TenantClaims] = []
    missed: dict[str, tuple[str, dict[str, str]]] = {}
    seen_files: set[str] = set()
    used: set[str] = set()
    for folder in tenant_folders(root):
        entries = tenant_files(folder)
        if folder.name == name or not any(e.name in TENANT_FILES for e in entries):
            continue
        texts: dict[str, str] = {}
        digests = {}
        for entry in entries:
            path = f"{CONFIG_DIR}/{folder.name}/{entry.name}"
            digests[path] = cache.digest(path, entry, texts)
        seen_files.update(digests)
        key = cache.claims_key(settings, digests)
        used.add(key)
        found = cache.cached_claims(key)
        if found is False:
            for entry in entries:
                path = f"{CONFIG_DIR}/{folder.name}/{entry.name}"
                if path not in texts:
                    texts[path] = decode(Path(entry.path).read_bytes())
            missed[folder.name] = (key, texts)
        elif isinstance(found, TenantClaims):
            claims.append(found)
    if missed:
        sources = {SETTINGS_FILE: settings}
        for _, texts in missed.values():
            sources.update(texts)
        index = index_claims(sources, cache.schema_check(sources, compose_schema_problems))
        for tenant, (key, _) in missed.items():
            cache.keep_claims(key, index.get(tenant))
            if tenant in index:
                claims.append(index[tenant])
    own = f"{CONFIG_DIR}/{name}/"
    cache.prune("files", seen_files | {p for p in cache.files if p.startswith(own)})
    cache.prune("claims", used)
    return claims


def one_tenant(root: Path, name: str) -> tuple[PlatformConfig | None, list[Problem]]:
    """`validate_tenant` of tenant `name`, the other tenants' claims from the index."""
    sources = read_sources(root, name)
    settings_file = root / SETTINGS_FILE
    cache = ConfigCache(root)
    others: list[TenantClaims] = []
    if settings_file.is_file():
        sources[SETTINGS_FILE] = decode(settings_file.read_bytes())
        others = other_claims(root, cache, sources[SETTINGS_FILE], name)
    check = cache.schema_check(sources, compose_schema_problems)
    config, problems = validate_tenant(sources, name, others, check)
    cache.save()
    return config, problems


def tenant_config(root: Path, name: str) -> PlatformConfig:
    """The config holding tenant `name` only, or ConfigError with every problem
    `validate_tenant` finds. An unknown tenant is validated with all the others, so the error
    is the one a full validation gives."""
    folder = root / CONFIG_DIR / name
    if not (folder.is_dir() and any((folder / file).is_file() for file in TENANT_FILES)):
        return load_valid_config(read_sources(root))
    config, problems = one_tenant(root, name)
    if problems or config is None:
        raise ConfigError(problems)
    return config
