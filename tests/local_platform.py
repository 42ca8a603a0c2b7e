"""A platform checkout with git history whose environments live on `local` hosts: release
records in a directory, read by the runtime's platform_facts as on a server. Enough to run the
promotion policy's edge (and actions/apply's calls of the CLI) for real, without servers."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import yaml

from platform_lib.models.records import Digests, ReleaseRecord

REPO = Path(__file__).resolve().parents[1]
WEB = "ghcr.io/example-org/paiss-web"
D1, D2 = f"sha256:{'1' * 64}", f"sha256:{'2' * 64}"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip


@dataclass
class LocalPlatform:
    root: Path
    host: Path

    def commit(self, message: str) -> str:
        git(self.root, "add", "-A")
        git(self.root, "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm",
            message, "--allow-empty")  # fmt: skip
        return git(self.root, "rev-parse", "HEAD")

    def release(self, env: str, release: str, made_from: str, digest: str) -> None:
        """`env` runs `release` (made from commit `made_from`), web at `digest`."""
        base = self.host / "projects" / "paiss" / env
        folder = base / "releases" / release
        folder.mkdir(parents=True)
        record = ReleaseRecord(release=release, project="paiss", environment=env,
                               platform_sha=made_from, outcome="deployed",
                               digests=Digests(services={"web": f"{WEB}@{digest}"}))  # fmt: skip
        (folder / "release.json").write_text(record.model_dump_json())
        (base / "current").unlink(missing_ok=True)
        (base / "current").symlink_to(folder)


def make_local(tmp_path: Path) -> LocalPlatform:
    root, host = tmp_path / "repo", tmp_path / "host"
    shutil.copytree(REPO / "configs", root / "configs")
    settings = yaml.safe_load((root / "configs/platform.yml").read_text())
    settings["deploy_root"] = str(host)
    for environment in settings["environments"].values():
        environment["hosts"] = {"local-1": {"kind": "local"}}
    (root / "configs/platform.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    git(root, "init", "-q")
    platform = LocalPlatform(root, host)
    platform.commit("configs")
    return platform


def load_action(name: str) -> ModuleType:
    """actions/apply/apply.py as a module (actions/lib on the path, as the action has it)."""
    if str(REPO / "actions/lib") not in sys.path:
        sys.path.insert(0, str(REPO / "actions/lib"))
    spec = importlib.util.spec_from_file_location(name, REPO / "actions/apply/apply.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pydantic look their module up
    spec.loader.exec_module(module)
    return module
