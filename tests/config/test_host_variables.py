"""Keys of a release's `.env` that docker compose, or a program it starts, would act on on the
host (`env.host-variable`): validation refuses them in env files and as secret names, and the
host's `platform_policy_check` refuses the same ones (one list, held together here) before
compose reads anything."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from platform_lib.config.host_variables import HOST_VARIABLES, is_host_variable
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import validate_sources
from platform_lib.planning.render import runtime, runtime_file

REPO = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash") or "/bin/bash"
REFUSED = re.compile(r" refused env\.host-variable: \.env (\S+) ")
NAMES = [
    "COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_ENV_FILES", "COMPOSE_PROJECT_NAME",
    "COMPOSE_EXPERIMENTAL_X", "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "BASH_ENV",
    "ENV", "SHELLOPTS", "PS4", "IFS", "LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "HOME",
    "TMPDIR", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "HTTP_PROXY", "https_proxy", "no_proxy",
    "ALL_PROXY",
]  # fmt: skip
ALLOWED = [
    "PLATFORM_PROJECT", "PLATFORM_IMAGE_WEB", "APP_HOME", "MY_PATH", "ENVIRONMENT", "LOG_LEVEL",
    "docker_host", "COMPOSE", "DOCKER", "Http_Proxy", "GITHUB_REPO_URL_X",
]  # fmt: skip


def host_list() -> list[str]:
    """The patterns of `reserved` in runtime/policy.sh, as bash reads them."""
    text = runtime_file("policy")
    found = re.search(r"local -a reserved=\(\n(.*?)\n  \)", text, re.DOTALL)
    assert found is not None, "runtime/policy.sh no longer looks as this test expects"
    return shlex.split(found[1])


def host_refuses(tmp_path: Path, env: str, argv: tuple[str, ...] = ()) -> tuple[int, list[str]]:
    """Exit status and the keys refused of the host check on a release with this .env (and
    compose run as `argv`, when given)."""
    release = tmp_path / "base" / "releases" / "r1"
    release.mkdir(parents=True)
    (release / ".env").write_text(env, encoding="utf-8")
    script = f'set -euo pipefail\n{runtime()}\nrc=0\n"$@" || rc=$?\nexit $rc\n'
    call = ("platform_policy_check", str(tmp_path / "base"), "r1", "p-staging", "--", *argv)
    if not argv:
        call = ("platform_policy_env_keys", str(release / ".env"))
    done = subprocess.run(
        [BASH, "-c", script, "bash", *call], capture_output=True, text=True, check=False
    )
    return done.returncode, REFUSED.findall(done.stderr)


def test_the_host_refuses_the_list_validation_refuses() -> None:
    assert tuple(host_list()) == HOST_VARIABLES


def test_the_host_and_validation_agree_on_every_name(tmp_path: Path) -> None:
    names = NAMES + ALLOWED
    status, refused = host_refuses(tmp_path, "".join(f"{name}=x\n" for name in names))
    assert status == 1
    assert refused == [name for name in names if is_host_variable(name)] == NAMES


def test_the_host_reads_keys_as_compose_does(tmp_path: Path) -> None:
    env = (
        "export BASH_ENV='$(id>/tmp/x)'\n  COMPOSE_FILE=other.yml\nDOCKER_HOST = tcp://x:2375\n"
        "GIT_DIR: /srv\n# COMPOSE_PROFILES=x\nPLATFORM_PROJECT='shop'\nexportLD_X=1\n"
    )
    assert host_refuses(tmp_path, env) == (
        1,
        ["BASH_ENV", "COMPOSE_FILE", "DOCKER_HOST", "GIT_DIR"],
    )


def test_the_host_refuses_before_compose_reads_the_release(tmp_path: Path) -> None:
    ran = tmp_path / "compose-ran"
    argv = ("sh", "-c", f"touch {ran}", "sh")
    assert host_refuses(tmp_path, "COMPOSE_PROFILES=*\n", argv) == (1, ["COMPOSE_PROFILES"])
    assert not ran.exists()


def test_platform_variables_and_app_settings_pass_the_host(tmp_path: Path) -> None:
    env = "".join(f"{name}=x\n" for name in ALLOWED)
    assert host_refuses(tmp_path, env) == (0, [])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    return tmp_path


def test_validation_refuses_them_in_env_files_and_as_secret_names(root: Path) -> None:
    env = root / "configs/paiss/.env.staging"
    env.write_text(env.read_text(encoding="utf-8") + "export BASH_ENV=x\nDOCKER_HOST=y\n", "utf-8")
    manifest = root / "configs/paiss/project.yml"
    text = manifest.read_text(encoding="utf-8")
    assert "\nsecrets:\n" not in text
    manifest.write_text(text + "secrets:\n  - LD_PRELOAD\n", encoding="utf-8")
    _, problems = validate_sources(read_sources(root))
    found = [(p.location.file, p.location.line) for p in problems if p.rule == "env.host-variable"]
    lines = len(env.read_text(encoding="utf-8").splitlines())
    assert found == [
        ("configs/paiss/.env.staging", lines - 1),
        ("configs/paiss/.env.staging", lines),
        ("configs/paiss/project.yml", len(text.splitlines()) + 2),
    ]
    assert [p.rule for p in problems] == ["env.host-variable"] * 3
