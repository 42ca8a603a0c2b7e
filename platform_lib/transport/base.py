"""The seam between the platform and a Docker host: run one bash script, stream its progress.

Every transport feeds the same thing to `bash -s` on the host: a prelude exporting the secret
values (in memory only: never in argv, a file or a log), then the script.
"""

from __future__ import annotations

import contextlib
import queue
import shlex
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from secrets import token_hex
from typing import IO, Protocol

PENDING_LINES = 1000
"""stderr lines kept from before the first command of a session (the last ones)."""

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
    process.stdout.close()
    process.stderr.close()
    return RunResult(code, "".join(chunks))


def _pump_lines(stream: IO[str], on_line: LineSink) -> None:
    for line in stream:
        on_line(line.rstrip("\n"))


def _pump_all(stream: IO[str], chunks: list[str]) -> None:
    chunks.append(stream.read())


class BashSession:
    """One `bash -s` (e.g. on a host over one SSH session), fed script after script.

    Each script runs in a subshell of its own, so its `set -e`, exports (secrets) and `exit`
    end with it; a marker line on stdout carries its exit status, one on stderr says its
    progress lines are all through (they are passed on as they arrive). A second SSH session
    per command would cost a session setup on the host, a tenth of a second or more."""

    def __init__(self, argv: Sequence[str]) -> None:
        self._process = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", errors="replace",
        )  # fmt: skip
        assert self._process.stdout and self._process.stderr
        self._stdout: queue.Queue[str | None] = queue.Queue()
        self._marker = ""
        # Lines that arrive while no script runs (ssh's own, before the first script: a
        # refused host key) wait for the next script's sink.
        self._lock = threading.Lock()
        self._sink: LineSink | None = None
        # stderr before the first command (a banner, a login script): its last lines only, so
        # a host that writes without end holds no more than this in memory
        self._pending: deque[str] = deque(maxlen=PENDING_LINES)
        self._stderr_closed = False
        self._progress_done = threading.Event()
        self.ended = False
        self._readers = [
            threading.Thread(target=_queue_lines, args=(self._process.stdout, self._stdout),
                             daemon=True),
            threading.Thread(target=self._pump_progress, daemon=True),
        ]  # fmt: skip
        for reader in self._readers:
            reader.start()

    def _pump_progress(self) -> None:
        assert self._process.stderr is not None
        for raw in self._process.stderr:
            line = raw.rstrip("\n")
            with self._lock:
                if line == self._marker:
                    self._sink = None
                    self._progress_done.set()
                elif self._sink is None:
                    self._pending.append(line)
                else:
                    self._sink(line)
        with self._lock:
            self._sink = None
            self._stderr_closed = True
            self._progress_done.set()

    def run(self, script: str, on_line: LineSink) -> RunResult:
        """Run one script; exit status 255 (ssh's) with the lines seen if the session ended."""
        marker = f"__platform_done_{token_hex(8)}"
        with self._lock:
            self._marker, self._sink = marker, on_line
            for early in self._pending:
                on_line(early)
            self._pending.clear()
            if not self._stderr_closed:
                self._progress_done.clear()
        wrapped = (
            f"(\n{script}\n) </dev/null\n"
            f"printf '\\n{marker} %d\\n' \"$?\"\n"
            f"printf '{marker}\\n' >&2\n"
        )
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(wrapped)
            self._process.stdin.flush()
        except OSError:  # the session is gone; its end is read below
            pass
        out: list[str] = []
        code: int | None = None
        while (line := self._stdout.get()) is not None:
            if line.startswith(f"{marker} "):
                code = int(line.split()[1])
                break
            out.append(line)
        self._progress_done.wait()
        if code is None:  # the session ended: the connection, not the script
            self.ended = True
            self.close()
            code = self._process.returncode if self._process.returncode is not None else 255
        # The marker's leading newline ends the script's last line: joining gives its output.
        return RunResult(code, "\n".join(out))

    def close(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()


def _queue_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)
