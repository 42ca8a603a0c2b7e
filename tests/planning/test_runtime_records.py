"""The records the host writes (release.json, history events, the lock holder, the facts)
come from the runtime's one JSON writer and validate against their models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_harness import run_runtime

from platform_lib.execution.host_state import parse_history
from platform_lib.models.host_state import HostState
from platform_lib.models.plan import PlanGrant
from platform_lib.models.records import HistoryEvent, LockHolder, ReleaseDraft, ReleaseRecord
from platform_lib.planning.canonical import canonical_json

# Text a host may hold: any character bash can carry (no NUL), quotes, escapes, controls.
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))


@settings(max_examples=60, deadline=None)
# A key's first character may be the writer's marker ('#' raw JSON, '?' null when empty):
# keys are the runtime's own names, values any text.
@given(key=TEXT.filter(lambda k: k != "" and k[0] not in "#?"), value=TEXT)
def test_the_writer_encodes_any_text(
    key: str, value: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = tmp_path_factory.mktemp("json")
    done = run_runtime(
        """platform_json_object '#n' 7 '?none' '' "$KEY" "$VALUE" """,
        base, env={"KEY": key, "VALUE": value},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"n": 7, "none": None} | {key: value}


def test_extend_adds_members_to_a_drafted_object(tmp_path: Path) -> None:
    done = run_runtime(
        """printf '%s\\n' "$(platform_json_extend '{"a":1}' b x '#c' '{"d":[]}')" \
          "$(platform_json_extend '{}' b x)" "$(platform_json_extend '{"a":1}')" """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"a": 1, "b": "x", "c": {"d": []}},
        {"b": "x"},
        {"a": 1},
    ]
    assert run_runtime("platform_json_extend 'not json' b x", tmp_path).returncode == 1
    assert run_runtime("platform_json_object key", tmp_path).returncode == 1


def staged(base: Path) -> Path:
    release = base / "releases" / "r9"
    release.mkdir(parents=True)
    draft = ReleaseDraft(
        release="r9", project="shop", environment="staging", compose_project="shop-staging",
        actor="alice", platform_sha="abc", images={"web": "registry/web:v1"},
        grants=(PlanGrant(rule="policy.devices", service="web", reason='needs "gpu" \\ ok'),),
    )  # fmt: skip
    (release / "release.draft.json").write_text(canonical_json(draft.model_dump(mode="json")))
    return release


def test_the_release_record_is_the_draft_and_what_the_host_knows(tmp_path: Path) -> None:
    release = staged(tmp_path)
    (release / "digests.json").write_text('{"services":{"web":"registry/web@sha256:aa"}}\n')

    done = run_runtime(f"platform_record_release {tmp_path} r9", tmp_path)

    assert done.returncode == 0, done.stderr
    record = ReleaseRecord.model_validate_json((release / "release.json").read_text())
    assert record.grants[0].reason == 'needs "gpu" \\ ok'  # the plan's grants, on the host
    assert (record.plan, record.outcome, record.actor) == ("plan", "deployed", "alice")
    assert record.digests.services == {"web": "registry/web@sha256:aa"}
    assert record.deployed_at.endswith("Z")
    (event,) = parse_history((tmp_path / "history.jsonl").read_text(), str(tmp_path), print)
    assert (event.version, event.event, event.outcome, event.release) == (
        1, "deploy", "deployed", "r9"
    )  # fmt: skip


def test_digests_are_written_by_the_writer(tmp_path: Path, fake_bin: Path) -> None:
    release = tmp_path / "releases" / "r9"
    release.mkdir(parents=True)
    (fake_bin / "docker").write_text(
        "#!/bin/sh\nprintf 'registry/web@sha256:aa other@sha256:bb \\n\\n'\n"
    )
    (fake_bin / "docker").chmod(0o755)
    done = run_runtime(
        f"platform_resolve_digests {tmp_path} r9 web=registry/web:v1 'db=postgres:16'",
        tmp_path, path=str(fake_bin),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((release / "digests.json").read_text()) == {
        "services": {"web": "registry/web@sha256:aa", "db": "postgres:16"}
    }


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def test_the_lock_holder_and_failure_events_validate(tmp_path: Path) -> None:
    script = (
        "trap platform_on_exit EXIT\nplatform_rollback_plan() { :; }\n"
        f"platform_step lock Lock 30 abort -- platform_lock_acquire {tmp_path} "
        "$'al\"ice' r9 5 60\n"
        f"cp {tmp_path}/lock/holder.json {tmp_path}/holder.copy\n"
        "platform_step switch Switch 30 rollback -- platform_die $'compose said \"no\"\\ttab'\n"
    )
    done = run_runtime(script, tmp_path)
    assert done.returncode == 5
    holder = LockHolder.model_validate_json((tmp_path / "holder.copy").read_text())
    assert (holder.actor, holder.release, holder.plan, holder.version) == (
        'al"ice',
        "r9",
        "plan",
        1,
    )
    events = parse_history((tmp_path / "history.jsonl").read_text(), str(tmp_path), print)
    assert [(e.event, e.outcome, e.step, e.reason) for e in events] == [
        ("deploy", "failed", "switch", 'compose said "no"\ttab')
    ]


def test_facts_validate_as_host_state(tmp_path: Path) -> None:
    release = staged(tmp_path)
    (release / "digests.json").write_text('{"services":{}}')
    assert run_runtime(f"platform_record_release {tmp_path} r9", tmp_path).returncode == 0
    (tmp_path / "lock").mkdir()  # a lock being taken: no holder yet

    done = run_runtime(f"platform_facts {tmp_path}", tmp_path)

    assert done.returncode == 0, done.stderr
    state = HostState.model_validate_json(done.stdout)
    assert state.current_release == "r9" and state.current is not None
    assert [r.release for r in state.releases] == ["r9"]
    assert state.lock == LockHolder()


def test_history_lines_of_older_hosts_and_broken_lines(tmp_path: Path) -> None:
    old = json.dumps({"at": "2026-01-01T00:00:00Z", "event": "deploy", "outcome": "deployed",
                      "release": "r1", "plan": "p", "actor": "a", "step": ""})  # fmt: skip
    warnings: list[str] = []
    events = parse_history(f'{old}\n{{"at": \n\n{old}\n', "/base", warnings.append)
    assert events == [HistoryEvent.model_validate_json(old)] * 2
    assert events[0].version == 1
    assert len(warnings) == 1 and "history.jsonl:2" in warnings[0]
