"""`github notify` and `github trigger` end to end: the CLI against the fake GitHub, every
request checked against GitHub's OpenAPI description by the server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import jwt
import pytest
from github import canned
from github.fake_github import FakeGitHub, Reply
from github.harness import Cli
from github.oidc_issuer import REQUEST_TOKEN, LocalIssuer

DIGEST = "sha256:" + "ab" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"
TITLE = f"deploy shop: web={DIGEST} (example-org/shop@0123456 by alice)"
DISPATCHES = "/repos/example-org/platform/dispatches"
RUNS = "/repos/example-org/platform/actions/workflows/deploy-project.yml/runs"
JOBS = "/repos/example-org/platform/actions/runs/2/jobs"
RUN_URL = "https://github.com/example-org/platform/actions/runs/2"
NOTIFY = (
    "notify", "--project", "shop", "--image", f"web=ghcr.io/example-org/shop-web@{DIGEST}",
    "--commit", COMMIT,
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
                "project": "shop",
                "images": {"web": f"ghcr.io/example-org/shop-web@{DIGEST}"},
                "commit": COMMIT,
                "actor": "alice",
                "app_repository": "example-org/shop",
                "run_name": TITLE,
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
    earlier = canned.run(
        1, TITLE, status="completed", conclusion="success", created_at="2020-01-01T00:00:00Z"
    )
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
        f"error: no run of deploy-project.yml in example-org/platform started for {TITLE!r} "
        "within 0 s: is the workflow on the default branch, and does it listen to "
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
