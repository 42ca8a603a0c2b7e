"""What production runs, recorded on GitHub by the workflow that deployed it (`github
record-release`), and the approval's preview made from it in the staging job (`github
production-preview`): the digests production would get, the config files and env keys that
differ from the record's commit. The CLI runs against the OpenAPI-checked fake GitHub and a
git platform repository; whatever GitHub answers, both exit 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from github import canned
from github.fake_github import FakeGitHub, Reply
from local_platform import D1, D2, WEB, LocalPlatform, make_local

from platform_lib.cli import main
from platform_lib.github import models
from platform_lib.github.naming import WORKFLOW_PATH
from platform_lib.github.release_records import (
    ROLLBACK_PATH,
    ReleaseRecord,
    candidates,
    made_by_platform,
)
from platform_lib.planning.promotion import Deploy
from platform_lib.planning.promotion_preview import ImageChange, KeyChange, TenantPreview

DEPLOYMENTS = "/repos/example-org/platform/deployments"
RUNS = "/repos/example-org/platform/actions/runs"
LISTED = f"GET {DEPLOYMENTS}?environment=paiss-production&page=1&per_page=100&task=platform:release"
LOG = "https://github.com/example-org/platform/actions/runs/7"


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: FakeGitHub) -> LocalPlatform:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_RUN_ID", "7")
    monkeypatch.setenv("GITHUB_REPOSITORY", "example-org/platform")
    return make_local(tmp_path)


def run(local: LocalPlatform, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(
        ["github", argv[0], "--root", str(local.root), "--repo", "example-org/platform", *argv[1:]]
    )
    captured = capsys.readouterr()
    assert canned.TOKEN not in captured.out + captured.err
    assert "Traceback" not in captured.err
    return code, captured.out


def preview(
    local: LocalPlatform, capsys: pytest.CaptureFixture[str], summary: Path, *extra: str
) -> tuple[int, str]:
    """`github production-preview` of paiss: staging release r-staging verified web at D1."""
    argv = ["--project", "paiss", "--release", "r-staging", "--images", f"web={WEB}@{D1}"]
    return run(local, capsys, "production-preview", *argv, "--summary", str(summary), *extra)


def payload(sha: str, release: str, digest: str, **changes: Any) -> dict[str, Any]:
    record = {
        "version": 1,
        "project": "paiss",
        "environment": "production",
        "release": release,
        "platform_sha": sha,
        "images": {"web": f"{WEB}@{digest}"},
        "run_id": 900,
    }
    return {**record, **changes}


def platform_run(
    run_id: int, sha: str, path: str = WORKFLOW_PATH, branch: str = "main"
) -> dict[str, Any]:
    """`GET .../actions/runs/{id}`: a run of `path` on `branch` at commit `sha`."""
    answer = canned.run(run_id, "deploy", status="completed", conclusion="success", event="push")
    answer.update(path=path, head_branch=branch, head_sha=sha)
    return answer


def serve_records(
    github: FakeGitHub, *items: dict[str, Any], runs: tuple[dict[str, Any], ...] = ()
) -> None:
    github.on("GET", "/repos/example-org/platform", Reply(200, canned.repository()))
    github.on("GET", DEPLOYMENTS, Reply(200, list(items)))
    for answer in runs:
        github.on("GET", f"{RUNS}/{answer['id']}", Reply(200, answer))


def test_record_release_makes_a_deployment_of_the_commit_with_its_digests(
    local: LocalPlatform, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    head = local.commit("paiss")
    github.on("POST", DEPLOYMENTS, Reply(201, canned.deployment(31, head, "paiss-production")))
    github.on(
        "POST", f"{DEPLOYMENTS}/31/statuses", Reply(201, canned.deployment_status(1, "success"))
    )

    code, _ = run(
        local,
        capsys,
        "record-release",
        "--project",
        "paiss",
        "--env",
        "production",
        "--release",
        "20261130T100000Z-aaaaaaaa",
        "--images",
        f"web={WEB}@{D1}\n",
    )

    assert code == 0
    assert github.lines == [f"POST {DEPLOYMENTS}", f"POST {DEPLOYMENTS}/31/statuses"]
    (made,) = github.bodies("POST", DEPLOYMENTS)
    assert (made["ref"], made["task"], made["environment"]) == (
        head,
        "platform:release",
        "paiss-production",
    )
    assert made["auto_merge"] is False and made["required_contexts"] == []
    assert ReleaseRecord.model_validate(made["payload"]) == ReleaseRecord(
        project="paiss",
        environment="production",
        release="20261130T100000Z-aaaaaaaa",
        platform_sha=head,
        images={"web": f"{WEB}@{D1}"},
        run_id=7,
    )
    (status,) = github.bodies("POST", f"{DEPLOYMENTS}/31/statuses")
    assert (status["state"], status["log_url"]) == ("success", LOG)


def test_record_release_reads_a_rollback_from_status(
    local: LocalPlatform, github: FakeGitHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = local.commit("paiss")
    rows = [
        {
            "project": "paiss",
            "environment": "production",
            "release": "r-2",
            "platform_sha": base,
            "images": {"web": f"{WEB}@{D2}"},
        }
    ]
    (tmp_path / "status.json").write_text(json.dumps(rows), encoding="utf-8")
    github.on("POST", DEPLOYMENTS, Reply(201, canned.deployment(32, base, "paiss-production")))
    github.on(
        "POST", f"{DEPLOYMENTS}/32/statuses", Reply(201, canned.deployment_status(2, "success"))
    )

    code, _ = run(
        local,
        capsys,
        "record-release",
        "--project",
        "paiss",
        "--status",
        str(tmp_path / "status.json"),
    )

    assert code == 0
    (made,) = github.bodies("POST", DEPLOYMENTS)
    assert made["ref"] == base
    assert made["payload"]["release"] == "r-2"
    assert made["payload"]["images"] == {"web": f"{WEB}@{D2}"}


@pytest.mark.parametrize(
    ("images", "reply"),
    [
        (
            f"web={WEB}@{D1}",
            Reply(403, canned.error("Resource not accessible by integration", 403)),
        ),
        (f"web={WEB}:latest", None),  # not by digest: refused before any request
    ],
    ids=["github-refuses", "not-a-digest"],
)
def test_record_release_never_fails_the_job(
    local: LocalPlatform,
    github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    images: str,
    reply: Reply | None,
) -> None:
    local.commit("paiss")
    if reply is not None:
        github.on("POST", DEPLOYMENTS, reply)

    code, out = run(
        local,
        capsys,
        "record-release",
        "--project",
        "paiss",
        "--release",
        "r-1",
        "--images",
        images,
    )

    assert code == 0
    assert out.startswith("::warning")
    assert github.lines == ([f"POST {DEPLOYMENTS}"] if reply is not None else [])


def test_the_preview_compares_with_the_record_the_workflow_made(
    local: LocalPlatform, github: FakeGitHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Against the record the Deploy Project workflow made on the default branch, not newer
    ones made by mallory's token, by a run on another branch or by another workflow (each
    with other digests and commit); env keys by name, never their values."""
    base = local.commit("what production runs")
    env = local.root / "configs/paiss/.env.production"
    env.write_text("PAISS_MODE=a-changed-mode\nWORKERS=4\nNEW_SETTING=another-value\n")
    head = local.commit("paiss: production settings")
    serve_records(
        github,
        canned.listed_deployment(
            41,
            head,
            "paiss-production",
            payload(head, "r-forged", D1),
            creator="mallory",
            creator_type="User",
            created_at="2026-11-30T12:00:00Z",
        ),
        canned.listed_deployment(
            42, head, "paiss-production", payload(head, "r-branch", D1, run_id=901),
            created_at="2026-11-30T11:00:00Z",
        ),
        canned.listed_deployment(
            43, head, "paiss-production", payload(head, "r-other-workflow", D1, run_id=902),
            created_at="2026-11-30T11:30:00Z",
        ),
        canned.listed_deployment(
            44, head, "paiss-production", payload(head, "r-deleted-run", D1, run_id=903),
            created_at="2026-11-30T10:30:00Z",
        ),
        canned.listed_deployment(40, base, "paiss-production", payload(base, "r-prod", D2)),
        runs=(
            platform_run(901, head, branch="try-this"),
            platform_run(902, head, path=".github/workflows/ci.yml"),
            platform_run(900, base),
        ),
    )  # fmt: skip
    github.on("GET", f"{RUNS}/903", Reply(404, canned.error("Not Found", 404)))
    summary = tmp_path / "summary.md"

    code, out = preview(local, capsys, summary, "--format", "json")

    assert code == 0
    assert github.lines == [
        "GET /repos/example-org/platform", LISTED,
        f"GET {RUNS}/902", f"GET {RUNS}/901", f"GET {RUNS}/903", f"GET {RUNS}/900",
    ]  # fmt: skip
    shown = TenantPreview.model_validate_json(out)
    assert isinstance(shown.decision, Deploy)
    assert shown.decision.images == {"web": f"{WEB}@{D1}"}
    assert (shown.running_release, shown.config_baseline) == ("r-prod", base)
    assert shown.images == (ImageChange(service="web", running=f"{WEB}@{D2}", to=f"{WEB}@{D1}"),)
    assert shown.config_files == ("configs/paiss/.env.production",)
    assert shown.env_keys == (
        KeyChange(key="NEW_SETTING", change="added"),
        KeyChange(key="PAISS_MODE", change="changed"),
    )
    text = summary.read_text(encoding="utf-8")
    assert "r-prod" in text and D2.removeprefix("sha256:") in text
    assert all(f"r-{name}" not in text
               for name in ("forged", "branch", "other-workflow", "deleted-run"))  # fmt: skip
    assert "a-changed-mode" not in text + out and "another-value" not in text + out


