"""Which config each command acts on: given one tenant (`--project`) the one-tenant path
(that tenant validated completely, the others only by their claims), over every tenant a
complete validation that refuses while any tenant is invalid."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from platform_lib.cli import build_parser
from platform_lib.commands import common
from platform_lib.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
TARGET = ["--project", "paiss", "--env", "staging"]
ONE_TENANT = [
    ["plan", *TARGET],
    ["deploy", *TARGET],
    ["rollback", *TARGET],
    ["promote", "--project", "paiss"],
    ["status", *TARGET],
    ["status", "--project", "paiss"],
    ["health", "--project", "paiss"],
    ["ssh", *TARGET],
    ["history", *TARGET],
    ["lock", "release", *TARGET],
    ["lock", "status", *TARGET],
    ["backups", *TARGET],
    ["restore", *TARGET, "--backup", "r/db.sql.gz"],
    ["proxy", "refresh", "--project", "paiss"],
]
EVERY_TENANT = [["status"], ["health"], ["proxy", "refresh"], ["proxy", "prune"]]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The example configs, gabs-massage's project.yml not YAML."""
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    (tmp_path / "configs/gabs-massage/project.yml").write_text("routes: [\n", encoding="utf-8")
    return tmp_path


def config_of(argv: list[str], root: Path) -> set[str]:
    args = build_parser(argv[0]).parse_args([*argv, "--root", str(root)])
    return set(common.config(args).tenants)


@pytest.mark.parametrize("argv", ONE_TENANT, ids=" ".join)
def test_a_command_given_one_tenant_validates_that_tenant(argv: list[str], root: Path) -> None:
    assert config_of(argv, root) == {"paiss"}


@pytest.mark.parametrize("argv", ONE_TENANT, ids=" ".join)
def test_a_command_given_one_tenant_refuses_its_problems(argv: list[str], root: Path) -> None:
    compose = root / "configs/paiss/docker-compose.yml"
    compose.write_text(compose.read_text(encoding="utf-8") + "bogus: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        config_of(argv, root)
    files = {p.location.file for p in raised.value.problems}
    assert files == {"configs/paiss/docker-compose.yml"}


@pytest.mark.parametrize("argv", EVERY_TENANT, ids=" ".join)
def test_a_command_over_every_tenant_refuses_any_tenants_problem(
    argv: list[str], root: Path
) -> None:
    with pytest.raises(ConfigError) as raised:
        config_of(argv, root)
    assert {p.location.file for p in raised.value.problems} == {"configs/gabs-massage/project.yml"}
    (root / "configs/gabs-massage/project.yml").unlink()
    shutil.rmtree(root / "configs/gabs-massage")
    assert config_of(argv, root) == {"filter-ical", "paiss"}


def test_a_tenant_taking_anothers_domain_is_refused_by_either_ones_plan(tmp_path: Path) -> None:
    """A new tenant `aaa` (sorting before paiss) claims paiss's domains: the plan of each of
    the two refuses, each naming the other's claim, not only paiss's."""
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    shutil.copytree(tmp_path / "configs/paiss", tmp_path / "configs/aaa")
    manifest = tmp_path / "configs/aaa/project.yml"  # its own images; paiss's domains
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("paiss-web", "aaa-web"), encoding="utf-8"
    )
    for tenant, other in (("aaa", "paiss"), ("paiss", "aaa")):
        with pytest.raises(ConfigError) as raised:
            config_of(["plan", "--project", tenant, "--env", "production"], tmp_path)
        problems = raised.value.problems
        assert {p.rule for p in problems} == {"tenant.domain-conflict"}
        assert {p.location.file for p in problems} == {f"configs/{tenant}/project.yml"}
        assert all(f" at configs/{other}/project.yml:" in p.message for p in problems)


def test_a_linked_file_in_a_tenant_folder_is_refused_by_its_plan(tmp_path: Path) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    (tmp_path / "environ").write_text("PLATFORM_SSH_KEY=private\n", encoding="utf-8")
    env = tmp_path / "configs/paiss/.env.staging"
    env.unlink()
    env.symlink_to(tmp_path / "environ")
    with pytest.raises(ConfigError) as raised:
        config_of(["plan", *TARGET], tmp_path)
    assert [(p.rule, p.location.file) for p in raised.value.problems] == [
        ("file.symlink", "configs/paiss/.env.staging")
    ]
    assert config_of(["plan", "--project", "filter-ical", "--env", "staging"], tmp_path) == {
        "filter-ical"
    }


def test_a_linked_platform_yml_is_refused_by_a_one_tenant_plan(tmp_path: Path) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    settings = tmp_path / "configs/platform.yml"
    (tmp_path / "platform.yml").write_bytes(settings.read_bytes())
    settings.unlink()
    settings.symlink_to(tmp_path / "platform.yml")
    with pytest.raises(ConfigError) as raised:
        config_of(["plan", *TARGET], tmp_path)
    assert [(p.rule, p.location.file) for p in raised.value.problems] == [
        ("file.symlink", "configs/platform.yml")
    ]
