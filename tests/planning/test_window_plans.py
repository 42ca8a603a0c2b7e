"""Deployment windows in plans: production held to Mon-Fri 09:00-17:00 Europe/Berlin with a
year-end freeze. A deploy outside them is refused before any host is
asked anything, an override is recorded in the plan and in the host's release record, a
tenant's own windows narrow the environment's, and rollbacks are never held back."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config, validate_sources
from platform_lib.execution.deploy import deploy
from platform_lib.models.host_state import HostState, ReleaseRecord
from platform_lib.models.records import HistoryEvent, ReleaseDraft
from platform_lib.planning.builder import PlanRequest, build_plan
from platform_lib.planning.render import runtime
from platform_lib.planning.rollback import RollbackRequest, build_rollback_plan
from platform_lib.planning.windows import WindowClosed

REPO = Path(__file__).resolve().parents[2]
# The repository's configs, production with the windows of the golden cases' platform.yml.
SOURCES = {
    **read_sources(REPO),
    "configs/platform.yml": (
        REPO / "tests/golden/plans/paiss-production-outside-window/platform.yml"
    ).read_text(encoding="utf-8"),
}
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
THURSDAY = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DIGEST = "ghcr.io/example-org/paiss-web@sha256:" + "3" * 64


def config(**changes: str) -> Any:
    return load_valid_config({**SOURCES, **changes})


def request(now: datetime, environment: str = "production", **extra: Any) -> PlanRequest:
    return PlanRequest(
        project="paiss",
        environment=environment,
        now=now,
        actor="alice",
        platform_sha="abc123",
        images={"web": DIGEST},
        **extra,
    )


def test_production_outside_its_window_is_refused_with_the_next_opening() -> None:
    with pytest.raises(WindowClosed) as refused:
        build_plan(config(), request(SATURDAY))
    assert refused.value.state.next_open == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert refused.value.state.time_zone == "Europe/Berlin"


def test_staging_has_no_windows_and_production_in_its_window_records_nothing() -> None:
    assert build_plan(config(), request(SATURDAY, "staging")).window_override is None
    assert build_plan(config(), request(THURSDAY)).window_override is None
    # An override given while the window is open is not needed, so not recorded.
    assert build_plan(config(), request(THURSDAY, outside_window="x")).window_override is None


def test_an_override_is_recorded_in_the_plan_and_handed_to_the_release_record() -> None:
    plan = build_plan(config(), request(SATURDAY, outside_window="INC-231 checkout down"))
    assert plan.window_override is not None
    assert plan.window_override.reason == "INC-231 checkout down"
    assert plan.window_override.next_open == "2026-11-30T09:00:00+01:00"
    draft = next(f for f in plan.files if f.path.endswith("/release.draft.json"))
    assert ReleaseDraft.model_validate_json(draft.content).window_override == (
        "INC-231 checkout down"
    )


def test_a_tenant_s_own_windows_narrow_the_environment_s_and_never_widen_them() -> None:
    wider = SOURCES["configs/paiss/project.yml"] + (
        "windows:\n  production:\n    time_zone: Asia/Tokyo\n"
        "    allow: [{days: [sat], start: '18:00', end: '20:00'}]\n"
    )
    with pytest.raises(WindowClosed):  # 19:00 in Tokyo, but Saturday in Berlin
        build_plan(config(**{"configs/paiss/project.yml": wider}), request(SATURDAY))
    narrower = SOURCES["configs/paiss/project.yml"] + (
        "windows:\n  production:\n    time_zone: Europe/Berlin\n"
        "    allow: [{days: [tue], start: '10:00', end: '12:00'}]\n"
    )
    own = config(**{"configs/paiss/project.yml": narrower})
    with pytest.raises(WindowClosed) as refused:
        build_plan(own, request(THURSDAY))  # the platform's window is open, the tenant's not
    assert refused.value.state.next_open == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    tuesday = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)  # 11:30 in Berlin
    assert build_plan(own, request(tuesday)).window_override is None


def test_rollbacks_are_never_held_back_by_windows() -> None:
    older = ReleaseRecord(release="20261101T100000Z-aaaaaaaa", outcome="deployed")
    newer = ReleaseRecord(release="20261120T100000Z-bbbbbbbb", outcome="deployed")
    state = HostState(current_release=newer.release, current=newer, releases=[newer, older])
    frozen = datetime(2026, 12, 27, 3, 0, tzinfo=UTC)  # a Sunday night in the freeze
    plan = build_rollback_plan(
        config(),
        RollbackRequest(
            project="paiss", environment="production", now=frozen, actor="alice",
            platform_sha="abc123", state=state,
        ),
    )  # fmt: skip
    assert (plan.kind, plan.release) == ("rollback", older.release)


class NoHosts:
    """Connections that fail the test when anything would reach a host."""

    def to(self, host: object) -> object:
        raise AssertionError(f"a host was contacted: {host}")


def test_deploy_refuses_before_reaching_any_host() -> None:
    with pytest.raises(WindowClosed):
        deploy(config(), request(SATURDAY), NoHosts(), {}, lambda _line: None)  # type: ignore[arg-type]


def test_windows_of_an_unknown_environment_are_a_problem_at_their_place() -> None:
    manifest = SOURCES["configs/paiss/project.yml"] + "windows:\n  prod:\n    time_zone: UTC\n"
    _, problems = validate_sources({**SOURCES, "configs/paiss/project.yml": manifest})
    assert [(p.rule, p.location.pointer) for p in problems] == [
        ("project.unknown-env", "/windows/prod")
    ]


def test_an_unknown_time_zone_is_a_settings_problem() -> None:
    settings = SOURCES["configs/platform.yml"].replace("Europe/Berlin", "Europe/Atlantis")
    _, problems = validate_sources({**SOURCES, "configs/platform.yml": settings})
    assert [p.location.pointer for p in problems] == ["/environments/production/windows/time_zone"]


def record_release(tmp_path: Path, plan: Any) -> dict[str, Any]:
    """release.json as the real runtime writes it from the plan's draft (and its history)."""
    override = plan.window_override.reason if plan.window_override else ""
    release = tmp_path / "releases" / "r1"
    release.mkdir(parents=True)
    (release / "digests.json").write_text('{"services":{}}')
    draft = next(f for f in plan.files if f.path.endswith("/release.draft.json"))
    (release / "release.draft.json").write_text(draft.content)
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c",
         f"set -euo pipefail\n{runtime()}\nPLATFORM_PLAN_ID=p1\nPLATFORM_BASE={tmp_path}\n"
         f"PLATFORM_RELEASE=r1\nPLATFORM_ACTOR=alice\n"
         f"PLATFORM_WINDOW_OVERRIDE={shlex.quote(override)}\n"
         f"platform_record_release {tmp_path} r1"],
        capture_output=True, text=True, check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record: dict[str, Any] = json.loads((release / "release.json").read_text())
    return record


def test_the_host_records_the_override_reason_in_release_json(tmp_path: Path) -> None:
    reason = 'INC-231: "checkout" down'
    record = record_release(
        tmp_path, build_plan(config(), request(SATURDAY, outside_window=reason))
    )
    assert record["window_override"] == reason
    assert ReleaseRecord.model_validate(record).window_override == reason
    history = (tmp_path / "history.jsonl").read_text().splitlines()
    assert [HistoryEvent.model_validate_json(line).window_override for line in history] == [reason]


def test_a_deploy_in_its_window_records_no_override(tmp_path: Path) -> None:
    record = record_release(tmp_path, build_plan(config(), request(THURSDAY)))
    assert ReleaseRecord.model_validate(record).window_override == ""
    assert record["outcome"] == "deployed"
    event = HistoryEvent.model_validate_json((tmp_path / "history.jsonl").read_text())
    assert event.window_override is None
