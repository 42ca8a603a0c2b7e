"""Config facts kept between runs under `.state/config-cache/` (git-ignored), so one
tenant's plan does not validate every tenant and `validate` does not schema-check unchanged
compose files again.

Four tables, each its own file (read only when used: a one-tenant run that finds every other
tenant unchanged reads `folders` and `schema` alone), each keyed so that a stale entry is never
found:
- files: path -> (stat, sha256), stat being (size, mtime_ns, ctime_ns, inode): a file whose
  stat changed is read again. The change time cannot be set back (`touch -d`, `os.utime` and a
  rewrite all move it), so an edit that keeps size and mtime is still seen. An entry is only
  recorded when the file's mtime and ctime are RACY_NS older than the reading (a change within
  the same clock tick could not be told apart).
- claims: sha256 of (code stamp, platform.yml, every file of the tenant) -> its claims.
- folders: tenant -> (its file names, a digest of platform.yml's sha256 and the stat of the
  folder (its entries) and of each file, claims key, the resources claimed): while that digest
  is unchanged, the claims key and resources without reading or hashing anything.
- schema: sha256 of (code stamp, compose schema, path, text) -> the compose file's problems.

A table that cannot be read, or was written by other code (`stamp`), is started afresh; one
that cannot be written is left as it was. Nothing in it is trusted beyond what its key hashes
or its stat digest covers."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from platform_lib.config.claims import TenantClaims, claim_resources, claims_to_data
from platform_lib.config.sources import CONFIG_DIR, decode, is_config_file, read_regular
from platform_lib.config.tenant_checks import SchemaCheck
from platform_lib.config.yaml_source import YamlDocument
from platform_lib.errors import Location, Problem

CACHE_DIR = ".state/config-cache"
TABLES = ("files", "claims", "schema", "folders")
FORMAT = 3
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


def text_digest(text: str) -> str:
    """sha256 of the bytes a text was decoded from (`decode`)."""
    return _sha(text.encode("utf-8", "surrogateescape"))


def file_stat(st: os.stat_result) -> list[int]:
    """What a file's stat says about its content: changes with every write."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def settled(st: os.stat_result, before_ns: int) -> bool:
    """Last changed RACY_NS before `before_ns`: a later change moves its ctime past it."""
    return max(st.st_mtime_ns, st.st_ctime_ns) < before_ns - RACY_NS


