"""A tenant runs only its own repositories of the platform's registry namespace (and the
shared ones): project.foreign-repository, policy.foreign-image, tenant.repository-conflict,
through `validate` of every tenant and a one-tenant validation with the index of the others."""

from __future__ import annotations

from pathlib import Path

from paiss_tree import BASE, PLATFORM

from platform_lib.commands.config_index import one_tenant
from platform_lib.config.validate import validate_sources
from platform_lib.errors import Location, Problem

FOREIGN_IMAGE_HINT = (
    "run your own repositories (ghcr.io/example-org/{tenant}-...), one the platform shares "
    "(registry.shared_repositories), or an image outside ghcr.io/example-org; the host pulls "
    "with the platform's login, so another tenant's image is theirs (a grant in "
    "configs/platform.yml: grants: with project: {tenant}, rule: policy.foreign-image and a "
    "reason)"
)


def tenant(name: str, project: str, compose: str, env: str = "") -> dict[str, str]:
    folder = f"configs/{name}"
    return {
        f"{folder}/project.yml": project,
        f"{folder}/docker-compose.yml": compose,
        f"{folder}/.env.staging": env,
        f"{folder}/.env.production": env,
    }


def validate(*changes: dict[str, str]) -> list[Problem]:
    sources = dict(BASE)
    for change in changes:
        sources.update(change)
    _, problems = validate_sources(sources)
    return problems


def built(repository: str) -> str:
    return f"images:\n  web: {{repository: {repository}}}\n"


BUILT_WEB = "services:\n  web: {}\n"


def runs(image: str) -> str:
    return f"services:\n  tool:\n    image: {image}\n"


def test_the_examples_build_their_own_repositories() -> None:
    assert validate() == []


def test_a_manifest_image_of_another_tenant() -> None:
    problems = validate(tenant("evil", built("paiss-web"), BUILT_WEB))
    assert problems == [
        Problem(
            Location("configs/evil/project.yml", 2, 9, "/images/web/repository"),
            "project.foreign-repository",
            "service 'web' deploys ghcr.io/example-org/paiss-web, which is not evil's: a "
            "tenant's repositories are named evil or evil-...",
            "name the repository for the tenant (e.g. evil-web) and push the app's image "
            "there; every other repository belongs to the tenant it is named for",
        )
    ]


def test_a_tenant_named_as_a_prefix_of_another_name_does_not_own_it() -> None:
    problems = validate(tenant("pai", built("paiss-web"), BUILT_WEB))
    assert [(p.location.file, p.rule) for p in problems] == [
        ("configs/pai/project.yml", "project.foreign-repository")
    ]


def test_a_compose_image_of_another_tenant() -> None:
    problems = validate(
        tenant("evil", "{}\n", runs("ghcr.io/example-org/filter-ical-backend:1.0.0"))
    )
    assert problems == [
        Problem(
            Location("configs/evil/docker-compose.yml", 3, 5, "/services/tool/image"),
            "policy.foreign-image",
            "service 'tool' runs 'ghcr.io/example-org/filter-ical-backend:1.0.0': repository "
            "'filter-ical-backend' of the platform's registry (ghcr.io/example-org) is not "
            "evil's",
            FOREIGN_IMAGE_HINT.format(tenant="evil"),
        )
    ]


def test_an_image_volume_of_another_tenant() -> None:
    compose = (
        "services:\n  tool:\n    image: busybox:1.36\n    volumes:\n"
        "      - type: image\n        source: ghcr.io/example-org/paiss-web:1\n"
        "        target: /srv\n"
    )
    problems = validate(tenant("evil", "{}\n", compose))
    assert [(p.location, p.rule) for p in problems] == [
        (
            Location("configs/evil/docker-compose.yml", 6, 9, "/services/tool/volumes/0/source"),
            "policy.foreign-image",
        )
    ]


def test_an_image_set_in_the_env_file_is_checked_with_its_value() -> None:
    env = "TOOL=ghcr.io/example-org/paiss-web:1\n"
    problems = validate(tenant("evil", "{}\n", runs("${TOOL}"), env))
    assert [(p.location.line, p.rule) for p in problems] == [(3, "policy.foreign-image")]


def test_an_image_named_through_an_unknown_variable_cannot_be_checked() -> None:
    problems = validate(tenant("evil", "secrets: [TOOL]\n", runs("ghcr.io/example-org/${TOOL}:1")))
    assert [(p.location.line, p.rule) for p in problems] == [(3, "policy.unchecked-variable")]