@pytest.mark.parametrize(
    "reply",
    [Reply(200, []), Reply(403, canned.error("Resource not accessible by integration", 403))],
    ids=["no-record", "github-refuses"],
)
def test_without_a_record_the_preview_lists_the_digests_and_says_why(
    local: LocalPlatform,
    github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    reply: Reply,
) -> None:
    local.commit("paiss")
    github.on("GET", "/repos/example-org/platform", Reply(200, canned.repository()))
    github.on("GET", DEPLOYMENTS, reply)
    summary = tmp_path / "summary.md"

    code, out = preview(local, capsys, summary, "--format", "json")

    assert code == 0
    assert json.loads(out) is None
    text = summary.read_text(encoding="utf-8")
    assert f"`web`: `{WEB}@{D1}`" in text
    assert "make approve-production project=paiss" in text


def test_the_preview_of_a_broken_tenant_is_a_warning(
    local: LocalPlatform, github: FakeGitHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (local.root / "configs/paiss/project.yml").write_text("images: [\n", encoding="utf-8")
    summary = tmp_path / "summary.md"
    code, out = preview(local, capsys, summary)
    assert code == 0
    assert out.startswith("::warning")
    assert "no preview of production" in summary.read_text(encoding="utf-8")
    assert github.lines == []


def listed(item: dict[str, Any]) -> models.ListedDeployment:
    return models.ListedDeployment.model_validate(item)


def first(*items: dict[str, Any]) -> str | None:
    found = next(candidates([listed(i) for i in items], "paiss", "production"), None)
    return found.record.release if found else None


SHA = "a" * 40
GOOD = payload(SHA, "r", D1)


@pytest.mark.parametrize(
    ("item", "found"),
    [
        (canned.listed_deployment(1, SHA, "paiss-production", GOOD), True),
        (canned.listed_deployment(1, SHA, "paiss-production", json.dumps(GOOD)), True),
        (canned.listed_deployment(1, SHA, "paiss-production", GOOD, creator_type="User"), False),
        (canned.listed_deployment(1, SHA, "paiss-production", GOOD, creator="me[bot]"), False),
        (canned.listed_deployment(1, SHA, "paiss-production", GOOD, task="deploy"), False),
        (canned.listed_deployment(1, SHA, "shop-production",
                                  payload(SHA, "r", D1, project="shop")), False),
        (canned.listed_deployment(1, "b" * 40, "paiss-production", GOOD), False),
        (canned.listed_deployment(1, SHA, "paiss-production",
                                  payload(SHA, "r", D1, images={"web": f"{WEB}:1"})), False),
        (canned.listed_deployment(1, SHA, "paiss-production",
                                  payload(SHA, "r`<b>", D1)), False),
        (canned.listed_deployment(1, SHA, "paiss-production", payload(SHA, "r", D1, run_id=0)),
         False),
        (canned.listed_deployment(1, SHA, "paiss-production", "{not json"), False),
        (canned.listed_deployment(1, SHA, "paiss-production", payload(SHA, "r", D1, extra=1)),
         False),
    ],
    ids=["record", "payload-as-string", "a-user", "another-bot", "other-task", "other-tenant",
         "commit-differs", "not-by-digest", "release-with-markup", "no-run", "not-json",
         "unknown-field"],
)  # fmt: skip
def test_only_a_well_formed_record_of_a_workflow_token_is_a_candidate(
    item: dict[str, Any], found: bool
) -> None:
    assert (first(item) is not None) is found


def test_the_newest_candidate_comes_first() -> None:
    older = canned.listed_deployment(
        5, SHA, "paiss-production", payload(SHA, "r-old", D1), created_at="2026-11-01T00:00:00Z"
    )
    newer = canned.listed_deployment(4, SHA, "paiss-production", payload(SHA, "r-new", D2),
                                     created_at="2026-11-02T00:00:00Z")  # fmt: skip
    assert first(older, newer) == "r-new"


RECORD = ReleaseRecord.model_validate(GOOD)


@pytest.mark.parametrize(
    ("run", "made"),
    [
        (platform_run(900, SHA), True),
        (platform_run(900, "c" * 40, path=ROLLBACK_PATH), True),  # back to SHA's release
        (platform_run(900, "c" * 40), False),  # a deploy of another commit
        (platform_run(900, SHA, branch="feature"), False),
        (platform_run(900, SHA, path=".github/workflows/ci.yml"), False),
        (platform_run(901, SHA), False),  # not the run the record names
    ],
    ids=["deploy", "rollback", "deploy-of-another-commit", "other-branch", "other-workflow",
         "other-run"],
)  # fmt: skip
def test_a_record_counts_only_from_the_platforms_run_on_the_default_branch(
    run: dict[str, Any], made: bool
) -> None:
    assert made_by_platform(RECORD, models.WorkflowRun.model_validate(run), "main") is made


@pytest.mark.parametrize(
    "text", ["[{", '{"not": "a list"}', '[{"project": "paiss", "environment": "production"}]']
)
def test_a_status_file_that_is_not_status_json_is_a_warning(
    local: LocalPlatform,
    github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    text: str,
) -> None:
    local.commit("paiss")
    (tmp_path / "status.json").write_text(text, encoding="utf-8")
    code, out = run(
        local, capsys, "record-release", "--project", "paiss", "--status",
        str(tmp_path / "status.json"),
    )  # fmt: skip
    assert code == 0
    assert out.startswith("::warning")
    assert github.lines == []
