"""`github setup-environments` and `github doctor` end to end against the fake GitHub; how
errors reach the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from github import canned
from github.canned import TOKEN
from github.fake_github import FakeGitHub, Reply
from github.harness import Cli

BASE = "/repos/example-org/platform"
POLICIES = BASE + "/environments/{}/deployment-branch-policies"
SECRETS = BASE + "/environments/{}/secrets"
CUSTOM = {"protected_branches": False, "custom_branch_policies": True}
ENVIRONMENTS = ["shop-staging", "shop-production", "wiki-staging", "wiki-production"]


@pytest.fixture(autouse=True)
def two_tenants(root: Path) -> None:
    """shop: the platform's reviewers and a secret of its own; wiki: its own reviewer."""
    for name, manifest in (
        ("shop", "secrets: [SHOP_API_KEY]\n"),
        ("wiki", "reviewers: [wiki-lead]\n"),
    ):
        (root / "configs" / name).mkdir()
        (root / "configs" / name / "project.yml").write_text(manifest, encoding="utf-8")


def serve_reviewers(github: FakeGitHub, kind: str = "User") -> None:
    github.on("GET", "/users/ops-lead", Reply(200, canned.user("ops-lead", 101, kind)))
    github.on(
        "GET",
        "/orgs/example-org/teams/release-managers",
        Reply(200, canned.team("release-managers", 202)),
    )
    github.on("GET", "/users/wiki-lead", Reply(200, canned.user("wiki-lead", 303)))
    github.on("GET", BASE, Reply(200, canned.repository("main")))


def serve_secrets(github: FakeGitHub, **present: tuple[str, ...]) -> None:
    for name in ENVIRONMENTS:
        names = present.get(name.replace("-", "_"), ("DEPLOY_SSH_KEY",))
        github.on("GET", SECRETS.format(name), Reply(200, canned.environment_secrets(*names)))


def test_setup_environments_makes_every_tenants_own(github: FakeGitHub, cli: Cli) -> None:
    serve_reviewers(github)
    for name in ENVIRONMENTS:
        github.on("PUT", f"{BASE}/environments/{name}", Reply(200, canned.environment(name)))
        existing = ("main",) if name.endswith("production") else ()
        github.on("GET", POLICIES.format(name), Reply(200, canned.branch_policies(*existing)))
        github.on("POST", POLICIES.format(name), Reply(200, canned.branch_policy("main")))
    serve_secrets(github, shop_production=("DEPLOY_SSH_KEY", "SHOP_API_KEY"))

    result = cli("setup-environments", "--wait-timer", "10", "--format", "json")

    assert result.code == 0, result.err
    assert json.loads(result.out) == [
        {"name": "shop-staging", "project": "shop", "environment": "staging",
         "reviewers": [], "missing_secrets": ["SHOP_API_KEY"]},
        {"name": "shop-production", "project": "shop", "environment": "production",
         "reviewers": ["ops-lead", "example-org/release-managers"], "missing_secrets": []},
        {"name": "wiki-staging", "project": "wiki", "environment": "staging",
         "reviewers": [], "missing_secrets": []},
        {"name": "wiki-production", "project": "wiki", "environment": "production",
         "reviewers": ["wiki-lead"], "missing_secrets": []},
    ]  # fmt: skip
    assert [line for line in github.lines if line.startswith("PUT")] == [
        f"PUT {BASE}/environments/{name}" for name in ENVIRONMENTS
    ]
    assert github.bodies("PUT", f"{BASE}/environments/shop-staging") == [
        {"wait_timer": 0, "prevent_self_review": False, "reviewers": [],
         "deployment_branch_policy": CUSTOM}
    ]  # fmt: skip
    assert github.bodies("PUT", f"{BASE}/environments/shop-production") == [
        {"wait_timer": 10, "prevent_self_review": True,
         "reviewers": [{"type": "User", "id": 101}, {"type": "Team", "id": 202}],
         "deployment_branch_policy": CUSTOM}
    ]  # fmt: skip
    assert github.bodies("PUT", f"{BASE}/environments/wiki-production")[0]["reviewers"] == [
        {"type": "User", "id": 303}
    ]
    # the default branch is added where it is missing, once
    assert github.bodies("POST", POLICIES.format("shop-staging")) == [
        {"name": "main", "type": "branch"}
    ]
    assert github.bodies("POST", POLICIES.format("shop-production")) == []


