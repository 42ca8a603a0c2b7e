"""Run host runtime functions in bash, alone, on a scratch directory: the runtime as the
renderer inlines it, a plan's variables, and the fragment under test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from platform_lib.planning.render import runtime

BASH = shutil.which("bash") or "/bin/bash"


def plan_variables(base: Path, **overrides: str) -> str:
    """The variables a rendered plan's script sets (render.py), for release r9 of plan `plan`."""
    values = {
        "PLATFORM_PLAN_ID": "plan",
        "PLATFORM_KIND": "deploy",
        "PLATFORM_RELEASE": "r9",
        "PLATFORM_ACTOR": "a",
        "PLATFORM_BASE": str(base),
        "PLATFORM_COMPOSE_PROJECT": "shop-staging",
        "PLATFORM_STEP_NO": "0",
        "PLATFORM_STEP_COUNT": "9",
        "PLATFORM_STEP_LABEL": "",
        "PLATFORM_ROLLBACK_COUNT": "1",
        "PLATFORM_LOCK_HELD": "",
        "PLATFORM_DOCKER_CONFIG": "",
        "PLATFORM_RELAY_PID": "",
    } | overrides
    return "".join(f"{name}={value}\n" for name, value in values.items())


def run_runtime(
    script: str,
    base: Path,
    path: str | None = None,
    env: dict[str, str] | None = None,
    **variables: str,
) -> subprocess.CompletedProcess[str]:
    """`script` after the runtime and a plan's variables, under `set -euo pipefail` and umask
    077, with a bare environment (PATH only: `path` first, when given; and `env`)."""
    argv, environment = runtime_command(script, base, path, env, **variables)
    return subprocess.run(argv, capture_output=True, text=True, check=False, env=environment)


def runtime_command(
    script: str,
    base: Path,
    path: str | None = None,
    env: dict[str, str] | None = None,
    **variables: str,
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment `run_runtime` runs (for a test that runs it otherwise)."""
    search = os.environ.get("PATH", "/usr/bin:/bin")
    argv = [BASH, "-c", f"set -euo pipefail\numask 077\n{runtime()}\n"
            f"{plan_variables(base, **variables)}{script}"]  # fmt: skip
    return argv, {"PATH": f"{path}:{search}" if path else search} | (env or {})


RECORDER = """#!/usr/bin/env bash
# A fake {name}: records its argv (one line, arguments separated by \\x1f), then answers.
(IFS=$'\\x1f'; printf '%s\\n' "{name}$IFS$*") >>"{log}"
{body}
"""


class Fakes:
    """Fake commands on a PATH of their own, each recording its argv in one log."""

    def __init__(self, folder: Path) -> None:
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True)
        self.log = folder / "calls.log"
        self.log.touch()

    def add(self, name: str, body: str = "exit 0") -> None:
        """A fake `name` whose answer is the bash `body` (it sees the argv as "$@")."""
        path = self.bin / name
        path.write_text(RECORDER.format(name=name, log=self.log, body=body))
        path.chmod(0o755)

    def calls(self, name: str | None = None) -> list[list[str]]:
        """Every recorded argv (the command's name first), oldest first."""
        lines = [line.split("\x1f") for line in self.log.read_text().splitlines()]
        return [argv for argv in lines if name is None or argv[0] == name]