def test_a_variable_only_in_the_tag_leaves_the_repository_known() -> None:
    ok = validate(tenant("evil", "secrets: [TAG]\n", runs("ghcr.io/example-org/evil-tool:${TAG}")))
    foreign = validate(
        tenant("evil", "secrets: [TAG]\n", runs("ghcr.io/example-org/paiss-web:${TAG}"))
    )
    assert ok == []
    assert [p.rule for p in foreign] == ["policy.foreign-image"]


def test_own_and_third_party_images_pass() -> None:
    compose = (
        "services:\n  web: {}\n  tool:\n    image: ghcr.io/example-org/evil-tool:1\n"
        "  db:\n    image: postgres:16.4-alpine\n"
        "  other:\n    image: ghcr.io/another-org/paiss-web:1\n"
    )
    assert validate(tenant("evil", built("evil-web"), compose)) == []


def test_a_shared_repository_is_every_tenants() -> None:
    settings = BASE[PLATFORM].replace(
        "  token_secret: REGISTRY_TOKEN\n",
        "  token_secret: REGISTRY_TOKEN\n  shared_repositories: [platform-tools]\n",
    )
    compose = "services:\n  web: {}\n  tool:\n    image: ghcr.io/example-org/platform-tools:2\n"
    assert validate({PLATFORM: settings}, tenant("evil", built("platform-tools"), compose)) == []


def test_a_grant_allows_a_foreign_image_and_shows_when_unused() -> None:
    grant = (
        "grants:\n  - project: evil\n    rule: policy.foreign-image\n    service: tool\n"
        "    reason: runs the paiss team's exporter, agreed with them (OPS-7)\n"
    )
    settings = {PLATFORM: BASE[PLATFORM] + grant}
    assert validate(settings, tenant("evil", "{}\n", runs("ghcr.io/example-org/paiss-web:1"))) == []
    unused = validate(settings, tenant("evil", "{}\n", runs("busybox:1.36")))
    assert [p.rule for p in unused] == ["settings.unused-grant"]


SHOP = tenant("shop", "{}\n", runs("ghcr.io/example-org/shop-admin-web:1"))
SHOP_ADMIN = tenant("shop-admin", built("shop-admin-web"), BUILT_WEB)


def test_a_repository_of_a_longer_tenant_name_is_refused_in_both_tenants() -> None:
    problems = validate(SHOP, SHOP_ADMIN)
    shop_at = Location("configs/shop/docker-compose.yml", 3, 5, "/services/tool/image")
    admin_at = Location("configs/shop-admin/project.yml", 2, 9, "/images/web/repository")
    assert problems == [
        Problem(
            admin_at,
            "tenant.repository-conflict",
            f"ghcr.io/example-org/shop-admin-web is shop-admin's, and tenant shop uses it too "
            f"at {shop_at}",
            "a repository belongs to one tenant: the other one must stop using it (or one of "
            "the tenants be renamed) before either deploys again",
        ),
        Problem(
            shop_at,
            "tenant.repository-conflict",
            "ghcr.io/example-org/shop-admin-web belongs to tenant shop-admin, the longest "
            f"tenant name it is named for, not to shop (it uses it at {admin_at})",
            "use repositories named for shop but not for shop-admin (shop-admin-... is "
            "shop-admin's), or rename one of the tenants",
        ),
    ]


def test_a_repository_of_a_longer_tenant_name_it_does_not_use() -> None:
    problems = validate(SHOP, tenant("shop-admin", "{}\n", runs("busybox:1.36")))
    assert [(p.location.file, p.rule) for p in problems] == [
        ("configs/shop/docker-compose.yml", "tenant.repository-conflict")
    ]
    assert "(it uses it at" not in problems[0].message


def write(root: Path, *changes: dict[str, str]) -> None:
    for change in (BASE, *changes):
        for path, text in change.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")


def test_a_one_tenant_validation_of_either_tenant_refuses(tmp_path: Path) -> None:
    write(tmp_path, SHOP, SHOP_ADMIN)
    everything = validate(SHOP, SHOP_ADMIN)
    for name in ("shop", "shop-admin", "shop"):  # cold, then from the kept index
        _, problems = one_tenant(tmp_path, name)
        assert problems == [p for p in everything if p.location.file.startswith(f"configs/{name}/")]
        assert problems
    _, problems = one_tenant(tmp_path, "paiss")
    assert problems == []


def test_images_named_with_the_platforms_variables() -> None:
    compose = (
        "services:\n  web: {}\n  worker:\n    image: ${PLATFORM_IMAGE_WEB}\n"
        "  tool:\n    image: ghcr.io/example-org/${PLATFORM_PROJECT}-tool:1\n"
    )
    assert validate(tenant("evil", built("evil-web"), compose)) == []
