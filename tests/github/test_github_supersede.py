"""`github superseded` against the fake GitHub: run 5's production deploy of shop, approved
late, asks whether a newer run took over. Only a newer run that deploys shop's staging (not
failed) and its production supersedes it; GitHub refusing to answer supersedes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github import canned
from github.fake_github import FakeGitHub, Reply
from github.harness import Cli

BASE = "/repos/example-org/platform"
RUNS = f"{BASE}/actions/workflows/deploy-project.yml/runs"
DIGEST = "sha256:" + "ab" * 32
OLDER = f"deploy shop: web={DIGEST} (example-org/shop@0123456 by alice) [request 0a]"
NEWER = f"deploy shop: web={'sha256:' + 'cd' * 32} (example-org/shop@89abcde by alice) [request 0b]"


def serve(github: FakeGitHub, newer_title: str, *newer_jobs: dict[str, object]) -> None:
    """Run 5 (this one) and run 7, newer, with `newer_jobs`; run 3 is older."""
    github.on("GET", RUNS, Reply(200, canned.runs(
        canned.run(7, newer_title, status="in_progress"),
        canned.run(5, OLDER),
        canned.run(3, OLDER, status="completed", conclusion="success"),
    )))  # fmt: skip
    github.on("GET", f"{BASE}/actions/runs/7/jobs", Reply(200, canned.jobs(*newer_jobs)))


def superseded(cli: Cli, tmp_path: Path) -> tuple[dict[str, object], dict[str, str], str]:
    output, summary = tmp_path / "output", tmp_path / "summary"
    result = cli("superseded", "--project", "shop", "--run", "5",
                 "--github-output", str(output), "--summary", str(summary))  # fmt: skip
    assert result.code == 0, result.err
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return json.loads(result.out), outputs, summary.read_text() if summary.exists() else ""


def test_a_newer_request_whose_staging_succeeded_supersedes_the_waiting_production(
    github: FakeGitHub, cli: Cli, tmp_path: Path
) -> None:
    serve(github, NEWER,
          canned.job(70, 7, "shop / deploy shop to staging", "completed", "success"),
          canned.job(71, 7, "shop / deploy shop to production", "queued", None))  # fmt: skip
    answer, outputs, summary = superseded(cli, tmp_path)
    url = "https://github.com/example-org/platform/actions/runs/7"
    assert (answer["superseded_by"], answer["run_url"], answer["warning"]) == (7, url, None)
    assert outputs == {"by": "7", "url": url}
    assert "superseded by run 7" in summary and url in summary
    assert github.lines == [
        f"GET {RUNS}?page=1&per_page=100",
        f"GET {BASE}/actions/runs/7/jobs?filter=latest&page=1&per_page=100",
    ]  # run 3 is older: its jobs are never asked for


def test_a_newer_push_deploying_the_tenant_supersedes_it_too(
    github: FakeGitHub, cli: Cli, tmp_path: Path
) -> None:
    serve(github, "Config push 1234: deploy the tenants it changed",
          canned.job(70, 7, "wiki / deploy wiki to staging", "completed", "failure"),
          canned.job(72, 7, "shop / deploy shop to staging"),
          canned.job(73, 7, "shop / deploy shop to production", "waiting", None))  # fmt: skip
    answer, _, _ = superseded(cli, tmp_path)
    assert answer["superseded_by"] == 7


@pytest.mark.parametrize(
    ("title", "jobs"),
    [
        # its staging of shop failed: staging still runs what run 5 verified
        (NEWER, [("shop / deploy shop to staging", "completed", "failure")]),
        # its staging of shop still runs: it may fail, and then nothing would deploy
        (NEWER, [("shop / deploy shop to staging", "in_progress", None),
                 ("shop / deploy shop to production", "queued", None)]),
        # a manual staging-only run never deploys production
        (f"deploy shop to staging: web={DIGEST} (by alice)",
         [("shop / deploy shop to staging", "in_progress", None)]),
        # a manual production-only run has no staging of its own
        ("deploy shop to production:  (by alice)",
         [("shop / deploy shop to production", "waiting", None)]),
        # its production of shop was skipped (or rejected)
        (NEWER, [("shop / deploy shop to staging", "completed", "success"),
                 ("shop / deploy shop to production", "completed", "skipped")]),
        # another tenant only
        ("Config push 1234: deploy the tenants it changed",
         [("wiki / deploy wiki to staging", "in_progress", None)]),
    ],
    ids=["staging-failed", "staging-running", "staging-only", "production-only",
         "production-skipped", "other"],
)  # fmt: skip
def test_a_newer_run_that_would_not_deploy_what_this_one_would_supersedes_nothing(
    github: FakeGitHub,
    cli: Cli,
    tmp_path: Path,
    title: str,
    jobs: list[tuple[str, str, str | None]],
) -> None:
    listed = [canned.job(70 + i, 7, name, status, conclusion)
              for i, (name, status, conclusion) in enumerate(jobs)]  # fmt: skip
    serve(github, title, *listed)
    answer, outputs, summary = superseded(cli, tmp_path)
    assert (answer["superseded_by"], answer["warning"]) == (None, None)
    assert (outputs, summary) == ({"by": "", "url": ""}, "")


def test_github_refusing_to_answer_supersedes_nothing_and_warns(
    github: FakeGitHub, cli: Cli, tmp_path: Path
) -> None:
    refused = canned.error("Resource not accessible by integration", 403)
    github.on("GET", RUNS, Reply(403, refused))
    output = tmp_path / "output"
    result = cli("superseded", "--project", "shop", "--run", "5", "--format", "github",
                 "--github-output", str(output))  # fmt: skip
    assert result.code == 0  # the deploy goes ahead
    assert result.out.startswith("::warning title=superseded::cannot tell whether")
    assert output.read_text() == "by=\nurl=\n"
    assert canned.TOKEN not in result.out + result.err


def test_pending_says_which_waiting_production_gate_a_newer_run_supersedes(
    github: FakeGitHub, cli: Cli
) -> None:
    """Runs 5 and 7 both wait for shop-production (each waits there only after its staging
    of shop passed): approving 5 would deploy nothing, so pending says to approve 7."""
    github.on("GET", RUNS, Reply(200, canned.runs(
        canned.run(7, NEWER, created_at="2026-01-31T13:00:00Z"), canned.run(5, OLDER),
    )))  # fmt: skip
    for run_id in (5, 7):
        github.on("GET", f"{BASE}/actions/runs/{run_id}/pending_deployments",
                  Reply(200, [canned.pending(9, "shop-production")]))  # fmt: skip
        github.on("GET", f"{BASE}/actions/runs/{run_id}/jobs", Reply(200, canned.jobs(
            canned.job(run_id * 10, run_id, "shop / deploy shop to staging"),
            canned.job(run_id * 10 + 1, run_id, "shop / deploy shop to production", "waiting",
                       None),
        )))  # fmt: skip
    result = cli("pending", "--format", "json")
    assert result.code == 0, result.err
    gates = {gate["run_id"]: gate for gate in json.loads(result.out)}
    assert (gates[5]["superseded_by"], gates[7]["superseded_by"]) == (7, None)
    assert gates[5]["projects"] == gates[7]["projects"] == ["shop"]
    assert gates[5]["before"] == {"shop": "success"}  # read from `shop / deploy shop to ...`


ROLLBACK_DISPATCHES = f"{BASE}/actions/workflows/rollback-project.yml/dispatches"


def test_trigger_rollback_runs_the_rollback_workflow(github: FakeGitHub, cli: Cli) -> None:
    """`make rollback-via-github project=shop env=production to=R`."""
    github.on("GET", BASE, Reply(200, canned.repository("main")))
    github.on("POST", ROLLBACK_DISPATCHES, Reply(200, canned.dispatched(43)))
    release = "20260131T120000Z-0123456"
    result = cli("trigger", "--rollback", "--project", "shop", "--env", "production",
                 "--to", release)  # fmt: skip
    assert result.code == 0, result.err
    assert result.out == "https://github.com/example-org/platform/actions/runs/43\n"
    assert github.bodies("POST", ROLLBACK_DISPATCHES) == [{
        "ref": "main",
        "inputs": {"project": "shop", "environment": "production", "release": release},
        "return_run_details": True,
    }]  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [["--rollback", "--image", "web=v1"], ["--to", "R"]],
    ids=["rollback-with-image", "to-without-rollback"],
)
def test_trigger_refuses_mixed_rollback_and_deploy_options(
    github: FakeGitHub, cli: Cli, argv: list[str]
) -> None:
    result = cli("trigger", "--project", "shop", "--env", "staging", *argv)
    assert result.code == 2, (result.code, result.err)
    assert github.lines == []  # nothing sent
