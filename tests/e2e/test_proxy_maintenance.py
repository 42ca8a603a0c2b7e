"""The proxy outside of deploys, for real: `proxy refresh` picks up a certificate that arrived
after the deploy; `proxy prune` takes a removed tenant's routes out of nginx and leaves
everything else (its containers, the other tenants) alone."""

from __future__ import annotations

import hashlib
import json
import shutil
import time

import pytest
from e2e.platform_fixture import (
    Platform,
    free_port,
    proxy_settings,
    routed_tenant,
    web_tenant,
)
from load import Answer, Load
from nginx_harness import Nginx, self_signed

from platform_lib.planning.proxy_config import MAINTENANCE_BODY, RETRY_AFTER

pytestmark = pytest.mark.e2e


def route_modes(platform: Platform, project: str) -> list[str]:
    rows = json.loads(platform.cli("status", "--project", project, "--format", "json").stdout)
    return [route["mode"] for row in rows for route in row["routes"]]


def test_refresh_switches_a_route_to_https_once_its_certificate_is_there(
    proxied: tuple[Platform, int], nginx: Nginx
) -> None:
    platform, http_port = proxied
    domain = "staging.shop.example.test"
    platform.deploy("shop", image="v1")
    assert route_modes(platform, "shop") == ["plain"]

    self_signed(nginx.prefix / "certs" / domain, domain)
    platform.cli("proxy", "refresh", "--project", "shop", "--env", "staging")
    assert route_modes(platform, "shop") == ["tls"]
    assert Load(http_port, host=domain).one().status == 308
    assert not (platform.base("shop") / "lock").exists()
    # Nothing was redeployed: the same release, the same container.
    assert [e["event"] for e in platform.history("shop")] == ["deploy"]
    # Every tenant at once (as after a host's restart): staging has routes, production has
    # no release yet and is skipped.
    done = platform.cli("proxy", "refresh")
    assert "shop-staging: routes installed again" in done.stderr
    assert "shop-production: nothing to refresh" in done.stderr
    assert route_modes(platform, "shop") == ["tls"]


def test_prune_takes_out_only_the_removed_tenants_routes(
    proxied: tuple[Platform, int], nginx: Nginx
) -> None:
    platform, http_port = proxied
    platform.add_tenant("blog", routed_tenant())
    platform.deploy("shop", image="v1")
    platform.deploy("blog", image="v2")
    blog = Load(http_port, host="staging.blog.example.test")
    assert (blog.one().status, blog.one().body) == (200, "v2")

    shutil.rmtree(platform.root / "configs" / "blog")
    listed = platform.cli("proxy", "prune", "--dry-run").stdout
    assert listed == "e2e: would remove the routes of blog-staging\n"
    assert (nginx.platform_dir / "sites" / "blog-staging.conf").exists()

    assert platform.cli("proxy", "prune").stdout == "e2e: removed the routes of blog-staging\n"
    assert not (nginx.platform_dir / "sites" / "blog-staging.conf").exists()
    assert not (nginx.platform_dir / "upstreams" / "blog-staging.conf").exists()
    answer = blog.one()
    assert (answer.status, answer.body) == (404, "no site is configured for this host name")
    shop = Load(http_port, host="staging.shop.example.test").one()
    assert (shop.status, shop.body) == (200, "v1")
    # Its containers and releases stay: taking a tenant off a host is a decision of its own.
    assert platform.service_containers("blog-staging", "web") != []
    assert platform.current("blog") is not None
    assert platform.cli("proxy", "prune").stdout == "e2e: no stale routes\n"


MAINTENANCE = MAINTENANCE_BODY


