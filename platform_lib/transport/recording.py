"""A recording transport for unit tests: it implements `Transport`, answers each script with a
scripted result and keeps what it was given (in memory only; secret values are not kept), so
execution and the commands can be tested without a host.

`RecordingTransport` stands for one host; `RecordingHosts` for all of them, as the opener of
`Connections` (`Connections(identity, hosts.open)`), with one record of every run on any host,
in order."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from platform_lib.transport.base import LineSink, RunResult
from platform_lib.transport.ssh import SshHost

Reply = tuple[RunResult, Sequence[str]]
"""A run's result, and the progress lines sent before it."""


@dataclass(frozen=True)
class RecordedRun:
    host: str
    script: str
    secret_names: tuple[str, ...]
    """The names of the secrets the script was given (their values are not kept)."""

    @property
    def operation(self) -> tuple[str, ...]:
        """The argv of a host operation's script (its last line, as `render_operation` writes
        it: the command, then `</dev/null`); () for a plan's script."""
        words = shlex.split(self.script.rstrip("\n").rsplit("\n", 1)[-1])
        if len(words) < 2 or words[-1] != "</dev/null" or not words[0].startswith("platform_"):
            return ()
        return tuple(words[:-1])


@dataclass
class RecordingTransport:
    replies: Sequence[Reply] | Callable[[RecordedRun], Reply]
    """The reply of each run in turn, or a function giving a run's reply."""
    host: str = "host"
    runs: list[RecordedRun] = field(default_factory=list)
    """This transport's runs; shared with the other hosts' under `RecordingHosts`."""
    closed: bool = False

    def run(self, script: str, secrets: Mapping[str, str], on_line: LineSink) -> RunResult:
        if self.closed:
            raise AssertionError(f"run on {self.host} after its connection was closed")
        recorded = RecordedRun(self.host, script, tuple(sorted(secrets)))
        if callable(self.replies):
            result, lines = self.replies(recorded)
        else:
            mine = sum(run.host == self.host for run in self.runs)
            if mine >= len(self.replies):
                raise AssertionError(f"unexpected run #{mine + 1} on {self.host}: no reply left")
            result, lines = self.replies[mine]
        self.runs.append(recorded)
        for line in lines:
            on_line(line)
        return result

    def close(self) -> None:
        self.closed = True


@dataclass
class RecordingHosts:
    """Every host's recording transport, opened by host name."""

    reply: Callable[[RecordedRun], Reply]
    runs: list[RecordedRun] = field(default_factory=list)
    transports: dict[str, RecordingTransport] = field(default_factory=dict)

    def open(self, host: SshHost, _identity: Path | None) -> RecordingTransport:
        if host.name in self.transports and not self.transports[host.name].closed:
            raise AssertionError(f"a second connection to {host.name} while one is open")
        self.transports[host.name] = RecordingTransport(self.reply, host.name, self.runs)
        return self.transports[host.name]

    @property
    def operations(self) -> list[tuple[str, tuple[str, ...]]]:
        """(host, operation argv) of every run, in order."""
        return [(run.host, run.operation) for run in self.runs]
