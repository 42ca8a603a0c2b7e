"""actions/deploy as an app repository uses it (`uses: example-org/multi-tenant-platform/
actions/deploy@v1`, served by act from a copy of this repository), against a local fake GitHub
that checks every request against GitHub's REST description and a local OIDC issuer playing
the runner's token service: the dispatch it sends is exactly the payload platform_lib defines,
with an OIDC token for the platform repository that verifies against the issuer's keys, and a
tag instead of a digest is refused before anything is installed or sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from github import canned, openapi
from github.fake_github import FakeGitHub, Reply
from github.oidc_issuer import REQUEST_TOKEN, LocalIssuer
from workflows import actrun

from platform_lib.github import oidc
from platform_lib.github.payload import DeployPayload

PLATFORM = "example-org/multi-tenant-platform"
DISPATCHES = f"/repos/{PLATFORM}/dispatches"
RUNS = f"/repos/{PLATFORM}/actions/workflows/deploy-project.yml/runs"
WEB = "127.0.0.1:5000/platform-tests/demo-web@sha256:" + "1f" * 32

WORKFLOW = """\
name: Release
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    steps:
      - id: deploy
        uses: {uses}
        with:
          project: wf-demo
          images: |
            {images}
          token: ${{{{ secrets.PLATFORM_DISPATCH_TOKEN }}}}
          wait: staging
      - shell: bash
        env:
          RUN_URL: ${{{{ steps.deploy.outputs.run-url }}}}
        run: 'echo "platform run: $RUN_URL"'
"""


def app_repository(tmp_path: Path, uses: str, images: str) -> tuple[Path, Path, str]:
    """An app repo whose workflow calls the action; act serves `example-org/multi-tenant-
    platform@v1` from a copy of this repository."""
    app, work = tmp_path / "app", tmp_path / "work"
    (app / ".github" / "workflows").mkdir(parents=True)
    work.mkdir()
    (app / ".github/workflows/release.yml").write_text(
        WORKFLOW.format(uses=uses, images=images), encoding="utf-8"
    )
    actrun.git(app, "init", "-q", "-b", "main")
    actrun.git(app, "remote", "add", "origin", "https://github.com/example-org/wf-demo.git")
    sha = actrun.commit_all(app, "app")
    return app, work, sha


def run_release(
    app: Path, work: Path, cache: Path, fake: FakeGitHub, issuer: LocalIssuer
) -> actrun.ActResult:
    platform = work / "platform"
    platform.mkdir()
    actrun.copy_repository(platform)
    act = actrun.Act(app, work, cache, {"PLATFORM_DISPATCH_TOKEN": canned.TOKEN})
    act.local_repositories[f"{PLATFORM}@v1"] = platform
    event = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": actrun.git(app, "rev-parse", "HEAD"),
        "repository": {"full_name": "example-org/wf-demo", "default_branch": "main"},
    }
    return act.run(
        "push", event, "deploy", workflow=".github/workflows/release.yml",
        env={
            "GITHUB_API_URL": fake.url,
            "PLATFORM_GITHUB_MAX_WAIT": "5",
            # what the runner sets for a job with `id-token: write`
            "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
        },
    )  # fmt: skip


@pytest.fixture
def fake(github_spec: openapi.Spec) -> Iterator[FakeGitHub]:
    server = FakeGitHub(github_spec, canned.TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    server = LocalIssuer("example-org/wf-demo", "0" * 40).start()
    yield server
    server.stop()


def test_an_app_repo_sends_the_deploy_request_and_outputs_the_run(
    tmp_path: Path, act_cache: Path, fake: FakeGitHub, issuer: LocalIssuer
) -> None:
    app, work, sha = app_repository(tmp_path, f"{PLATFORM}/actions/deploy@v1", f"web={WEB}")
    issuer.claims.update(sha=sha)
    expected = DeployPayload.build(
        project="wf-demo", images={"web": WEB}, commit=sha, actor="alice",
        app_repository="example-org/wf-demo",
    )  # fmt: skip
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = canned.run(7, expected.run_name, status="in_progress", created_at=now)
    fake.on("POST", DISPATCHES, Reply(204))
    fake.on("GET", RUNS, Reply(200, canned.runs(run)))
    fake.on(
        "GET",
        f"/repos/{PLATFORM}/actions/runs/7/jobs",
        Reply(200, canned.jobs(canned.job(70, 7, "deploy wf-demo to staging"))),
    )

    result = run_release(app, work, act_cache, fake, issuer)

    assert result.returncode == 0, result.log[-8000:]
    assert not fake.problems, fake.problems
    [body] = fake.bodies("POST", DISPATCHES)
    assert body["event_type"] == "deploy"
    token = body["client_payload"].pop("id_token")
    assert body["client_payload"] == expected.model_dump(mode="json", exclude={"id_token"})
    # the token the runner gave, for the platform repository, issued to this run's commit
    verified = oidc.verify(
        token,
        issuer.jwks(),
        datetime.now(UTC),
        oidc.Expected(issuer.url, f"https://github.com/{PLATFORM}", "example-org/wf-demo", sha),
    )
    assert verified.actor == "alice"
    assert f"platform run: {run['html_url']}" in result.log
    for secret in (canned.TOKEN, token, REQUEST_TOKEN):
        assert secret not in result.log


def test_a_tag_is_refused_before_anything_is_installed_or_sent(
    tmp_path: Path, act_cache: Path, fake: FakeGitHub, issuer: LocalIssuer
) -> None:
    tag = "web=127.0.0.1:5000/platform-tests/demo-web:v2"
    app, work, _ = app_repository(tmp_path, f"{PLATFORM}@v1", tag)  # the root action

    result = run_release(app, work, act_cache, fake, issuer)

    assert result.returncode != 0
    assert "deploys are by digest" in result.log
    assert "platform_lib: " not in result.log  # nothing installed
    assert fake.seen == []
