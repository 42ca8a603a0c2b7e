"""The Rollback Project workflow run by act against the e2e servers: a manual rollback of a
tenant's staging goes back to the previous good release on the host, recorded as whoever ran
it; a request for a tenant that does not exist stops in Plan with nothing changed."""

from __future__ import annotations

import pytest
from e2e.platform_fixture import http_get
from github import canned, openapi
from github.fake_github import FakeGitHub, Reply
from workflows import actrun
from workflows.actrun import PlatformRepo
from workflows.test_workflow_deploy_project import (
    add_tenant,
    assert_no_secret_leaked,
    errors,
    image,
)

pytestmark = [pytest.mark.e2e, pytest.mark.second_lane]

WORKFLOW = ".github/workflows/rollback-project.yml"


def rollback_event(project: str, environment: str, release: str = "") -> dict[str, object]:
    return {"inputs": {"project": project, "environment": environment, "release": release}}


def test_a_rollback_through_github_restores_the_previous_release(
    platform_repo: PlatformRepo, github_spec: openapi.Spec
) -> None:
    """...and records on GitHub what the environment runs after it (the OpenAPI-checked fake
    GitHub answers), as a deploy of production does."""
    repo, platform = platform_repo, platform_repo.platform
    add_tenant(repo, "wf-back")
    head = repo.commit("wf-back")
    platform.deploy("wf-back", "staging", image="v1")
    first = platform.current("wf-back")
    platform.deploy("wf-back", "staging", image="v2")
    assert http_get(platform.port("wf-back", "staging")) == "v2"
    with repo.act.secret_file.open("a", encoding="utf-8") as secrets:
        secrets.write(f"GITHUB_TOKEN={canned.TOKEN}\n")
    fake = FakeGitHub(github_spec, canned.TOKEN).start()
    records = f"/repos/{actrun.PLATFORM_REPO}/deployments"
    fake.on("POST", records, Reply(201, canned.deployment(61, head, "wf-back-staging")))
    fake.on("POST", f"{records}/61/statuses", Reply(201, canned.deployment_status(1, "success")))
    try:
        run = repo.act.run(
            "workflow_dispatch", rollback_event("wf-back", "staging"), "rollback",
            workflow=WORKFLOW, env={"GITHUB_API_URL": fake.url},
        )  # fmt: skip
    finally:
        fake.stop()

    assert run.returncode == 0, errors(run.log)
    assert not fake.problems, fake.problems
    (made,) = fake.bodies("POST", records)
    assert (made["ref"], made["environment"]) == (head, "wf-back-staging")
    assert made["payload"]["release"] == first
    assert made["payload"]["images"] == {"web": image(repo, "v1")}
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
