"""Release retention and failed releases on the host (runtime/release.sh), on a scratch directory:
`keep` counts good releases only, the current one always stays, and a deploy that fails
(before the switch, rolled back, or with a failed rollback) leaves no release directory and
no `.env` behind, its backups kept with the current release."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from runtime_harness import run_runtime


def good(base: Path, release: str) -> None:
    folder = base / "releases" / release
    (folder / "backups").mkdir(parents=True)
    (folder / ".env").write_text("SHOP_TOKEN=secret-value\n")
    (folder / "release.json").write_text(
        json.dumps({"release": release, "outcome": "deployed"}, separators=(",", ":"))
    )


def failed(base: Path, release: str) -> None:
    """A release directory without a completed deploy (left by a deploy that was killed)."""
    (base / "releases" / release / "backups").mkdir(parents=True)
    (base / "releases" / release / ".env").write_text("SHOP_TOKEN=secret-value\n")


def point_current(base: Path, release: str) -> None:
    (base / "current").symlink_to(f"releases/{release}")


def bash(script: str, base: Path) -> subprocess.CompletedProcess[str]:
    return run_runtime(script, base)


def releases(base: Path) -> list[str]:
    return sorted(p.name for p in (base / "releases").iterdir())


def test_keep_counts_good_releases_only(tmp_path: Path) -> None:
    for release in ("r1", "r2", "r3"):
        good(tmp_path, release)
    for release in ("r4", "r5", "r6", "r7"):
        failed(tmp_path, release)
    good(tmp_path, "r8")
    point_current(tmp_path, "r8")

    done = bash(f"platform_prune_releases {tmp_path} 3", tmp_path)

    assert done.returncode == 0, done.stderr
    assert releases(tmp_path) == ["r2", "r3", "r8"]


def test_an_unfinished_release_newer_than_the_current_one_stays(tmp_path: Path) -> None:
    """Another deploy's release, under way (after its lock was broken by hand)."""
    for release in ("r1", "r2", "r3", "r4"):
        good(tmp_path, release)
    failed(tmp_path, "r0")
    failed(tmp_path, "r5")
    point_current(tmp_path, "r4")

    assert bash(f"platform_prune_releases {tmp_path} 2", tmp_path).returncode == 0

    assert releases(tmp_path) == ["r3", "r4", "r5"]


def test_the_current_release_stays_when_older_than_those_kept(tmp_path: Path) -> None:
    for release in ("r1", "r2", "r3", "r4", "r5"):
        good(tmp_path, release)
    point_current(tmp_path, "r1")  # a rollback made it current

    assert bash(f"platform_prune_releases {tmp_path} 2", tmp_path).returncode == 0

    assert releases(tmp_path) == ["r1", "r4", "r5"]


def test_only_good_releases_are_reported_to_plan_a_rollback(tmp_path: Path) -> None:
    good(tmp_path, "r1")
    failed(tmp_path, "r2")
    (tmp_path / "releases" / "r3").mkdir()
    (tmp_path / "releases" / "r3" / "release.json").write_text('{"release":"r3","outcome":"x"}')
    good(tmp_path, "r4")
    point_current(tmp_path, "r4")

    done = bash(f"platform_facts {tmp_path}", tmp_path)

    assert done.returncode == 0, done.stderr
    assert [r["release"] for r in json.loads(done.stdout)["releases"]] == ["r4", "r1"]


STAGE = (
    'platform_step stage Stage 30 abort -- platform_stage_release "$PLATFORM_BASE" r9 </dev/null\n'
)
FILES = (
    'printf "SHOP_TOKEN=secret-value\\n" >"$PLATFORM_BASE/releases/r9/.env"\n'
    'printf "dump" >"$PLATFORM_BASE/releases/r9/backups/data.tar.gz"\n'
)
FAILURES = {
    "abort before the switch": ("platform_rollback_plan() { :; }\n"
                                "platform_step pull Pull 30 abort -- false\n", 4),
    "rolled back": ("platform_rollback_plan() { :; }\n"
                    "platform_step switch Switch 30 rollback -- false\n", 5),
    "rollback failed too": (
        "platform_rollback_plan() { platform_step rollback Restore 30 abort -- false; }\n"
        "platform_step switch Switch 30 rollback -- false\n",
        3,
    ),
}  # fmt: skip


@pytest.mark.parametrize("how", sorted(FAILURES))
def test_a_failed_deploy_leaves_no_release_and_keeps_its_backup(how: str, tmp_path: Path) -> None:
    good(tmp_path, "r1")
    point_current(tmp_path, "r1")
    steps, status = FAILURES[how]

    done = bash(f"trap platform_on_exit EXIT\n{STAGE}{FILES}{steps}", tmp_path)

    assert done.returncode == status, done.stderr
    assert releases(tmp_path) == ["r1"]
    assert (tmp_path / "releases/r1/backups/data.r9.tar.gz").read_text() == "dump"
    assert "secret-value" not in "".join(
        p.read_text() for p in tmp_path.rglob("*") if p.is_file() and p.parent.name != "r1"
    )


def test_a_first_deploy_that_fails_leaves_nothing(tmp_path: Path) -> None:
    steps = "platform_step pull Pull 30 abort -- false\n"
    done = bash(f"trap platform_on_exit EXIT\n{STAGE}{FILES}{steps}", tmp_path)
    assert done.returncode == 4
    assert releases(tmp_path) == []


def test_a_deploy_that_succeeds_keeps_its_release(tmp_path: Path) -> None:
    done = bash(f"trap platform_on_exit EXIT\n{STAGE}{FILES}platform_outcome deployed\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert releases(tmp_path) == ["r9"]


def test_a_release_already_on_the_host_is_not_removed_by_the_refusal(tmp_path: Path) -> None:
    good(tmp_path, "r9")
    done = bash(f"trap platform_on_exit EXIT\n{STAGE}", tmp_path)
    assert done.returncode == 4
    assert releases(tmp_path) == ["r9"]
    assert (tmp_path / "releases/r9/release.json").exists()


def test_staging_takes_group_and_other_bits_off_older_files(tmp_path: Path) -> None:
    base = tmp_path / "projects" / "shop" / "staging"
    good(base, "r1")
    (base / "history.jsonl").write_text("{}\n")
    for path in (base.parent, base, *base.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)

    done = bash(f'platform_stage_release "{base}" r9', base)

    assert done.returncode == 0, done.stderr
    modes = {p: p.stat().st_mode & 0o777 for p in (base.parent, base, *base.rglob("*"))}
    assert {p: m for p, m in modes.items() if m & 0o077} == {}
