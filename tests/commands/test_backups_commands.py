"""backups and restore (commands/backups.py) against recording hosts: the typed listing, the
restore operation's exact arguments, and that a bad `--backup` sends nothing."""

from __future__ import annotations

import json

import pytest
from recorded_hosts import BASE, PRODUCTION, STAGING, answering, ok, run

from platform_lib.models.records import BackupEntry
from platform_lib.transport.base import RunResult

PROXY = ("/etc/nginx/platform", "/etc/nginx/nginx.conf", "/run/nginx.pid")
ENTRIES = [
    {"version": 1, "backup": "20260102T000000Z-b/database.sql.gz", "bytes": 2048,
     "record": {"version": 1, "kind": "pg_dump", "sha256": "a" * 64, "bytes": 2048,
                "taken_at": "2026-01-02T00:00:00Z"}},
    {"version": 1, "backup": "20260101T000000Z-a/database.sql.gz", "bytes": 10, "record": None},
]  # fmt: skip


def test_backups_lists_the_typed_entries_of_that_base(capsys: pytest.CaptureFixture[str]) -> None:
    hosts = answering({"platform_backups": ok("".join(json.dumps(e) + "\n" for e in ENTRIES))})
    argv = ("backups", "--project", "filter-ical", "--env", "production", "--format", "json")
    assert run(hosts, *argv) == 0
    assert hosts.operations == [
        (PRODUCTION, ("platform_backups", f"{BASE}/filter-ical/production"))
    ]
    listed = [BackupEntry.model_validate(e) for e in json.loads(capsys.readouterr().out)]
    assert listed == [BackupEntry.model_validate(e) for e in ENTRIES]
    assert listed[0].record is not None and listed[0].record.sha256 == "a" * 64


def test_a_backup_line_the_model_refuses_is_exit_1() -> None:
    hosts = answering({"platform_backups": ok('{"version": 1, "backup": "x", "bytes": -1}\n')})
    assert run(hosts, "backups", "--project", "filter-ical", "--env", "staging") == 1


def test_restore_sends_the_pg_dump_hook_of_the_file_under_the_lock() -> None:
    hosts = answering({"platform_restore": ok()})
    backup = "20260102T000000Z-b/database.sql.gz"
    argv = ("restore", "--project", "filter-ical", "--env", "staging", "--backup", backup,
            "--actor", "dana")  # fmt: skip
    assert run(hosts, *argv) == 0
    assert hosts.operations == [
        (STAGING, ("platform_restore", f"{BASE}/filter-ical/staging", "20260102T000000Z-b",
                   "database.sql.gz", "300", "3600", "filter-ical-staging", *PROXY,
                   "pg_dump", "db", "filter_ical", "filter_ical")),
    ]  # fmt: skip
    assert "PLATFORM_ACTOR=dana\n" in hosts.runs[0].script


def test_restore_of_a_volume_hook_names_the_volume() -> None:
    hosts = answering({"platform_restore": ok()})
    argv = ("restore", "--project", "gabs-massage", "--env", "production",
            "--backup", "r1/bookings.tar.gz")  # fmt: skip
    assert run(hosts, *argv) == 0
    assert [(host, op[-2:]) for host, op in hosts.operations] == [
        (PRODUCTION, ("volume", "bookings"))
    ]


def test_a_restore_the_host_refuses_is_exit_1() -> None:
    hosts = answering({"platform_restore": RunResult(1, "")})
    argv = ("restore", "--project", "gabs-massage", "--env", "staging", "--backup", "r/bookings.x")
    assert run(hosts, *argv) == 1


@pytest.mark.parametrize(
    "backup",
    ["no-slash", "/database.sql.gz", "r1/", "r1/a/database.sql.gz", "r1/unknown.sql.gz"],
)
def test_a_bad_backup_argument_sends_nothing(backup: str) -> None:
    hosts = answering({})
    argv = ("restore", "--project", "filter-ical", "--env", "staging", "--backup", backup)
    assert run(hosts, *argv) == 2
    assert (hosts.runs, hosts.transports) == ([], {})
