"""execution/deploy.deploy over recording hosts when another deploy wins the lock: the host's
script aborts at its precondition (nothing changed), and `deploy` decides and plans again
against what the host runs now, once; a second loss is the error."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from recorded_hosts import REPO

from platform_lib.config.loader import PlatformConfig
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.errors import DeployAborted
from platform_lib.execution.connect import Connections
from platform_lib.execution.deploy import deploy
from platform_lib.models.host_state import HostState
from platform_lib.models.outcome import OUTCOME_MARKER
from platform_lib.planning.builder import PlanRequest
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun, RecordingHosts, Reply

BASE = "/srv/platform/projects/paiss/staging"
DIGEST = "sha256:" + "a" * 64
THEIRS = "20260102T000000Z-bbbbbbbb"
ENVIRON = {"REGISTRY_TOKEN": "registry-t0ken"}


def request() -> PlanRequest:
    return PlanRequest(project="paiss", environment="staging",
                       now=datetime(2026, 1, 6, 10, tzinfo=UTC), actor="alice",
                       platform_sha="f00", images={"web": DIGEST})  # fmt: skip


def hosts(outcomes: list[str]) -> tuple[RecordingHosts, list[str | None]]:
    """Facts: nothing deployed, then THEIRS once a plan lost; each plan answers the next of
    `outcomes` (`stale`: aborted at the precondition, the host running THEIRS). Also returns
    the current release each plan was made against, in order."""
    planned_against: list[str | None] = []
    current: list[str | None] = [None]

    def reply(run: RecordedRun) -> Reply:
        if run.operation:
            assert run.operation == ("platform_facts", BASE)
            state = HostState.model_validate(
                {"current_release": current[0],
                 "releases": [{"release": THEIRS, "outcome": "deployed"}] if current[0] else []}
            )  # fmt: skip
            return RunResult(0, state.model_dump_json()), ()
        plan = re.search(r"^# Deploy plan ([0-9a-f]{64})$", run.script, re.MULTILINE)
        release = re.search(r"^PLATFORM_RELEASE=(\S+)$", run.script, re.MULTILINE)
        assert plan and release
        planned_against.append(current[0])
        outcome = outcomes.pop(0)
        record = {"version": 1, "kind": "deploy", "outcome": "deployed", "plan": plan[1],
                  "release": release[1], "previous_release": current[0],
                  "current_release": release[1], "step": None, "reason": None,
                  "rollback_step": None, "rollback_reason": None}  # fmt: skip
        code = 0
        if outcome == "pull fails":
            record |= {
                "outcome": "aborted",
                "step": "pull",
                "current_release": None,
                "reason": "exit 1",
            }
            code = 4
        if outcome == "stale":
            current[0] = THEIRS
            record |= {
                "outcome": "aborted",
                "step": "precondition",
                "current_release": THEIRS,
                "reason": f"another deploy changed the host: it now runs {THEIRS}",
            }
            code = 4
        return RunResult(code, OUTCOME_MARKER + json.dumps(record) + "\n"), ()

    return RecordingHosts(reply), planned_against


def config() -> PlatformConfig:
    return load_valid_config(read_sources(REPO))


def test_a_deploy_that_lost_the_lock_plans_again_against_the_winner_and_deploys() -> None:
    recording, planned_against = hosts(["stale", "deployed"])
    lines: list[str] = []
    with Connections(None, recording.open) as connections:
        plan = deploy(config(), request(), connections, ENVIRON, lines.append, REPO)
    assert planned_against == [None, THEIRS]  # the second plan is made against the winner
    assert plan.facts is not None and plan.facts.current_release == THEIRS
    assert [run.operation[:1] for run in recording.runs] == [
        ("platform_facts",), (), ("platform_facts",), (),
    ]  # fmt: skip
    assert any(THEIRS in line and "planning again" in line for line in lines)


def test_a_second_loss_is_reported_and_not_retried_again() -> None:
    recording, planned_against = hosts(["stale", "stale"])
    with pytest.raises(DeployAborted) as raised, Connections(None, recording.open) as hosts_:
        deploy(config(), request(), hosts_, ENVIRON, lambda _line: None, REPO)
    assert raised.value.outcome is not None and raised.value.outcome.step == "precondition"
    assert len(planned_against) == 2


def test_an_abort_at_another_step_is_not_retried() -> None:
    recording, planned_against = hosts(["pull fails"])
    with pytest.raises(DeployAborted) as raised, Connections(None, recording.open) as hosts_:
        deploy(config(), request(), hosts_, ENVIRON, lambda _line: None, REPO)
    assert raised.value.outcome is not None and raised.value.outcome.step == "pull"
    assert planned_against == [None]
