"""Programs run on this machine, to their end, with their output captured: git, gh.

One helper, so each caller states only its argv (a list: no shell ever parses it), its
environment and its timeout, and gets back a typed result. The SSH session to a host is not
one of these: it stays open across scripts and streams its lines (transport/base.py).

The `sh` package was a dependency for this and is not used: its commands run on a
pseudo-terminal by default and raise on any non-zero exit, where these callers read exit
statuses and need none of its features; the standard library does this in a few lines."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from platform_lib.errors import PlatformError


@dataclass(frozen=True)
class Finished:
    exit_code: int
    stdout: str
    stderr: str


class ProgramFailed(PlatformError):
    """The program could not be started (not installed, not on PATH) or ran past its time."""


def run_program(
    argv: Sequence[str], env: Mapping[str, str] | None = None, timeout: float | None = None
) -> Finished:
    """Run `argv` to its end with no stdin; its stdout and stderr as UTF-8 text (undecodable
    bytes replaced). A non-zero exit is the caller's to judge."""
    try:
        done = subprocess.run(
            list(argv), stdin=subprocess.DEVNULL, capture_output=True, text=True,
            encoding="utf-8", errors="replace", timeout=timeout, check=False,
            env=dict(env) if env is not None else None,
        )  # fmt: skip
    except OSError as error:
        raise ProgramFailed(f"cannot run {argv[0]}: {error.strerror or error}") from None
    except subprocess.TimeoutExpired:
        raise ProgramFailed(f"{argv[0]} did not finish within {timeout}s") from None
    return Finished(done.returncode, done.stdout, done.stderr)


def is_running(pid: int) -> bool:
    """A process of that id exists (another user's too: it cannot be signalled, yet runs)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
