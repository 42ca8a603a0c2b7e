"""proxy refresh and prune (commands/proxy.py) against recording hosts: which operation goes
to which host with which arguments, in which order; a config without a proxy sends nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from recorded_hosts import BASE, PRODUCTION, REPO, STAGING, answering, ok, run

from platform_lib.models.host_state import ProxyRefreshed
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun

PROXY = ("/etc/nginx/platform", "/etc/nginx/nginx.conf", "/run/nginx.pid")
"""proxy.dir, nginx_conf and pid_file of the repository's configs/platform.yml."""
PROJECTS = ("filter-ical", "gabs-massage", "paiss")
REFRESHED = ok(ProxyRefreshed(routes="installed", release="r1").model_dump_json())


def test_refresh_reinstalls_every_routed_deployment_under_the_lock_as_its_actor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "ops-lead")
    hosts = answering({"platform_proxy_refresh": REFRESHED})
    assert run(hosts, "proxy", "refresh") == 0
    # lock_wait from the settings (300), lock_expiry its default (3600)
    assert hosts.operations == [
        (STAGING if env == "staging" else PRODUCTION,
         ("platform_proxy_refresh", f"{BASE}/{p}/{env}", f"{p}-{env}", *PROXY, "ops-lead",
          "300", "3600"))
        for p in PROJECTS for env in ("staging", "production")
    ]  # fmt: skip


def test_refresh_of_one_tenant_environment_touches_only_it() -> None:
    hosts = answering({"platform_proxy_refresh": REFRESHED})
    assert run(hosts, "proxy", "refresh", "--project", "paiss", "--env", "staging") == 0
    assert [(host, op[:2]) for host, op in hosts.operations] == [
        (STAGING, ("platform_proxy_refresh", f"{BASE}/paiss/staging"))
    ]
    assert list(hosts.transports) == [STAGING]


def test_refresh_as_json_says_what_each_refresh_did(capsys: pytest.CaptureFixture[str]) -> None:
    undone = ProxyRefreshed(routes="installed", release="r1", undone=True, undone_release="r2")
    hosts = answering({"platform_proxy_refresh": ok(undone.model_dump_json())})
    assert run(hosts, "proxy", "refresh", "--project", "paiss", "--env", "staging",
               "--format", "json") == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)
    assert [(r.pop("project"), r.pop("env")) for r in rows] == [("paiss", "staging")]
    assert [ProxyRefreshed.model_validate(r) for r in rows] == [undone]


def test_an_unreadable_refresh_answer_is_an_error_not_a_traceback() -> None:
    hosts = answering({"platform_proxy_refresh": ok("not json")})
    assert run(hosts, "proxy", "refresh", "--project", "paiss", "--env", "staging") == 1


def test_a_refresh_that_fails_on_the_host_stops_with_exit_1() -> None:
    hosts = answering({"platform_proxy_refresh": RunResult(1, "")})
    assert run(hosts, "proxy", "refresh") == 1
    assert len(hosts.runs) == 1


def test_prune_keeps_the_projects_placed_on_each_host(capsys: pytest.CaptureFixture[str]) -> None:
    def answer(run_: RecordedRun) -> RunResult:
        return ok("old-tenant-staging\n" if run_.host == STAGING else "")

    hosts = answering({"platform_proxy_prune": answer})
    assert run(hosts, "proxy", "prune") == 0
    assert hosts.operations == [
        (STAGING, ("platform_proxy_prune", *PROXY, "0", *(f"{p}-staging" for p in PROJECTS))),
        (PRODUCTION, ("platform_proxy_prune", *PROXY, "0",
                      *(f"{p}-production" for p in PROJECTS))),
    ]  # fmt: skip
    assert "old-tenant-staging" in capsys.readouterr().out


def test_prune_dry_run_says_so_to_the_host() -> None:
    hosts = answering({"platform_proxy_prune": ok()})
    assert run(hosts, "proxy", "prune", "--dry-run") == 0
    assert [op[4] for _, op in hosts.operations] == ["1", "1"]


@pytest.fixture
def without_proxy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    settings_file = tmp_path / "configs" / "platform.yml"
    settings = yaml.safe_load(settings_file.read_text())
    del settings["proxy"]
    settings_file.write_text(yaml.safe_dump(settings))
    return tmp_path


@pytest.mark.parametrize("action", ["refresh", "prune"])
def test_without_a_proxy_section_nothing_is_sent(without_proxy: Path, action: str) -> None:
    hosts = answering({})
    assert run(hosts, "proxy", action, root=without_proxy) == 2
    assert (hosts.runs, hosts.transports) == ([], {})
