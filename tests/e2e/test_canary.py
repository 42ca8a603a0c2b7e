"""Canary rollouts through the real nginx under a bounded load, on the real servers: a
healthy release passes every step without a failed request; a release failing a fifth of its
requests is rolled back at its first step with the figures in history; a release that
degrades after the full switch is rolled back onto the warm previous release within a
second of the decision; a manual rollback in the warm period takes the same path.

The test images' /cgi-bin/app answers each request as it is asked (tests/e2e/infra/
build-test-images.sh): demo-web:v4 fails every fifth, and any release fails everything once
/tmp/degrade exists in its container."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from e2e.platform_fixture import Platform, free_port, proxy_settings, routed_tenant
from load import Load
from nginx_harness import Nginx

from platform_lib.models.records import CanaryDecision, HistoryEvent

pytestmark = pytest.mark.e2e

HOST = "staging.shop.example.test"
ROLLOUT = {
    "steps": [{"weight": 20, "bake": 3}, {"weight": 50, "bake": 2}],
    "thresholds": {"max_error_percent": 5, "min_requests": 20},
    "warm": 3,
}


def canary_tenant(platform: Platform, nginx: Nginx, warm: int = 3) -> int:
    http_port = free_port()
    platform.write_settings(platform.settings(proxy=proxy_settings(nginx, http_port, free_port())))
    tenant = routed_tenant()
    tenant["manifest"]["rollout"] = {"web": {**ROLLOUT, "warm": warm}}
    platform.add_tenant("shop", tenant)
    return http_port


def load(http_port: int) -> Load:
    return Load(http_port, host=HOST, path="/cgi-bin/app")


def canary_events(platform: Platform) -> list[HistoryEvent]:
    events = [HistoryEvent.model_validate(e) for e in platform.history("shop")]
    return [e for e in events if e.event == "canary"]


def in_background(action: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(action()), daemon=True)
    thread.start()
    return thread, result


def wait_for_phase(platform: Platform, phase: str, timeout: float = 60) -> None:
    status = platform.base("shop") / "rollout" / "status.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads(status.read_text()).get("phase") == phase:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"the rollout never reached {phase!r}")


def test_a_healthy_canary_passes_every_step_without_a_failed_request(
    platform: Platform, nginx: Nginx
) -> None:
    http_port = canary_tenant(platform, nginx)
    first = platform.deploy("shop", image="v1")
    assert "first release: no canary" in first.stderr
    with load(http_port) as running:
        time.sleep(0.3)
        done = platform.deploy("shop", image="v2")
        time.sleep(0.3)
    assert Load.failures(running.answers) == []
    assert Load.versions(running.answers)[0] == "v1" and Load.versions(running.answers)[-1] == "v2"
    events = canary_events(platform)
    assert [(e.outcome, e.decision.step if e.decision else "") for e in events] == [
        ("passed", "1"), ("passed", "2"), ("passed", "warm"),
    ]  # fmt: skip
    step1 = events[0].decision
    assert step1 is not None and step1.new.requests >= 20 and step1.new.failures == 0
    # About a fifth of the requests of step 1 reached the new release.
    assert 0.1 < step1.new.requests / (step1.new.requests + step1.old.requests) < 0.35
    assert done.returncode == 0
    assert not (platform.base("shop") / "rollout").exists()
    assert len(platform.service_containers("shop-staging", "web")) == 1  # the warm one stopped


def test_a_release_failing_a_fifth_of_its_requests_is_rolled_back_at_its_first_step(
    platform: Platform, nginx: Nginx
) -> None:
    http_port = canary_tenant(platform, nginx)
    platform.deploy("shop", image="v1")
    before = platform.current("shop")
    with load(http_port) as running:
        time.sleep(0.3)
        done = platform.deploy("shop", image="v4", check=False)
        time.sleep(0.5)
    assert done.returncode == 5  # rolled back
    (event,) = canary_events(platform)
    decision = event.decision
    assert isinstance(decision, CanaryDecision)
    assert (event.outcome, decision.step, decision.verdict) == ("rolled-back", "1", "fail")
    assert 0.1 <= decision.new.failures / decision.new.requests <= 0.3
    assert decision.old.failures == 0 and decision.old.requests > decision.new.requests
    assert decision.reason.startswith("error rate ")
    # Only the canary's own answers failed, and none once it was decided.
    failed = Load.failures(running.answers)
    assert failed and {a.body for a in failed} == {"v4"}
    after = running.started_after(decision.decided_ms + 1000)
    assert after and Load.failures(after) == [] and {a.body for a in after} == {"v1"}
    assert platform.current("shop") == before
    assert "canary web step 1 (20%): error rate" in done.stderr


def test_a_release_degrading_after_the_switch_goes_back_to_the_warm_previous_release(
    platform: Platform, nginx: Nginx
) -> None:
    http_port = canary_tenant(platform, nginx, warm=30)
    platform.deploy("shop", image="v1")
    with load(http_port) as running:
        thread, result = in_background(lambda: platform.deploy("shop", image="v2", check=False))
        wait_for_phase(platform, "warm web")
        running_ids = platform.servers.docker(
            "ps", "-q", "--filter", "label=com.docker.compose.project=shop-staging",
            "--filter", "status=running",
        ).split()  # fmt: skip
        for container in running_ids:  # the new release's: the warm ones are paused
            platform.servers.docker("exec", container, "touch", "/tmp/degrade")
        degraded = time.time() * 1000
        thread.join(timeout=120)
        time.sleep(0.5)
    assert result[0].returncode == 5
    events = canary_events(platform)
    decision = events[-1].decision
    assert decision is not None and (decision.step, decision.verdict) == ("warm", "fail")
    assert [e.outcome for e in events] == ["passed", "passed", "rolled-back"]
    # Decided on the figures of the degraded release within about a second and a half...
    assert decision.decided_ms - degraded < 2500
    # ...and then every request was answered by the warm previous release.
    after = running.started_after(decision.decided_ms + 1000)
    assert after and Load.failures(after) == [] and {a.body for a in after} == {"v1"}
    assert Load.versions(running.answers)[-1] == "v1"


def test_a_manual_rollback_in_the_warm_period_takes_the_warm_release(
    platform: Platform, nginx: Nginx
) -> None:
    http_port = canary_tenant(platform, nginx, warm=60)
    platform.deploy("shop", image="v1")
    with load(http_port) as running:
        thread, result = in_background(lambda: platform.deploy("shop", image="v2", check=False))
        wait_for_phase(platform, "warm web")
        shown = json.loads(platform.cli("rollout", "status", "--project", "shop", "--env",
                                        "staging", "--format", "json").stdout)  # fmt: skip
        assert (shown["phase"], shown["weight"]) == ("warm web", 100)
        assert [d["step"] for d in shown["decisions"]] == ["1", "2"]
        (row,) = json.loads(platform.cli("status", "--project", "shop", "--env", "staging",
                                         "--format", "json").stdout)  # fmt: skip
        assert row["rollout"]["phase"] == "warm web" and row["lock"] is not None
        started = time.monotonic()
        rolled = platform.cli("rollback", "--project", "shop", "--env", "staging")
        took = time.monotonic() - started
        thread.join(timeout=120)
        time.sleep(0.5)
    assert rolled.returncode == 0 and "warm previous release" in rolled.stderr
    assert result[0].returncode == 5
    assert took < 30  # the deploy's own rollback checks included; not a new blue/green start
    decision = canary_events(platform)[-1].decision
    assert decision is not None
    assert decision.reason == "rolled back by a person during the warm period"
    assert Load.failures(running.answers) == []
    after = running.started_after(decision.decided_ms + 1000)
    assert after and {a.body for a in after} == {"v1"}
