"""`deploy` on the command line with a broken webhook: the exit code is the deploy's own, in
bounded time. The host side is a stand-in (`execution.deploy.deploy` returns a plan or raises)
since a real deploy needs the servers; the notifications go over real HTTP to 127.0.0.1."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from receiver import receiver

from platform_lib.cli import main
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.errors import ApplyError
from platform_lib.execution import deploy as execution
from platform_lib.models.plan import Plan
from platform_lib.planning.builder import PlanRequest, build_plan

REPO = Path(__file__).resolve().parents[2]
SINK = (
    "    notifications:\n"
    "      - {kind: webhook, url_secret: PLATFORM_HOOK_URL, key_secret: PLATFORM_HOOK_KEY}\n"
)
LIMITS = "notification_limits: {timeout: 0.3, retries: 2, budget: 1.5}\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    settings = tmp_path / "configs" / "platform.yml"
    text = settings.read_text(encoding="utf-8")
    start = text.index("    hosts:\n      staging-1:")
    end = text.index("  production:")
    text = text[:start] + "    hosts:\n      local-1: {kind: local}\n" + SINK + text[end:]
    settings.write_text(text + LIMITS, encoding="utf-8")
    return tmp_path


def fake_deploy(outcome: str):  # type: ignore[no-untyped-def]
    def deploy(config, request: PlanRequest, hosts, environ, log, **_where) -> Plan:  # type: ignore[no-untyped-def]
        if outcome == "fails":
            raise ApplyError("deploy of paiss/staging failed at step 'up'")
        return build_plan(config, request)

    return deploy


@pytest.mark.parametrize(("outcome", "code"), [("succeeds", 0), ("fails", 1)])
@pytest.mark.parametrize("status", [500, 200])
def test_a_broken_webhook_cannot_change_the_exit_code(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    outcome: str, code: int, status: int,
) -> None:  # fmt: skip
    load_valid_config(read_sources(root))  # the edited settings are valid
    monkeypatch.setattr(execution, "deploy", fake_deploy(outcome))
    with receiver(status=status) as hook:
        monkeypatch.setenv("PLATFORM_HOOK_URL", hook.url)
        monkeypatch.setenv("PLATFORM_HOOK_KEY", "k3y-0123456789")
        started = time.monotonic()
        argv = ["deploy", "--root", str(root), "--project", "paiss", "--env", "staging",
                "--image", "web=v1.2.3", "--actor", "alice", "--platform-sha", "abc"]  # fmt: skip
        assert main(argv) == code
        spent = time.monotonic() - started
    assert spent < 2 * 1.5 + 2  # two events, each within its budget
    kinds = [r.headers["X-Platform-Event"] for r in hook.requests]
    last = "deploy.succeeded" if outcome == "succeeds" else "deploy.failed"
    assert kinds[0] == "deploy.started" and kinds[-1] == last
    # 500: retried, at most `retries` times per event, within its budget.
    assert len(kinds) == 2 if status == 200 else 4 <= len(kinds) <= 6
    err = capsys.readouterr().err
    assert hook.url not in err and "s3cr3t" not in err and "k3y-0123456789" not in err
    assert err.count("not delivered") == (0 if status == 200 else 2)
