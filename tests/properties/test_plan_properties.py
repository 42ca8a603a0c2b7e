"""Properties of plans made from any platform tree the schema admits.

Every name and value is generated from the patterns the models publish (see plan_strategies).
For each tree: validation finds no problem; the plan is exact, round-trips through JSON and is
deterministic; its script passes `bash -n` and every step line splits back into exactly its
argv; no secret value reaches the plan. The tests after it pin the contracts of domain
templates, step ids and recorded health checks, platform variables, image references and
actors.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import uuid
from datetime import UTC
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from plan_strategies import (
    ACTOR_RULE,
    DIGESTS,
    DOMAIN,
    DOMAIN_TEMPLATE,
    HEALTH_PATH,
    NOW,
    PROPERTY_SETTINGS,
    REGISTRY_HOST,
    ROUTE_SERVICE,
    TAGS,
    Scenario,
    Tree,
    all_secret_names,
    dump_yaml,
    expected_domains,
    expected_env_values,
    health_tsv,
    parse_script,
    scenarios,
    small_tree,
    step_words,
    strings,
)

from platform_lib.commands.common import ACTOR, actor
from platform_lib.config.envfile import parse_env_file
from platform_lib.config.images import DIGEST, IMAGE_REF, TAG
from platform_lib.config.loader import PlatformConfig
from platform_lib.config.platform_vars import image_variable
from platform_lib.config.validate import load_valid_config, validate_sources
from platform_lib.config.yaml_source import parse_yaml
from platform_lib.errors import PlanError, UsageError
from platform_lib.models.host_state import HostState, ReleaseRecord
from platform_lib.models.plan import Plan, ServerFacts
from platform_lib.models.records import ReleaseDraft
from platform_lib.planning.builder import PlanRequest, build_plan
from platform_lib.planning.canonical import canonical_json, plan_json, sha256_text
from platform_lib.planning.release_files import LABEL_PREFIX
from platform_lib.planning.render import render_script, runtime
from platform_lib.planning.rollback import RollbackRequest, build_rollback_plan

BASH = shutil.which("bash") or "/bin/bash"
# One example is a whole platform tree: drawing its dozens of names takes ~50 ms, so a loaded
# CI machine can trip `too_slow` (which wants 10 examples drawn within a second) on a strategy
# that is fine.
PROPERTY = settings(
    PROPERTY_SETTINGS,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)


def bash_syntax_errors(script: str) -> str:
    """`bash -n` of the script; its complaints ('' if none). Run without our environment:
    secret names such as PATH may be set to markers while this runs."""
    done = subprocess.run(
        [BASH, "-n"], input=script.encode(), capture_output=True, env={}, check=False
    )
    if done.returncode == 0 and not done.stderr:
        return ""
    return f"exit {done.returncode}: {done.stderr.decode(errors='replace')}"


def _host(tree: Tree, env: str) -> tuple[str, dict[str, Any]]:
    hosts = tree.settings["environments"][env]["hosts"]
    name = tree.manifest.get("placement", {}).get(env) or next(iter(hosts))
    return name, hosts[name]


def _expected_credentials(tree: Tree) -> tuple[str, ...]:
    registry = tree.settings["registry"]
    return (
        (registry["token_secret"],)
        if registry.get("username") and "token_secret" in registry
        else ()
    )


def check_plan(scenario: Scenario, plan: Plan) -> None:
    """The plan is exactly what the tree and request ask for."""
    tree, request = scenario.tree, scenario.request
    env, project = request.environment, tree.project
    base = f"{tree.settings['deploy_root']}/projects/{project}/{env}"
    now = request.now.astimezone(UTC)
    assert (plan.project, plan.environment) == (project, env)
    assert plan.compose_project == f"{project}-{env}"
    assert plan.base_dir == base
    assert (plan.actor, plan.platform_sha) == (request.actor, request.platform_sha)
    assert plan.created_at == f"{now:%Y-%m-%dT%H:%M:%SZ}"
    assert plan.release.startswith(f"{now:%Y%m%dT%H%M%SZ}-")
    assert plan.images == scenario.expected_images
    assert plan.domains == tuple(expected_domains(tree, env))
    assert plan.secrets == tuple(tree.manifest["secrets"])
    assert plan.credentials == _expected_credentials(tree)
    assert not set(plan.secrets) & set(plan.credentials)
    assert plan.facts == request.facts
    host_name, host = _host(tree, env)
    assert plan.host.model_dump() == {
        "name": host_name,
        "kind": host["kind"],
        "address": host.get("address"),
        "port": host["port"],
        "user": host["user"],
        "host_key": host.get("host_key"),
        "docker_host": host.get("docker_host"),
    }

    release_dir = f"{base}/releases/{plan.release}"
    files = {f.path.removeprefix(release_dir + "/"): f for f in plan.files}
    assert [f.path for f in plan.files] == [f"{release_dir}/{n}" for n in files]
    assert sorted(files) == [
        ".env", "docker-compose.yml", "health.tsv", "platform.override.yml", "release.draft.json"
    ]  # fmt: skip
    assert all(f.sha256 == sha256_text(f.content) for f in plan.files)
    # Tenant data is the deploy user's alone on the host.
    assert {n: f.mode for n, f in files.items()} == dict.fromkeys(files, "0600")
    # What the plan knows of the release goes to the host as its record's draft.
    draft = ReleaseDraft.model_validate_json(files["release.draft.json"].content)
    assert draft == ReleaseDraft(
        release=plan.release, project=project, environment=env,
        compose_project=plan.compose_project, actor=plan.actor, platform_sha=plan.platform_sha,
        images=plan.images, grants=plan.grants,
    )  # fmt: skip
    # The release's own HTTP checks, which a later restore of it runs (service, port, path).
    assert files["health.tsv"].content == health_tsv(tree.manifest["routes"])
    assert files["docker-compose.yml"].content == dump_yaml(tree.compose)  # as the tenant wrote it
    labels = {f"{LABEL_PREFIX}.project": project, f"{LABEL_PREFIX}.environment": env}
    assert yaml.safe_load(files["platform.override.yml"].content) == {
        "services": {
            service: {"labels": labels}
            | ({"image": plan.images[service]} if service in plan.images else {})
            for service in tree.compose["services"]
        }
    }

    # The release .env: the tenant's file, then the platform's variables. No release id among
    # them: it changes every deploy and would recreate every container reading the file.
    released = parse_env_file(files[".env"].content, "release/.env")
    assert released.problems == ()
    assert released.values() == {
        **expected_env_values(tree, env),
        "PLATFORM_PROJECT": project,
        "PLATFORM_ENVIRONMENT": env,
        "PLATFORM_COMPOSE_PROJECT": plan.compose_project,
        "PLATFORM_DOMAIN": plan.domains[0] if plan.domains else "",
        **{image_variable(s): ref for s, ref in plan.images.items()},
    }
    assert "PLATFORM_RELEASE" not in released.values()

    # Step ids name the failed step: unique, the health checks numbered per route. A failed
    # switch restores the current release and runs the checks recorded with it.
    ids = [s.id for s in (*plan.steps, *plan.rollback)]
    assert len(ids) == len(set(ids)), ids
    timeout = str(tree.settings["timeouts"]["health"])
    checks = [(s.id, s.argv) for s in plan.steps if s.argv[0] == "platform_http_check"]
    assert checks == [
        (
            f"health-{n}-{route['service']}",
            (
                "platform_http_check",
                plan.compose_project,
                route["service"],
                str(route["port"]),
                route["health_path"],
                timeout,
            ),
        )
        for n, route in enumerate(tree.manifest["routes"], 1)
    ]
    assert [s.id for s in plan.rollback] == ["rollback", "rollback-health"]
    assert plan.rollback[1].argv == (
        "platform_check_release",
        base,
        "current",
        plan.compose_project,
        timeout,
    )

    if tree.manifest["secrets"]:
        (secrets_step,) = [s for s in plan.steps if s.argv[0] == "platform_append_secrets"]
        assert secrets_step.argv == (
            "platform_append_secrets",
            f"{release_dir}/.env",
            *tree.manifest["secrets"],
        )
    else:
        assert not [s for s in plan.steps if s.argv[0] == "platform_append_secrets"]


def check_script(plan: Plan, script: str) -> None:
    """(a) bash accepts the script; (b) every step's line splits into exactly its argv."""
    assert bash_syntax_errors(script) == ""
    parsed = parse_script(script, runtime())
    assert parsed.header[0] == "#!/usr/bin/env bash"
    assert all(line.startswith("# ") for line in parsed.header[1:4])
    assert parsed.header[3] == "# Secrets read from the environment at apply time: " + (
        ", ".join((*plan.secrets, *plan.credentials)) or "none"
    )
    assert parsed.header[4:] == ["set -euo pipefail", "umask 077"]
    from_plan = {
        "PLATFORM_PLAN_ID": plan.id,
        "PLATFORM_KIND": plan.kind,
        "PLATFORM_RELEASE": plan.release,
        "PLATFORM_ACTOR": plan.actor,
        "PLATFORM_BASE": plan.base_dir,
        "PLATFORM_STEP_COUNT": str(len(plan.steps)),
    }
    assert {name: parsed.variables.get(name) for name in from_plan} == from_plan

    contents = {f.path: f.content for f in plan.files}
    for indent, steps, commands in (
        ("  ", plan.rollback, parsed.rollback),
        ("", plan.steps, parsed.steps),
    ):
        assert len(commands) == len(steps)
        for step, command in zip(steps, commands, strict=True):
            assert shlex.split(shlex.join(step.argv)) == list(step.argv)
            assert command.text.startswith(indent + "platform_step ")
            assert command.words == step_words(step)
            if step.stdin_file is None:
                # bash reads the script from its stdin: a step must not read on from there.
                assert (command.stdin, command.heredoc) == ("/dev/null", None)
            else:
                assert command.stdin == "heredoc"
                assert command.heredoc is not None
                assert base64.b64decode(command.heredoc).decode() == contents[step.stdin_file]


