"""A deploy whose client is killed (a cancelled CI job SIGKILLs its process group, ssh with
it) runs on the host to its end: the release is deployed, the lock and the registry login are
gone, the host's log holds what it did after the client went, and its history event says the
client had disconnected (the connection is the client's own, no shared master outlives it)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

import pytest
from e2e.platform_fixture import Platform, http_get, web_tenant

pytestmark = pytest.mark.e2e


def killed_mid_deploy(platform: Platform, image: str) -> list[dict[str, Any]]:
    """Deploy `image`, SIGKILL the client's process group once the host pulls, and wait for
    the host script to end: the history events it wrote."""
    before = len(platform.history("shop"))
    logs = platform.base("shop") / "logs"
    first = set(logs.iterdir())
    client = subprocess.Popen(
        platform.cli_argv("deploy", "--project", "shop", "--env", "staging", "--image",
                          f"web={image}"),
        env=platform.cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    # Killed once the host script has logged in and pulls (its own log says so).
    while not any("Pull every image" in p.read_text() for p in set(logs.iterdir()) - first):
        assert time.monotonic() < deadline and client.poll() is None, "the deploy never pulled"
        time.sleep(0.05)
    os.killpg(client.pid, signal.SIGKILL)
    client.wait()
    while len(platform.history("shop")) == before or (platform.base("shop") / "lock").exists():
        assert time.monotonic() < deadline, "the host script did not finish"
        time.sleep(0.5)
    return platform.history("shop")[before:]


def test_a_deploy_whose_client_is_killed_finishes_on_the_host(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")

    [event] = killed_mid_deploy(platform, "v2")

    assert (event["event"], event["outcome"]) == ("deploy", "deployed")
    assert event["client_disconnected"] is True
    release = platform.current("shop")
    assert release == event["release"]
    assert list((platform.base("shop") / "logins").iterdir()) == []
    logs = platform.base("shop") / "logs"
    log = (logs / f"{release}.deploy.log").read_text()
    assert "Record the release" in log  # written after the client had gone
    assert (logs / f"{release}.deploy.log.client-gone").exists()


def test_a_failed_deploy_whose_client_is_killed_rolls_back_and_says_so(
    platform: Platform,
) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v2")
    good = platform.current("shop")

    events = killed_mid_deploy(platform, "v3")  # v3 never becomes healthy

    assert [(e["event"], e["outcome"], e["client_disconnected"]) for e in events] == [
        ("deploy", "failed", True),
        ("rollback", "restored", True),
    ]
    assert platform.current("shop") == good
    assert http_get(platform.port("shop")) == "v2"
    assert list((platform.base("shop") / "logins").iterdir()) == []


def test_a_deploy_whose_client_stays_records_no_disconnection(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")
    event = platform.history("shop")[-1]
    assert (event["outcome"], event["client_disconnected"]) == ("deployed", False)
    assert not list((platform.base("shop") / "logs").glob("*.client-gone"))
