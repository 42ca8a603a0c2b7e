"""Identical inputs give byte-identical plans, whatever the hash seed, time zone, locale or
working directory of the process that makes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PLAN_ARGS = [
    "plan", "--project", "filter-ical", "--env", "staging",
    "--image", "backend=v1.4.2", "--image", "frontend=v1.4.2",
    "--at", "2026-11-26T12:00:00Z", "--actor", "alice", "--platform-sha", "abc123",
]  # fmt: skip

ENVIRONMENTS = [
    {"PYTHONHASHSEED": "0", "TZ": "UTC", "LC_ALL": "C"},
    {"PYTHONHASHSEED": "12345", "TZ": "Pacific/Chatham", "LC_ALL": "C.UTF-8"},
    {"PYTHONHASHSEED": "random", "TZ": "America/St_Johns", "LANG": "de_DE.UTF-8"},
]


def _plan(repo_root: Path, cwd: Path, env: dict[str, str], fmt: str) -> bytes:
    full_env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "TZ")}
    full_env.update(env)
    done = subprocess.run(
        [sys.executable, "-m", "platform_lib", *PLAN_ARGS, "--root", str(repo_root),
         "--format", fmt],
        cwd=cwd, env=full_env, capture_output=True, check=True,
    )  # fmt: skip
    return done.stdout


@pytest.mark.parametrize("fmt", ["json", "script", "text"])
def test_plan_is_byte_identical_across_process_settings(
    repo_root: Path, tmp_path: Path, fmt: str
) -> None:
    outputs = {
        _plan(repo_root, cwd, env, fmt) for env in ENVIRONMENTS for cwd in (repo_root, tmp_path)
    }
    assert len(outputs) == 1
    assert next(iter(outputs))  # not empty


def test_plan_time_zone_of_the_clock_does_not_matter(repo_root: Path) -> None:
    utc = _plan(repo_root, repo_root, {}, "json")
    args = [a if a != "2026-11-26T12:00:00Z" else "2026-11-26T13:00:00+01:00" for a in PLAN_ARGS]
    done = subprocess.run(
        [sys.executable, "-m", "platform_lib", *args, "--root", str(repo_root), "--format", "json"],
        capture_output=True, check=True,
    )  # fmt: skip
    assert done.stdout == utc
