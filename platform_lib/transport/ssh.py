"""An `ssh` host: one SSH connection per host, its key pinned from the settings.

One `ssh host bash -s`, started by the first `run` or early by `open_in_background`, which
every script of the command (facts, then the plan) is fed to in turn: sshd sees one
connection, one login, one session. It is a child of the client, in its process group, and
not shared (no ControlMaster): when the client is killed with its process group, as a
cancelled CI job is, the connection goes with it, and the host's script sees its progress
writes fail (runtime/progress.sh) and records that its client went away. A ControlMaster
would daemonize and outlive the client, and the host could not tell.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from platform_lib.errors import PlatformError
from platform_lib.processes import is_running
from platform_lib.transport.base import BashSession, LineSink, RunResult, secret_prelude


class SshHost(Protocol):
    """What a connection needs of a host (a TargetHost, or an early hint of one)."""

    @property
    def name(self) -> str: ...
    @property
    def address(self) -> str | None: ...
    @property
    def port(self) -> int: ...
    @property
    def user(self) -> str: ...
    @property
    def host_key(self) -> str | None: ...
    @property
    def docker_host(self) -> str | None: ...


HOST_KEY_FAILURES = ("REMOTE HOST IDENTIFICATION HAS CHANGED", "Host key verification failed")


WORKDIR_PREFIX = "platform-ssh-"
"""A transport's own directory (the pinned known_hosts): platform-ssh-<pid>-<random>."""


def sweep_leftovers(tmp: Path) -> list[Path]:
    """Remove the directories that clients killed outright (SIGKILL: no cleanup ran) left in
    `tmp`: this user's, of a process that no longer runs. They hold a public host key only."""
    removed = []
    for path in tmp.glob(f"{WORKDIR_PREFIX}*-*"):
        pid = path.name.removeprefix(WORKDIR_PREFIX).split("-", 1)[0]
        try:
            if not pid.isdigit() or path.lstat().st_uid != os.getuid() or is_running(int(pid)):
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def known_hosts_line(host: SshHost) -> str:
    name = host.address if host.port == 22 else f"[{host.address}]:{host.port}"
    return f"{name} {host.host_key}\n"


class SshTransport:
    def __init__(
        self, host: SshHost, identity: Path | None = None, connect_timeout: int = 10
    ) -> None:
        if host.address is None or host.host_key is None:
            raise PlatformError(f"host {host.name}: ssh needs an address and a pinned host_key")
        self._host = host
        sweep_leftovers(Path(tempfile.gettempdir()))
        self._dir = tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
        workdir = Path(self._dir.name)
        known_hosts = workdir / "known_hosts"
        known_hosts.write_text(known_hosts_line(host), encoding="utf-8")
        key_type = host.host_key.split(" ", 1)[0]
        self._options = [
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", f"HostKeyAlgorithms={key_type}",
            "-o", f"ConnectTimeout={connect_timeout}",
            "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=4",
            "-o", "ControlMaster=no",
            "-o", "ControlPath=none",
            "-p", str(host.port),
        ]  # fmt: skip
        if identity is not None:
            self._options += ["-i", str(identity), "-o", "IdentitiesOnly=yes"]
        self._target = f"{host.user}@{host.address}"
        self._session: BashSession | None = None

    def open_in_background(self) -> None:
        """Start the session now (key exchange and login run while the caller goes on); the
        first `run` sends its script to it, and a failure to connect is reported there."""
        if self._session is None or self._session.ended:
            self._session = BashSession(["ssh", *self._options, self._target, "bash -s"])

    def _fail(self, code: int, lines: list[str]) -> None:
        if code == 255 and any(m in line for line in lines for m in HOST_KEY_FAILURES):
            raise PlatformError(
                f"host {self._host.name} ({self._host.address}:{self._host.port}) did not "
                "present the host key pinned in configs/platform.yml: refusing to connect. If "
                "the host was rebuilt, verify its new key out of band and update host_key"
            )
        if code == 255:
            raise PlatformError(
                f"cannot reach {self._target} port {self._host.port} over ssh: "
                f"{lines[-1] if lines else 'no output'}"
            )

    def run(self, script: str, secrets: Mapping[str, str], on_line: LineSink) -> RunResult:
        prelude = secret_prelude(secrets)
        if self._host.docker_host:
            prelude = f"export DOCKER_HOST={shlex.quote(self._host.docker_host)}\n" + prelude
        lines: list[str] = []

        def collect(line: str) -> None:
            lines.append(line)
            on_line(line)

        self.open_in_background()
        assert self._session is not None
        result = self._session.run(prelude + script, collect)
        self._fail(result.exit_code, lines)
        return result

    def interactive(self, command: list[str]) -> int:
        """A terminal session (or one command) on the host, with the same pinned key."""
        return subprocess.run(
            ["ssh", *self._options, "-t", self._target, *command], check=False
        ).returncode

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        self._dir.cleanup()
