"""`github notify` and `github trigger` end to end: the CLI against the fake GitHub, every
request checked against GitHub's OpenAPI description by the server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
import yaml
from github import canned
from github.fake_github import FakeGitHub, Reply
from github.harness import Cli
from github.oidc_issuer import REQUEST_TOKEN, LocalIssuer

from platform_lib.github.follow import RUN_URL_TIMEOUT, WAIT_TIMEOUT

WORKFLOW = Path(__file__).parents[2] / ".github/workflows/deploy-project.yml"

DIGEST = "sha256:" + "ab" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"
REQUEST = "0a1b2c3d4e5f6a7b"
TITLE = f"deploy shop: web={DIGEST} (example-org/shop@0123456 by alice) [request {REQUEST}]"
DISPATCHES = "/repos/example-org/platform/dispatches"
RUNS = "/repos/example-org/platform/actions/workflows/deploy-project.yml/runs"
JOBS = "/repos/example-org/platform/actions/runs/2/jobs"
RUN_URL = "https://github.com/example-org/platform/actions/runs/2"
NOTIFY = (
    "notify", "--project", "shop", "--image", f"web=ghcr.io/example-org/shop-web@{DIGEST}",
    "--commit", COMMIT, "--request-id", REQUEST,
)  # fmt: skip


@pytest.fixture(autouse=True)
def actions_job(github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalIssuer]:
    """`notify` runs in an app repository's job with `id-token: write`: the runner's token
    endpoint is a local issuer's."""
    issuer = LocalIssuer("example-org/shop", COMMIT).start()
    monkeypatch.setenv("GITHUB_REPOSITORY", "example-org/shop")
    monkeypatch.setenv("GITHUB_ACTOR", "alice")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", issuer.request_url)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
    yield issuer
    issuer.stop()


FOLLOW = ("--wait", "staging", "--poll-interval", "0.01", "--timeout", "5")


def just_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_notify_dispatches_the_deploy_event(
    github: FakeGitHub, cli: Cli, actions_job: LocalIssuer
) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    result = cli(*NOTIFY)
    assert (result.code, result.out) == (0, "")
    assert result.err == f"notified example-org/platform: {TITLE}\n"
    [token] = actions_job.minted
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "https://github.com/example-org/platform"  # the platform repository
    assert token not in result.out + result.err
    assert github.bodies("POST", DISPATCHES) == [
        {
            "event_type": "deploy",
            "client_payload": {
                "payload_version": 2,
                "project": "shop",
                "images": {"web": f"ghcr.io/example-org/shop-web@{DIGEST}"},
                "commit": COMMIT,
                "actor": "alice",
                "app_repository": "example-org/shop",
                "run_name": TITLE,
                "request_id": REQUEST,
                "id_token": token,
            },
        }
    ]


