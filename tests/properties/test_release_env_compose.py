"""The release `.env` as Docker Compose itself reads it (`docker compose config`, no daemon).

Validation reads env files in the platform's dotenv dialect; the host's compose reads the
release `.env` the plan writes (the tenant's file, the platform's values, then the secrets
`platform_append_secrets` appends at apply time). Every value validation accepted must reach
compose unchanged, and what validation refuses compose cannot read either.

Compose runs once per example (~0.3 s each): an example is a whole env file of many entries,
or many secrets appended at once, so few examples cover many values. Docker Compose is required:
without it these tests fail (CI installs it with tests/e2e/infra/install.sh).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from plan_strategies import (
    ENV_VALUES,
    NOW,
    PROPERTY_SETTINGS,
    env_forms,
    env_line,
    env_text,
    small_tree,
)

from platform_lib.config.envfile import parse_env_file
from platform_lib.config.validate import validate_sources
from platform_lib.planning.builder import PlanRequest, build_plan
from platform_lib.planning.render import runtime

DOCKER = shutil.which("docker")
BASH = shutil.which("bash") or "/bin/bash"
TENANT_ENV = "configs/shop/.env.staging"


@functools.cache
def compose_missing() -> str | None:
    """Why `docker compose` cannot run here, or None."""
    if DOCKER is None:
        return "the docker CLI is not on PATH"
    done = subprocess.run([DOCKER, "compose", "version"], capture_output=True, check=False)
    if done.returncode != 0:
        return f"`docker compose version` failed: {done.stderr.decode(errors='replace').strip()}"
    return None


@pytest.fixture(autouse=True, scope="module")
def _docker_compose() -> None:
    """These tests check the release `.env` against compose itself: no compose, no check, and
    that must not pass silently."""
    missing = compose_missing()
    if missing is not None:
        pytest.fail(
            f"docker compose v2 is required by {Path(__file__).name} ({missing}); install "
            "the docker CLI and its compose plugin (tests/e2e/infra/install.sh does)",
            pytrace=False,
        )


@functools.cache
def _compose_config(env_file: str, keys: tuple[str, ...]) -> dict[str, str] | str:
    assert DOCKER is not None
    compose = {
        "services": {
            "app": {"image": "busybox:1.36", "environment": {k: f"${{{k}}}" for k in keys}}
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "compose.yml").write_text(yaml.safe_dump(compose), encoding="utf-8")
        Path(tmp, "release.env").write_bytes(env_file.encode("utf-8"))
        done = subprocess.run(
            [
                *(DOCKER, "compose", "--project-name", "t", "--file", "compose.yml"),
                *("--env-file", "release.env", "config", "--format", "json"),
            ],
            cwd=tmp,
            capture_output=True,
            check=False,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": os.environ.get("HOME", tmp),
            },
        )
    if done.returncode != 0:
        return done.stderr.decode(errors="replace").strip()
    environment = json.loads(done.stdout)["services"]["app"].get("environment") or {}
    # `config` prints values re-escaped for interpolation: every literal '$' as '$$'.
    return {k: environment[k].replace("$$", "$") for k in keys if k in environment}


def compose_reads(env_file: str, keys: list[str]) -> dict[str, str] | str:
    """What compose substitutes for `${KEY}` given `--env-file` with this text, or its error.

    Run with a minimal environment: compose lets the process environment override the file."""
    return _compose_config(env_file, tuple(keys))


def release_env(env_text_staging: str) -> str:
    """The release `.env` of staging for a tree whose `.env.staging` is this text."""
    tree = small_tree()
    tree.env_texts["staging"] = env_text_staging
    config, problems = validate_sources(tree.sources())
    assert problems == []
    assert config is not None
    plan = build_plan(config, PlanRequest("shop", "staging", NOW, "a", "b", {"web": "v1"}))
    (env,) = [f.content for f in plan.files if f.path.endswith("/.env")]
    return env


# --- the tenant's env file -------------------------------------------------------------------


# Compose interpolates unquoted and double-quoted values; validation keeps them as written
# (documented: "references are not expanded here"), so '$' is only compared single-quoted.
def _compose_literal(value: str, form: str) -> bool:
    return form.startswith("single") or "$" not in value


def _literal_forms(value: str) -> list[str]:
    return [form for form in env_forms(value) if _compose_literal(value, form)]


ENTRY = ENV_VALUES.filter(lambda v: "\x00" not in v and bool(_literal_forms(v))).flatmap(
    lambda v: st.tuples(st.just(v), st.sampled_from(_literal_forms(v)))
)
ENTRIES = st.lists(ENTRY, min_size=8, max_size=40).map(
    lambda pairs: tuple((f"app_value_{i}", v, f) for i, (v, f) in enumerate(pairs))
)
PLATFORM_KEYS = {
    "PLATFORM_PROJECT": "shop",
    "PLATFORM_ENVIRONMENT": "staging",
    "PLATFORM_COMPOSE_PROJECT": "shop-staging",
    "PLATFORM_IMAGE_WEB": "ghcr.io/acme/shop-web:v1",
    "PLATFORM_DOMAIN": "staging.shop.example.com",
}


@settings(PROPERTY_SETTINGS, max_examples=6)
@given(entries=ENTRIES)
@example(
    entries=(
        ("WIN_DIR", "C:\\\\", "single"),
        ("QUOTE", "it's \\\\ $HOME", "single-escaped"),
        ("BACKSLASHES", "a\\b\\\\c", "single"),
        ("DOUBLE", 'say "hi" \\', "double"),
    )
)
def test_compose_reads_the_release_env_as_validated(
    entries: tuple[tuple[str, str, str], ...],
) -> None:
    text = env_text(entries)
    validated = parse_env_file(text, TENANT_ENV)
    assert validated.problems == ()
    assert validated.values() == {k: v for k, v, _ in entries}
    env = release_env(text)
    assert parse_env_file(env, "release/.env").values() == validated.values() | PLATFORM_KEYS
    # No release id: it would change with every deploy (and recreate every container).
    keys = [*validated.values(), *PLATFORM_KEYS, "PLATFORM_RELEASE"]
    assert compose_reads(env, keys) == {
        **validated.values(),
        **PLATFORM_KEYS,
        "PLATFORM_RELEASE": "",
    }


# Raw single-quoted contents: quotes and backslashes (twice as likely), a few other characters.
SINGLE_QUOTED = st.text(st.sampled_from("\\'\\'a$ \"#"), max_size=8)


@settings(PROPERTY_SETTINGS, max_examples=6)
@given(contents=st.lists(SINGLE_QUOTED, min_size=6, max_size=20))
@example(contents=["C:\\", "C:\\\\", "it\\'s", "x\\\\\\'y", "a\\b", "\\'", "'"])
def test_single_quoted_values_are_read_as_compose_reads_them(contents: list[str]) -> None:
    """`KEY='...'` as compose reads it: the closing quote is the first one no backslash
    escapes, and only `\\'` means something (a quote). Validation accepts exactly the lines
    compose reads, with the value compose reads; it refuses the others (`env.syntax`), which
    compose refuses too. (Up to two refused lines per example are run through compose.)"""
    accepted: dict[str, str] = {}
    refused: list[str] = []
    for i, content in enumerate(contents):
        line = f"V{i}='{content}'\n"
        parsed = parse_env_file(line, TENANT_ENV)
        if parsed.problems:
            assert [p.rule for p in parsed.problems] == ["env.syntax"], parsed.problems
            refused.append(line)
        else:
            accepted |= parsed.values()
    text = "".join(
        f"V{i}='{content}'\n" for i, content in enumerate(contents) if f"V{i}" in accepted
    )
    assert compose_reads(text, list(accepted)) == accepted
    for line in refused[:2]:
        assert isinstance(compose_reads(line, ["V0"]), str), line


def test_single_quoted_value_ending_in_a_backslash_is_refused_as_compose_refuses_it() -> None:
    """`WIN_DIR='C:\\'`: the backslash escapes the closing quote, so the quote is unterminated,
    for compose (which would fail every command of the deploy) and so for validation."""
    text = "WIN_DIR='C:\\'\n"
    tree = small_tree()
    tree.env_texts["staging"] = text
    _, problems = validate_sources(tree.sources())
    assert [(p.location.file, p.location.line, p.location.column, p.rule) for p in problems] == [
        (TENANT_ENV, 1, 9, "env.syntax")
    ]
    assert problems[0].message == "unterminated single quote in the value of WIN_DIR"
    error = compose_reads(text, ["WIN_DIR"])
    assert isinstance(error, str)
    assert "unterminated" in error
    # Written as compose reads it: the backslash doubled.
    assert compose_reads(release_env("WIN_DIR='C:\\\\'\n"), ["WIN_DIR"]) == {"WIN_DIR": "C:\\\\"}
    assert compose_reads(release_env('WIN_DIR="C:\\\\"\n'), ["WIN_DIR"]) == {"WIN_DIR": "C:\\"}


def test_a_byte_order_mark_opening_an_env_file_is_dropped() -> None:
    """Editors may save `.env.staging` with a UTF-8 byte order mark: validation skips it, and
    the release `.env` (where it would sit mid-file, refused by compose) leaves it out."""
    text = "\ufeffAPP_ENV=staging\n"
    assert parse_env_file(text, TENANT_ENV).values() == {"APP_ENV": "staging"}
    env = release_env(text)
    assert "\ufeff" not in env
    assert f"# from {TENANT_ENV}\nAPP_ENV=staging\n" in env
    assert compose_reads(env, ["APP_ENV"]) == {"APP_ENV": "staging"}


# --- secrets appended at apply time ------------------------------------------------------------


def append_secrets(values: list[str]) -> tuple[list[str], str]:
    """The secret names and the text `platform_append_secrets` (runtime/release.sh) appends
    for them."""
    names = [f"APP_SECRET_VALUE_{i}" for i in range(len(values))]
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp, ".env")
        env_file.write_text("", encoding="utf-8")
        done = subprocess.run(
            [
                BASH,
                "-c",
                runtime() + '\nplatform_append_secrets "$@"\n',
                "bash",
                env_file,
                *names,
            ],
            capture_output=True,
            check=False,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                **dict(zip(names, values, strict=True)),
            },
        )
        assert done.returncode == 0, done.stderr
        return names, env_file.read_bytes().decode("utf-8")  # no newline translation


def secret_line(name: str, value: str) -> str:
    """Single quotes when compose reads them literally (no quote, no trailing backslash);
    else double quotes with `\\`, `"` and `$` escaped."""
    if "'" not in value and not value.endswith("\\"):
        return f"{name}='{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$")
    return f'{name}="{escaped}"'


SECRET_VALUES = st.text(
    st.characters(codec="utf-8", exclude_characters="\n\x00"), max_size=20
) | ENV_VALUES.filter(lambda v: "\x00" not in v)


@settings(PROPERTY_SETTINGS, max_examples=6)
@given(values=st.lists(SECRET_VALUES, min_size=8, max_size=30))
@example(values=['it\'s $HOME \\ "quoted" ${X} $$', "", "pa55\\", "C:\\\\", "\\", "'", "$"])
def test_compose_reads_appended_secrets_exactly(values: list[str]) -> None:
    names, text = append_secrets(values)
    assert text == "# secrets from the deploy environment\n" + "".join(
        secret_line(name, value) + "\n" for name, value in zip(names, values, strict=True)
    )
    assert compose_reads(text, names) == dict(zip(names, values, strict=True))


def test_compose_check_notices_a_changed_value() -> None:
    """The helper can tell values apart (so the properties above can fail)."""
    assert compose_reads("A='x'\n", ["A"]) == {"A": "x"}
    assert compose_reads("A='x'\n", ["A"]) != {"A": "y"}
    assert isinstance(compose_reads("A='x\n", ["A"]), str)
    assert env_line("A", "x", "single") == "A='x'"
