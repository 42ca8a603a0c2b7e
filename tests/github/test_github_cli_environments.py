"""`github setup-environments` and `github doctor` end to end against the fake GitHub; how
errors reach the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from github import canned
from github.canned import TOKEN
from github.fake_github import FakeGitHub, Reply
from github.harness import Cli

BASE = "/repos/example-org/platform"
POLICIES = BASE + "/environments/{}/deployment-branch-policies"
CUSTOM = {"protected_branches": False, "custom_branch_policies": True}


def serve_reviewers(github: FakeGitHub, kind: str = "User") -> None:
    github.on("GET", "/users/ops-lead", Reply(200, canned.user("ops-lead", 101, kind)))
    github.on(
        "GET",
        "/orgs/example-org/teams/release-managers",
        Reply(200, canned.team("release-managers", 202)),
    )
    github.on("GET", BASE, Reply(200, canned.repository("main")))


def test_setup_environments(github: FakeGitHub, cli: Cli) -> None:
    serve_reviewers(github)
    for name, policies in (("staging", ()), ("production", ("main",))):
        github.on("PUT", f"{BASE}/environments/{name}", Reply(200, canned.environment(name)))
        github.on("GET", POLICIES.format(name), Reply(200, canned.branch_policies(*policies)))
    github.on("POST", POLICIES.format("staging"), Reply(200, canned.branch_policy("main")))
    result = cli("setup-environments", "--wait-timer", "10")
    assert result.code == 0
    assert result.out == (
        "staging: no reviewers; deploys from main\n"
        "production: ops-lead, example-org/release-managers; prevent self-review; wait 10 min; "
        "deploys from main\n"
    )
    assert github.lines == [
        "GET /users/ops-lead",
        "GET /orgs/example-org/teams/release-managers",
        f"GET {BASE}",
        f"PUT {BASE}/environments/staging",
        f"GET {POLICIES.format('staging')}?per_page=100",
        f"POST {POLICIES.format('staging')}",
        f"PUT {BASE}/environments/production",
        f"GET {POLICIES.format('production')}?per_page=100",  # main is there already
    ]
    assert github.bodies("PUT", f"{BASE}/environments/staging") == [
        {
            "wait_timer": 0,
            "prevent_self_review": False,
            "reviewers": [],
            "deployment_branch_policy": CUSTOM,
        }
    ]
    assert github.bodies("PUT", f"{BASE}/environments/production") == [
        {
            "wait_timer": 10,
            "prevent_self_review": True,
            "reviewers": [{"type": "User", "id": 101}, {"type": "Team", "id": 202}],
            "deployment_branch_policy": CUSTOM,
        }
    ]
    assert github.bodies("POST", POLICIES.format("staging")) == [{"name": "main", "type": "branch"}]


def test_setup_environments_dry_run_changes_nothing(github: FakeGitHub, cli: Cli) -> None:
    serve_reviewers(github)
    result = cli("setup-environments", "--dry-run", "--branch-policy", "protected")
    assert result.code == 0
    assert json.loads(result.out)["production"]["deployment_branch_policy"] == {
        "protected_branches": True,
        "custom_branch_policies": False,
    }
    assert [line.split()[0] for line in github.lines] == ["GET", "GET"]  # reviewers only


def test_setup_environments_refuses_an_organization_as_reviewer(
    github: FakeGitHub, cli: Cli
) -> None:
    serve_reviewers(github, kind="Organization")
    result = cli("setup-environments")
    assert (result.code, result.err) == (
        1,
        "error: reviewer 'ops-lead' is a GitHub Organization, not a user\n",
    )


def test_setup_environments_without_admin_rights(github: FakeGitHub, cli: Cli) -> None:
    serve_reviewers(github)
    github.on(
        "PUT",
        f"{BASE}/environments/staging",
        Reply(
            403,
            canned.error("Resource not accessible by personal access token", 403),
            {"x-accepted-github-permissions": "administration=write"},
        ),
    )
    result = cli("setup-environments")
    assert (result.code, result.err) == (
        1,
        f"error: PUT {BASE}/environments/staging: forbidden (403 Resource not accessible by "
        "personal access token); the token needs administration=write\n",
    )


def test_doctor_passes_a_protected_production(github: FakeGitHub, cli: Cli) -> None:
    github.on(
        "GET", f"{BASE}/environments/production", Reply(200, canned.environment("production"))
    )
    result = cli("doctor")
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "production: ok (reviewers: justice-league, octocat; branches: custom branch policies)\n"
    )


def test_doctor_fails_an_open_production(github: FakeGitHub, cli: Cli) -> None:
    bare = canned.environment("production", reviewers=False, branch_policy=False)
    github.on("GET", f"{BASE}/environments/production", Reply(200, bare))
    result = cli("doctor")
    assert result.code == 1
    assert result.out == (
        "production: error: no required reviewers: anyone who can run the workflow deploys\n"
        "production: error: no deployment branch policy: any branch can deploy and read its "
        "secrets\n"
    )
    assert result.err == "GitHub environments are not safe: run make setup-environments\n"


def test_doctor_warns_about_self_review(github: FakeGitHub, cli: Cli) -> None:
    lax = canned.environment("production", prevent_self_review=False)
    github.on("GET", f"{BASE}/environments/production", Reply(200, lax))
    result = cli("doctor")
    assert result.code == 0
    assert "production: warning: prevent_self_review is off" in result.out


def test_doctor_without_the_environment(github: FakeGitHub, cli: Cli) -> None:
    github.on("GET", f"{BASE}/environments/production", Reply(404, canned.error("Not Found", 404)))
    result = cli("doctor")
    assert result.code == 1
    assert result.out == (
        "production: error: no such environment in example-org/platform "
        "(or the token cannot see it)\n"
    )


def test_a_bad_token_is_one_line(github: FakeGitHub, cli: Cli) -> None:
    github.on(
        "GET", f"{BASE}/environments/production", Reply(401, canned.error("Bad credentials", 401))
    )
    result = cli("doctor")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: GET {BASE}/environments/production: GitHub rejected the token (401 Bad "
        "credentials); set GH_TOKEN to a valid token or run `gh auth login`\n"
    )


def test_a_real_process_exits_with_one_line(github: FakeGitHub, root: Path) -> None:
    """`python -m platform_lib` as a shell runs it: exit status, one line, no traceback."""
    github.on(
        "GET", f"{BASE}/environments/production", Reply(422, canned.error("Validation Failed", 422))
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
        f"error: GET {BASE}/environments/production: GitHub refused the request "
        "(422 Validation Failed)\n"
    )
    assert TOKEN not in done.stderr
