"""The registry login's private docker config (runtime registry) with a fake `docker` on
PATH: it lives in the tenant+environment's `logins/<pid>` (0700), never in /tmp; the EXIT
trap removes it, and what a killed script left is removed by the next lock or `lock release`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from runtime_harness import Fakes, run_runtime

# `docker login` keeps the credentials in $DOCKER_CONFIG/config.json, as the real one does.
FAKE_DOCKER = r"""
if [[ $1 == login ]]; then
  auth=$(printf '%s:%s' "$4" "$(cat)" | base64)
  printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$2" "$auth" >"$DOCKER_CONFIG/config.json"
fi
"""
LOGIN = "platform_registry_login registry.example bot REGISTRY_TOKEN\n"


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    fakes = Fakes(tmp_path / "fakes")
    fakes.add("docker", FAKE_DOCKER)
    return fakes


def run(script: str, base: Path, fakes: Fakes, tmp: Path) -> subprocess.CompletedProcess[str]:
    tmp.mkdir(exist_ok=True)
    env = {"REGISTRY_TOKEN": "s3cret", "TMPDIR": str(tmp), "HOME": str(tmp)}
    return run_runtime(script, base, path=str(fakes.bin), env=env)


def logins(base: Path) -> list[Path]:
    return sorted((base / "logins").glob("*"))


def test_the_login_lives_under_the_base_and_goes_with_the_script(
    tmp_path: Path, fakes: Fakes
) -> None:
    base, tmp = tmp_path / "base", tmp_path / "tmp"
    base.mkdir()
    done = run(f"trap platform_cleanup EXIT\n{LOGIN}ls -ld \"$DOCKER_CONFIG\"\necho \"$$\"",
               base, fakes, tmp)  # fmt: skip
    assert done.returncode == 0, done.stderr
    mode, *_, pid = done.stdout.split()
    assert mode.startswith("drwx------")
    assert f"{base}/logins/{pid}" in done.stdout
    assert logins(base) == [] and list(tmp.iterdir()) == []  # removed; nothing in TMPDIR


def test_a_killed_script_leaves_its_login_and_the_next_lock_removes_it(
    tmp_path: Path, fakes: Fakes
) -> None:
    base, tmp = tmp_path / "base", tmp_path / "tmp"
    base.mkdir()
    killed = run(f"trap platform_cleanup EXIT\n{LOGIN}kill -KILL $$", base, fakes, tmp)
    assert killed.returncode == -9
    [left] = logins(base)
    assert "auth" in (left / "config.json").read_text()  # what SIGKILL leaves: under base only
    assert list(tmp.iterdir()) == []

    # A live script's login is not touched.
    with subprocess.Popen(["sleep", "30"]) as alive:
        (base / "logins" / str(alive.pid)).mkdir()
        try:
            done = run(f"platform_lock_acquire {base} alice r9 0 60", base, fakes, tmp)
        finally:
            alive.kill()
    assert done.returncode == 0, done.stderr
    assert logins(base) == [base / "logins" / str(alive.pid)]
    assert f"removed the registry login left by process {left.name} (gone)" in done.stderr


def test_lock_release_removes_the_login_of_a_killed_deploy(tmp_path: Path, fakes: Fakes) -> None:
    base, tmp = tmp_path / "base", tmp_path / "tmp"
    base.mkdir()
    script = f"trap platform_cleanup EXIT\nplatform_lock_acquire {base} a r9 0 600\n{LOGIN}"
    killed = run(f"{script}kill -KILL $$", base, fakes, tmp)
    assert killed.returncode == -9 and (base / "lock").is_dir() and logins(base)

    done = run(f"platform_lock_break {base}", base, fakes, tmp)
    assert done.returncode == 0, done.stderr
    assert not (base / "lock").exists() and logins(base) == []
