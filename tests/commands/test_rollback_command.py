"""rollback (commands/deploying.py) against recording hosts: without `--to` it takes one
round trip before it knows what to do (platform_canary_rollback: a warm period's deploy is
asked to go back to the warm previous release, else the state the rollback plans from);
`--to` reads the state and plans; a warm period that ended before its deploy saw the request
is rolled back as usual."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from recorded_hosts import BASE, STAGING, answering, facts, ok, run

from platform_lib.models.host_state import HostState, RollbackFacts
from platform_lib.models.outcome import OUTCOME_MARKER
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun

PAISS = f"{BASE}/paiss/staging"
OLD, NEW = "20260101T000000Z-aaaaaaaa", "20260102T000000Z-bbbbbbbb"
RELEASES = [{"release": NEW, "outcome": "deployed"}, {"release": OLD, "outcome": "deployed"}]
LOCK = {"actor": "bob", "release": NEW}
ROLLOUT = {"release": NEW, "phase": "warm web", "weight": 100}


def rollback_facts(asked: bool, **state: object) -> RunResult:
    answer = RollbackFacts(asked=asked, state=HostState.model_validate(state))
    return ok(answer.model_dump_json())


def plan_outcome(run: RecordedRun) -> RunResult:
    """The outcome record of the rollback plan sent (its id and release read from it)."""
    plan = re.search(r"^# Deploy plan ([0-9a-f]{64})$", run.script, re.MULTILINE)
    release = re.search(r"^PLATFORM_RELEASE=(\S+)$", run.script, re.MULTILINE)
    assert plan and release
    record = {"version": 1, "kind": "rollback", "outcome": "deployed", "plan": plan[1],
              "release": release[1], "previous_release": NEW, "current_release": release[1],
              "step": None, "reason": None, "rollback_step": None,
              "rollback_reason": None}  # fmt: skip
    return RunResult(0, OUTCOME_MARKER + json.dumps(record) + "\n")


def in_turn(*answers: RunResult) -> Iterator[RunResult]:
    yield from answers


def test_a_rollback_in_the_warm_period_asks_its_deploy_and_waits_for_it() -> None:
    reads = in_turn(facts(current_release=NEW, releases=RELEASES, lock=LOCK, rollout=ROLLOUT),
                    facts(current_release=OLD, releases=RELEASES))  # fmt: skip
    hosts = answering({
        "platform_canary_rollback": rollback_facts(True, current_release=NEW, releases=RELEASES,
                                                   lock=LOCK, rollout=ROLLOUT),
        "platform_facts": lambda _run: next(reads),
    })  # fmt: skip
    assert run(hosts, "rollback", "--project", "paiss", "--env", "staging") == 0
    assert hosts.operations == [
        (STAGING, ("platform_canary_rollback", PAISS)),
        (STAGING, ("platform_facts", PAISS)),  # the deploy still holds the lock
        (STAGING, ("platform_facts", PAISS)),  # it let it go: done
    ]  # no plan of its own


def test_without_a_warm_period_the_rollback_plans_from_the_same_round_trip() -> None:
    hosts = answering({
        "platform_canary_rollback": rollback_facts(False, current_release=NEW, releases=RELEASES),
        "<plan>": plan_outcome,
    })  # fmt: skip
    assert run(hosts, "rollback", "--project", "paiss", "--env", "staging") == 0
    assert [op for _host, op in hosts.operations] == [("platform_canary_rollback", PAISS), ()]
    assert f"PLATFORM_RELEASE={OLD}\n" in hosts.runs[-1].script


def test_a_warm_period_that_ended_first_is_rolled_back_as_usual() -> None:
    hosts = answering({
        "platform_canary_rollback": rollback_facts(True, current_release=NEW, releases=RELEASES,
                                                   lock=LOCK, rollout=ROLLOUT),
        "platform_facts": facts(current_release=NEW, releases=RELEASES),  # unlocked, still NEW
        "<plan>": plan_outcome,
    })  # fmt: skip
    assert run(hosts, "rollback", "--project", "paiss", "--env", "staging") == 0
    assert [op[:1] for _host, op in hosts.operations] == [
        ("platform_canary_rollback",), ("platform_facts",), (),
    ]  # fmt: skip
    assert f"PLATFORM_RELEASE={OLD}\n" in hosts.runs[-1].script


def test_a_rollback_to_a_named_release_reads_the_state_once_and_asks_nothing() -> None:
    hosts = answering({
        "platform_facts": facts(current_release=NEW, releases=RELEASES, rollout=ROLLOUT),
        "<plan>": plan_outcome,
    })  # fmt: skip
    code = run(hosts, "rollback", "--project", "paiss", "--env", "staging", "--to", OLD)
    assert code == 0
    assert [op for _host, op in hosts.operations] == [("platform_facts", PAISS), ()]
