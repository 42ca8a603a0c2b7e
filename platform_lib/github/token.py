"""Where the GitHub token comes from. It lives in a `SecretStr`, so no repr, log line or
exception ever shows it; only the client's auth hook reads its value."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping

from pydantic import SecretStr

from platform_lib.github.errors import TokenMissing
from platform_lib.processes import ProgramFailed, run_program

TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN")


def _gh_auth_token(gh: str) -> str | None:
    try:
        done = run_program([gh, "auth", "token"], timeout=15)
    except ProgramFailed:
        return None
    # `gh` prints the token on stdout; on failure its stderr says why, and is dropped here
    # because the error below already names every way to provide one.
    return done.stdout.strip() if done.exit_code == 0 else None


def find_token(
    environ: Mapping[str, str],
    which: Callable[[str], str | None] = shutil.which,
) -> SecretStr:
    """GH_TOKEN, then GITHUB_TOKEN, then `gh auth token` when the GitHub CLI is installed."""
    for name in TOKEN_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return SecretStr(value)
    gh = which("gh")
    from_gh = _gh_auth_token(gh) if gh else None
    if from_gh:
        return SecretStr(from_gh)
    raise TokenMissing(
        "no GitHub token: set GH_TOKEN (or GITHUB_TOKEN), or log in with `gh auth login`"
    )
