"""The release's limits as Docker Compose itself reads them (`docker compose config`, no
daemon): the override wins over the compose file's own limits in either form, Compose accepts
the merge (it refuses distinct values of the two forms), and sizes read as Compose reads them.
Docker Compose is required (CI installs it with tests/e2e/infra/install.sh)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paiss_tree import ANCHOR, BASE, COMPOSE, PROJECT

from platform_lib.config.validate import load_valid_config
from platform_lib.models.sizes import parse_size
from platform_lib.planning.builder import PlanRequest, build_plan

DOCKER = shutil.which("docker") or "docker"
MIB = 1024**2


def compose_config(files: dict[str, str]) -> dict[str, Any]:
    """`docker compose config` of the named files, in a scratch directory."""
    with tempfile.TemporaryDirectory() as scratch:
        for name, text in files.items():
            (Path(scratch) / name).write_text(text, encoding="utf-8")
        argv = [DOCKER, "compose", "-p", "paiss-staging"]
        argv += [a for n in files if n.endswith(".yml") for a in ("-f", n)]
        done = subprocess.run(
            [*argv, "config", "--format", "json"], cwd=scratch, capture_output=True,
            text=True, check=False, env={"PATH": "/usr/bin:/bin:/usr/local/bin"},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def deployed_web(compose_extra: str, project_extra: str = "") -> dict[str, Any]:
    """Service `web` as Compose resolves the release of paiss with these additions."""
    tree = dict(BASE)
    tree[COMPOSE] = BASE[COMPOSE].replace(ANCHOR, ANCHOR + compose_extra)
    tree[PROJECT] = BASE[PROJECT] + project_extra
    plan = build_plan(load_valid_config(tree), PlanRequest(
        project="paiss", environment="staging", now=datetime(2026, 12, 1, 12, tzinfo=UTC),
        actor="alice", platform_sha="", images={"web": "v1"},
    ))  # fmt: skip
    wanted = ("docker-compose.yml", "platform.override.yml", ".env")
    files = {f.path.rsplit("/", 1)[1]: f.content for f in plan.files}
    web: dict[str, Any] = compose_config({n: files[n] for n in wanted})["services"]["web"]
    return web


def limits(web: dict[str, Any]) -> tuple[object, ...]:
    deploy = web["deploy"]["resources"]["limits"]
    return (web["mem_limit"], web["cpus"], web["pids_limit"],
            deploy["memory"], deploy["cpus"], deploy["pids"])  # fmt: skip


@pytest.mark.parametrize(
    "own",
    [
        "",
        "    mem_limit: 256m\n    cpus: 0.25\n    pids_limit: 64\n",
        "    deploy: {resources: {limits: {memory: 256m, cpus: '0.25', pids: 64}}}\n",
        "    mem_limit: 256m\n    deploy: {resources: {limits: {memory: 256m, pids: 64}}}\n",
    ],
)
def test_compose_takes_the_platforms_limits_over_the_tenants_in_either_form(own: str) -> None:
    web = deployed_web(own, "limits:\n  web: {memory: 1g, cpus: 2, pids: 300}\n")
    assert limits(web) == (str(1024 * MIB), 2.0, 300, str(1024 * MIB), 2.0, 300)


def test_compose_takes_the_compose_files_own_limit_within_the_maximum() -> None:
    web = deployed_web("    mem_limit: 2g\n")
    assert limits(web) == (str(2048 * MIB), 1.0, 256, str(2048 * MIB), 1.0, 256)


@settings(max_examples=8, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**5),
    st.integers(min_value=0, max_value=999),
    st.sampled_from(["k", "m", "g", "K", "M", "G", "mb", "GiB"]),
)
def test_sizes_read_as_compose_reads_them(whole: int, fraction: int, unit: str) -> None:
    text = f"{whole}.{fraction}{unit}" if fraction else f"{whole}{unit}"
    service = f"services:\n  web:\n    image: nginx:1\n    mem_limit: {text}\n"
    web = compose_config({"docker-compose.yml": service})["services"]["web"]
    assert int(web["mem_limit"]) == parse_size(text)
