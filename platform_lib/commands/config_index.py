"""The config of one tenant for the commands acting on one tenant (plan, deploy, rollback,
status/history/backups/restore/lock of one project, promote, ...): that tenant validated
completely, its claims checked against an index of the other tenants' claims kept in the
config cache (read again only for folders whose stat changed), rather than validating every
tenant. `validate` and the commands over every tenant validate them all (`validate_all`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from platform_lib.commands.config_cache import (
    ConfigCache,
    folder_digest,
    tenant_files,
    tenant_folders,
    text_digest,
)
from platform_lib.config.claims import ClaimFilter, TenantClaims, claims_from_data
from platform_lib.config.compose_schema import compose_schema_problems
from platform_lib.config.loader import PlatformConfig
from platform_lib.config.sources import (
    CONFIG_DIR,
    SETTINGS_FILE,
    TENANT_FILES,
    add_source,
    decode,
    read_regular,
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
Missed = tuple[str, dict[str, str], str | None, list[str]]
"""A tenant to index: its claims key from the stat-checked digests, the texts read so far,
its folder digest and file names as they were then."""


def validate_all(root: Path) -> list[Problem]:
    """Every problem of every tenant (`validate_sources`), with compose files' schema answers
    kept in the cache, and every tenant's claims kept for the next one-tenant run."""
    return _validate_all(root)[1]


def all_tenants_config(root: Path) -> PlatformConfig:
    """The config of every tenant, or ConfigError with every problem: `validate_all`, so
    unchanged compose files are not schema-checked again."""
    config, problems = _validate_all(root)
    if problems or config is None:
        raise ConfigError(problems)
    return config


def _validate_all(root: Path) -> tuple[PlatformConfig | None, list[Problem]]:
    read_at_ns = time.time_ns()
    sources = read_sources(root)
    cache = ConfigCache(root)
    check = cache.schema_check(sources, compose_schema_problems)
    config, problems, index = validate_and_index(sources, check)
    cache.prune("schema", cache.schema_used)
    if config is not None:
        _keep_index(root, cache, sources, index, read_at_ns)
    cache.save()
    return config, problems


def _keep_index(
    root: Path,
    cache: ConfigCache,
    sources: dict[str, str],
    index: dict[str, TenantClaims],
    read_at_ns: int,
) -> None:
    """Keep the claims of every tenant folder under the key a one-tenant run computes, and
    its folder entry (while the folder and its files `settled` before the reading)."""
    settings = sources[SETTINGS_FILE]
    settings_sha = cache.claims_key(settings, {})
    seen_files: set[str] = set()
    seen: set[str] = set()
    used: set[str] = set()
    read: dict[str, set[str]] = {}
    for path in sources:
        parts = path.split("/")
        if len(parts) == 3:
            read.setdefault(parts[1], set()).add(path)
    for folder in tenant_folders(root):
        entries = tenant_files(folder)
        if not any(e.name in TENANT_FILES for e in entries):
            continue
        paths = {f"{CONFIG_DIR}/{folder.name}/{e.name}": e for e in entries}
        if set(paths) != read.get(folder.name, set()):
            return  # changed since it was read: leave the index to the next run
        digests = {
            path: cache.remember(path, entry, sources[path], read_at_ns)
            for path, entry in paths.items()
        }
        seen_files.update(digests)
        seen.add(folder.name)
        key = cache.claims_key(settings, digests)
        used.add(key)
        keys = _resources(cache.claims.get(key, False))
        if keys is None:
            keys = cache.keep_claims(key, index.get(folder.name))
        names = sorted(e.name for e in entries)
        digest = folder_digest(settings_sha, folder.path, names, read_at_ns)
        record = None if digest is None else ["/".join(names), digest, key, keys]
        if cache.folders.get(folder.name) != record:
            if record is None:
                cache.folders.pop(folder.name, None)
            else:
                cache.folders[folder.name] = record
            cache.touch("folders")
    cache.prune("files", seen_files)
    cache.prune("claims", used)
    cache.prune("folders", seen)


def _known(entry: Any) -> tuple[str, str, str, list[str]] | None:
    """A folders entry as written (its file names joined by "/", digest, claims key,
    resources), else None. Checked lightly: a name or resource of another type makes the
    digest differ (`folder_digest`) or the resources unreadable (`OtherTenants.relevant`)."""
    if isinstance(entry, list) and len(entry) == 4:
        names, digest, key, keys = entry
        if type(names) is str and type(digest) is str and type(key) is str and type(keys) is list:
            return names, digest, key, keys
    return None


