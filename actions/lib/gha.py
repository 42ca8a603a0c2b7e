"""The GitHub Actions runner protocol for the platform's action scripts: step outputs, the job
summary, annotations and masks, written exactly as the runner reads them (and printed plainly
when a script runs outside Actions, e.g. in a test or on a workstation).

Output from elsewhere (a host's deploy log, a tenant's container logs, GitHub's answers) is
never read as workflow commands: it is written between `::stop-commands::<token>` and
`::<token>::`, GitHub's documented way to pause them, with a fresh random token each time
(`RemoteOutput`, `commands_stopped`). A tenant's container that prints `::add-mask::`,
`::error::` or `::stop-commands::` lines therefore forges no annotation and masks nothing."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TextIO


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


def new_token() -> str:
    """An unguessable stop-commands token: 128 random bits."""
    return secrets.token_hex(16)


class RemoteOutput:
    """Writes text from elsewhere to the log with workflow commands stopped. The token is
    picked before any of that text is seen; should a line ever contain it, commands are
    resumed and stopped again under a new token first, so no text can end the pause."""

    def __init__(self, out: TextIO | None = None, token: Callable[[], str] = new_token) -> None:
        self._out = out
        self._new_token = token
        self.token = ""
        self.tokens: list[str] = []

    @property
    def out(self) -> TextIO:
        return self._out or sys.stdout

    def _stop(self, text: str = "") -> None:
        token = self._new_token()
        while not token or token in text:
            token = self._new_token()
        self.token = token
        self.tokens.append(token)
        self.out.write(f"::stop-commands::{token}\n")
        self.out.flush()

    def _resume(self) -> None:
        self.out.write(f"::{self.token}::\n")
        self.out.flush()

    def __enter__(self) -> RemoteOutput:
        self._stop()
        return self

    def write(self, text: str) -> None:
        if self.token in text:
            self._resume()
            self._stop(text)
        self.out.write(text)
        self.out.flush()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._resume()


@contextmanager
def commands_stopped() -> Iterator[str]:
    """Stop workflow commands while a child process writes straight to the log (it cannot
    know the token: it is made here, after the child's arguments, and never passed on)."""
    with RemoteOutput() as remote:
        yield remote.token


def stream(
    args: Sequence[str], env: Mapping[str, str] | None = None, keep: int = 200
) -> tuple[int, list[str]]:
    """Run `args`, writing its stdout and stderr to the log as they come, with workflow
    commands stopped; the exit code and the last `keep` lines."""
    lines: list[str] = []
    with (
        RemoteOutput() as remote,
        subprocess.Popen(
            args,
            env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            remote.write(line if line.endswith("\n") else line + "\n")
            lines.append(line.rstrip("\n"))
            del lines[:-keep]
    return proc.returncode, lines


def platform(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    stream: bool = False,
    timeout: float = 3600,
) -> subprocess.CompletedProcess[str]:
    """`python -m platform_lib ARGS` with the interpreter running this script (the platform's
    venv). `stream` passes stderr (progress) through to the log as it happens, with workflow
    commands stopped; stdout (data) is always captured."""
    if stream:
        with commands_stopped():
            return _platform(args, env, True, timeout)
    return _platform(args, env, False, timeout)


def _platform(
    args: Sequence[str], env: Mapping[str, str] | None, stream: bool, timeout: float
) -> subprocess.CompletedProcess[str]:
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
    """`text` verbatim in a fenced block (markdown): the fence is longer than any run of
    backticks in it, so no line of a tenant's output can close it early (CommonMark)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.rstrip()}\n{fence}"


def details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"
