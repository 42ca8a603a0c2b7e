"""`policy.foreign-image` on the host (`platform_policy_check --tenant-images`, runtime/policy.sh):
the resolved compose model runs no repository of the platform's registry namespace but the
tenant's own and the shared ones, as docker reads the reference. Real `docker compose config`,
no daemon (see test_runtime_policy.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_runtime_policy import check

OWN = ("--tenant-images", "ghcr.io/example-org/shop")
DIGEST = "sha256:" + "ab" * 32


def runs(image: str, **service: Any) -> dict[str, Any]:
    return {"services": {"web": {"image": image, **service}}}


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/example-org/paiss-web:1.0",
        f"ghcr.io/example-org/paiss-web@{DIGEST}",
        "GHCR.IO/example-org/paiss-web:1.0",  # docker reads the registry case-insensitively
        "ghcr.io/example-org/shopkeeper-web:1.0",  # named for another tenant, not for shop
        "ghcr.io/example-org/platform-tools:1.0",
    ],
)
def test_an_image_of_the_namespace_that_is_not_the_tenants_is_refused(
    image: str, tmp_path: Path
) -> None:
    assert check(tmp_path, runs(image), options=OWN) == (
        1,
        [("policy.foreign-image", "services.web.image")],
    )


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/example-org/shop:1.0",
        f"ghcr.io/example-org/shop-web@{DIGEST}",
        "ghcr.io/example-org/shop-admin/web:2",
        "busybox:1.36",
        "docker.io/library/postgres:16.4",
        "ghcr.io/another-org/paiss-web:1.0",
        "registry.example.com/example-org/paiss-web:1.0",
    ],
)
def test_own_repositories_and_images_outside_the_namespace_pass(image: str, tmp_path: Path) -> None:
    assert check(tmp_path, runs(image), options=OWN) == (0, [])


def test_a_type_image_volume_of_another_tenant_is_refused(tmp_path: Path) -> None:
    volume = {"type": "image", "source": "ghcr.io/example-org/paiss-web:1.0", "target": "/x"}
    assert check(tmp_path, runs("busybox:1.36", volumes=[volume]), options=OWN) == (
        1,
        [("policy.foreign-image", "services.web.volumes.0")],
    )


def test_an_image_set_through_the_env_file_is_checked_resolved(tmp_path: Path) -> None:
    compose = runs("${IMAGE}")
    env = "IMAGE=ghcr.io/example-org/paiss-web:1.0\n"
    assert check(tmp_path, compose, env, OWN) == (
        1,
        [("policy.foreign-image", "services.web.image")],
    )


def test_a_shared_repository_passes(tmp_path: Path) -> None:
    options = (*OWN, "--shared-image", "platform-tools")
    assert check(tmp_path, runs("ghcr.io/example-org/platform-tools:1.0"), options=options) == (
        0,
        [],
    )


def test_a_granted_foreign_image_passes(tmp_path: Path) -> None:
    options = (*OWN, "--grant", "policy.foreign-image")
    assert check(tmp_path, runs("ghcr.io/example-org/paiss-web:1.0"), options=options) == (0, [])


def test_docker_hub_as_the_platform_registry(tmp_path: Path) -> None:
    options = ("--tenant-images", "docker.io/example-org/shop")
    assert check(tmp_path, runs("example-org/paiss-web:1.0"), options=options) == (
        1,
        [("policy.foreign-image", "services.web.image")],
    )
    assert check(tmp_path / "own", runs("index.docker.io/example-org/shop-web:1"),
                 options=options) == (0, [])  # fmt: skip


def test_without_tenant_images_no_image_is_refused(tmp_path: Path) -> None:
    """A plan made before the option existed checks what it always did."""
    assert check(tmp_path, runs("ghcr.io/example-org/paiss-web:1.0")) == (0, [])