def test_setup_environments_dry_run_changes_nothing(github: FakeGitHub, cli: Cli) -> None:
    serve_reviewers(github)
    result = cli("setup-environments", "--dry-run", "--branch-policy", "protected")
    assert result.code == 0
    bodies = json.loads(result.out)
    assert sorted(bodies) == sorted(ENVIRONMENTS)
    assert bodies["shop-production"]["deployment_branch_policy"] == {
        "protected_branches": True,
        "custom_branch_policies": False,
    }
    assert {line.split()[0] for line in github.lines} == {"GET"}  # reviewers only
    assert not any("/environments/" in line for line in github.lines)


def test_setup_environments_refuses_an_organization_as_reviewer(
    github: FakeGitHub, cli: Cli
) -> None:
    serve_reviewers(github, kind="Organization")
    result = cli("setup-environments")
    assert result.code == 1
    assert not any(line.startswith("PUT") for line in github.lines)


def test_setup_environments_refuses_a_broken_manifest(
    github: FakeGitHub, cli: Cli, root: Path
) -> None:
    (root / "configs/wiki/project.yml").write_text("reviewers: ops-lead\n", encoding="utf-8")
    result = cli("setup-environments")
    assert result.code == 1
    assert result.out.startswith("configs/wiki/project.yml:1:1: error:")
    assert github.seen == []


def test_setup_environments_without_admin_rights(github: FakeGitHub, cli: Cli) -> None:
    serve_reviewers(github)
    github.on(
        "PUT",
        f"{BASE}/environments/shop-staging",
        Reply(
            403,
            canned.error("Resource not accessible by personal access token", 403),
            {"x-accepted-github-permissions": "administration=write"},
        ),
    )
    result = cli("setup-environments")
    assert result.code == 1
    assert "administration=write" in result.err


TEAM_MEMBERS = "/orgs/example-org/teams/{}/members"


def serve_environments(
    github: FakeGitHub, visibility: str = "public", **override: dict[str, object]
) -> None:
    """Every environment (GitHub's example: user octocat and team justice-league as required
    reviewers, the team of two), and the repository."""
    for name in ENVIRONMENTS:
        answer = override.get(name.replace("-", "_")) or canned.environment(name)
        github.on("GET", f"{BASE}/environments/{name}", Reply(200, answer))
    github.on("GET", BASE, Reply(200, canned.repository("main", visibility)))
    github.on(
        "GET",
        TEAM_MEMBERS.format("justice-league"),
        Reply(200, canned.team_members("octocat", "hubot")),
    )


def doctor(cli: Cli) -> tuple[int, dict[str, dict[str, object]]]:
    result = cli("doctor", "--format", "json")
    return result.code, {entry["name"]: entry for entry in json.loads(result.out)}


def test_doctor_passes_when_every_tenant_environment_is_ready(github: FakeGitHub, cli: Cli) -> None:
    serve_environments(github)
    serve_secrets(
        github,
        shop_staging=("DEPLOY_SSH_KEY", "SHOP_API_KEY"),
        shop_production=("DEPLOY_SSH_KEY", "SHOP_API_KEY"),
    )
    code, found = doctor(cli)
    assert code == 0
    assert sorted(found) == sorted(ENVIRONMENTS)
    assert {name: entry["problems"] for name, entry in found.items()} == {
        name: [] for name in ENVIRONMENTS
    }
    text = cli("doctor")
    assert (text.code, text.out.count(": ok ("), text.err) == (0, 4, "")


def test_doctor_checks_each_tenant_on_its_own(github: FakeGitHub, cli: Cli) -> None:
    serve_environments(
        github,
        wiki_production=canned.environment("wiki-production", reviewers=False),
        wiki_staging=canned.environment("wiki-staging", reviewers=False, branch_policy=False),
    )
    github.on(
        "GET", f"{BASE}/environments/shop-staging", Reply(404, canned.error("Not Found", 404))
    )
    serve_secrets(github, shop_production=("DEPLOY_SSH_KEY",))
    code, found = doctor(cli)
    assert code == 1
    assert [len(found[name]["problems"]) for name in ENVIRONMENTS] == [1, 1, 1, 1]
    assert found["shop-production"]["missing_secrets"] == ["SHOP_API_KEY"]
    assert found["wiki-production"]["missing_secrets"] == []
    # staging needs a branch policy, not reviewers; production needs both
    assert found["wiki-staging"]["problems"] == [
        "no deployment branch policy: any branch can deploy and read its secrets"
    ]
    assert found["wiki-production"]["problems"] == [
        "no required reviewers: anyone who can run the workflow deploys"
    ]
    assert not any(
        line.startswith(f"GET {SECRETS.format('shop-staging')}") for line in github.lines
    )