def folder_digest(
    settings_sha: str, folder: str, names: Sequence[str], before_ns: int
) -> str | None:
    """A digest of platform.yml's sha256 and the stat of `folder` (the set of its entries) and
    of each of its files `names`, or None when one is missing or changed too recently
    (`settled`) to be told apart from a later change. Called for every other tenant of a
    one-tenant run: kept to the stat calls."""
    settled_before = before_ns - RACY_NS
    parts: list[object] = [settings_sha]
    try:
        for path in (folder, *[f"{folder}/{name}" for name in names]):
            st = os.lstat(path)  # thousands of calls: no Path objects
            if st.st_mtime_ns >= settled_before or st.st_ctime_ns >= settled_before:
                return None
            parts += (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    except (OSError, TypeError, ValueError):
        return None
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


class ConfigCache:
    def __init__(self, root: Path) -> None:
        self.dir = root / CACHE_DIR
        self.stamp = code_stamp()
        self._tables: dict[str, dict[str, Any]] = {}
        self._changed: set[str] = set()
        self._schema_stamp: str | None = None
        self.schema_used: set[str] = set()
        self.reads = 0
        """Files `digest` had to read (their stat was not the one kept)."""

    @property
    def files(self) -> dict[str, Any]:
        return self.table("files")

    @property
    def claims(self) -> dict[str, Any]:
        return self.table("claims")

    @property
    def schema(self) -> dict[str, Any]:
        return self.table("schema")

    @property
    def folders(self) -> dict[str, Any]:
        return self.table("folders")

    @property
    def changed(self) -> bool:
        return bool(self._changed)

    def loaded(self, table: str) -> bool:
        return table in self._tables

    def table(self, name: str) -> dict[str, Any]:
        """The entries of table `name`, read on first use."""
        if name not in self._tables:
            self._tables[name] = {}
            try:
                data = json.loads((self.dir / f"{name}.json").read_bytes())
            except (OSError, ValueError):
                return self._tables[name]
            if (
                isinstance(data, dict)
                and data.get("stamp") == self.stamp
                and isinstance(data.get("entries"), dict)
            ):
                self._tables[name] = data["entries"]
        return self._tables[name]

    def touch(self, table: str) -> None:
        """Mark `table` to be written by `save`."""
        self.table(table)
        self._changed.add(table)

    def save(self) -> None:
        for name in sorted(self._changed):
            data = {"stamp": self.stamp, "entries": self._tables[name]}
            try:
                self.dir.mkdir(parents=True, exist_ok=True)
                partial = self.dir / f"{name}.json.{os.getpid()}.tmp"
                partial.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
                partial.replace(self.dir / f"{name}.json")
            except OSError:
                pass
        self._changed.clear()

    def digest(self, path: str, entry: os.DirEntry[str], texts: dict[str, str]) -> str:
        """sha256 of a file: from the cache while its stat is unchanged, else read (its text
        then goes into `texts`)."""
        before_ns = time.time_ns()
        st = entry.stat()
        known = self.files.get(path)
        if (
            isinstance(known, list)
            and len(known) == 2
            and known[0] == file_stat(st)
            and isinstance(known[1], str)
        ):
            return known[1]
        raw = read_regular(entry.path)
        self.reads += 1
        texts[path] = decode(raw)
        sha = _sha(raw)
        self.touch("files")
        if settled(st, before_ns) and len(raw) == st.st_size:
            self.files[path] = [file_stat(st), sha]
        else:
            self.files.pop(path, None)
        return sha

    def remember(self, path: str, entry: os.DirEntry[str], text: str, read_at_ns: int) -> str:
        """sha256 of a file read as `text` (by `read_sources`, which started at `read_at_ns`),
        its stat kept as `digest` keeps it: only when it `settled` before the reading
        started, so a change since then is never taken for it."""
        raw = text.encode("utf-8", "surrogateescape")
        sha = _sha(raw)
        st = entry.stat()
        known = self.files.get(path)
        entry_data = [file_stat(st), sha]
        if settled(st, read_at_ns) and len(raw) == st.st_size:
            if known != entry_data:
                self.files[path] = entry_data
                self.touch("files")
        elif known is not None:
            self.files.pop(path)
            self.touch("files")
        return sha

    def claims_key(self, settings: str, digests: Mapping[str, str]) -> str:
        parts = [self.stamp, _sha(settings.encode("utf-8", "surrogateescape"))]
        parts += [f"{path}:{sha}" for path, sha in sorted(digests.items())]
        return _sha("\n".join(parts).encode())

    def keep_claims(self, key: str, claims: TenantClaims | None) -> list[str]:
        """Keep `claims` under `key`; returns the resources they claim (`ClaimFilter`)."""
        data = None if claims is None else claims_to_data(claims)
        self.claims[key] = data
        self.touch("claims")
        return [] if claims is None else claim_resources(claims)

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
            self.touch("schema")
            return problems

        return cached

    def prune(self, table: str, keep: set[str]) -> None:
        """Drop the entries of `table` not in `keep` (those of files and tenants gone)."""
        entries = self.table(table)
        if set(entries) - keep:
            self._tables[table] = {k: v for k, v in entries.items() if k in keep}
            self.touch(table)

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
    """The config files right in a tenant folder (the only ones the loader reads), regular
    files only (a link is never followed: `read_sources`); none when the folder is gone
    (removed while the run looked at it)."""
    try:
        with os.scandir(folder) as entries:
            return [
                e for e in entries if is_config_file(e.name) and e.is_file(follow_symlinks=False)
            ]
    except (FileNotFoundError, NotADirectoryError):
        return []