def restorable(platform: Platform, nginx: Nginx) -> tuple[int, str]:
    """shop (a volume, backed up before each switch) and blog behind nginx, shop upgraded
    once: the http port and the backup taken before that upgrade."""
    http_port = free_port()
    platform.write_settings(platform.settings(proxy=proxy_settings(nginx, http_port, free_port())))
    tenant = web_tenant(volume=True, backup=True)
    del tenant["compose"]["services"]["web"]["ports"]
    platform.add_tenant("shop", tenant)
    platform.add_tenant("blog", routed_tenant())
    platform.deploy("blog", image="v1")
    platform.deploy("shop", image="v1")
    platform.deploy("shop", image="v2")  # backs up the volume, then switches blue/green
    return http_port, f"{platform.current('shop')}/data.tar.gz"


def restore_under_load(
    platform: Platform, http_port: int, backup: str
) -> tuple[int, list[Answer], list[Answer]]:
    """The restore's exit code, and every answer of shop and of blog during it."""
    shop = Load(http_port, host="staging.shop.example.test", threads=3, max_seconds=120)
    blog = Load(http_port, host="staging.blog.example.test", threads=1, max_seconds=120)
    with shop, blog:
        time.sleep(0.3)
        done = platform.cli("restore", "--project", "shop", "--env", "staging",
                            "--backup", backup, check=False)  # fmt: skip
        time.sleep(0.3)
    return done.returncode, shop.answers, blog.answers


def test_a_restore_answers_503_with_retry_after_never_a_502(
    platform: Platform, nginx: Nginx
) -> None:
    """While shop's volume is restored (its containers stopped, started again) its routes
    answer the maintenance response, then the restarted containers; blog never notices."""
    http_port, backup = restorable(platform, nginx)
    code, shop, blog = restore_under_load(platform, http_port, backup)
    assert code == 0
    assert {(a.status, a.body) for a in shop} == {(200, "v2"), (503, MAINTENANCE)}
    assert {a.retry_after for a in shop if a.status == 503} == {str(RETRY_AFTER)}
    # The restored release answers again, for good (around each reload nginx's old workers
    # and its new ones answer side by side for a moment, 200 and 503 mixed).
    assert sorted(shop, key=lambda a: a.at)[-1].status == 200
    assert {(a.status, a.body) for a in blog} == {(200, "v1")}
    assert len(blog) > 20
    assert platform.history("shop")[-1]["outcome"] == "restored"
    upstreams = (nginx.platform_dir / "upstreams" / "shop-staging.conf").read_text()
    assert "maintenance.sock" not in upstreams


def test_a_failed_restore_keeps_answering_503_until_a_deploy(
    platform: Platform, nginx: Nginx
) -> None:
    """A backup that passes its checksum but cannot be unpacked: the containers were stopped,
    their volume emptied; the routes keep the maintenance response (never a 502, never the
    half-restored data) until a deploy brings the service back."""
    http_port, backup = restorable(platform, nginx)
    release, name = backup.split("/")
    archive = platform.base("shop") / "releases" / release / "backups" / name
    archive.write_bytes(b"not a gzip stream\n")
    record = json.loads(archive.with_name("data.tar.gz.json").read_text())
    record |= {"sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
               "bytes": archive.stat().st_size}  # fmt: skip
    archive.with_name("data.tar.gz.json").write_text(json.dumps(record))

    code, shop, blog = restore_under_load(platform, http_port, backup)
    assert code != 0
    assert {a.status for a in shop} == {200, 503}
    assert sorted(shop, key=lambda a: a.at)[-1].status == 503
    assert {a.retry_after for a in shop if a.status == 503} == {str(RETRY_AFTER)}
    assert {(a.status, a.body) for a in blog} == {(200, "v1")}
    assert platform.history("shop")[-1]["outcome"] == "failed"
    assert not (platform.base("shop") / "lock").exists()
    answer = Load(http_port, host="staging.shop.example.test").one()
    assert (answer.status, answer.body) == (503, MAINTENANCE)

    platform.deploy("shop", image="v1")
    answer = Load(http_port, host="staging.shop.example.test").one()
    assert (answer.status, answer.body) == (200, "v1")
