"""`github notify-approval`: a run reaching a production gate is announced as
`approval.waiting` to the platform's and the tenant's sinks, their secrets picked from
PLATFORM_SECRETS as actions/apply hands them; a broken sink never fails it nor holds it up
beyond the limits. Real HTTP to 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from receiver import Receiver, receiver

from platform_lib.cli import main
from platform_lib.notifications.signing import verify

KEY = "k3y-0123456789"
SETTINGS = """\
registry: {host: ghcr.io, namespace: example-org}
environments:
  staging:
    hosts: {staging-1: {kind: local}}
  production:
    requires_approval: true
    approvals: 2
    deploy_after: staging
    hosts: {prod-1: {kind: local}}
    notifications:
      - {kind: webhook, url_secret: PLATFORM_HOOK_URL, key_secret: PLATFORM_HOOK_KEY}
github:
  repository: example-org/platform
  production_reviewers: [alice, bob, carol]
notification_limits: {timeout: 0.3, retries: 2, budget: 1.5}
"""
MANIFEST = """\
app_repository: example-org/shop
notifications:
  production:
    - {kind: slack, url_secret: TEAM_SLACK, events: [approval.waiting]}
"""
IMAGE = "web=ghcr.io/example-org/shop@sha256:" + "a" * 64


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "configs" / "shop").mkdir(parents=True)
    (tmp_path / "configs" / "platform.yml").write_text(SETTINGS, encoding="utf-8")
    (tmp_path / "configs" / "shop" / "project.yml").write_text(MANIFEST, encoding="utf-8")
    for name in ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "PLATFORM_APP_COMMIT", "PLATFORM_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_ACTOR", "dave")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    return tmp_path


@pytest.fixture
def sinks(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Receiver, Receiver]]:
    with receiver() as hook, receiver() as slack:
        secrets = {"PLATFORM_HOOK_URL": hook.url, "PLATFORM_HOOK_KEY": KEY,
                   "TEAM_SLACK": slack.url, "DEPLOY_SSH_KEY": "ssh-s3cr3t"}  # fmt: skip
        monkeypatch.setenv("PLATFORM_SECRETS", json.dumps(secrets))
        yield hook, slack


def run(
    root: Path, capsys: pytest.CaptureFixture[str], env: str = "production"
) -> tuple[int, Any, str]:
    argv = ["github", "notify-approval", "--root", str(root), "--project", "shop",
            "--env", env, "--event", "waiting", "--run", "4242", "--image", IMAGE]  # fmt: skip
    code = main(argv)
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_waiting_is_sent_to_the_platforms_and_the_tenants_sinks(
    root: Path, sinks: tuple[Receiver, Receiver], capsys: pytest.CaptureFixture[str]
) -> None:
    hook, slack = sinks
    code, report, err = run(root, capsys)
    assert code == 0
    assert [(d["sink"], d["delivered"]) for d in report["deliveries"]] == [
        ("webhook PLATFORM_HOOK_URL", True),
        ("slack SHOP__TEAM_SLACK", True),
    ]
    (request,) = hook.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["x-platform-event"] == "approval.waiting"
    assert verify(KEY, headers["x-platform-timestamp"], headers["x-platform-signature"],
                  request.body, int(time.time()))  # fmt: skip
    event = json.loads(request.body)
    assert (event["kind"], event["project"], event["environment"], event["actor"]) == (
        "approval.waiting",
        "shop",
        "production",
        "dave",
    )
    assert event["approvals"] == {"given": 0, "needed": 2}
    assert event["run_url"] == "https://github.example/example-org/platform/actions/runs/4242"
    assert event["images"] == {"web": IMAGE.partition("=")[2]}
    assert len(slack.requests) == 1 and b"blocks" in slack.requests[0].body
    for secret in (hook.url, slack.url, KEY, "ssh-s3cr3t"):
        assert secret not in err


@pytest.mark.parametrize(("status", "delay"), [(500, 0.0), (200, 5.0)], ids=["500", "hung"])
def test_a_broken_sink_neither_fails_nor_holds_it_up(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    status: int, delay: float,
) -> None:  # fmt: skip
    with receiver(status=status, delay=delay) as hook:
        monkeypatch.setenv("PLATFORM_SECRETS", json.dumps(
            {"PLATFORM_HOOK_URL": hook.url, "PLATFORM_HOOK_KEY": KEY}))  # fmt: skip
        started = time.monotonic()
        code, report, err = run(root, capsys)
        spent = time.monotonic() - started
    assert code == 0
    assert spent < 1.5 + 1  # the event's budget, and the process's own start
    webhook, slack = report["deliveries"]
    assert (webhook["delivered"], slack["delivered"], slack["reason"]) == (False, False, "not set")
    assert err.count("not delivered") == 2


def test_an_environment_without_approval_announces_nothing(
    root: Path, sinks: tuple[Receiver, Receiver], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = run(root, capsys, env="staging")
    assert (code, report["needed"], report["deliveries"]) == (0, 0, [])
    assert sinks[0].requests == sinks[1].requests == []


def test_secrets_that_are_not_json_are_a_usage_error(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLATFORM_SECRETS", "not json")
    argv = ["github", "notify-approval", "--root", str(root), "--project", "shop", "--run", "1"]
    assert main(argv) == 2
    assert "PLATFORM_SECRETS is not JSON" in capsys.readouterr().err
