"""Canary rollouts cut short, through the real nginx under a bounded load: a deploy whose
client is killed mid-step (its process group SIGKILLed, as a cancelled CI job is) finishes
the rollout on the host and one release serves; a host script killed mid-step leaves the
split until the next deploy, which puts every request back on the current release before
anything else and leaves no weights; `rollout promote` finishes a rollout early."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

import pytest
from e2e.platform_fixture import Platform, free_port, proxy_settings, routed_tenant
from e2e.test_canary import canary_events, in_background, load, wait_for_phase
from load import Load
from nginx_harness import Nginx

pytestmark = pytest.mark.e2e

ROLLOUT = {
    "steps": [{"weight": 20, "bake": 4}, {"weight": 50, "bake": 40}],
    "thresholds": {"max_error_percent": 5, "min_requests": 20},
    "warm": 2,
}


def canary_tenant(platform: Platform, nginx: Nginx, rollout: dict[str, Any] = ROLLOUT) -> int:
    http_port = free_port()
    platform.write_settings(platform.settings(proxy=proxy_settings(nginx, http_port, free_port())))
    tenant = routed_tenant()
    tenant["manifest"]["rollout"] = {"web": rollout}
    platform.add_tenant("shop", tenant)
    return http_port


def deploy_client(platform: Platform, image: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        platform.cli_argv("deploy", "--project", "shop", "--env", "staging", "--image",
                          f"web={image}"),
        env=platform.cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def upstreams(nginx: Nginx) -> str:
    """The tenant's upstreams as nginx has them."""
    return (nginx.platform_dir / "upstreams" / "shop-staging.conf").read_text()


def wait_unlocked(platform: Platform, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (platform.base("shop") / "lock").exists():
        assert time.monotonic() < deadline, "the host script did not finish"
        time.sleep(0.2)


def test_a_canary_whose_client_is_killed_mid_step_finishes_on_the_host(
    platform: Platform, nginx: Nginx
) -> None:
    # step 2 long enough to be killed in, short enough that the host is soon through it
    short = {**ROLLOUT, "steps": [{"weight": 20, "bake": 4}, {"weight": 50, "bake": 10}]}
    http_port = canary_tenant(platform, nginx, short)
    platform.deploy("shop", image="v1")
    with load(http_port) as running:
        client = deploy_client(platform, "v2")
        wait_for_phase(platform, "canary web step 2")
        os.killpg(client.pid, signal.SIGKILL)
        client.wait()
        wait_unlocked(platform)
        finished = time.time() * 1000
        time.sleep(1)
    assert platform.current("shop") == platform.history("shop")[-1]["release"]
    after = running.started_after(finished)
    assert after and Load.failures(after) == [] and {a.body for a in after} == {"v2"}
    assert Load.failures(running.answers) == []
    assert "weight=" not in upstreams(nginx)
    assert not (platform.base("shop") / "rollout").exists()
    assert len(platform.service_containers("shop-staging", "web")) == 1


def test_a_canary_whose_host_script_is_killed_mid_step_is_undone_by_the_next_deploy(
    platform: Platform, nginx: Nginx
) -> None:
    http_port = canary_tenant(platform, nginx)
    platform.deploy("shop", image="v1")
    with load(http_port) as running:
        client = deploy_client(platform, "v2")
        wait_for_phase(platform, "canary web step 2")
        holder = json.loads((platform.base("shop") / "lock" / "holder.json").read_text())
        os.killpg(os.getpgid(holder["pid"]), signal.SIGKILL)  # the host's script, mid-step
        client.wait(timeout=60)
        assert "weight=" in upstreams(nginx)  # left split: nothing ran to undo it
        platform.cli("lock", "release", "--project", "shop", "--env", "staging")
        again = platform.deploy("shop", image="v1")
        recovered = time.time() * 1000
        time.sleep(1)
    assert "a rollout was left unfinished: back on release" in again.stderr
    last = platform.history("shop")[-1]
    assert (last["event"], last["outcome"], last["release"]) == (
        "deploy", "deployed", platform.current("shop"),
    )  # fmt: skip
    after = running.started_after(recovered)
    assert after and Load.failures(after) == [] and {a.body for a in after} == {"v1"}
    assert "weight=" not in upstreams(nginx)
    assert not (platform.base("shop") / "rollout").exists()
    assert len(platform.service_containers("shop-staging", "web")) == 1


def test_rollout_promote_finishes_a_rollout_early(platform: Platform, nginx: Nginx) -> None:
    http_port = canary_tenant(platform, nginx)
    platform.deploy("shop", image="v1")
    with load(http_port) as running:
        started = time.monotonic()
        thread, result = in_background(lambda: platform.deploy("shop", image="v2", check=False))
        wait_for_phase(platform, "canary web step 2")
        promoted = platform.cli("rollout", "promote", "--project", "shop", "--env", "staging")
        thread.join(timeout=120)
        took = time.monotonic() - started
        done = time.time() * 1000
        time.sleep(0.5)
    assert promoted.returncode == 0 and result[0].returncode == 0
    assert took < 40  # step 2 bakes 40 s: it was cut short, and the warm period skipped
    events = canary_events(platform)
    # The person's promote stands for the rest: step 2 and the warm period end at once.
    assert [(e.outcome, e.decision.step if e.decision else "") for e in events] == [
        ("passed", "1"), ("promoted", "2"), ("promoted", "warm"),
    ]  # fmt: skip
    assert platform.current("shop") == platform.history("shop")[-1]["release"]
    assert Load.failures(running.answers) == []
    after = running.started_after(done)
    assert after and {a.body for a in after} == {"v2"}
    assert "weight=" not in upstreams(nginx)
