"""Names the schema forbids never reach a plan: validation reports them, in the right file, at
the right key, under the right rule, and `load_valid_config` refuses the tree.

Forbidden strings are valid names (generated from the models' patterns) with a bad piece put
in, classic shell and path tricks, over-long names, or any text; each is kept only if the
model's own pattern (and length) refuses it.

Valid names can still collide on the host: two backups of one name, two built services of one
PLATFORM_IMAGE_* variable, a secret named PLATFORM_*. Those are refused too, at the second
name (`project.duplicate-name`, `project.reserved-name`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from plan_strategies import (
    ADDRESS,
    BACKUP_NAME,
    DEPLOY_ROOT,
    DOMAIN,
    DOMAIN_TEMPLATE,
    ENV_NAME,
    HEALTH_PATH,
    HOST_NAME,
    PG_DATABASE,
    PLACEMENT_HOST,
    PROJECT_NAME,
    PROPERTY_SETTINGS,
    REGISTRY_HOST,
    REGISTRY_NAMESPACE,
    REPOSITORY,
    ROUTE_SERVICE,
    SECRET_NAME,
    SERVICE_NAME,
    TOKEN_SECRET,
    UNIX_USER,
    VOLUME_NAME,
    StringRule,
    Tree,
    small_tree,
    strings,
)

from platform_lib.config.platform_vars import image_variable
from platform_lib.config.validate import load_valid_config, validate_sources
from platform_lib.config.yaml_source import pointer
from platform_lib.errors import ConfigError, Location

BAD_PIECES = [
    " ", "\t", "\n", "\r", "A", "Z", "é", "-", "_", ".", "..", "/", "\\", ";", "$", "`", "'",
    '"', "|", "&", "<", ">", "(", ")", "{", "}", "*", "#", ":", "@", "=", "\x00", "\u2028",
]  # fmt: skip
CLASSIC = [
    "", "-", "-x", "--help", ".", "..", "../x", "a b", "x;rm -rf /", "$(id)", "${HOME}", "`id`",
    "a\nb", "UPPER", "x'y", 'x"y', "a|b", "a&b", "<x>", "(x)", "~", "*",
]  # fmt: skip
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBWRnk8G6iV3FDzv1k5MZ5Zs/aBlc50T2qlzdpfnExix"


def _insert(valid: str, piece: str, at: int) -> str:
    at %= len(valid) + 1
    return valid[:at] + piece + valid[at:]


def forbidden(rule: StringRule) -> st.SearchStrategy[str]:
    """Strings the rule refuses, most of them close to ones it admits."""
    valid = strings(rule)
    candidates = [
        st.builds(_insert, valid, st.sampled_from(BAD_PIECES), st.integers(0, 300)),
        st.sampled_from(CLASSIC),
        valid.map(lambda v: v + "\n"),
        valid.map(lambda v: "-" + v),
        st.text(max_size=12),
    ]
    if rule.max_length is not None:
        candidates.append(valid.map(lambda v: (v * rule.max_length)[: rule.max_length + 1]))
    return st.one_of(candidates).filter(lambda s: not rule.admits(s))


Path = list[str | int]


@dataclass(frozen=True)
class Case:
    """A place a constrained name goes: which rule, in which file, and how to put it there."""

    id: str
    rule: StringRule
    family: str
    """`settings` (configs/platform.yml) or `project` (configs/shop/project.yml)."""
    put: Callable[[Tree, str], Path]
    """Put the name into the tree; return the data path of the key or value holding it."""

    @property
    def file(self) -> str:
        return "configs/platform.yml" if self.family == "settings" else "configs/shop/project.yml"


def _env_key(tree: Tree, bad: str) -> Path:
    tree.settings["environments"][bad] = {"hosts": {"h1": {"kind": "local"}}}
    return ["environments", bad]


def _tenant_env(tree: Tree, bad: str) -> Path:
    tree.manifest["environments"] = ["staging", bad]
    return ["environments", 1]


def _domains_key(tree: Tree, bad: str) -> Path:
    tree.manifest["routes"][0]["domains"][bad] = ["other.example.com"]
    return ["routes", 0, "domains", bad]


def _placement_key(tree: Tree, bad: str) -> Path:
    tree.manifest["placement"] = {bad: "s1"}
    return ["placement", bad]


def _host_key(tree: Tree, bad: str) -> Path:
    tree.settings["environments"]["staging"]["hosts"][bad] = {"kind": "local"}
    return ["environments", "staging", "hosts", bad]


def _placement_host(tree: Tree, bad: str) -> Path:
    tree.manifest["placement"] = {"staging": bad}
    return ["placement", "staging"]


def _image_key(tree: Tree, bad: str) -> Path:
    tree.manifest["images"][bad] = {"repository": "shop-other"}
    return ["images", bad]


def _route_service(tree: Tree, bad: str) -> Path:
    tree.manifest["routes"][0]["service"] = bad
    return ["routes", 0, "service"]


def _backup(field: str) -> Callable[[Tree, str], Path]:
    def put(tree: Tree, bad: str) -> Path:
        backup: dict[str, Any] = {"kind": "pg_dump", "name": "db", "service": "db", "database": "d"}
        if field == "volume":
            backup = {"kind": "volume", "name": "data", "volume": "data"}
        backup[field] = bad
        tree.manifest["backups"] = [backup]
        return ["backups", 0, field]

    return put


def _secret(tree: Tree, bad: str) -> Path:
    tree.manifest["secrets"] = ["API_KEY_VALUE", bad]
    return ["secrets", 1]


def _token_secret(tree: Tree, bad: str) -> Path:
    tree.settings["registry"] |= {"username": "bot", "token_secret": bad}
    return ["registry", "token_secret"]


def _domain(tree: Tree, bad: str) -> Path:
    tree.manifest["routes"][0]["domains"]["production"] = ["shop.example.com", bad]
    return ["routes", 0, "domains", "production", 1]


def _health_path(tree: Tree, bad: str) -> Path:
    tree.manifest["routes"][0]["health_path"] = bad
    return ["routes", 0, "health_path"]


def _repository(tree: Tree, bad: str) -> Path:
    tree.manifest["images"]["web"]["repository"] = bad
    return ["images", "web", "repository"]


def _settings_value(*path: str) -> Callable[[Tree, str], Path]:
    def put(tree: Tree, bad: str) -> Path:
        node = tree.settings
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = bad
        return list(path)

    return put


def _ssh_host(field: str) -> Callable[[Tree, str], Path]:
    def put(tree: Tree, bad: str) -> Path:
        host = {"kind": "ssh", "address": "203.0.113.10", "host_key": HOST_KEY, field: bad}
        tree.settings["environments"]["staging"]["hosts"]["s1"] = host
        return ["environments", "staging", "hosts", "s1", field]

    return put


CASES = [
    Case("environment-name", ENV_NAME, "settings", _env_key),
    Case("tenant-environment", ENV_NAME, "project", _tenant_env),
    Case("route-domains-environment", ENV_NAME, "project", _domains_key),
    Case("placement-environment", ENV_NAME, "project", _placement_key),
    Case("host-name", HOST_NAME, "settings", _host_key),
    Case("placement-host", PLACEMENT_HOST, "project", _placement_host),
    Case("image-service", SERVICE_NAME, "project", _image_key),
    Case("route-service", ROUTE_SERVICE, "project", _route_service),
    Case("backup-service", SERVICE_NAME, "project", _backup("service")),
    Case("backup-name", BACKUP_NAME, "project", _backup("name")),
    Case("backup-database", PG_DATABASE, "project", _backup("database")),
    Case("backup-volume", VOLUME_NAME, "project", _backup("volume")),
    Case("secret", SECRET_NAME, "project", _secret),
    Case("registry-token-secret", TOKEN_SECRET, "settings", _token_secret),
    Case("domain", DOMAIN, "project", _domain),
    Case("health-path", HEALTH_PATH, "project", _health_path),
    Case("image-repository", REPOSITORY, "project", _repository),
    Case("deploy-root", DEPLOY_ROOT, "settings", _settings_value("deploy_root")),
    Case("registry-host", REGISTRY_HOST, "settings", _settings_value("registry", "host")),
    Case(
        "domain-template",
        DOMAIN_TEMPLATE,
        "settings",
        _settings_value("environments", "staging", "domain_template"),
    ),
    Case(
        "registry-namespace",
        REGISTRY_NAMESPACE,
        "settings",
        _settings_value("registry", "namespace"),
    ),
    Case("host-address", ADDRESS, "settings", _ssh_host("address")),
    Case("host-user", UNIX_USER, "settings", _ssh_host("user")),
]


def test_the_base_tree_is_valid() -> None:
    """Every case below changes one thing in this tree: what is reported comes from it."""
    config, problems = validate_sources(small_tree().sources())
    assert problems == []
    assert config is not None
    assert sorted(config.tenants) == ["shop"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@settings(PROPERTY_SETTINGS, max_examples=15)
@given(data=st.data())
def test_forbidden_names_are_reported_where_they_are(case: Case, data: st.DataObject) -> None:
    bad = data.draw(forbidden(case.rule), label="forbidden")
    tree = small_tree()
    path = case.put(tree, bad)
    sources = tree.sources()

    config, problems = validate_sources(sources)
    assert problems, f"{bad!r} accepted as {case.id}"
    assert {p.location.file for p in problems} == {case.file}
    assert all(p.rule.startswith(case.family + ".") for p in problems), problems
    assert (case.file, f"{case.family}.invalid", pointer(path)) in {
        (p.location.file, p.rule, p.location.pointer) for p in problems
    }, problems

    # Nothing is planned from it: no config at all, or no tenant to plan for.
    with pytest.raises(ConfigError) as refused:
        load_valid_config(sources)
    assert refused.value.problems == problems
    if case.family == "settings":
        assert config is None
    else:
        assert config is not None
        assert "shop" not in config.tenants


# Folder names hold neither '/' nor NUL, and '', '.' and '..' are no folders of their own.
FOLDER_NAMES = forbidden(PROJECT_NAME).filter(
    lambda s: "/" not in s and "\x00" not in s and s not in ("", ".", "..")
)


@settings(PROPERTY_SETTINGS, max_examples=40)
@given(name=FOLDER_NAMES)
def test_forbidden_project_folder_names_are_reported(name: str) -> None:
    tree = small_tree()
    tree.project = name
    sources = tree.sources()

    config, problems = validate_sources(sources)
    assert [(p.location, p.rule) for p in problems] == [
        (Location(f"configs/{name}"), "project.name")
    ]
    assert config is not None
    assert config.tenants == {}
    with pytest.raises(ConfigError) as refused:
        load_valid_config(sources)
    assert refused.value.problems == problems


# --- names that would collide on the host ----------------------------------------------------

PROJECT_FILE = "configs/shop/project.yml"


def _problems(tree: Tree) -> list[tuple[str, str, str, str]]:
    """Validation's problems, as (file, pointer, rule, message); with any, nothing is planned."""
    sources = tree.sources()
    _, problems = validate_sources(sources)
    if problems:
        with pytest.raises(ConfigError) as refused:
            load_valid_config(sources)
        assert refused.value.problems == problems
    return [(p.location.file, p.location.pointer, p.rule, p.message) for p in problems]


