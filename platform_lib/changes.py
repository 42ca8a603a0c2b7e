"""Which tenant projects a git range affects, so CI deploys exactly those.

The range is the WHOLE push: every commit between `base` (the commit the branch pointed at
before the push, GitHub's `before`) and `head` (`after`). Comparing the two trees is what makes
a push of several commits whose last one touches nothing still deploy the projects the earlier
commits changed (the system this replaces looked at HEAD~1..HEAD only and missed them).

A changed path is classified, in this order:

1. `configs/<p>/...` where `<p>` is a project at base or at head -> project `<p>` is affected.
   A project is a folder `configs/<p>/` holding a `project.yml` whose name `<p>` is a valid
   project name (PROJECT_NAME). Invalid names are never reported as projects: they end up in
   CI matrices and shell commands, and config validation reports them anyway.
2. a path matching one of SHARED_PATHS -> shared: every project existing at head is affected.
3. anything else (README.md, tests, the library itself...) affects nothing.

Projects whose folder existed at base but not at head are reported as `deleted`, never as
`changed`; tearing them down is a separate, deliberate step.

Git is always run through `_git`, with argument lists (no shell) and plumbing commands, so
neither a user's git configuration nor the locale changes what is parsed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal, assert_never

from platform_lib.errors import PlatformError
from platform_lib.models.names import PROJECT_NAME_PATTERN
from platform_lib.processes import ProgramFailed, run_program

CONFIGS_DIR = "configs"
PROJECT_FILE = "project.yml"
PROJECT_NAME = re.compile(PROJECT_NAME_PATTERN)

SHARED_PATHS: tuple[str, ...] = (
    # Everything under configs/ that is not inside a project folder: configs/platform.yml,
    # configs/shared/..., any other top-level file or non-project folder.
    "configs/*",
    # The deploy runtime executed on every host, one file per noun.
    "platform_lib/planning/runtime/*.sh",
)
"""Paths whose change affects every tenant, as `fnmatch` patterns on repo-relative POSIX paths.

