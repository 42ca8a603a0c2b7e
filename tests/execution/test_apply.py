"""apply_plan (execution/apply.py) over the recording transport: a plan that does not match
its id or lacks a secret sends nothing; the script gets the tenant's secrets by their own
names (from `<PROJECT>__<NAME>`) and the platform's credentials; no secret value leaves in a
log line or an error's reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platform_lib.errors import DeployAborted, PlatformError
from platform_lib.execution.apply import apply_plan, gather_secrets
from platform_lib.models.outcome import OUTCOME_MARKER
from platform_lib.models.plan import Plan
from platform_lib.planning.render import render_script
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordingTransport

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "plans" / "filter-ical-staging"
ENVIRON = {
    "FILTER_ICAL__POSTGRES_PASSWORD": "pg-s3cret-value",
    "FILTER_ICAL__SESSION_SECRET": "session-s3cret-value",
    "REGISTRY_TOKEN": "registry-t0ken-value",
    "POSTGRES_PASSWORD": "another tenant's or the shell's: not this one",
}


def plan() -> Plan:
    return Plan.model_validate_json((GOLDEN / "plan.json").read_text())


def outcome_line(p: Plan, **fields: Any) -> str:
    record = {"version": 1, "kind": p.kind, "outcome": "deployed", "plan": p.id,
              "release": p.release, "previous_release": None, "current_release": p.release,
              "step": None, "reason": None, "rollback_step": None,
              "rollback_reason": None} | fields  # fmt: skip
    return OUTCOME_MARKER + json.dumps(record) + "\n"


def test_the_script_is_the_rendered_plan_with_the_secrets_by_their_names() -> None:
    p = plan()
    transport = RecordingTransport([(RunResult(0, outcome_line(p)), ())])
    outcome = apply_plan(p, transport, ENVIRON, lambda _line: None)
    assert outcome.outcome == "deployed"
    [sent] = transport.runs
    assert sent.script == render_script(p)
    assert sent.secret_names == ("POSTGRES_PASSWORD", "REGISTRY_TOKEN", "SESSION_SECRET")
    assert sent.operation == ()  # a plan's script, not a host operation
    assert gather_secrets(p, ENVIRON)["POSTGRES_PASSWORD"] == "pg-s3cret-value"


def test_a_plan_edited_after_it_was_made_sends_nothing() -> None:
    edited = plan().model_copy(update={"actor": "mallory"})
    transport = RecordingTransport([])
    with pytest.raises(PlatformError, match="does not match its content"):
        apply_plan(edited, transport, ENVIRON, lambda _line: None)
    assert transport.runs == []


def test_a_missing_secret_is_named_and_nothing_is_sent() -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != "FILTER_ICAL__SESSION_SECRET"}
    transport = RecordingTransport([])
    with pytest.raises(PlatformError, match="FILTER_ICAL__SESSION_SECRET") as raised:
        apply_plan(plan(), transport, environ, lambda _line: None)
    assert "session-s3cret-value" not in str(raised.value)
    assert transport.runs == []


def test_a_plan_giving_the_platforms_credentials_to_the_tenant_is_refused() -> None:
    p = plan()
    data = p.model_dump(mode="json") | {"secrets": [*p.secrets, "REGISTRY_TOKEN"]}
    with pytest.raises(PlatformError, match="gives the platform's credentials to the tenant"):
        gather_secrets(Plan.model_validate(data), ENVIRON)


def test_secret_values_are_redacted_from_progress_and_from_the_reason() -> None:
    p = plan()
    leaked = f"login failed for token {ENVIRON['REGISTRY_TOKEN']}"
    stdout = outcome_line(p, outcome="aborted", step="registry-login", reason=leaked,
                          current_release=None)  # fmt: skip
    transport = RecordingTransport([(RunResult(4, stdout), (f"    {leaked}",))])
    lines: list[str] = []
    with pytest.raises(DeployAborted) as raised:
        apply_plan(p, transport, ENVIRON, lines.append)
    assert lines == ["    login failed for token [REDACTED]"]
    assert raised.value.outcome is not None
    assert raised.value.outcome.reason == "login failed for token [REDACTED]"
    assert ENVIRON["REGISTRY_TOKEN"] not in str(raised.value)
    assert raised.value.exit_code == 4
