"""The Rollback Project workflow run by act against the e2e servers: a manual rollback of a
tenant's staging goes back to the previous good release on the host, recorded as whoever ran
it; a request for a tenant that does not exist stops in Plan with nothing changed."""

from __future__ import annotations

import pytest
from e2e.platform_fixture import http_get
from workflows.actrun import PlatformRepo
from workflows.test_workflow_deploy_project import add_tenant, assert_no_secret_leaked, errors

pytestmark = pytest.mark.e2e

WORKFLOW = ".github/workflows/rollback-project.yml"


def rollback_event(project: str, environment: str, release: str = "") -> dict[str, object]:
    return {"inputs": {"project": project, "environment": environment, "release": release}}


def test_a_rollback_through_github_restores_the_previous_release(
    platform_repo: PlatformRepo,
) -> None:
    repo, platform = platform_repo, platform_repo.platform
    add_tenant(repo, "wf-back")
    repo.commit("wf-back")
    platform.deploy("wf-back", "staging", image="v1")
    first = platform.current("wf-back")
    platform.deploy("wf-back", "staging", image="v2")
    assert http_get(platform.port("wf-back", "staging")) == "v2"

    run = repo.act.run(
        "workflow_dispatch", rollback_event("wf-back", "staging"), "rollback", workflow=WORKFLOW
    )

    assert run.returncode == 0, errors(run.log)
    assert platform.current("wf-back") == first
    assert http_get(platform.port("wf-back", "staging")) == "v1"
    event = platform.history("wf-back")[-1]
    assert (event["event"], event["outcome"], event["actor"]) == ("rollback", "restored", "alice")
    assert_no_secret_leaked(repo, run.log)


def test_a_rollback_of_an_unknown_tenant_stops_in_plan(platform_repo: PlatformRepo) -> None:
    repo = platform_repo
    add_tenant(repo, "wf-back")
    repo.commit("wf-back")

    run = repo.act.run(
        "workflow_dispatch", rollback_event("wf-nope", "staging"), "rollback", workflow=WORKFLOW
    )

    assert run.returncode != 0
    assert "project 'wf-nope': not a tenant" in run.log, errors(run.log)
