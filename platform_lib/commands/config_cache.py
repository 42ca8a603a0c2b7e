"""Config facts kept between runs in `.state/config-cache.json` (git-ignored), so one
tenant's plan does not validate every tenant and `validate` does not schema-check unchanged
compose files again.

Three tables, each keyed so that a stale entry is never found:
- files: path -> (size, mtime_ns, sha256). A file whose size or mtime changed is read again;
  one modified within RACY_NS of being recorded is not recorded (it could change again within
  the same mtime tick), so it is read on the next run too.
- claims: sha256 of (code stamp, platform.yml, every file of the tenant) -> its claims.
- folders: tenant -> (sha256 of platform.yml, (name, size, mtime_ns) of each file, claims
  key): while they are all unchanged (and none was racy), the key without hashing anything.
- schema: sha256 of (code stamp, compose schema, path, text) -> the compose file's problems.

A cache that cannot be read, or was written by other code (`stamp`), is started afresh; one
that cannot be written is left as it was. Nothing in it is trusted beyond what its key hashes."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from platform_lib.config.claims import TenantClaims, claims_to_data
from platform_lib.config.sources import CONFIG_DIR, decode, is_config_file
from platform_lib.config.tenant_checks import SchemaCheck
from platform_lib.config.yaml_source import YamlDocument
from platform_lib.errors import Location, Problem

CACHE_FILE = ".state/config-cache.json"
FORMAT = 2
RACY_NS = 2_000_000_000
_PACKAGE = Path(__file__).resolve().parent.parent


def code_stamp() -> str:
    """Changes with the code that computes claims and problems (and with the cache format)."""
    parts = [str(FORMAT)]
    for folder in ("config", "models"):
        for entry in sorted(os.scandir(_PACKAGE / folder), key=lambda e: e.name):
            if entry.name.endswith(".py"):
                st = entry.stat()
                parts.append(f"{folder}/{entry.name}:{st.st_size}:{st.st_mtime_ns}")
    return _sha("\n".join(parts).encode())


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class ConfigCache:
    def __init__(self, root: Path) -> None:
        self.path = root / CACHE_FILE
        self.stamp = code_stamp()
        self.files: dict[str, list[Any]] = {}
        self.claims: dict[str, Any] = {}
        self.schema: dict[str, Any] = {}
        self.folders: dict[str, Any] = {}
        self.changed = False
        self._schema_stamp: str | None = None
        self.schema_used: set[str] = set()
        self.reads = 0
        """Files `digest` had to read (their size or mtime was not the one kept)."""
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return
        if not isinstance(data, dict) or data.get("stamp") != self.stamp:
            return
        for table in ("files", "claims", "schema", "folders"):
            if isinstance(data.get(table), dict):
                setattr(self, table, data[table])

    def save(self) -> None:
        if not self.changed:
            return
        data = {"stamp": self.stamp, "files": self.files, "claims": self.claims}
        data["schema"], data["folders"] = self.schema, self.folders
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            partial.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            partial.replace(self.path)
        except OSError:
            pass

    def digest(self, path: str, entry: os.DirEntry[str], texts: dict[str, str]) -> str:
        """sha256 of a file: from the cache while its size and mtime are unchanged, else read
        (its text then goes into `texts`)."""
        st = entry.stat()
        known = self.files.get(path)
        if (
            isinstance(known, list)
            and len(known) == 3
            and known[:2] == [st.st_size, st.st_mtime_ns]
            and isinstance(known[2], str)
        ):
            return known[2]
        raw = Path(entry.path).read_bytes()
        self.reads += 1
        texts[path] = decode(raw)
        sha = _sha(raw)
        self.changed = True
        if st.st_mtime_ns < time.time_ns() - RACY_NS and len(raw) == st.st_size:
            self.files[path] = [st.st_size, st.st_mtime_ns, sha]
        else:
            self.files.pop(path, None)
        return sha

    def remember(self, path: str, entry: os.DirEntry[str], text: str, read_at_ns: int) -> str:
        """sha256 of a file read as `text` (by `read_sources`, which started at `read_at_ns`),
        its size and mtime kept as `digest` keeps them: only when it was last modified
        RACY_NS before the reading started, so a change since then is never taken for it."""
        raw = text.encode("utf-8", "surrogateescape")
        sha = _sha(raw)
        st = entry.stat()
        known = self.files.get(path)
        entry_data = [st.st_size, st.st_mtime_ns, sha]
        if st.st_mtime_ns < read_at_ns - RACY_NS and len(raw) == st.st_size:
            if known != entry_data:
                self.files[path] = entry_data
                self.changed = True
        elif known is not None:
            self.files.pop(path)
            self.changed = True
        return sha

    def claims_key(self, settings: str, digests: Mapping[str, str]) -> str:
        parts = [self.stamp, _sha(settings.encode("utf-8", "surrogateescape"))]
        parts += [f"{path}:{sha}" for path, sha in sorted(digests.items())]
        return _sha("\n".join(parts).encode())

    def keep_claims(self, key: str, claims: TenantClaims | None) -> None:
        self.claims[key] = None if claims is None else claims_to_data(claims)
        self.changed = True

    def schema_check(self, texts: Mapping[str, str], check: SchemaCheck) -> SchemaCheck:
        """`check`, answered from the cache for a compose file (text from `texts`) seen
        before."""

        def cached(doc: YamlDocument) -> list[Problem]:
            text = texts.get(doc.file)
            if text is None:
                return check(doc)
            key = self._schema_key(doc.file, text)
            self.schema_used.add(key)
            kept = self.schema.get(key)
            if isinstance(kept, list):
                try:
                    return [_problem(item) for item in kept]
                except (ValueError, TypeError):
                    pass
            problems = check(doc)
            self.schema[key] = [_problem_data(p) for p in problems]
            self.changed = True
            return problems

        return cached

    def prune(self, table: str, keep: set[str]) -> None:
        """Drop the entries of `table` not in `keep` (those of files and tenants gone)."""
        entries: dict[str, Any] = getattr(self, table)
        if set(entries) - keep:
            setattr(self, table, {k: v for k, v in entries.items() if k in keep})
            self.changed = True

    def _schema_key(self, path: str, text: str) -> str:
        if self._schema_stamp is None:
            self._schema_stamp = _compose_schema_stamp()
        raw = f"{self.stamp}\n{self._schema_stamp}\n{path}\n{text}"
        return _sha(raw.encode("utf-8", "surrogateescape"))


def _problem_data(p: Problem) -> list[object]:
    where = p.location
    return [where.file, where.line, where.column, where.pointer, p.rule, p.message, p.hint]


def _problem(item: Any) -> Problem:
    file, line, column, pointer, rule, message, hint = item
    for value in (file, pointer, rule, message, hint):
        if not isinstance(value, str):
            raise TypeError(value)
    for value in (line, column):
        if value is not None and not isinstance(value, int):
            raise TypeError(value)
    return Problem(Location(file, line, column, pointer), rule, message, hint)


def _compose_schema_stamp() -> str:
    """Changes with the vendored Compose Specification schema."""
    spec = find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        return "none"
    package = Path(next(iter(spec.submodule_search_locations)))
    st = (package / "builtin_schemas" / "vendor" / "compose-spec.json").stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def tenant_folders(root: Path) -> Iterator[os.DirEntry[str]]:
    """The folders right under configs/, by name."""
    with os.scandir(root / CONFIG_DIR) as entries:
        folders = [e for e in entries if e.is_dir(follow_symlinks=False)]
    yield from sorted(folders, key=lambda e: e.name)


def tenant_files(folder: os.PathLike[str]) -> list[os.DirEntry[str]]:
    """The config files right in a tenant folder (the only ones the loader reads)."""
    with os.scandir(folder) as entries:
        return [e for e in entries if is_config_file(e.name) and e.is_file()]
