"""Deploys that meet each other, or die half way: the lock, and what keeps serving."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e.platform_fixture import Platform, http_get, web_tenant

from platform_lib.models.outcome import EXIT_CODES

pytestmark = pytest.mark.e2e


def _start_deploy(platform: Platform, image: str, actor: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update({
        "REGISTRY_TOKEN": Path(platform.servers.env["REGISTRY_PASSWORD_FILE"]).read_text().strip(),
        "PLATFORM_SSH_KEY": platform.servers.env["SSH_CLIENT_KEY"],
        "USER": actor,
    })  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "platform_lib", "deploy", "--project", "shop", "--env", "staging",
         "--image", f"web={image}", "--root", str(platform.root)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def _wait_for(condition: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _with_lock_wait(platform: Platform, seconds: int) -> None:
    settings = platform.settings()
    settings["timeouts"]["lock_wait"] = seconds
    platform.write_settings(settings)


def test_concurrent_deploys_are_serialized_and_the_loser_names_the_holder(
    platform: Platform,
) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")
    lock = platform.base("shop") / "lock" / "holder.json"
    _with_lock_wait(platform, 0)
    first = _start_deploy(platform, "v3", actor="alice")  # unhealthy: holds the lock ~7 s
    _wait_for(lock.exists)

    loser = platform.deploy("shop", image="v2", check=False, env={"USER": "bob"})

    assert loser.returncode == EXIT_CODES["aborted"]
    assert "another deploy holds the lock" in loser.stderr
    assert '"actor":"alice"' in loser.stderr and '"plan":' in loser.stderr
    _with_lock_wait(platform, 60)
    waiter = platform.deploy("shop", image="v2", env={"USER": "bob"})  # waits, then deploys
    first.communicate(timeout=60)
    assert first.returncode == EXIT_CODES["rolled-back"]
    assert "Take the deploy lock" in waiter.stderr
    assert http_get(platform.port("shop")) == "v2"
    events = [(e["event"], e["outcome"], e["actor"]) for e in platform.history("shop")]
    assert events == [
        ("deploy", "deployed", "alice"),
        ("deploy", "aborted", "bob"),
        ("deploy", "failed", "alice"),
        ("rollback", "restored", "alice"),
        ("deploy", "deployed", "bob"),
    ]


def test_killed_connection_mid_deploy_keeps_serving_and_recovers(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")
    before = platform.current("shop")
    registry = int((platform.servers.state / "run" / "registry.pid").read_text().strip())
    os.kill(registry, signal.SIGSTOP)  # the deploy hangs talking to the registry, lock held
    try:
        deploy = _start_deploy(platform, "v2", actor="alice")
        _wait_for((platform.base("shop") / "lock" / "holder.json").exists)
        os.killpg(deploy.pid, signal.SIGKILL)  # the deploying machine dies: ssh with it
        deploy.communicate(timeout=10)
    finally:
        os.kill(registry, signal.SIGCONT)

    assert http_get(platform.port("shop")) == "v1"
    assert platform.current("shop") == before
    status = platform.cli("lock", "status", "--project", "shop", "--env", "staging")
    if "locked by alice" in status.stdout:  # the host may not have noticed the hang-up yet
        platform.cli("lock", "release", "--project", "shop", "--env", "staging")
    platform.deploy("shop", image="v2")
    assert http_get(platform.port("shop")) == "v2"
    assert not (platform.base("shop") / "lock").exists()
