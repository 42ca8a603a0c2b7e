"""What each sink is sent for an event: a Slack Block Kit message, or the JSON webhook body.
Pure: the same event gives the same bytes (golden-tested)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from platform_lib.models.notifications import Event, EventKind

FORMAT = 1
"""Version of the webhook body; a receiver should refuse a version it does not know."""

HEADLINES: dict[EventKind, str] = {
    "deploy.started": "Deploy started",
    "deploy.succeeded": "Deploy succeeded",
    "deploy.failed": "Deploy failed",
    "deploy.rolled_back": "Rolled back",
    "deploy.window_override": "Deploy outside its deployment windows",
    "approval.waiting": "Deploy waiting for approval",
    "approval.approved": "Deploy approved",
    "approval.rejected": "Deploy rejected",
}
EMOJI: dict[EventKind, str] = {
    "deploy.started": ":rocket:",
    "deploy.succeeded": ":white_check_mark:",
    "deploy.failed": ":x:",
    "deploy.rolled_back": ":rewind:",
    "deploy.window_override": ":warning:",
    "approval.waiting": ":hourglass_flowing_sand:",
    "approval.approved": ":heavy_check_mark:",
    "approval.rejected": ":no_entry:",
}


def event_record(event: Event) -> dict[str, Any]:
    """The webhook body as data: the event's fields, the format, and an `id` (sha256 of the
    rest) a receiver can deduplicate retries by."""
    record: dict[str, Any] = {"format": FORMAT, **event.model_dump(mode="json")}
    record["id"] = hashlib.sha256(_canonical(record)).hexdigest()
    return record


def webhook_body(event: Event) -> bytes:
    return _canonical(event_record(event))


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _escape(text: str) -> str:
    """Slack mrkdwn: `&`, `<` and `>` are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _summary(event: Event) -> str:
    return f"{HEADLINES[event.kind]}: {event.project}/{event.environment}"


def slack_payload(event: Event) -> dict[str, Any]:
    """A Block Kit message: headline, the facts as fields, images, the reason, the links."""
    fields = [
        ("Tenant", event.project),
        ("Environment", event.environment),
        ("Actor", event.actor),
        ("Outcome", HEADLINES[event.kind]),
    ]
    if event.release:
        fields.append(("Release", event.release))
    if event.approvals:
        fields.append(("Approvals", f"{event.approvals.given} of {event.approvals.needed}"))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{HEADLINES[event.kind]}", "emoji": True},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{_escape(value)}"} for name, value in fields
            ],
        },
    ]
    if event.images:
        lines = "\n".join(
            f"`{_escape(service)}` {_escape(ref)}" for service, ref in sorted(event.images.items())
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Images*\n{lines}"}})
    notes = []
    if event.window_override:
        notes.append(
            f"*Outside its windows* ({_escape(event.window_override.closed_by)}): "
            f"{_escape(event.window_override.reason)}"
        )
    if event.detail:
        notes.append(_escape(event.detail))
    if notes:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(notes)}})
    links = []
    if event.run_url:
        links.append(f"<{event.run_url}|run>")
    if event.commit_url and event.app_commit:
        links.append(f"<{event.commit_url}|{_escape(event.app_commit[:7])}>")
    context = [f"{EMOJI[event.kind]} {event.at}", *links]
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": text} for text in context]}
    )
    return {"text": _escape(_summary(event)), "blocks": blocks}


def slack_body(event: Event) -> bytes:
    return json.dumps(slack_payload(event), sort_keys=True, ensure_ascii=True).encode()