class OtherTenants:
    """The claims of every tenant but one: kept ones by the resources they claim, decoded only
    when those touch the tenant's own claims (`relevant`), the others indexed afresh.

    A tenant whose folder entry's stat digest is unchanged costs a few stat calls: nothing is
    read or hashed; the other tables are only read for tenants that changed."""

    def __init__(self, root: Path, cache: ConfigCache, settings: str, name: str) -> None:
        self.root, self.cache, self.settings = root, cache, settings
        self.kept: list[tuple[str, str, list[str]]] = []
        self.indexed: list[TenantClaims] = []
        missed: dict[str, Missed] = {}
        seen: set[str] = set()
        before_ns = time.time_ns()
        settings_sha = cache.claims_key(settings, {})
        folders = cache.folders
        for folder in tenant_folders(root):
            if folder.name == name:
                continue
            known = _known(folders.get(folder.name))
            if known is not None and known[1] == folder_digest(
                settings_sha, folder.path, known[0].split("/"), before_ns
            ):
                seen.add(folder.name)
                self.kept.append((folder.name, known[2], known[3]))
                continue
            entries = tenant_files(folder)
            if not any(e.name in TENANT_FILES for e in entries):
                continue
            seen.add(folder.name)
            names = sorted(e.name for e in entries)
            digest = folder_digest(settings_sha, folder.path, names, before_ns)
            texts: dict[str, str] = {}
            digests = {}
            for entry in entries:
                path = f"{CONFIG_DIR}/{folder.name}/{entry.name}"
                digests[path] = cache.digest(path, entry, texts)
            key = cache.claims_key(settings, digests)
            data = cache.claims.get(key, False)
            keys = None if data is False else _resources(data)
            if keys is None:
                missed[folder.name] = (key, texts, digest, names)
                continue
            self._record(folder.name, names, digest, key, keys)
            self.kept.append((folder.name, key, keys))
        self.names = frozenset(seen)
        """Every other tenant's name."""
        self._index(missed)
        cache.prune("folders", seen | ({name} & set(folders)))
        if cache.loaded("claims"):
            own_key = _known(folders.get(name))
            used = {k for _, k, _ in self.kept} | {m[0] for m in missed.values()}
            cache.prune("claims", used | ({own_key[2]} if own_key else set()))
        if cache.loaded("files"):
            own = f"{CONFIG_DIR}/{name}/"
            cache.prune(
                "files",
                {p for p in cache.files if p.split("/")[1] in seen or p.startswith(own)},
            )

    def _record(self, tenant: str, names: list[str], digest: str | None, key: str,
                keys: list[str]) -> None:  # fmt: skip
        record = None if digest is None else ["/".join(names), digest, key, keys]
        if self.cache.folders.get(tenant) != record:
            if record is None:
                self.cache.folders.pop(tenant, None)
            else:
                self.cache.folders[tenant] = record
            self.cache.touch("folders")

    def _index(self, missed: dict[str, Missed]) -> None:
        """Read and index the `missed` tenants, BATCH at a time (so a first run over many
        tenants does not hold them all at once). Their claims are kept under the hash of the
        texts indexed; the folder entry only when that is the key its stat was taken for."""
        tenants = list(missed)
        for start in range(0, len(tenants), BATCH):
            sources = {SETTINGS_FILE: self.settings}
            actual: dict[str, str] = {}
            for tenant in tenants[start : start + BATCH]:
                texts = missed[tenant][1]
                for entry in tenant_files(self.root / CONFIG_DIR / tenant):
                    path = f"{CONFIG_DIR}/{tenant}/{entry.name}"
                    if path not in texts:
                        texts[path] = decode(read_regular(entry.path))
                digests = {path: text_digest(text) for path, text in texts.items()}
                actual[tenant] = self.cache.claims_key(self.settings, digests)
                sources.update(texts)
                texts.clear()
            check = self.cache.schema_check(sources, compose_schema_problems)
            index = index_claims(sources, check)
            for tenant in tenants[start : start + BATCH]:
                key, _, digest, names = missed[tenant]
                keys = self.cache.keep_claims(actual[tenant], index.get(tenant))
                kept = digest if actual[tenant] == key else None
                self._record(tenant, names, kept, key, keys)
                if tenant in index:
                    self.indexed.append(index[tenant])

    def all(self) -> list[TenantClaims]:
        return self.relevant(None)

    def relevant(self, own: TenantClaims | None) -> list[TenantClaims]:
        """The claims that can change what is reported at `own` (every claim without it)."""
        wanted = None if own is None else ClaimFilter(own, self.names | {own.tenant})
        found = list(self.indexed)
        unreadable: dict[str, Missed] = {}
        for tenant, key, keys in self.kept:
            try:
                if wanted is None or wanted.touches(keys):
                    found.append(claims_from_data(self.cache.claims[key]))
            except (ValueError, KeyError, TypeError, IndexError, AttributeError):
                unreadable[tenant] = (key, {}, None, [])
        before = len(self.indexed)
        self._index(unreadable)
        return found + self.indexed[before:]


def _resources(data: Any) -> list[str] | None:
    """The resources of kept claims data (`claims_to_data`; None: claims nothing), or None
    when it is not such data."""
    if data is None:
        return []
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], list)):
        return None
    return list(data[0]) if all(isinstance(k, str) for k in data[0]) else None


def one_tenant(root: Path, name: str) -> tuple[PlatformConfig | None, list[Problem]]:
    """`validate_tenant` of tenant `name`, the other tenants' claims from the index."""
    sources = read_sources(root, name)
    add_source(root, SETTINGS_FILE, sources, sources.refused)
    cache = ConfigCache(root)
    others: OtherTenants | None = None
    if SETTINGS_FILE in sources:
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
