"""The seam between the platform and a Docker host: run one bash script, stream its progress.

Every transport feeds the same thing to `bash -s` on the host: a prelude exporting the secret
values (in memory only: never in argv, a file or a log), then the script.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Protocol

LineSink = Callable[[str], None]


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    stdout: str


class Transport(Protocol):
    def run(self, script: str, secrets: Mapping[str, str], on_line: LineSink) -> RunResult:
        """Run a bash script on the host; stderr lines go to `on_line` as they arrive."""
        ...

    def close(self) -> None: ...


def secret_prelude(secrets: Mapping[str, str]) -> str:
    return "".join(
        f"export {name}={shlex.quote(value)}\n" for name, value in sorted(secrets.items())
    )


class Redactor:
    """Replaces secret values in text that leaves the process (log lines, errors)."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        self._values = sorted((v for v in secrets.values() if len(v) >= 4), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "[REDACTED]")
        return text


def run_bash(
    argv: Sequence[str], stdin_text: str, on_line: LineSink, env: Mapping[str, str] | None = None
) -> RunResult:
    """Run `argv` (a bash reading its script on stdin), streaming stderr lines."""
    process = subprocess.Popen(
        list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None, text=True, encoding="utf-8", errors="replace",
    )  # fmt: skip
    assert process.stdin and process.stdout and process.stderr
    chunks: list[str] = []
    readers = [
        threading.Thread(target=_pump_lines, args=(process.stderr, on_line), daemon=True),
        threading.Thread(target=_pump_all, args=(process.stdout, chunks), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        process.stdin.write(stdin_text)
        process.stdin.close()
    except BrokenPipeError:
        pass
    code = process.wait()
    for reader in readers:
        reader.join()
    return RunResult(code, "".join(chunks))


def _pump_lines(stream: IO[str], on_line: LineSink) -> None:
    for line in stream:
        on_line(line.rstrip("\n"))


def _pump_all(stream: IO[str], chunks: list[str]) -> None:
    chunks.append(stream.read())
