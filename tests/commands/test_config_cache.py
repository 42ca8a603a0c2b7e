"""The config cache under .state/: an edited or new tenant file is read again and its kept
claims are not used; unchanged files are not read; a corrupt or foreign cache is ignored."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from platform_lib.commands import config_cache, config_index
from platform_lib.commands.config_cache import CACHE_DIR, ConfigCache, tenant_files
from platform_lib.commands.config_index import OtherTenants, one_tenant, validate_all
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import validate_sources

REPO = Path(__file__).resolve().parents[2]
OLD = time.time() - 3600


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example configs, every file an hour old, and no racy window: a file changed
    before a run is kept by its stat (the change time of a copy is now, and cannot be set
    back; test_a_file_modified_just_now_is_not_trusted_by_its_stat has the real window)."""
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    for path in (tmp_path / "configs").rglob("*"):
        os.utime(path, (OLD, OLD))
    monkeypatch.setattr(config_cache, "RACY_NS", 0)
    return tmp_path


def index(root: Path) -> tuple[ConfigCache, dict[str, list[str]]]:
    """The cache and, per other tenant of paiss, its claimed domains, after an index run."""
    cache = ConfigCache(root)
    settings = (root / "configs/platform.yml").read_text(encoding="utf-8")
    claims = OtherTenants(root, cache, settings, "paiss").all()
    cache.save()
    return cache, {c.tenant: [d.domain for d in c.domains] for c in claims}


def test_unchanged_files_are_not_read_again(root: Path) -> None:
    first, domains = index(root)
    assert first.reads == 8  # project.yml, docker-compose.yml, two env files of two tenants
    again, kept = index(root)
    assert again.reads == 0
    assert kept == domains
    assert not again.changed


def test_an_edited_file_of_another_tenant_is_read_again(root: Path) -> None:
    index(root)
    manifest = root / "configs/gabs-massage/project.yml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("gabs-massage.de", "paiss.me"), encoding="utf-8")
    cache, domains = index(root)
    assert cache.reads == 1
    assert "paiss.me" in domains["gabs-massage"]
    _, problems = one_tenant(root, "paiss")
    assert {(p.rule, p.location.file) for p in problems} == {
        ("tenant.domain-conflict", "configs/paiss/project.yml")
    }
    assert all(" at configs/gabs-massage/project.yml:" in p.message for p in problems)


def test_a_same_size_edit_with_a_new_mtime_is_read_again(root: Path) -> None:
    index(root)
    manifest = root / "configs/gabs-massage/project.yml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("gabs-massage.de", "gabs-massage.eu"), encoding="utf-8")
    os.utime(manifest, (OLD + 1, OLD + 1))
    cache, domains = index(root)
    assert cache.reads == 1
    assert "gabs-massage.eu" in domains["gabs-massage"]


def test_a_new_tenant_is_indexed(root: Path) -> None:
    index(root)
    shutil.copytree(root / "configs/gabs-massage", root / "configs/copycat")
    manifest = root / "configs/copycat/project.yml"  # its images named for itself
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("gabs-massage-", "copycat-"))
    cache, domains = index(root)
    assert cache.reads == 4
    assert domains["copycat"] == domains["gabs-massage"]
    # Each of the two tenants reports the conflict in its own files, naming the other's claim:
    # copycat, which comes first by name, is refused too.
    for tenant, other in (("copycat", "gabs-massage"), ("gabs-massage", "copycat")):
        _, problems = one_tenant(root, tenant)
        assert {(p.rule, p.location.file) for p in problems} == {
            ("tenant.domain-conflict", f"configs/{tenant}/project.yml")
        }
        assert all(f" at configs/{other}/project.yml:" in p.message for p in problems)
    _, problems = one_tenant(root, "paiss")
    assert problems == []


