"""A recording transport for unit tests: it answers each script with the next canned result
and keeps what it was given (in memory only), so execution can be tested without a host."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from platform_lib.transport.base import LineSink, RunResult


@dataclass
class RecordedRun:
    script: str
    secret_names: tuple[str, ...]
    """The names of the secrets the script was given (their values are not kept)."""


@dataclass
class RecordingTransport:
    replies: Sequence[tuple[RunResult, Sequence[str]]]
    """Per run: its result, and the progress lines to send before it."""
    runs: list[RecordedRun] = field(default_factory=list)
    closed: bool = False

    def run(self, script: str, secrets: Mapping[str, str], on_line: LineSink) -> RunResult:
        if len(self.runs) >= len(self.replies):
            raise AssertionError(f"unexpected run #{len(self.runs) + 1}: no reply left")
        result, lines = self.replies[len(self.runs)]
        self.runs.append(RecordedRun(script, tuple(sorted(secrets))))
        for line in lines:
            on_line(line)
        return result

    def close(self) -> None:
        self.closed = True
