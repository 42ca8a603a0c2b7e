"""execution/deploy.rollback over recording hosts: it reads the host's facts, plans from them,
and sends that plan on the same connection; a refused rollback sends no plan."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from recorded_hosts import REPO

from platform_lib.config.loader import PlatformConfig
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.errors import PlanError, RollbackFailed
from platform_lib.execution.connect import Connections
from platform_lib.execution.deploy import rollback
from platform_lib.models.host_state import HostState
from platform_lib.models.outcome import OUTCOME_MARKER
from platform_lib.planning.rollback import RollbackRequest
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun, RecordingHosts, Reply

BASE = "/srv/platform/projects/paiss/staging"
STATE = HostState.model_validate({
    "current_release": "20260102T000000Z-bbbbbbbb",
    "releases": [{"release": "20260102T000000Z-bbbbbbbb", "outcome": "deployed"},
                 {"release": "20260101T000000Z-aaaaaaaa", "outcome": "deployed"}],
})  # fmt: skip


def request(to_release: str | None = None) -> RollbackRequest:
    return RollbackRequest(
        project="paiss", environment="staging", now=datetime(2026, 1, 3, tzinfo=UTC),
        actor="alice", platform_sha="f00", state=HostState(), to_release=to_release,
    )  # fmt: skip


def host(outcome: str) -> RecordingHosts:
    """Facts: STATE; a plan: the outcome record of the plan it was sent (its id and release
    read from the script's header and variables)."""

    def reply(run: RecordedRun) -> Reply:
        if run.operation:
            assert run.operation == ("platform_facts", BASE)
            return RunResult(0, STATE.model_dump_json()), ()
        plan = re.search(r"^# Deploy plan ([0-9a-f]{64})$", run.script, re.MULTILINE)
        release = re.search(r"^PLATFORM_RELEASE=(\S+)$", run.script, re.MULTILINE)
        assert plan and release
        record = {"version": 1, "kind": "rollback", "outcome": outcome, "plan": plan[1],
                  "release": release[1], "previous_release": STATE.current_release,
                  "current_release": release[1], "step": None, "reason": None,
                  "rollback_step": None, "rollback_reason": None}  # fmt: skip
        if outcome != "deployed":
            record |= {"step": "switch", "reason": "exit 1"}
        code = {"deployed": 0, "rollback-failed": 3}[outcome]
        return RunResult(code, OUTCOME_MARKER + json.dumps(record) + "\n"), ()

    return RecordingHosts(reply)


def config() -> PlatformConfig:
    return load_valid_config(read_sources(REPO))


def test_rollback_plans_from_the_facts_it_read_and_sends_that_plan() -> None:
    hosts = host("deployed")
    with Connections(None, hosts.open) as connections:
        plan = rollback(config(), request(), connections, lambda _line: None)
    assert plan.release == "20260101T000000Z-aaaaaaaa"  # the newest release older than current
    assert plan.facts is not None
    assert plan.facts.current_release == STATE.current_release
    assert [(run.host, run.operation[:1]) for run in hosts.runs] == [
        ("staging-1", ("platform_facts",)), ("staging-1", ()),
    ]  # fmt: skip
    assert list(hosts.transports) == ["staging-1"]


def test_a_failed_rollback_is_its_error_and_exit_code() -> None:
    hosts = host("rollback-failed")
    with pytest.raises(RollbackFailed) as raised, Connections(None, hosts.open) as connections:
        rollback(config(), request(), connections, lambda _line: None)
    assert raised.value.exit_code == 3


def test_a_rollback_to_a_release_not_on_the_host_sends_no_plan() -> None:
    hosts = host("deployed")
    with pytest.raises(PlanError), Connections(None, hosts.open) as connections:
        rollback(config(), request("20250101T000000Z-zzzzzzzz"), connections, lambda _line: None)
    assert [run.operation[:1] for run in hosts.runs] == [("platform_facts",)]
