"""The pre-commit hook other repositories use (.pre-commit-hooks.yaml), run by pre-commit
itself: it installs this repository as a package and validates a platform repo's configs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _pre_commit(cwd: Path, repo_root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo_root), "platform-validate",
         "--all-files"],
        cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_hook_validates_another_repository(repo_root: Path, tmp_path: Path) -> None:
    # try-repo installs the hook from the committed tree: use a clone holding the work tree.
    hook_repo = tmp_path / "hook"
    skip = (".venv", ".state", ".git", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache")
    shutil.copytree(repo_root, hook_repo, ignore=shutil.ignore_patterns(*skip))
    _git(hook_repo, "init", "-q")
    _git(hook_repo, "add", "-A")
    _git(hook_repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "hooks")
    platform = tmp_path / "platform"
    shutil.copytree(repo_root / "configs", platform / "configs")
    _git(platform, "init", "-q")
    _git(platform, "add", "-A")

    passed = _pre_commit(platform, hook_repo)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "validate platform configs" in passed.stdout

    compose = platform / "configs" / "paiss" / "docker-compose.yml"
    compose.write_text(
        compose.read_text().replace("    restart:", "    container_name: paiss\n    restart:")
    )
    _git(platform, "add", "-A")
    failed = _pre_commit(platform, hook_repo)
    assert failed.returncode == 1
    assert "configs/paiss/docker-compose.yml:3:5: error: service 'web' sets container_name" in (
        failed.stdout
    )
