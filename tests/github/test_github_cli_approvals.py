"""`github pending`, `approve` and `reject` end to end against the fake GitHub."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from github import canned
from github.fake_github import FakeGitHub, Reply
from github.harness import Cli

DIGEST = "sha256:" + "ab" * 32
BASE = "/repos/example-org/platform"
RUNS = f"{BASE}/actions/workflows/deploy-project.yml/runs"
TITLE = f"deploy shop: web={DIGEST} (example-org/shop@0123456 by alice)"
REFUSED = canned.error(
    "Resource not accessible by integration",
    403,
    "https://docs.github.com/rest/actions/workflow-runs#review-pending-deployments-for-a-workflow-run",
)


def serve_waiting(
    github: FakeGitHub, *, shared: bool = False, legacy: bool = False, can_approve: bool = True
) -> None:
    """Run 1 waits to deploy shop to production (staging passed). With `shared`, run 2, a
    push, waits to deploy shop and wiki to production instead, each in its own environment
    (shop-production id 7, wiki-production id 8); with `legacy` as well, both wait on the one
    shared `production` (id 3) of a platform repository not yet moved."""
    waiting = [canned.run(1, TITLE)]
    github.on(
        "GET",
        f"{BASE}/actions/runs/1/pending_deployments",
        Reply(200, [canned.pending(7, "shop-production", can_approve)]),
    )
    github.on(
        "GET",
        f"{BASE}/actions/runs/1/jobs",
        Reply(
            200,
            canned.jobs(
                canned.job(10, 1, "deploy shop to staging"),
                canned.job(11, 1, "deploy shop to production", "waiting", None),
            ),
        ),
    )
    if shared:
        waiting = [
            canned.run(2, "Raise proxy timeouts", event="push", created_at="2026-01-31T13:00:00Z")
        ]
        gates = (
            [canned.pending(3, "production")]
            if legacy
            else [canned.pending(7, "shop-production"), canned.pending(8, "wiki-production")]
        )
        github.on("GET", f"{BASE}/actions/runs/2/pending_deployments", Reply(200, gates))
        github.on(
            "GET",
            f"{BASE}/actions/runs/2/jobs",
            Reply(
                200,
                canned.jobs(
                    canned.job(20, 2, "deploy shop to staging"),
                    canned.job(21, 2, "deploy wiki to staging"),
                    canned.job(22, 2, "deploy shop to production", "waiting", None),
                    canned.job(23, 2, "deploy wiki to production", "waiting", None),
                ),
            ),
        )
    github.on("GET", RUNS, Reply(200, canned.runs(*waiting)))


GATE_TEXT = f"""\
run 1 (2026-01-31 12:00 UTC): {TITLE}
    shop-production waits to deploy: shop
    image web: {DIGEST}
    staging: shop success
    reviewers: ops-lead; this token can approve: yes
    https://github.com/example-org/platform/actions/runs/1
