"""actions/apply as a thin call of the CLI: `plan --from-host` decides (with no secret in its
environment), a skip is a green job with `deployed=false`, a refusal a red one with the
policy's reason; PLATFORM_SECRETS and the runner's tokens reach no child process."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from types import ModuleType

import pytest
from local_platform import D1, LocalPlatform, load_action, make_local

SECRET_ENV = {
    "PLATFORM_SECRETS": json.dumps({"REGISTRY_TOKEN": "registry-token-value"}),
    "ACTIONS_RUNTIME_TOKEN": "runtime-token-value",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "id-request-token-value",
    "GITHUB_TOKEN": "github-token-value",
    "PLATFORM_SSH_KEY": "/path/of/a/key",
    "REGISTRY_TOKEN": "registry-token-value",
}


@pytest.fixture(scope="module")
def apply() -> ModuleType:
    return load_action("platform_apply_thin")


@pytest.fixture
def local(tmp_path: Path) -> LocalPlatform:
    return make_local(tmp_path)


def outputs(path: Path) -> dict[str, str]:
    """The step outputs as the runner reads `name<<DELIMITER` blocks."""
    found, lines = {}, path.read_text().splitlines()
    while lines:
        name, delimiter = lines.pop(0).split("<<")
        end = lines.index(delimiter)
        found[name], lines = "\n".join(lines[:end]), lines[end + 1 :]
    return found


def inputs(apply: ModuleType, local: LocalPlatform, environment: str, **kw: str) -> object:
    fields = {"images": "", "expected": "", "key_file": "", "actor": "alice", "outside_window": ""}
    return apply.Inputs(root=local.root, project="paiss", environment=environment,
                        **{**fields, **kw})  # fmt: skip


def run(apply: ModuleType, local: LocalPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        environment: str, **kw: str) -> tuple[int, dict[str, str]]:  # fmt: skip
    out = tmp_path / "github-output"
    out.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    code = apply.run(inputs(apply, local, environment, **kw), work)
    return code, outputs(out)


def test_a_child_gets_plain_variables_and_the_secrets_it_is_given(apply: ModuleType) -> None:
    environ = {**SECRET_ENV, "PATH": "/usr/bin", "LC_ALL": "C", "GITHUB_RUN_ID": "7"}
    assert apply.child_env(environ) == {"PATH": "/usr/bin", "LC_ALL": "C", "GITHUB_RUN_ID": "7"}
    given = apply.child_env(environ, {"PAISS__API_KEY": "v"})
    assert given["PAISS__API_KEY"] == "v" and "PLATFORM_SECRETS" not in given


def test_production_with_nothing_verified_is_skipped_green(
    apply: ModuleType, local: LocalPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    code, out = run(apply, local, tmp_path, monkeypatch, "production")
    assert code == 0
    assert (out["deployed"], out["digests"], out["release"]) == ("false", "{}", "")
    assert "::notice" in capsys.readouterr().out


def test_a_refusal_fails_with_the_policys_reason_and_deploys_nothing(
    apply: ModuleType, local: LocalPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    local.release("staging", "20260101T000000Z-aaaaaaaa", "unknown", D1)
    code, out = run(apply, local, tmp_path, monkeypatch, "production",
                    expected=json.dumps({"web": D1}))  # fmt: skip
    assert code == 1 and out["deployed"] == "false"
    errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "not from a commit of this repository" in errors[0]
    assert not (local.host / "projects/paiss/production").exists()


def test_a_bad_image_input_is_a_problem_before_any_host(
    apply: ModuleType, local: LocalPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    code, out = run(apply, local, tmp_path, monkeypatch, "staging", images="web")
    assert code == 1 and out["deployed"] == "false"


def test_the_planning_process_sees_no_secret(
    apply: ModuleType, local: LocalPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """`plan --from-host` runs git (the commit it plans from): a git on PATH that records its
    environment sees what the CLI process was given."""
    bin_dir, record = tmp_path / "bin", tmp_path / "git-env"
    bin_dir.mkdir()
    real = next(
        Path(d) / "git" for d in os.environ["PATH"].split(":") if (Path(d) / "git").is_file()
    )
    fake = bin_dir / "git"
    fake.write_text(f'#!/bin/sh\nenv >> "{record}"\nexec "{real}" "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    local.release("staging", "20260101T000000Z-aaaaaaaa", "unknown", D1)

    code, _ = run(apply, local, tmp_path, monkeypatch, "production")

    assert code == 1  # refused: staging's release was not made from a commit
    seen = record.read_text()
    assert seen  # git ran
    for name, value in SECRET_ENV.items():
        assert f"{name}=" not in seen and value not in seen
