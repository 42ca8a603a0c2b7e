"""The config of one tenant for plan and deploy: that tenant validated completely, its claims
checked against an index of the other tenants' claims kept in the config cache (read again
only for files whose size or mtime changed), rather than validating every tenant."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from platform_lib.commands.config_cache import ConfigCache, tenant_files, tenant_folders
from platform_lib.config.claims import ClaimFilter, TenantClaims, claims_from_data
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
    validate_and_index,
    validate_tenant,
)
from platform_lib.errors import ConfigError, Problem

BATCH = 200


def validate_all(root: Path) -> list[Problem]:
    """Every problem of every tenant (`validate_sources`), with compose files' schema answers
    kept in the cache, and every tenant's claims kept for the next one-tenant run."""
    read_at_ns = time.time_ns()
    sources = read_sources(root)
    cache = ConfigCache(root)
    check = cache.schema_check(sources, compose_schema_problems)
    config, problems, index = validate_and_index(sources, check)
    cache.prune("schema", cache.schema_used)
    if config is not None:
        _keep_index(root, cache, sources, index, read_at_ns)
    cache.save()
    return problems


def _keep_index(
    root: Path,
    cache: ConfigCache,
    sources: dict[str, str],
    index: dict[str, TenantClaims],
    read_at_ns: int,
) -> None:
    """Keep the claims of every tenant folder under the key a one-tenant run computes."""
    settings = sources[SETTINGS_FILE]
    settings_sha = cache.claims_key(settings, {})
    for folder in tenant_folders(root):
        entries = tenant_files(folder)
        if not any(e.name in TENANT_FILES for e in entries):
            continue
        digests = {}
        for entry in entries:
            path = f"{CONFIG_DIR}/{folder.name}/{entry.name}"
            if path not in sources:
                return  # changed since it was read: leave the index to the next run
            digests[path] = cache.remember(path, entry, sources[path], read_at_ns)
        key = cache.claims_key(settings, digests)
        if key not in cache.claims:
            cache.keep_claims(key, index.get(folder.name))
        files = sorted((e.name, e.stat()) for e in entries)
        signature = [[n, st.st_size, st.st_mtime_ns] for n, st in files]
        record = [settings_sha, signature, key]
        if all(p in cache.files for p in digests) and cache.folders.get(folder.name) != record:
            cache.folders[folder.name] = record
            cache.changed = True


class OtherTenants:
    """The claims of every tenant but one: kept ones as data, decoded only when they touch
    the tenant's own claims (`relevant`), the others indexed afresh."""

    def __init__(self, root: Path, cache: ConfigCache, settings: str, name: str) -> None:
        self.root, self.cache, self.settings = root, cache, settings
        self.kept: list[tuple[str, str, Any]] = []
        self.indexed: list[TenantClaims] = []
        missed: dict[str, tuple[str, dict[str, str]]] = {}
        seen_files: set[str] = set()
        seen: set[str] = set()
        used: set[str] = set()
        settings_sha = cache.claims_key(settings, {})
        for folder in tenant_folders(root):
            entries = tenant_files(folder)
            if folder.name == name or not any(e.name in TENANT_FILES for e in entries):
                continue
            files = sorted((e.name, e.stat()) for e in entries)
            signature = [[n, st.st_size, st.st_mtime_ns] for n, st in files]
            paths = [f"{CONFIG_DIR}/{folder.name}/{n}" for n, _ in files]
            seen_files.update(paths)
            known = cache.folders.get(folder.name)
            texts: dict[str, str] = {}
            if (
                isinstance(known, list)
                and len(known) == 3
                and known[:2] == [settings_sha, signature]
                and isinstance(known[2], str)
            ):
                key = known[2]
            else:
                digests = {}
                for entry in entries:
                    path = f"{CONFIG_DIR}/{folder.name}/{entry.name}"
                    digests[path] = cache.digest(path, entry, texts)
                key = cache.claims_key(settings, digests)
                if all(p in cache.files for p in paths):
                    cache.folders[folder.name] = [settings_sha, signature, key]
                else:
                    cache.folders.pop(folder.name, None)
                cache.changed = True
            seen.add(folder.name)
            used.add(key)
            if key not in cache.claims:
                missed[folder.name] = (key, texts)
            elif cache.claims[key] is not None:
                self.kept.append((folder.name, key, cache.claims[key]))
        self._index(missed)
        own = f"{CONFIG_DIR}/{name}/"
        cache.prune("files", seen_files | {p for p in cache.files if p.startswith(own)})
        cache.prune("claims", used)
        cache.prune("folders", seen)

    def _index(self, missed: dict[str, tuple[str, dict[str, str]]]) -> None:
        """Read and index the `missed` tenants, BATCH at a time (so a first run over many
        tenants does not hold them all at once)."""
        names = list(missed)
        for start in range(0, len(names), BATCH):
            sources = {SETTINGS_FILE: self.settings}
            for tenant in names[start : start + BATCH]:
                texts = missed[tenant][1]
                for entry in tenant_files(self.root / CONFIG_DIR / tenant):
                    path = f"{CONFIG_DIR}/{tenant}/{entry.name}"
                    if path not in texts:
                        texts[path] = decode(Path(entry.path).read_bytes())
                sources.update(texts)
                texts.clear()
            check = self.cache.schema_check(sources, compose_schema_problems)
            index = index_claims(sources, check)
            for tenant in names[start : start + BATCH]:
                self.cache.keep_claims(missed[tenant][0], index.get(tenant))
                if tenant in index:
                    self.indexed.append(index[tenant])

    def all(self) -> list[TenantClaims]:
        return self.relevant(None)

    def relevant(self, own: TenantClaims | None) -> list[TenantClaims]:
        """The claims that can change what is reported at `own` (every claim without it)."""
        wanted = None if own is None else ClaimFilter(own)
        found = list(self.indexed)
        unreadable: dict[str, tuple[str, dict[str, str]]] = {}
        for tenant, key, data in self.kept:
            try:
                if wanted is None or wanted.touches(data):
                    found.append(claims_from_data(data))
            except (ValueError, KeyError, TypeError, IndexError, AttributeError):
                unreadable[tenant] = (key, {})
        before = len(self.indexed)
        self._index(unreadable)
        return found + self.indexed[before:]


def one_tenant(root: Path, name: str) -> tuple[PlatformConfig | None, list[Problem]]:
    """`validate_tenant` of tenant `name`, the other tenants' claims from the index."""
    sources = read_sources(root, name)
    settings_file = root / SETTINGS_FILE
    cache = ConfigCache(root)
    others: OtherTenants | None = None
    if settings_file.is_file():
        sources[SETTINGS_FILE] = decode(settings_file.read_bytes())
        others = OtherTenants(root, cache, sources[SETTINGS_FILE], name)
    check = cache.schema_check(sources, compose_schema_problems)
    config, problems = validate_tenant(
        sources, name, lambda own: [] if others is None else others.relevant(own), check
    )
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
