"""One focused test per validation rule: exact location (file, line, column, pointer), exact
message and hint; that secret values never reach a problem; and the `validate` command line.

Each test edits the repository's valid `configs/` (read once) in memory, so the expected line and
column can be checked against the edit right next to it. The regression tests at the end each
hold an input that once crashed or was misreported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from platform_lib.config.envfile import parse_env_file
from platform_lib.config.sources import Sources, decode, read_sources, refusal
from platform_lib.config.validate import validate_sources
from platform_lib.errors import Location, Problem
from platform_lib.report import render_problems

REPO = Path(__file__).resolve().parents[2]
BROKEN = REPO / "tests" / "broken"
BASE = read_sources(REPO)

PLATFORM = "configs/platform.yml"
FILTER_COMPOSE = "configs/filter-ical/docker-compose.yml"
FILTER_PROJECT = "configs/filter-ical/project.yml"
GABS_COMPOSE = "configs/gabs-massage/docker-compose.yml"
GABS_PROJECT = "configs/gabs-massage/project.yml"
PAISS_COMPOSE = "configs/paiss/docker-compose.yml"
PAISS_PROJECT = "configs/paiss/project.yml"

README_HINT = "see the config reference in README.md"
SCHEMA_HINT = (
    "the Compose Specification does not allow this; "
    "see https://docs.docker.com/reference/compose-file/"
)
YAML_HINT = "fix the YAML at that position (indentation, quotes, a missing ':')"
FORM_HINT = (
    "write one assignment per line as KEY=value (or export KEY=value); a name starts with a "
    "letter or '_' and continues with letters, digits, '_', '.' or '-'"
)
PORT_HINT = (
    "choose another host port (per environment via ${VAR} in the env file) or route HTTP "
    "through the proxy with routes: in project.yml"
)
ALIAS_HINT = (
    "DNS on a shared network would round-robin between them; give the service a unique alias "
    "(e.g. prefixed with the project name) and use that"
)
# At the first of two tenants' claims: the conflict is reported there too (cross_tenant._mirror).
PORT_MIRROR_HINT = (
    "a host port is published by one tenant: neither deploys until one of the two is changed "
    "(per environment via ${VAR} in the env file) or routed through the proxy with routes: in "
    "project.yml"
)
ALIAS_MIRROR_HINT = (
    "DNS on a shared network would round-robin between them: neither deploys until one of the "
    "two uses a unique alias (e.g. prefixed with the project name)"
)
PROD1_KEY = (
    "        host_key: ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAILpQ8tMmnijAQjktIrsevjQHZtenCrCAx4oApGbsl2hD\n"
)


def edit(path: str, *pairs: tuple[str, str]) -> dict[str, str]:
    """`path` of the valid tree with each `old` (which must occur exactly once) replaced."""
    text = BASE[path]
    for old, new in pairs:
        if text.count(old) != 1:  # not an assert: a broken edit must not look like a finding
            raise ValueError(f"{path}: {old!r} occurs {text.count(old)} times")
        text = text.replace(old, new)
    return {path: text}


def validate(*changes: Mapping[str, str | None]) -> list[Problem]:
    """Problems of the valid tree with files replaced (or removed, for None)."""
    sources = dict(BASE)
    for change in changes:
        for path, text in change.items():
            if text is None:
                del sources[path]
            else:
                sources[path] = text
    _, problems = validate_sources(sources)
    for problem in problems:
        assert problem.message and problem.hint, problem
    return problems


def at(file: str, line: int | None, column: int | None, pointer: str = "") -> Location:
    return Location(file, line, column, pointer)


def test_the_valid_tree_has_no_problems() -> None:
    assert validate() == []


# --- YAML -----------------------------------------------------------------------------------


def test_yaml_syntax_tab_indentation() -> None:
    problems = validate(edit(PAISS_COMPOSE, ("    env_file: .env\n", "\tenv_file: .env\n")))
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 4, 1),
            "yaml.syntax",
            "YAML syntax error: while scanning for the next token found character '\\t' that "
            "cannot start any token",
            YAML_HINT,
        )
    ]


def test_yaml_syntax_colon_in_plain_scalar() -> None:
    problems = validate(
        edit(PAISS_PROJECT, ("description: PAISS - one", "description: PAISS: one"))
    )
    assert problems == [
        Problem(
            at(PAISS_PROJECT, 2, 19),
            "yaml.syntax",
            "YAML syntax error: mapping values are not allowed here",
            YAML_HINT,
        )
    ]


def test_yaml_duplicate_key() -> None:
    problems = validate(
        edit(PAISS_COMPOSE, ("    env_file: .env\n", "    env_file: .env\n    restart: always\n"))
    )
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 5, 5, "/services/web/restart"),
            "yaml.duplicate-key",
            "duplicate key 'restart' (first defined on line 3)",
            "YAML keeps only the last value; remove one of them",
        )
    ]


def test_a_key_after_a_merge_key_overrides_the_merged_value() -> None:
    # Compose's own reading (Airflow's, Sentry self-hosted's, netbox-docker's files do this).
    problems = validate(
        edit(
            PAISS_COMPOSE,
            (
                "services:\n",
                "x-defaults: &defaults\n  restart: always\n  init: true\n\nservices:\n",
            ),
            ("    restart: unless-stopped\n", "    <<: *defaults\n    restart: unless-stopped\n"),
        )
    )
    assert problems == []


def test_yaml_excessive_aliasing() -> None:
    bomb = (
        "x-a0: &a0 ["
        + ", ".join(["x"] * 10)
        + "]\n"
        + "".join(f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))
    )
    problems = validate({PAISS_COMPOSE: bomb + BASE[PAISS_COMPOSE]})
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 9, 7),
            "yaml.excessive-aliasing",
            "aliases copy more than 1,000,000 values into the document, more than the 100,000 "
            "allowed (the value anchored here is copied 10 times)",
            "docker compose refuses such a file as excessive aliasing: write the values out or "
            "use fewer levels of aliases",
        )
    ]


def test_yaml_recursive_alias() -> None:
    problems = validate(
        edit(
            PAISS_COMPOSE,
            ("    env_file: .env\n", "    labels: &l\n      a: *l\n    env_file: .env\n"),
        )
    )
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 4, 13, "/services/web/labels/a"),
            "yaml.recursive-alias",
            "an alias refers to the value that contains it: the value would never end",
            "refer only to anchors of values defined before and outside this one",
        )
    ]


def test_yaml_too_deep() -> None:
    problems = validate({PAISS_PROJECT: BASE[PAISS_PROJECT] + "x: " + "{a: " * 60 + "1" + "}" * 60})
    # The first value 51 levels down: the key `a` of the 50th mapping.
    assert problems == [
        Problem(
            at(PAISS_PROJECT, 14, 4 + 4 * 49 + 1, "/x" + "/a" * 50),
            "yaml.too-deep",
            "values nest more than 50 levels deep here (aliases included)",
            "a config nests a few levels deep: flatten this structure",
        )
    ]


def test_yaml_too_large() -> None:
    problems = validate({PLATFORM: BASE[PLATFORM] + "#" * 300_000 + "\n"})
    size = len(BASE[PLATFORM]) + 300_001
    assert problems == [
        Problem(
            at(PLATFORM, 1, 1),
            "yaml.too-large",
            f"the file has {size:,} bytes, more than the 262,144 a config file may have",
            "split it or remove what is not configuration (a config file is a few KiB)",
        )
    ]


# --- platform.yml ---------------------------------------------------------------------------


def test_settings_unknown_key() -> None:
    problems = validate(edit(PLATFORM, ("    requires_approval:", "    requires_aproval:")))
    assert problems == [
        Problem(
            at(PLATFORM, 21, 5, "/environments/production/requires_aproval"),
            "settings.unknown-key",
            "unknown key 'environments.production.requires_aproval'",
            "check the spelling; the schema lists the allowed keys",
        )
    ]


def test_settings_missing_key() -> None:
    problems = validate(edit(PLATFORM, ("  namespace: example-org\n", "")))
    assert problems == [
        Problem(
            at(PLATFORM, 6, 1, "/registry"),
            "settings.missing-key",
            "missing required key 'namespace' in registry",
            "add it; see the config reference in README.md",
        )
    ]


def test_settings_invalid_value() -> None:
    problems = validate(edit(PLATFORM, ("  keep: 5\n", "  keep: 1\n")))
    assert problems == [
        Problem(
            at(PLATFORM, 30, 3, "/releases/keep"),
            "settings.invalid",
            "releases.keep: Input should be greater than or equal to 2",
            README_HINT,
        )
    ]


def test_settings_invalid_ssh_host_without_key() -> None:
    problems = validate(edit(PLATFORM, (PROD1_KEY, "")))
    assert problems == [
        Problem(
            at(PLATFORM, 24, 7, "/environments/production/hosts/prod-1"),
            "settings.invalid",
            "environments.production.hosts.prod-1: an ssh host needs `address` and `host_key` "
            "(pin the host's key)",
            README_HINT,
        )
    ]


# --- project.yml ----------------------------------------------------------------------------


def test_project_unknown_key() -> None:
    problems = validate(edit(PAISS_PROJECT, ("    health_path:", "    healthpath:")))
    assert problems == [
        Problem(
            at(PAISS_PROJECT, 11, 5, "/routes/0/healthpath"),
            "project.unknown-key",
            "unknown key 'routes.0.healthpath'",
            "check the spelling; the schema lists the allowed keys",
        )
    ]


def test_project_missing_key() -> None:
    problems = validate(edit(PAISS_PROJECT, ("    port: 8000\n", "")))
    assert problems == [
        Problem(
            at(PAISS_PROJECT, 9, 5, "/routes/0"),
            "project.missing-key",
            "missing required key 'port' in routes.0",
            "add it; see the config reference in README.md",
        )
    ]


def test_project_invalid() -> None:
    problems = validate(edit(GABS_PROJECT, ("    port: 8000\n", "    port: 80000\n")))
    assert problems == [
        Problem(
            at(GABS_PROJECT, 16, 5, "/routes/1/port"),
            "project.invalid",
            "routes.1.port: Input should be less than or equal to 65535",
            README_HINT,
        )
    ]


def test_project_name() -> None:
    problems = validate(
        {
            "configs/Shop_Api/project.yml": "description: Shop API\n",
            "configs/Shop_Api/docker-compose.yml": "services: {}\n",
        }
    )
    assert problems == [
        Problem(
            at("configs/Shop_Api", None, None),
            "project.name",
            "project folder name 'Shop_Api' is not a valid project name",
            "use lowercase letters, digits and single dashes, starting with a letter "
            "(it becomes the compose project name)",
        )
    ]


def test_file_missing() -> None:
    problems = validate({PAISS_COMPOSE: None})
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, None, None),
            "file.missing",
            "configs/paiss/docker-compose.yml is missing",
            "create it; see 'Adding a tenant' in README.md",
        )
    ]


# --- env files ------------------------------------------------------------------------------


def test_file_encoding_is_a_problem_of_that_file_only() -> None:
    latin1 = decode(BASE[PAISS_COMPOSE].replace("services:", "# Café\nservices:").encode("latin-1"))
    env = "configs/gabs-massage/.env.staging"
    problems = validate(
        {PAISS_COMPOSE: latin1},
        {env: decode(BASE[env].encode() + b"NOTE=\xff\n")},
        edit(FILTER_PROJECT, ("app_repository:", "app_repo:")),
    )
    assert problems == [
        Problem(
            at(FILTER_PROJECT, 3, 1, "/app_repo"),
            "project.unknown-key",
            "unknown key 'app_repo'",
            "check the spelling; the schema lists the allowed keys",
        ),
        Problem(
            at(env, 5, 6),
            "file.encoding",
            f"{env} is not UTF-8 text: byte 0xFF cannot be decoded",
            "save the file as UTF-8 (a config file is text; a binary file does not belong here)",
        ),
        Problem(
            at(PAISS_COMPOSE, 1, 6),
            "file.encoding",
            f"{PAISS_COMPOSE} is not UTF-8 text: byte 0xE9 cannot be decoded",
            "save the file as UTF-8 (a config file is text; a binary file does not belong here)",
        ),
    ]


def test_cli_reports_a_file_that_is_not_utf8_and_goes_on(tmp_path: Path) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    (tmp_path / PLATFORM).write_bytes(b"\xfe\xff" + (REPO / PLATFORM).read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "platform_lib", "validate", "--root", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout.splitlines()) == (
        1,
        [
            f"{PLATFORM}:1:1: error: {PLATFORM} is not UTF-8 text: byte 0xFE cannot be decoded "
            "[file.encoding]",
            "    hint: save the file as UTF-8 (a config file is text; a binary file does not "
            "belong here)",
        ],
    )
    assert "Traceback" not in done.stderr


def test_project_nested_folder() -> None:
    problems = validate(
        {
            "configs/team-a/paiss/project.yml": BASE[PAISS_PROJECT],
            "configs/team-a/paiss/docker-compose.yml": BASE[PAISS_COMPOSE],
            "configs/team-a/paiss/.env.staging": "",
        }
    )
    assert problems == [
        Problem(
            at("configs/team-a/paiss", None, None),
            "project.nested-folder",
            "configs/team-a/paiss/ holds tenant files but is not a tenant folder: tenants are the "
            "folders right under configs/, and this one is never validated nor deployed",
            "move it to configs/paiss/ (one folder per tenant, no grouping folders)",
        )
    ]


def test_env_missing_file() -> None:
    problems = validate({"configs/paiss/.env.staging": None})
    assert problems == [
        Problem(
            at("configs/paiss/.env.staging", None, None),
            "env.missing-file",
            "configs/paiss/.env.staging is missing",
            "create it (it may be empty) with the staging settings of paiss",
        )
    ]


def test_env_missing_file_only_for_the_tenants_environments() -> None:
    problems = validate(
        {"configs/paiss/.env.staging": None},
        edit(PAISS_PROJECT, ("\nimages:", "environments: [production]\n\nimages:")),
    )
    assert problems == []


def test_env_syntax() -> None:
    problems = validate(edit("configs/paiss/.env.staging", ("WORKERS=1\n", "WORKERS: 1\n")))
    assert problems == [
        Problem(
            at("configs/paiss/.env.staging", 2, 1),
            "env.syntax",
            "expected KEY=value but found no '='",
            FORM_HINT,
        )
    ]


def test_env_duplicate_key() -> None:
    env = "configs/gabs-massage/.env.production"
    problems = validate({env: BASE[env] + "SMTP_HOST=mail.gabs-massage.de\n"})
    assert problems == [
        Problem(
            at(env, 5, 1),
            "env.duplicate-key",
            "SMTP_HOST is already set on line 1",
            "remove one of the assignments; Compose would use the last one",
        )
    ]


def test_env_literal_secret() -> None:
    env = "configs/paiss/.env.production"
    problems = validate({env: BASE[env] + "export SENTRY_TOKEN='9f8e7d6c5b4a3928'\n"})
    assert problems == [
        Problem(
            at(env, 3, 8),
            "env.literal-secret",
            "SENTRY_TOKEN looks like a secret but has a literal value",
            "declare SENTRY_TOKEN under secrets: in project.yml, remove the value from "
            "configs/paiss/.env.production, and set SENTRY_TOKEN in the deploy environment "
            "(a GitHub environment secret)",
        )
    ]


@pytest.mark.parametrize(
    "line",
    [
        "DB_PASSWORD=${PAISS_DB_PASSWORD}",
        'DB_PASSWORD="${PAISS_DB_PASSWORD:?set it}"',
        "DB_PASSWORD=",
        "API_KEY=$PAISS_API_KEY",
        "SECRET_NAME=${OTHER:-${PAISS_SECRET}}",
    ],
)
def test_env_references_and_empty_values_are_no_literal_secrets(line: str) -> None:
    env = "configs/paiss/.env.production"
    assert validate({env: BASE[env] + line + "\n"}) == []


@pytest.mark.parametrize(
    "line",
    [
        "API_KEY='${PAISS_API_KEY}'",  # single quotes: Compose does not interpolate
        "DB_PASSWORD=${PAISS_DB_PASSWORD:-hunter2}",  # a literal fallback
        "ADMIN_TOKEN=prefix-$PAISS_TOKEN",
    ],
)
def test_env_literal_secret_hidden_behind_quotes_or_fallbacks(line: str) -> None:
    env = "configs/paiss/.env.production"
    problems = validate({env: BASE[env] + line + "\n"})
    assert [(p.location, p.rule) for p in problems] == [(at(env, 3, 1), "env.literal-secret")]


# --- compose: schema and policy -------------------------------------------------------------


def test_compose_schema_unknown_key() -> None:
    problems = validate(
        edit(FILTER_COMPOSE, ("volumes:\n  pgdata:\n", "volumes:\n  pgdata:\n    drivers: local\n"))
    )
    assert problems == [
        Problem(
            at(FILTER_COMPOSE, 49, 5, "/volumes/pgdata/drivers"),
            "compose.schema",
            "volumes/pgdata: unknown key 'drivers'",
            SCHEMA_HINT,
        )
    ]


def test_compose_schema_wrong_type() -> None:
    problems = validate(
        edit(
            GABS_COMPOSE,
            (
                "  frontend:\n    restart: unless-stopped\n",
                "  frontend:\n    restart: [unless-stopped]\n",
            ),
        )
    )
    assert problems == [
        Problem(
            at(GABS_COMPOSE, 3, 5, "/services/frontend/restart"),
            "compose.schema",
            "services/frontend/restart: ['unless-stopped'] is not of type 'string'",
            SCHEMA_HINT,
        )
    ]


def test_compose_schema_not_a_mapping() -> None:
    problems = validate({PAISS_COMPOSE: "- web\n"})
    assert problems[0] == Problem(
        at(PAISS_COMPOSE, 1, 1),
        "compose.schema",
        "a compose file must be a mapping with a `services:` key",
        "see https://docs.docker.com/reference/compose-file/",
    )
    assert [(p.location, p.rule) for p in problems[1:]] == [
        (at(PAISS_PROJECT, 6, 3, "/images/web"), "project.unknown-service"),
        (at(PAISS_PROJECT, 9, 5, "/routes/0/service"), "project.unknown-service"),
    ]


def test_compose_container_name() -> None:
    problems = validate(
        edit(
            FILTER_COMPOSE,
            (
                "    restart: unless-stopped\n    environment:\n      POSTGRES_DB",
                "    restart: unless-stopped\n    container_name: filter-ical-db\n"
                "    environment:\n      POSTGRES_DB",
            ),
        )
    )
    assert problems == [
        Problem(
            at(FILTER_COMPOSE, 35, 5, "/services/db/container_name"),
            "compose.container-name",
            "service 'db' sets container_name",
            "remove it: fixed names collide between environments and releases and make "
            "zero-downtime deploys impossible; compose names containers per project",
        )
    ]


def test_compose_build_of_a_service_the_app_repo_does_not_build() -> None:
    problems = validate({PAISS_COMPOSE: BASE[PAISS_COMPOSE] + "\n  worker:\n    build: ./worker\n"})
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 12, 5, "/services/worker/build"),
            "compose.build",
            "service 'worker' is built on the host (build:)",
            "build the image in the app repo, push it to the registry and list the service "
            "under images: in project.yml",
        )
    ]


def test_compose_build_of_a_service_the_app_repo_builds() -> None:
    problems = validate(
        edit(PAISS_COMPOSE, ("    env_file: .env\n", "    env_file: .env\n    build: .\n"))
    )
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 5, 5, "/services/web/build"),
            "compose.build",
            "service 'web' is built on the host (build:)",
            "remove build:; the app repo builds this image, the platform deploys it",
        )
    ]


@pytest.mark.parametrize(
    ("image", "what"),
    [
        ("postgres:latest", "the mutable tag 'latest'"),
        ("postgres:stable", "the mutable tag 'stable'"),
        ("postgres", "no tag (that means 'latest')"),
        ("localhost:5000/postgres", "no tag (that means 'latest')"),
    ],
)
def test_compose_mutable_image(image: str, what: str) -> None:
    problems = validate(edit(FILTER_COMPOSE, ("postgres:16.4-alpine", image)))
    repository = image.removesuffix(":latest").removesuffix(":stable")
    assert problems == [
        Problem(
            at(FILTER_COMPOSE, 33, 5, "/services/db/image"),
            "compose.mutable-image",
            f"service 'db': image {image!r} has {what}",
            f"pin a version ({repository}:1.2.3) or a digest ({repository}@sha256:...) so every "
            "deploy runs the same image",
        )
    ]


@pytest.mark.parametrize(
    "image",
    [
        "postgres:16.4-alpine",
        "localhost:5000/postgres:16",
        "postgres@sha256:" + "0123456789abcdef" * 4,
        "ghcr.io/example-org/filter-ical-db:16.4@sha256:" + "fedcba9876543210" * 4,
        "ghcr.io/another-org/postgres:16.4",
        "postgres:${PG_TAG}",  # not checked as an image; PG_TAG is unset in both environments
    ],
)
def test_compose_pinned_images_pass(image: str) -> None:
    problems = validate(edit(FILTER_COMPOSE, ("postgres:16.4-alpine", image)))
    if "$" in image:
        assert [(p.rule, p.message) for p in problems] == [
            ("compose.unresolved-variable", "${PG_TAG} is not set for environment 'production'"),
            ("compose.unresolved-variable", "${PG_TAG} is not set for environment 'staging'"),
        ]
    else:
        assert problems == []


def test_compose_missing_image() -> None:
    problems = validate({PAISS_COMPOSE: BASE[PAISS_COMPOSE] + "\n  worker:\n    command: [run]\n"})
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 11, 3, "/services/worker"),
            "compose.missing-image",
            "service 'worker' has no image",
            "set image: with a pinned version, or list the service under images: in project.yml "
            "if the app repo builds it",
        )
    ]


def test_compose_invalid_image() -> None:
    problems = validate(
        edit(FILTER_COMPOSE, ("postgres:16.4-alpine", "postgres:16.4-alpine@sha256:4aa3"))
    )
    assert problems == [
        Problem(
            at(FILTER_COMPOSE, 33, 5, "/services/db/image"),
            "compose.invalid-image",
            "service 'db': 'postgres:16.4-alpine@sha256:4aa3' is not a valid image reference",
            "use [registry/]repository:tag or repository@sha256:digest",
        )
    ]


def test_compose_built_image_pinned() -> None:
    problems = validate(
        edit(
            PAISS_COMPOSE,
            (
                "    restart: unless-stopped\n",
                "    image: ghcr.io/example-org/paiss-web:2.0.1\n    restart: unless-stopped\n",
            ),
        )
    )
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 3, 5, "/services/web/image"),
            "compose.built-image-pinned",
            "service 'web' is built by the app repo but pins 'ghcr.io/example-org/paiss-web:2.0.1'",
            "drop the tag: the platform sets this image's digest at deploy time",
        )
    ]


def test_compose_built_image_without_tag_or_from_the_platform_variable_passes() -> None:
    for image in ("ghcr.io/example-org/paiss-web", "${PLATFORM_IMAGE_WEB}"):
        change = edit(PAISS_COMPOSE, ("    restart:", f"    image: {image}\n    restart:"))
        assert validate(change) == [], image


def test_compose_port_collision() -> None:
    problems = validate(
        edit(
            FILTER_COMPOSE,
            (
                "      LOG_LEVEL: ${LOG_LEVEL:-info}\n",
                '      LOG_LEVEL: ${LOG_LEVEL:-info}\n    ports:\n      - "127.0.0.1:5432:5432"\n'
                '      - "5433:5433/udp"\n',
            ),
            (
                "    volumes:\n      - pgdata",
                '    ports:\n      - "5433:5433"\n      - target: 5432\n        published: 5432\n'
                "    volumes:\n      - pgdata",
            ),
        )
    )
    assert problems == [
        Problem(
            at(FILTER_COMPOSE, 44, 9, "/services/db/ports/1"),
            "compose.port-collision",
            "service 'db' publishes host port 5432/tcp, already published by service 'backend'",
            "publish each host port once, or route HTTP through the platform's proxy (routes: in "
            "project.yml) instead of publishing ports",
        )
    ]


# The example settings without `proxy:`: routed services then publish host ports of their own,
# which is what the host-port rules are about.
def without_proxy(change: dict[str, str]) -> dict[str, str]:
    return {path: text.split("\n# nginx on every host")[0] + "\n" for path, text in change.items()}


NO_PROXY = without_proxy({"configs/platform.yml": BASE["configs/platform.yml"]})
ROUTED_PORT_HINT = (
    "remove this ports: entry; the proxy reaches the service on its compose network (a port "
    "without a host part, e.g. '8080', is fine)"
)


def test_compose_routed_service_publishes_port() -> None:
    published = (
        "    env_file: .env\n",
        '    env_file: .env\n    ports:\n      - "8000"\n'
        '      - "127.0.0.1:${WEB_PORT:-8000}:8000"\n'
        "      - {target: 9000, published: 9000}\n",
    )
    problems = validate(edit(PAISS_COMPOSE, published))
    message = (
        "service 'web' is routed by the proxy and publishes a host port: a deploy starts its new "
        "containers beside the running ones, and they cannot bind the same host port"
    )
    assert problems == [
        Problem(at(PAISS_COMPOSE, 7, 9, "/services/web/ports/1"),
                "compose.routed-service-publishes-port", message, ROUTED_PORT_HINT),
        Problem(at(PAISS_COMPOSE, 8, 9, "/services/web/ports/2"),
                "compose.routed-service-publishes-port", message, ROUTED_PORT_HINT),
    ]  # fmt: skip
    # Without the proxy, routed services are recreated in place: a host port is theirs to use.
    settings = BASE["configs/platform.yml"]
    without_proxy = settings[: settings.index("\n# nginx on every host")] + "\n"
    assert validate(edit(PAISS_COMPOSE, published), {"configs/platform.yml": without_proxy}) == []


def test_compose_unresolved_variable() -> None:
    env = "configs/filter-ical/.env.production"
    problems = validate(
        edit(
            FILTER_COMPOSE,
            (
                "      LOG_LEVEL: ${LOG_LEVEL:-info}\n",
                "      LOG_LEVEL: ${LOG_LEVEL:-info}\n"
                "      SENTRY_DSN: ${SENTRY_DSN?set SENTRY_DSN}\n      HOME_DIR: $$HOME\n"
                "      TTL: ${TTL:-300}\n",
            ),
        ),
        {env: BASE[env] + "SENTRY_DSN=https://key@sentry.example.org/1\n"},
    )
    assert problems == [
        Problem(
            at(FILTER_COMPOSE, 23, 7, "/services/backend/environment/SENTRY_DSN"),
            "compose.unresolved-variable",
            "${SENTRY_DSN} is not set for environment 'staging'",
            "add SENTRY_DSN=... to configs/filter-ical/.env.staging, declare it under secrets: "
            "in project.yml, or give a default: ${SENTRY_DSN:-value}",
        )
    ]


def test_compose_interpolation_syntax_is_reported_once_for_all_environments() -> None:
    problems = validate(
        edit(
            FILTER_COMPOSE,
            ("      LOG_LEVEL: ${LOG_LEVEL:-info}\n", "      LOG_LEVEL: ${LOG_LEVEL:-info\n"),
        )
    )
    assert problems == [
        Problem(
            at(FILTER_COMPOSE, 22, 7, "/services/backend/environment/LOG_LEVEL"),
            "compose.interpolation-syntax",
            "bad variable reference in '${LOG_LEVEL:-info': unterminated reference: '${' has no "
            "matching '}'",
            "use $VAR, ${VAR}, ${VAR:-default} or ${VAR:?message}; write $$ for a literal $",
        )
    ]


# --- manifest against compose and platform --------------------------------------------------


def test_project_unknown_service() -> None:
    problems = validate(edit(FILTER_PROJECT, ("    service: db\n", "    service: postgres\n")))
    assert problems == [
        Problem(
            at(FILTER_PROJECT, 23, 5, "/backups/0/service"),
            "project.unknown-service",
            "service 'postgres' is not in configs/filter-ical/docker-compose.yml",
            "known services: backend, db, frontend",
        )
    ]


def test_project_unknown_volume() -> None:
    problems = validate(
        edit(GABS_PROJECT, ("    volume: bookings\n", "    volume: booking-data\n"))
    )
    assert problems == [
        Problem(
            at(GABS_PROJECT, 28, 5, "/backups/0/volume"),
            "project.unknown-volume",
            "volume 'booking-data' is not declared in configs/gabs-massage/docker-compose.yml",
            "declare it under the top-level volumes: key",
        )
    ]


def test_project_unknown_env() -> None:
    problems = validate(
        edit(PAISS_PROJECT, ("\nimages:", "environments: [staging, prod]\n\nimages:"))
    )
    assert problems == [
        Problem(
            at(PAISS_PROJECT, 4, 25, "/environments/1"),
            "project.unknown-env",
            "unknown environment 'prod'",
            "known: staging, production",
        )
    ]


def test_project_unknown_host() -> None:
    problems = validate(
        edit(PAISS_PROJECT, ("\nimages:", "placement:\n  production: prod-2\n\nimages:"))
    )
    assert problems == [
        Problem(
            at(PAISS_PROJECT, 5, 3, "/placement/production"),
            "project.unknown-host",
            "environment 'production' has no host 'prod-2'",
            "its hosts: prod-1",
        )
    ]


def test_project_route_without_domains() -> None:
    problems = validate(
        edit(PAISS_PROJECT, ("      production: [paiss.me]", "      staging: [staging.paiss.me]"))
    )
    assert problems == [
        Problem(
            at(PAISS_PROJECT, 9, 5, "/routes/0"),
            "project.route-without-domains",
            "route to 'web' has no domain for environment 'production'",
            "list domains under domains: production: (other environments derive theirs through "
            "domain_template)",
        )
    ]


def test_project_secret_in_env_file() -> None:
    env = "configs/filter-ical/.env.staging"
    problems = validate({env: BASE[env] + "SESSION_SECRET=${STAGING_SESSION_SECRET}\n"})
    assert problems == [
        Problem(
            at(FILTER_PROJECT, 18, 5, "/secrets/1"),
            "project.secret-in-env-file",
            "secret SESSION_SECRET is also set in configs/filter-ical/.env.staging",
            "remove it from the env file: secret values come only from the deploy environment",
        )
    ]


# --- across tenants -------------------------------------------------------------------------


def test_tenant_domain_conflict_with_a_derived_staging_domain() -> None:
    problems = validate(
        edit(
            PAISS_PROJECT,
            (
                "      production: [paiss.me]\n",
                "      production: [paiss.me]\n      staging: [staging.filter-ical.de]\n",
            ),
        )
    )
    assert problems == [
        Problem(
            at(FILTER_PROJECT, 14, 20, "/routes/0/domains/production/0"),
            "tenant.domain-conflict",
            "staging.filter-ical.de (derived from production) (filter-ical/staging) is claimed "
            "by paiss/staging too, at configs/paiss/project.yml:14:17",
            "a domain routes to exactly one tenant and environment: neither deploys until one of "
            "the two claims is removed (if the domain is filter-ical's, the other claim is the "
            "one to remove)",
        ),
        Problem(
            at(PAISS_PROJECT, 14, 17, "/routes/0/domains/staging/0"),
            "tenant.domain-conflict",
            "staging.filter-ical.de (paiss/staging) is already claimed by filter-ical/staging at "
            "configs/filter-ical/project.yml:14:20",
            "a domain routes to exactly one tenant and environment; pick another",
        ),
    ]


PAISS_PORT = ("    env_file: .env\n", '    env_file: .env\n    ports:\n      - "8080:8000"\n')
GABS_PORT = (
    "    volumes:\n      - bookings",
    '    ports:\n      - "8080:8000"\n    volumes:\n      - bookings',
)


def test_host_port_conflict_across_tenants() -> None:
    problems = validate(NO_PROXY, edit(PAISS_COMPOSE, PAISS_PORT), edit(GABS_COMPOSE, GABS_PORT))
    where = at(PAISS_COMPOSE, 6, 9, "/services/web/ports/0")
    first = at(GABS_COMPOSE, 22, 9, "/services/backend/ports/0")
    assert problems == [
        Problem(
            first,
            "host.port-conflict",
            "gabs-massage/production publishes port 8080/tcp on host 'prod-1', which "
            "paiss/production publishes too, at configs/paiss/docker-compose.yml:6:9",
            PORT_MIRROR_HINT,
        ),
        Problem(
            first,
            "host.port-conflict",
            "gabs-massage/staging publishes port 8080/tcp on host 'staging-1', which "
            "paiss/staging publishes too, at configs/paiss/docker-compose.yml:6:9",
            PORT_MIRROR_HINT,
        ),
        Problem(
            where,
            "host.port-conflict",
            "paiss/production publishes port 8080/tcp on host 'prod-1', already published by "
            "gabs-massage/production at configs/gabs-massage/docker-compose.yml:22:9",
            PORT_HINT,
        ),
        Problem(
            where,
            "host.port-conflict",
            "paiss/staging publishes port 8080/tcp on host 'staging-1', already published by "
            "gabs-massage/staging at configs/gabs-massage/docker-compose.yml:22:9",
            PORT_HINT,
        ),
    ]


def test_no_host_port_conflict_on_different_hosts_or_addresses() -> None:
    prod2 = (
        "      prod-2:\n        address: 203.0.113.21\n        host_key: ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIHn9mUSbHxjsK3Yp2bQdnh1T5EwzKGqVqF4t8pbXgYzj\n"
    )
    problems = validate(
        edit(
            PAISS_COMPOSE,
            (
                "    env_file: .env\n",
                '    env_file: .env\n    ports:\n      - "8080:8000"\n'
                '      - "127.0.0.1:9000:9000"\n',
            ),
        ),
        edit(
            GABS_COMPOSE,
            (
                "    volumes:\n      - bookings",
                '    ports:\n      - "8080:8000"\n      - "127.0.0.2:9000:9000"\n'
                '      - "8080:8000/udp"\n    volumes:\n      - bookings',
            ),
        ),
        without_proxy(edit(PLATFORM, (PROD1_KEY, PROD1_KEY + prod2))),
        edit(PAISS_PROJECT, ("\nimages:", "placement:\n  production: prod-2\n\nimages:")),
    )
    assert [(p.location, p.message) for p in problems] == [
        (
            at(GABS_COMPOSE, 22, 9, "/services/backend/ports/0"),
            "gabs-massage/staging publishes port 8080/tcp on host 'staging-1', which "
            "paiss/staging publishes too, at configs/paiss/docker-compose.yml:6:9",
        ),
        (
            at(PAISS_COMPOSE, 6, 9, "/services/web/ports/0"),
            "paiss/staging publishes port 8080/tcp on host 'staging-1', already published by "
            "gabs-massage/staging at configs/gabs-massage/docker-compose.yml:22:9",
        ),
    ]


def test_host_port_conflict_between_staging_and_production_on_one_host() -> None:
    staging1 = (
        "      staging-1:\n        address: 203.0.113.10\n        host_key: ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIBWRnk8G6iV3FDzv1k5MZ5Zs/aBlc50T2qlzdpfnExix\n"
    )
    shared_host = (
        without_proxy(edit(PLATFORM, (PROD1_KEY, PROD1_KEY + staging1))),
        edit(PAISS_PROJECT, ("\nimages:", "placement:\n  production: staging-1\n\nimages:")),
    )
    port = edit(
        PAISS_COMPOSE,
        (
            "    env_file: .env\n",
            '    env_file: .env\n    ports:\n      - "${WEB_PORT:-8080}:8000"\n',
        ),
    )
    problems = validate(port, *shared_host)
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 6, 9, "/services/web/ports/0"),
            "host.port-conflict",
            "paiss/production publishes port 8080/tcp on host 'staging-1', already published by "
            "paiss/staging at configs/paiss/docker-compose.yml:6:9",
            PORT_HINT,
        )
    ]
    env = "configs/paiss/.env.production"
    assert validate(port, *shared_host, {env: BASE[env] + "WEB_PORT=8081\n"}) == []


PROXY_PORT_HINT = (
    "the proxy listens on this port on every address of every host: route HTTP through it "
    "with routes: in project.yml, or publish another host port"
)


def db_ports(*entries: str) -> dict[str, str]:
    """filter-ical's db (not routed) publishing these `ports:` entries."""
    listed = "".join(f"      - {entry}\n" for entry in entries)
    return edit(
        FILTER_COMPOSE,
        ("    volumes:\n      - pgdata", f"    ports:\n{listed}    volumes:\n      - pgdata"),
    )


