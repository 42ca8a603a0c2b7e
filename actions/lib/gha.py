"""The GitHub Actions runner protocol for the platform's action scripts: step outputs, the job
summary, annotations and masks, written exactly as the runner reads them (and printed plainly
when a script runs outside Actions, e.g. in a test or on a workstation)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotate(level: str, message: str, title: str | None = None) -> None:
    """`level` is error, warning or notice; one annotation, even for a multi-line message."""
    props = f" title={_escape_property(title)}" if title else ""
    print(f"::{level}{props}::{_escape_data(message)}", flush=True)


def error(message: str, title: str | None = None) -> None:
    annotate("error", message, title)


def warning(message: str, title: str | None = None) -> None:
    annotate("warning", message, title)


def notice(message: str, title: str | None = None) -> None:
    annotate("notice", message, title)


def mask(value: str) -> None:
    """Mask every line of a secret in the log (the runner masks one line per command)."""
    for line in value.splitlines():
        if line.strip():
            print(f"::add-mask::{_escape_data(line)}", flush=True)


def set_output(name: str, value: str) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        print(f"output {name}={value}")
        return
    delimiter = f"platform_{secrets.token_hex(12)}"
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def add_summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        print(markdown, file=sys.stderr)
        return
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(markdown.rstrip("\n") + "\n\n")


def group(title: str) -> None:
    print(f"::group::{_escape_data(title)}", flush=True)


def end_group() -> None:
    print("::endgroup::", flush=True)


def platform(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    stream: bool = False,
    timeout: float = 3600,
) -> subprocess.CompletedProcess[str]:
    """`python -m platform_lib ARGS` with the interpreter running this script (the platform's
    venv). `stream` passes stderr (progress) through to the log as it happens; stdout (data) is
    always captured."""
    return subprocess.run(
        [sys.executable, "-m", "platform_lib", *args],
        env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE,
        stderr=None if stream else subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )


def code_block(text: str) -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}\n{text.rstrip()}\n{fence}"


def details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"
