"""Problems for people (text), for tools (json) and for GitHub (workflow annotations)."""

from __future__ import annotations

import json
from typing import Literal

from platform_lib.errors import Problem

ProblemFormat = Literal["text", "json", "github"]


def render_problems(problems: list[Problem], fmt: ProblemFormat) -> str:
    if fmt == "json":
        body = {"valid": not problems, "problems": [p.as_dict() for p in problems]}
        return json.dumps(body, indent=2, sort_keys=True) + "\n"
    if fmt == "github":
        return "".join(_annotation(p) + "\n" for p in problems)
    return "".join(_text(p) for p in problems)


def _text(problem: Problem) -> str:
    where = str(problem.location)
    pointer = f" (at {problem.location.pointer})" if problem.location.pointer else ""
    line = f"{where}: error: {problem.message}{pointer} [{problem.rule}]\n"
    return line + (f"    hint: {problem.hint}\n" if problem.hint else "")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(problem: Problem) -> str:
    loc = problem.location
    props = [f"file={_escape_property(loc.file)}"]
    if loc.line is not None:
        props.append(f"line={loc.line}")
    if loc.column is not None:
        props.append(f"col={loc.column}")
    props.append(f"title={_escape_property(problem.rule)}")
    message = problem.message + (f"\n{problem.hint}" if problem.hint else "")
    return f"::error {','.join(props)}::{_escape_data(message)}"


def warning_annotation(message: str, title: str) -> str:
    """A `::warning` workflow command, escaped so the message cannot end it early."""
    return f"::warning title={_escape_property(title)}::{_escape_data(message)}"


def notice_annotation(message: str, title: str) -> str:
    """A `::notice` workflow command, escaped as `warning_annotation`."""
    return f"::notice title={_escape_property(title)}::{_escape_data(message)}"