def test_host_proxy_port() -> None:
    problems = validate(
        db_ports(
            '"80:5432"', "{target: 5432, published: 443}", '"[::]:443:5432"', '"127.0.0.1:81:81"'
        )
    )
    where = "configs/platform.yml:34:1"  # proxy: sets neither port, both are the defaults
    expected = []
    for env, host in (("production", "prod-1"), ("staging", "staging-1")):
        for index, port, what in (
            (0, "80/tcp", "HTTP (http_port: 80)"),
            (1, "443/tcp", "HTTPS (https_port: 443)"),
            (2, "443/tcp", "HTTPS (https_port: 443)"),
        ):
            expected.append(
                Problem(
                    at(FILTER_COMPOSE, 40 + index, 9, f"/services/db/ports/{index}"),
                    "host.proxy-port",
                    f"filter-ical/{env} publishes port {port} on host {host!r}, where the proxy "
                    f"listens for {what} at {where}",
                    PROXY_PORT_HINT,
                )
            )
    assert sorted(p for p in problems if p.rule == "host.proxy-port") == sorted(expected)
    # [::]:443 and 443 on every address are one port: compose refuses the second one too.
    assert [(p.location.line, p.rule) for p in problems if p.rule != "host.proxy-port"] == [
        (42, "compose.port-collision")
    ]


