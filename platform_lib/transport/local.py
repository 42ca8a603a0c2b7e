"""A `local` host: the same script through bash on this machine."""

from __future__ import annotations

import os
from collections.abc import Mapping

from platform_lib.transport.base import LineSink, RunResult, run_bash, secret_prelude


class LocalTransport:
    def __init__(self, docker_host: str | None = None) -> None:
        self._env = dict(os.environ)
        if docker_host:
            self._env["DOCKER_HOST"] = docker_host

    def run(self, script: str, secrets: Mapping[str, str], on_line: LineSink) -> RunResult:
        return run_bash(["bash", "-s"], secret_prelude(secrets) + script, on_line, self._env)

    def close(self) -> None:
        pass
