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