@PROPERTY
@given(scenarios())
def test_admitted_trees_validate_and_plan_into_safe_scripts(scenario: Scenario) -> None:
    tree = scenario.tree
    sources = tree.sources()
    # The platform reads back exactly the documents generated (so they are what is tested).
    for path, data in (
        ("configs/platform.yml", tree.settings),
        (f"configs/{tree.project}/project.yml", tree.manifest),
        (f"configs/{tree.project}/docker-compose.yml", tree.compose),
    ):
        assert parse_yaml(sources[path], path).data == data
    config, problems = validate_sources(sources)
    assert problems == []
    assert config is not None

    # (d) Secret values come from the deploy environment at apply time only: whatever the
    # planning process has in its environment must not reach the plan.
    markers = {name: f"secret-value-{uuid.uuid4().hex}" for name in all_secret_names(scenario.tree)}
    with patch.dict(os.environ, markers):
        plan = build_plan(config, scenario.request)
        script = render_script(plan)
        again = build_plan(load_valid_config(sources), scenario.request)
        in_utc = build_plan(
            config, dataclasses.replace(scenario.request, now=scenario.request.now.astimezone(UTC))
        )
    text = plan_json(plan)
    for marker in markers.values():
        assert marker not in text
        assert marker not in script
    assert set(plan.secrets) | set(plan.credentials) <= set(markers)
    for name in (*plan.secrets, *plan.credentials):
        assert name in script

    check_plan(scenario, plan)
    check_script(plan, script)

    # (c) The plan file round-trips, and its id is the hash of its canonical JSON.
    assert Plan.model_validate_json(text) == plan
    assert plan.id == sha256_text(
        canonical_json(plan.model_copy(update={"id": ""}).model_dump(mode="json"))
    )

    # (e) Same inputs (and the same instant in another zone): byte-identical plan and script.
    assert plan_json(again) == text
    assert render_script(again) == script
    assert plan_json(in_utc) == text


