"""The payloads of an event, golden: one folder per case under tests/golden/notifications
(`event.json` in; `slack.json` and `webhook.json` out). `UPDATE_GOLDEN=1 pytest
tests/notifications` rewrites them; review the diff like code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cases import event
from golden.golden_files import assert_golden

from platform_lib.models.notifications import EVENT_KINDS, Event
from platform_lib.notifications.payloads import (
    FORMAT,
    event_record,
    slack_payload,
    webhook_body,
)

CASES = sorted((Path(__file__).parents[1] / "golden" / "notifications").iterdir())


def pretty(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_payloads_match_their_golden_files(case: Path) -> None:
    ev = Event.model_validate_json((case / "event.json").read_text(encoding="utf-8"))
    assert_golden(case / "slack.json", pretty(slack_payload(ev)))
    assert_golden(case / "webhook.json", pretty(json.loads(webhook_body(ev))))


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_kind_makes_a_block_kit_message(kind: str) -> None:
    payload = slack_payload(event(kind=kind))
    assert isinstance(payload["text"], str) and payload["text"]
    types = [block["type"] for block in payload["blocks"]]
    assert types[0] == "header" and types[-1] == "context"
    fields = payload["blocks"][1]["fields"]
    assert all(f["type"] == "mrkdwn" for f in fields)
    names = [f["text"].split("\n", 1)[0] for f in fields]
    assert names[:4] == ["*Tenant*", "*Environment*", "*Actor*", "*Outcome*"]


def test_slack_text_escapes_control_characters() -> None:
    payload = slack_payload(event(kind="deploy.failed", detail="<!channel> & <b>"))
    notes = payload["blocks"][-2]["text"]["text"]
    assert "<" not in notes and ">" not in notes and "&amp;" in notes


def test_links_to_the_run_and_the_app_commit_when_known() -> None:
    sha = "f" * 40
    ev = event(run_url="https://ci.example/runs/1", app_repository="o/a", app_commit=sha,
               commit_url=f"https://github.com/o/a/commit/{sha}")  # fmt: skip
    context = [e["text"] for e in slack_payload(ev)["blocks"][-1]["elements"]]
    assert "<https://ci.example/runs/1|run>" in context
    assert f"<https://github.com/o/a/commit/{sha}|fffffff>" in context
    assert not any("|run>" in t for t in _context(slack_payload(event())))


def _context(payload: dict[str, Any]) -> list[str]:
    return [e["text"] for e in payload["blocks"][-1]["elements"]]


def test_webhook_body_is_canonical_and_carries_an_id_of_its_content() -> None:
    ev = event()
    body = webhook_body(ev)
    assert body == webhook_body(ev)
    record = json.loads(body)
    assert record["format"] == FORMAT and record["kind"] == "deploy.succeeded"
    rest = {k: v for k, v in record.items() if k != "id"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":")).encode()
    assert record["id"] == hashlib.sha256(canonical).hexdigest()
    assert record == event_record(ev)
    assert event_record(event(actor="bob"))["id"] != record["id"]
