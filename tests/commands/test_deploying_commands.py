"""deploy, apply and rollback (commands/deploying.py) against recording hosts: each reads the
target's facts on one connection, then sends one plan there; the exit code is the outcome's
(0, 3 rollback failed, 4 aborted, 5 rolled back, 6 no record), 7 for nothing to deploy; a
stale or edited plan, a missing secret, a rollback to a release the host lacks send no plan."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from recorded_hosts import (
    BASE,
    PRODUCTION,
    REPO,
    STAGING,
    answering,
    facts,
    ok,
    outcome,
    plans,
    run,
)

from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.models.host_state import HostState, RollbackFacts
from platform_lib.models.outcome import OutcomeName
from platform_lib.models.plan import Plan, ServerFacts
from platform_lib.planning.builder import PlanRequest, build_plan
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun

WEB = "ghcr.io/example-org/paiss-web"
DIGEST = f"sha256:{'a' * 64}"
OLD, NEW = "20260101T000000Z-aaaaaaaa", "20260102T000000Z-bbbbbbbb"
READ = (STAGING, ("platform_facts", f"{BASE}/paiss/staging"))
DEPLOY = ("deploy", "--project", "paiss", "--env", "staging", "--image", f"web=sha256:{'a' * 64}",
          "--platform-sha", "f00")  # fmt: skip


@pytest.fixture(autouse=True)
def registry_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_TOKEN", "registry-t0ken")


def running(*releases: str, **more: object) -> RunResult:
    """Facts: `releases` deployed, newest first, the first one current."""
    deployed = [{"release": r, "outcome": "deployed"} for r in releases]
    return facts(current_release=releases[0] if releases else None, releases=deployed, **more)


# deploy


def test_deploy_reads_the_host_then_sends_its_plan_on_the_same_connection() -> None:
    hosts = answering({"platform_facts": running(OLD), "<plan>": outcome(previous=OLD)})
    assert run(hosts, *DEPLOY) == 0
    assert hosts.operations == [READ, (STAGING, ())]
    assert list(hosts.transports) == [STAGING]  # the early connection is the one used
    ((_, plan),) = plans(hosts)
    assert (plan.kind, plan.images) == ("deploy", {"web": f"{WEB}@{DIGEST}"})
    assert hosts.runs[1].secret_names == ("REGISTRY_TOKEN",)
    assert "registry-t0ken" not in hosts.runs[1].script


@pytest.mark.parametrize(
    ("answer", "code"), [("rollback-failed", 3), ("aborted", 4), ("rolled-back", 5)]
)
def test_a_deploy_that_fails_on_the_host_exits_with_its_outcome(
    answer: OutcomeName, code: int
) -> None:
    step = "pull" if answer == "aborted" else "switch"  # an abort at the lock is planned again
    hosts = answering({"platform_facts": running(OLD), "<plan>": outcome(answer, OLD, step)})
    assert run(hosts, *DEPLOY) == code
    assert hosts.operations == [READ, (STAGING, ())]


def test_a_host_that_sends_no_outcome_record_is_exit_6() -> None:
    hosts = answering({"platform_facts": running(OLD), "<plan>": RunResult(255, "")})
    assert run(hosts, *DEPLOY) == 6


def test_nothing_requested_and_nothing_running_is_exit_7_and_sends_no_plan() -> None:
    hosts = answering({"platform_facts": running()})
    assert run(hosts, "deploy", "--project", "paiss", "--env", "staging") == 7
    assert hosts.operations == [READ]


def test_a_secret_missing_from_the_environment_sends_no_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REGISTRY_TOKEN")
    hosts = answering({"platform_facts": running(OLD)})
    assert run(hosts, *DEPLOY) == 1
    assert hosts.operations == [READ]


def test_a_production_deploy_reads_staging_too_and_takes_its_digests() -> None:
    web = f"{WEB}@sha256:{'b' * 64}"
    staged = {"release": NEW, "project": "paiss", "environment": "staging", "actor": "a",
              "platform_sha": "f00", "plan": "p" * 64, "deployed_at": "2026-01-02T00:00:00Z",
              "outcome": "deployed", "digests": {"services": {"web": web}}}  # fmt: skip

    def read(run_: RecordedRun) -> RunResult:
        return running(NEW, current=staged) if run_.host == STAGING else running()

    hosts = answering({"platform_facts": read, "<plan>": outcome()})
    argv = ("deploy", "--project", "paiss", "--env", "production", "--platform-sha", "f00")
    assert run(hosts, *argv) == 0
    assert hosts.operations == [
        (PRODUCTION, ("platform_facts", f"{BASE}/paiss/production")),
        (STAGING, ("platform_facts", f"{BASE}/paiss/staging")),
        (PRODUCTION, ()),
    ]
    assert [(host, plan.images) for host, plan in plans(hosts)] == [(PRODUCTION, {"web": web})]


# apply


def plan_file(tmp_path: Path, against: str | None) -> tuple[Path, Plan]:
    """A plan of paiss/staging made against a host running `against`, as `plan -o` writes it."""
    request = PlanRequest(project="paiss", environment="staging", actor="alice",
                          now=datetime(2026, 1, 6, tzinfo=UTC), platform_sha="f00",
                          images={"web": DIGEST},
                          facts=ServerFacts(current_release=against))  # fmt: skip
    plan = build_plan(load_valid_config(read_sources(REPO)), request)
    path = tmp_path / "plan.json"
    path.write_text(plan.model_dump_json(indent=2))
    return path, plan


def test_apply_checks_the_host_still_runs_what_the_plan_was_made_against_then_sends_it(
    tmp_path: Path,
) -> None:
    path, made = plan_file(tmp_path, OLD)
    hosts = answering({"platform_facts": running(OLD), "<plan>": outcome(previous=OLD)})
    assert run(hosts, "apply", str(path)) == 0
    assert hosts.operations == [READ, (STAGING, ())]
    assert [(plan.id, plan.release) for _, plan in plans(hosts)] == [(made.id, made.release)]


def test_a_stale_plan_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    path, _made = plan_file(tmp_path, OLD)
    hosts = answering({"platform_facts": running(NEW, OLD)})
    assert run(hosts, "apply", str(path)) == 2
    assert hosts.operations == [READ]  # read, and no plan sent


def test_a_plan_edited_after_it_was_made_reaches_no_host(tmp_path: Path) -> None:
    path, _made = plan_file(tmp_path, OLD)
    edited = json.loads(path.read_text())
    edited["images"]["web"] = f"{WEB}@sha256:{'e' * 64}"
    path.write_text(json.dumps(edited))
    hosts = answering({})
    assert run(hosts, "apply", str(path)) == 1
    assert (hosts.runs, hosts.transports) == ([], {})


@pytest.mark.parametrize("content", ["{not json", '{"version": 1}'], ids=["not-json", "no-plan"])
def test_a_file_that_is_no_plan_reaches_no_host(content: str, tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text(content)
    hosts = answering({})
    assert run(hosts, "apply", str(tmp_path / "plan.json")) == 2
    assert (hosts.runs, hosts.transports) == ([], {})


def test_an_applied_plan_that_aborts_exits_4(tmp_path: Path) -> None:
    path, _made = plan_file(tmp_path, None)
    hosts = answering({"platform_facts": running(), "<plan>": outcome("aborted", None, "pull")})
    assert run(hosts, "apply", str(path)) == 4
    assert hosts.operations == [READ, (STAGING, ())]


# rollback


def rolling_back(*releases: str) -> RunResult:
    """`platform_canary_rollback`'s answer outside a warm period: nothing asked, the state."""
    state = HostState.model_validate_json(running(*releases).stdout)
    return ok(RollbackFacts(asked=False, state=state).model_dump_json())


