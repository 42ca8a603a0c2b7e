"""The platform's credentials never reach a tenant on a real host: a tenant declaring them is
refused before the host is touched, a compose file that asks the host's compose for them
(injected past validation) gets nothing, and two tenants' secrets of one name are two values."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from e2e.platform_fixture import Platform, web_tenant

from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.models.outcome import EXIT_CODES
from platform_lib.planning.builder import PlanRequest, build_plan
from platform_lib.planning.canonical import plan_json

pytestmark = pytest.mark.e2e


def _token(platform: Platform) -> str:
    return Path(platform.servers.env["REGISTRY_PASSWORD_FILE"]).read_text().strip()


def _files_holding(root: Path, value: str) -> list[Path]:
    return [
        p for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and value in p.read_text(errors="replace")
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["REGISTRY_TOKEN", "DEPLOY_SSH_KEY"])
def test_a_tenant_declaring_a_platform_credential_is_refused_and_gets_nothing(
    platform: Platform, name: str
) -> None:
    platform.add_tenant("shop", web_tenant(secrets=(name,)))
    key = Path(platform.servers.env["SSH_CLIENT_KEY"]).read_text()
    done = platform.deploy("shop", check=False, env={"DEPLOY_SSH_KEY": key})
    assert done.returncode == 1
    assert "project.platform-secret" in done.stdout
    assert not (platform.deploy_root / "projects").exists()  # the host was never touched
    for value in (_token(platform), key):
        assert _files_holding(platform.deploy_root, value) == []


def _container_env(platform: Platform, project: str) -> dict[str, str]:
    raw = platform.servers.docker(
        "inspect", "--format", "{{json .Config.Env}}", platform.container(project)[0]
    )
    return dict(item.split("=", 1) for item in json.loads(raw))


def test_a_compose_file_past_validation_cannot_read_the_registry_token(
    platform: Platform, tmp_path: Path
) -> None:
    platform.add_tenant("shop", web_tenant())
    config = load_valid_config(read_sources(platform.root))
    tenant = config.tenants["shop"]
    compose = yaml.safe_load(tenant.compose_text)
    compose["services"]["web"]["environment"] = {"STOLEN": "${REGISTRY_TOKEN:-nothing}"}
    forged = dataclasses.replace(tenant, compose_text=yaml.safe_dump(compose))
    config = dataclasses.replace(config, tenants={**config.tenants, "shop": forged})
    request = PlanRequest(project="shop", environment="staging", now=datetime.now(UTC),
                          actor="alice", platform_sha="", images={"web": "v1"})  # fmt: skip
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan_json(build_plan(config, request)))

    done = subprocess.run(
        [sys.executable, "-m", "platform_lib", "apply", str(plan_file)],
        env={**os.environ, "REGISTRY_TOKEN": _token(platform),
             "PLATFORM_SSH_KEY": platform.servers.env["SSH_CLIENT_KEY"]},
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    # The host's policy refuses it before the login (policy.platform-variable): nothing starts.
    assert done.returncode == EXIT_CODES["aborted"], done.stdout + done.stderr
    last = platform.history("shop")[-1]
    assert (last["outcome"], last["step"]) == ("aborted", "policy")
    assert (
        platform.servers.docker(
            "ps", "-aq", "--filter", "label=com.docker.compose.project=shop-staging"
        ).split()
        == []
    )
    assert _files_holding(platform.deploy_root, _token(platform)) == []


def test_two_tenants_secrets_of_one_name_are_two_values(platform: Platform) -> None:
    for name in ("shop", "blog"):
        platform.add_tenant(name, web_tenant(secrets=("API_KEY",)))
    platform.env.update({"SHOP__API_KEY": "key-of-shop", "BLOG__API_KEY": "key-of-blog",
                         "API_KEY": "key-of-nobody"})  # fmt: skip
    platform.deploy("shop")
    platform.deploy("blog")
    assert _container_env(platform, "shop-staging")["API_KEY"] == "key-of-shop"
    assert _container_env(platform, "blog-staging")["API_KEY"] == "key-of-blog"
    assert _files_holding(platform.deploy_root, "key-of-nobody") == []
