"""The client's reading of the outcome record (execution/outcome.py) and what `apply_plan`
makes of each outcome, over the recording transport: no host, no log line read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platform_lib.errors import (
    ApplyError,
    DeployAborted,
    DeployRolledBack,
    OutcomeUnknown,
    RollbackFailed,
)
from platform_lib.execution.apply import apply_plan
from platform_lib.execution.outcome import parse_outcome
from platform_lib.models.outcome import EXIT_CODES, OUTCOME_MARKER, OUTCOME_UNKNOWN
from platform_lib.models.plan import Plan
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordingTransport

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "plans" / "paiss-staging"


def plan() -> Plan:
    return Plan.model_validate_json((GOLDEN / "plan.json").read_text())


def record(p: Plan, **fields: Any) -> dict[str, Any]:
    return {
        "version": 1, "kind": p.kind, "outcome": "deployed", "plan": p.id, "release": p.release,
        "previous_release": None, "current_release": p.release, "step": None, "reason": None,
        "rollback_step": None, "rollback_reason": None,
    } | fields  # fmt: skip


def line(data: dict[str, Any]) -> str:
    return OUTCOME_MARKER + json.dumps(data) + "\n"


def test_a_record_parses_into_the_model() -> None:
    p = plan()
    parsed = parse_outcome("other output\n" + line(record(p, outcome="aborted", step="pull")))
    assert (parsed.outcome, parsed.step, parsed.exit_code) == ("aborted", "pull", 4)


@pytest.mark.parametrize(
    "stdout",
    [
        "",
        "deployed\n",
        OUTCOME_MARKER + "{not json\n",
        OUTCOME_MARKER + '{"version": 1}\n',
        line(record(plan(), outcome="maybe")),
        line(record(plan(), version=2)),
        line(record(plan(), extra="field")),
        line(record(plan())) * 2,
    ],
    ids=["empty", "no-marker", "not-json", "missing-fields", "unknown-outcome",
         "unknown-version", "unknown-field", "two-records"],
)  # fmt: skip
def test_a_missing_or_malformed_record_is_a_clear_error(stdout: str) -> None:
    with pytest.raises(OutcomeUnknown) as raised:
        parse_outcome(stdout)
    assert raised.value.exit_code == OUTCOME_UNKNOWN


def apply_with(p: Plan, stdout: str, code: int, env: dict[str, str] | None = None) -> Any:
    transport = RecordingTransport([(RunResult(code, stdout), ["[1/2] step"])])
    environ = {"REGISTRY_TOKEN": "t0ken-value"} | (env or {})
    return apply_plan(p, transport, environ, lambda _line: None), transport


def test_deployed_returns_the_record() -> None:
    p = plan()
    outcome, transport = apply_with(p, line(record(p)), 0)
    assert outcome.outcome == "deployed"
    assert [run.secret_names for run in transport.runs] == [("REGISTRY_TOKEN",)]


@pytest.mark.parametrize(
    ("outcome", "error"),
    [("aborted", DeployAborted), ("rolled-back", DeployRolledBack),
     ("rollback-failed", RollbackFailed)],
)  # fmt: skip
def test_each_failed_outcome_is_its_own_error_and_exit_code(
    outcome: str, error: type[ApplyError]
) -> None:
    p = plan()
    data = record(p, outcome=outcome, step="switch", reason="exit 1")
    with pytest.raises(error) as raised:
        apply_with(p, line(data), EXIT_CODES[outcome])
    assert raised.value.exit_code == EXIT_CODES[outcome]
    assert raised.value.outcome is not None and raised.value.outcome.step == "switch"


def test_the_exit_codes_of_the_errors_are_the_records() -> None:
    assert {
        "rollback-failed": RollbackFailed.exit_code,
        "aborted": DeployAborted.exit_code,
        "rolled-back": DeployRolledBack.exit_code,
    } == {k: v for k, v in EXIT_CODES.items() if k != "deployed"}
    assert len({*EXIT_CODES.values(), OUTCOME_UNKNOWN, 1, 2}) == 7  # all distinct


def test_no_record_is_outcome_unknown_whatever_the_exit_status() -> None:
    p = plan()
    for code in (0, 1, 255):
        with pytest.raises(OutcomeUnknown):
            apply_with(p, "", code)


def test_a_record_of_another_plan_is_refused() -> None:
    p = plan()
    with pytest.raises(OutcomeUnknown):
        apply_with(p, line(record(p, plan="0" * 64)), 0)


def test_a_secret_in_the_reason_is_redacted() -> None:
    p = plan()
    data = record(p, outcome="aborted", step="login", reason="login said t0ken-value")
    with pytest.raises(DeployAborted) as raised:
        apply_with(p, line(data), 4)
    assert raised.value.outcome is not None
    assert "t0ken-value" not in (raised.value.outcome.reason or "")
    assert "t0ken-value" not in str(raised.value)