def plan_of(tree: Tree, env: str = "staging", **request: Any) -> Plan:
    """The plan of a tree that must be valid (asserted)."""
    config, problems = validate_sources(tree.sources())
    assert problems == []
    assert config is not None
    fields: dict[str, Any] = {"images": {"web": "v1.0.0"}, "platform_sha": "abc123"} | request
    return build_plan(config, PlanRequest(tree.project, env, NOW, "alice", **fields))


def test_small_tree_is_valid() -> None:
    """The base of the tests below is itself valid and plans (so they test what they say)."""
    plan = plan_of(small_tree())
    assert plan.domains == ("staging.shop.example.com",)
    assert plan.images == {"web": "ghcr.io/acme/shop-web:v1.0.0"}


def test_adversarial_free_text_stays_one_word() -> None:
    """Text the CLI passes through unchecked, built to break out of quotes, heredocs and the
    rollback function's braces, still renders as exactly one word each."""
    nasty = 'it\'s\n}\nPLATFORM_BASE64_END\n$(touch /tmp/pwned) `id` \\ "x" ; rm -rf /\n'
    plan = plan_of(
        small_tree(),
        "production",
        images={"web": "sha256:" + "b" * 64},
        facts=ServerFacts(current_release=nasty),
        platform_sha=nasty,
    )
    (expect,) = [s for s in plan.steps if s.id == "precondition"]
    assert expect.argv[-1] == nasty
    check_script(plan, render_script(plan))


