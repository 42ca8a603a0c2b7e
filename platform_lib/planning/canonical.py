"""Canonical JSON: the byte-identical form plans are hashed and written in."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from platform_lib.models.plan import Plan


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_id(plan: Plan) -> Plan:
    """The plan with its id: the sha256 of its canonical JSON computed with an empty id."""
    body = plan.model_copy(update={"id": ""}).model_dump(mode="json")
    return plan.model_copy(update={"id": sha256_text(canonical_json(body))})


def plan_json(plan: Plan) -> str:
    """The plan file format: sorted keys, two-space indent, trailing newline."""
    return (
        json.dumps(plan.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=True) + "\n"
    )
