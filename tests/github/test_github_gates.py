"""N distinct approvers: the gate environments, the count of a run's approvals (pure, then
`github check-approvals` against the OpenAPI-checked fake GitHub with 0, 1 and 2 distinct
approvals, the same person twice and the author approving), `approve` saying what is still
needed, and `setup-environments`/`doctor` making and checking the gates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github import canned
from github.fake_github import FakeGitHub, Reply
from github.harness import Cli

from platform_lib.github import gates
from platform_lib.github.models import EnvironmentApproval
from platform_lib.github.naming import approval_gate, parse_github_environment

BASE = "/repos/example-org/platform"
APPROVALS = f"{BASE}/actions/runs/5/approvals"
GATE_1 = (71, "shop-production-approval-1")
DEPLOY = (7, "shop-production")


@pytest.fixture(autouse=True)
def two_approvers(root: Path) -> None:
    """Production needs 2 distinct approvers; shop uses the platform's reviewers."""
    settings = root / "configs" / "platform.yml"
    text = settings.read_text().replace(
        "    requires_approval: true\n", "    requires_approval: true\n    approvals: 2\n"
    )
    text = text.replace("production_reviewers: [ops-lead, example-org/release-managers]",
                        "production_reviewers: [ops-lead, bob, carol]")  # fmt: skip
    settings.write_text(text)
    (root / "configs" / "shop").mkdir()
    (root / "configs" / "shop" / "project.yml").write_text("description: a shop\n")


def reviews(*entries: tuple[str, str, tuple[int, str]]) -> list[EnvironmentApproval]:
    return [
        EnvironmentApproval.model_validate(canned.review(who, state, env))
        for who, state, env in entries
    ]


WANTED = gates.gate_environments("shop", "production", 2)


def test_the_gates_of_a_deploy_are_named_apart_from_any_tenant_environment() -> None:
    assert gates.approval_gates("shop", "production", 3) == [
        "shop-production-approval-1",
        "shop-production-approval-2",
    ]
    assert {"shop-production-approval-1", "shop-production"} == WANTED
    assert parse_github_environment("shop-production-approval-2") == ("shop", "production")
    assert approval_gate("shop-production-approval-2") == 2
    assert approval_gate("shop-production") is None


@pytest.mark.parametrize(
    ("given", "approvers", "missing"),
    [
        ((), (), 2),
        ((("bob", "approved", GATE_1),), ("bob",), 1),
        ((("bob", "approved", GATE_1), ("carol", "approved", DEPLOY)), ("bob", "carol"), 0),
        # one person approving both gates counts once
        ((("bob", "approved", GATE_1), ("Bob", "approved", DEPLOY)), ("bob",), 1),
        # another tenant's or environment's approvals do not count here
        ((("bob", "approved", (8, "wiki-production")), ("carol", "approved", DEPLOY)),
         ("carol",), 1),
    ],
)  # fmt: skip
def test_distinct_approvers_are_counted_once_each(
    given: tuple[tuple[str, str, tuple[int, str]], ...], approvers: tuple[str, ...], missing: int
) -> None:
    done = gates.tally(reviews(*given), WANTED, ["alice"], 2)
    assert (done.approvers, done.missing, done.ok) == (approvers, missing, missing == 0)


def test_the_author_s_approval_never_counts() -> None:
    done = gates.tally(
        reviews(("alice", "approved", GATE_1), ("bob", "approved", DEPLOY)),
        WANTED,
        ["alice", "platform-dispatcher[bot]"],
        2,
    )
    assert (done.approvers, done.by_authors, done.missing) == (("bob",), ("alice",), 1)
    assert gates.still_allowed(["ops-lead", "alice", "bob", "org/team"], done, ["alice"]) == [
        "ops-lead",
        "org/team",
    ]


def test_a_rejection_stops_the_deploy_whatever_else_was_approved() -> None:
    done = gates.tally(
        reviews(("bob", "approved", GATE_1), ("carol", "rejected", DEPLOY)), WANTED, [], 1
    )
    assert (done.missing, done.rejected_by, done.ok) == (0, ("carol",), False)


def test_reviewers_that_cannot_reach_n_or_deadlock_an_author() -> None:
    assert gates.reviewer_problems(2, ["bob"], True)[0]  # never enough
    problems, warnings = gates.reviewer_problems(2, ["bob", "carol"], True)
    assert (problems, len(warnings)) == ([], 1)  # an author among them: deadlock
    assert gates.reviewer_problems(2, ["bob", "carol", "dave"], True) == ([], [])
    assert gates.reviewer_problems(3, ["org/release-managers"], True) == ([], [])