"""
QUERY = "page=1&per_page=100&status=waiting"


def test_pending_shows_what_each_gate_would_deploy(github: FakeGitHub, cli: Cli) -> None:
    serve_waiting(github)
    result = cli("pending")
    assert (result.code, result.out) == (0, GATE_TEXT)
    assert github.lines == [
        f"GET {RUNS}?{QUERY}",
        f"GET {BASE}/actions/runs/1/pending_deployments",
        f"GET {BASE}/actions/runs/1/jobs?filter=latest&page=1&per_page=100",
    ]


def test_pending_as_json(github: FakeGitHub, cli: Cli) -> None:
    serve_waiting(github, shared=True)
    result = cli("pending", "--format", "json", "--project", "wiki")
    assert result.code == 0
    assert json.loads(result.out) == [
        {
            "run_id": 2,
            "run_url": "https://github.com/example-org/platform/actions/runs/2",
            "title": "Raise proxy timeouts",
            "created_at": "2026-01-31T13:00:00+00:00",
            "environment": "production",
            "github_environment": "wiki-production",
            "environment_id": 8,
            "projects": ["wiki"],
            "images": {},
            "verified_in": "staging",
            "before": {"wiki": "success"},
            "current_user_can_approve": True,
            "reviewers": ["ops-lead"],
            "window": None,
            "superseded_by": None,
        }
    ]


def test_pending_shows_a_closed_deployment_window(github: FakeGitHub, cli: Cli, root: Path) -> None:
    settings = root / "configs" / "platform.yml"
    frozen = "    windows: {time_zone: UTC, deny: [{start: 01-01, end: 12-31, reason: frozen}]}\n"
    text = settings.read_text().replace(
        "    deploy_after: staging\n", "    deploy_after: staging\n" + frozen
    )
    settings.write_text(text)
    serve_waiting(github)
    result = cli("pending", "--format", "json")
    assert result.code == 0
    [gate] = json.loads(result.out)
    assert gate["window"] == {
        "open": False,
        "closed_by": "deny period 01-01 to 12-31 (frozen)",
        "next_open": None,
    }


def test_pending_with_nothing_waiting(github: FakeGitHub, cli: Cli) -> None:
    github.on("GET", RUNS, Reply(200, canned.runs()))
    assert cli("pending").out == "nothing waits for approval\n"


def test_pending_uses_github_repository_without_settings(
    github: FakeGitHub, cli: Cli, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "configs" / "platform.yml").unlink()
    monkeypatch.setenv("GITHUB_REPOSITORY", "example-org/elsewhere")
    github.on(
        "GET",
        "/repos/example-org/elsewhere/actions/workflows/deploy-project.yml/runs",
        Reply(200, canned.runs()),
    )
    assert cli("pending").code == 0
    monkeypatch.delenv("GITHUB_REPOSITORY")
    result = cli("pending")
    assert (result.code, result.err) == (
        2,
        "error: which repository? pass --repo OWNER/NAME or set github.repository in "
        "configs/platform.yml\n",
    )


def approvals_sent(github: FakeGitHub, run_id: int = 1) -> list[object]:
    return github.bodies("POST", f"{BASE}/actions/runs/{run_id}/pending_deployments")


def test_approve_with_yes(github: FakeGitHub, cli: Cli) -> None:
    serve_waiting(github)
    github.on(
        "POST", f"{BASE}/actions/runs/1/pending_deployments", Reply(200, canned.deployments())
    )
    result = cli("approve", "--project", "shop", "--yes")
    assert result.code == 0
    assert result.out == GATE_TEXT + (
        "approved: production of shop in run 1 (environment shop-production)\n"
    )
    assert approvals_sent(github) == [
        {
            "environment_ids": [7],
            "state": "approved",
            "comment": "approved with `python -m platform_lib github approve`",
        }
    ]
    assert github.lines[-1] == f"POST {BASE}/actions/runs/1/pending_deployments"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("answer", "approved"), [("y\n", True), ("yes\n", True), ("\n", False), ("n\n", False)]
)
def test_approve_asks_on_a_terminal(
    github: FakeGitHub, cli: Cli, monkeypatch: pytest.MonkeyPatch, answer: str, approved: bool
) -> None:
    serve_waiting(github)
    github.on(
        "POST", f"{BASE}/actions/runs/1/pending_deployments", Reply(200, canned.deployments())
    )
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    result = cli("approve", "--project", "shop", "--comment", "LGTM, staging is fine")
    assert result.out.startswith(GATE_TEXT + "approve production of shop? [y/N] ")
    if approved:
        assert result.code == 0
        assert approvals_sent(github) == [
            {"environment_ids": [7], "state": "approved", "comment": "LGTM, staging is fine"}
        ]
    else:
        assert (result.code, result.err) == (1, "nothing done\n")
        assert approvals_sent(github) == []


def test_approve_without_a_terminal_needs_yes(
    github: FakeGitHub, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_waiting(github)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    result = cli("approve", "--project", "shop")
    assert (result.code, result.err) == (
        2,
        "error: standard input is not a terminal: pass --yes to go ahead without asking\n",
    )
    assert approvals_sent(github) == []


def test_an_app_token_cannot_approve(github: FakeGitHub, cli: Cli) -> None:
    serve_waiting(github, can_approve=False)
    github.on("POST", f"{BASE}/actions/runs/1/pending_deployments", Reply(403, REFUSED))
    result = cli("approve", "--project", "shop", "--yes")
    assert result.code == 1
    assert "this token can approve: no (not a required reviewer's user token)" in result.out
    assert result.err == (
        "error: GitHub refused to approve run 1 (403): only a required reviewer of "
        "shop-production can, with their own user token (`gh auth login` as that person, or "
        "GH_TOKEN=<their token>); GitHub App and GITHUB_TOKEN tokens cannot approve deployments "
        f"[POST {BASE}/actions/runs/1/pending_deployments: forbidden (403 Resource not "
        "accessible by integration); the token lacks a permission for this]\n"
    )


def test_one_tenant_of_a_multi_tenant_run_is_approved_alone(github: FakeGitHub, cli: Cli) -> None:
    serve_waiting(github, shared=True)
    github.on(
        "POST", f"{BASE}/actions/runs/2/pending_deployments", Reply(200, canned.deployments())
    )
    result = cli("approve", "--project", "wiki", "--yes")
    assert result.code == 0
    # the environment id of wiki-production only: shop keeps waiting for its own reviewers
    assert [body["environment_ids"] for body in approvals_sent(github, 2)] == [[8]]


def test_pending_lists_each_tenant_of_a_run(github: FakeGitHub, cli: Cli) -> None:
    serve_waiting(github, shared=True)
    result = cli("pending", "--format", "json")
    assert result.code == 0
    assert [
        (g["run_id"], g["projects"], g["github_environment"], g["environment_id"])
        for g in json.loads(result.out)
    ] == [(2, ["shop"], "shop-production", 7), (2, ["wiki"], "wiki-production", 8)]


def test_a_legacy_shared_run_is_not_approved_for_one_project(github: FakeGitHub, cli: Cli) -> None:
    serve_waiting(github, shared=True, legacy=True)
    result = cli("approve", "--project", "shop", "--yes")
    assert result.code == 2
    assert "--allow-shared-run" in result.err
    assert approvals_sent(github, 2) == []


def test_a_legacy_shared_run_approved_knowingly(github: FakeGitHub, cli: Cli) -> None:
    serve_waiting(github, shared=True, legacy=True)
    github.on(
        "POST", f"{BASE}/actions/runs/2/pending_deployments", Reply(200, canned.deployments())
    )
    result = cli("approve", "--project", "shop", "--yes", "--allow-shared-run")
    assert result.code == 0
    assert [body["environment_ids"] for body in approvals_sent(github, 2)] == [[3]]


def test_reject(github: FakeGitHub, cli: Cli) -> None:
    serve_waiting(github)
    github.on(
        "POST", f"{BASE}/actions/runs/1/pending_deployments", Reply(200, canned.deployments())
    )
    result = cli("reject", "--project", "shop", "--yes", "--comment", "wrong digest")
    assert result.code == 0
    assert result.out.endswith(
        "rejected: production of shop in run 1 (environment shop-production)\n"
    )
    assert approvals_sent(github) == [
        {"environment_ids": [7], "state": "rejected", "comment": "wrong digest"}
    ]


def test_nothing_to_approve(github: FakeGitHub, cli: Cli) -> None:
    github.on("GET", RUNS, Reply(200, canned.runs()))
    result = cli("approve", "--project", "shop", "--yes")
    assert (result.code, result.err) == (
        1,
        "error: no production deployment of shop is waiting for approval "
        "(make pending lists what waits)\n",
    )


def test_approve_shows_what_production_would_get_before_asking(
    github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The prompt shows the promotion policy's decision for the run's commit: the digest staging
    verified against what production runs, the env keys by name (read from `local` hosts)."""
    from local_platform import D1, WEB, make_local

    from platform_lib.cli import main

    local = make_local(tmp_path)
    head = local.commit("the run's configs")
    local.release("staging", "20260101T000000Z-aaaaaaaa", head, D1)
    run = canned.run(1, f"deploy paiss: web={WEB}@{D1} (example-org/paiss@0123456 by alice)")
    run["head_sha"] = head
    github.on("GET", RUNS, Reply(200, canned.runs(run)))
    github.on("GET", f"{BASE}/actions/runs/1/pending_deployments",
              Reply(200, [canned.pending(7, "paiss-production")]))  # fmt: skip
    github.on("GET", f"{BASE}/actions/runs/1/jobs", Reply(200, canned.jobs(
        canned.job(10, 1, "deploy paiss to staging"),
        canned.job(11, 1, "deploy paiss to production", "waiting", None),
    )))  # fmt: skip

    code = main(["github", "approve", "--root", str(local.root), "--repo", "example-org/platform",
                 "--project", "paiss"])  # fmt: skip

    out = capsys.readouterr().out
    assert code == 2  # not a terminal: nothing approved, but what goes out was shown first
    assert approvals_sent(github) == []
    assert f"| `web` | (none) | `{D1}` |" in out.splitlines()
    # production runs nothing: every key of its env file is new, shown by name
    env_file = (local.root / "configs/paiss/.env.production").read_text()
    keys = [line.split("=", 1)[0] for line in env_file.splitlines() if "=" in line]
    assert keys and all(f"`{key}` added" in out for key in keys)
