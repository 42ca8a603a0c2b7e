"""Turn pydantic validation errors into Problems located in the YAML source."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from platform_lib.config.yaml_source import YamlDocument
from platform_lib.errors import Problem

M = TypeVar("M", bound=BaseModel)


def validate_model(doc: YamlDocument, model: type[M], rule: str) -> tuple[M | None, list[Problem]]:
    """Validate a document against a model; every error located at its key in the file."""
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        problems = [_problem(doc, error, rule) for error in exc.errors(include_url=False)]
        return None, problems


def _data_path(data: Any, loc: tuple[int | str, ...]) -> list[int | str]:
    """The part of a pydantic `loc` that exists in the data (drops union tags and the like)."""
    path: list[int | str] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            continue
        node = node[part]
        path.append(part)
    return path


def _problem(doc: YamlDocument, error: Any, rule: str) -> Problem:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    kind = error["type"]
    path = _data_path(doc.data, loc)
    location = doc.locate(path)
    field = ".".join(str(p) for p in path) or "(document)"
    if kind == "extra_forbidden":
        return Problem(
            location,
            f"{rule}.unknown-key",
            f"unknown key {field!r}",
            "check the spelling; the schema lists the allowed keys",
        )
    if kind == "missing":
        parent = ".".join(str(p) for p in path) or "the document"
        return Problem(
            location,
            f"{rule}.missing-key",
            f"missing required key {str(loc[-1])!r} in {parent}",
            "add it; see the config reference in README.md",
        )
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return Problem(
        location, f"{rule}.invalid", f"{field}: {message}", "see the config reference in README.md"
    )
