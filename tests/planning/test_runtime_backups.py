"""Backups with fake `docker` on PATH: each is taken with its record (sha256, bytes, kind),
listed with it, and a restore checks the file against it before anything is stopped."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from runtime_harness import Fakes, run_runtime

from platform_lib.models.records import BackupEntry, BackupRecord, HistoryEvent

# One container (c1) uses the volume shop-staging_data, mounted at /data; `docker cp` out of
# it sends a fixed archive.
FAKE_DOCKER = r"""
case "$*" in
  "ps --all --quiet --filter volume=shop-staging_data") echo c1 ;;
  "ps --quiet --filter volume=shop-staging_data") echo c1 ;;
  "inspect --format {{.Image}} c1") echo img ;;
  "inspect --format "*) echo /data ;;
  "cp c1:/data/. -") printf 'orders.txt: order-1\n' ;;
  "cp - c1:/data") cat >/dev/null ;;
esac
"""
RELEASE = "20260101T000000Z-aaaaaaaa"
RESTORE = f"platform_restore {{base}} {RELEASE} data.tar.gz 0 60 shop-staging '' '' '' volume data"


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    fakes = Fakes(tmp_path / "fakes")
    fakes.add("docker", FAKE_DOCKER)
    return fakes


def run(script: str, base: Path, fakes: Fakes) -> subprocess.CompletedProcess[str]:
    return run_runtime(script.format(base=base), base, path=str(fakes.bin))


def take_backup(base: Path, fakes: Fakes) -> Path:
    backups = base / "releases" / RELEASE / "backups"
    backups.mkdir(parents=True)
    (base / "current").symlink_to(f"releases/{RELEASE}")
    done = run(f"platform_backup_volume {{base}} {backups} shop-staging data data", base, fakes)
    assert done.returncode == 0, done.stderr
    return backups / "data.tar.gz"


def test_a_backup_is_taken_with_its_record(tmp_path: Path, fakes: Fakes) -> None:
    archive = take_backup(tmp_path, fakes)

    record = BackupRecord.model_validate_json(Path(f"{archive}.json").read_text())
    data = archive.read_bytes()
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert (record.kind, record.bytes) == ("volume", len(data))
    assert not list(archive.parent.glob("*.tmp"))


def test_backups_are_listed_with_their_records(tmp_path: Path, fakes: Fakes) -> None:
    archive = take_backup(tmp_path, fakes)
    (archive.parent / "old.pgdump").write_bytes(b"taken before records were")

    done = run("platform_backups {base}", tmp_path, fakes)
    assert done.returncode == 0, done.stderr
    listed = {e.backup: e for e in map(BackupEntry.model_validate_json, done.stdout.splitlines())}
    assert sorted(listed) == [f"{RELEASE}/data.tar.gz", f"{RELEASE}/old.pgdump"]  # no .json
    kept = listed[f"{RELEASE}/data.tar.gz"].record
    assert kept is not None and kept.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert listed[f"{RELEASE}/old.pgdump"].record is None


def docker_changes(fakes: Fakes) -> list[list[str]]:
    """The docker calls that change something (stop, run, cp into, start)."""
    calls = fakes.calls("docker")
    return [c for c in calls if c[1] in {"stop", "run", "start"} or c[1:3] == ["cp", "-"]]


@pytest.mark.parametrize("damage", ["flipped", "no-record"])
def test_a_backup_that_does_not_match_its_record_is_refused(
    damage: str, tmp_path: Path, fakes: Fakes
) -> None:
    archive = take_backup(tmp_path, fakes)
    if damage == "flipped":
        data = bytearray(archive.read_bytes())
        data[len(data) // 2] ^= 0x01
        archive.write_bytes(bytes(data))
    else:
        Path(f"{archive}.json").unlink()

    refused = run(RESTORE, tmp_path, fakes)

    assert refused.returncode == 1
    name = f"backup {RELEASE}/data.tar.gz"
    expected = "is corrupt: its sha256 is" if damage == "flipped" else "has no checksum record"
    assert f"{name} {expected}" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert docker_changes(fakes) == []  # nothing stopped, emptied, copied or started
    assert not (tmp_path / "lock").exists()
    event = HistoryEvent.model_validate_json((tmp_path / "history.jsonl").read_text())
    assert (event.event, event.outcome, event.backup) == ("restore", "failed", name[7:])
    assert "refusing to restore" in event.reason


def test_a_restore_names_the_checksum_it_checked(tmp_path: Path, fakes: Fakes) -> None:
    archive = take_backup(tmp_path, fakes)

    done = run(RESTORE, tmp_path, fakes)

    assert done.returncode == 0, done.stderr
    assert [c[1] for c in docker_changes(fakes)] == ["stop", "run", "cp", "start"]
    event = HistoryEvent.model_validate_json((tmp_path / "history.jsonl").read_text())
    assert (event.event, event.outcome, event.backup) == (
        "restore",
        "restored",
        f"{RELEASE}/data.tar.gz",
    )
    assert event.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_a_failed_release_hands_its_backup_on_with_its_record(tmp_path: Path, fakes: Fakes) -> None:
    take_backup(tmp_path, fakes)
    failed = "20260102T000000Z-bbbbbbbb"
    backups = tmp_path / "releases" / failed / "backups"
    backups.mkdir(parents=True)
    taken = run(f"platform_backup_volume {{base}} {backups} shop-staging data data\n"
                f"platform_discard_release {{base}} {failed}", tmp_path, fakes)  # fmt: skip
    assert taken.returncode == 0, taken.stderr
    assert not (tmp_path / "releases" / failed).exists()

    kept = f"{RELEASE}/data.{failed}.tar.gz"
    listed = run("platform_backups {base}", tmp_path, fakes).stdout.splitlines()
    entry = next(e for e in map(BackupEntry.model_validate_json, listed) if e.backup == kept)
    assert entry.record is not None
    restore = RESTORE.replace("data.tar.gz", f"data.{failed}.tar.gz")
    done = run(restore, tmp_path, fakes)
    assert done.returncode == 0, done.stderr
