"""The GitHub environments derived from the platform settings, and doctor's verdicts. Pure."""

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
    reviewer_handles,
)
from platform_lib.github.models import Environment
from platform_lib.models.settings import PlatformSettings

IDS = {
    "ops-lead": ReviewerId(type="User", id=101),
    "example-org/release-managers": ReviewerId(type="Team", id=202),
}


def settings(**github: Any) -> PlatformSettings:
    data = yaml.safe_load(SETTINGS)
    data["github"].update(github)
    return PlatformSettings.model_validate(data)


def test_gated_environments_get_reviewers_and_every_one_a_branch_policy() -> None:
    desired = desired_environments(settings(), IDS, "main", wait_timer=5)
    assert [(e.name, e.body(), e.branches) for e in desired] == [
        (
            "staging",
            {
                "wait_timer": 0,
                "prevent_self_review": False,
                "reviewers": [],
                "deployment_branch_policy": {
                    "protected_branches": False,
                    "custom_branch_policies": True,
                },
            },
            ("main",),
        ),
        (
            "production",
            {
                "wait_timer": 5,
                "prevent_self_review": True,
                "reviewers": [{"type": "User", "id": 101}, {"type": "Team", "id": 202}],
                "deployment_branch_policy": {
                    "protected_branches": False,
                    "custom_branch_policies": True,
                },
            },
            ("main",),
        ),
    ]


def test_protected_branches_need_no_branch_names() -> None:
    [staging, production] = desired_environments(settings(), IDS, "", rule="protected")
    assert production.body()["deployment_branch_policy"] == {
        "protected_branches": True,
        "custom_branch_policies": False,
    }
    assert production.branches == staging.branches == ()


def test_a_gate_without_reviewers_is_an_error() -> None:
    with pytest.raises(
        PlatformError,
        match=r"production requires approval but github\.production_reviewers is empty",
    ):
        reviewer_handles(settings(production_reviewers=[]))


@pytest.mark.parametrize("handle", ["org/", "/team", "a/b/c"])
def test_reviewers_are_logins_or_org_slash_team(handle: str) -> None:
    with pytest.raises(PlatformError, match="neither a user login nor org/team-slug"):
        reviewer_handles(settings(production_reviewers=[handle]))


def test_wait_timer_bounds() -> None:
    with pytest.raises(PlatformError, match="GitHub allows 0 to 43200 minutes"):
        desired_environments(settings(), IDS, "main", wait_timer=43_201)


def test_doctor_verdicts() -> None:
    safe = Environment.model_validate(canned.environment("production"))
    assert environment_problems(safe) == []
    assert environment_warnings(safe) == []
    bare = Environment.model_validate(
        canned.environment("production", reviewers=False, branch_policy=False)
    )
    assert environment_problems(bare) == [
        "no required reviewers: anyone who can run the workflow deploys",
        "no deployment branch policy: any branch can deploy and read its secrets",
    ]
    lax = Environment.model_validate(canned.environment("production", prevent_self_review=False))
    assert environment_warnings(lax) == [
        "prevent_self_review is off: whoever triggers a deploy may approve it"
    ]