ROLLBACK_READ = (STAGING, ("platform_canary_rollback", f"{BASE}/paiss/staging"))


def test_rollback_sends_the_plan_back_to_the_previous_release() -> None:
    hosts = answering(
        {"platform_canary_rollback": rolling_back(NEW, OLD), "<plan>": outcome(previous=NEW)}
    )
    assert run(hosts, "rollback", "--project", "paiss", "--env", "staging") == 0
    # one round trip: the warm-period check and the plan's state
    assert hosts.operations == [ROLLBACK_READ, (STAGING, ())]
    assert [(plan.kind, plan.release) for _, plan in plans(hosts)] == [("rollback", OLD)]
    assert hosts.runs[1].secret_names == ()  # a rollback pulls nothing


def test_rollback_to_a_named_release_plans_that_one() -> None:
    older = "20251231T000000Z-cccccccc"
    hosts = answering({"platform_facts": running(NEW, OLD, older), "<plan>": outcome()})
    argv = ("rollback", "--project", "paiss", "--env", "staging", "--to", older)
    assert run(hosts, *argv) == 0
    assert [plan.release for _, plan in plans(hosts)] == [older]


def test_rollback_to_an_unknown_release_sends_no_plan() -> None:
    hosts = answering({"platform_facts": running(NEW, OLD)})
    argv = ("rollback", "--project", "paiss", "--env", "staging", "--to", "20250101T000000Z-zz")
    assert run(hosts, *argv) == 1
    assert hosts.operations == [READ]


def test_a_rollback_that_fails_on_the_host_exits_3() -> None:
    hosts = answering(
        {"platform_canary_rollback": rolling_back(NEW, OLD), "<plan>": outcome("rollback-failed")}
    )
    assert run(hosts, "rollback", "--project", "paiss", "--env", "staging") == 3
