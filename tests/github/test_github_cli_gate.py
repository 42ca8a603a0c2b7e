"""`github check-gate` against the fake GitHub: a deploy goes ahead only through environments
protected as the settings ask; one GitHub made on first use (unprotected) is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from github import canned
from github.fake_github import FakeGitHub, Reply
from github.harness import Cli

BASE = "/repos/example-org/platform"
REVIEWERS = ("ops-lead", "team:release-managers")  # configs/platform.yml's, as GitHub holds them


@pytest.fixture(autouse=True)
def shop(root: Path) -> Path:
    (root / "configs" / "shop").mkdir()
    manifest = root / "configs" / "shop" / "project.yml"
    manifest.write_text("secrets: [SHOP_API_KEY]\n", encoding="utf-8")
    return manifest


def serve(github: FakeGitHub, name: str, answer: dict[str, Any] | None) -> None:
    reply = Reply(200, answer) if answer else Reply(404, canned.error("Not Found", 404))
    github.on("GET", f"{BASE}/environments/{name}", reply)


def unprotected(name: str) -> dict[str, Any]:
    """What GitHub makes when a job names an environment that does not exist."""
    return canned.environment(name, reviewers=False, branch_policy=False)


def check(cli: Cli, env: str = "production") -> tuple[int, dict[str, Any], str]:
    result = cli("check-gate", "--project", "shop", "--env", env)
    return result.code, json.loads(result.out), result.err


def problems(report: dict[str, Any]) -> dict[str, list[str]]:
    return {e["name"]: e["problems"] for e in report["environments"]}


def test_a_protected_environment_passes(github: FakeGitHub, cli: Cli) -> None:
    serve(github, "shop-production", canned.environment("shop-production", people=REVIEWERS))
    code, report, err = check(cli)
    assert (code, report["ok"], err) == (0, True, "")
    assert problems(report) == {"shop-production": []}
    assert github.lines == [f"GET {BASE}/environments/shop-production"]


@pytest.mark.parametrize(
    "answer",
    [None, unprotected("shop-production")],
    ids=["missing", "made-on-first-use"],
)
def test_a_missing_or_unprotected_environment_is_refused(
    github: FakeGitHub, cli: Cli, answer: dict[str, Any] | None
) -> None:
    serve(github, "shop-production", answer)
    github.on("GET", BASE, Reply(200, canned.repository()))
    code, report, err = check(cli)
    assert (code, report["ok"]) == (1, False)
    found = problems(report)["shop-production"]
    assert found
    assert ("no environment shop-production" in found[0]) == (answer is None)
    assert "make setup-environments" in err


def test_a_private_repository_says_why_reviewers_may_be_missing(
    github: FakeGitHub, cli: Cli
) -> None:
    serve(github, "shop-production", unprotected("shop-production"))
    github.on("GET", BASE, Reply(200, canned.repository("main", "private")))
    code, report, _ = check(cli)
    assert code == 1
    assert "GitHub Enterprise Cloud" in problems(report)["shop-production"][-1]


@pytest.mark.parametrize(
    ("people", "self_review", "expected"),
    [
        (("ops-lead",), True, ["required reviewers lack example-org/release-managers"]),
        ((*REVIEWERS, "mallory"), True, ["required reviewers mallory are not in the settings"]),
        (REVIEWERS, False, ["prevent_self_review is off"]),
    ],
    ids=["a-reviewer-missing", "an-extra-reviewer", "self-review"],
)
def test_protection_other_than_the_settings_ask_is_refused(
    github: FakeGitHub, cli: Cli, people: tuple[str, ...], self_review: bool, expected: list[str]
) -> None:
    held = canned.environment("shop-production", people=people, prevent_self_review=self_review)
    serve(github, "shop-production", held)
    github.on("GET", BASE, Reply(200, canned.repository()))
    code, report, _ = check(cli)
    assert code == 1
    found = problems(report)["shop-production"]
    assert [p[: len(e)] for p, e in zip(found, expected, strict=True)] == expected


def test_n_approvers_need_their_gate_environments_too(
    github: FakeGitHub, cli: Cli, shop: Path
) -> None:
    shop.write_text("approvals: {production: 2}\n", encoding="utf-8")
    serve(github, "shop-production", canned.environment("shop-production", people=REVIEWERS))
    serve(github, "shop-production-approval-1", unprotected("shop-production-approval-1"))
    github.on("GET", BASE, Reply(200, canned.repository()))
    code, report, _ = check(cli)
    assert code == 1
    assert [(e["name"], e["gate"], bool(e["problems"])) for e in report["environments"]] == [
        ("shop-production-approval-1", 1, True),
        ("shop-production", None, False),
    ]


def test_staging_needs_a_branch_policy_not_reviewers(github: FakeGitHub, cli: Cli) -> None:
    serve(github, "shop-staging", canned.environment("shop-staging", reviewers=False))
    code, report, _ = check(cli, "staging")
    assert (code, problems(report)) == (0, {"shop-staging": []})
    serve(github, "shop-staging", unprotected("shop-staging"))
    code, report, _ = check(cli, "staging")
    assert code == 1
    assert problems(report)["shop-staging"] == [
        "no deployment branch policy: any branch can deploy and read its secrets"
    ]


def test_a_token_that_may_not_read_environments_says_which_permission(
    github: FakeGitHub, cli: Cli
) -> None:
    github.on(
        "GET",
        f"{BASE}/environments/shop-production",
        Reply(403, canned.error("Resource not accessible by integration", 403)),
    )
    result = cli("check-gate", "--project", "shop", "--env", "production")
    assert (result.code, result.out) == (1, "")
    assert "actions: read" in result.err


def test_an_unknown_project_or_environment_is_a_usage_error(github: FakeGitHub, cli: Cli) -> None:
    assert cli("check-gate", "--project", "nope", "--env", "production").code == 2
    assert cli("check-gate", "--project", "shop", "--env", "qa").code == 2
    assert github.seen == []
