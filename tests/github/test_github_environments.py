"""The GitHub environments derived from the platform settings and the tenants' manifests (one
per tenant and platform environment), and doctor's verdicts. Pure."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from github import canned
from github.canned import SETTINGS

from platform_lib.errors import PlatformError
from platform_lib.github.environments import (
    ReviewerId,
    desired_environments,
    environment_problems,
    environment_warnings,
    missing_secrets,
    needed,
    reviewer_handles,
)
from platform_lib.github.models import Environment
from platform_lib.github.naming import github_environment, parse_github_environment
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings

IDS = {
    "ops-lead": ReviewerId(type="User", id=101),
    "example-org/release-managers": ReviewerId(type="Team", id=202),
    "wiki-lead": ReviewerId(type="User", id=303),
}
CUSTOM = {"protected_branches": False, "custom_branch_policies": True}


def settings(registry: dict[str, str] | None = None, **github: Any) -> PlatformSettings:
    data = yaml.safe_load(SETTINGS)
    data["registry"].update(registry or {})
    data["github"].update(github)
    return PlatformSettings.model_validate(data)


def tenants(**extra: dict[str, Any]) -> dict[str, ProjectManifest]:
    """shop: the platform's reviewers and a secret; wiki: its own reviewer."""
    manifests: dict[str, dict[str, Any]] = {
        "shop": {"secrets": ["SHOP_API_KEY"]},
        "wiki": {"reviewers": ["wiki-lead"]},
        **extra,
    }
    return {name: ProjectManifest.model_validate(data) for name, data in manifests.items()}


def test_every_tenant_gets_its_own_environment_per_platform_environment() -> None:
    desired = desired_environments(settings(), tenants(), IDS, "main", wait_timer=5)
    assert [(e.name, e.tenant.project, e.tenant.environment, e.branches) for e in desired] == [
        ("shop-staging", "shop", "staging", ("main",)),
        ("shop-production", "shop", "production", ("main",)),
        ("wiki-staging", "wiki", "staging", ("main",)),
        ("wiki-production", "wiki", "production", ("main",)),
    ]
    bodies = {e.name: e.body() for e in desired}
    assert bodies["shop-staging"] == {
        "wait_timer": 0,
        "prevent_self_review": False,
        "reviewers": [],
        "deployment_branch_policy": CUSTOM,
    }
    assert bodies["shop-production"] == {
        "wait_timer": 5,
        "prevent_self_review": True,
        "reviewers": [{"type": "User", "id": 101}, {"type": "Team", "id": 202}],
        "deployment_branch_policy": CUSTOM,
    }
    # the manifest's reviewers replace the platform's, for that tenant only
    assert bodies["wiki-production"]["reviewers"] == [{"type": "User", "id": 303}]


def test_each_environment_needs_the_platform_credentials_and_its_tenant_secrets_only() -> None:
    with_login = settings(registry={"username": "bot", "token_secret": "REGISTRY_TOKEN"})
    found = {t.name: t.secrets for t in needed(with_login, tenants())}
    assert found["shop-production"] == ("DEPLOY_SSH_KEY", "REGISTRY_TOKEN", "SHOP_API_KEY")
    assert found["wiki-production"] == ("DEPLOY_SSH_KEY", "REGISTRY_TOKEN")
    shop = next(t for t in needed(with_login, tenants()) if t.name == "shop-staging")
    assert missing_secrets(shop, ["DEPLOY_SSH_KEY", "OTHER"]) == ["REGISTRY_TOKEN", "SHOP_API_KEY"]


def test_a_tenant_gets_only_the_environments_it_deploys_to() -> None:
    only = tenants(blog={"environments": ["staging"]})
    assert [t.name for t in needed(settings(), only) if t.project == "blog"] == ["blog-staging"]


def test_reviewers_to_look_up_are_every_tenants_once() -> None:
    handles = [h.text for h in reviewer_handles(settings(), tenants(blog={}))]
    assert handles == ["ops-lead", "example-org/release-managers", "wiki-lead"]


def test_environment_names_split_back_into_tenant_and_environment() -> None:
    assert github_environment("filter-ical", "production") == "filter-ical-production"
    assert parse_github_environment("filter-ical-production") == ("filter-ical", "production")
    assert parse_github_environment("production") is None


def test_protected_branches_need_no_branch_names() -> None:
    desired = desired_environments(settings(), tenants(), IDS, "", rule="protected")
    assert {e.body()["deployment_branch_policy"]["protected_branches"] for e in desired} == {True}
    assert {e.branches for e in desired} == {()}


def test_a_gate_without_reviewers_is_an_error() -> None:
    with pytest.raises(PlatformError, match=r"github\.production_reviewers is empty but shop"):
        reviewer_handles(settings(production_reviewers=[]), tenants())
    with pytest.raises(PlatformError, match=r"configs/wiki/project.yml: reviewers is empty"):
        reviewer_handles(settings(), tenants(wiki={"reviewers": []}))
    # a tenant that never deploys to a gated environment needs no reviewers
    staging_only = {"blog": ProjectManifest.model_validate({"environments": ["staging"]})}
    assert reviewer_handles(settings(production_reviewers=[]), staging_only) == []


@pytest.mark.parametrize("handle", ["org/", "/team", "a/b/c"])
def test_reviewers_are_logins_or_org_slash_team(handle: str) -> None:
    with pytest.raises(PlatformError, match="neither a user login nor org/team-slug"):
        reviewer_handles(settings(production_reviewers=[handle]), tenants())


def test_wait_timer_bounds() -> None:
    with pytest.raises(PlatformError, match="GitHub allows 0 to 43200 minutes"):
        desired_environments(settings(), tenants(), IDS, "main", wait_timer=43_201)


def test_doctor_verdicts() -> None:
    safe = Environment.model_validate(canned.environment("shop-production"))
    assert environment_problems(safe) == []
    assert environment_warnings(safe) == []
    bare = Environment.model_validate(
        canned.environment("shop-production", reviewers=False, branch_policy=False)
    )
    assert len(environment_problems(bare)) == 2
    assert len(environment_problems(bare, gated=False)) == 1  # staging needs no reviewers
    lax = Environment.model_validate(
        canned.environment("shop-production", prevent_self_review=False)
    )
    assert len(environment_warnings(lax)) == 1