def test_host_proxy_port_of_the_settings_and_a_range_over_it() -> None:
    settings = edit(
        PLATFORM,
        ("  dir: /etc/nginx/platform\n", "  dir: /etc/nginx/platform\n  https_port: 8443\n"),
    )
    problems = validate(settings, db_ports('"443:5432"', '"8000-9000:8000-9000"'))
    assert [(p.location, p.message) for p in problems if "production" in p.message] == [
        (
            at(FILTER_COMPOSE, 41, 9, "/services/db/ports/1"),
            "filter-ical/production publishes ports 8000-9000/tcp: 8443/tcp of them on host "
            "'prod-1', where the proxy listens for HTTPS (https_port: 8443) at "
            "configs/platform.yml:36:3",
        )
    ]
    # Without the proxy, 80 and 443 are ports like any other.
    assert validate(NO_PROXY, db_ports('"80:5432"', '"[::]:443:5432"')) == []


def test_host_port_conflict_of_a_range_names_both_places() -> None:
    problems = validate(
        NO_PROXY,
        edit(PAISS_COMPOSE, PAISS_PORT),
        edit(
            GABS_COMPOSE,
            (
                "    volumes:\n      - bookings",
                '    ports:\n      - "8000-8100:8000-8100"\n    volumes:\n      - bookings',
            ),
        ),
    )
    assert [p.message for p in problems] == [
        "gabs-massage/production publishes port 8080/tcp on host 'prod-1', which "
        "paiss/production publishes too, at configs/paiss/docker-compose.yml:6:9",
        "gabs-massage/staging publishes port 8080/tcp on host 'staging-1', which "
        "paiss/staging publishes too, at configs/paiss/docker-compose.yml:6:9",
        "paiss/production publishes port 8080/tcp on host 'prod-1', already published by "
        "gabs-massage/production at configs/gabs-massage/docker-compose.yml:22:9",
        "paiss/staging publishes port 8080/tcp on host 'staging-1', already published by "
        "gabs-massage/staging at configs/gabs-massage/docker-compose.yml:22:9",
    ]
    # The range after the single port: the range is reported, with the part that clashes.
    problems = validate(
        NO_PROXY,
        edit(
            PAISS_COMPOSE,
            (
                "    env_file: .env\n",
                '    env_file: .env\n    ports:\n      - "8000-8100:8000-8100/tcp"\n',
            ),
        ),
        edit(GABS_COMPOSE, GABS_PORT),
    )
    later = [p for p in problems if p.location.file == PAISS_COMPOSE]
    assert [(p.location, p.rule, p.message, p.hint) for p in later][:1] == [
        (
            at(PAISS_COMPOSE, 6, 9, "/services/web/ports/0"),
            "host.port-conflict",
            "paiss/production publishes ports 8000-8100/tcp: 8080/tcp of them on host 'prod-1', "
            "already published by gabs-massage/production at "
            "configs/gabs-massage/docker-compose.yml:22:9",
            PORT_HINT,
        )
    ]


