"""Deploys for real over SSH to a real Docker engine, pulling from a real registry: what
answers over HTTP and what the host's history says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e.platform_fixture import Platform, http_get, web_tenant

from platform_lib.errors import NothingToDeploy
from platform_lib.models.outcome import EXIT_CODES
from platform_lib.models.records import HistoryEvent
from platform_lib.planning.promotion import Deploy, Skip
from platform_lib.planning.promotion_preview import TenantPreview

ABORTED, ROLLED_BACK = EXIT_CODES["aborted"], EXIT_CODES["rolled-back"]

pytestmark = pytest.mark.e2e


def test_first_deploy_then_upgrade(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")
    assert http_get(platform.port("shop")) == "v1"
    first = platform.current("shop")
    record = platform.release_json("shop")
    digest = platform.servers.env["DEMO_WEB_V1_DIGEST"]
    assert record["digests"]["services"] == {
        "web": f"{platform.servers.env['REGISTRY']}/platform-tests/demo-web@{digest}"
    }
    assert record["actor"] == "alice" and record["outcome"] == "deployed"
    assert (record["project"], record["environment"], record["grants"]) == ("shop", "staging", [])
    assert record["images"]["web"].endswith("/demo-web:v1")  # as planned; digests: pulled

    platform.deploy("shop", image="v2")
    assert http_get(platform.port("shop")) == "v2"
    assert platform.current("shop") != first
    assert [(e["event"], e["outcome"]) for e in platform.history("shop")] == [
        ("deploy", "deployed"),
        ("deploy", "deployed"),
    ]
    shown = platform.cli("history", "--project", "shop", "--env", "staging", "--format", "json")
    assert [HistoryEvent.model_validate(e) for e in json.loads(shown.stdout)] == [
        HistoryEvent.model_validate(e) for e in platform.history("shop")
    ]


def test_unhealthy_upgrade_rolls_back_automatically(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v2")
    good = platform.current("shop")

    failed = platform.deploy("shop", image="v3", check=False)

    assert failed.returncode == ROLLED_BACK
    assert "its last log lines" in failed.stderr  # the failing container's log is shown
    assert http_get(platform.port("shop")) == "v2"
    assert platform.current("shop") == good
    events = platform.history("shop")
    assert [(e["event"], e["outcome"]) for e in events] == [
        ("deploy", "deployed"),
        ("deploy", "failed"),
        ("rollback", "restored"),
    ]
    assert events[1]["step"] == "switch" and events[2]["release"] == good
    assert events[1]["reason"]  # why the switch failed, as the host saw it
    assert not (platform.base("shop") / "lock").exists()


def test_registry_down_changes_nothing(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")
    before = platform.current("shop")
    settings = platform.settings()
    settings["registry"]["host"] = "127.0.0.1:5999"  # nothing listens there
    platform.write_settings(settings)

    failed = platform.deploy("shop", image="v2", check=False)

    assert failed.returncode == ABORTED
    assert http_get(platform.port("shop")) == "v1"
    assert platform.current("shop") == before
    assert platform.history("shop")[-1]["outcome"] == "aborted"
    assert platform.history("shop")[-1]["step"] in ("login", "pull")


def test_unknown_tag_changes_nothing(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")

    failed = platform.deploy("shop", image="no-such-tag", check=False)

    assert failed.returncode == ABORTED
    assert platform.history("shop")[-1]["step"] == "pull"
    assert http_get(platform.port("shop")) == "v1"


def test_bad_registry_credentials_change_nothing(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")

    failed = platform.deploy("shop", image="v2", check=False, env={"REGISTRY_TOKEN": "wrong"})

    assert failed.returncode == ABORTED
    assert platform.history("shop")[-1]["step"] == "login"
    assert http_get(platform.port("shop")) == "v1"


def test_wrong_host_key_is_refused_before_anything_happens(platform: Platform) -> None:
    settings = platform.settings()
    for env in settings["environments"].values():
        env["hosts"]["e2e"]["host_key"] = (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBWRnk8G6iV3FDzv1k5MZ5Zs/aBlc50T2qlzdpfnExix"
        )
    platform.write_settings(settings)
    platform.add_tenant("shop", web_tenant())

    refused = platform.deploy("shop", image="v1", check=False)

    assert refused.returncode == 1
    assert "did not present the host key pinned in configs/platform.yml" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not platform.base("shop").exists()


def test_missing_secret_fails_before_the_host_is_touched(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant(secrets=("SHOP_API_TOKEN",)))

    failed = platform.deploy("shop", image="v1", check=False)

    assert failed.returncode == 1
    assert "secrets not set in the deploy environment: SHOP__SHOP_API_TOKEN" in failed.stderr
    assert not (platform.base("shop") / "releases").exists()


def test_one_ssh_connection_per_deploy(platform: Platform, tmp_path: Path) -> None:
    key, fingerprint = platform.servers.client_key(tmp_path)
    platform.env["PLATFORM_SSH_KEY"] = str(key)
    platform.add_tenant("shop", web_tenant())
    before = platform.servers.ssh_logins(fingerprint)
    platform.deploy("shop", image="v1")
    assert platform.servers.ssh_logins(fingerprint) - before == 1
    # production reads staging's verified digests from the same host: still one connection
    before = platform.servers.ssh_logins(fingerprint)
    platform.deploy("shop", environment="production", image=None)
    assert platform.servers.ssh_logins(fingerprint) - before == 1


def test_rollback_to_the_previous_and_to_an_older_release(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")
    first = platform.current("shop")
    platform.deploy("shop", image="v2")
    second = platform.current("shop")
    platform.deploy("shop", image="v1")  # a third release, running v1 again
    third = platform.current("shop")
    assert http_get(platform.port("shop")) == "v1"

    platform.cli("rollback", "--project", "shop", "--env", "staging")
    assert platform.current("shop") == second
    assert http_get(platform.port("shop")) == "v2"

    platform.cli("rollback", "--project", "shop", "--env", "staging", "--to", str(first))
    assert platform.current("shop") == first
    assert http_get(platform.port("shop")) == "v1"
    rollbacks = [e for e in platform.history("shop") if e["event"] == "rollback"]
    assert [(e["release"], e["from_release"]) for e in rollbacks] == [
        (second, third),
        (first, second),
    ]


def test_rollback_to_an_unknown_release_is_refused(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")
    refused = platform.cli("rollback", "--project", "shop", "--env", "staging", "--to", "nope",
                           check=False)  # fmt: skip
    assert refused.returncode == 1
    assert "release 'nope' is not on the host" in refused.stderr
    refused = platform.cli("rollback", "--project", "shop", "--env", "staging", check=False)
    assert "there is no earlier release to roll back to" in refused.stderr


def test_production_promotes_the_digests_staging_verified(platform: Platform) -> None:
    env, docker = platform.servers.env, platform.servers.docker
    repository = env["DEMO_WEB_V2"].rsplit(":", 1)[0]
    moving = f"{repository}:moving"  # a tag of this test's own: others keep theirs
    docker("tag", env["DEMO_WEB_V2"], moving)
    docker("push", moving)
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="moving")
    verified = platform.release_json("shop")["digests"]["services"]["web"]
    assert verified == f"{repository}@{env['DEMO_WEB_V2_DIGEST']}"
    # The tag moves after staging verified it: production must not follow it.
    docker("tag", env["DEMO_WEB_V1"], moving)
    docker("push", moving)

    platform.deploy("shop", environment="production", image=None)

    production = platform.release_json("shop", "production")
    assert production["digests"]["services"]["web"] == verified
    assert http_get(platform.port("shop", "production")) == "v2"


def test_production_without_a_verified_staging_release_deploys_nothing(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    refused = platform.deploy("shop", environment="production", image=None, check=False)
    assert refused.returncode == NothingToDeploy.exit_code
    assert "no verified staging image for shop/web" in refused.stderr
    assert not (platform.base("shop", "production") / "releases").exists()
    # what an approval would show: nothing to deploy, and exit 0
    shown = platform.cli("promote", "--project", "shop", "--preview", "--format", "json")
    preview = TenantPreview.model_validate_json(shown.stdout)
    assert isinstance(preview.decision, Skip) and preview.running_release is None


def test_rollback_checks_the_restored_release_by_its_own_routes(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")
    good = platform.current("shop")
    tenant = web_tenant()
    tenant["manifest"]["routes"][0]["health_path"] = "/missing"  # the new config's check fails
    platform.add_tenant("shop", tenant)

    failed = platform.deploy("shop", image="v2", check=False)

    assert failed.returncode == ROLLED_BACK
    assert platform.history("shop")[-2]["step"] == "health-1-web"
    assert platform.current("shop") == good
    assert http_get(platform.port("shop")) == "v1"
    assert [(e["event"], e["outcome"]) for e in platform.history("shop")][-2:] == [
        ("deploy", "failed"),
        ("rollback", "restored"),
    ]


def test_promote_shows_the_difference_then_deploys_stagings_digests(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant(), extra_env={"LOG_LEVEL": "info"})
    platform.deploy("shop", image="v1")
    platform.deploy("shop", environment="production", image=None)
    platform.deploy("shop", image="v2")
    staging = platform.release_json("shop")["digests"]["services"]["web"]
    running = platform.release_json("shop", "production")["digests"]["services"]["web"]

    refused = platform.cli("promote", "--project", "shop", check=False)  # no terminal, no --yes
    assert refused.returncode == 2 and "pass --yes" in refused.stderr
    shown = platform.cli("promote", "--project", "shop", "--preview", "--format", "json")
    preview = TenantPreview.model_validate_json(shown.stdout)
    assert [(i.service, i.running, i.to) for i in preview.images] == [("web", running, staging)]
    assert isinstance(preview.decision, Deploy)
    assert str(platform.port("shop", "production")) not in shown.stdout  # names, never values
    assert platform.release_json("shop", "production")["digests"]["services"]["web"] == running
    markdown = platform.cli("promote", "--project", "shop", "--preview")
    assert staging.split("@")[1] in markdown.stdout and "WEB_PORT" in markdown.stdout
    promoted = platform.cli("promote", "--project", "shop", "--yes")

    assert promoted.stdout == markdown.stdout  # what was shown is what went out
    assert platform.release_json("shop", "production")["digests"]["services"]["web"] == staging
    assert http_get(platform.port("shop", "production")) == "v2"


def test_a_rollback_that_fails_too_exits_3_and_says_so(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v2")
    good = platform.current("shop")
    # The release to go back to cannot start any more (its compose file is broken on the host).
    (platform.base("shop") / "releases" / str(good) / "docker-compose.yml").write_text("[\n")

    failed = platform.deploy("shop", image="v3", check=False)

    assert failed.returncode == EXIT_CODES["rollback-failed"] == 3
    assert [(e["event"], e["outcome"], e["step"]) for e in platform.history("shop")][-2:] == [
        ("deploy", "failed", "switch"),
        ("deploy", "rollback-failed", "rollback"),
    ]
    assert platform.current("shop") == good
    assert not (platform.base("shop") / "lock").exists()


def test_a_manual_rollback_to_a_release_that_cannot_start_aborts(platform: Platform) -> None:
    platform.add_tenant("shop", web_tenant())
    platform.deploy("shop", image="v1")
    first = platform.current("shop")
    platform.deploy("shop", image="v2")
    second = platform.current("shop")
    (platform.base("shop") / "releases" / str(first) / "docker-compose.yml").write_text("[\n")

    refused = platform.cli("rollback", "--project", "shop", "--env", "staging", check=False)

    assert refused.returncode == ABORTED
    assert platform.current("shop") == second
    assert http_get(platform.port("shop")) == "v2"
    assert (platform.history("shop")[-1]["outcome"], platform.history("shop")[-1]["step"]) == (
        "aborted",
        "policy",
    )
