"""Reading configs/: a link is refused, never followed, and a FIFO is neither read nor waited
on, by every reader of tenant files (the loader's, the GitHub commands')."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from platform_lib.config.sources import NotRegular, read_regular, read_sources
from platform_lib.errors import ConfigError
from platform_lib.github.settings import load_manifest, load_settings, load_tenants

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    return tmp_path


def test_a_linked_env_file_is_refused_unread(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("PLATFORM_SSH_KEY=private\n", encoding="utf-8")
    env = root / "configs/paiss/.env.staging"
    env.unlink()
    env.symlink_to(secret)
    sources = read_sources(root, "paiss")
    assert "configs/paiss/.env.staging" not in sources
    assert [p.rule for p in sources.refused.values()] == ["file.symlink"]
    assert all("private" not in text for text in sources.values())


def test_a_linked_tenant_folder_is_refused(root: Path) -> None:
    (root / "configs/evil").symlink_to("paiss")
    sources = read_sources(root, "evil")
    assert dict(sources) == {}
    assert list(sources.refused) == ["configs/evil"]
    assert not any(path.startswith("configs/evil/") for path in read_sources(root))


def test_a_fifo_is_neither_read_nor_waited_on(root: Path) -> None:
    fifo = root / "configs/paiss/.env.production"
    fifo.unlink()
    os.mkfifo(fifo)
    with pytest.raises(NotRegular):
        read_regular(fifo)
    assert read_sources(root).refused["configs/paiss/.env.production"].rule == "file.not-regular"


def test_the_github_readers_do_not_follow_links(root: Path, tmp_path: Path) -> None:
    manifest = root / "configs/paiss/project.yml"
    (tmp_path / "outside.yml").write_bytes(manifest.read_bytes())
    manifest.unlink()
    manifest.symlink_to(tmp_path / "outside.yml")
    assert load_manifest(root, "paiss") is None
    with pytest.raises(ConfigError) as raised:
        load_tenants(root)
    assert [p.rule for p in raised.value.problems] == ["file.symlink"]
    settings = root / "configs/platform.yml"
    (tmp_path / "platform.yml").write_bytes(settings.read_bytes())
    settings.unlink()
    settings.symlink_to(tmp_path / "platform.yml")
    with pytest.raises(ConfigError) as raised:
        load_settings(root)
    assert [p.rule for p in raised.value.problems] == ["file.symlink"]
