"""`proxy refresh` and canary rollouts, through the real nginx under a bounded load: a refresh
while a rollout runs writes its upstreams again with the split its step set (its deploy goes
on and finishes); a refresh after a rollout's host script was killed (mid-step, or in the warm
period with the old containers paused) undoes what it left, as the next deploy would, and
says so: every request on the current release, no weights, one container."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import pytest
from e2e.platform_fixture import Platform
from e2e.test_canary import in_background, load, wait_for_phase
from e2e.test_canary_interrupted import ROLLOUT, canary_tenant, deploy_client, upstreams
from load import Load
from nginx_harness import Nginx

from platform_lib.models.host_state import ProxyRefreshed

pytestmark = pytest.mark.e2e

WARM = {
    "steps": [{"weight": 50, "bake": 2}],
    "thresholds": {"max_error_percent": 5, "min_requests": 1},
    "warm": 40,
}
"""A short step, then a long warm period (the old containers paused, out of traffic)."""


def refresh(platform: Platform) -> list[ProxyRefreshed]:
    done = platform.cli("proxy", "refresh", "--project", "shop", "--env", "staging",
                        "--format", "json")  # fmt: skip
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    assert [(row.pop("project"), row.pop("env")) for row in rows] == [("shop", "staging")]
    return [ProxyRefreshed.model_validate(row) for row in rows]


def rolling_out(platform: Platform) -> str:
    """The release of the rollout in progress, as `status` reads it."""
    rows = json.loads(platform.cli("status", "--project", "shop", "--env", "staging",
                                   "--format", "json").stdout)  # fmt: skip
    release: str = rows[0]["rollout"]["release"]
    return release


def test_a_refresh_during_a_rollout_keeps_its_split(platform: Platform, nginx: Nginx) -> None:
    http_port = canary_tenant(platform, nginx)
    platform.deploy("shop", image="v1")
    with load(http_port) as running:
        thread, result = in_background(lambda: platform.deploy("shop", image="v2", check=False))
        wait_for_phase(platform, "canary web step 2")
        release, split = rolling_out(platform), upstreams(nginx)
        done = refresh(platform)
        refreshed = upstreams(nginx)
        platform.cli("rollout", "promote", "--project", "shop", "--env", "staging")
        thread.join(timeout=120)
    assert done == [ProxyRefreshed(routes="rollout", release=release)]
    # 50% on one old and one new container, as step 2 set it.
    assert refreshed == split and refreshed.count("weight=50;") == 2
    assert result[0].returncode == 0 and platform.current("shop") == release
    assert Load.failures(running.answers) == []
    assert "weight=" not in upstreams(nginx)


@pytest.mark.parametrize(
    ("rollout", "phase"), [(ROLLOUT, "canary web step 2"), (WARM, "warm web")], ids=["step", "warm"]
)
def test_a_refresh_after_a_killed_rollout_puts_every_request_on_the_current_release(
    platform: Platform, nginx: Nginx, rollout: dict[str, Any], phase: str
) -> None:
    http_port = canary_tenant(platform, nginx, rollout)
    platform.deploy("shop", image="v1")
    current = platform.current("shop")
    with load(http_port) as running:
        client = deploy_client(platform, "v2")
        wait_for_phase(platform, phase)
        release = rolling_out(platform)
        holder = json.loads((platform.base("shop") / "lock" / "holder.json").read_text())
        os.killpg(os.getpgid(holder["pid"]), signal.SIGKILL)  # the host's script
        client.wait(timeout=60)
        platform.cli("lock", "release", "--project", "shop", "--env", "staging")
        done = refresh(platform)
        refreshed = time.time() * 1000
        time.sleep(1)
    assert done == [
        ProxyRefreshed(routes="installed", release=current, undone=True, undone_release=release)
    ]
    after = running.started_after(refreshed)
    assert after and Load.failures(after) == [] and {a.body for a in after} == {"v1"}
    assert "weight=" not in upstreams(nginx)
    assert not (platform.base("shop") / "rollout").exists()
    assert len(platform.service_containers("shop-staging", "web")) == 1
    # Nothing left to put right: a second refresh is a plain one.
    assert refresh(platform) == [ProxyRefreshed(routes="installed", release=current)]


def test_a_refresh_without_a_rollout_says_nothing_was_undone(
    platform: Platform, nginx: Nginx
) -> None:
    canary_tenant(platform, nginx)
    platform.deploy("shop", image="v1")
    before = upstreams(nginx)
    assert refresh(platform) == [
        ProxyRefreshed(routes="installed", release=platform.current("shop"))
    ]
    assert upstreams(nginx) == before
