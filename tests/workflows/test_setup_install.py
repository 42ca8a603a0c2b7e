"""actions/setup/install.sh with a tool cache: the venv is built once and reused, unless
someone other than its owner could have written it (then it is built afresh: the platform's
jobs run it with the deploy keys in reach). Installs the app side's lock (the smaller one)
from pip's index or cache."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL = REPO_ROOT / "actions/setup/install.sh"


def install(cache: Path) -> Path:
    """Run the install; the venv's python it reports."""
    lock = REPO_ROOT / "actions/deploy/requirements.lock"
    env = {**os.environ, "RUNNER_TOOL_CACHE": str(cache), "PLATFORM_REQUIREMENTS": str(lock)}
    env.pop("GITHUB_OUTPUT", None)
    done = subprocess.run(["bash", str(INSTALL)], env=env, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("python=")]
    return Path(line.removeprefix("python="))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tool-cache")


def test_a_venv_is_reused_while_only_its_owner_can_write_it(cache: Path) -> None:
    python = install(cache)
    venv = python.parents[1]
    mine = venv / "kept"
    mine.write_text("a file of the first install\n", encoding="utf-8")
    assert install(cache) == python
    assert mine.exists()  # reused as it was


@pytest.mark.parametrize("path", [".", "pyvenv.cfg"], ids=["venv", "a-file-in-it"])
def test_a_venv_others_could_write_is_built_afresh(cache: Path, path: str) -> None:
    venv = install(cache).parents[1]
    planted = venv / "planted"
    planted.write_text("left by someone else\n", encoding="utf-8")
    target = venv / path
    target.chmod(target.stat().st_mode | 0o002)
    try:
        assert install(cache).parents[1] == venv
        assert not planted.exists()
    finally:
        if target.exists():
            target.chmod(target.stat().st_mode & ~0o002)
