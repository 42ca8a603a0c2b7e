"""The host runtime as files: one per noun, each shellcheck-clean, concatenated by the renderer;
every step a plan can hold calls a function the runtime defines; read-only operations ship
only the files they use."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from runtime_harness import run_runtime

from platform_lib.models.plan import Plan
from platform_lib.planning.render import (
    RUNTIME_FILES,
    render_operation,
    render_script,
    runtime,
    runtime_file,
    runtime_functions,
)

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "platform_lib" / "planning" / "runtime"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"
GOLDEN = REPO / "tests" / "golden" / "plans"


def test_every_file_is_rendered_and_packaged() -> None:
    assert sorted(p.stem for p in FOLDER.glob("*.sh")) == sorted(RUNTIME_FILES)
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["platform_lib"]
    for path in FOLDER.glob("*.sh"):
        relative = str(path.relative_to(REPO / "platform_lib"))
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_each_function_is_defined_once() -> None:
    definitions = [
        name
        for noun in RUNTIME_FILES
        for name in re.findall(r"^(platform_[a-z0-9_]+)\(\)", runtime_file(noun), re.MULTILINE)
    ]
    assert len(definitions) == len(set(definitions)) == len(runtime_functions())


@pytest.mark.parametrize("noun", RUNTIME_FILES)
def test_each_file_is_shellcheck_clean_alone(noun: str) -> None:
    """SC2034 (assigned but unused) is checked on the whole runtime below: a file sets state
    (PLATFORM_STAGED, PLATFORM_SWITCHED, ...) that another file reads."""
    done = subprocess.run(
        [str(SHELLCHECK), "--shell=bash", "--exclude=SC2034", "--format=gcc",
         str(FOLDER / f"{noun}.sh")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "")


def test_the_whole_runtime_is_shellcheck_clean(tmp_path: Path) -> None:
    script = tmp_path / "runtime.sh"
    script.write_text("#!/usr/bin/env bash\n" + runtime())
    done = subprocess.run([str(SHELLCHECK), "--format=gcc", str(script)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "")


def golden_plans() -> list[Plan]:
    return [Plan.model_validate_json(p.read_text()) for p in sorted(GOLDEN.glob("*/plan.json"))]


def test_every_step_of_a_plan_calls_a_runtime_function() -> None:
    defined = runtime_functions()
    plans = golden_plans()
    assert plans
    for plan in plans:
        for step in (*plan.steps, *plan.rollback):
            assert step.argv[0] in defined, (plan.project, step.id, step.argv[0])
        script = render_script(plan)
        assert script.count(runtime()) == 1


def test_every_operation_the_platform_runs_is_a_runtime_function() -> None:
    """The argv[0] the CLI and execution send (`render_operation`) are defined functions."""
    sources = "".join(p.read_text() for p in (REPO / "platform_lib").rglob("*.py"))
    named = set(re.findall(r'\(\s*"(platform_[a-z_]+)"', sources)) - {"platform_sha"}
    assert named
    assert named <= set(runtime_functions())


@pytest.mark.parametrize(
    ("operation", "nouns"),
    [
        ("platform_history", {"history"}),
        ("platform_lock_break", {"core", "lock", "registry"}),  # and the logins it sweeps
        ("platform_backups", {"core", "json", "backup"}),
        ("platform_facts", {"core", "json", "release", "proxy", "facts"}),
        # it asks a warm period's deploy: a person's requests, none of the rollout itself
        (
            "platform_canary_rollback",
            {"core", "json", "release", "proxy", "facts", "canary_requests"},
        ),
    ],
)
def test_read_only_operations_ship_only_what_they_use(operation: str, nouns: set[str]) -> None:
    script = render_operation((operation, "/srv/x"), {})
    assert {noun for noun in RUNTIME_FILES if runtime_file(noun) in script} == nouns
    assert "platform_policy_check()" not in script and "platform_switch()" not in script


def test_an_operation_runs_with_only_its_files(tmp_path: Path) -> None:
    (tmp_path / "lock").mkdir()
    (tmp_path / "history.jsonl").write_text('{"at":"x"}\n')
    for operation, expected in (("platform_history", '{"at":"x"}\n'), ("platform_lock_break", "")):
        script = render_operation((operation, str(tmp_path)), {"PLATFORM_ACTOR": "a"})
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout) == (0, expected), done.stderr
    assert not (tmp_path / "lock").exists()
    assert run_runtime("platform_facts " + str(tmp_path), tmp_path).returncode == 0
