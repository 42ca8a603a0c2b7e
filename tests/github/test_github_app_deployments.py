"""`github app-deployment`: a dispatched deploy shown in the tenant's app repository, the CLI
against the fake GitHub (every request checked against GitHub's OpenAPI description). Whatever
goes wrong, the command exits 0 with warnings: it must never fail a deploy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from github import canned
from github.canned import TOKEN
from github.fake_github import FakeGitHub, Reply
from github.harness import Cli

from platform_lib.github import app_deployments as app
from platform_lib.github.payload import DeployPayload

SHA = "0123456789abcdef0123456789abcdef01234567"
DIGEST = "sha256:" + "ab" * 32
DEPLOYMENTS = "/repos/example-org/shop/deployments"
LOG = "https://github.com/example-org/platform/actions/runs/2"
URL = "https://shop.example.com"
IDS = {"staging": 11, "production": 12}


def statuses(deployment_id: int) -> str:
    return f"{DEPLOYMENTS}/{deployment_id}/statuses"


def dispatch(app_repository: str = "example-org/shop", project: str = "shop") -> dict[str, Any]:
    payload = DeployPayload.build(
        project=project,
        images={"web": f"ghcr.io/example-org/shop-web@{DIGEST}"},
        commit=SHA,
        actor="alice",
        app_repository=app_repository,
        request_id="0a1b2c3d4e5f6a7b",
        id_token="header.claims.signature",
    )
    return {"action": "deploy", "client_payload": payload.model_dump(mode="json")}


@pytest.fixture
def tenant(root: Path) -> Path:
    (root / "configs" / "shop").mkdir()
    (root / "configs" / "shop" / "project.yml").write_text(
        "app_repository: example-org/shop\n", encoding="utf-8"
    )
    return root


@pytest.fixture
def event(tmp_path: Path) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(dispatch()), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch, github: FakeGitHub) -> None:
    monkeypatch.setenv(app.TOKEN_VARIABLE, TOKEN)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "example-org/platform")
    monkeypatch.setenv("GITHUB_RUN_ID", "2")
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)


def serve(github: FakeGitHub) -> None:
    github.on(
        "POST",
        DEPLOYMENTS,
        Reply(201, canned.deployment(11, SHA, "shop-staging")),
        Reply(201, canned.deployment(12, SHA, "shop-production")),
    )
    for deployment_id in IDS.values():
        queued = canned.deployment_status(deployment_id * 10, "queued")
        github.on("POST", statuses(deployment_id), Reply(201, queued))


def step(cli: Cli, event: Path, output: Path, *args: str) -> dict[str, Any]:
    """One workflow step: JSON on stdout, ids appended to the step's output file."""
    result = cli("app-deployment", "--project", "shop", "--event", str(event),
                 "--github-output", str(output), *args)  # fmt: skip
    assert result.code == 0
    answer: dict[str, Any] = json.loads(result.out)
    return answer


def last_ids(output: Path) -> str:
    return output.read_text(encoding="utf-8").splitlines()[-1].removeprefix("deployment_ids=")


def status_body(state: app.State, url: str = "") -> dict[str, Any]:
    body = {"state": state, "log_url": LOG, "description": app.DESCRIPTIONS[state],
            "auto_inactive": True}  # fmt: skip
    return body | ({"environment_url": url} if url else {})


