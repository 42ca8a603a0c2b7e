"""actions/deploy as an app repository uses it (`uses: example-org/multi-tenant-platform/
actions/deploy@v1`, served by act from a copy of this repository), against a local fake GitHub
that checks every request against GitHub's REST description and a local OIDC issuer playing
the runner's token service: the dispatch it sends is exactly the payload platform_lib defines,
with an OIDC token for the platform repository that verifies against the issuer's keys, and a
tag instead of a digest is refused before anything is installed or sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
          wait: {wait}
      - shell: bash
        env:
          RUN_URL: ${{{{ steps.deploy.outputs.run-url }}}}
        run: 'echo "platform run: $RUN_URL"'
"""


def app_repository(
    tmp_path: Path, uses: str, images: str, wait: str = "staging"
) -> tuple[Path, Path, str]:
    """An app repo whose workflow calls the action; act serves `example-org/multi-tenant-
    platform@v1` from a copy of this repository."""
    app, work = tmp_path / "app", tmp_path / "work"
    (app / ".github" / "workflows").mkdir(parents=True)
    work.mkdir()
    (app / ".github/workflows/release.yml").write_text(
        WORKFLOW.format(uses=uses, images=images, wait=wait or "''"), encoding="utf-8"
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


def once_dispatched(fake: FakeGitHub, then: Callable[[dict[str, Any]], None]) -> threading.Thread:
    """Call `then` with the dispatch's client_payload as soon as the fake receives it: the
    request id is the sender's own random pick, so the run it starts can only be canned then."""

    def watch() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            bodies = fake.bodies("POST", DISPATCHES)
            if bodies:
                then(bodies[0]["client_payload"])
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


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
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    runs: list[dict[str, Any]] = []

    def start_run(payload: dict[str, Any]) -> None:
        # another request's run, alike in all but its id, listed first: not followed
        other = payload["run_name"].replace(payload["request_id"], "f" * 16)
        runs.extend(
            [canned.run(8, other, status="completed", conclusion="failure", created_at=now),
             canned.run(7, payload["run_name"], status="in_progress", created_at=now)]
        )  # fmt: skip
        fake.on("GET", RUNS, Reply(200, canned.runs(*runs)))

    fake.on("POST", DISPATCHES, Reply(204))
    fake.on("GET", RUNS, Reply(200, canned.runs()))  # until the dispatch arrives
    fake.on(
        "GET",
        f"/repos/{PLATFORM}/actions/runs/7/jobs",
        Reply(200, canned.jobs(canned.job(70, 7, "deploy wf-demo to staging"))),
    )
    watcher = once_dispatched(fake, start_run)

    result = run_release(app, work, act_cache, fake, issuer)

    watcher.join(timeout=1)
    assert result.returncode == 0, result.log[-8000:]
    assert not fake.problems, fake.problems
    [body] = fake.bodies("POST", DISPATCHES)
    assert body["event_type"] == "deploy"
    token = body["client_payload"].pop("id_token")
    request_id = body["client_payload"]["request_id"]
    expected = DeployPayload.build(
        project="wf-demo", images={"web": WEB}, commit=sha, actor="alice",
        app_repository="example-org/wf-demo", request_id=request_id,
    )  # fmt: skip
    assert body["client_payload"] == expected.model_dump(mode="json", exclude={"id_token"})
    # the token the runner gave, for the platform repository, issued to this run's commit
    verified = oidc.verify(
        token,
        issuer.jwks(),
        datetime.now(UTC),
        oidc.Expected(issuer.url, f"https://github.com/{PLATFORM}", "example-org/wf-demo", sha),
    )
    assert verified.actor == "alice"
    run = runs[1]
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


def test_a_token_that_may_not_list_the_platform_runs_keeps_the_release_green(
    tmp_path: Path, act_cache: Path, fake: FakeGitHub, issuer: LocalIssuer
) -> None:
    app, work, sha = app_repository(tmp_path, f"{PLATFORM}/actions/deploy@v1", f"web={WEB}", "")
    issuer.claims.update(sha=sha)
    fake.on("POST", DISPATCHES, Reply(204))
    forbidden = canned.error("Resource not accessible by personal access token", 403)
    fake.on("GET", RUNS, Reply(403, forbidden))

    result = run_release(app, work, act_cache, fake, issuer)

    assert result.returncode == 0, result.log[-8000:]  # the request was sent: green
    assert not fake.problems, fake.problems
    assert len(fake.bodies("POST", DISPATCHES)) == 1
    warnings = [line for line in result.log.splitlines() if "::warning " in line]
    assert len(warnings) == 1 and "title=platform run::" in warnings[0]
    # the step after it reads an empty run-url
    assert [line.rstrip() for line in result.job_lines("| platform run:")] == [
        "[Release/deploy]   | platform run:"
    ]
