from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.platform_fixture import Platform
from e2e.servers import Servers, start_servers


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
