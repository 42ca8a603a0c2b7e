"""status, health, history, lock (commands/hosts.py) against recording hosts: the operations
each sends (host, runtime function, arguments, order), what it makes of the typed answers, its
exit code, and that bad input sends nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from recorded_hosts import BASE, PRODUCTION, REPO, STAGING, answering, facts, ok, run

from platform_lib.models.records import HistoryEvent
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun

TENANTS = ("filter-ical", "gabs-massage", "paiss")
TARGETS = [
    (tenant, env, STAGING if env == "staging" else PRODUCTION)
    for tenant in TENANTS for env in ("staging", "production")
]  # fmt: skip
"""Every deployment of the repository's configs, in the order the commands go through them."""
PROXY_DIR = "/etc/nginx/platform"

RELEASE = {
    "release": "20260101T000000Z-abc", "project": "paiss", "environment": "staging",
    "actor": "alice", "platform_sha": "f00", "plan": "p" * 64,
    "deployed_at": "2026-01-01T00:00:00Z", "outcome": "deployed",
    "digests": {"services": {"web": "registry/paiss-web@sha256:" + "1" * 64}},
}  # fmt: skip
LOCK = {"actor": "bob", "release": "20260102T000000Z-def", "plan": "q" * 64,
        "started": "2026-01-02T00:00:00Z", "expires_epoch": 1, "pid": 42}  # fmt: skip


def test_status_reads_every_tenant_on_its_own_host_in_one_connection_each(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def answer(_run: RecordedRun) -> RunResult:
        container = {"Labels": "web", "Names": "paiss-staging-web-1", "State": "running",
                     "Status": "Up 3 minutes (healthy)"}  # fmt: skip
        return facts(current_release=RELEASE["release"], current=RELEASE, lock=LOCK,
                     containers=[container])  # fmt: skip

    hosts = answering({"platform_facts": answer})
    assert run(hosts, "status", "--format", "json") == 0

    assert hosts.operations == [
        (host, ("platform_facts", f"{BASE}/{tenant}/{env}", f"{tenant}-{env}", PROXY_DIR))
        for tenant, env, host in TARGETS
    ]
    assert sorted(hosts.transports) == sorted([STAGING, PRODUCTION])  # one connection per host
    rows = json.loads(capsys.readouterr().out)
    assert [(r["project"], r["environment"], r["host"]) for r in rows] == TARGETS
    assert {r["release"] for r in rows} == {RELEASE["release"]}
    assert {r["lock"]["actor"] for r in rows} == {"bob"}
    assert {r["health"] for r in rows} == {"1/1 up"}
    assert rows[0]["images"] == RELEASE["digests"]["services"]  # type: ignore[index]


def test_status_of_one_environment_asks_only_its_host() -> None:
    hosts = answering({"platform_facts": facts()})
    assert run(hosts, "status", "--project", "paiss", "--env", "production") == 0
    assert hosts.operations == [
        (PRODUCTION, ("platform_facts", f"{BASE}/paiss/production", "paiss-production", PROXY_DIR))
    ]


def test_status_of_an_unknown_project_sends_nothing() -> None:
    hosts = answering({})
    assert run(hosts, "status", "--project", "nope") == 2
    assert (hosts.runs, hosts.transports) == ([], {})


@pytest.mark.parametrize(
    "answer", [RunResult(0, "{not json"), RunResult(0, '{"version": 2}'), RunResult(1, "")],
    ids=["not-json", "newer-version", "failed"],
)  # fmt: skip
def test_an_unreadable_or_failed_answer_stops_status_with_exit_1(answer: RunResult) -> None:
    hosts = answering({"platform_facts": answer})
    assert run(hosts, "status") == 1
    assert len(hosts.runs) == 1  # it stopped at the first host's answer


def test_history_parses_the_events_and_skips_a_damaged_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    events = [
        {"version": 1, "at": "2026-01-01T00:00:00Z", "event": "deploy", "outcome": "deployed",
         "actor": "alice", "release": "r1", "client_disconnected": True},
        {"version": 1, "at": "2026-01-02T00:00:00Z", "event": "restore", "outcome": "restored",
         "actor": "bob", "release": "r1", "backup": "r1/database.sql.gz"},
    ]  # fmt: skip
    lines = [json.dumps(events[0]), '{"version": 1, "at": "cut sh', json.dumps(events[1])]
    hosts = answering({"platform_history": ok("\n".join(lines) + "\n")})
    assert run(hosts, "history", "--project", "paiss", "--env", "staging", "--format", "json") == 0
    assert hosts.operations == [(STAGING, ("platform_history", f"{BASE}/paiss/staging"))]
    captured = capsys.readouterr()
    parsed = [HistoryEvent.model_validate(e) for e in json.loads(captured.out)]
    assert parsed == [HistoryEvent.model_validate(e) for e in events]
    assert "history.jsonl:2 is no history event" in captured.err


def test_history_of_a_host_that_fails_exits_1() -> None:
    hosts = answering({"platform_history": RunResult(2, "")})
    assert run(hosts, "history", "--project", "paiss", "--env", "staging") == 1


def test_lock_release_breaks_the_lock_as_its_actor_and_reads_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITHUB_ACTOR", raising=False)
    monkeypatch.setenv("USER", "carol")
    hosts = answering({"platform_lock_break": ok()})
    assert run(hosts, "lock", "release", "--project", "paiss", "--env", "production") == 0
    assert hosts.operations == [(PRODUCTION, ("platform_lock_break", f"{BASE}/paiss/production"))]
    assert "PLATFORM_ACTOR=carol\n" in hosts.runs[0].script
    assert hosts.runs[0].secret_names == ()


def test_lock_release_with_a_bad_actor_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "x; rm -rf /")
    hosts = answering({})
    assert run(hosts, "lock", "release", "--project", "paiss", "--env", "staging") == 2
    assert hosts.runs == []