def check(cli: Cli, *authors: str) -> tuple[int, dict[str, object]]:
    args = [a for author in authors for a in ("--author", author)]
    result = cli("check-approvals", "--project", "shop", "--run", "5", *args)
    return result.code, json.loads(result.out)


@pytest.mark.parametrize(
    ("given", "code", "missing"),
    [
        ((), 1, 2),
        ((("bob", "approved", GATE_1),), 1, 1),
        ((("bob", "approved", GATE_1), ("carol", "approved", DEPLOY)), 0, 0),
    ],
)
def test_check_approvals_against_github(
    github: FakeGitHub,
    cli: Cli,
    given: tuple[tuple[str, str, tuple[int, str]], ...],
    code: int,
    missing: int,
) -> None:
    github.on("GET", APPROVALS, Reply(200, [canned.review(*entry) for entry in given]))
    found_code, found = check(cli, "alice")
    assert (found_code, found["missing"], found["needed"]) == (code, missing, 2)
    assert found["ok"] is (code == 0)
    assert github.lines == [f"GET {APPROVALS}"]


def test_check_approvals_does_not_count_the_author(github: FakeGitHub, cli: Cli) -> None:
    github.on(
        "GET",
        APPROVALS,
        Reply(200, [canned.review("alice", "approved", GATE_1),
                    canned.review("bob", "approved", DEPLOY)]),
    )  # fmt: skip
    code, found = check(cli, "alice", "github-actions")
    assert (code, found["approvers"], found["not_counted_authors"]) == (1, ["bob"], ["alice"])


def test_check_approvals_of_an_ungated_environment_asks_nothing(
    github: FakeGitHub, cli: Cli
) -> None:
    result = cli("check-approvals", "--project", "shop", "--env", "staging", "--run", "5")
    assert (result.code, json.loads(result.out)["needed"]) == (0, 0)
    assert github.lines == []


def serve_gate(github: FakeGitHub, me: str) -> None:
    title = "deploy shop: web=sha256:" + "ab" * 32 + " (example-org/shop@0123456 by alice)"
    github.on("GET", f"{BASE}/actions/workflows/deploy-project.yml/runs",
              Reply(200, canned.runs(canned.run(5, title))))  # fmt: skip
    github.on(
        "GET",
        f"{BASE}/actions/runs/5/pending_deployments",
        Reply(200, [canned.pending(*GATE_1)]),
    )
    github.on("GET", f"{BASE}/actions/runs/5/jobs", Reply(200, canned.jobs()))
    github.on("GET", APPROVALS, Reply(200, [canned.review("bob", "approved", DEPLOY)]))
    github.on("GET", "/user", Reply(200, canned.authenticated_user(me, 42)))


def test_approve_says_how_many_are_still_needed_and_from_whom(github: FakeGitHub, cli: Cli) -> None:
    serve_gate(github, "carol")
    github.on(
        "POST", f"{BASE}/actions/runs/5/pending_deployments", Reply(200, canned.deployments())
    )
    result = cli("approve", "--project", "shop", "--yes")
    assert result.code == 0, result.err
    [body] = github.bodies("POST", f"{BASE}/actions/runs/5/pending_deployments")
    assert body["environment_ids"] == [GATE_1[0]]
    assert "approvals: 1 of 2 distinct people (bob)" in result.out
    assert result.out.rstrip().endswith("approvals: 2 of 2")


def test_approve_refuses_a_second_approval_by_the_same_person(github: FakeGitHub, cli: Cli) -> None:
    serve_gate(github, "bob")
    result = cli("approve", "--project", "shop", "--yes")
    assert result.code == 2
    assert not github.bodies("POST", f"{BASE}/actions/runs/5/pending_deployments")


def test_setup_environments_makes_the_gate_environments(github: FakeGitHub, cli: Cli) -> None:
    for login, user_id in (("ops-lead", 101), ("bob", 102), ("carol", 103)):
        github.on("GET", f"/users/{login}", Reply(200, canned.user(login, user_id)))
    github.on("GET", BASE, Reply(200, canned.repository("main")))
    result = cli("setup-environments", "--dry-run")
    assert result.code == 0, result.err
    bodies = json.loads(result.out)
    assert sorted(bodies) == ["shop-production", "shop-production-approval-1", "shop-staging"]
    gate, deploy = bodies["shop-production-approval-1"], bodies["shop-production"]
    assert gate["reviewers"] == deploy["reviewers"]
    assert len(gate["reviewers"]) == 3
    assert gate["prevent_self_review"] is True
