"""Resource limits: what every container gets (the platform's default, a tenant's request up to
the maximum, the compose file's own limit), the release's override that applies them, and the
rules with their exact location, message and hint."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paiss_tree import ANCHOR, BASE, COMPOSE, ENV, PLATFORM, PROJECT

from platform_lib.config.loader import load_config
from platform_lib.config.resource_limits import effective_limits
from platform_lib.config.validate import load_valid_config, validate_sources
from platform_lib.errors import Location, Problem
from platform_lib.models.limits import ResourceLimits
from platform_lib.models.plan import Plan
from platform_lib.planning.builder import PlanRequest, build_plan

LIMITS = (
    "limits:\n  default: {memory: 512m, cpus: 1, pids: 256}\n"
    "  maximum: {memory: 4g, cpus: 2, pids: 4096}\n"
)
MIB = 1024**2
DEFAULT = ResourceLimits(memory=512 * MIB, cpus=1, pids=256)
ABOVE_HINT = (
    "ask for at most the maximum (limits.maximum in configs/platform.yml), or ask the platform "
    "maintainers to raise it"
)


def tree(compose: str = "", project: str = "", settings: str | None = None) -> dict[str, str]:
    files = dict(BASE)
    files[COMPOSE] = BASE[COMPOSE].replace(ANCHOR, ANCHOR + compose)
    files[PROJECT] = BASE[PROJECT] + project
    if settings is not None:
        assert LIMITS in BASE[PLATFORM]  # the example settings carry these limits
        files[PLATFORM] = BASE[PLATFORM].replace(LIMITS, settings)
    return files


def problems(files: dict[str, str]) -> list[Problem]:
    return validate_sources(files)[1]


def limits_of(files: dict[str, str], env: str = "staging") -> dict[str, ResourceLimits]:
    config = load_valid_config(files)
    return effective_limits(config.settings.limits, config.tenants["paiss"], env)


def plan_of(files: dict[str, str]) -> Plan:
    return build_plan(load_valid_config(files), PlanRequest(
        project="paiss", environment="staging", now=datetime(2026, 12, 1, 12, tzinfo=UTC),
        actor="alice", platform_sha="", images={"web": "v1"},
    ))  # fmt: skip


def override_of(files: dict[str, str]) -> dict[str, dict[str, object]]:
    plan = plan_of(files)
    text = next(f.content for f in plan.files if f.path.endswith("/platform.override.yml"))
    body: dict[str, dict[str, dict[str, object]]] = json.loads(text.split("\n", 1)[1])
    return body["services"]


def test_every_container_gets_the_platforms_default_and_the_plan_says_so() -> None:
    assert limits_of(tree()) == {"web": DEFAULT}
    assert plan_of(tree()).limits == {"web": DEFAULT}


def test_a_manifest_request_raises_up_to_the_maximum_and_lowers_freely() -> None:
    files = tree(project="limits:\n  web: {memory: 4g, cpus: 0.25}\n")
    assert limits_of(files) == {"web": ResourceLimits(memory=4096 * MIB, cpus=0.25, pids=256)}


def test_the_compose_files_own_limit_counts_in_either_form_and_the_manifest_wins() -> None:
    own = "    mem_limit: 1g\n    deploy: {resources: {limits: {pids: 100}}}\n"
    assert limits_of(tree(own)) == {"web": ResourceLimits(memory=1024 * MIB, cpus=1, pids=100)}
    files = tree(own, "limits:\n  web: {memory: 256m}\n")
    assert limits_of(files) == {"web": ResourceLimits(memory=256 * MIB, cpus=1, pids=100)}


def test_a_compose_limit_set_through_the_env_file_is_read_per_environment() -> None:
    files = tree("    mem_limit: ${WEB_MEMORY}\n")
    files[ENV] = BASE[ENV] + "WEB_MEMORY=2g\n"
    files["configs/paiss/.env.production"] = (
        BASE["configs/paiss/.env.production"] + "WEB_MEMORY=3g\n"
    )
    assert limits_of(files)["web"].memory == 2048 * MIB
    assert limits_of(files, "production")["web"].memory == 3072 * MIB


def test_a_compose_limit_above_the_maximum_in_one_environment_names_it() -> None:
    files = tree("    mem_limit: ${WEB_MEMORY}\n")
    files[ENV] = BASE[ENV] + "WEB_MEMORY=8g\n"
    files["configs/paiss/.env.production"] = (
        BASE["configs/paiss/.env.production"] + "WEB_MEMORY=1g\n"
    )
    assert [(p.rule, p.message) for p in problems(files)] == [
        ("compose.limit-above-maximum", "service 'web' sets mem_limit to 8g, above the "
         "platform's maximum of 4g (in staging)")
    ]  # fmt: skip


def test_the_override_applies_the_limits_in_both_forms() -> None:
    web = override_of(tree("    mem_limit: 1g\n    cpus: 0.5\n"))["web"]
    assert {k: web[k] for k in ("mem_limit", "cpus", "pids_limit", "deploy")} == {
        "mem_limit": "1g",
        "cpus": 0.5,
        "pids_limit": 256,
        "deploy": {"resources": {"limits": {"memory": "1g", "cpus": 0.5, "pids": 256}}},
    }


def test_without_limits_in_the_settings_nothing_is_limited() -> None:
    files = tree("    mem_limit: 64g\n", settings="")
    assert problems(files) == []
    assert limits_of(files) == {"web": ResourceLimits()}
    assert set(override_of(files)["web"]) == {"image", "labels"}
    plan = plan_of(files)
    assert plan.limits == {}
    assert "limits" not in plan.model_dump(mode="json")  # the same plan (and id) as before


def test_without_limits_in_the_settings_the_manifests_own_limits_still_apply() -> None:
    files = tree(project="limits:\n  web: {pids: 64}\n", settings="")
    assert override_of(files)["web"]["pids_limit"] == 64
    assert "mem_limit" not in override_of(files)["web"]


def test_a_resource_with_only_a_maximum_defaults_to_it_and_one_with_only_a_default_is_fixed() -> (
    None
):
    files = tree(settings="limits:\n  default: {pids: 100}\n  maximum: {memory: 1g}\n")
    assert limits_of(files) == {"web": ResourceLimits(memory=1024 * MIB, pids=100)}
    fixed = tree(
        project="limits:\n  web: {pids: 101}\n", settings="limits:\n  default: {pids: 100}\n"
    )
    assert [p.rule for p in problems(fixed)] == ["project.limit-above-maximum"]


def test_a_manifest_request_above_the_maximum() -> None:
    files = tree(project="limits:\n  web: {memory: 8g, pids: 4096}\n")
    assert problems(files) == [
        Problem(
            Location(PROJECT, 15, 9, "/limits/web/memory"),
            "project.limit-above-maximum",
            "service 'web' asks for memory 8g, above the platform's maximum of 4g",
            ABOVE_HINT,
        )
    ]


def test_a_manifest_limit_for_a_service_the_compose_file_lacks() -> None:
    assert problems(tree(project="limits:\n  worker: {cpus: 0.5}\n")) == [
        Problem(
            Location(PROJECT, 15, 3, "/limits/worker"),
            "project.unknown-service",
            f"service 'worker' is not in {COMPOSE}",
            "known services: web",
        )
    ]


@pytest.mark.parametrize(
    ("extra", "where", "message"),
    [
        (
            "    mem_limit: 8g\n",
            (5, 5, "/services/web/mem_limit"),
            "service 'web' sets mem_limit to 8g, above the platform's maximum of 4g",
        ),
        (
            "    mem_limit: 0\n",
            (5, 5, "/services/web/mem_limit"),
            "service 'web' sets mem_limit to no limit, above the platform's maximum of 4g",
        ),
        (
            "    deploy: {resources: {limits: {cpus: '4'}}}\n",
            (5, 35, "/services/web/deploy/resources/limits/cpus"),
            "service 'web' sets deploy.resources.limits.cpus to 4, above the "
            "platform's maximum of 2",
        ),
    ],
)
def test_a_compose_limit_above_the_maximum(
    extra: str, where: tuple[int, int, str], message: str
) -> None:
    resource = "memory" if "mem" in extra else "cpus"
    hint = {
        "memory": "set at most 4g, or remove it to get the platform's default of 512m",
        "cpus": "set at most 2, or remove it to get the platform's default of 1",
    }[resource]
    assert problems(tree(extra)) == [
        Problem(Location(COMPOSE, *where), "compose.limit-above-maximum", message, hint)
    ]


@pytest.mark.parametrize(
    ("extra", "where", "what"),
    [
        ("    mem_limit: lots\n", (5, 5, "/services/web/mem_limit"),
         "mem_limit 'lots' is not a size (write e.g. 512m, 1g or a number of bytes)"),
        ("    pids_limit: ${PIDS}\n", (5, 5, "/services/web/pids_limit"),
         "pids_limit is set through ${PIDS}, which the env file does not set"),
        ("    mem_limit: 1g\n    deploy: {resources: {limits: {memory: 2g}}}\n",
         (6, 35, "/services/web/deploy/resources/limits/memory"),
         "mem_limit and deploy.resources.limits.memory differ (Compose refuses distinct "
         "values)"),
    ],
)  # fmt: skip
def test_a_compose_limit_the_platform_cannot_read(
    extra: str, where: tuple[int, int, str], what: str
) -> None:
    found = [p for p in problems(tree(extra)) if p.rule == "compose.limit-unreadable"]
    example = "4096" if "pids" in extra else "4g"
    assert found == [
        Problem(Location(COMPOSE, *where), "compose.limit-unreadable", f"service 'web': {what}",
                f"write the limit itself (e.g. {example}) in one of the two forms, or set it "
                "in project.yml limits:")
    ]  # fmt: skip


def test_a_default_above_the_maximum_is_a_settings_problem() -> None:
    found = problems(tree(settings="limits:\n  default: {cpus: 4}\n  maximum: {cpus: 2}\n"))
    assert [(p.location.file, p.location.pointer, p.rule) for p in found] == [
        (PLATFORM, "/limits", "settings.invalid")
    ]
    assert "the default cpus is above the maximum cpus" in found[0].message


SIZES = st.integers(min_value=0, max_value=16 * 1024).map(lambda m: m * MIB)


@settings(max_examples=60, deadline=None)
@given(st.none() | SIZES.filter(bool), st.none() | SIZES, st.none() | st.integers(-1, 10**5))
def test_no_request_takes_a_container_above_the_maximum(
    asked: int | None, own: int | None, pids: int | None
) -> None:
    """Whatever the manifest and the compose file say, valid or not, what the override writes
    is within the maximum, and a request within it is what the container gets."""
    compose = "" if own is None else f"    mem_limit: {own}\n"
    compose += "" if pids is None else f"    pids_limit: {pids}\n"
    project = "" if asked is None else f"limits:\n  web: {{memory: {asked}}}\n"
    config, _ = load_config(tree(compose, project))
    assert config is not None
    (web,) = effective_limits(config.settings.limits, config.tenants["paiss"], "staging").values()
    assert web.memory is not None and web.memory <= 4096 * MIB
    assert web.pids is not None and 1 <= web.pids <= 4096
    request = asked if asked is not None else own if own else None
    if request is not None and request <= 4096 * MIB:
        assert web.memory == request
    if pids is not None and 1 <= pids <= 4096:
        assert web.pids == pids