def test_the_script_check_notices_unquoted_words() -> None:
    """check_script can fail: a renderer joining argv with spaces is caught."""
    plan = plan_of(small_tree())
    with patch("platform_lib.planning.render.quote", " ".join):
        broken = render_script(plan)
    with pytest.raises(AssertionError):
        check_script(plan, broken)


# --- domains ---------------------------------------------------------------------------------

DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


# `{domain}` alone would give staging production's domains: a conflict of its own.
@settings(PROPERTY_SETTINGS, max_examples=25)
@given(template=strings(DOMAIN_TEMPLATE).filter(lambda t: t != "{domain}"), domain=strings(DOMAIN))
@example(template="staging.{domain}", domain="shop.example.com")
@example(template="{domain}.internal", domain="shop.example.com")
def test_domain_templates_put_dns_labels_around_the_domain(template: str, domain: str) -> None:
    """A template is `(label.)*{domain}(.label)*`: what it derives is the domain with whole DNS
    labels around it. (Not all of those are domains: test_derived_domains_are_domains.)"""
    tree = small_tree()
    tree.settings["environments"]["staging"]["domain_template"] = template
    tree.manifest["routes"][0]["domains"]["production"] = [domain]
    derived = template.replace("{domain}", domain)
    config, problems = validate_sources(tree.sources())
    if DOMAIN.admits(derived):
        assert problems == []
    if problems:
        return
    assert config is not None
    plan = build_plan(config, PlanRequest("shop", "staging", NOW, "a", "b", {"web": "v1"}))
    assert plan.domains == (derived,)
    assert all(DNS_LABEL.fullmatch(label) for label in derived.split(".")), derived


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(
            "{domain}.1",
            id="numeric-last-label",
        ),
        pytest.param(
            "a" * 64 + ".{domain}",
            id="label-over-63",
        ),
        pytest.param(
            ("a" * 63 + ".") * 4 + "{domain}",
            id="domain-over-253",
        ),
        "staging.{domain}",
    ],
)
def test_derived_domains_are_domains(template: str) -> None:
    """Derived domains obey the Domain type explicit ones obey, or the template is refused, or
    each domain it derives is reported where its production domain is listed."""
    tree = small_tree()
    tree.settings["environments"]["staging"]["domain_template"] = template
    config, problems = validate_sources(tree.sources())
    if problems:
        where = {(p.rule, p.location.pointer) for p in problems}
        assert where in (
            {("settings.invalid", "/environments/staging/domain_template")},
            {("project.derived-domain", "/routes/0/domains/production/0")},
        ), where
        return
    assert config is not None
    plan = build_plan(config, PlanRequest("shop", "staging", NOW, "a", "b", {"web": "v1"}))
    assert all(DOMAIN.admits(d) for d in plan.domains), plan.domains


# --- step ids ------------------------------------------------------------------------------------