In fnmatch `*` also matches `/`, so `configs/*` covers the whole configs tree; project folders
are carved out before these patterns are tried (see the module docstring).
"""

_ZERO_SHA = re.compile(r"^(?:0{40}|0{64})$")
_MISSING_REVISION = re.compile(
    r"bad revision '(?P<a>[^']*)'|bad object (?P<b>\S+)|Not a valid object name (?P<c>\S+)"
    r"|ambiguous argument '(?P<d>[^']*)': unknown revision"
)
_FETCH_HINT = "fetch the full history, e.g. actions/checkout with `fetch-depth: 0`"

Format = Literal["json", "matrix", "text"]


@dataclass(frozen=True)
class ChangeSet:
    """The projects a git range affects.

    changed         projects existing at head that must be deployed, sorted
    deleted         projects whose folder existed at base but not at head, sorted
    shared_changed  shared paths (SHARED_PATHS) that changed, sorted; if any, `changed` holds
                    every project existing at head
    files           every path the range changed, sorted (including paths that affect nothing)
    """

    changed: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    shared_changed: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def is_zero_sha(rev: str) -> bool:
    """GitHub sends an all-zero sha as `before` when a push creates the branch."""
    return _ZERO_SHA.fullmatch(rev) is not None


def affected_projects(repo: Path, base: str, head: str) -> ChangeSet:
    """The projects affected by everything that changed from `base` to `head` in `repo`.

    `base` may be the all-zero sha of a new branch: the range is then compared with an empty
    tree, so every file at head is new and every project existing at head is changed.
    """
    if is_zero_sha(head):
        raise PlatformError(
            "head is the all-zero sha: the push deleted the branch and there is nothing to deploy"
        )
    head_sha = _resolve(repo, head)
    head_projects = _projects(_list_files(repo, head_sha, CONFIGS_DIR))
    if is_zero_sha(base):
        base_projects: frozenset[str] = frozenset()
        files = _list_files(repo, head_sha)
    else:
        base_sha = _resolve(repo, base)
        base_projects = _projects(_list_files(repo, base_sha, CONFIGS_DIR))
        files = _diff(repo, base_sha, head_sha)

    known = base_projects | head_projects
    touched: set[str] = set()
    shared: set[str] = set()
    for path in files:
        parts = path.split("/")
        if len(parts) > 2 and parts[0] == CONFIGS_DIR and parts[1] in known:
            touched.add(parts[1])
        elif any(fnmatchcase(path, pattern) for pattern in SHARED_PATHS):
            shared.add(path)

    changed = head_projects if shared else touched & head_projects
    return ChangeSet(
        changed=tuple(sorted(changed)),
        deleted=tuple(sorted(base_projects - head_projects)),
        shared_changed=tuple(sorted(shared)),
        files=tuple(sorted(files)),
    )


def render_changes(changes: ChangeSet, fmt: Format) -> str:
    """`changes` as text for a CI step; deterministic, without a trailing newline.

    json    {"changed": [...], "deleted": [...], "shared_changed": [...]}, sorted keys, indent 2
    matrix  one-line {"include":[{"project":"a"},...]} for `strategy.matrix: ${{ fromJSON(...) }}`;
            only changed projects (deleted ones are not deployed)
    text    one line per category, for humans
    """
    if fmt == "json":
        document = {
            "changed": list(changes.changed),
            "deleted": list(changes.deleted),
            "shared_changed": list(changes.shared_changed),
        }
        return json.dumps(document, indent=2, sort_keys=True)
    if fmt == "matrix":
        include = [{"project": project} for project in changes.changed]
        return json.dumps({"include": include}, separators=(",", ":"), sort_keys=True)
    if fmt == "text":
        return "\n".join(
            [
                f"changed: {_join(changes.changed)}",
                f"deleted: {_join(changes.deleted)}",
                f"shared changed: {_join(changes.shared_changed)}",
            ]
        )
    assert_never(fmt)


def _join(items: tuple[str, ...]) -> str:
    return ", ".join(items) if items else "none"


def _projects(paths: list[str]) -> frozenset[str]:
    """Project names among repo-relative paths: `configs/<p>/project.yml` with a valid `<p>`."""
    return frozenset(
        parts[1]
        for parts in (path.split("/") for path in paths)
        if len(parts) == 3
        and parts[0] == CONFIGS_DIR
        and parts[2] == PROJECT_FILE
        and PROJECT_NAME.fullmatch(parts[1])
    )


def _resolve(repo: Path, rev: str) -> str:
    """The full sha of the commit `rev` names; PlatformError if there is none."""
    if not rev:
        raise PlatformError("empty git revision")
    sha = _git(repo, "rev-list", "-n1", "--end-of-options", rev, "--").strip()
    if not sha:
        raise PlatformError(f"git revision {rev!r} is not a commit")
    return sha


def _list_files(repo: Path, sha: str, *pathspec: str) -> list[str]:
    """Repo-relative paths of the files in commit `sha`, limited to `pathspec` if given."""
    output = _git(repo, "ls-tree", "--full-tree", "-r", "-z", "--name-only", sha, "--", *pathspec)
    return [path for path in output.split("\0") if path]


def _diff(repo: Path, base_sha: str, head_sha: str) -> list[str]:
    """Repo-relative paths that differ between two commits (renames count as delete + add)."""
    output = _git(
        repo, "diff-tree", "-r", "-z", "--name-status", "--no-renames", base_sha, head_sha
    )
    fields = output.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    if len(fields) % 2:
        raise PlatformError(f"unexpected output of git diff-tree {base_sha} {head_sha}")
    # -z --name-status: STATUS NUL PATH NUL, repeated
    return fields[1::2]


def _git(repo: Path, *args: str) -> str:
    """Run `git -C repo ARGS...` and return its stdout; any failure is one PlatformError line."""
    # Plumbing output does not depend on the locale, but the error messages parsed below do.
    env = {**os.environ, "LC_ALL": "C", "LANGUAGE": ""}
    try:
        result = run_program(["git", "-C", str(repo), *args], env=env)
    except ProgramFailed:
        raise PlatformError("git is not installed or not on PATH") from None
    if result.exit_code != 0:
        stderr = result.stderr
        missing = _MISSING_REVISION.search(stderr)
        if missing:
            rev = next(value for value in missing.groupdict().values() if value is not None)
            raise PlatformError(
                f"unknown git revision {rev!r} in {repo}: the commit is not in this clone; "
                f"{_FETCH_HINT}"
            )
        if "not a git repository" in stderr:
            raise PlatformError(f"{repo} is not a git repository")
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        detail = lines[0] if lines else f"exit status {result.exit_code}"
        raise PlatformError(f"git {' '.join(args)} failed in {repo}: {detail}")
    return result.stdout
