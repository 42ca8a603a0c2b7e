"""Deployments in an app repository: the client's requests and GitHub's answers, each checked
against GitHub's OpenAPI description by the fake server."""

from __future__ import annotations

import pytest
from github import canned
from github.canned import TOKEN
from github.fake_github import FakeGitHub, Reply
from pydantic import SecretStr

from platform_lib.github.client import GitHubClient, Repo
from platform_lib.github.errors import Forbidden
from platform_lib.github.transport import Transport

APP = Repo("example-org", "shop")
SHA = "0123456789abcdef0123456789abcdef01234567"
DEPLOYMENTS = "/repos/example-org/shop/deployments"
LOG = "https://github.com/example-org/platform/actions/runs/2"


@pytest.fixture
def client(github: FakeGitHub) -> GitHubClient:
    return GitHubClient(Transport(SecretStr(TOKEN), github.url, max_wait=1))


def test_a_deployment_is_of_exactly_the_app_commit(
    github: FakeGitHub, client: GitHubClient
) -> None:
    github.on("POST", DEPLOYMENTS, Reply(201, canned.deployment(7, SHA, "shop-production")))
    made = client.create_deployment(
        APP, SHA, "shop-production", description="platform release r1", production=True
    )
    assert (made.id, made.sha, made.environment) == (7, SHA, "shop-production")
    assert github.bodies("POST", DEPLOYMENTS) == [
        {
            "ref": SHA,
            "task": "deploy",
            "environment": "shop-production",
            "description": "platform release r1",
            "auto_merge": False,
            "required_contexts": [],
            "production_environment": True,
            "transient_environment": False,
        }
    ]


@pytest.mark.parametrize("state", ["queued", "in_progress", "success", "failure"])
def test_each_status_links_the_platform_run(
    github: FakeGitHub, client: GitHubClient, state: str
) -> None:
    statuses = f"{DEPLOYMENTS}/7/statuses"
    github.on("POST", statuses, Reply(201, canned.deployment_status(70, state)))
    url = "https://shop.example.com" if state == "success" else ""
    status = client.create_deployment_status(APP, 7, state, log_url=LOG, environment_url=url)
    assert status.state == state
    [body] = github.bodies("POST", statuses)
    expected = {"state": state, "log_url": LOG, "description": "", "auto_inactive": True}
    assert body == expected | ({"environment_url": url} if url else {})


def test_a_token_without_deployments_write_is_forbidden(
    github: FakeGitHub, client: GitHubClient
) -> None:
    refused = canned.error("Resource not accessible by integration", 403)
    github.on("POST", DEPLOYMENTS, Reply(403, refused))
    with pytest.raises(Forbidden):
        client.create_deployment(APP, SHA, "shop-staging", description="", production=False)