def test_health_steps_are_numbered_per_route() -> None:
    """Two routes to one service and port get one health step each, numbered by route (step
    ids name the failed step, so are unique); both are recorded in the release's health.tsv,
    which a restore of the release runs (its own routes, not those of a newer config)."""
    tree = small_tree()
    tree.manifest["routes"].append(
        {
            "service": "web",
            "port": 80,
            "health_path": "/api",
            "domains": {"production": ["api.example.com"]},
        }
    )
    plan = plan_of(tree)
    checks = [s for s in plan.steps if s.argv[0] == "platform_http_check"]
    assert [(s.id, s.argv[3], s.argv[4]) for s in checks] == [
        ("health-1-web", "80", "/"),
        ("health-2-web", "80", "/api"),
    ]
    (recorded,) = [f.content for f in plan.files if f.path.endswith("/health.tsv")]
    assert recorded == "web\t80\t/\nweb\t80\t/api\n"
    assert [s.id for s in plan.rollback] == ["rollback", "rollback-health"]
    ids = [s.id for s in (*plan.steps, *plan.rollback)]
    assert len(ids) == len(set(ids)), ids

    # A rollback plan checks the release it restores by that release's health.tsv.
    state = HostState(
        current_release="20260102T000000Z-b",
        releases=[
            ReleaseRecord(release="20260102T000000Z-b"),
            ReleaseRecord(release="20260101T000000Z-a"),
        ],
    )
    config = load_valid_config(tree.sources())
    back = build_rollback_plan(config, RollbackRequest("shop", "staging", NOW, "a", "b", state))
    (health,) = [s for s in back.steps if s.id == "health"]
    assert health.argv == (
        "platform_check_release",
        back.base_dir,
        "20260101T000000Z-a",
        "shop-staging",
        "60",
    )
    assert [s.id for s in back.rollback] == ["rollback", "rollback-health"]
    ids = [s.id for s in (*back.steps, *back.rollback)]
    assert len(ids) == len(set(ids)), ids


ROUTES = st.lists(
    st.tuples(strings(ROUTE_SERVICE), st.integers(1, 65535), strings(HEALTH_PATH)),
    min_size=1,
    max_size=8,
)


@settings(PROPERTY_SETTINGS, max_examples=10)
@given(routes=ROUTES)
@example(routes=[("web", 80, "/"), ("web", 80, "/a;b?c=$x&d='e'(f)*%20"), ("api.v2", 1, "//")])
def test_recorded_health_checks_are_run_as_recorded(routes: list[tuple[str, int, str]]) -> None:
    """`platform_check_release` (runtime/health.sh) reads the plan's health.tsv back into
    exactly the checks of the deploy's health steps, in order, every word intact."""
    tree = small_tree()
    for service, _, _ in routes:
        tree.compose["services"].setdefault(service, {"image": "postgres:16.4-alpine"})
    tree.manifest["routes"] = [
        {"service": s, "port": p, "health_path": h, "domains": {"production": [f"r{i}.example"]}}
        for i, (s, p, h) in enumerate(routes)
    ]
    plan = plan_of(tree)
    (tsv,) = [f.content for f in plan.files if f.path.endswith("/health.tsv")]
    with tempfile.TemporaryDirectory() as base:
        Path(base, "releases", "r1").mkdir(parents=True)
        Path(base, "releases", "r1", "health.tsv").write_text(tsv, encoding="utf-8")
        stub = 'platform_http_check() { printf "%s\\0" "$@"; printf "\\n"; }'
        script = f'{runtime()}\n{stub}\nplatform_check_release "$1" r1 shop-staging 60\n'
        done = subprocess.run(
            [BASH, "-c", script, "bash", base],
            input=b"",
            capture_output=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            check=False,
        )
        assert done.returncode == 0, done.stderr
    calls = [tuple(line.split("\0")[:-1]) for line in done.stdout.decode().splitlines()]
    assert calls == [s.argv[1:] for s in plan.steps if s.argv[0] == "platform_http_check"]
    assert len(calls) == len(routes)


# --- platform variables ----------------------------------------------------------------------