def test_a_deploy_queued_started_and_successful(
    github: FakeGitHub, cli: Cli, tenant: Path, event: Path, tmp_path: Path
) -> None:
    serve(github)
    output = tmp_path / "output"
    queued = step(cli, event, output, "--env", "staging", "--env", "production",
                  "--state", "queued")  # fmt: skip
    assert queued == {"deployment_ids": IDS, "skipped": None, "warnings": []}
    plan_ids = last_ids(output)
    assert json.loads(plan_ids) == IDS
    started = step(cli, event, output, "--env", "staging", "--state", "in_progress",
                   "--deployment-ids", plan_ids)  # fmt: skip
    assert started["deployment_ids"] == IDS and started["warnings"] == []
    step(cli, event, output, "--env", "staging", "--job-status", "success", "--deployed", "true",
         "--environment-url", URL, "--deployment-ids", last_ids(output))  # fmt: skip

    assert github.lines == [
        f"POST {DEPLOYMENTS}",
        f"POST {statuses(11)}",
        f"POST {DEPLOYMENTS}",
        f"POST {statuses(12)}",
        f"POST {statuses(11)}",
        f"POST {statuses(11)}",
    ]
    made = github.bodies("POST", DEPLOYMENTS)
    assert [(d["ref"], d["environment"]) for d in made] == [
        (SHA, "shop-staging"),
        (SHA, "shop-production"),
    ]
    # auto_inactive retires only non-production deployments, so none is marked production
    assert {(d["auto_merge"], d["production_environment"]) for d in made} == {(False, False)}
    assert github.bodies("POST", statuses(11)) == [
        status_body("queued"),
        status_body("in_progress"),
        status_body("success", URL),
    ]
    assert github.bodies("POST", statuses(12)) == [status_body("queued")]


@pytest.mark.parametrize(
    ("job_status", "deployed", "state"),
    [("failure", "", "failure"), ("failure", "true", "failure"), ("cancelled", "", "error"),
     ("success", "false", "inactive"), ("success", "true", "success")],
)  # fmt: skip
def test_the_job_result_decides_the_final_state(
    github: FakeGitHub, cli: Cli, tenant: Path, event: Path, tmp_path: Path,
    job_status: str, deployed: str, state: app.State,
) -> None:  # fmt: skip
    serve(github)
    step(cli, event, tmp_path / "output", "--env", "production", "--job-status", job_status,
         "--deployed", deployed, "--deployment-ids", json.dumps(IDS),
         "--environment-url", URL)  # fmt: skip
    assert github.lines == [f"POST {statuses(12)}"]
    # the URL only once it runs there
    assert github.bodies("POST", statuses(12)) == [
        status_body(state, URL if state == "success" else "")
    ]


def test_a_failed_deploy_after_queued_and_in_progress(
    github: FakeGitHub, cli: Cli, tenant: Path, event: Path, tmp_path: Path
) -> None:
    serve(github)
    output = tmp_path / "output"
    step(cli, event, output, "--env", "staging", "--state", "queued")
    step(cli, event, output, "--env", "staging", "--state", "in_progress",
         "--deployment-ids", last_ids(output))  # fmt: skip
    step(cli, event, output, "--env", "staging", "--job-status", "failure",
         "--deployment-ids", last_ids(output))  # fmt: skip
    assert github.lines == [f"POST {DEPLOYMENTS}", *[f"POST {statuses(11)}"] * 3]
    states = [body["state"] for body in github.bodies("POST", statuses(11))]
    assert states == ["queued", "in_progress", "failure"]


def test_a_deployment_an_earlier_step_did_not_make_is_made_now(
    github: FakeGitHub, cli: Cli, tenant: Path, event: Path, tmp_path: Path
) -> None:
    serve(github)
    answer = step(cli, event, tmp_path / "output", "--env", "staging", "--state", "in_progress",
                  "--deployment-ids", "not json")  # fmt: skip
    assert github.lines == [f"POST {DEPLOYMENTS}", f"POST {statuses(11)}"]
    assert answer["deployment_ids"] == {"staging": 11}
    [warning] = answer["warnings"]
    assert warning.startswith("deployment ids 'not json'")


def test_a_token_without_deployments_write_warns_and_exits_0(
    github: FakeGitHub, cli: Cli, tenant: Path, event: Path, tmp_path: Path
) -> None:
    refused = canned.error("Resource not accessible by personal access token", 403)
    github.on("POST", DEPLOYMENTS, Reply(403, refused))
    output = tmp_path / "output"
    result = cli("app-deployment", "--project", "shop", "--event", str(event),
                 "--env", "staging", "--state", "queued",
                 "--format", "github", "--github-output", str(output))  # fmt: skip
    assert result.code == 0
    assert github.lines == [f"POST {DEPLOYMENTS}"]  # no status for a deployment never made
    [line] = result.out.splitlines()
    prefix, _, message = line.partition("::")[2].partition("::")
    assert prefix == "warning title=app deployment"
    assert message.startswith("shop-staging in example-org/shop: ")
    assert "APP_DEPLOYMENTS_TOKEN needs Deployments: read and write on example-org/shop" in message
    assert output.read_text(encoding="utf-8") == "deployment_ids={}\n"


