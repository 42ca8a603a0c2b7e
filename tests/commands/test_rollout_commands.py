"""rollout status|promote|abort (commands/rollout.py) against recording hosts: status reads the
facts once; promote and abort read them, ask the deploy running the rollout, then read until
its lock is gone. Nothing is asked when no rollout runs, nothing sent for an unknown project."""

from __future__ import annotations

import json

import pytest
from recorded_hosts import BASE, PRODUCTION, answering, facts, ok, run

from platform_lib.commands import rollout
from platform_lib.models.records import RolloutState
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun

ROLLOUT = {"release": "20260102T000000Z-bbbbbbbb", "phase": "canary web step 1", "weight": 10,
           "since": "2026-01-02T00:00:00Z"}  # fmt: skip
LOCK = {"actor": "bob", "release": ROLLOUT["release"], "plan": "q" * 64,
        "started": "2026-01-02T00:00:00Z", "expires_epoch": 1, "pid": 42}  # fmt: skip
READ = (PRODUCTION, ("platform_facts", f"{BASE}/paiss/production"))
TARGET = ("--project", "paiss", "--env", "production")


def test_status_prints_the_typed_rollout_from_one_read(capsys: pytest.CaptureFixture[str]) -> None:
    hosts = answering({"platform_facts": facts(rollout=ROLLOUT, lock=LOCK)})
    assert run(hosts, "rollout", "status", *TARGET, "--format", "json") == 0
    assert hosts.operations == [READ]
    assert RolloutState.model_validate_json(capsys.readouterr().out) == RolloutState(**ROLLOUT)


def test_status_without_a_rollout_is_null_and_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    hosts = answering({"platform_facts": facts()})
    assert run(hosts, "rollout", "status", *TARGET, "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) is None
    assert hosts.operations == [READ]


@pytest.mark.parametrize("action", ["promote", "abort"])
def test_promote_and_abort_ask_the_deploy_then_wait_for_its_lock_to_go(
    action: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "carol")
    reads = [facts(rollout=ROLLOUT, lock=LOCK), facts(rollout=ROLLOUT, lock=LOCK), facts()]
    hosts = answering({"platform_facts": lambda _run: reads.pop(0), "platform_canary_ask": ok()})
    monkeypatch.setattr(rollout.time, "sleep", lambda _seconds: None)
    assert run(hosts, "rollout", action, *TARGET) == 0
    assert hosts.operations == [
        READ, (PRODUCTION, ("platform_canary_ask", f"{BASE}/paiss/production", action)), READ, READ,
    ]  # fmt: skip
    assert "PLATFORM_ACTOR=carol\n" in hosts.runs[1].script


@pytest.mark.parametrize("action", ["promote", "abort"])
def test_without_a_rollout_nothing_is_asked_and_it_exits_1(action: str) -> None:
    hosts = answering({"platform_facts": facts(lock=LOCK)})
    assert run(hosts, "rollout", action, *TARGET) == 1
    assert hosts.operations == [READ]


def test_a_host_that_refuses_the_ask_exits_1_and_waits_for_nothing() -> None:
    hosts = answering({"platform_facts": facts(rollout=ROLLOUT, lock=LOCK),
                       "platform_canary_ask": RunResult(1, "")})  # fmt: skip
    assert run(hosts, "rollout", "abort", *TARGET) == 1
    assert [op[0] for _, op in hosts.operations] == ["platform_facts", "platform_canary_ask"]


class Clock:
    """time.monotonic and time.sleep of a clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_rollout_that_does_not_end_in_time_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(rollout, "time", clock)

    def read(_run: RecordedRun) -> RunResult:
        return facts(rollout=ROLLOUT, lock=LOCK)  # the deploy never lets the lock go

    hosts = answering({"platform_facts": read, "platform_canary_ask": ok()})
    assert run(hosts, "rollout", "promote", *TARGET) == 1
    assert clock.now >= 60 + 60  # the health timeout of configs/platform.yml, and a minute
    ask = hosts.operations.index((PRODUCTION, ("platform_canary_ask", READ[1][1], "promote")))
    assert ask == 1 and set(hosts.operations[ask + 1 :]) == {READ}


@pytest.mark.parametrize("action", ["status", "promote", "abort"])
def test_an_unknown_project_sends_nothing(action: str) -> None:
    hosts = answering({})  # the configs' PlanError, exit 1, as for deploy and rollback
    assert run(hosts, "rollout", action, "--project", "nope", "--env", "production") == 1
    assert (hosts.runs, hosts.transports) == ([], {})