def test_platform_release_is_no_platform_variable() -> None:
    """`PLATFORM_RELEASE` changed every deploy (recreating every container reading `.env`): the
    release `.env` no longer sets it, so a compose file reading it is told nothing sets it."""
    tree = small_tree()
    tree.compose["services"]["web"]["environment"] = {
        "DOMAIN": "${PLATFORM_DOMAIN}",
        "IMAGE": "${PLATFORM_IMAGE_WEB}",
        "RELEASE": "${PLATFORM_RELEASE}",
    }
    _, problems = validate_sources(tree.sources())
    assert [(p.location.file, p.location.pointer, p.rule, p.message) for p in problems] == [
        (
            "configs/shop/docker-compose.yml",
            "/services/web/environment/RELEASE",
            "compose.unresolved-variable",
            f"${{PLATFORM_RELEASE}} is not set for environment {env!r}",
        )
        for env in ("production", "staging")
    ]
    del tree.compose["services"]["web"]["environment"]["RELEASE"]
    plan = plan_of(tree)
    (env_text,) = [f.content for f in plan.files if f.path.endswith("/.env")]
    env = parse_env_file(env_text, "release/.env").values()
    assert sorted(k for k in env if k.startswith("PLATFORM_")) == [
        "PLATFORM_COMPOSE_PROJECT",
        "PLATFORM_DOMAIN",
        "PLATFORM_ENVIRONMENT",
        "PLATFORM_IMAGE_WEB",
        "PLATFORM_PROJECT",
    ]


# --- images ----------------------------------------------------------------------------------

OWN = "ghcr.io/acme/shop-web"
"""The repository of small_tree's built service."""
OWN_REFERENCE = re.compile(rf"{re.escape(OWN)}(:{TAG.pattern})?(@{DIGEST.pattern})?")
BAD_PIECES = [
    "\n", " ", "\t", "'", '"', "$", "`", ";", "/", ":", "@", "A", "é", "..", "-", "\x00", "\u2028"
]  # fmt: skip


def _insert(text: str, piece: str, at: int) -> str:
    at %= len(text) + 1
    return text[:at] + piece + text[at:]


def _own_reference(tag: str | None, digest: str | None) -> str:
    return OWN + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


ADMITTED_REFERENCES = st.one_of(
    TAGS,
    DIGESTS,
    DIGESTS.map("@{}".format),
    st.builds(_own_reference, st.none() | TAGS, st.none() | DIGESTS),
)
GIVEN_REFERENCES = st.one_of(
    ADMITTED_REFERENCES,
    st.builds(_insert, ADMITTED_REFERENCES, st.sampled_from(BAD_PIECES), st.integers(0, 200)),
    ADMITTED_REFERENCES.map(lambda ref: ref + "\n"),
    st.sampled_from(
        ["ghcr.io/acme/shop-webx:v1", "ghcr.io/acme/shop-web/x:v1", "docker.io/acme/shop-web:v1"]
    ),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30),
)


@functools.cache
def small_config() -> PlatformConfig:
    return load_valid_config(small_tree().sources())


@settings(PROPERTY_SETTINGS, max_examples=150)
@given(given_ref=GIVEN_REFERENCES)
@example(given_ref="v1 2")
@example(given_ref="it's")
@example(given_ref="sha256:" + "a" * 64 + "\n")
@example(given_ref=OWN + ":v1\n")
@example(given_ref="@sha256:" + "a" * 63)
@example(given_ref=OWN)
def test_given_images_are_tags_digests_or_own_references(given_ref: str) -> None:
    """`--image web=...` takes a tag (`<repo>:<tag>`), a digest with or without `@`
    (`<repo>@<digest>`) or a reference to the service's own repository (as given); anything
    else is refused. Nothing else reaches the plan."""
    digest = given_ref.removeprefix("@")
    if DIGEST.fullmatch(digest):
        expected: str | None = f"{OWN}@{digest}"
    elif TAG.fullmatch(given_ref):
        expected = f"{OWN}:{given_ref}"
    elif OWN_REFERENCE.fullmatch(given_ref):
        expected = given_ref
    else:
        expected = None
    request = PlanRequest("shop", "staging", NOW, "a", "b", {"web": given_ref})
    if expected is None:
        with pytest.raises(PlanError):
            build_plan(small_config(), request)
        return
    plan = build_plan(small_config(), request)
    assert plan.images == {"web": expected}
    assert IMAGE_REF.fullmatch(expected) is not None