def test_lock_status_reads_the_facts_of_that_base_only(capsys: pytest.CaptureFixture[str]) -> None:
    hosts = answering({"platform_facts": facts(lock=LOCK)})
    assert run(hosts, "lock", "status", "--project", "paiss", "--env", "staging") == 0
    assert hosts.operations == [(STAGING, ("platform_facts", f"{BASE}/paiss/staging"))]
    assert "locked by bob" in capsys.readouterr().out


def test_health_checks_each_routed_tenant_through_the_proxy_and_fails_on_one() -> None:
    def answer(run_: RecordedRun) -> RunResult:
        failing = "gabs-massage-production" in run_.operation
        return RunResult(1 if failing else 0, ("FAIL" if failing else "ok  ") + " https://x 200")

    hosts = answering({"platform_proxy_health": answer})
    assert run(hosts, "health", "--timeout", "7") == 1
    assert hosts.operations == [
        (host, ("platform_proxy_health", PROXY_DIR, f"{tenant}-{env}", "80", "443", "7"))
        for tenant, env, host in TARGETS
    ]


def test_health_passes_when_every_route_answers() -> None:
    hosts = answering({"platform_proxy_health": ok("ok   https://paiss.me/healthz 200")})
    assert run(hosts, "health", "--project", "paiss") == 0
    assert [op[0] for _, op in hosts.operations] == ["platform_proxy_health"] * 2


def test_without_a_proxy_health_checks_each_route_at_its_container(tmp_path: Path) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    settings_file = tmp_path / "configs" / "platform.yml"
    settings = yaml.safe_load(settings_file.read_text())
    del settings["proxy"]
    settings_file.write_text(yaml.safe_dump(settings))

    def answer(run_: RecordedRun) -> RunResult:
        return RunResult(7 if run_.operation[2] == "backend" else 0, "")

    hosts = answering({"platform_http_check": answer})
    argv = ("health", "--project", "gabs-massage", "--env", "staging", "--timeout", "3")
    assert run(hosts, *argv, root=tmp_path) == 1  # its backend does not answer
    assert hosts.operations == [
        (STAGING, ("platform_http_check", "gabs-massage-staging", "frontend", "80", "/", "3")),
        (STAGING, ("platform_http_check", "gabs-massage-staging", "backend", "8000", "/health",
                   "3")),
    ]  # fmt: skip
