"""The early host hint agrees with the validated config wherever the config is valid."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.execution.early_target import HostHint, early_target
from platform_lib.planning.builder import target_host

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_hint_is_the_planned_host_for_every_example_tenant_and_environment() -> None:
    config = load_valid_config(read_sources(REPO_ROOT))
    for name, tenant in config.tenants.items():
        for env in config.environments_of(tenant):
            planned = target_host(config, tenant, env)
            hint = early_target(REPO_ROOT, name, env)
            assert hint == HostHint(**planned.model_dump()), (name, env)


def test_placement_in_the_manifest_wins(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(REPO_ROOT / "configs", root / "configs")
    settings = root / "configs" / "platform.yml"
    settings.write_text(settings.read_text().replace(
        "      prod-1:\n",
        "      prod-0:\n        address: 203.0.113.19\n        host_key: ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIBWRnk8G6iV3FDzv1k5MZ5Zs/aBlc50T2qlzdpfnExix\n      prod-1:\n",
    ))  # fmt: skip
    manifest = root / "configs" / "paiss" / "project.yml"
    manifest.write_text(manifest.read_text() + "placement:\n  production: prod-1\n")
    config = load_valid_config(read_sources(root))
    for name in ("paiss", "filter-ical"):
        planned = target_host(config, config.tenants[name], "production")
        assert early_target(root, name, "production") == HostHint(**planned.model_dump())
    assert early_target(root, "paiss", "production").name == "prod-1"  # type: ignore[union-attr]
    assert early_target(root, "filter-ical", "production").name == "prod-0"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("project", "env", "settings"),
    [
        ("nope", "staging", None),
        ("paiss", "nope", None),
        ("paiss", "staging", "environments: [1, 2]\n"),
        ("paiss", "staging", "{unclosed\n"),
    ],
)
def test_anything_unexpected_gives_no_hint(
    tmp_path: Path, project: str, env: str, settings: str | None
) -> None:
    root = tmp_path / "root"
    shutil.copytree(REPO_ROOT / "configs", root / "configs")
    if settings is not None:
        (root / "configs" / "platform.yml").write_text(settings)
    assert early_target(root, project, env) is None


def test_a_fifo_or_linked_manifest_gives_no_hint(tmp_path: Path) -> None:
    """Read as validation reads it: neither waited on (a FIFO) nor followed (a link)."""
    shutil.copytree(REPO_ROOT / "configs", tmp_path / "configs")
    manifest = tmp_path / "configs/paiss/project.yml"
    (tmp_path / "outside.yml").write_bytes(manifest.read_bytes())
    assert early_target(tmp_path, "paiss", "staging") is not None
    manifest.unlink()
    os.mkfifo(manifest)
    assert early_target(tmp_path, "paiss", "staging") is None
    manifest.unlink()
    manifest.symlink_to(tmp_path / "outside.yml")
    assert early_target(tmp_path, "paiss", "staging") is None
