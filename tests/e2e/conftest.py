from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.platform_fixture import Platform, free_port, proxy_settings, routed_tenant
from e2e.servers import Servers, start_servers
from nginx_harness import Nginx


@pytest.fixture(scope="session")
def servers() -> Servers:
    return start_servers()


@pytest.fixture
def platform(servers: Servers, tmp_path: Path) -> Iterator[Platform]:
    deploy_root = tmp_path / "host"
    deploy_root.mkdir()
    platform = Platform(servers, tmp_path / "repo", deploy_root)
    platform.write_settings(platform.settings())
    yield platform
    platform.cleanup()


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    server = Nginx(tmp_path / "nginx")
    server.write_main()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def proxied(platform: Platform, nginx: Nginx) -> Iterator[tuple[Platform, int]]:
    http_port = free_port()
    # The proxy's main config listens where the generated default servers say.
    platform.write_settings(platform.settings(proxy=proxy_settings(nginx, http_port, free_port())))
    platform.add_tenant("shop", routed_tenant())
    yield platform, http_port