def test_a_file_modified_just_now_is_not_trusted_by_its_stat(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock stopped RACY_NS / 2 after the manifest's rewrite, the other files changed
    more than RACY_NS before it."""
    monkeypatch.setattr(config_cache, "RACY_NS", 200_000_000)
    time.sleep(0.15)
    manifest = root / "configs/gabs-massage/project.yml"
    manifest.write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")
    now = manifest.stat().st_ctime_ns + 100_000_000
    assert all(
        p.stat().st_ctime_ns < now - 200_000_000
        for p in (root / "configs").rglob("*")
        if p != manifest and p.is_file()
    )
    clock = SimpleNamespace(time_ns=lambda: now)
    monkeypatch.setattr(config_cache, "time", clock)
    monkeypatch.setattr(config_index, "time", clock)
    index(root)
    cache, _ = index(root)
    assert cache.reads == 1
    assert "configs/gabs-massage/project.yml" not in cache.files


@pytest.mark.parametrize(
    "content", [b"\xff not json", b"[]", b'{"stamp": "someone else", "files": {}}']
)
def test_a_corrupt_or_foreign_cache_is_ignored(root: Path, content: bytes) -> None:
    (root / CACHE_DIR).mkdir(parents=True)
    for table in config_cache.TABLES:
        (root / CACHE_DIR / f"{table}.json").write_bytes(content)
    cache, domains = index(root)
    assert cache.reads == 8
    assert domains["gabs-massage"]


def test_claims_kept_under_a_hash_are_checked_against_their_hash(root: Path) -> None:
    """A stat entry that lies (same size and mtime, forged hash) leads to a key no claims
    are kept under: the tenant is read and indexed again."""
    cache, _ = index(root)
    first_keys = set(cache.claims)
    path = "configs/gabs-massage/project.yml"
    cache.files[path][1] = "0" * 64
    cache.folders.clear()
    cache.touch("files")
    cache.touch("folders")
    cache.save()
    again, domains = index(root)
    assert again.reads == 0
    assert "gabs-massage.de" in domains["gabs-massage"]
    # What was indexed is kept under the hash of what was read, never under the forged key;
    # the folder entry (stat -> forged key) is not kept either.
    assert "gabs-massage" not in again.folders
    assert all(
        not isinstance(data, list) or "gabs-massage.de" not in " ".join(data[0])
        for key, data in again.claims.items()
        if key not in first_keys
    )


def test_validate_with_kept_schema_answers_reports_the_same(root: Path) -> None:
    compose = root / "configs/paiss/docker-compose.yml"
    compose.write_text("bogus: 1\n" + compose.read_text(encoding="utf-8"), encoding="utf-8")
    _, expected = validate_sources(read_sources(root))
    assert "compose.schema" in {p.rule for p in expected}
    assert validate_all(root) == expected
    assert ConfigCache(root).schema
    assert validate_all(root) == expected


@pytest.mark.parametrize(
    "data", [[["d paiss.me"], "not json"], {"domains": []}, [[1], "{}"], [None, "{}"], "x"]
)
def test_kept_claims_that_cannot_be_read_are_indexed_again(root: Path, data: object) -> None:
    """Every kept entry made unreadable (in its resources, or in the claims of one that
    shares a domain with paiss): the conflict is still found."""
    index(root)
    manifest = root / "configs/gabs-massage/project.yml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("gabs-massage.de", "paiss.me"), encoding="utf-8")
    os.utime(manifest, (OLD + 1, OLD + 1))
    cache, _ = index(root)
    for key in cache.claims:
        cache.claims[key] = data
    cache.touch("claims")
    cache.save()
    _, problems = one_tenant(root, "paiss")
    assert {(p.rule, p.location.file) for p in problems} == {
        ("tenant.domain-conflict", "configs/paiss/project.yml")
    }


def test_validate_keeps_the_index_for_the_next_plan(root: Path) -> None:
    assert validate_all(root) == []
    cache, domains = index(root)
    assert cache.reads == 0
    assert "gabs-massage.de" in domains["gabs-massage"]


def publish(compose: Path, port: int) -> None:
    """A service publishing `port` on the loopback address, first in the compose file."""
    text = compose.read_text(encoding="utf-8")
    probe = (
        f'  probe:\n    image: postgres:16.4-alpine\n    ports:\n      - "127.0.0.1:{port}:5432"\n'
    )
    compose.write_text(text.replace("services:\n", f"services:\n{probe}", 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("new", "how"),
    [
        ("20001", "same size, mtime set back"),
        ("2001", "size changed, mtime set back"),
        ("20001", "replaced by an older file"),
    ],
)
def test_an_edit_that_keeps_the_mtime_of_another_tenant_is_seen(
    root: Path, new: str, how: str
) -> None:
    """The other tenant's folder entry is kept by validate; its compose file then takes
    paiss's port in place with its old mtime back (os.utime), or is replaced by a file
    written earlier: the change time (or the inode) tells, the collision is reported."""
    publish(root / "configs/paiss/docker-compose.yml", 20001)
    compose = root / "configs/filter-ical/docker-compose.yml"
    publish(compose, 20002)
    if how == "replaced by an older file":
        older = root / "older.yml"
        older.write_text(compose.read_text(encoding="utf-8").replace("20002", new), "utf-8")
    for path in (root / "configs").rglob("*"):
        os.utime(path, (OLD, OLD))
    assert validate_all(root) == []
    assert "filter-ical" in ConfigCache(root).folders
    _, problems = one_tenant(root, "paiss")
    assert problems == []
    kept = ConfigCache(root).folders["filter-ical"][1]
    before = compose.stat()
    if how == "replaced by an older file":
        os.utime(older, ns=(before.st_atime_ns, before.st_mtime_ns))
        older.replace(compose)
    else:
        compose.write_text(compose.read_text(encoding="utf-8").replace("20002", new), "utf-8")
        os.utime(compose, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = compose.stat()
    assert after.st_mtime_ns == before.st_mtime_ns
    assert (after.st_size == before.st_size) == (len(new) == 5)
    _, problems = one_tenant(root, "paiss")
    if new == "20001":
        assert {(p.rule, p.location.file) for p in problems} == {
            ("host.port-conflict", "configs/paiss/docker-compose.yml")
        }
        assert all("configs/filter-ical/docker-compose.yml:" in p.message for p in problems)
    else:
        assert problems == []
    assert ConfigCache(root).folders["filter-ical"][1] != kept


def test_a_tenant_folder_removed_during_a_run_is_no_tenant(root: Path) -> None:
    """tenant_files of a folder removed after configs/ was listed (or a file in its place)."""
    (root / "configs/not-a-folder").write_text("", encoding="utf-8")
    assert tenant_files(root / "configs/gone") == []
    assert tenant_files(root / "configs/not-a-folder") == []
