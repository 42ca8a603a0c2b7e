"""Tenants and data: one tenant's deploys and prunes never touch another; named volumes and
their data outlive every deploy and rollback; secrets stay out of logs and files."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from e2e.platform_fixture import Platform, http_get, web_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.second_lane]


def test_deploying_and_pruning_one_tenant_never_touches_another(platform: Platform) -> None:
    platform.add_tenant("depot", web_tenant())
    platform.add_tenant("journal", web_tenant())
    platform.deploy("journal", image="v1")
    blog_container = platform.container("journal-staging")
    blog_releases = sorted(os.listdir(platform.base("journal") / "releases"))

    for image in ("v1", "v2", "v1", "v2", "v1"):
        platform.deploy("depot", image=image)

    shop_releases = os.listdir(platform.base("depot") / "releases")
    assert len(shop_releases) == 3  # releases.keep
    assert platform.current("depot") in shop_releases
    assert platform.container("journal-staging") == blog_container
    assert sorted(os.listdir(platform.base("journal") / "releases")) == blog_releases
    assert http_get(platform.port("journal")) == "v1"
    assert http_get(platform.port("depot")) == "v1"
    # the tenant's containers carry labels naming it; the other's do not change
    labels = platform.servers.docker("inspect", "--format", "{{json .Config.Labels}}",
                                     platform.container("depot-staging")[0])  # fmt: skip
    assert json.loads(labels)["io.github.multi-tenant-platform.project"] == "depot"


def test_named_volume_data_survives_deploys_and_rollbacks(platform: Platform) -> None:
    platform.add_tenant("depot", web_tenant(volume=True))
    platform.deploy("depot", image="v1")

    def data() -> str:
        return platform.servers.docker(
            "exec", platform.container("depot-staging")[0], "cat", "/data/orders.txt"
        )

    platform.servers.docker("exec", platform.container("depot-staging")[0],
                            "sh", "-c", "echo order-42 > /data/orders.txt")  # fmt: skip
    platform.deploy("depot", image="v2")
    assert data() == "order-42\n"
    assert platform.deploy("depot", image="v3", check=False).returncode == 5  # auto rollback
    assert data() == "order-42\n"
    platform.cli("rollback", "--project", "depot", "--env", "staging")
    assert http_get(platform.port("depot")) == "v1"
    assert data() == "order-42\n"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def test_secret_values_stay_out_of_every_log_and_file_but_the_env_file(
    platform: Platform,
) -> None:
    secret = "s3cr3t-Value-7f2b9c"
    platform.env["DEPOT__SHOP_API_TOKEN"] = secret  # tenant depot's SHOP_API_TOKEN
    token = Path(platform.servers.env["REGISTRY_PASSWORD_FILE"]).read_text().strip()
    basic = base64.b64encode(f"platform:{token}".encode()).decode()
    platform.add_tenant("depot", web_tenant(secrets=("SHOP_API_TOKEN",)))

    outputs = [
        platform.deploy("depot", image="v1"),
        platform.deploy("depot", image="v3", check=False),
    ]
    outputs.append(platform.cli("status", "--format", "json"))
    outputs.append(platform.cli("history", "--project", "depot", "--env", "staging"))
    outputs.append(platform.cli("plan", "--project", "depot", "--env", "staging", "--image",
                                "web=v1", "--format", "script"))  # fmt: skip

    for done in outputs:
        for value in (secret, token, basic):
            assert value not in done.stdout and value not in done.stderr
    env_files = []
    for path in _files(platform.deploy_root):
        text = path.read_text(errors="replace")
        if path.name == ".env":
            env_files.append(path)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            continue
        for value in (secret, token, basic):
            assert value not in text, path
    assert env_files and all(secret in p.read_text() for p in env_files)
    logs = [platform.servers.env[k] for k in ("SSHD_LOG", "DOCKERD_LOG", "REGISTRY_LOG")]
    remote_config = Path(platform.servers.env["REMOTE_DOCKER_CONFIG"])
    for path in [*map(Path, logs), *_files(remote_config)]:
        text = path.read_text(errors="replace")
        for value in (secret, token, basic):
            assert value not in text, path
    # ...and the app got it: the secret is the container's to use.
    environment = platform.servers.docker(
        "inspect", "--format", "{{json .Config.Env}}", platform.container("depot-staging")[0]
    )
    assert f"SHOP_API_TOKEN={secret}" in json.loads(environment)