def test_notify_defaults_come_from_the_actions_environment(
    github: FakeGitHub, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", COMMIT)
    github.on("POST", DISPATCHES, Reply(204))
    result = cli("notify", "--project", "shop", "--image", f"web={DIGEST}")
    assert result.code == 0
    [body] = github.bodies("POST", DISPATCHES)
    assert body["client_payload"]["app_repository"] == "example-org/shop"
    assert body["client_payload"]["actor"] == "alice"


def test_notify_wait_follows_staging_to_success(github: FakeGitHub, cli: Cli) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    # another request for the same digests from the same commit, started at the same time
    # (a re-run of the app's job), newer and failed: not this request's run
    other = TITLE.replace(REQUEST, "f" * 16)
    earlier = canned.run(3, other, status="completed", conclusion="failure", created_at=just_now())
    github.on(
        "GET",
        RUNS,
        Reply(200, canned.runs(earlier)),  # the new run is not listed yet
        Reply(
            200,
            canned.runs(canned.run(2, TITLE, status="in_progress", created_at=just_now()), earlier),
        ),
    )
    github.on(
        "GET",
        JOBS,
        Reply(200, canned.jobs(canned.job(20, 2, "deploy shop to staging", "in_progress", None))),
        Reply(
            200,
            canned.jobs(
                canned.job(20, 2, "deploy shop to staging"),
                canned.job(21, 2, "deploy shop to production", "waiting", None),
            ),
        ),
    )
    result = cli(*NOTIFY, *FOLLOW)
    assert (result.code, result.out) == (0, f"{RUN_URL}\n")
    assert result.err.splitlines() == [
        f"notified example-org/platform: {TITLE}",
        f"run 2: {RUN_URL}",
        "shop to staging: in_progress",
        "shop to staging: success",
        f"shop deployed to staging: {RUN_URL}/job/20",
    ]
    runs_query = "event=repository_dispatch&page=1&per_page=100"
    jobs_query = "filter=latest&page=1&per_page=100"
    assert github.lines == [
        f"POST {DISPATCHES}",
        f"GET {RUNS}?{runs_query}",
        f"GET {RUNS}?{runs_query}",
        f"GET {JOBS}?{jobs_query}",
        f"GET {JOBS}?{jobs_query}",
    ]


def test_notify_wait_fails_with_the_failed_step(github: FakeGitHub, cli: Cli) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    github.on(
        "GET",
        RUNS,
        Reply(200, canned.runs(canned.run(2, TITLE, status="in_progress", created_at=just_now()))),
    )
    steps = (("Set up job", "success"), ("Deploy to staging", "failure"), ("Post", "skipped"))
    failed = canned.job(20, 2, "deploy shop to staging", conclusion="failure", steps=steps)
    github.on("GET", JOBS, Reply(200, canned.jobs(failed)))
    result = cli(*NOTIFY, *FOLLOW)
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"error: deploy of shop to staging failure at step 'Deploy to staging' ({RUN_URL}/job/20)"
    )


def test_notify_wait_explains_a_skipped_staging(github: FakeGitHub, cli: Cli) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    github.on(
        "GET",
        RUNS,
        Reply(200, canned.runs(canned.run(2, TITLE, status="completed", created_at=just_now()))),
    )
    jobs = canned.jobs(
        canned.job(19, 2, "validate", conclusion="failure"),
        canned.job(20, 2, "deploy shop to staging", conclusion="skipped"),
    )
    github.on("GET", JOBS, Reply(200, jobs))
    result = cli(*NOTIFY, *FOLLOW)
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"error: deploy of shop to staging skipped because validate failed ({RUN_URL}/job/20)"
    )


def test_notify_wait_gives_up_when_no_run_starts(github: FakeGitHub, cli: Cli) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    github.on("GET", RUNS, Reply(200, canned.runs()))
    result = cli(*NOTIFY, "--wait", "staging", "--poll-interval", "0.01", "--timeout", "0.05")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: no run of deploy-project.yml in example-org/platform started for request "
        f"{REQUEST} within 0 s: is the workflow on the default branch, and does it listen to "
        "repository_dispatch type 'deploy'?"
    )


def test_notify_refuses_a_payload_over_64_kb_before_any_request(
    github: FakeGitHub, cli: Cli
) -> None:
    images = [arg for i in range(400) for arg in ("--image", f"service{i}={DIGEST}")]
    result = cli(*NOTIFY, *images)
    assert result.code == 1
    assert result.err.startswith("error: client_payload is ")
    assert result.err.endswith(" bytes; GitHub needs it under 65536 (64 KB)\n")
    assert github.seen == []


def test_notify_refuses_tags(github: FakeGitHub, cli: Cli) -> None:
    result = cli(
        "notify",
        "--project",
        "shop",
        "--image",
        "web=v1.2",
        "--commit",
        COMMIT,
    )
    assert result.code == 1
    assert result.err.startswith(
        "error: invalid deploy payload: images: web='v1.2' is not pinned by digest"
    )
    assert github.seen == []


