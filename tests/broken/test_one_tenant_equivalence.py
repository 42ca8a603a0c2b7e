"""The one-tenant path of plan and deploy (commands/config_index.py `one_tenant`: that tenant
validated, its claims checked against the index of the others) reports exactly the problems
`validate_sources` reports for that tenant (`in_tenant_scope`), cross-tenant ones included:
for every case of the broken corpus, for a generated set of tenants with conflicts each way
round: with an empty cache, with the cache the first run left, and with the claims a
`validate` run kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_broken_corpus import HERE, build_root, case_names

from platform_lib.commands import config_cache
from platform_lib.commands.config_cache import CACHE_DIR
from platform_lib.commands.config_index import one_tenant, validate_all
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import in_tenant_scope, validate_sources
from platform_lib.errors import Problem

REPO = HERE.parents[1]


@pytest.fixture(autouse=True, params=[config_cache.RACY_NS, 0], ids=["fresh files", "settled"])
def racy_window(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files just written are read again every run (`fresh files`); with no racy window they
    are kept by their stat, so the folder entries of other tenants are used (`settled`)."""
    monkeypatch.setattr(config_cache, "RACY_NS", request.param)


def tenant_folders(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "configs").iterdir() if p.is_dir())


def assert_equivalent(root: Path) -> list[Problem]:
    """Every tenant's one-tenant problems equal its share of the full validation; returns
    the cross-tenant problems seen."""
    config, problems = validate_sources(read_sources(root))
    crossing = []
    for name in tenant_folders(root):
        expected = [p for p in problems if in_tenant_scope(config, p, name)]
        for attempt in ("empty cache", "kept cache"):
            _, found = one_tenant(root, name)
            assert found == expected, f"{name} ({attempt})"
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    assert validate_all(root) == problems
    for name in tenant_folders(root):
        expected = [p for p in problems if in_tenant_scope(config, p, name)]
        _, found = one_tenant(root, name)
        assert found == expected, f"{name} (claims kept by validate)"
        crossing += [p for p in expected if p.rule in CROSS_TENANT]
    return crossing


CROSS_TENANT = {"tenant.domain-conflict", "host.port-conflict", "network.alias-conflict"}


@pytest.mark.parametrize("name", case_names())
def test_broken_case(name: str, tmp_path: Path) -> None:
    assert_equivalent(build_root(HERE / name, tmp_path / "root"))


def test_example_configs(tmp_path: Path) -> None:
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    assert assert_equivalent(tmp_path) == []


def generate(root: Path, count: int) -> None:
    """`count` copies of the example tenants with unique domains and database ports."""
    (root / "configs").mkdir()
    shutil.copyfile(REPO / "configs" / "platform.yml", root / "configs" / "platform.yml")
    examples = {
        "filter-ical": "filter-ical.de",
        "gabs-massage": "gabs-massage.de",
        "paiss": "paiss.me",
    }
    for index in range(count):
        example = list(examples)[index % 3]
        folder = root / "configs" / f"{example}-{index}"
        shutil.copytree(REPO / "configs" / example, folder)
        stem, _, tld = examples[example].rpartition(".")
        for file in folder.iterdir():
            text = file.read_text(encoding="utf-8").replace(
                examples[example], f"{stem}-{index}.{tld}"
            )
            if file.name == "docker-compose.yml" and example == "filter-ical":
                port = f'    ports:\n      - "127.0.0.1:{20000 + index}:5432"\n'
                text = text.replace(
                    "    volumes:\n      - pgdata", f"{port}    volumes:\n      - pgdata"
                )
            file.write_text(text, encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_generated_tenants_with_conflicts(tmp_path: Path) -> None:
    generate(tmp_path, 12)
    configs = tmp_path / "configs"
    # A later tenant (in name order) takes an earlier one's domain, an earlier one a later one's.
    edit(configs / "gabs-massage-10/project.yml", "gabs-massage-10.de", "gabs-massage-1.de")
    edit(configs / "paiss-2/project.yml", "paiss-2.me", "paiss-5.me")
    # Database ports: filter-ical-9 takes filter-ical-3's, filter-ical-0 takes filter-ical-6's.
    edit(configs / "filter-ical-9/docker-compose.yml", ":20009:", ":20003:")
    edit(configs / "filter-ical-0/docker-compose.yml", ":20000:", ":20006:")
    # A compose file the schema refuses: its ports are left out, its domains are not.
    edit(configs / "filter-ical-3/docker-compose.yml", "services:", "bogus: 1\nservices:")
    edit(configs / "filter-ical-3/project.yml", "filter-ical-3.de", "filter-ical-6.de")
    crossing = assert_equivalent(tmp_path)
    where = {(p.rule, p.location.file, p.message.rsplit(" at ", 1)[-1]) for p in crossing}
    domain, port = "tenant.domain-conflict", "host.port-conflict"
    first = "configs/gabs-massage-1/project.yml:14:20"
    assert (domain, "configs/gabs-massage-10/project.yml", first) in where
    # Both tenants of a conflict report it, the earlier one naming the later one's claim, so
    # the one-tenant plan of either refuses.
    assert (domain, "configs/gabs-massage-1/project.yml", first.replace("-1/", "-10/")) in where
    assert {(r, f) for r, f, _ in where} >= {
        (domain, "configs/paiss-2/project.yml"),
        (domain, "configs/paiss-5/project.yml"),
        (port, "configs/filter-ical-0/docker-compose.yml"),
        (domain, "configs/filter-ical-6/project.yml"),
        (port, "configs/filter-ical-6/docker-compose.yml"),
    }
    assert not any(f == "configs/filter-ical-9/docker-compose.yml" for _, f, _ in where)