def test_the_full_port_range_validates_in_well_under_a_second() -> None:
    full = '"1-65535:1-65535"'
    started = time.perf_counter()
    problems = validate(
        NO_PROXY,
        db_ports(full, '"1-65535:1-65535/udp"'),
        edit(
            PAISS_COMPOSE,
            ("    env_file: .env\n", f"    env_file: .env\n    ports:\n      - {full}\n"),
        ),
        edit(
            GABS_COMPOSE,
            (
                "    volumes:\n      - bookings",
                f"    ports:\n      - {full}\n    volumes:\n      - bookings",
            ),
        ),
    )
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"{elapsed:.2f} s"
    # filter-ical has every port first: it reports both later tenants, each reports it.
    assert [(p.location.file, p.location.line, p.rule) for p in problems] == [
        *[(FILTER_COMPOSE, 40, "host.port-conflict")] * 4,
        (GABS_COMPOSE, 22, "host.port-conflict"),
        (GABS_COMPOSE, 22, "host.port-conflict"),
        (PAISS_COMPOSE, 6, "host.port-conflict"),
        (PAISS_COMPOSE, 6, "host.port-conflict"),
    ]
    assert problems[4].message == (
        "gabs-massage/production publishes ports 1-65535/tcp: 1-65535/tcp of them on host "
        "'prod-1', already published by filter-ical/production at "
        "configs/filter-ical/docker-compose.yml:40:9"
    )


