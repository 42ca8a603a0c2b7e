"""affected_projects against real git repositories built in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from platform_lib.changes import (
    SHARED_PATHS,
    ChangeSet,
    affected_projects,
    is_zero_sha,
    render_changes,
)
from platform_lib.errors import PlatformError

ZERO = "0" * 40


class GitRepo:
    """A throwaway platform repository; `commit` returns the new commit's sha."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.git("init", "-q")

    def git(self, *args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(self.root), *args],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def write(self, path: str, text: str = "x: 1\n") -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def remove(self, path: str) -> None:
        self.git("rm", "-r", "-q", "--", path)

    def add_project(self, name: str) -> None:
        for file in ("docker-compose.yml", ".env.staging", ".env.production", "project.yml"):
            self.write(f"configs/{name}/{file}", f"# {name} {file}\n")

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user/system git config (signing, hooks, default branch...) leaks into the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key, value in {
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[GitRepo]:
    """A platform repo with projects `api` and `web`, shared files and a README, committed."""
    git_repo = GitRepo(tmp_path / "platform")
    git_repo.write("README.md", "# platform\n")
    git_repo.write("configs/platform.yml", "hosts: []\n")
    git_repo.write("configs/shared/logging.yml", "level: info\n")
    git_repo.write("platform_lib/planning/runtime/lock.sh", "#!/bin/sh\n")
    git_repo.write("platform_lib/planning/other.py", "x = 1\n")
    git_repo.add_project("api")
    git_repo.add_project("web")
    git_repo.commit("initial")
    yield git_repo


def head(repo: GitRepo) -> str:
    return repo.git("rev-parse", "HEAD")


def test_project_added(repo: GitRepo) -> None:
    base = head(repo)
    repo.add_project("shop")
    new = repo.commit("add shop")

    assert affected_projects(repo.root, base, new) == ChangeSet(
        changed=("shop",),
        deleted=(),
        shared_changed=(),
        files=(
            "configs/shop/.env.production",
            "configs/shop/.env.staging",
            "configs/shop/docker-compose.yml",
            "configs/shop/project.yml",
        ),
    )


def test_project_edited_earlier_in_a_multi_commit_range(repo: GitRepo) -> None:
    base = head(repo)
    repo.write("configs/api/docker-compose.yml", "services: {}\n")
    repo.commit("edit api")
    repo.write("README.md", "# platform, documented\n")
    repo.commit("docs")
    last = repo.commit("empty: touches nothing")

    # The replaced system looked at HEAD~1..HEAD only, which sees nothing here.
    assert affected_projects(repo.root, f"{last}~1", last) == ChangeSet()
    assert affected_projects(repo.root, base, last) == ChangeSet(
        changed=("api",),
        deleted=(),
        shared_changed=(),
        files=("README.md", "configs/api/docker-compose.yml"),
    )


def test_change_reverted_within_the_range_affects_nothing(repo: GitRepo) -> None:
    base = head(repo)
    repo.write("configs/web/.env.staging", "A=1\n")
    repo.commit("edit web")
    repo.write("configs/web/.env.staging", "# web .env.staging\n")
    last = repo.commit("revert edit")

    assert affected_projects(repo.root, base, last) == ChangeSet()


@pytest.mark.parametrize(
    "shared_path",
    [
        "configs/platform.yml",
        "configs/shared/logging.yml",
        "configs/new-top-level.yml",
        "configs/templates/nginx.conf",
        "platform_lib/planning/runtime/lock.sh",
    ],
)
def test_shared_file_changed_affects_every_project(repo: GitRepo, shared_path: str) -> None:
    base = head(repo)
    repo.write(shared_path, "changed: true\n")
    new = repo.commit("edit shared")

    assert affected_projects(repo.root, base, new) == ChangeSet(
        changed=("api", "web"),
        deleted=(),
        shared_changed=(shared_path,),
        files=(shared_path,),
    )


def test_file_beside_runtime_is_not_shared(repo: GitRepo) -> None:
    base = head(repo)
    repo.write("platform_lib/planning/other.py", "x = 2\n")
    new = repo.commit("edit library")

    assert affected_projects(repo.root, base, new) == ChangeSet(
        files=("platform_lib/planning/other.py",)
    )


def test_project_deleted(repo: GitRepo) -> None:
    base = head(repo)
    repo.remove("configs/web")
    new = repo.commit("delete web")

    changes = affected_projects(repo.root, base, new)

    assert changes == ChangeSet(
        changed=(),
        deleted=("web",),
        shared_changed=(),
        files=(
            "configs/web/.env.production",
            "configs/web/.env.staging",
            "configs/web/docker-compose.yml",
            "configs/web/project.yml",
        ),
    )


def test_project_deleted_while_shared_file_changed(repo: GitRepo) -> None:
    base = head(repo)
    repo.remove("configs/web")
    repo.commit("delete web")
    repo.write("configs/platform.yml", "hosts: [a]\n")
    new = repo.commit("edit platform")

    changes = affected_projects(repo.root, base, new)

    assert changes.changed == ("api",)
    assert changes.deleted == ("web",)
    assert changes.shared_changed == ("configs/platform.yml",)


def test_folder_that_becomes_a_project_is_a_project(repo: GitRepo) -> None:
    repo.write("configs/blog/docker-compose.yml", "services: {}\n")
    base = repo.commit("blog drafted, no project.yml yet")
    repo.write("configs/blog/project.yml", "name: blog\n")
    repo.write("configs/blog/docker-compose.yml", "services: {web: {}}\n")
    new = repo.commit("blog becomes a project")

    assert affected_projects(repo.root, base, new) == ChangeSet(
        changed=("blog",),
        files=("configs/blog/docker-compose.yml", "configs/blog/project.yml"),
    )


def test_folder_with_invalid_project_name_is_shared(repo: GitRepo) -> None:
    base = head(repo)
    repo.write("configs/Bad_Name/project.yml", "name: bad\n")
    new = repo.commit("invalid project name")

    assert affected_projects(repo.root, base, new) == ChangeSet(
        changed=("api", "web"),
        shared_changed=("configs/Bad_Name/project.yml",),
        files=("configs/Bad_Name/project.yml",),
    )


def test_file_outside_configs_affects_nothing(repo: GitRepo) -> None:
    base = head(repo)
    repo.write("README.md", "# platform v2\n")
    new = repo.commit("docs")

    assert affected_projects(repo.root, base, new) == ChangeSet(
        changed=(), deleted=(), shared_changed=(), files=("README.md",)
    )


def test_zero_base_sha_means_every_project_at_head(repo: GitRepo) -> None:
    repo.remove("configs/web")
    repo.add_project("shop")
    new = repo.commit("new branch content")

    changes = affected_projects(repo.root, ZERO, new)

    assert changes.changed == ("api", "shop")
    assert changes.deleted == ()
    # Compared with an empty tree: every file at head is new, shared ones included.
    assert changes.shared_changed == (
        "configs/platform.yml",
        "configs/shared/logging.yml",
        "platform_lib/planning/runtime/lock.sh",
    )
    assert changes.files == tuple(sorted(repo.git("ls-files").splitlines()))


def test_zero_sha_detection() -> None:
    assert is_zero_sha(ZERO)
    assert is_zero_sha("0" * 64)
    assert not is_zero_sha("0" * 39)
    assert not is_zero_sha("0" * 39 + "1")


def test_zero_head_sha_is_an_error(repo: GitRepo) -> None:
    with pytest.raises(PlatformError, match="deleted the branch"):
        affected_projects(repo.root, head(repo), ZERO)


def test_symbolic_revisions_are_accepted(repo: GitRepo) -> None:
    repo.write("configs/api/project.yml", "name: api\n")
    repo.commit("edit api")
    repo.git("tag", "-a", "-m", "release", "v1")

    assert affected_projects(repo.root, "HEAD~1", "v1").changed == ("api",)


@pytest.mark.parametrize("which", ["base", "head"])
def test_unknown_revision_names_it_and_hints_at_fetch_depth(repo: GitRepo, which: str) -> None:
    missing = "1234567890abcdef1234567890abcdef12345678"
    known = head(repo)
    base, new = (missing, known) if which == "base" else (known, missing)

    with pytest.raises(PlatformError) as caught:
        affected_projects(repo.root, base, new)

    message = str(caught.value)
    assert f"unknown git revision '{missing}'" in message
    assert "fetch-depth: 0" in message
    assert "\n" not in message


def test_unknown_branch_name(repo: GitRepo) -> None:
    with pytest.raises(PlatformError, match="unknown git revision 'origin/nope'"):
        affected_projects(repo.root, "origin/nope", head(repo))


def test_option_like_revision_is_not_an_option(repo: GitRepo) -> None:
    with pytest.raises(PlatformError, match="unknown git revision '--output=/tmp/x'"):
        affected_projects(repo.root, "--output=/tmp/x", head(repo))


def test_tree_is_not_a_commit(repo: GitRepo) -> None:
    with pytest.raises(PlatformError, match=r"'HEAD\^\{tree\}' is not a commit"):
        affected_projects(repo.root, "HEAD^{tree}", "HEAD")


def test_not_a_git_repository(tmp_path: Path) -> None:
    with pytest.raises(PlatformError, match="is not a git repository"):
        affected_projects(tmp_path, "HEAD~1", "HEAD")


def test_shared_paths_cover_configs_and_runtime() -> None:
    assert SHARED_PATHS == ("configs/*", "platform_lib/planning/runtime/*.sh")


CHANGES = ChangeSet(
    changed=("api", "web"),
    deleted=("old",),
    shared_changed=("configs/platform.yml",),
    files=("configs/old/project.yml", "configs/platform.yml"),
)


def test_render_matrix_exact() -> None:
    assert render_changes(CHANGES, "matrix") == '{"include":[{"project":"api"},{"project":"web"}]}'
    assert render_changes(ChangeSet(), "matrix") == '{"include":[]}'


def test_render_json_exact() -> None:
    assert render_changes(CHANGES, "json") == (
        "{\n"
        '  "changed": [\n'
        '    "api",\n'
        '    "web"\n'
        "  ],\n"
        '  "deleted": [\n'
        '    "old"\n'
        "  ],\n"
        '  "shared_changed": [\n'
        '    "configs/platform.yml"\n'
        "  ]\n"
        "}"
    )
    assert json.loads(render_changes(ChangeSet(), "json")) == {
        "changed": [],
        "deleted": [],
        "shared_changed": [],
    }


def test_render_text_exact() -> None:
    assert render_changes(CHANGES, "text") == (
        "changed: api, web\ndeleted: old\nshared changed: configs/platform.yml"
    )
    assert render_changes(ChangeSet(), "text") == (
        "changed: none\ndeleted: none\nshared changed: none"
    )


def test_render_matrix_from_a_real_range(repo: GitRepo) -> None:
    base = head(repo)
    repo.write("configs/web/project.yml", "name: web\n")
    repo.add_project("zeta")
    new = repo.commit("edit web, add zeta")

    rendered = render_changes(affected_projects(repo.root, base, new), "matrix")

    assert rendered == '{"include":[{"project":"web"},{"project":"zeta"}]}'
