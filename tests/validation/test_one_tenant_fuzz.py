"""The one-tenant path (commands/config_index.py `one_tenant`, what plan, deploy and every
command given --project run) on any input in any file, read from disk as those commands read
it: only problems come out, never an exception, and exactly the problems `validate` reports
for that tenant (`in_tenant_scope`), with an empty cache and with the cache a `validate` run
kept. Another tenant's file is where the index of the other tenants (parsed, schema-checked,
its claims kept) meets what a tenant wrote."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from platform_lib.commands import config_cache
from platform_lib.commands.config_index import one_tenant, validate_all
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import in_tenant_scope, validate_sources

REPO = Path(__file__).resolve().parents[2]
FILES = sorted(p for p in read_sources(REPO) if p != "configs/platform.yml")
TEXTS = (
    st.binary(max_size=200)
    | st.text(alphabet=st.sampled_from(list("[]{}:-,&*!|>'\"#?$\\ \t\n\x00a1")), max_size=120)
    | st.lists(
        st.sampled_from(["<<: *a", "&a ", "*a", "- ", ": ", "\n  ", "\n", "ports", "services",
                         "routes", "domains", "[", "]", "${A:-${B}}", "80:80", "paiss.me",
                         "1-65535:1-65535", "networks", "external: true", "aliases"]),
        max_size=30,
    ).map("".join)
)  # fmt: skip


def assert_one_tenant_equals_validate(root: Path) -> None:
    config, problems = validate_sources(read_sources(root))
    expected = [p for p in problems if in_tenant_scope(config, p, "paiss")]
    assert one_tenant(root, "paiss")[1] == expected
    assert one_tenant(root, "paiss")[1] == expected
    shutil.rmtree(root / config_cache.CACHE_DIR, ignore_errors=True)
    assert validate_all(root) == problems
    assert one_tenant(root, "paiss")[1] == expected


@settings(database=None, deadline=None, max_examples=60)
@given(path=st.sampled_from(FILES), content=TEXTS, settled=st.booleans())
@example(path="configs/gabs-massage/project.yml", content=b"\xff\x00", settled=True)
@example(path="configs/filter-ical/docker-compose.yml", content="services: {a: [*a]}", settled=True)
@example(
    path="configs/gabs-massage/project.yml",
    content="images: {}\nroutes: [{service: web, port: 80, domains: {production: [paiss.me]}}]",
    settled=True,
)
def test_any_content_in_any_tenant_file(path: str, content: bytes | str, settled: bool) -> None:
    """`settled`: no racy window, so the folder entries of the other tenants are kept and
    used (else files just written are read again on every run)."""
    raw = content if isinstance(content, bytes) else content.encode("utf-8")
    racy = config_cache.RACY_NS
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "configs", root / "configs")
        (root / path).write_bytes(raw)
        config_cache.RACY_NS = 0 if settled else racy
        try:
            assert_one_tenant_equals_validate(root)
        finally:
            config_cache.RACY_NS = racy
