"""A client killed outright leaves its ssh directory behind; the next transport removes it
(this user's, of a process that is gone), and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from platform_lib.transport.ssh import WORKDIR_PREFIX, sweep_leftovers


def gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_the_directories_of_processes_that_are_gone_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / f"{WORKDIR_PREFIX}{gone_pid()}-abc"
    alive = tmp_path / f"{WORKDIR_PREFIX}{os.getpid()}-def"
    unnumbered = tmp_path / f"{WORKDIR_PREFIX}xyz"
    other = tmp_path / "other-1-dir"
    for folder in (dead, alive, unnumbered, other):
        folder.mkdir()
        (folder / "known_hosts").write_text("[127.0.0.1]:22 ssh-ed25519 AAAA\n")
    assert sweep_leftovers(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (alive, unnumbered, other)
    )
