"""Compose files against the official Compose Specification JSON Schema.

The schema is not ours: it is the one the check-jsonschema project vendors from
compose-spec/compose-spec and keeps up to date.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from platform_lib.config.yaml_source import YamlDocument
from platform_lib.errors import Problem


@cache
def compose_validator() -> Draft202012Validator:
    text = (
        resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    ).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return Draft202012Validator(schema)


def compose_schema_problems(doc: YamlDocument) -> list[Problem]:
    if not isinstance(doc.data, dict):
        return [
            Problem(
                doc.locate([]),
                "compose.schema",
                "a compose file must be a mapping with a `services:` key",
                "see https://docs.docker.com/reference/compose-file/",
            )
        ]
    errors = sorted(compose_validator().iter_errors(doc.data), key=lambda e: list(e.path))
    return [_problem(doc, error) for error in errors]


def _problem(doc: YamlDocument, error: ValidationError) -> Problem:
    path = list(error.absolute_path)
    message = error.message
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        patterns = schema.get("patternProperties", {})
        extra = sorted(
            k
            for k in error.instance
            if k not in allowed and not any(re.search(p, k) for p in patterns)
        )
        if extra:
            path.append(extra[0])
            message = f"unknown key {extra[0]!r}"
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return Problem(
        doc.locate(path),
        "compose.schema",
        f"{where}: {message}",
        "the Compose Specification does not allow this; "
        "see https://docs.docker.com/reference/compose-file/",
    )
