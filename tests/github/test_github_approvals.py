"""Which gates wait, what they release, and which one `approve --project` picks. Pure; the
inputs are GitHub-shaped answers (canned from GitHub's examples) parsed by the client's
models."""

from __future__ import annotations

from typing import Any

import pytest
from github import canned

from platform_lib.errors import PlatformError, UsageError
from platform_lib.github.approvals import Gate, WaitingRun, choose, gates, matching
from platform_lib.github.models import Job, PendingDeployment, WorkflowRun

DIGEST = "sha256:" + "ab" * 32
AFTER = {"staging": None, "production": "staging"}


def waiting(run: dict[str, Any], jobs: list[dict[str, Any]], *envs: tuple[int, str]) -> WaitingRun:
    return WaitingRun(
        WorkflowRun.model_validate(run),
        [PendingDeployment.model_validate(canned.pending(i, name)) for i, name in envs],
        [Job.model_validate(j) for j in jobs],
    )


def notified(run_id: int, project: str = "shop", staging: str = "success") -> WaitingRun:
    return waiting(
        canned.run(
            run_id, f"deploy {project}: web={DIGEST} (example-org/{project}@0123456 by alice)"
        ),
        [
            canned.job(run_id * 10, run_id, f"deploy {project} to staging", conclusion=staging),
            canned.job(run_id * 10 + 1, run_id, f"deploy {project} to production", "waiting", None),
        ],
        (7, f"{project}-production"),
    )


def test_a_notified_run_waits_with_its_digests_and_staging_result() -> None:
    [gate] = gates([notified(1)], AFTER)
    assert gate == Gate(
        run_id=1,
        run_url="https://github.com/example-org/platform/actions/runs/1",
        title=f"deploy shop: web={DIGEST} (example-org/shop@0123456 by alice)",
        created_at=gate.created_at,
        environment="production",
        environment_id=7,
        projects=("shop",),
        images={"web": DIGEST},
        verified_in="staging",
        before={"shop": "success"},
        can_approve=True,
        reviewers=("ops-lead",),
        github_environment="shop-production",
        head_sha=gate.head_sha,
    )
    assert gate.head_sha == notified(1).run.head_sha  # the configs the run deploys
    assert not gate.shared
    assert choose([gate], "shop", "production") is gate


def test_a_push_run_has_one_gate_per_tenant_and_each_releases_its_tenant_only() -> None:
    run = waiting(
        canned.run(2, "Config push abc: deploy the tenants it changed", event="push"),
        [
            canned.job(20, 2, "deploy shop to staging"),
            canned.job(21, 2, "deploy blog to staging", conclusion="failure"),
            canned.job(22, 2, "deploy shop to production", "waiting", None),
            canned.job(23, 2, "deploy wiki to production", "waiting", None),
        ],
        (7, "shop-production"),
        (8, "wiki-production"),
    )
    found = gates([run], AFTER)
    assert [(g.projects, g.environment, g.environment_id, g.shared) for g in found] == [
        (("shop",), "production", 7, False),
        (("wiki",), "production", 8, False),
    ]
    assert [g.before for g in found] == [{"shop": "success"}, {"wiki": "not run"}]
    assert choose(found, "shop", "production").environment_id == 7
    assert choose(found, "wiki", "production").environment_id == 8
    assert matching(found, "blog", None) == []


def test_a_tenant_with_a_dash_in_its_name_is_read_back_from_its_environment() -> None:
    [gate] = gates([notified(3, "filter-ical")], AFTER)
    assert (gate.projects, gate.environment, gate.github_environment) == (
        ("filter-ical",),
        "production",
        "filter-ical-production",
    )


def test_a_run_on_the_shared_environment_releases_every_waiting_project_at_once() -> None:
    """A run made before the move to per-tenant environments waits on `production`."""
    run = waiting(
        canned.run(2, "Update shared proxy config", event="push"),
        [
            canned.job(20, 2, "deploy shop to staging"),
            canned.job(21, 2, "deploy blog to staging", conclusion="failure"),
            canned.job(22, 2, "deploy shop to production", "waiting", None),
            canned.job(23, 2, "deploy blog to production", "completed", "skipped"),
            canned.job(24, 2, "deploy wiki to production", "waiting", None),
        ],
        (7, "production"),
    )
    [gate] = gates([run], AFTER)
    assert gate.shared
    assert gate.projects == ("shop", "wiki")
    assert gate.images == {}
    assert gate.before == {"shop": "success", "wiki": "not run"}
    with pytest.raises(
        UsageError, match=r"run 2 also waits to deploy wiki to production .*--allow-shared-run"
    ):
        choose([gate], "shop", "production")
    assert choose([gate], "shop", "production", allow_shared=True) is gate
    assert matching([gate], "blog", None) == []


def test_without_job_names_the_title_names_the_project() -> None:
    run = waiting(
        canned.run(3, "deploy shop to production: web=v2 (by bob)", event="workflow_dispatch"),
        [],
        (7, "production"),
    )
    [gate] = gates([run], AFTER)
    assert (gate.projects, gate.images, gate.before) == (
        ("shop",),
        {"web": "v2"},
        {"shop": "not run"},
    )


def test_an_unreadable_run_is_listed_but_never_chosen() -> None:
    [gate] = gates([waiting(canned.run(4, "nightly"), [], (7, "production"))], AFTER)
    assert gate.projects == ("?",)
    with pytest.raises(
        PlatformError, match=r"^no production deployment of shop is waiting for approval"
    ):
        choose([gate], "shop", "production")


def test_several_runs_for_one_project_need_a_run_id() -> None:
    found = gates([notified(5), notified(6)], AFTER)
    with pytest.raises(
        UsageError,
        match=r"2 runs wait to deploy shop to production: 5 \(.*\), 6 \(.*\); pick one with --run",
    ):
        choose(found, "shop", "production")
    assert choose(found, "shop", "production", run_id=6).run_id == 6
    with pytest.raises(PlatformError, match="in run 9"):
        choose(found, "shop", "production", run_id=9)


def test_other_environments_and_projects_do_not_match() -> None:
    found = gates([notified(1, "shop"), notified(2, "blog")], AFTER)
    assert [g.run_id for g in matching(found, "blog", "production")] == [2]
    assert matching(found, "shop", "staging") == []
    with pytest.raises(PlatformError):
        choose(found, "shop", "staging")
