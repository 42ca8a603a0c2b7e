"""Backups taken before every switch, restored on demand; health and status of what runs."""

from __future__ import annotations

import hashlib
import json

import pytest
from e2e.platform_fixture import Platform, web_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.second_lane]


def test_volume_backup_is_taken_before_the_switch_and_restores(platform: Platform) -> None:
    platform.add_tenant("depot", web_tenant(volume=True, backup=True))
    platform.deploy("depot", image="v1")

    def shell(command: str) -> str:
        container = platform.container("depot-staging")[0]
        return platform.servers.docker("exec", container, "sh", "-c", command)

    shell("echo order-1 > /data/orders.txt")
    platform.deploy("depot", image="v2")  # backs up the volume, then switches
    backed_up = platform.current("depot")
    shell("echo order-2 > /data/orders.txt && echo junk > /data/late.txt")

    listed = platform.cli("backups", "--project", "depot", "--env", "staging").stdout
    assert f"{backed_up}/data.tar.gz" in listed
    platform.cli("restore", "--project", "depot", "--env", "staging",
                 "--backup", f"{backed_up}/data.tar.gz")  # fmt: skip

    assert shell("cat /data/orders.txt") == "order-1\n"
    assert shell("ls /data") == "orders.txt\n"
    restored = platform.history("depot")[-1]
    assert (restored["event"], restored["outcome"]) == ("restore", "restored")
    archive = platform.base("depot") / "releases" / backed_up / "backups" / "data.tar.gz"
    assert restored["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert not (platform.base("depot") / "lock").exists()


def test_a_corrupted_backup_is_refused_and_changes_nothing(platform: Platform) -> None:
    platform.add_tenant("depot", web_tenant(volume=True, backup=True))
    platform.deploy("depot", image="v1")

    def shell(command: str) -> str:
        container = platform.container("depot-staging")[0]
        return platform.servers.docker("exec", container, "sh", "-c", command)

    shell("echo order-1 > /data/orders.txt")
    platform.deploy("depot", image="v2")
    backed_up = platform.current("depot")
    shell("echo order-2 > /data/orders.txt")
    listed = json.loads(platform.cli("backups", "--project", "depot", "--env", "staging",
                                     "--format", "json").stdout)  # fmt: skip
    entry = next(b for b in listed if b["backup"] == f"{backed_up}/data.tar.gz")
    archive = platform.base("depot") / "releases" / backed_up / "backups" / "data.tar.gz"
    assert entry["record"]["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, on the host
    archive.write_bytes(bytes(data))
    container = platform.container("depot-staging")[0]
    started = platform.servers.docker("inspect", "--format", "{{.State.StartedAt}}", container)

    refused = platform.cli("restore", "--project", "depot", "--env", "staging",
                           "--backup", f"{backed_up}/data.tar.gz", check=False)  # fmt: skip

    assert refused.returncode == 1
    assert f"backup {backed_up}/data.tar.gz is corrupt" in refused.stderr
    assert shell("cat /data/orders.txt") == "order-2\n"
    # Nothing was stopped or started again.
    assert platform.servers.docker("inspect", "--format", "{{.State.StartedAt}}", container) == (
        started
    )
    event = platform.history("depot")[-1]
    assert (event["event"], event["outcome"]) == ("restore", "failed")
    assert not (platform.base("depot") / "lock").exists()


def test_restore_of_an_unknown_backup_is_refused(platform: Platform) -> None:
    platform.add_tenant("depot", web_tenant(volume=True, backup=True))
    platform.deploy("depot", image="v1")
    missing = "20200101T000000Z-00000000/data.tar.gz"
    refused = platform.cli(
        "restore", "--project", "depot", "--env", "staging", "--backup", missing, check=False
    )
    assert refused.returncode == 1
    assert "no backup 20200101T000000Z-00000000/data.tar.gz on this host" in refused.stderr


def test_health_and_status_report_what_runs(platform: Platform) -> None:
    platform.add_tenant("depot", web_tenant())
    platform.deploy("depot", image="v1")

    healthy = platform.cli("health", "--project", "depot", "--env", "staging")
    assert healthy.stdout == "ok   depot/staging web:8080/health\n"
    status = platform.cli("status", "--project", "depot", "--format", "json")
    rows = json.loads(status.stdout)
    assert [(r["environment"], r["release"] is not None) for r in rows] == [
        ("staging", True),
        ("production", False),
    ]
    assert rows[0]["actor"] == "alice" and rows[0]["health"] == "1/1 up"

    platform.servers.docker("stop", platform.container("depot-staging")[0])
    sick = platform.cli("health", "--project", "depot", "--env", "staging", check=False)
    assert sick.returncode == 1
    assert sick.stdout.startswith("FAIL depot/staging web:8080/health")
