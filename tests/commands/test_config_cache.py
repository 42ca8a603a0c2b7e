"""The config cache under .state/: an edited or new tenant file is read again and its kept
claims are not used; unchanged files are not read; a corrupt or foreign cache is ignored."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from platform_lib.commands.config_cache import CACHE_FILE, ConfigCache
from platform_lib.commands.config_index import OtherTenants, one_tenant, validate_all
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import validate_sources

REPO = Path(__file__).resolve().parents[2]
OLD = time.time() - 3600


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The example configs, every file an hour old (so its size and mtime are kept)."""
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    for path in (tmp_path / "configs").rglob("*"):
        os.utime(path, (OLD, OLD))
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
    cache, domains = index(root)
    assert cache.reads == 4
    assert domains["copycat"] == domains["gabs-massage"]
    _, problems = one_tenant(root, "copycat")
    assert problems == []  # copycat comes first by name: gabs-massage's files report it
    _, problems = one_tenant(root, "gabs-massage")
    assert {(p.rule, p.location.file) for p in problems} == {
        ("tenant.domain-conflict", "configs/gabs-massage/project.yml")
    }
    assert all(" at configs/copycat/project.yml:" in p.message for p in problems)
    _, problems = one_tenant(root, "paiss")
    assert problems == []


def test_a_file_modified_just_now_is_not_trusted_by_its_mtime(root: Path) -> None:
    manifest = root / "configs/gabs-massage/project.yml"
    manifest.write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")
    index(root)
    cache, _ = index(root)
    assert cache.reads == 1
    assert "configs/gabs-massage/project.yml" not in cache.files


@pytest.mark.parametrize(
    "content", [b"\xff not json", b"[]", b'{"stamp": "someone else", "files": {}}']
)
def test_a_corrupt_or_foreign_cache_is_ignored(root: Path, content: bytes) -> None:
    (root / CACHE_FILE).parent.mkdir()
    (root / CACHE_FILE).write_bytes(content)
    cache, domains = index(root)
    assert cache.reads == 8
    assert domains["gabs-massage"]


def test_claims_kept_under_a_hash_are_checked_against_their_hash(root: Path) -> None:
    """A stat entry that lies (same size and mtime, forged hash) leads to a key no claims
    are kept under: the tenant is read and indexed again."""
    cache, _ = index(root)
    path = "configs/gabs-massage/project.yml"
    cache.files[path][2] = "0" * 64
    cache.changed = True
    cache.save()
    again, domains = index(root)
    assert again.reads == 0
    assert "gabs-massage.de" in domains["gabs-massage"]


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
    cache.changed = True
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