DIGEST_A = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("verified", "expected"),
    [
        (f"{OWN}@{DIGEST_A}", f"{OWN}@{DIGEST_A}"),
        (f"registry.example/other:v9@{DIGEST_A}", f"{OWN}@{DIGEST_A}"),
        (f"{OWN}@not-a-digest", None),
        (f"{OWN}@sha256:abc", None),
        (f"{OWN}@sha256:{'A' * 64}", None),
        (f"{OWN}@{DIGEST_A}\n", None),
        (f"{OWN}@@{DIGEST_A}", None),
        (f"{OWN}@sha512:{'a' * 128}", None),
        (f"{OWN}:v1", None),
    ],
)
def test_promotion_deploys_only_digests(verified: str, expected: str | None) -> None:
    """Promotion deploys the sha256 digest the source environment verified, or refuses."""
    facts = ServerFacts(verified_images={"web": verified})
    request = PlanRequest("shop", "production", NOW, "a", "b", {}, facts)
    if expected is None:
        with pytest.raises(PlanError, match="which is not a digest"):
            build_plan(small_config(), request)
    else:
        assert build_plan(small_config(), request).images == {"web": expected}


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(host=strings(REGISTRY_HOST).filter(lambda host: "--" not in host))
@example(host="127.0.0.1:5000")
@example(host="0")
def test_registry_hosts_make_image_references(host: str) -> None:
    """Every registry host makes image references, given in full or not."""
    tree = small_tree()
    tree.settings["registry"]["host"] = host
    plan = plan_of(tree)
    assert plan.images == {"web": f"{host}/acme/shop-web:v1.0.0"}
    assert IMAGE_REF.fullmatch(plan.images["web"]) is not None
    assert plan_of(tree, images={"web": f"{host}/acme/shop-web:v1.0.0"}).images == plan.images


def test_registry_hosts_with_double_hyphens_make_image_references() -> None:
    tree = small_tree()
    tree.settings["registry"]["host"] = "xn--bcher-kva.example"
    plan = plan_of(tree)
    assert IMAGE_REF.fullmatch(plan.images["web"]) is not None, plan.images
    full = plan_of(tree, images={"web": "xn--bcher-kva.example/acme/shop-web:v1.0.0"})
    assert full.images == plan.images


@pytest.mark.parametrize(
    ("image", "docker_reads_it"),
    [
        ("postgres:16.4-alpine", True),
        ("registry.example:5000/lib/postgres:16", True),
        pytest.param(
            "xn--bcher-kva.example/lib/postgres:16",
            True,
            id="double-hyphen-host",
        ),
        ("ghcr.io/ac__me/web:v1", True),
        ("ghcr.io/ac---me/web:v1", True),
        pytest.param(
            "ghcr.io/ac..me/web:v1",
            False,
            id="double-dot-path",
        ),
        ("ghcr.io/acme/web:v1\n", False),
    ],
)
def test_compose_images_follow_dockers_reference_grammar(image: str, docker_reads_it: bool) -> None:
    """A compose file's pinned image is valid exactly when docker can read the reference
    (checked by hand with `docker pull`: "invalid reference format" or not)."""
    tree = small_tree()
    tree.compose["services"]["db"]["image"] = image
    _, problems = validate_sources(tree.sources())
    expected = [] if docker_reads_it else [("compose.invalid-image", "/services/db/image")]
    assert [(p.rule, p.location.pointer) for p in problems] == expected


# --- the actor -------------------------------------------------------------------------------

ACTORS = st.one_of(
    strings(ACTOR_RULE),
    st.builds(_insert, strings(ACTOR_RULE), st.sampled_from(BAD_PIECES), st.integers(0, 100)),
    strings(ACTOR_RULE).map(lambda name: name + "\n"),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=70),
)


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(name=ACTORS)
@example(name="alice\n")
@example(name="alice")
@example(name="a" * 65)
def test_actors_match_the_whole_pattern(name: str) -> None:
    """The actor (written into the plan, lock and release record) matches ACTOR as a whole: a
    trailing newline, which `$` would let through, is refused."""
    if ACTOR.fullmatch(name):
        assert actor(name) == name
    else:
        with pytest.raises(UsageError):
            actor(name)