def test_notify_outside_a_job_with_id_token_write_sends_nothing(
    github: FakeGitHub, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL")
    result = cli(*NOTIFY)
    assert result.code == 2
    assert github.seen == []


def test_notify_refuses_to_dispatch_to_the_app_repo(github: FakeGitHub, cli: Cli) -> None:
    result = cli(*NOTIFY, "--repo", "example-org/shop")
    assert (result.code, result.err) == (
        2,
        "error: example-org/shop is the app repository: pass --repo OWNER/NAME of the platform\n",
    )
    assert github.seen == []


WORKFLOW_DISPATCHES = "/repos/example-org/platform/actions/workflows/deploy-project.yml/dispatches"


def test_trigger_runs_the_workflow_on_the_default_branch(github: FakeGitHub, cli: Cli) -> None:
    github.on("GET", "/repos/example-org/platform", Reply(200, canned.repository("main")))
    github.on("POST", WORKFLOW_DISPATCHES, Reply(200, canned.dispatched(42)))
    result = cli(
        "trigger",
        "--project",
        "shop",
        "--env",
        "production",
        "--image",
        "web=v1.2",
        "--image",
        f"api={DIGEST}",
    )
    assert result.code == 0
    assert result.out == "https://github.com/example-org/platform/actions/runs/42\n"
    assert result.err == (
        "started .github/workflows/deploy-project.yml of example-org/platform on main: "
        "deploy shop to production\n"
    )
    assert github.lines == ["GET /repos/example-org/platform", f"POST {WORKFLOW_DISPATCHES}"]
    assert github.bodies("POST", WORKFLOW_DISPATCHES) == [
        {
            "ref": "main",
            "inputs": {
                "project": "shop",
                "environment": "production",
                "images": f"api={DIGEST} web=v1.2",
            },
            "return_run_details": True,
        }
    ]


def test_trigger_on_a_ref_without_run_details(github: FakeGitHub, cli: Cli) -> None:
    other = "/repos/example-org/other/actions/workflows/deploy-project.yml/dispatches"
    github.on("POST", other, Reply(204))
    result = cli(
        "trigger",
        "--project",
        "shop",
        "--env",
        "staging",
        "--ref",
        "release-1",
        "--repo",
        "example-org/other",
    )
    assert (result.code, result.out) == (0, "")
    assert github.lines == [f"POST {other}"]
    assert github.bodies("POST", other) == [
        {
            "ref": "release-1",
            "inputs": {"project": "shop", "environment": "staging", "images": ""},
            "return_run_details": True,
        }
    ]


def test_trigger_checks_the_environment_first(github: FakeGitHub, cli: Cli) -> None:
    result = cli("trigger", "--project", "shop", "--env", "qa")
    assert (result.code, result.err) == (2, "error: --env 'qa': not one of staging, production\n")
    assert github.seen == []


def test_notify_run_url_finds_the_run_without_following_it(github: FakeGitHub, cli: Cli) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    github.on(
        "GET",
        RUNS,
        Reply(200, canned.runs(canned.run(2, TITLE, status="queued", created_at=just_now()))),
    )
    result = cli(*NOTIFY, "--run-url", "--poll-interval", "0")
    assert (result.code, result.out) == (0, f"{RUN_URL}\n")
    assert result.err.splitlines() == [
        f"notified example-org/platform: {TITLE}",
        f"run 2: {RUN_URL}",
    ]
    assert [line.split("?")[0] for line in github.lines] == [f"POST {DISPATCHES}", f"GET {RUNS}"]


def test_each_request_has_its_own_random_id(github: FakeGitHub, cli: Cli) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    plain = [arg for arg in NOTIFY if arg not in ("--request-id", REQUEST)]
    assert cli(*plain).code == 0 and cli(*plain).code == 0
    sent = [body["client_payload"] for body in github.bodies("POST", DISPATCHES)]
    ids = [payload["request_id"] for payload in sent]
    assert len(set(ids)) == 2
    for payload in sent:
        assert re.fullmatch(r"[0-9a-f]{16}", payload["request_id"])
        assert payload["run_name"].endswith(f" [request {payload['request_id']}]")


FORBIDDEN = canned.error("Resource not accessible by personal access token", 403)


def test_a_run_url_the_token_may_not_read_is_a_warning_not_a_failure(
    github: FakeGitHub, cli: Cli
) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    github.on("GET", RUNS, Reply(403, FORBIDDEN))
    result = cli(*NOTIFY, "--run-url", "--poll-interval", "0", "--format", "json")
    assert result.code == 0  # the request was sent: the app's job stays green
    report = json.loads(result.out)
    assert report["request_id"] == REQUEST and report["run_url"] is None
    assert "Actions: read" in report["warning"]
    assert report["waited"] is None and report["wait_error"] is None
    assert [line.split("?")[0] for line in github.lines] == [f"POST {DISPATCHES}", f"GET {RUNS}"]


def test_a_run_that_does_not_show_up_in_time_is_a_warning(github: FakeGitHub, cli: Cli) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    github.on("GET", RUNS, Reply(200, canned.runs()))
    result = cli(*NOTIFY, "--run-url", "--poll-interval", "0.01", "--timeout", "0.05")
    assert (result.code, result.out) == (0, "")
    assert result.err.splitlines()[-1].startswith("warning: the request was sent")


def test_a_run_url_found_is_reported_as_json(github: FakeGitHub, cli: Cli) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    github.on(
        "GET",
        RUNS,
        Reply(200, canned.runs(canned.run(2, TITLE, status="queued", created_at=just_now()))),
    )
    result = cli(*NOTIFY, "--run-url", "--poll-interval", "0", "--format", "json")
    assert result.code == 0
    assert json.loads(result.out) == {
        "request_id": REQUEST,
        "run_name": TITLE,
        "run_url": RUN_URL,
        "warning": None,
        "waited": None,
        "wait_error": None,
    }


def test_waiting_without_permission_to_follow_fails_and_says_which(
    github: FakeGitHub, cli: Cli
) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    github.on("GET", RUNS, Reply(403, FORBIDDEN))
    result = cli(*NOTIFY, *FOLLOW, "--format", "json")
    assert result.code == 1  # asked to fail with staging, and staging cannot be seen
    report = json.loads(result.out)
    assert report["waited"] == "staging" and report["run_url"] is None
    assert "Actions: read" in report["wait_error"]


def test_waiting_lasts_longer_than_the_deploy_jobs_may_run() -> None:
    plan = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["plan"]
    tenant = yaml.safe_load(WORKFLOW.with_name("deploy-tenant.yml").read_text(encoding="utf-8"))
    minutes = plan["timeout-minutes"] + tenant["jobs"]["staging"]["timeout-minutes"]
    assert minutes * 60 <= WAIT_TIMEOUT
    assert RUN_URL_TIMEOUT >= 60


def serve_the_run(github: FakeGitHub, *states: Reply) -> None:
    github.on("POST", DISPATCHES, Reply(204))
    github.on("GET", RUNS, Reply(200, canned.runs(canned.run(2, TITLE, status="in_progress",
                                                              created_at=just_now()))))  # fmt: skip
    github.on("GET", JOBS, *states)


def staging(status: str, conclusion: str | None = None) -> Reply:
    return Reply(200, canned.jobs(canned.job(20, 2, "deploy shop to staging", status, conclusion)))


def test_time_held_in_the_tenants_queue_does_not_count(github: FakeGitHub, cli: Cli) -> None:
    """Staging waits behind earlier deploys of the tenant (`queue: max`) for longer than the
    timeout, then deploys: the wait follows it to the end and succeeds."""
    queued = [staging("queued", None)] * 12 + [staging("pending", None)] * 12
    serve_the_run(github, *queued, staging("in_progress", None), staging("completed", "success"))
    result = cli(*NOTIFY, "--wait", "staging", "--poll-interval", "0.02", "--timeout", "0.15")
    assert result.code == 0, result.err
    assert "shop to staging: success" in result.err.splitlines()


def test_a_deploy_running_past_the_timeout_fails_the_wait(github: FakeGitHub, cli: Cli) -> None:
    serve_the_run(github, staging("in_progress", None))
    result = cli(*NOTIFY, "--wait", "staging", "--poll-interval", "0.02", "--timeout", "0.15")
    assert result.code != 0
