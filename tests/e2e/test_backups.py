"""Backups taken before every switch, restored on demand; health and status of what runs."""

from __future__ import annotations

import json

import pytest
from e2e.platform_fixture import Platform, web_tenant

pytestmark = pytest.mark.e2e


def test_volume_backup_is_taken_before_the_switch_and_restores(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant(volume=True, backup=True))
    platform.deploy("shop", image="v1")

    def shell(command: str) -> str:
        container = platform.container("shop-staging")[0]
        return platform.servers.docker("exec", container, "sh", "-c", command)

    shell("echo order-1 > /data/orders.txt")
    platform.deploy("shop", image="v2")  # backs up the volume, then switches
    backed_up = platform.current("shop")
    shell("echo order-2 > /data/orders.txt && echo junk > /data/late.txt")

    listed = platform.cli("backups", "--project", "shop", "--env", "staging").stdout
    assert f"{backed_up}/data.tar.gz" in listed
    platform.cli("restore", "--project", "shop", "--env", "staging",
                 "--backup", f"{backed_up}/data.tar.gz")  # fmt: skip

    assert shell("cat /data/orders.txt") == "order-1\n"
    assert shell("ls /data") == "orders.txt\n"
    assert platform.history("shop")[-1]["event"] == "restore"
    assert platform.history("shop")[-1]["outcome"] == "restored"
    assert not (platform.base("shop") / "lock").exists()


def test_restore_of_an_unknown_backup_is_refused(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant(volume=True, backup=True))
    platform.deploy("shop", image="v1")
    missing = "20200101T000000Z-00000000/data.tar.gz"
    refused = platform.cli(
        "restore", "--project", "shop", "--env", "staging", "--backup", missing, check=False
    )
    assert refused.returncode == 1
    assert "no backup 20200101T000000Z-00000000/data.tar.gz on this host" in refused.stderr


def test_health_and_status_report_what_runs(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")

    healthy = platform.cli("health", "--project", "shop", "--env", "staging")
    assert healthy.stdout == "ok   shop/staging web:8080/health\n"
    status = platform.cli("status", "--project", "shop", "--format", "json")
    rows = json.loads(status.stdout)
    assert [(r["environment"], r["release"] is not None) for r in rows] == [
        ("staging", True),
        ("production", False),
    ]
    assert rows[0]["actor"] == "alice" and rows[0]["health"] == "1/1 up"

    platform.servers.docker("stop", platform.container("shop-staging")[0])
    sick = platform.cli("health", "--project", "shop", "--env", "staging", check=False)
    assert sick.returncode == 1
    assert sick.stdout.startswith("FAIL shop/staging web:8080/health")
