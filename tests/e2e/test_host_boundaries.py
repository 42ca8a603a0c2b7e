"""Tenant boundaries on a real host: tenant data readable by the deploy user only, retention
that failed deploys cannot wear down, and the host's own policy check refusing a compose file
that slipped past validation."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from e2e.platform_fixture import Platform, http_get, web_tenant

from platform_lib.models.plan import Plan
from platform_lib.planning.canonical import plan_json, with_id

pytestmark = [pytest.mark.e2e, pytest.mark.second_lane]

SECRET = "e2e-secret-5f0c9a"


def open_to_others(root: Path) -> dict[str, str]:
    """Every file or directory under root (not root itself) with a group or other bit set."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(folder, name)
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found[str(path.relative_to(root))] = oct(stat.S_IMODE(mode))
    return found


def files_holding(root: Path, text: str) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and text.encode() in p.read_bytes()
    }


def as_nobody(*argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["runuser", "-u", "nobody", "--", *argv], capture_output=True,
                          check=False, timeout=30)  # fmt: skip


@pytest.fixture
def open_deploy_root(platform: Platform) -> Iterator[Platform]:
    """The platform with its deploy root where any local user can reach it (pytest's tmp
    directories are 0700, which would hide the modes under test)."""
    root = Path(tempfile.mkdtemp(prefix="platform-modes-", dir="/tmp"))
    root.chmod(0o755)
    platform.deploy_root = root
    platform.write_settings(platform.settings())
    try:
        yield platform
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_tenant_data_is_readable_by_the_deploy_user_only(open_deploy_root: Platform) -> None:
    platform = open_deploy_root
    platform.env["DEPOT__SHOP_API_TOKEN"] = SECRET  # <PROJECT>__<NAME>
    platform.add_tenant("depot", web_tenant(secrets=("SHOP_API_TOKEN",), volume=True, backup=True))
    platform.deploy("depot", image="v1")
    container = platform.container("depot-staging")[0]
    platform.servers.docker("exec", container, "sh", "-c", "echo order-1 > /data/orders.txt")
    platform.deploy("depot", image="v2")  # backs up the volume, then switches
    release = platform.current("depot")
    platform.cli("restore", "--project", "depot", "--env", "staging",
                 "--backup", f"{release}/data.tar.gz")  # fmt: skip

    root = platform.deploy_root
    base = platform.base("depot")
    backup = base / "releases" / str(release) / "backups" / "data.tar.gz"
    assert backup.is_file() and (base / "history.jsonl").is_file()
    assert {".env", "docker-compose.yml", "release.json", "digests.json", "health.tsv"} <= {
        p.name for p in base.glob("releases/*/*")
    }
    assert open_to_others(root) == {}

    # As a real local user: the deploy root itself is open to all, what the platform wrote is not.
    (root / "open.txt").write_text("anyone\n")
    (root / "open.txt").chmod(0o644)
    assert as_nobody("cat", str(root / "open.txt")).returncode == 0
    assert as_nobody("cat", str(backup)).returncode != 0
    assert as_nobody("ls", str(root / "projects")).returncode != 0
    assert as_nobody("cat", str(base / "current" / ".env")).returncode != 0


def test_failed_deploys_never_wear_retention_down(platform: Platform) -> None:
    platform.env["DEPOT__SHOP_API_TOKEN"] = SECRET  # <PROJECT>__<NAME>
    platform.add_tenant("depot", web_tenant(secrets=("SHOP_API_TOKEN",)))  # releases.keep: 3
    platform.deploy("depot", image="v1")
    platform.deploy("depot", image="v2")
    for n in range(4):  # refused at the pull: nothing switched
        assert platform.deploy("depot", image=f"no-such-tag-{n}", check=False).returncode == 4
    for _ in range(2):  # unhealthy after the switch: rolled back
        assert platform.deploy("depot", image="v3", check=False).returncode == 5
        assert http_get(platform.port("depot")) == "v2"
    platform.deploy("depot", image="v1")

    events = platform.history("depot")
    good = [e["release"] for e in events if e["event"] == "deploy" and e["outcome"] == "deployed"]
    failed = [e["release"] for e in events if e["outcome"] in ("aborted", "failed")]
    assert len(good) == 3 and len(failed) == 6
    assert [e["step"] for e in events if e["outcome"] == "aborted"] == ["pull"] * 4
    base = platform.base("depot")
    assert sorted(p.name for p in (base / "releases").iterdir()) == sorted(good)
    assert files_holding(platform.deploy_root, SECRET) == {
        str((base / "releases" / r / ".env").relative_to(platform.deploy_root)) for r in good
    }

    platform.cli("rollback", "--project", "depot", "--env", "staging")
    assert platform.current("depot") == good[1]
    assert http_get(platform.port("depot")) == "v2"


def test_a_plan_edited_after_validation_is_refused_on_the_host(
    platform: Platform, tmp_path: Path
) -> None:
    platform.add_tenant("depot", web_tenant())
    platform.deploy("depot", image="v1")
    before = platform.current("depot")
    running = platform.container("depot-staging")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"current_release": before}))
    made = tmp_path / "plan.json"
    platform.cli("plan", "--project", "depot", "--env", "staging", "--image", "web=v2",
                 "--facts", str(facts), "--format", "json", "-o", str(made))  # fmt: skip

    # The plan's compose file gains `privileged: true`; its checksum and the plan's id are
    # made again the way the platform makes them, so only the host's own check stands.
    plan = Plan.model_validate_json(made.read_text())
    (compose,) = [f for f in plan.files if f.path.endswith("/docker-compose.yml")]
    data = yaml.safe_load(compose.content)
    data["services"]["web"]["privileged"] = True
    text = yaml.safe_dump(data, sort_keys=False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    files = tuple(f.model_copy(update={"content": text, "sha256": digest}) if f is compose else f
                  for f in plan.files)  # fmt: skip
    steps = tuple(
        s.model_copy(update={"argv": (*s.argv[:-1], digest)}) if s.stdin_file == compose.path else s
        for s in plan.steps
    )
    edited = tmp_path / "edited.json"
    edited.write_text(plan_json(with_id(plan.model_copy(update={"files": files, "steps": steps}))))

    refused = platform.cli("apply", str(edited), check=False, root=False)

    assert refused.returncode == 4  # aborted: nothing changed
    assert "refused policy.privileged: services.web.privileged" in refused.stderr
    last = platform.history("depot")[-1]
    assert (last["outcome"], last["step"], last["release"]) == ("aborted", "policy", plan.release)
    assert platform.current("depot") == before
    assert platform.container("depot-staging") == running  # nothing started or recreated
    assert http_get(platform.port("depot")) == "v1"
    assert not (platform.base("depot") / "releases" / plan.release).exists()
