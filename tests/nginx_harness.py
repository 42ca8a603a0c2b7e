"""A real nginx (Debian's) as a host process with its own prefix, for tests of the generated
proxy config. Missing nginx is a failure, not a skip: .ci/run installs it."""

from __future__ import annotations

import atexit
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from platform_lib.processes import is_running

_random = random.SystemRandom()


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    assert found, "nginx is not installed: apt-get install nginx-light (tests/e2e/infra/install.sh)"
    return found


PORTS = range(22000, 32000)
"""Where `free_port` picks: below the kernel's ephemeral range (Linux: 32768-60999)."""
CLAIMS = Path(tempfile.gettempdir()) / "platform-test-ports"
"""One file per port handed out, holding the pid of the test process it went to."""
_claimed: list[Path] = []


def free_port() -> int:
    """A local TCP port nothing listens on now, for a server that binds it later (nginx, a
    container's published port), never handed out twice while the test process that got it
    lives.

    Picked below the kernel's ephemeral range, not by `bind(0)`: the kernel hands the ports of
    that range to every `bind(0)` and outgoing connection of the machine (the other test
    process's fake servers among them), so one it gave out could be taken again before the
    server here binds it. Each port is claimed with a file made with O_EXCL, so two test
    processes (the e2e one and the rest, running side by side) never get the same one."""
    if not _claimed:
        _sweep()
    for _ in range(500):
        port = _random.choice(PORTS)
        claim = CLAIMS / str(port)
        try:
            fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        _claimed.append(claim)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use by something else: the claim stays, the port is passed over
            return port
    raise AssertionError(f"no free TCP port in {PORTS.start}-{PORTS.stop - 1}")


def _sweep() -> None:
    """Remove the claims of test processes that are gone (and drop this one's at exit)."""
    CLAIMS.mkdir(exist_ok=True)
    for claim in CLAIMS.iterdir():
        try:
            pid = int(claim.read_text() or "0")
        except (OSError, ValueError):
            continue
        if pid and not is_running(pid):
            claim.unlink(missing_ok=True)
    atexit.register(_release)


def _release() -> None:
    for claim in _claimed:
        claim.unlink(missing_ok=True)


def self_signed(directory: Path, name: str, days: int = 30) -> None:
    """`fullchain.pem` and `privkey.pem` for `name`, certbot's layout."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(directory / "privkey.pem"), "-out",
         str(directory / "fullchain.pem"), "-days", str(days), "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True,
    )  # fmt: skip


@dataclass
class Nginx:
    """nginx with `prefix/nginx.conf` including `prefix/platform/*.conf` in http {}."""

    prefix: Path

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.prefix / "nginx.pid"

    @property
    def platform_dir(self) -> Path:
        return self.prefix / "platform"

    def write_main(self) -> None:
        for sub in ("platform/sites", "platform/upstreams", "platform/logs", "tmp", "logs"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        temp = "\n".join(
            f"  {kind}_temp_path {self.prefix}/tmp/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.conf.write_text(
            # Workers as root: the test's temporary directories are private (0700).
            "user root;\n"
            f"pid {self.pid_file};\n"
            f"error_log {self.prefix}/logs/error.log warn;\n"
            "worker_processes 2;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "  access_log off;\n"
            f"{temp}\n"
            f"  include {self.platform_dir}/*.conf;\n"
            "}\n",
            encoding="utf-8",
        )

    def test(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [nginx_binary(), "-t", "-q", "-p", str(self.prefix), "-e", "stderr",
             "-c", str(self.conf)],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip

    def start(self) -> None:
        subprocess.run(
            [nginx_binary(), "-p", str(self.prefix), "-e", "stderr", "-c", str(self.conf)],
            check=True, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.pid_file.exists():
            assert time.monotonic() < deadline, "nginx did not write its pid file"
            time.sleep(0.02)

    def workers(self) -> set[int]:
        """Pids of the master's worker processes."""
        master = self.pid_file.read_text().strip()
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == master:
                found.add(int(stat.parent.name))
        return found

    def reload(self) -> None:
        """Reload, and return once the old config's workers are gone: until then a new
        connection may still be served by one of them."""
        old = self.workers()
        subprocess.run(
            [nginx_binary(), "-p", str(self.prefix), "-e", "stderr", "-c", str(self.conf),
             "-s", "reload"],
            check=True, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while old & self.workers():
            assert time.monotonic() < deadline, "nginx's old workers did not exit"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.pid_file.exists():
            subprocess.run(
                [nginx_binary(), "-p", str(self.prefix), "-e", "stderr", "-c", str(self.conf),
                 "-s", "quit"],
                capture_output=True, check=False, timeout=30,
            )  # fmt: skip
            deadline = time.monotonic() + 10
            while self.pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