def test_compose_port_collision_of_ranges() -> None:
    problems = validate(db_ports('"5000-5999:5000-5999"', '"127.0.0.1:5432-6000:5432-6000"'))
    assert [(p.location, p.message) for p in problems] == [
        (
            at(FILTER_COMPOSE, 41, 9, "/services/db/ports/1"),
            "service 'db' publishes host ports 127.0.0.1:5432-6000/tcp: 127.0.0.1:5432-5999/tcp "
            "of them already published by service 'db'",
        )
    ]


SHARED_EDGE = edit(PLATFORM, ("releases:\n", "shared_networks: [edge]\n\nreleases:\n"))


def test_network_alias_conflict_on_an_external_network() -> None:
    problems = validate(
        SHARED_EDGE,
        edit(
            PAISS_COMPOSE,
            (
                "    env_file: .env\n",
                "    env_file: .env\n    networks:\n      default:\n      shared:\n"
                "        aliases: [api]\n",
            ),
            (
                "      retries: 3\n",
                "      retries: 3\n\nnetworks:\n  shared:\n    external: true\n    name: edge\n",
            ),
        ),
        edit(
            GABS_COMPOSE,
            (
                "    volumes:\n      - bookings",
                "    networks:\n      default:\n      edge:\n        aliases: [api]\n"
                "    volumes:\n      - bookings",
            ),
            (
                "volumes:\n  bookings:\n",
                "volumes:\n  bookings:\n\nnetworks:\n  edge:\n    external: true\n",
            ),
        ),
    )
    where = at(PAISS_COMPOSE, 7, 7, "/services/web/networks/shared")
    first = at(GABS_COMPOSE, 23, 7, "/services/backend/networks/edge")
    assert problems == [
        Problem(
            first,
            "network.alias-conflict",
            "gabs-massage/production answers as 'api' on shared network 'edge' of host 'prod-1', "
            "as does paiss/production at configs/paiss/docker-compose.yml:7:7",
            ALIAS_MIRROR_HINT,
        ),
        Problem(
            first,
            "network.alias-conflict",
            "gabs-massage/staging answers as 'api' on shared network 'edge' of host "
            "'staging-1', as does paiss/staging at configs/paiss/docker-compose.yml:7:7",
            ALIAS_MIRROR_HINT,
        ),
        Problem(
            where,
            "network.alias-conflict",
            "paiss/production answers as 'api' on shared network 'edge' of host 'prod-1', as does "
            "gabs-massage/production at configs/gabs-massage/docker-compose.yml:23:7",
            ALIAS_HINT,
        ),
        Problem(
            where,
            "network.alias-conflict",
            "paiss/staging answers as 'api' on shared network 'edge' of host 'staging-1', as does "
            "gabs-massage/staging at configs/gabs-massage/docker-compose.yml:23:7",
            ALIAS_HINT,
        ),
    ]