def test_a_failing_status_keeps_the_deployment_id(
    github: FakeGitHub, cli: Cli, tenant: Path, event: Path, tmp_path: Path
) -> None:
    github.on("POST", DEPLOYMENTS, Reply(201, canned.deployment(11, SHA, "shop-staging")))
    github.on("POST", statuses(11), Reply(422, canned.error("Validation Failed", 422)))
    answer = step(cli, event, tmp_path / "output", "--env", "staging", "--state", "queued")
    assert answer["deployment_ids"] == {"staging": 11}  # the next step gives it its status
    [warning] = answer["warnings"]
    assert warning.startswith("shop-staging in example-org/shop: ") and "422" in warning


def test_no_token_sends_nothing(
    github: FakeGitHub, cli: Cli, tenant: Path, event: Path, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    monkeypatch.delenv(app.TOKEN_VARIABLE)  # GH_TOKEN stays set: never used for this
    answer = step(cli, event, tmp_path / "output", "--env", "staging", "--state", "queued")
    assert github.seen == []
    assert answer["deployment_ids"] == {}
    assert answer["warnings"] == [answer["skipped"]]
    assert answer["skipped"].startswith("APP_DEPLOYMENTS_TOKEN is not set: no deployment in "
                                        "example-org/shop")  # fmt: skip


@pytest.mark.parametrize(
    "event_body",
    [
        {"ref": "refs/heads/main", "before": "a" * 40, "after": "b" * 40},  # a config push
        {"inputs": {"project": "shop", "environment": "staging", "images": ""}},  # manual
    ],
    ids=["push", "workflow_dispatch"],
)
def test_push_and_manual_runs_create_none(
    github: FakeGitHub, cli: Cli, tenant: Path, tmp_path: Path, event_body: dict[str, Any]
) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event_body), encoding="utf-8")
    answer = step(cli, path, tmp_path / "output", "--env", "staging", "--state", "queued")
    assert github.seen == []
    assert answer == {
        "deployment_ids": {},
        "skipped": "the run was not started by a deploy request: no app commit",
        "warnings": [],
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (dispatch(app_repository="example-org/other"),
         "example-org/other is not the app_repository of shop"),
        ({"client_payload": {"project": "shop"}},
         "the event's client_payload is not a deploy request"),
    ],
)  # fmt: skip
def test_a_request_the_tenant_does_not_take_creates_none(
    github: FakeGitHub, cli: Cli, tenant: Path, tmp_path: Path, body: dict[str, Any], reason: str
) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    answer = step(cli, path, tmp_path / "output", "--env", "staging", "--state", "queued")
    assert github.seen == []
    assert answer["warnings"] == [reason]


def test_only_the_environments_the_tenant_deploys_to(
    github: FakeGitHub, cli: Cli, tenant: Path, event: Path, tmp_path: Path
) -> None:
    manifest = tenant / "configs" / "shop" / "project.yml"
    manifest.write_text(
        "app_repository: example-org/shop\nenvironments: [staging]\n", encoding="utf-8"
    )
    serve(github)
    answer = step(cli, event, tmp_path / "output", "--env", "staging", "--env", "production",
                  "--state", "queued")  # fmt: skip
    assert answer["deployment_ids"] == {"staging": 11}
    assert github.lines == [f"POST {DEPLOYMENTS}", f"POST {statuses(11)}"]


def test_the_log_url_is_the_platform_run() -> None:
    environ = {
        "GITHUB_SERVER_URL": "https://github.example.com/",
        "GITHUB_REPOSITORY": "example-org/platform",
        "GITHUB_RUN_ID": "42",
    }
    assert app.run_url(environ) == "https://github.example.com/example-org/platform/actions/runs/42"
    assert app.run_url({**environ, "GITHUB_RUN_ID": ""}) == ""