def _backup(name: str, volume: bool, database: str) -> dict[str, Any]:
    if volume:
        return {"kind": "volume", "name": name, "volume": "data"}
    return {"kind": "pg_dump", "name": name, "service": "db", "database": database}


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(name=strings(BACKUP_NAME), volumes=st.tuples(st.booleans(), st.booleans()))
@example(name="db", volumes=(False, False))
def test_backups_of_one_name_are_refused(name: str, volumes: tuple[bool, bool]) -> None:
    """Each backup writes backups/<name>.* in the release under the step id backup-<name>: a
    second backup of a name, of whatever kind, is refused where it names itself."""
    tree = small_tree()
    tree.compose["volumes"] = {"data": None}
    tree.manifest["backups"] = [
        _backup(name, volumes[0], "orders"),
        _backup(name, volumes[1], "users"),
    ]
    assert _problems(tree) == [
        (
            PROJECT_FILE,
            "/backups/1/name",
            "project.duplicate-name",
            f"backup name {name!r} is used by backups[0] already",
        )
    ]
    tree.manifest["backups"][1]["name"] = "other" if name != "other" else "another"
    assert _problems(tree) == []


def _separated(name: str, separator: str, at: int) -> str:
    """The name with a separator put in after its first character."""
    at = 1 + at % len(name)
    return name[:at] + separator + name[at:]