def test_no_alias_conflict_on_project_networks() -> None:
    # The same alias on each project's own (non-external) network is no conflict.
    network = (
        "    env_file: .env\n",
        "    env_file: .env\n    networks:\n      default:\n        aliases: [api]\n",
    )
    gabs = (
        "    volumes:\n      - bookings",
        "    networks:\n      default:\n        aliases: [api]\n    volumes:\n      - bookings",
    )
    assert validate(edit(PAISS_COMPOSE, network), edit(GABS_COMPOSE, gabs)) == []


# --- every problem of the corpus: well formed -----------------------------------------------


def corpus_sources(case: str) -> Sources:
    """The sources of a tests/broken case, as read from disk by the CLI (an entry of its
    special.txt refused as `read_sources` refuses it)."""
    sources = Sources()
    sources.update(BASE)
    folder = BROKEN / case
    special = folder / "special.txt"
    for line in special.read_text(encoding="utf-8").splitlines() if special.exists() else []:
        kind, rel, *_ = line.split()
        sources.pop(rel, None)
        sources.refused[rel] = refusal(rel, kind == "link")
    delete = folder / "delete.txt"
    for rel in delete.read_text(encoding="utf-8").split() if delete.exists() else []:
        del sources[rel]
    files = folder / "files"
    for path in sorted(files.rglob("*")) if files.is_dir() else []:
        rel = path.relative_to(files).as_posix()
        if path.is_file() and (
            path.name in ("project.yml", "docker-compose.yml", "platform.yml")
            or path.name.startswith(".env.")
        ):
            sources[rel] = decode(path.read_bytes())
    return sources


CASES = sorted(p.name for p in BROKEN.iterdir() if (p / "expected.txt").is_file())


@pytest.mark.parametrize("case", CASES)
def test_every_corpus_problem_is_actionable(case: str) -> None:
    _, problems = validate_sources(corpus_sources(case))
    assert problems
    for problem in problems:
        assert problem.message.strip() and problem.hint.strip(), problem
        assert problem.message != problem.hint
        assert problem.location.file.startswith("configs/")
        if problem.rule not in (
            "file.missing",
            "env.missing-file",
            "project.name",
            "project.nested-folder",
            "file.symlink",
            "file.not-regular",
        ):
            assert problem.location.line is not None and problem.location.line >= 1, problem
            assert problem.location.column is not None and problem.location.column >= 1, problem


# --- secrets never leak ---------------------------------------------------------------------


def test_literal_secret_values_never_appear_in_problems() -> None:
    case = "env-literal-secret"
    env_path = "configs/gabs-massage/.env.production"
    sources = corpus_sources(case)
    env = parse_env_file(sources[env_path], env_path)
    secret_keys = {p.message.split()[0] for p in env.problems if p.rule == "env.literal-secret"}
    assert secret_keys == {"SMTP_PASSWORD", "STRIPE_API_KEY", "WEBHOOK_SECRET"}
    secrets = [entry.value for entry in env.entries if entry.key in secret_keys]
    assert secrets == ["Tr0ub4dor-gabs-77", "sk_live_51HxQ2eLkdIwHu7ixQ", "whsec_9QmZt4Lr2Vb8"]

    _, problems = validate_sources(sources)
    assert {p.rule for p in problems} == {"env.literal-secret", "project.secret-in-env-file"}
    texts = [p.message for p in problems] + [p.hint for p in problems]
    texts += [render_problems(problems, fmt) for fmt in ("text", "json", "github")]
    for secret in secrets:
        # The value, and any 8 characters of it (a truncated or partly masked echo).
        pieces = {secret[i : i + 8] for i in range(len(secret) - 7)}
        for text in texts:
            assert not [piece for piece in pieces if piece in text], (secret, text)


