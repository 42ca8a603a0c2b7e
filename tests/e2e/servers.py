"""The real servers of the end-to-end tests: dockerd, a registry (and its anonymous Docker Hub
mirror view), and an sshd whose sessions use that dockerd (tests/e2e/infra). Started if not
running; one that cannot start fails the tests, it never skips them.

It is the machine's one local stack, shared with `make demo` (demo/run.sh): both use the state
dir `$PLATFORM_LOCAL_STATE`, default /tmp/platform-local. `$E2E_STATE_DIR` is still read, as an
older name for it (PLATFORM_LOCAL_STATE wins when both are set; an empty value counts as unset).
The tests never stop the servers; their tenants (shop, blog; the workflow tests' wf-*) and deploy
roots (pytest tmp dirs) are their own, so the demo's containers on the same dockerd are left
alone, and `make test` runs the workflow tests beside the other e2e tests."""

from __future__ import annotations

import fcntl
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

INFRA = Path(__file__).parent / "infra"
DEFAULT_STATE = "/tmp/platform-local"  # demo/run.sh has the same default
STATE = Path(
    os.environ.get("PLATFORM_LOCAL_STATE") or os.environ.get("E2E_STATE_DIR") or DEFAULT_STATE
)


def _exports(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            found[key] = shlex.split(value)[0]
    return found


@dataclass(frozen=True)
class Servers:
    env: dict[str, str]

    @property
    def state(self) -> Path:
        return Path(self.env["PLATFORM_LOCAL_STATE"])

    @property
    def shared(self) -> bool:
        """The machine's running stack (not a stand-in of fixed values, for tests that only
        render or plan): its dockerd is shared with other tests and processes."""
        return "PLATFORM_LOCAL_STATE" in self.env

    def docker(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["docker", *args],
            env={**os.environ, **self.docker_env()},
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def docker_env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.env["DOCKER_HOST"], "DOCKER_CONFIG": self.env["DOCKER_CONFIG"]}

    def ssh_logins(self, fingerprint: str = "") -> int:
        """Logins so far (of one key, by its SHA256 fingerprint, when given)."""
        log = Path(self.env["SSHD_LOG"]).read_text(errors="replace")
        return sum(
            1
            for line in log.splitlines()
            if "Accepted publickey for" in line and line.endswith(fingerprint)
        )

    def client_key(self, directory: Path) -> tuple[Path, str]:
        """A client key of one's own, authorized on the sshd: (private key, fingerprint), so
        a test can count its own connections while others use the server too."""
        key = directory / "client_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)  # fmt: skip
        public = key.with_suffix(".pub").read_text()
        with Path(self.env["SSH_CLIENT_KEY"]).parent.joinpath("authorized_keys").open("a") as f:
            f.write(public)
        listed = subprocess.run(["ssh-keygen", "-l", "-f", str(key)], check=True,
                                capture_output=True, text=True).stdout  # fmt: skip
        return key, listed.split()[1]


def _run(script: str, *args: str) -> None:
    done = subprocess.run(
        ["bash", str(INFRA / script), *args],
        env={**os.environ, "PYTHON": sys.executable}, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(
            f"{script} failed (the e2e servers are required):\n{done.stdout}\n{done.stderr}"
        )


def start_servers() -> Servers:
    """Install, start and build what is missing, one pytest process at a time: `make test`
    runs two that use the servers, and install.sh (apt) and build-test-images.sh (tags,
    pushes) must not run twice at once. up.sh's own lock is a different file, as it must be:
    the same one would be held here while up.sh waits for it."""
    STATE.mkdir(parents=True, exist_ok=True)
    with (STATE / ".start.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _run("install.sh")
        _run("up.sh", str(STATE))
        _run("build-test-images.sh", str(STATE))
    return Servers({**_exports(STATE / "env"), **_exports(STATE / "images.env")})
