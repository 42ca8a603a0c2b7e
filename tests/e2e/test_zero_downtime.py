"""Blue/green behind the real nginx: deploys and rollbacks under a bounded HTTP load through
the proxy, counting every failed request; plain `docker compose up -d` of the same upgrade
is measured the same way beside it.

nginx runs as a host process with its own prefix (tests/nginx_harness.py); the platform's
host runtime, over the real sshd, writes its sites and upstreams, runs `nginx -t` and
reloads it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from e2e.platform_fixture import Platform, free_port
from e2e.servers import Servers
from load import Load
from nginx_harness import Nginx, self_signed

pytestmark = pytest.mark.e2e

MIN_REQUESTS = 2000


def deploy_under_load(
    load: Load, action: Any
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    started = time.monotonic()
    done = action()
    return done, started, time.monotonic()


def through_proxy(http_port: int) -> Load:
    return Load(http_port, host="staging.shop.example.test")


def assert_no_failed_request(load: Load, start: float, end: float) -> None:
    during = load.between(start, end)
    failed = Load.failures(during)
    assert len(during) >= MIN_REQUESTS, f"only {len(during)} requests during the deploy"
    assert failed == [], f"{len(failed)} of {len(during)} failed: {failed[:5]}"


def assert_switched(load: Load, before: str, after: str, end: float) -> None:
    """Only `before` answers until `after` first does; then both for as long as nginx's old
    workers take to hand over (well under a second), then only `after`, and surely so once
    the deploy has returned."""
    answers = sorted(load.answers, key=lambda a: a.at)
    assert {a.body for a in answers} == {before, after}
    first_after = next(a.at for a in answers if a.body == after)
    last_before = max(a.at for a in answers if a.body == before)
    assert last_before - first_after < 1.0, "the old release kept answering after the switch"
    assert last_before < end
    assert all(a.body == before for a in answers if a.at < first_after)


def test_upgrade_and_both_rollbacks_fail_no_request(proxied: tuple[Platform, int]) -> None:
    platform, http_port = proxied
    platform.deploy("shop", image="v1")
    with through_proxy(http_port) as load:
        time.sleep(0.3)
        done, start, end = deploy_under_load(load, lambda: platform.deploy("shop", image="v2"))
        time.sleep(0.3)
    assert done.returncode == 0
    assert "blue/green: web" in done.stderr
    assert_no_failed_request(load, start, end)
    assert_switched(load, "v1", "v2", end)
    upgraded = platform.current("shop")

    # An unhealthy upgrade: the new containers never serve, the old ones never stop.
    with through_proxy(http_port) as load:
        time.sleep(0.3)
        failed, start, end = deploy_under_load(
            load, lambda: platform.deploy("shop", image="v3", check=False)
        )
        time.sleep(0.3)
    assert failed.returncode == 5  # rolled back
    assert "the old ones keep serving" in failed.stderr
    assert_no_failed_request(load, start, end)
    assert {a.body for a in load.answers} == {"v2"}
    assert platform.current("shop") == upgraded
    events = [(e["event"], e["outcome"]) for e in platform.history("shop")]
    assert events[-2:] == [("deploy", "failed"), ("rollback", "restored")]

    # A manual rollback goes through the same switch.
    with through_proxy(http_port) as load:
        time.sleep(0.3)
        rolled, start, end = deploy_under_load(
            load, lambda: platform.cli("rollback", "--project", "shop", "--env", "staging")
        )
        time.sleep(0.3)
    assert rolled.returncode == 0
    assert_no_failed_request(load, start, end)
    assert_switched(load, "v2", "v1", end)
    # One container per service again: the old ones stopped after the switch.
    platform.container("shop-staging")


def test_plain_compose_recreate_drops_requests(servers: Servers, tmp_path: Path) -> None:
    """The baseline, measured like ours: `docker compose up -d` of the same upgrade."""
    port = free_port()
    (tmp_path / "docker-compose.yml").write_text(
        f"services:\n  web:\n    image: ${{IMAGE}}\n    ports: ['127.0.0.1:{port}:8080']\n"
    )

    def compose(image: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "compose", "-p", "baseline-recreate", *args], cwd=tmp_path,
            env={**os.environ, **servers.docker_env(), "IMAGE": servers.env[image]},
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip

    compose("DEMO_WEB_V1", "up", "-d", "--wait")
    try:
        with Load(port) as load:
            time.sleep(0.3)
            _, start, end = deploy_under_load(load, lambda: compose("DEMO_WEB_V2", "up", "-d"))
            # compose returns once the new container started; wait until it answers.
            deadline = time.monotonic() + 30
            while Load.versions(load.answers)[-1:] != ["v2"] and time.monotonic() < deadline:
                time.sleep(0.05)
            end = time.monotonic()
        during = load.between(start, end)
        failed = Load.failures(during)
        print(f"\nplain compose up -d: {len(failed)} of {len(during)} requests failed")
        assert Load.versions(load.answers)[0] == "v1"
        assert failed, "a stop-first recreate should drop requests; the load saw none"
    finally:
        compose("DEMO_WEB_V1", "down")


def test_certificate_status_health_and_removed_routes(
    proxied: tuple[Platform, int], nginx: Nginx
) -> None:
    platform, http_port = proxied
    domain = "staging.shop.example.test"
    platform.deploy("shop", image="v1")

    # No certificate yet: served over HTTP, and status says so.
    status = json.loads(platform.cli("status", "--project", "shop", "--format", "json").stdout)
    assert [(r["mode"], r["domain"]) for r in status[0]["routes"]] == [("plain", domain)]
    assert "HTTP only: no certificate" in platform.cli("status", "--project", "shop").stdout
    health = platform.cli("health", "--project", "shop", "--env", "staging").stdout
    certs = nginx.prefix / "certs"
    assert health == (
        f"ok   shop/staging http://{domain}:{http_port}/health 200 HTTP only: no certificate in "
        f"{certs / domain}\n"
    )

    # A certificate arrives (certbot's layout); the next deploy serves HTTPS and redirects.
    self_signed(nginx.prefix / "certs" / domain, domain)
    platform.deploy("shop", image="v2")
    status = json.loads(platform.cli("status", "--project", "shop", "--format", "json").stdout)
    (route,) = status[0]["routes"]
    assert route["mode"] == "tls"
    assert route["certificate_expires"].endswith("GMT")
    assert Load(http_port, host=domain).one().status == 308
    health = platform.cli("health", "--project", "shop", "--env", "staging").stdout
    # The test certificate is valid for 30 days: fine, and not yet due for renewal.
    assert health.startswith(f"ok   shop/staging https://{domain}:")
    assert health.endswith(f" 200 certificate until {route['certificate_expires']}\n")
    # Renewal due: health warns (and still passes).
    self_signed(nginx.prefix / "certs" / domain, domain, days=1)
    health = platform.cli("health", "--project", "shop", "--env", "staging").stdout
    assert health.startswith("warn shop/staging https://")
    assert health.endswith(" (renew it: less than 14 days left)\n")

    # The routes leave the manifest: the next deploy takes them out of nginx.
    manifest = platform.root / "configs" / "shop" / "project.yml"
    manifest.write_text(manifest.read_text().split("routes:")[0] + "routes: []\n")
    platform.deploy("shop", image="v2")
    assert not (nginx.platform_dir / "sites" / "shop-staging.conf").exists()
    answer = Load(http_port, host=domain).one()
    assert (answer.status, answer.body) == (404, "no site is configured for this host name")


def test_services_not_routed_are_recreated_in_place_and_removed_ones_go(
    proxied: tuple[Platform, int], servers: Servers
) -> None:
    platform, http_port = proxied
    folder = platform.root / "configs" / "shop"
    compose = folder / "docker-compose.yml"
    worker = (
        f"  worker:\n    image: {servers.env['BUSYBOX_IMAGE']}\n"
        "    command: ['sh', '-c', 'echo $$MODE; exec sleep 3600']\n"
        "    environment: {MODE: '${WORKER_MODE:-first}'}\n    init: true\n"
    )
    compose.write_text(compose.read_text() + worker)
    env_file = folder / ".env.staging"
    env_file.write_text(env_file.read_text() + "WORKER_MODE=first\n")
    platform.deploy("shop", image="v1")
    web_before = platform.service_containers("shop-staging", "web")
    worker_before = platform.service_containers("shop-staging", "worker")

    # Only the worker's config changes: it is recreated, the routed web keeps its container.
    env_file.write_text(env_file.read_text().replace("first", "second"))
    done = platform.deploy("shop", image="v1")
    assert "in place: worker" in done.stderr and "blue/green" not in done.stderr
    assert platform.service_containers("shop-staging", "web") == web_before
    assert platform.service_containers("shop-staging", "worker") != worker_before

    # The worker leaves the compose file: its container goes; web switches blue/green.
    compose.write_text(compose.read_text().replace(worker, ""))
    with through_proxy(http_port) as load:
        time.sleep(0.3)
        done, start, end = deploy_under_load(load, lambda: platform.deploy("shop", image="v2"))
        time.sleep(0.3)
    assert "removing worker: no longer in the compose file" in done.stderr
    assert platform.service_containers("shop-staging", "worker") == []
    assert_no_failed_request(load, start, end)
    assert_switched(load, "v1", "v2", end)


def test_a_first_release_failing_its_route_check_leaves_no_route_behind(
    proxied: tuple[Platform, int], nginx: Nginx
) -> None:
    platform, http_port = proxied
    manifest = platform.root / "configs" / "shop" / "project.yml"
    manifest.write_text(manifest.read_text().replace("health_path: /health", "health_path: /nope"))
    failed = platform.deploy("shop", image="v1", check=False)
    assert failed.returncode == 5  # rolled back: the failed first release is stopped
    assert "through the proxy" in failed.stderr  # the route answered 404 behind nginx
    assert "no previous release: stopping the failed first release" in failed.stderr
    assert not (nginx.platform_dir / "sites" / "shop-staging.conf").exists()
    answer = Load(http_port, host="staging.shop.example.test").one()
    assert (answer.status, answer.body) == (404, "no site is configured for this host name")


def test_blue_green_replaces_a_running_container_that_is_unhealthy(
    proxied: tuple[Platform, int], servers: Servers, tmp_path: Path
) -> None:
    """The new containers' health is what the switch waits for: an unhealthy old one (here a
    broken v3, put in place by hand) does not hold up its own replacement."""
    platform, http_port = proxied
    platform.deploy("shop", image="v1")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "docker-compose.yml").write_text(
        f"services:\n  web:\n    image: {servers.env['DEMO_WEB_V3']}\n"
    )
    subprocess.run(
        ["docker", "compose", "-p", "shop-staging", "up", "-d", "--no-deps", "web"], cwd=broken,
        env={**os.environ, **servers.docker_env()}, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    assert Load(http_port, host="staging.shop.example.test").one().status == 502

    done = platform.deploy("shop", image="v2")
    assert "blue/green: web (1 running, 1 starting beside)" in done.stderr
    answer = Load(http_port, host="staging.shop.example.test").one()
    assert (answer.status, answer.body) == (200, "v2")
    assert len(platform.service_containers("shop-staging", "web")) == 1


def test_nginx_down_stops_a_deploy_before_anything_changes(
    proxied: tuple[Platform, int], nginx: Nginx
) -> None:
    platform, _ = proxied
    platform.deploy("shop", image="v1")
    before = platform.service_containers("shop-staging", "web")
    nginx.stop()
    failed = platform.deploy("shop", image="v2", check=False)
    assert failed.returncode == 4  # aborted: nothing changed
    assert f"nginx is not running (no live pid in {nginx.pid_file})" in failed.stderr
    assert platform.service_containers("shop-staging", "web") == before
    last = platform.history("shop")[-1]
    assert (last["outcome"], last["step"]) == ("aborted", "proxy-preflight")
