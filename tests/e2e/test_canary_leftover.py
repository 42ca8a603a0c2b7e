"""A rollout whose host script was killed, undone by whatever next takes the deploy lock,
through the real nginx under a bounded load: a deploy without canary steps (its `rollout:`
removed since) undoes it first, as one with them does; so does a deploy that finds the old
containers already unpaused (killed in the retire, as it unpaused them to stop them)."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from e2e.platform_fixture import Platform, routed_tenant
from e2e.test_canary import load, wait_for_phase
from e2e.test_canary_interrupted import ROLLOUT, canary_tenant, deploy_client, upstreams
from e2e.test_proxy_refresh_rollout import WARM
from load import Load
from nginx_harness import Nginx

pytestmark = pytest.mark.e2e


def kill_host_script(platform: Platform) -> None:
    holder = json.loads((platform.base("shop") / "lock" / "holder.json").read_text())
    os.killpg(os.getpgid(holder["pid"]), signal.SIGKILL)


def paused(platform: Platform) -> list[str]:
    ids = platform.service_containers("shop-staging", "web")
    states = platform.servers.docker("inspect", "-f", "{{.State.Paused}}", *ids).split()
    return [i for i, state in zip(ids, states, strict=True) if state == "true"]


@pytest.mark.parametrize("phase", ["canary web step 2", "warm web"], ids=["step", "warm"])
def test_a_deploy_without_a_rollout_undoes_the_one_left_unfinished(
    platform: Platform, nginx: Nginx, phase: str
) -> None:
    http_port = canary_tenant(platform, nginx, WARM if phase == "warm web" else ROLLOUT)
    platform.deploy("shop", image="v1")
    with load(http_port) as running:
        client = deploy_client(platform, "v2")
        wait_for_phase(platform, phase)
        kill_host_script(platform)
        client.wait(timeout=60)
        platform.cli("lock", "release", "--project", "shop", "--env", "staging")
        platform.add_tenant("shop", routed_tenant())  # `rollout:` removed since
        again = platform.deploy("shop", image="v1")
        deployed = time.time() * 1000
        time.sleep(1)
    assert "a rollout was left unfinished: back on release" in again.stderr
    assert platform.history("shop")[-1]["outcome"] == "deployed"
    after = running.started_after(deployed)
    assert after and Load.failures(after) == [] and {a.body for a in after} == {"v1"}
    assert "weight=" not in upstreams(nginx)
    assert not (platform.base("shop") / "rollout").exists()
    assert len(platform.service_containers("shop-staging", "web")) == 1 and paused(platform) == []
    rows = json.loads(platform.cli("status", "--project", "shop", "--env", "staging",
                                   "--format", "json").stdout)  # fmt: skip
    assert rows[0].get("rollout") is None


def test_a_rollout_killed_as_its_old_containers_were_unpaused_is_undone(
    platform: Platform, nginx: Nginx
) -> None:
    http_port = canary_tenant(platform, nginx, WARM)
    platform.deploy("shop", image="v1")
    with load(http_port) as running:
        client = deploy_client(platform, "v2")
        wait_for_phase(platform, "warm web")
        kill_host_script(platform)
        client.wait(timeout=60)
        # What the retire does first, before it stops them: the paused ones unpaused.
        platform.servers.docker("unpause", *paused(platform))
        platform.cli("lock", "release", "--project", "shop", "--env", "staging")
        again = platform.deploy("shop", image="v1")
        deployed = time.time() * 1000
        time.sleep(1)
    assert "a rollout was left unfinished: back on release" in again.stderr
    after = running.started_after(deployed)
    assert after and Load.failures(after) == [] and {a.body for a in after} == {"v1"}
    assert not (platform.base("shop") / "rollout").exists()
    assert len(platform.service_containers("shop-staging", "web")) == 1 and paused(platform) == []