def test_doctor_warns_about_self_review(github: FakeGitHub, cli: Cli) -> None:
    serve_environments(
        github,
        shop_production=canned.environment("shop-production", prevent_self_review=False),
    )
    serve_secrets(
        github,
        shop_staging=("DEPLOY_SSH_KEY", "SHOP_API_KEY"),
        shop_production=("DEPLOY_SSH_KEY", "SHOP_API_KEY"),
    )
    code, found = doctor(cli)
    assert code == 0
    assert len(found["shop-production"]["warnings"]) == 1
    assert found["shop-production"]["warnings"][0].startswith("prevent_self_review is off")


READY = {
    "shop_staging": ("DEPLOY_SSH_KEY", "SHOP_API_KEY"),
    "shop_production": ("DEPLOY_SSH_KEY", "SHOP_API_KEY"),
}


def test_doctor_warns_about_a_single_reviewer_with_self_review_prevented(
    github: FakeGitHub, cli: Cli
) -> None:
    """One reviewer and prevent_self_review: that reviewer's own changes can never be
    approved (GitHub keeps them out; nobody else may)."""
    serve_environments(
        github, wiki_production=canned.environment("wiki-production", people=("wiki-lead",))
    )
    serve_secrets(github, **READY)
    code, found = doctor(cli)
    assert code == 0
    assert len(found["wiki-production"]["warnings"]) == 1
    assert "can never be approved" in found["wiki-production"]["warnings"][0]
    assert found["shop-production"]["warnings"] == []  # octocat + a team of octocat, hubot


def test_doctor_counts_a_team_by_its_members(github: FakeGitHub, cli: Cli, root: Path) -> None:
    """Two approvals needed; the reviewers are one team: its members are what counts."""
    (root / "configs/shop/project.yml").write_text(
        "secrets: [SHOP_API_KEY]\napprovals: {production: 2}\n", encoding="utf-8"
    )
    gate = "shop-production-approval-1"
    team_only = ("team:release-managers",)
    environments = {
        "shop_production": canned.environment("shop-production", people=team_only),
    }
    serve_environments(github, **environments)
    github.on("GET", f"{BASE}/environments/{gate}",
              Reply(200, canned.environment(gate, people=team_only)))  # fmt: skip
    github.on("GET", SECRETS.format(gate), Reply(200, canned.environment_secrets()))
    members = TEAM_MEMBERS.format("release-managers")
    github.on("GET", members, Reply(200, canned.team_members("ops-lead")))
    serve_secrets(github, **READY)
    code, found = doctor(cli)
    assert code == 1
    assert "only 1 reviewer(s)" in found["shop-production"]["problems"][0]
    assert "only 1 reviewer(s)" in found[gate]["problems"][0]
    # listed once for both environments
    assert github.lines.count(f"GET {members}?page=1&per_page=100") == 1


def test_doctor_cannot_count_a_team_it_may_not_list(github: FakeGitHub, cli: Cli) -> None:
    serve_environments(github)
    github.on("GET", TEAM_MEMBERS.format("justice-league"),
              Reply(403, canned.error("Must have admin rights", 403)))  # fmt: skip
    serve_secrets(github, **READY)
    code, found = doctor(cli)
    assert code == 0
    assert "Members: read" in found["shop-production"]["warnings"][0]


@pytest.mark.parametrize("visibility", ["private", "internal"])
def test_doctor_says_a_private_repository_may_lack_required_reviewers(
    github: FakeGitHub, cli: Cli, visibility: str
) -> None:
    serve_environments(github, visibility)
    serve_secrets(github, **READY)
    code, found = doctor(cli)
    assert code == 0
    for name in ("shop-production", "wiki-production"):
        assert "GitHub Enterprise Cloud" in found[name]["warnings"][-1]
    assert found["shop-staging"]["warnings"] == []


def test_a_bad_token_is_one_line(github: FakeGitHub, cli: Cli) -> None:
    github.on(
        "GET", f"{BASE}/environments/shop-staging", Reply(401, canned.error("Bad credentials", 401))
    )
    result = cli("doctor")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: GET {BASE}/environments/shop-staging: GitHub rejected the token (401 Bad "
        "credentials); set GH_TOKEN to a valid token or run `gh auth login`\n"
    )


def test_a_real_process_exits_with_one_line(github: FakeGitHub, root: Path) -> None:
    """`python -m platform_lib` as a shell runs it: exit status, one line, no traceback."""
    github.on(
        "GET",
        f"{BASE}/environments/shop-staging",
        Reply(422, canned.error("Validation Failed", 422)),
    )
    done = subprocess.run(
        [sys.executable, "-m", "platform_lib", "github", "doctor", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GITHUB_API_URL": github.url, "GH_TOKEN": TOKEN},
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"error: GET {BASE}/environments/shop-staging: GitHub refused the request "
        "(422 Validation Failed)\n"
    )
    assert TOKEN not in done.stderr