# --- the command line -----------------------------------------------------------------------


def materialize(case: str | None, root: Path) -> Path:
    """A platform root in `root`: the valid configs, with a broken case applied."""
    shutil.copytree(REPO / "configs", root / "configs")
    if case is not None:
        folder = BROKEN / case
        delete = folder / "delete.txt"
        for rel in delete.read_text(encoding="utf-8").split() if delete.exists() else []:
            (root / rel).unlink()
        files = folder / "files"
        for path in sorted(files.rglob("*")) if files.is_dir() else []:
            if path.is_file():
                target = root / path.relative_to(files)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    return root


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PLATFORM_ROOT"}
    return subprocess.run(
        [sys.executable, "-m", "platform_lib", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_github_annotations(tmp_path: Path) -> None:
    root = materialize("compose-unresolved-variable", tmp_path / "root")
    done = run_cli("validate", "--root", str(root), "--format", "github", cwd=tmp_path)
    hint = (
        "add {name}=... to configs/filter-ical/.env.{env}, declare it under secrets: in "
        "project.yml, or give a default: ${{{name}:-value}}"
    )
    prefix = "::error file=configs/filter-ical/docker-compose.yml"
    title = "title=compose.unresolved-variable"
    assert done.stdout.splitlines() == [
        f"{prefix},line=23,col=7,{title}::${{SENTRY_DSN}} is not set for environment "
        f"'production'%0A{hint.format(name='SENTRY_DSN', env='production')}",
        f"{prefix},line=23,col=7,{title}::${{SENTRY_DSN}} is not set for environment "
        f"'staging'%0A{hint.format(name='SENTRY_DSN', env='staging')}",
        f"{prefix},line=24,col=7,{title}::${{MAIL_FROM}} is not set for environment "
        f"'staging'%0A{hint.format(name='MAIL_FROM', env='staging')}",
    ]
    assert done.stderr == ""
    assert done.returncode == 1


def test_cli_github_annotation_without_a_line(tmp_path: Path) -> None:
    root = materialize("env-missing-file", tmp_path / "root")
    done = run_cli("validate", "--root", str(root), "--format", "github", cwd=tmp_path)
    assert done.stdout == (
        "::error file=configs/paiss/.env.staging,title=env.missing-file::configs/paiss/.env.staging"
        " is missing%0Acreate it (it may be empty) with the staging settings of paiss\n"
    )
    assert done.returncode == 1


def test_cli_json(tmp_path: Path) -> None:
    root = materialize("host-port-conflict-staging-and-production-on-one-host", tmp_path / "r")
    done = run_cli("validate", "--root", str(root), "--format", "json", cwd=tmp_path)
    assert done.returncode == 1
    body = json.loads(done.stdout)
    assert body == {
        "valid": False,
        "problems": [
            {
                "file": "configs/paiss/docker-compose.yml",
                "line": 6,
                "column": 9,
                "pointer": "/services/web/ports/0",
                "rule": "host.port-conflict",
                "message": "paiss/production publishes port 8080/tcp on host 'staging-1', already "
                "published by paiss/staging at configs/paiss/docker-compose.yml:6:9",
                "hint": PORT_HINT,
            }
        ],
    }


def test_cli_text(tmp_path: Path) -> None:
    root = materialize("env-duplicate-key", tmp_path / "root")
    done = run_cli("validate", "--root", str(root), cwd=tmp_path)
    assert done.stdout == (
        "configs/gabs-massage/.env.production:5:1: error: SMTP_HOST is already set on line 1 "
        "[env.duplicate-key]\n"
        "    hint: remove one of the assignments; Compose would use the last one\n"
    )
    assert done.stderr == "1 problem(s) found\n"
    assert done.returncode == 1


def test_cli_valid_tree_exits_zero(tmp_path: Path) -> None:
    root = materialize(None, tmp_path / "root")
    done = run_cli("validate", "--root", str(root), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "configs are valid\n")
    done = run_cli("validate", "--root", str(root), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"valid": True, "problems": []}
    done = run_cli("validate", "--root", str(root), "--format", "github", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")


def test_cli_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    root = materialize(None, tmp_path / "root")
    done = run_cli("validate", "--root", str(root), "--format", "xml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "argument --format: invalid choice: 'xml'" in done.stderr


def test_cli_yaml_syntax_error_has_no_traceback(tmp_path: Path) -> None:
    root = materialize("yaml-syntax-tab-indent", tmp_path / "root")
    done = run_cli("validate", "--root", str(root), cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines()[0] == (
        "configs/paiss/docker-compose.yml:4:1: error: YAML syntax error: while scanning for the "
        "next token found character '\\t' that cannot start any token [yaml.syntax]"
    )
    assert done.stderr == "1 problem(s) found\n"
    assert done.returncode == 1


# --- regressions: inputs that once crashed or were misreported ------------------------------


def rules_at(problems: list[Problem]) -> list[tuple[str, int | None, str]]:
    return [(p.location.file, p.location.line, p.rule) for p in problems]


CRASHES = {
    "ports-scalar": edit(
        PAISS_COMPOSE, ("    env_file: .env\n", "    env_file: .env\n    ports: 8080\n")
    ),
    "top-level-networks-list": {PAISS_COMPOSE: BASE[PAISS_COMPOSE] + "networks:\n  - edge\n"},
    "service-network-spec-string": {
        PAISS_COMPOSE: BASE[PAISS_COMPOSE].replace(
            "    env_file: .env\n", "    env_file: .env\n    networks:\n      edge: api\n"
        )
        + "networks:\n  edge:\n    external: true\n"
    },
    "service-networks-list-of-mappings": {
        PAISS_COMPOSE: BASE[PAISS_COMPOSE].replace(
            "    env_file: .env\n", "    env_file: .env\n    networks:\n      - edge: {}\n"
        )
        + "networks:\n  edge:\n    external: true\n"
    },
}


@pytest.mark.parametrize("name", sorted(CRASHES))
def test_wrong_types_are_schema_problems_not_crashes(name: str) -> None:
    problems = validate(CRASHES[name])
    assert problems
    assert {p.rule for p in problems} == {"compose.schema"}


NON_STRING_KEYS = {
    "service-named-2048": edit(
        PAISS_COMPOSE, ("services:\n", "services:\n  2048:\n    image: alexwhen/docker-2048:1.0\n")
    ),
    "environment-key-NO": edit(
        PAISS_COMPOSE,
        ("    env_file: .env\n", '    env_file: .env\n    environment:\n      NO: "1"\n'),
    ),
    "label-key-on": edit(
        PAISS_COMPOSE,
        ("    env_file: .env\n", "    env_file: .env\n    labels:\n      on: deploy\n"),
    ),
}


@pytest.mark.parametrize("name", sorted(NON_STRING_KEYS))
def test_yaml_1_1_keys_stay_strings_as_in_compose(name: str) -> None:
    assert validate(NON_STRING_KEYS[name]) == []


def test_cli_reports_wrong_types_without_a_traceback(tmp_path: Path) -> None:
    root = materialize(None, tmp_path / "root")
    compose = root / PAISS_COMPOSE
    compose.write_text(CRASHES["ports-scalar"][PAISS_COMPOSE], encoding="utf-8")
    done = run_cli("validate", "--root", str(root), "--format", "github", cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert done.stdout.startswith("::error file=configs/paiss/docker-compose.yml,line=5,")


def test_unquoted_port_mapping_is_not_a_base_60_number() -> None:
    problems = validate(
        NO_PROXY,
        edit(
            PAISS_COMPOSE,
            ("    env_file: .env\n", "    env_file: .env\n    ports:\n      - 2222:22\n"),
        ),
        edit(
            GABS_COMPOSE,
            (
                "    volumes:\n      - bookings",
                '    ports:\n      - "2222:22"\n    volumes:\n      - bookings',
            ),
        ),
    )
    assert problems
    assert set(rules_at(problems)) == {
        (GABS_COMPOSE, 22, "host.port-conflict"),
        (PAISS_COMPOSE, 6, "host.port-conflict"),
    }


def test_port_collision_through_variables_within_one_tenant() -> None:
    problems = validate(
        NO_PROXY,
        edit(
            GABS_COMPOSE,
            (
                "      API_URL: ${API_PUBLIC_URL}\n",
                '      API_URL: ${API_PUBLIC_URL}\n    ports:\n      - "${HTTP_PORT:-8080}:80"\n',
            ),
            (
                "    volumes:\n      - bookings",
                '    ports:\n      - "8080:8000"\n    volumes:\n      - bookings',
            ),
        ),
    )
    assert problems
    assert {p.rule for p in problems} <= {"compose.port-collision", "host.port-conflict"}
    assert {(p.location.file, p.location.line) for p in problems} == {(GABS_COMPOSE, 24)}


def test_required_variable_set_to_empty() -> None:
    env = "configs/gabs-massage/.env.staging"
    problems = validate(
        edit(env, ("BOOKING_NOTIFY=staging@gabs-massage.de\n", "BOOKING_NOTIFY=\n"))
    )
    assert rules_at(problems) == [(GABS_COMPOSE, 20, "compose.unresolved-variable")]


def test_unknown_service_key_is_located_at_the_key() -> None:
    problems = validate(
        edit(
            PAISS_COMPOSE,
            ("    env_file: .env\n", "    env_file: .env\n    enviroment:\n      MODE: x\n"),
        )
    )
    assert problems == [
        Problem(
            at(PAISS_COMPOSE, 5, 5, "/services/web/enviroment"),
            "compose.schema",
            "services/web: unknown key 'enviroment'",
            SCHEMA_HINT,
        )
    ]


def test_wrong_nested_value_is_reported_once() -> None:
    problems = validate(edit(PAISS_COMPOSE, ("      interval: 10s\n", "      interval: 10\n")))
    assert rules_at(problems) == [(PAISS_COMPOSE, 7, "compose.schema")]


def test_missing_colon_is_reported_on_its_line() -> None:
    problems = validate(edit(GABS_PROJECT, ("    port: 8000\n", "    port 8000\n")))
    assert [(p.location.line, p.location.column, p.rule) for p in problems] == [
        (16, 5, "yaml.syntax")
    ]


def test_unknown_deploy_after_is_located_at_its_key() -> None:
    problems = validate(edit(PLATFORM, ("deploy_after: staging", "deploy_after: stageing")))
    assert [(p.location, p.rule) for p in problems] == [
        (at(PLATFORM, 22, 5, "/environments/production/deploy_after"), "settings.unknown-env")
    ]


CYCLE_HINT = "one environment deploys first (usually staging): remove deploy_after from one of "


def test_settings_deploy_after_cycle() -> None:
    problems = validate(
        edit(PLATFORM, ("  staging:\n", "  staging:\n    deploy_after: production\n"))
    )
    assert problems == [
        Problem(
            at(PLATFORM, 14, 5, "/environments/staging/deploy_after"),
            "settings.deploy-after-cycle",
            "environments deploy after each other in a cycle (staging after production, "
            "production after staging): none of them can ever deploy",
            CYCLE_HINT + "staging, production",
        )
    ]


def test_settings_deploy_after_cycle_of_three_behind_a_chain() -> None:
    qa = (
        "  qa:\n    deploy_after: production\n    hosts:\n      qa-1:\n"
        "        address: 203.0.113.30\n        host_key: ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIBWRnk8G6iV3FDzv1k5MZ5Zs/aBlc50T2qlzdpfnExix\n"
        "  demo:\n    deploy_after: qa\n    hosts:\n      demo-1:\n"
        "        address: 203.0.113.40\n        host_key: ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIBWRnk8G6iV3FDzv1k5MZ5Zs/aBlc50T2qlzdpfnExix\n"
    )
    problems = validate(
        edit(
            PLATFORM,
            ("  staging:\n", "  staging:\n    deploy_after: qa\n"),
            ("\nreleases:", qa + "\nreleases:"),
        )
    )
    # demo waits for the ring without being in it: one problem, at the ring's first environment.
    assert [p for p in problems if p.rule == "settings.deploy-after-cycle"] == [
        Problem(
            at(PLATFORM, 14, 5, "/environments/staging/deploy_after"),
            "settings.deploy-after-cycle",
            "environments deploy after each other in a cycle (staging after qa, qa after "
            "production, production after staging): none of them can ever deploy",
            CYCLE_HINT + "staging, qa, production",
        )
    ]


NESTED_HINT = (
    "add {0}=... (or {1}=...) to configs/filter-ical/.env.{2}, declare it under secrets: in "
    "project.yml, or give it a default: ${{{0}:-value}}"
)


def test_compose_unresolved_variable_in_a_default() -> None:
    env = "configs/filter-ical/.env.production"
    problems = validate(
        edit(
            FILTER_COMPOSE,
            (
                "      LOG_LEVEL: ${LOG_LEVEL:-info}\n",
                "      LOG_LEVEL: ${LOG_LEVEL:-info}\n"
                "      A: ${TZ_NAME:-${FALLBACK_TZ}}\n"
                "      B: ${MAIL:-${MAIL_HOST:?set MAIL or MAIL_HOST}}\n"
                "      C: ${APP_ENV:+${APP_ENV_SUFFIX}}\n"
                "      D: ${TZ_NAME:-${APP_ENV}}\n",
            ),
        ),
        {env: BASE[env] + "TZ_NAME=Europe/Vienna\nMAIL_HOST=\n"},
    )
    assert problems == [
        Problem(
            at(FILTER_COMPOSE, 23, 7, "/services/backend/environment/A"),
            "compose.unresolved-variable",
            "${FALLBACK_TZ} is not set for environment 'staging', and compose reads it: it is in "
            "the default of ${TZ_NAME:-${FALLBACK_TZ}}",
            NESTED_HINT.format("FALLBACK_TZ", "TZ_NAME", "staging"),
        ),
        Problem(
            at(FILTER_COMPOSE, 24, 7, "/services/backend/environment/B"),
            "compose.unresolved-variable",
            "${MAIL_HOST:?...} requires a value but MAIL_HOST is empty or unset for environment "
            "'production', and compose reads it: it is in the default of "
            "${MAIL:-${MAIL_HOST:?set MAIL or MAIL_HOST}}",
            NESTED_HINT.format("MAIL_HOST", "MAIL", "production"),
        ),
        Problem(
            at(FILTER_COMPOSE, 24, 7, "/services/backend/environment/B"),
            "compose.unresolved-variable",
            "${MAIL_HOST:?...} requires a value but MAIL_HOST is empty or unset for environment "
            "'staging', and compose reads it: it is in the default of "
            "${MAIL:-${MAIL_HOST:?set MAIL or MAIL_HOST}}",
            NESTED_HINT.format("MAIL_HOST", "MAIL", "staging"),
        ),
        Problem(
            at(FILTER_COMPOSE, 25, 7, "/services/backend/environment/C"),
            "compose.unresolved-variable",
            "${APP_ENV_SUFFIX} is not set for environment 'production', and compose reads it: it "
            "is in the alternative value of ${APP_ENV:+${APP_ENV_SUFFIX}}",
            NESTED_HINT.format("APP_ENV_SUFFIX", "APP_ENV", "production"),
        ),
        Problem(
            at(FILTER_COMPOSE, 25, 7, "/services/backend/environment/C"),
            "compose.unresolved-variable",
            "${APP_ENV_SUFFIX} is not set for environment 'staging', and compose reads it: it "
            "is in the alternative value of ${APP_ENV:+${APP_ENV_SUFFIX}}",
            NESTED_HINT.format("APP_ENV_SUFFIX", "APP_ENV", "staging"),
        ),
    ]


def test_missing_key_in_a_backup_names_the_backup() -> None:
    problems = validate(edit(GABS_PROJECT, ("    volume: bookings\n", "")))
    assert [p.message for p in problems] == ["missing required key 'volume' in backups.0"]


def test_unquoted_restart_no_is_a_string() -> None:
    change = edit(
        GABS_COMPOSE,
        ("  frontend:\n    restart: unless-stopped\n", "  frontend:\n    restart: no\n"),
    )
    assert validate(change) == []
