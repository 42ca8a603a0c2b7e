"""Compose files against the official Compose Specification JSON Schema.

The schema is not ours: it is the one the check-jsonschema project vendors from
compose-spec/compose-spec and keeps up to date.

Two validators read it. jsonschema-rs (compiled) answers whether a file is valid, about 500
times faster than jsonschema: at 3,000 tenants that is most of `validate`'s time. Only a file
it does not find valid goes through jsonschema, whose errors carry the schema and instance
paths the problems are made of (and which may yet find none). So the compiled answer counts
only when it is "valid", and only for plain JSON values; a property test over edits of the
corpora checks jsonschema agrees with it then (tests/validation/test_compiled_schema_agrees.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from platform_lib.config.yaml_source import YamlDocument
from platform_lib.errors import Problem


@cache
def compose_schema() -> dict[str, Any]:
    # Found through the package's location, not imported: importing check_jsonschema pulls in
    # its whole command line (about 0.15 s of every deploy's start-up).
    spec = find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("check-jsonschema is not installed: pip install check-jsonschema")
    package = Path(next(iter(spec.submodule_search_locations)))
    text = (package / "builtin_schemas" / "vendor" / "compose-spec.json").read_text(
        encoding="utf-8"
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def compose_validator() -> Draft202012Validator:
    return Draft202012Validator(compose_schema())


@cache
def _compiled_check() -> Callable[[object], bool] | None:
    try:
        import jsonschema_rs

        check: Callable[[object], bool] = jsonschema_rs.validator_for(compose_schema()).is_valid
    except Exception:  # not installed, or a schema it cannot compile: jsonschema alone decides
        return None
    return check


_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_shaped(data: object) -> bool:
    """Only dicts with string keys, lists and JSON scalars: the values both validators read
    alike (jsonschema-rs takes a tuple for an array, jsonschema does not; YAML's `!!omap`
    and `!!set` make tuples and sets)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(type(key) is str for key in item):
                return False
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
        elif not isinstance(item, _JSON_SCALARS):
            return False
    return True


def surely_valid(data: object) -> bool:
    """The compiled validator finds `data` valid. False when it cannot tell: not installed,
    or a value the two validators might read differently (`_json_shaped`)."""
    check = _compiled_check()
    if check is None or not _json_shaped(data):
        return False
    try:
        return check(data)
    except (ValueError, TypeError, OverflowError, UnicodeError):
        return False


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
    if surely_valid(doc.data):
        return []
    errors = sorted(
        compose_validator().iter_errors(doc.data), key=lambda e: [str(p) for p in e.path]
    )
    problems = [_problem(doc, error) for error in errors]
    return [p for p in problems if p is not None]


def _declared(schema: dict[str, Any], key: str) -> set[str]:
    """Keys of `key` (properties, patternProperties) declared by a schema and the schemas it
    combines with allOf/$ref: what `unevaluatedProperties` counts as evaluated."""
    found = set(schema.get(key) or {})
    for part in schema.get("allOf") or []:
        ref = part.get("$ref", "")
        if ref.startswith("#/$defs/"):
            part = compose_schema()["$defs"][ref.removeprefix("#/$defs/")]
        found |= _declared(part, key)
    return found


def _unknown_keys(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    allowed = _declared(schema, "properties")
    patterns = _declared(schema, "patternProperties")
    return sorted(
        k for k in instance if k not in allowed and not any(re.search(p, k) for p in patterns)
    )


def _problem(doc: YamlDocument, error: ValidationError) -> Problem | None:
    path = list(error.absolute_path)
    message = error.message
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(
        error.instance, dict
    ):
        extra = _unknown_keys(error.instance, schema)
        if not extra:
            # "Unevaluated" because a known key's value is wrong: that error is reported itself.
            return None
        path.append(extra[0])
        message = f"unknown key {extra[0]!r}" + (
            f" (and {', '.join(map(repr, extra[1:]))})" if extra[1:] else ""
        )
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return Problem(
        doc.locate(path),
        "compose.schema",
        f"{where}: {message}",
        "the Compose Specification does not allow this; "
        "see https://docs.docker.com/reference/compose-file/",
    )
