"""The proxy outside of deploys, for real: `proxy refresh` picks up a certificate that arrived
after the deploy; `proxy prune` takes a removed tenant's routes out of nginx and leaves
everything else (its containers, the other tenants) alone."""

from __future__ import annotations

import json
import shutil

import pytest
from e2e.platform_fixture import (
    Platform,
    free_port,
    proxy_settings,
    routed_tenant,
    web_tenant,
)
from load import Load
from nginx_harness import Nginx, self_signed

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


def test_a_restore_keeps_the_route_answering(platform: Platform, nginx: Nginx) -> None:
    """A volume restore stops and starts the tenant's containers; the route is installed
    again afterwards, so nginx points at wherever they came back."""
    http_port = free_port()
    platform.write_settings(platform.settings(proxy=proxy_settings(nginx, http_port, free_port())))
    tenant = web_tenant(volume=True, backup=True)
    del tenant["compose"]["services"]["web"]["ports"]
    platform.add_tenant("shop", tenant)
    platform.deploy("shop", image="v1")
    platform.deploy("shop", image="v2")  # backs up the volume, then switches blue/green
    backed_up = platform.current("shop")
    platform.cli("restore", "--project", "shop", "--env", "staging",
                 "--backup", f"{backed_up}/data.tar.gz")  # fmt: skip
    answer = Load(http_port, host="staging.shop.example.test").one()
    assert (answer.status, answer.body) == (200, "v2")
    assert platform.history("shop")[-1]["outcome"] == "restored"