# Service names with a separator: with the separators rotated, the same PLATFORM_IMAGE_* variable.
SEPARATED_SERVICES = st.builds(
    _separated, strings(SERVICE_NAME), st.sampled_from("-_."), st.integers(0, 62)
).filter(SERVICE_NAME.admits)


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(name=SEPARATED_SERVICES)
@example(name="a-b")
def test_built_services_sharing_an_image_variable_are_refused(name: str) -> None:
    """`a-b` and `a_b` would both be deployed through PLATFORM_IMAGE_A_B, which the release .env
    can set to one image only: the second service is refused."""
    other = name.translate(str.maketrans("-_.", "_.-"))
    assert other != name and image_variable(other) == image_variable(name)
    tree = small_tree()
    tree.manifest["images"] |= {name: {"repository": "shop-one"}, other: {"repository": "shop-two"}}
    tree.compose["services"] |= {name: {}, other: {}}
    assert _problems(tree) == [
        (
            PROJECT_FILE,
            pointer(["images", other]),
            "project.duplicate-name",
            f"services {name!r} and {other!r} would share the variable {image_variable(name)}",
        )
    ]
    del tree.manifest["images"][other]
    tree.compose["services"][other] = {"image": "postgres:16.4-alpine"}
    assert _problems(tree) == []


RESERVED_SECRETS = strings(SECRET_NAME).map("PLATFORM_{}".format).filter(SECRET_NAME.admits)


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(name=RESERVED_SECRETS)
@example(name="PLATFORM_DOMAIN")
@example(name="PLATFORM_IMAGE_WEB")
@example(name="PLATFORM_RELEASE")
@example(name="PLATFORM_")
def test_secrets_named_like_platform_variables_are_refused(name: str) -> None:
    """Secrets are appended to the release .env after the platform's variables, so would
    override them: PLATFORM_* (all of it, not only today's variables) is the platform's."""
    tree = small_tree()
    tree.manifest["secrets"] = ["API_KEY_VALUE", name]
    assert _problems(tree) == [
        (
            PROJECT_FILE,
            "/secrets/1",
            "project.reserved-name",
            f"secret {name} uses the platform's PLATFORM_ prefix",
        )
    ]


@pytest.mark.parametrize("name", ["PLATFORM", "PLATFORMS", "MY_PLATFORM_TOKEN"])
def test_secrets_merely_mentioning_the_platform_are_accepted(name: str) -> None:
    tree = small_tree()
    tree.manifest["secrets"] = [name]
    assert _problems(tree) == []
