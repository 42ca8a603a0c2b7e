"""Who owns a repository of the platform's registry namespace (config/repositories.py)."""

from __future__ import annotations

import pytest

from platform_lib.config.repositories import (
    is_tenant_repository,
    owner_candidates,
    platform_repository,
    repository_owner,
    split_reference,
)
from platform_lib.models.settings import Registry

GHCR = Registry(host="ghcr.io", namespace="example-org")
HUB = Registry(host="docker.io", namespace="example-org")
LOCAL = Registry(host="127.0.0.1:5000", namespace="platform-tests")
DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("ref", "split"),
    [
        ("postgres:16", ("docker.io", "postgres")),
        ("example-org/web:1", ("docker.io", "example-org/web")),
        ("GHCR.io/example-org/web:1", ("ghcr.io", "example-org/web")),
        (f"ghcr.io/example-org/web@{DIGEST}", ("ghcr.io", "example-org/web")),
        (f"ghcr.io/example-org/web:1@{DIGEST}", ("ghcr.io", "example-org/web")),
        ("index.docker.io/example-org/web", ("docker.io", "example-org/web")),
        ("localhost/web:1", ("localhost", "web")),
        (
            "127.0.0.1:5000/platform-tests/demo-web:v1",
            ("127.0.0.1:5000", "platform-tests/demo-web"),
        ),
    ],
)
def test_references_are_split_as_docker_reads_them(ref: str, split: tuple[str, str]) -> None:
    assert split_reference(ref) == split


@pytest.mark.parametrize(
    ("registry", "ref", "repository"),
    [
        (GHCR, "ghcr.io/example-org/paiss-web:1", "paiss-web"),
        (GHCR, "GHCR.IO/example-org/paiss-web:1", "paiss-web"),
        (GHCR, "ghcr.io/example-org/team/web:1", "team/web"),
        (GHCR, "ghcr.io/other-org/paiss-web:1", None),
        (GHCR, "ghcr.io/example-org:1", None),
        (GHCR, "example-org/paiss-web:1", None),
        (HUB, "example-org/paiss-web:1", "paiss-web"),
        (HUB, "docker.io/example-org/paiss-web:1", "paiss-web"),
        (HUB, "postgres:16", None),
        (LOCAL, f"127.0.0.1:5000/platform-tests/demo-web@{DIGEST}", "demo-web"),
        (LOCAL, "localhost:5000/platform-tests/demo-web:v1", None),
    ],
)
def test_platform_repository(registry: Registry, ref: str, repository: str | None) -> None:
    assert platform_repository(registry, ref) == repository


@pytest.mark.parametrize(
    ("repository", "own"),
    [
        ("shop", True),
        ("shop-web", True),
        ("shop-admin-web", True),
        ("shop/web", True),
        ("shopkeeper-web", False),
        ("shop.web", False),
        ("my-shop-web", False),
        ("web", False),
    ],
)
def test_a_repository_is_named_for_a_tenant_by_its_first_component(
    repository: str, own: bool
) -> None:
    assert is_tenant_repository("shop", repository) is own


def test_the_longest_tenant_name_owns_a_repository() -> None:
    assert owner_candidates("shop-admin-web") == ("shop", "shop-admin", "shop-admin-web")
    assert repository_owner("shop-admin-web", {"shop", "shop-admin"}) == "shop-admin"
    assert repository_owner("shop-web", {"shop", "shop-admin"}) == "shop"
    assert repository_owner("shop-admin-web", {"shop"}) == "shop"
    assert repository_owner("paiss-web", {"shop", "shop-admin"}) is None
