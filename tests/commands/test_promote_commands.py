"""promote (commands/promote.py) against recording hosts: it reads production, then staging,
shows the policy's decision (markdown or a TenantPreview), and with `--yes` sends production
exactly the plan of the decision it showed, from that one read; a refusal, nothing to deploy
or a "no" sends no plan. Exit codes: 0, the outcome's (3-6), 1 a refusal, 7 nothing to deploy."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from recorded_hosts import (
    BASE,
    PRODUCTION,
    STAGING,
    answering,
    checkout,
    facts,
    outcome,
    plans,
    run,
)

from platform_lib.models.outcome import OutcomeName
from platform_lib.models.records import Digests, ReleaseRecord
from platform_lib.planning.promotion import Deploy, Refuse, Skip
from platform_lib.planning.promotion_preview import ImageChange, TenantPreview, render_markdown
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun, RecordingHosts

WEB = "ghcr.io/example-org/paiss-web"
D1, D2 = f"{WEB}@sha256:{'1' * 64}", f"{WEB}@sha256:{'2' * 64}"
STAGED, RUNNING = "20260102T000000Z-aaaaaaaa", "20260101T000000Z-bbbbbbbb"
READS = [
    (PRODUCTION, ("platform_facts", f"{BASE}/paiss/production")),
    (STAGING, ("platform_facts", f"{BASE}/paiss/staging")),
]
"""What every promote of paiss reads first: the target, then the environment it deploys after."""


def release(env: str, name: str, made_from: str, web: str) -> ReleaseRecord:
    return ReleaseRecord(release=name, project="paiss", environment=env, platform_sha=made_from,
                         outcome="deployed", digests=Digests(services={"web": web}))  # fmt: skip


def state(record: ReleaseRecord | None) -> RunResult:
    if record is None:
        return facts()
    return facts(current_release=record.release, current=record.model_dump(mode="json"),
                 releases=[record.model_dump(mode="json")])  # fmt: skip


def promoting(
    staging: ReleaseRecord | None,
    production: ReleaseRecord | None,
    plan: OutcomeName = "deployed",
) -> RecordingHosts:
    """Hosts whose staging runs `staging` and production `production`; a plan gets `plan`."""

    def read(run_: RecordedRun) -> RunResult:
        return state(staging if run_.operation[1].endswith("/staging") else production)

    previous = production.release if production else None
    return answering({"platform_facts": read, "<plan>": outcome(plan, previous)})


def upgrade(head: str, plan: OutcomeName = "deployed") -> RecordingHosts:
    """Staging runs D1, production D2, both made from `head`."""
    return promoting(release("staging", STAGED, head, D1), release("production", RUNNING, head,
                                                                   D2), plan)  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    return checkout(tmp_path)


def promote(hosts: RecordingHosts, root: Path, *argv: str) -> int:
    return run(hosts, "promote", "--project", "paiss", *argv, root=root)


def shown(capsys: pytest.CaptureFixture[str]) -> TenantPreview:
    return TenantPreview.model_validate_json(capsys.readouterr().out)


def test_the_json_preview_is_the_decision_from_both_reads_and_sends_no_plan(
    repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, head = repo
    hosts = upgrade(head)
    assert promote(hosts, root, "--preview", "--format", "json") == 0
    assert hosts.operations == READS
    preview = shown(capsys)
    assert preview.decision == Deploy(
        images={"web": D1}, source_release=STAGED, note=preview.decision.note
    )
    assert (preview.running_release, preview.config_baseline) == (RUNNING, head)
    assert preview.images == (ImageChange(service="web", running=D2, to=D1),)


def test_the_markdown_preview_renders_that_same_preview(
    repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, head = repo
    assert promote(upgrade(head), root, "--preview", "--format", "json") == 0
    preview = shown(capsys)
    hosts = upgrade(head)
    assert promote(hosts, root, "--preview") == 0
    assert capsys.readouterr().out == render_markdown([preview])
    assert hosts.operations == READS


def test_yes_deploys_exactly_the_digests_it_showed_from_the_one_read(
    repo: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_TOKEN", "registry-t0ken")
    root, head = repo
    hosts = upgrade(head)
    assert promote(hosts, root, "--yes", "--format", "json") == 0
    preview = shown(capsys)
    assert isinstance(preview.decision, Deploy)
    assert hosts.operations == [*READS, (PRODUCTION, ())]  # no second read before the plan
    ((host, plan),) = plans(hosts)
    assert (host, plan.kind, plan.images) == (PRODUCTION, "deploy", preview.decision.images)
    assert hosts.runs[-1].secret_names == ("REGISTRY_TOKEN",)
    assert "registry-t0ken" not in hosts.runs[-1].script


def test_production_running_nothing_gets_staging_s_digests(
    repo: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_TOKEN", "registry-t0ken")
    root, head = repo
    hosts = promoting(release("staging", STAGED, head, D1), None)
    assert promote(hosts, root, "--yes", "--format", "json") == 0
    preview = shown(capsys)
    assert (preview.running_release, preview.config_baseline) == (None, None)
    assert preview.images == (ImageChange(service="web", running=None, to=D1),)
    assert [(host, plan.images) for host, plan in plans(hosts)] == [(PRODUCTION, {"web": D1})]


@pytest.mark.parametrize("flag", ["--yes", "--preview"])
def test_a_refusal_is_shown_and_sends_no_plan(
    flag: str, repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _head = repo  # staging's release was not made from a commit of this checkout
    hosts = promoting(release("staging", STAGED, "unknown", D1), None)
    assert promote(hosts, root, flag, "--format", "json") == (1 if flag == "--yes" else 0)
    assert isinstance(shown(capsys).decision, Refuse)
    assert hosts.operations == READS


def test_staging_running_nothing_is_nothing_to_deploy_exit_7(
    repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _head = repo
    hosts = promoting(None, None)
    assert promote(hosts, root, "--yes", "--format", "json") == 7
    assert isinstance(shown(capsys).decision, Skip)
    assert hosts.operations == READS


@pytest.mark.parametrize(
    ("answer", "code"),
    [("rollback-failed", 3), ("aborted", 4), ("rolled-back", 5)],
)
def test_a_promotion_that_fails_on_the_host_exits_with_its_outcome(
    answer: OutcomeName, code: int, repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_TOKEN", "registry-t0ken")
    root, head = repo
    hosts = upgrade(head, answer)
    assert promote(hosts, root, "--yes") == code
    assert [host for host, _plan in plans(hosts)] == [PRODUCTION]


def test_a_host_that_sends_no_outcome_record_is_exit_6(
    repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_TOKEN", "registry-t0ken")
    root, head = repo
    staging = release("staging", STAGED, head, D1)
    hosts = answering({"platform_facts": lambda r: state(staging if "staging" in r.operation[1]
                       else None), "<plan>": RunResult(255, "")})  # fmt: skip
    assert promote(hosts, root, "--yes") == 6


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "code", "sent"), [("n\n", 1, 0), ("y\n", 0, 1)])
def test_asked_at_a_terminal_only_a_yes_sends_the_plan(
    typed: str, code: int, sent: int, repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_TOKEN", "registry-t0ken")
    monkeypatch.setattr(sys, "stdin", Terminal(typed))
    root, head = repo
    hosts = promoting(release("staging", STAGED, head, D1), None)
    assert promote(hosts, root) == code
    assert hosts.operations == READS + [(PRODUCTION, ())] * sent


def test_without_a_terminal_or_yes_it_refuses_to_ask_and_sends_no_plan(
    repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    root, head = repo
    hosts = promoting(release("staging", STAGED, head, D1), None)
    assert promote(hosts, root) == 2
    assert hosts.operations == READS


def test_an_environment_that_deploys_after_none_sends_nothing(repo: tuple[Path, str]) -> None:
    root, _head = repo
    hosts = answering({})
    assert promote(hosts, root, "--env", "staging", "--yes") == 2
    assert (hosts.runs, hosts.transports) == ([], {})
